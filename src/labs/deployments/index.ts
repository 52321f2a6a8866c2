// Lab "deployments": the blue-green exercise of "Scaling and Managing Pods with Deployments"
// (courselabs/kubernetes labs/deployments). See catalogue.ts for what is graded.
import { fileURLToPath } from 'node:url';
import type { Lab, LiveRun } from '../../engine/lab.js';
import type { ManifestObject } from '../../submission/manifest.js';
import { CHECKS, GROUPS, type CheckId, type LiveCheckId } from './catalogue.js';
import { containerImages, imageRepository, podFootprint, splitDefinitions, WHOAMI_IMAGE, runsWhoami } from './model.js';
import { rubric, type RubricContext, fileObjects } from './rubric.js';
import { walkthrough } from './walkthrough.js';

const specsDir = fileURLToPath(new URL('../../../specs/deployments/', import.meta.url));

/**
 * 0 unless a Deployment runs whoami and no Deployment runs anything else (the other labs' apps);
 * then 1, plus 2 for two whoami Deployments and 2 for a Service defined again (the switch).
 */
export function recognise(objects: readonly ManifestObject[]): number {
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const objs = fileObjects(objects);
  const whoami = splitDefinitions(objs).first.filter(runsWhoami);
  if (whoami.length === 0) return 0;
  const foreign = deployments.some((d) => containerImages(d).some((i) => imageRepository(i) !== WHOAMI_IMAGE));
  if (foreign) return 0;
  const redefinedService = splitDefinitions(objs).later.some((o) => o.kind === 'Service');
  return 1 + (whoami.length >= 2 ? 2 : 0) + (redefinedService ? 2 : 0);
}

export const deployments: Lab<CheckId, RubricContext> = {
  id: 'deployments',
  title: 'Scaling and Managing Pods with Deployments',
  summary: 'a blue-green update of whoami: v1 and v2 in two Deployments, a Service switched from v1 to v2 without changing them',
  groups: GROUPS,
  checks: CHECKS,
  specsDir,
  images: [`${WHOAMI_IMAGE}:21.04`],
  redefinitions: 'switch',
  recognise,
  footprint: async (objects, defaultCpuMilli) => {
    const whoami = splitDefinitions(fileObjects(objects)).first.filter(runsWhoami);
    return whoami.length > 0 ? podFootprint(whoami, defaultCpuMilli) : undefined;
  },
  rubric,
  // Loaded when a live run starts (the CLI loads no cluster client before it knows the command).
  // The live plan records live checks only, so it sees the run through its live ids.
  live: async (run) => (await import('./live.js')).live(run as LiveRun<LiveCheckId>),
  selfcheck: walkthrough(specsDir),
};
