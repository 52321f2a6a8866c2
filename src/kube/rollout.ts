// Rollout state of a Deployment, from the Deployment, its Pods and the namespace's events, so the
// wait stops at once when Pods cannot start (with the kubelet's or controller's own reason and a
// hint in the learner's terms) instead of running into a deadline.
import type * as k8s from '@kubernetes/client-node';
import { explainPods, type ExplainOptions, type PodProblem } from './pod-problems.js';
import { isPodReady } from './pods.js';

export type RolloutState =
  | { kind: 'complete'; observed: string }
  | { kind: 'progressing'; observed: string }
  | { kind: 'stuck'; observed: string; problem: PodProblem };

export function rolloutState(d: k8s.V1Deployment, pods: readonly k8s.V1Pod[], events: readonly k8s.CoreV1Event[], opts: ExplainOptions = {}): RolloutState {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const ready = pods.filter(isPodReady).length;
  const observed = `${ready}/${want} Pods ready (${pods.length} created, ${s.updatedReplicas ?? 0} updated, ${s.availableReplicas ?? 0} available)${podStates(pods)}`;

  const failure = s.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const problem = explainPods({ pods, events, ...(failure?.message ? { replicaFailure: failure.message } : {}) }, opts);
  // Pods that could not be created earlier no longer matter once all are ready.
  if (problem?.final && !(problem.reason === 'FailedCreate' && ready >= want)) return { kind: 'stuck', observed, problem };
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return {
      kind: 'stuck',
      observed,
      problem: {
        reason: 'ProgressDeadlineExceeded',
        message: `the rollout stopped: ${progressing.message ?? ''}${problem ? `; ${problem.message}` : ''}`,
        hint: problem?.hint ?? 'The Pods did not become ready in time: check the readiness probe.',
        final: true,
      },
    };
  }
  const generationSeen = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1);
  const complete = generationSeen && (s.updatedReplicas ?? 0) >= want && (s.availableReplicas ?? 0) >= want && (s.replicas ?? 0) <= want;
  return complete ? { kind: 'complete', observed } : { kind: 'progressing', observed };
}

function podStates(pods: readonly k8s.V1Pod[]): string {
  const counts = new Map<string, number>();
  for (const p of pods) {
    const cs = p.status?.containerStatuses?.[0];
    const state = cs?.state?.waiting?.reason ?? (cs?.state?.running ? (isPodReady(p) ? 'Ready' : 'Running, not ready') : p.status?.phase ?? 'Pending');
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  if (counts.size === 0) return '';
  return `; ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`;
}

/**
 * Pods the scheduler cannot place for lack of room on the nodes ("Insufficient cpu"): the
 * cluster's size, not the submission, keeps them Pending. Returns the scheduler's message.
 */
export function noRoomFor(pods: readonly k8s.V1Pod[]): { count: number; message: string } | undefined {
  const stuck = pods
    .map((p) => p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable'))
    .filter((c): c is k8s.V1PodCondition => Boolean(c && /Insufficient (cpu|memory)/i.test(c.message ?? '')));
  if (stuck.length === 0) return undefined;
  return { count: stuck.length, message: stuck[0]?.message ?? '' };
}
