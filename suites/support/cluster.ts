// Shared helpers for cluster suites: the kube client for the provided context and throw-away
// namespaces that are deleted after the file (kept with LAB_GRADER_KEEP_NAMESPACES=1).
import { inject } from 'vitest';
import { loadKube, type Kube } from '../../src/kube/client.js';
import { createNamespace, deleteNamespace } from '../../src/kube/workloads.js';

export function testKube(): Kube {
  return loadKube(inject('kubeContext'));
}

export const TEST_LABEL = 'io.kube-lab-grader/test';

export async function createTestNamespace(kube: Kube, prefix: string): Promise<string> {
  return createNamespace(kube, prefix, { [TEST_LABEL]: prefix });
}

export async function deleteTestNamespace(kube: Kube, name: string): Promise<void> {
  if (process.env.LAB_GRADER_KEEP_NAMESPACES === '1') return;
  await deleteNamespace(kube, name);
}
