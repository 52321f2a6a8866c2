import { describe, expect, it } from 'vitest';
import { mirrorPath } from './offline.js';

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
