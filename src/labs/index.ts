// The labs the grader knows. Adding a lab: one import and one entry below; everything else of a
// lab lives in its own folder src/labs/<id>/. This is the only file outside a lab's folder that
// names it.
import type { AnyLab } from '../engine/lab.js';
import { UsageError } from '../model.js';
import type { ManifestObject } from '../submission/manifest.js';
import { deployments } from './deployments/index.js';
import { productionizing } from './productionizing/index.js';
import { troubleshooting } from './troubleshooting/index.js';

export const LABS: readonly AnyLab[] = [productionizing, troubleshooting, deployments];
export const LAB_IDS: readonly string[] = LABS.map((l) => l.id);

function labList(): string {
  return LABS.map((l) => `${l.id} (${l.title})`).join(', ');
}

/** The lab with this id; an unknown id is a usage error (exit 4) listing the labs. */
export function getLab(id: string): AnyLab {
  const lab = LABS.find((l) => l.id === id);
  if (!lab) throw new UsageError(`unknown lab ${JSON.stringify(id)}; the labs are: ${labList()}`);
  return lab;
}

/**
 * The lab the objects are for: the single lab with the highest recognition score above 0. None,
 * or a tie, is a usage error (exit 4) naming the labs and what each looks for.
 */
export function recogniseLab(objects: readonly ManifestObject[], labs: readonly AnyLab[] = LABS): AnyLab {
  const scored = labs.map((lab) => ({ lab, score: lab.recognise(objects) })).sort((a, b) => b.score - a.score);
  const best = scored[0];
  const looksFor = labs.map((l) => `${l.id} (its images ${l.images.join(', ') || 'none'})`).join('; ');
  if (!best || best.score <= 0) {
    throw new UsageError(`the submission matches none of the labs: no object looks like ${looksFor}; pass --lab <id> (see \`lab-grader labs\`)`);
  }
  const tied = scored.filter((s) => s.score === best.score);
  if (tied.length > 1) {
    throw new UsageError(`the submission looks like several labs equally (${tied.map((t) => t.lab.id).join(', ')}); pass --lab <id> (see \`lab-grader labs\`)`);
  }
  return best.lab;
}

/** For files that do not parse: the labs whose images the raw text names. */
export function labsNamingImages(text: string, labs: readonly AnyLab[] = LABS): AnyLab[] {
  return labs.filter((lab) => lab.images.some((image) => text.includes(image.replace(/:[^/:]*$/, ''))));
}
