// The "troubleshooting" lab: fix the Pi app's broken specs so its Pod is healthy with no restarts
// and the app answers on port 8020 / NodePort 30020.
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../engine/lab.js';
import { APP, CHECKS, GROUPS, LAB_ID, type CheckId } from './catalogue.js';
import { livePlan } from './live.js';
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
  rubric,
  // The engine hands the plan a run whose check ids are the whole catalogue's; it only records live ones.
  live: (run) => livePlan(run as Parameters<typeof livePlan>[0]),
  selfcheck: selfcheck as Lab['selfcheck'],
};
