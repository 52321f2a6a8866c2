// The floor of each live group: the least time Kubernetes itself needs for what the group
// observes, from the learner's own probe and HPA settings and the cluster's controller timings.
// A group close to its floor is as fast as the specs allow; one far above it was slowed by the
// grader (or a busy machine). Measured group times are compared with these in summary.md.
//
//   readiness  readiness period × failureThreshold after the app fails
//   liveness   liveness period × failureThreshold + the container's restart, then
//              readiness initialDelay + period × successThreshold to rejoin the Service
//   hpa        up: metrics resolution + HPA sync (the check passes when the HPA raises the
//              replicas, it does not wait for the new Pods);
//              down: downscale stabilization + sync + metrics resolution (the last loaded sample
//              has to age out); manual scale restored: one sync
import type * as k8s from '@kubernetes/client-node';
import type { GroupFloor } from '../../../model.js';

/** Controller timings that bound the HPA, in seconds. */
export interface ControllerTimings {
  hpaSyncSeconds: number;
  downscaleStabilizationSeconds: number;
  metricResolutionSeconds: number;
  /** Where they were read ("the cluster's kube-controller-manager and metrics-server flags", or defaults). */
  source: string;
}

/** Upstream defaults: kube-controller-manager 15s / 5m, metrics-server's release manifest 15s. */
export const UPSTREAM_TIMINGS: ControllerTimings = {
  hpaSyncSeconds: 15,
  downscaleStabilizationSeconds: 300,
  metricResolutionSeconds: 15,
  source: 'upstream defaults',
};

/** The kubelet kills the failed container (the app exits on SIGTERM at once) and starts a new one. */
export const RESTART_SECONDS = 1;

const PROBE_DEFAULTS = { periodSeconds: 10, failureThreshold: 3, successThreshold: 1, initialDelaySeconds: 0 } as const;

export interface FloorInputs {
  readiness?: k8s.V1Probe;
  liveness?: k8s.V1Probe;
  /** The HPA's own spec.behavior.scaleDown.stabilizationWindowSeconds, which wins over the flag. */
  hpaScaleDownWindowSeconds?: number;
  hasHpa: boolean;
  timings: ControllerTimings;
}

function detect(probe: k8s.V1Probe): { seconds: number; text: string } {
  const period = probe.periodSeconds ?? PROBE_DEFAULTS.periodSeconds;
  const threshold = probe.failureThreshold ?? PROBE_DEFAULTS.failureThreshold;
  return { seconds: period * threshold, text: `${period}s × ${threshold}` };
}

/** Floors of the groups the specs make observable (a group without its probe or HPA has none). */
export function groupFloors(inputs: FloorInputs): GroupFloor[] {
  const out: GroupFloor[] = [];
  const { readiness, liveness, timings: t } = inputs;
  if (readiness) {
    const d = detect(readiness);
    out.push({ group: 'readiness', floorMs: d.seconds * 1000, basis: `readiness probe ${d.text}` });
  }
  if (liveness) {
    const d = detect(liveness);
    const initial = readiness?.initialDelaySeconds ?? PROBE_DEFAULTS.initialDelaySeconds;
    const back = readiness ? initial + (readiness.periodSeconds ?? PROBE_DEFAULTS.periodSeconds) * (readiness.successThreshold ?? PROBE_DEFAULTS.successThreshold) : 0;
    const parts = [`liveness probe ${d.text}`, `restart ${RESTART_SECONDS}s`, ...(readiness ? [`ready again ${back}s`] : [])];
    out.push({ group: 'liveness', floorMs: (d.seconds + RESTART_SECONDS + back) * 1000, basis: parts.join(' + ') });
  }
  if (inputs.hasHpa) {
    const window = inputs.hpaScaleDownWindowSeconds ?? t.downscaleStabilizationSeconds;
    const windowText = inputs.hpaScaleDownWindowSeconds !== undefined ? `the HPA's own stabilization ${window}s` : `stabilization ${window}s`;
    const up = t.metricResolutionSeconds + t.hpaSyncSeconds;
    const down = window + t.hpaSyncSeconds + t.metricResolutionSeconds;
    const restore = t.hpaSyncSeconds;
    out.push({
      group: 'hpa',
      floorMs: (up + down + restore) * 1000,
      basis:
        `up ${up}s (metrics ${t.metricResolutionSeconds}s + sync ${t.hpaSyncSeconds}s) + ` +
        `down ${down}s (${windowText} + sync ${t.hpaSyncSeconds}s + metrics ${t.metricResolutionSeconds}s) + restore ${restore}s (sync)`,
    });
  }
  return out;
}

/** `5m0s`, `30s`, `1m30s`, `500ms` (Go durations, as in the controllers' flags) → seconds. */
export function goDurationSeconds(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/gy;
  let total = 0;
  let end = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * ({ h: 3600, m: 60, s: 1, ms: 0.001 }[m[2] as 'h' | 'm' | 's' | 'ms']);
    end = (m.index ?? 0) + m[0].length;
  }
  return text !== '' && end === text.length ? total : undefined;
}

/** The value of `--name=value` among a container's command and args. */
export function flagValue(args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

/** Timings from the controllers' command lines; anything unset keeps its upstream default. */
export function timingsFromFlags(controllerManagerArgs: readonly string[] | undefined, metricsServerArgs: readonly string[] | undefined): ControllerTimings {
  const seconds = (args: readonly string[] | undefined, flag: string, fallback: number): number => {
    const v = args ? flagValue(args, flag) : undefined;
    return (v !== undefined ? goDurationSeconds(v) : undefined) ?? fallback;
  };
  const read = [controllerManagerArgs ? 'kube-controller-manager' : undefined, metricsServerArgs ? 'metrics-server' : undefined].filter(Boolean);
  return {
    hpaSyncSeconds: seconds(controllerManagerArgs, 'horizontal-pod-autoscaler-sync-period', UPSTREAM_TIMINGS.hpaSyncSeconds),
    downscaleStabilizationSeconds: seconds(controllerManagerArgs, 'horizontal-pod-autoscaler-downscale-stabilization', UPSTREAM_TIMINGS.downscaleStabilizationSeconds),
    metricResolutionSeconds: seconds(metricsServerArgs, 'metric-resolution', UPSTREAM_TIMINGS.metricResolutionSeconds),
    source: read.length ? `flags of ${read.join(' and ')}${read.length < 2 ? ', upstream defaults for the rest' : ''}` : UPSTREAM_TIMINGS.source,
  };
}
