import { describe, expect, it } from 'vitest';
import { isUpstreamStyleTag, mirrorPath, parseDockerTime, servedName } from './offline.js';

describe('mirrorPath', () => {
  it('drops the upstream host the way containerd asks the mirror', () => {
    expect(mirrorPath('registry.k8s.io/metrics-server/metrics-server:v0.8.0')).toBe('metrics-server/metrics-server:v0.8.0');
    expect(mirrorPath('docker.io/kindest/kindnetd:v1')).toBe('kindest/kindnetd:v1');
    expect(mirrorPath('sixeyed/whoami:21.04')).toBe('sixeyed/whoami:21.04');
  });
  it('defaults the tag to latest and official images to library/', () => {
    expect(mirrorPath('kiamol/ch05-pi')).toBe('kiamol/ch05-pi:latest');
    expect(mirrorPath('nginx')).toBe('library/nginx:latest');
    expect(mirrorPath('localhost:5000/x/y:1')).toBe('x/y:1');
  });
});

describe('look-alikes under our own name on the host', () => {
  it('serves kube-lab-grader/lookalike/<name> under its original name', () => {
    expect(servedName('kube-lab-grader/lookalike/sixeyed/whoami:21.04', 'sixeyed/whoami:21.04')).toBe('sixeyed/whoami:21.04');
    expect(servedName('kube-lab-grader/lookalike/kiamol/ch05-pi:latest', '')).toBe('kiamol/ch05-pi:latest');
    expect(mirrorPath(servedName('kube-lab-grader/lookalike/registry.k8s.io/metrics-server/metrics-server:v0.8.0', undefined))).toBe(
      'metrics-server/metrics-server:v0.8.0',
    );
  });

  it('tells upstream-style tags (to remove) from ours and the local registry\'s', () => {
    expect(isUpstreamStyleTag('sixeyed/whoami:21.04')).toBe(true);
    expect(isUpstreamStyleTag('registry.k8s.io/pause:3.10')).toBe(true);
    expect(isUpstreamStyleTag('kube-lab-grader/lookalike/sixeyed/whoami:21.04')).toBe(false);
    expect(isUpstreamStyleTag('kube-lab-grader/node:v1.33.4-abc')).toBe(false);
    expect(isUpstreamStyleTag('127.0.0.1:5001/sixeyed/whoami:21.04')).toBe(false);
    expect(isUpstreamStyleTag('<none>:<none>')).toBe(false);
  });

  it('reads docker\'s CreatedAt', () => {
    expect(new Date(parseDockerTime('2026-12-01 12:31:55 +0100 CET')).toISOString()).toBe('2026-12-01T11:31:55.000Z');
    expect(parseDockerTime('yesterday')).toBeNaN();
  });
});
