// The productionizing lab ("Preparing for Production") as a plug-in of the engine.
import type { Lab } from '../../engine/lab.js';
import { getPath, isRecord, type ManifestObject } from '../../submission/manifest.js';
import { APP_IMAGE, identifyApp, imageRepository, labSupplements, productionizing as catalogue, podTemplateContainers, PRODUCTIONIZING_CHECKS, type ProductionizingId } from './catalogue.js';
import { rubric } from './rubric/index.js';
import type { RubricContext } from './rubric/context.js';

/** How much the objects look like this lab's: its app image weighs most, its object names and an HPA a little. */
export function recogniseProductionizing(objects: readonly ManifestObject[]): number {
  let score = 0;
  for (const o of objects) {
    if (o.kind === 'Deployment' || o.kind === 'Pod') {
      const containers = o.kind === 'Pod' ? getPath(o.body, 'spec.containers') : podTemplateContainers(o);
      for (const c of Array.isArray(containers) ? containers : []) {
        if (isRecord(c) && typeof c.image === 'string' && imageRepository(c.image) === APP_IMAGE) score += 10;
      }
    }
    if (o.name === 'configurable' || o.name.startsWith('configurable-')) score += 1;
    if (o.kind === 'HorizontalPodAutoscaler') score += 1;
  }
  return score;
}

export const productionizing: Lab<ProductionizingId, RubricContext> = {
  id: catalogue.id,
  title: catalogue.title,
  summary: 'the configurable app gets 5 replicas, readiness and liveness probes, a CPU autoscaler and a hardened security context',
  groups: catalogue.groups,
  checks: PRODUCTIONIZING_CHECKS,
  specsDir: catalogue.specsDir,
  images: [`${APP_IMAGE}:21.04`],
  redefinitions: 'reject',
  needsMetrics: true,
  recognise: recogniseProductionizing,
  // The live side loads the cluster client: imported when used, so `--help` and `--static-only` stay light.
  footprint: async (objects, defaultCpuMilli) => {
    const [{ appFootprint }, { REPLICAS_WANTED }] = await Promise.all([import('./app.js'), import('./live/replicas.js')]);
    const f = appFootprint(
      objects.map((o) => o.body),
      REPLICAS_WANTED,
      defaultCpuMilli,
    );
    return f && identifyApp(objects).deployment ? { pods: f.pods, cpuMilli: f.perPodMilli } : undefined;
  },
  supplements: labSupplements,
  rubric,
  live: async (run) => (await import('./live/plan.js')).productionizingLive(run),
  // The walkthrough predates the engine's SelfcheckPlan and keeps its own runner (one namespace per group, run side by side).
  runOwnSelfcheck: async (opts) => (await import('./selfcheck/run.js')).runSelfcheck(opts),
};
