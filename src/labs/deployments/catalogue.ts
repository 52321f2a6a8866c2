// "Scaling and Managing Pods with Deployments" (courselabs/kubernetes labs/deployments), its lab
// exercise: a blue-green update of whoami. Two Deployments (v1 and v2, two replicas each) run side
// by side; a Service sends traffic to v1 only, then is switched to v2 without touching the
// Deployments. The live checks weigh more than what the files say.
import { defineCheck, type CheckDefinition, type GroupDefinition } from '../../lab/types.js';

export const GROUPS = [
  { id: 'submission', title: 'The specs parse, are allowed and are accepted' },
  { id: 'deployments', title: 'Two Deployments run v1 and v2 of whoami, two ready Pods each, told apart by labels' },
  { id: 'before-switch', title: 'The Service sends traffic to the v1 Pods only' },
  { id: 'after-switch', title: 'The switch moves the traffic to the v2 Pods without changing the Deployments' },
] as const satisfies readonly GroupDefinition[];

type GroupId = (typeof GROUPS)[number]['id'];

const check = <const Id extends `${GroupId}.${string}`, const K extends CheckDefinition['kind']>(id: Id, kind: K, maxPoints: number, title: string, hint: string) =>
  defineCheck(id, kind, maxPoints, title, hint);

export const CHECKS = [
  check('submission.parses', 'static', 1, 'the specs parse as Kubernetes objects',
    'Fix the YAML at the line shown: indent with spaces, and give every document apiVersion, kind and metadata.name.'),
  check('submission.allowed-objects', 'static', 1, 'the specs contain only objects the lab allows',
    'Submit only Deployments and Services (the grader creates the namespace itself).'),
  check('submission.applies', 'live', 2, 'the API server accepts every object in the specs',
    'Run `kubectl apply --dry-run=server -f <your folder>` to see which object the API server rejects and why.'),

  check('deployments.spec-two-versions', 'static', 1, 'two Deployments run the whoami image with 2 replicas each',
    'Write one Deployment per version (e.g. whoami-v1 and whoami-v2), each with `replicas: 2` and the image sixeyed/whoami:21.04; v2 can set the env var WHOAMI_MODE=q.'),
  check('deployments.spec-labels-distinct', 'static', 1, 'the two Pod templates carry a label whose value tells the versions apart',
    'Give each Deployment\'s Pod template (and selector) a label with a different value per version, e.g. `version: v1` and `version: v2` beside `app: whoami`.'),
  check('deployments.ready', 'live', 3, 'each version\'s Deployment has 2 ready Pods',
    'Check the Pods with `kubectl get pods --show-labels`; `kubectl describe pod` says why a Pod does not start or is not ready.'),
  check('deployments.versions-told-apart', 'live', 2, 'the running v1 and v2 Pods differ in a label value',
    'One Deployment cannot manage Pods with different labels: use two Deployments whose Pod templates have e.g. `version: v1` and `version: v2`.'),

  check('before-switch.spec-selects-v1', 'static', 1, 'the Service\'s first definition selects the v1 Pods only',
    'Give the Service a selector with both the app label and the v1 version label (e.g. `app: whoami` and `version: v1`), so the v2 Pods do not match.'),
  check('before-switch.endpoints-v1', 'live', 3, 'the Service\'s ready endpoints are exactly the v1 Pods',
    'Compare `kubectl get endpoints <service>` with `kubectl get pods -o wide --show-labels`: the selector must match the v1 Pods\' labels and not v2\'s.'),
  check('before-switch.traffic-v1', 'live', 3, 'requests through the Service are answered only by v1 Pods',
    'whoami prints the name of the Pod that answers: with the selector matching only the v1 labels, every answer comes from a v1 Pod.'),

  check('after-switch.spec-switch-defined', 'static', 1, 'a later file defines the Service again, selecting the v2 Pods only',
    'Put the switched Service in a file that sorts after the first one (e.g. whoami-service-v2.yaml after whoami-service-v1.yaml, or v2/ after v1/), with the same name and a selector for the v2 labels.'),
  check('after-switch.endpoints-v2', 'live', 3, 'after the switch the Service\'s ready endpoints are exactly the v2 Pods',
    'The switched Service (same name, applied second) needs a selector matching the v2 Pods\' labels and not v1\'s.'),
  check('after-switch.traffic-v2', 'live', 3, 'after the switch requests through the Service are answered only by v2 Pods',
    'After `kubectl apply` of the switched Service, `curl` the Service: every answer should come from a v2 Pod (the shorter whoami output if v2 sets WHOAMI_MODE=q).'),
  check('after-switch.deployments-unchanged', 'live', 3, 'the switch leaves both Deployments and their Pods as they were',
    'Switch traffic with the Service\'s selector only: leave the Deployments out of the switch (or repeat them unchanged), so no Pod is replaced.'),
  check('after-switch.cluster-ip-kept', 'live', 2, 'the switched Service keeps its cluster IP',
    'Update the Service in place (same name, `kubectl apply`) rather than deleting it or giving it another name, so clients keep the same address.'),
] as const satisfies readonly CheckDefinition[];

export type CheckId = (typeof CHECKS)[number]['id'];
export type LiveCheckId = Extract<(typeof CHECKS)[number], { kind: 'live' }>['id'];
export type StaticCheckId = Extract<(typeof CHECKS)[number], { kind: 'static' }>['id'];

export const BEFORE_IDS = ['before-switch.endpoints-v1', 'before-switch.traffic-v1'] as const satisfies readonly LiveCheckId[];
export const AFTER_IDS = ['after-switch.endpoints-v2', 'after-switch.traffic-v2', 'after-switch.deployments-unchanged', 'after-switch.cluster-ip-kept'] as const satisfies readonly LiveCheckId[];
