// Objects (kind and name) defined in more than one file. By default that is the policy's "defined
// twice" error; a lab that declares redefinitions 'switch' reads them as a switch step instead:
// files are taken in the lexical order of their relative paths, the first definition of each
// object is the submission, and the later ones are what the live plan applies as its switch.
import { ref, type ManifestObject } from './manifest.js';

export type RedefinitionPolicy = 'reject' | 'switch';

export interface SplitSubmission {
  /** The first definition of every object (all objects with 'reject'), in reading order. */
  objects: ManifestObject[];
  /** 'switch': the later definitions, in lexical file order (document order within a file). */
  switches: ManifestObject[];
}

function compareFiles(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function splitRedefinitions(objects: readonly ManifestObject[], policy: RedefinitionPolicy = 'reject'): SplitSubmission {
  if (policy !== 'switch') return { objects: [...objects], switches: [] };
  const ordered = objects.map((o, i) => ({ o, i })).sort((a, b) => compareFiles(a.o.source.file, b.o.source.file) || a.i - b.i);
  const firstFile = new Map<string, string>();
  const later = new Set<ManifestObject>();
  for (const { o } of ordered) {
    const key = ref(o);
    const file = firstFile.get(key);
    if (file === undefined) firstFile.set(key, o.source.file);
    // Twice in the first file that defines it stays the policy's "defined twice".
    else if (file !== o.source.file) later.add(o);
  }
  return {
    objects: objects.filter((o) => !later.has(o)),
    switches: ordered.map((x) => x.o).filter((o) => later.has(o)),
  };
}
