// The "troubleshooting" lab: fix the Pi app's broken specs so its Pod is healthy with no restarts
// and the app answers on port 8020 / NodePort 30020.
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../engine/lab.js';
import { getPath } from '../../submission/manifest.js';
import { findApp } from './app.js';
import { APP, CHECKS, GROUPS, LAB_ID, type CheckId, type LiveCheckId } from './catalogue.js';
import { recognise } from './recognise.js';
import { rubric, type RubricContext } from './rubric.js';
import { selfcheck } from './selfcheck.js';

export const troubleshooting: Lab<CheckId, RubricContext> = {
  id: LAB_ID,
  title: 'Troubleshooting Apps in Kubernetes',
  summary: 'fix the Pi app\'s broken specs: a healthy Pod with no restarts, the Pi page on port 8020 / NodePort 30020',
  groups: GROUPS,
  checks: CHECKS,
  specsDir: fileURLToPath(new URL('../../../specs/troubleshooting/', import.meta.url)),
  images: [APP.image],
  recognise,
  // The live side loads the cluster client: imported when used, so `--help` and `--static-only` stay light.
  /** The app's Deployment: its replicas, each asking for its CPU request (or limit, or the default). */
  async footprint(objects, defaultCpuMilli) {
    const app = findApp(objects);
    const replicas = app ? getPath(app.deployment.body, 'spec.replicas') : undefined;
    const pods = typeof replicas === 'number' ? replicas : 1;
    if (!app || pods < 1) return undefined;
    const { podRequestMilli } = await import('../../kube/capacity.js');
    return { pods, cpuMilli: podRequestMilli(getPath(app.deployment.body, 'spec.template.spec') as Parameters<typeof podRequestMilli>[0], defaultCpuMilli) };
  },
  rubric,
  // The engine records only live ids through the plan's run.
  live: async (run) => (await import('./live.js')).livePlan(run as unknown as Parameters<typeof import('./live.js').livePlan>[0]),
  selfcheck: selfcheck as Lab['selfcheck'],
};

export type { LiveCheckId };
