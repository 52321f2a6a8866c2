// How long Kubernetes may take to act on a failed app, from the Pod's own probe settings, so the
// grader waits long enough for a slow-but-correct probe and no longer than needed otherwise.
import type * as k8s from '@kubernetes/client-node';
import { probeAction } from '../../../kube/pod-problems.js';

/** Kubernetes' defaults for probe fields left out. */
const DEFAULTS = { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1 } as const;

/** Worst-case seconds from the app failing to the probe giving up on it. */
export function detectionSeconds(probe: k8s.V1Probe): number {
  const period = probe.periodSeconds ?? DEFAULTS.periodSeconds;
  const threshold = probe.failureThreshold ?? DEFAULTS.failureThreshold;
  const timeout = probe.timeoutSeconds ?? DEFAULTS.timeoutSeconds;
  return threshold * period + timeout;
}

/** Bound for "the Pod leaves the endpoints": detection plus slack, between 8 and 40 seconds. */
export function readinessBoundMs(probe: k8s.V1Probe | undefined): number {
  if (!probe) return 10_000;
  return clamp((detectionSeconds(probe) + 5) * 1000, 8_000, 40_000);
}

/**
 * Bound for "the container is restarted": detection, the kubelet stopping the old container
 * (the app stops on SIGTERM at once) and starting the new one, plus slack; 15 to 60 seconds.
 */
export function livenessBoundMs(probe: k8s.V1Probe | undefined): number {
  if (!probe) return 15_000;
  return clamp((detectionSeconds(probe) + 10) * 1000, 15_000, 60_000);
}

/** Bound for "the restarted Pod is ready again": its initial delay, readiness detection, slack. */
export function returnBoundMs(readiness: k8s.V1Probe | undefined, liveness: k8s.V1Probe | undefined): number {
  const initial = Math.max(readiness?.initialDelaySeconds ?? 0, 0);
  const period = readiness ? (readiness.periodSeconds ?? DEFAULTS.periodSeconds) * (readiness.successThreshold ?? 1) : 0;
  void liveness;
  return clamp((initial + period + 20) * 1000, 20_000, 60_000);
}

/** `httpGet /healthz on port 80 every 5s, failureThreshold 1` */
export function describeProbe(probe: k8s.V1Probe | undefined): string {
  if (!probe) return 'none';
  return `${probeAction(probe)} every ${probe.periodSeconds ?? DEFAULTS.periodSeconds}s, failureThreshold ${probe.failureThreshold ?? DEFAULTS.failureThreshold}`;
}

