// How long Kubernetes may take to act on a failed app, from the Pod's own probe settings, so the
// grader waits long enough for a slow-but-correct probe and no longer than needed otherwise.
import type * as k8s from '@kubernetes/client-node';
import { probeAction } from '../kube/pod-problems.js';

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
