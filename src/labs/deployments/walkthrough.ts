// The selfcheck's catalogue: one step per claim of the lab text the walkthrough checks. The steps
// themselves (selfcheck.ts) load only when a selfcheck runs.
import type { SelfcheckPlan } from '../../engine/lab.js';
import type { CheckDefinition, GroupDefinition } from '../../lab/types.js';

const GROUPS = [{ id: 'walkthrough', title: 'The lab text\'s steps with its published specs' }] as const satisfies readonly GroupDefinition[];

const step = <const Id extends `walkthrough.${string}`>(id: Id, title: string, hint: string) =>
  ({ id, group: 'walkthrough', title, maxPoints: 1, kind: 'live', hint }) as const satisfies CheckDefinition;

const CHECKS = [
  step('walkthrough.deployment-creates-pod', 'whoami-v1.yaml: the Deployment creates a Pod named after it, labelled app=whoami',
    'Compare specs/deployments/deployments/whoami-v1.yaml with the lab text.'),
  step('walkthrough.scale-declaratively', 'kubectl scale --replicas 3, then whoami-v1-scale.yaml: the Deployment removes one Pod (3 → 2)',
    'whoami-v1-scale.yaml should set replicas: 2 with the same Pod template.'),
  step('walkthrough.exec-second-copy-fails', 'kubectl exec deploy/whoami -- /app/whoami: a second copy of the app fails, its port is taken',
    'The app binds port 80, which the running copy already holds.'),
  step('walkthrough.services-reach-pods', 'the Services whoami-np and whoami-lb list both Pods as endpoints and answer with the full output',
    'Both Services select app=whoami and target port 80.'),
  step('walkthrough.update-smaller-output', 'whoami-v2.yaml: new Pods replace the old ones, the output is smaller and load-balanced',
    'whoami-v2.yaml changes the Pod template (version: v2, WHOAMI_MODE=q), so the Deployment rolls out new Pods.'),
  step('walkthrough.rollback-full-output', 'kubectl rollout undo: v1 Pods are back and so is the full output',
    'The rollback re-applies the previous ReplicaSet\'s template.'),
] as const;

export type StepId = (typeof CHECKS)[number]['id'];

export function walkthrough(specsDir: string): SelfcheckPlan<StepId> {
  return { groups: GROUPS, checks: CHECKS, specs: '.', run: async (run) => (await import('./selfcheck.js')).walk(run, specsDir) };
}