/** Why a liveness probe did not notice the failure, in the learner's terms, if we can tell. */
export function livenessMissReason(probe: k8s.V1Probe | undefined, failedPaths: readonly string[] = ['/', '/healthz']): string {
  if (!probe) return 'the container has no liveness probe, so Kubernetes never restarts it while the process keeps running';
  if (probe.tcpSocket) return 'its liveness probe is a tcpSocket check, which keeps passing because the failed app still accepts connections';
  if (probe.httpGet) {
    const path = probe.httpGet.path ?? '/';
    if (!failedPaths.includes(path)) return `its liveness probe requests ${path}, which does not report the app's failure: probe /healthz`;
    return `its liveness probe (${describeProbe(probe)}) did not restart the container in time`;
  }
  return `its liveness probe (${describeProbe(probe)}) did not notice the failure`;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/**
 * Seconds after a container starts by which a liveness probe that fails from the start has
 * made the kubelet kill it: the initial delay, failureThreshold periods, one timeout.
 */
export function livenessVerdictSeconds(probe: k8s.V1Probe): number {
  return (probe.initialDelaySeconds ?? 0) + (probe.periodSeconds ?? DEFAULTS.periodSeconds) * (probe.failureThreshold ?? DEFAULTS.failureThreshold) + (probe.timeoutSeconds ?? DEFAULTS.timeoutSeconds);
}

/**
 * Whether a passing readiness probe already shows the liveness probe passes: it asks the same
 * (an httpGet of the same path and port, or a tcpSocket on a port the readiness probe reaches),
 * with at least as much time to answer. Then a Ready Pod needs no wait for its liveness probe.
 */
export function livenessImpliedByReadiness(liveness: k8s.V1Probe | undefined, readiness: k8s.V1Probe | undefined): boolean {
  if (!liveness) return true;
  if (!readiness) return false;
  if ((liveness.timeoutSeconds ?? DEFAULTS.timeoutSeconds) < (readiness.timeoutSeconds ?? DEFAULTS.timeoutSeconds)) return false;
  const rPort = readiness.httpGet?.port ?? readiness.tcpSocket?.port;
  if (liveness.httpGet && readiness.httpGet) {
    const same = (a: k8s.V1HTTPGetAction, b: k8s.V1HTTPGetAction) =>
      (a.path ?? '/') === (b.path ?? '/') && String(a.port) === String(b.port) && (a.scheme ?? 'HTTP') === (b.scheme ?? 'HTTP') && (a.host ?? '') === (b.host ?? '');
    return same(liveness.httpGet, readiness.httpGet) && JSON.stringify(liveness.httpGet.httpHeaders ?? []) === JSON.stringify(readiness.httpGet.httpHeaders ?? []);
  }
  if (liveness.tcpSocket && rPort !== undefined) return String(liveness.tcpSocket.port) === String(rPort) && !liveness.tcpSocket.host;
  return false;
}

/** Seconds after the app fails by which each probe acts, from the Pod's settings. */
export function predictedActions(readiness: k8s.V1Probe | undefined, liveness: k8s.V1Probe | undefined): { readinessS?: number; livenessS?: number; text: string } {
  const readinessS = readiness ? detectionSeconds(readiness) : undefined;
  const livenessS = liveness ? detectionSeconds(liveness) : undefined;
  const parts = [
    readinessS !== undefined ? `the readiness probe takes the Pod out within ${readinessS}s` : 'no readiness probe takes the Pod out',
    livenessS !== undefined ? `the liveness probe restarts the container within ${livenessS}s` : 'no liveness probe restarts the container',
  ];
  return { ...(readinessS !== undefined ? { readinessS } : {}), ...(livenessS !== undefined ? { livenessS } : {}), text: `its probe settings predict: ${parts.join(', ')}` };
}

export type RemovalJudgement =
  /** The kubelet's record shows the readiness probe acted before the restart. */
  | { kind: 'readiness-first'; at: number; evidence: string }
  /** The readiness probe did not or could not act first: the learner's specs. */
  | { kind: 'liveness-first'; message: string }
  /** Nothing recorded decides it, and the settings say readiness should have acted first: the machine was too slow to tell. */
  | { kind: 'undecided'; message: string };

export interface RemovalRecord {
  pod: k8s.V1Pod | undefined;
  podName: string;
  container: string;
  events: readonly k8s.CoreV1Event[];
  /** When the grader saw the app fail (ms). */
  failedAt: number;
  readiness?: k8s.V1Probe;
  liveness?: k8s.V1Probe;
}

/**
 * When the container was restarted before the grader saw the Pod leave the endpoints, the
 * kubelet's own record decides whether the readiness probe acted first: a "Readiness probe failed"
 * event with the app's 5xx, or the Ready condition turning False, before the container was killed.
 * Timestamps are whole seconds: the same second counts as "before" (the kubelet marks the Pod
 * unready as it records the failure).
 */
export function judgeRemoval(r: RemovalRecord): RemovalJudgement {
  const predicted = predictedActions(r.readiness, r.liveness);
  if (!r.readiness) return { kind: 'liveness-first', message: `the container has no readiness probe; ${predicted.text}` };
  const why = readinessBlindSpot(r.readiness);
  if (why) return { kind: 'liveness-first', message: `${why}; ${predicted.text}` };
  const cs = r.pod?.status?.containerStatuses?.find((c) => c.name === r.container);
  const killed = cs?.lastState?.terminated?.finishedAt ?? cs?.state?.terminated?.finishedAt;
  const killedAt = killed ? new Date(killed).getTime() : undefined;
  const from = Math.floor(r.failedAt / 1000) * 1000 - 1000;
  const before = (t: number) => t >= from && (killedAt === undefined || t <= killedAt);
  const failures = r.events
    .filter((e) => e.reason === 'Unhealthy' && e.involvedObject?.name === r.podName && /^Readiness probe (failed|errored):/.test(e.message ?? ''))
    .filter((e) => /statuscode:\s*5\d\d/.test(e.message ?? ''))
    .map((e) => ({ e, first: new Date(e.firstTimestamp ?? e.eventTime ?? e.lastTimestamp ?? 0).getTime() }))
    .filter((x) => before(x.first))
    .sort((a, b) => a.first - b.first);
  const first = failures[0];
  if (first) {
    return {
      kind: 'readiness-first',
      at: first.first,
      evidence: `the kubelet recorded "${(first.e.message ?? '').trim()}" at ${clock(first.first)}${killedAt !== undefined ? `, before it restarted the container at ${clock(killedAt)}` : ''}`,
    };
  }
  const ready = r.pod?.status?.conditions?.find((c) => c.type === 'Ready');
  const turned = ready?.status === 'False' && ready.lastTransitionTime ? new Date(ready.lastTransitionTime).getTime() : undefined;
  if (turned !== undefined && before(turned) && killedAt !== undefined && turned < killedAt) {
    return { kind: 'readiness-first', at: turned, evidence: `the Pod's Ready condition turned False at ${clock(turned)}, before its container was restarted at ${clock(killedAt)}` };
  }
  if (predicted.readinessS !== undefined && (predicted.livenessS === undefined || predicted.readinessS <= predicted.livenessS)) {
    return {
      kind: 'undecided',
      message: `${predicted.text}, but the restart was seen first and the kubelet recorded no readiness failure before it: the machine was too busy to tell the two apart`,
    };
  }
  return {
    kind: 'liveness-first',
    message: `${predicted.text}: the liveness probe acts first, so the Pod is restarted before the readiness probe takes it out`,
  };
}

/** Why a readiness probe cannot see the app's failure, if it cannot. */
function readinessBlindSpot(probe: k8s.V1Probe): string | undefined {
  if (probe.tcpSocket) return 'its readiness probe is a tcpSocket check, which keeps passing because the failed app still accepts connections';
  if (probe.httpGet) {
    const path = probe.httpGet.path ?? '/';
    if (path !== '/' && path !== '/healthz') return `its readiness probe requests ${path}, which does not report the app's failure: probe /healthz`;
  }
  return undefined;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
