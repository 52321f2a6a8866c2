import { describe, expect, it } from 'vitest';
import { goDurationSeconds, groupFloors, RESTART_SECONDS, timingsFromFlags, UPSTREAM_TIMINGS } from './floor.js';

const grading = timingsFromFlags(
  ['kube-controller-manager', '--horizontal-pod-autoscaler-sync-period=5s', '--horizontal-pod-autoscaler-downscale-stabilization=30s', '--leader-elect=true'],
  ['--cert-dir=/tmp', '--metric-resolution=10s', '--kubelet-request-timeout=5s'],
);

describe('group floors', () => {
  it('reads the controllers\' timings from their flags, upstream defaults otherwise', () => {
    expect(grading).toMatchObject({ hpaSyncSeconds: 5, downscaleStabilizationSeconds: 30, metricResolutionSeconds: 10 });
    expect(grading.source).toBe('flags of kube-controller-manager and metrics-server');
    const stock = timingsFromFlags(['--leader-elect=true'], undefined);
    expect(stock).toMatchObject({ hpaSyncSeconds: 15, downscaleStabilizationSeconds: 300, metricResolutionSeconds: 15 });
    expect(stock.source).toContain('upstream defaults for the rest');
    expect(timingsFromFlags(undefined, undefined)).toEqual(UPSTREAM_TIMINGS);
  });

  it('parses Go durations as the flags spell them', () => {
    expect(goDurationSeconds('5m0s')).toBe(300);
    expect(goDurationSeconds('1m30s')).toBe(90);
    expect(goDurationSeconds('500ms')).toBe(0.5);
    expect(goDurationSeconds('10')).toBeUndefined();
    expect(goDurationSeconds('')).toBeUndefined();
  });

  it('computes the reference specs\' floors on the grading profile', () => {
    const floors = groupFloors({
      readiness: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 1, failureThreshold: 1 },
      liveness: { httpGet: { path: '/healthz', port: 80 }, initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 1 },
      hasHpa: true,
      timings: grading,
    });
    const ms = Object.fromEntries(floors.map((f) => [f.group, f.floorMs]));
    expect(ms).toEqual({
      readiness: 1_000,
      // 5s × 1 + restart + ready again after 1 period of 1s
      liveness: (5 + RESTART_SECONDS + 1) * 1000,
      // up 10+5, down 30+5+10, restore 5
      hpa: (15 + 45 + 5) * 1000,
    });
    expect(floors.find((f) => f.group === 'hpa')?.basis).toContain('stabilization 30s');
  });

  it('uses Kubernetes\' probe defaults for fields left out, and the HPA\'s own window over the flag', () => {
    const floors = groupFloors({ readiness: { tcpSocket: { port: 80 } }, hasHpa: true, hpaScaleDownWindowSeconds: 0, timings: UPSTREAM_TIMINGS });
    expect(floors.map((f) => f.group)).toEqual(['readiness', 'hpa']);
    expect(floors[0]?.floorMs).toBe(30_000);
    expect(floors[1]?.floorMs).toBe((15 + 15 + (0 + 15 + 15) + 15) * 1000);
    expect(floors[1]?.basis).toContain("the HPA's own stabilization 0s");
  });

  it('has no floor for a group the specs give nothing to observe', () => {
    expect(groupFloors({ hasHpa: false, timings: grading })).toEqual([]);
  });
});
