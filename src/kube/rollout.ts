// Rollout state of a Deployment, from the Deployment, its Pods and the namespace's events, so the
// wait stops at once when Pods cannot start (with the kubelet's or controller's own reason and a
// hint in the learner's terms) instead of running into a deadline.
import type * as k8s from '@kubernetes/client-node';
import { isPodReady, stuckContainers } from './pods.js';

export type RolloutState =
  | { kind: 'complete'; observed: string }
  | { kind: 'progressing'; observed: string }
  | { kind: 'stuck'; observed: string; reason: string; message: string; hint: string };

export function rolloutState(d: k8s.V1Deployment, pods: readonly k8s.V1Pod[], events: readonly k8s.CoreV1Event[]): RolloutState {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const ready = pods.filter(isPodReady).length;
  const observed = `${ready}/${want} Pods ready (${pods.length} created, ${s.updatedReplicas ?? 0} updated, ${s.availableReplicas ?? 0} available)${podStates(pods)}`;

  for (const p of pods) {
    const stuck = stuckContainers(p)[0];
    if (stuck) {
      const restarts = p.status?.containerStatuses?.find((c) => c.name === stuck.container);
      const last = restarts?.lastState?.terminated;
      const lastText = last ? ` (last exit ${last.exitCode}${last.reason ? ` ${last.reason}` : ''})` : '';
      return {
        kind: 'stuck',
        observed,
        reason: stuck.reason,
        message: `container ${stuck.container} of Pod ${stuck.pod} cannot start: ${stuck.reason}${stuck.message ? `: ${stuck.message}` : ''}${lastText}`,
        hint: hintFor(stuck.reason, stuck.message),
      };
    }
  }
  const failure = s.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const failedCreate = failure?.message ?? latestFailedCreate(events);
  if (failedCreate && ready < want) {
    return {
      kind: 'stuck',
      observed,
      reason: 'FailedCreate',
      message: `the Deployment's Pods cannot be created: ${failedCreate}`,
      hint: hintFor('FailedCreate', failedCreate),
    };
  }
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { kind: 'stuck', observed, reason: 'ProgressDeadlineExceeded', message: `the rollout stopped: ${progressing.message ?? ''}`, hint: hintFor('ProgressDeadlineExceeded', '') };
  }
  const generationSeen = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1);
  const complete = generationSeen && (s.updatedReplicas ?? 0) >= want && (s.availableReplicas ?? 0) >= want && (s.replicas ?? 0) <= want;
  return complete ? { kind: 'complete', observed } : { kind: 'progressing', observed };
}

function latestFailedCreate(events: readonly k8s.CoreV1Event[]): string | undefined {
  const failed = events.filter((e) => e.reason === 'FailedCreate' && e.involvedObject?.kind === 'ReplicaSet');
  return failed.at(-1)?.message;
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

/** What to change, in the learner's terms, for a reason Pods cannot start. */
export function hintFor(reason: string, message: string): string {
  if (reason === 'CreateContainerConfigError') {
    if (/runAsNonRoot/i.test(message) && /root/i.test(message)) {
      return 'The image runs as root, so `runAsNonRoot: true` alone stops it from starting: also set `runAsUser` to a non-zero UID (the lab uses 65534).';
    }
    if (/configmap|secret/i.test(message)) return 'The Pod refers to a ConfigMap or Secret (or a key in one) that your specs do not create.';
    return 'Kubernetes cannot build the container from the Pod spec: check env, volumes and securityContext against the message.';
  }
  if (reason === 'ImagePullBackOff' || reason === 'ErrImagePull' || reason === 'InvalidImageName' || reason === 'ErrImageNeverPull') {
    return 'Check the image name and tag: the lab runs `sixeyed/configurable:21.04`.';
  }
  if (reason === 'CrashLoopBackOff' || reason === 'RunContainerError' || reason === 'CreateContainerError') {
    return 'The container keeps stopping: `kubectl logs --previous` shows why. A liveness probe on the wrong path or port also restarts it again and again; probe /healthz on port 80.';
  }
  if (reason === 'FailedCreate') {
    if (/exceeded quota/i.test(message)) {
      return 'The grading namespace allows at most 20 Pods and 4 CPUs and 4Gi of memory in requests and in limits: lower the replicas or the resources (the lab uses 125m/250m CPU).';
    }
    if (/PodSecurity/i.test(message)) return 'The Pod breaks the Pod Security Standard "baseline": drop privileged settings, host namespaces and hostPath volumes.';
    if (/must be less than or equal to (cpu|memory) limit/i.test(message)) {
      return 'A request is larger than the limit (limits default to 250m CPU and 256Mi memory when you set none): set both, with the request at most the limit.';
    }
    return 'The ReplicaSet cannot create the Pods: the message says which rule the Pod breaks.';
  }
  if (reason === 'ProgressDeadlineExceeded') return 'The Pods did not become ready in time: check the readiness probe (path /healthz, port 80).';
  return 'Check the Pods with `kubectl describe pod`: the events say why they do not start.';
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
