import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterConfigDigest } from './lifecycle.js';
import { PROJECT_ROOT } from './versions.js';

describe('clusterConfigDigest', () => {
  const root = mkdtempSync(join(tmpdir(), 'lab-grader-digest-'));
  cpSync(join(PROJECT_ROOT, 'kind'), join(root, 'kind'), { recursive: true });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is stable for the same configuration and differs between profiles', () => {
    expect(clusterConfigDigest('lab-grader', 'grading', root)).toBe(clusterConfigDigest('lab-grader', 'grading', root));
    expect(clusterConfigDigest('lab-grader', 'grading', root)).not.toBe(clusterConfigDigest('lab-grader', 'default', root));
  });

  it('is the same for two checkouts of the same version in different folders', () => {
    const other = mkdtempSync(join(tmpdir(), 'lab-grader-digest-other-'));
    try {
      cpSync(join(PROJECT_ROOT, 'kind'), join(other, 'kind'), { recursive: true });
      expect(clusterConfigDigest('lab-grader', 'grading', other)).toBe(clusterConfigDigest('lab-grader', 'grading', PROJECT_ROOT));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('changes when the profile or the kubeadm patches change, so cluster up recreates an older cluster', () => {
    const before = clusterConfigDigest('lab-grader', 'grading', root);
    const profile = join(root, 'kind', 'profiles', 'grading.yaml');
    writeFileSync(profile, `${readFileSync(profile, 'utf8')}\n# changed\n`);
    const afterProfile = clusterConfigDigest('lab-grader', 'grading', root);
    expect(afterProfile).not.toBe(before);
    const patch = join(root, 'kind', 'patches', 'kube-controller-manager0+strategic.yaml');
    writeFileSync(patch, `${readFileSync(patch, 'utf8')}\n# changed\n`);
    expect(clusterConfigDigest('lab-grader', 'grading', root)).not.toBe(afterProfile);
  });
});
