// The lab's walkthrough with its own published specs (specs/troubleshooting/pi-failing): as
// published, the API server rejects them where the lab says Kubernetes validates specs; with the
// spec errors fixed, each of the lab's Pod problems left alone fails the way a troubleshooter finds
// it (and the grader names it); with every fix the Pod is healthy with no restarts and the Pi page
// answers through both Services on port 8020. The variants run side by side to keep it short.
import type { SelfcheckPlan } from '../../engine/lab.js';
import type { CheckDefinition, GroupDefinition } from '../../lab/types.js';

const GROUPS: readonly GroupDefinition[] = [{ id: 'walkthrough', title: 'Walkthrough' }];

const CHECKS = [
  { id: 'walkthrough.published-specs-rejected', group: 'walkthrough', kind: 'live', maxPoints: 1, title: 'the published specs are rejected by the API server (selector, nodePort)',
    hint: 'The lab\'s Deployment selector must not match its template labels and pi-np\'s nodePort must be outside the range: check specs/troubleshooting/pi-failing.' },
  { id: 'walkthrough.fixed-specs-run', group: 'walkthrough', kind: 'live', maxPoints: 1, title: 'with every fix the Pod is Ready with no restarts and the Pi page answers on port 8020',
    hint: 'The fixed specs did not run: check the Pi look-alike image (port 80, `dotnet Pi.Web.dll -m web`, the Pi page).' },
  { id: 'walkthrough.each-fault-fails', group: 'walkthrough', kind: 'live', maxPoints: 1, title: 'each of the lab\'s Pod faults, left alone, stops the app for the reason the grader names',
    hint: 'A fault variant did not fail as the lab\'s specs imply: the look-alike image or the grader\'s explanation differs from Kubernetes.' },
] as const satisfies readonly CheckDefinition[];

export type WalkthroughId = (typeof CHECKS)[number]['id'];

export const selfcheck: SelfcheckPlan<WalkthroughId> = {
  groups: GROUPS,
  checks: CHECKS,
  specs: 'pi-failing',
  // The walkthrough loads the cluster client: imported when run, so `--help` and `--static-only` stay light.
  run: async (run) => (await import('./walkthrough.js')).walkthrough(run),
};
