import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { kindClusterConfig, metricsServerManifest, readProfile } from './kind-config.js';

describe('kind cluster config', () => {
  it('publishes the API server and NodePorts 30010-30040 on 127.0.0.1 only', () => {
    const cfg = parse(kindClusterConfig('lab-grader', 'grading')) as {
      name: string;
      networking: { apiServerAddress: string; apiServerPort: number };
      nodes: Array<{ extraPortMappings: Array<{ hostPort: number; listenAddress: string }> }>;
    };
    expect(cfg.name).toBe('lab-grader');
    expect(cfg.networking.apiServerAddress).toBe('127.0.0.1');
    const mappings = cfg.nodes[0]!.extraPortMappings;
    expect(mappings.map((m) => m.hostPort)).toEqual(Array.from({ length: 31 }, (_, i) => 30010 + i));
    expect(new Set(mappings.map((m) => m.listenAddress))).toEqual(new Set(['127.0.0.1']));
  });

  it('gives a cluster of another name a free API port and no NodePorts, so it can run beside the default one', () => {
    const cfg = parse(kindClusterConfig('lab-grader-bench', 'default')) as {
      networking: { apiServerAddress: string; apiServerPort?: number };
      nodes: Array<{ extraPortMappings: unknown[] }>;
    };
    expect(cfg.networking.apiServerAddress).toBe('127.0.0.1');
    expect(cfg.networking.apiServerPort).toBeUndefined();
    expect(cfg.nodes[0]!.extraPortMappings).toEqual([]);
    expect((parse(kindClusterConfig('lab-grader', 'grading')) as { networking: { apiServerPort: number } }).networking.apiServerPort).toBe(6550);
  });

  it('adds the grading profile patches and leaves the default profile stock', () => {
    expect(kindClusterConfig('x', 'grading')).toContain('horizontal-pod-autoscaler-sync-period');
    const kubelet = readProfile('grading').kubeadmConfigPatches.map((p) => parse(p) as { kind: string; podPidsLimit?: number });
    expect(kubelet.find((p) => p.kind === 'KubeletConfiguration')?.podPidsLimit).toBe(256);
    expect(kindClusterConfig('x', 'default')).not.toContain('kubeadmConfigPatches');
    // every patch is a kubeadm document that parses
    for (const p of readProfile('grading').kubeadmConfigPatches) expect(parse(p)).toHaveProperty('kind');
  });

  it('mounts the static Pod patches and asks kubeadm to apply them, in the grading profile only', () => {
    const grading = parse(kindClusterConfig('x', 'grading')) as { nodes: Array<{ extraMounts?: Array<{ hostPath: string; containerPath: string }> }> };
    const mount = grading.nodes[0]!.extraMounts?.[0];
    expect(mount?.containerPath).toBe('/kind/lab-grader-patches');
    expect(existsSync(join(mount!.hostPath, 'kube-apiserver0+strategic.yaml'))).toBe(true);
    expect(kindClusterConfig('x', 'grading')).toContain('directory: /kind/lab-grader-patches');
    expect(kindClusterConfig('x', 'default')).not.toContain('extraMounts');
  });

  it('sets metrics-server resolution from the profile', () => {
    const grading = metricsServerManifest('grading');
    expect(grading).toContain('--metric-resolution=10s');
    expect(grading).toContain('--kubelet-request-timeout=5s');
    expect(grading).toMatch(/requests:\n\s+cpu: 50m/);
    expect(metricsServerManifest('default')).toMatch(/requests:\n\s+cpu: 100m/);
    expect(metricsServerManifest('default')).toContain('--metric-resolution=15s');
    const kinds = parseAllDocuments(grading).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toContain('APIService');
    expect(kinds).toContain('Deployment');
  });
});
