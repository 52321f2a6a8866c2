// Shared helpers for cluster suites: the kube client for the provided context and throw-away
// namespaces that are deleted after the file (kept with LAB_GRADER_KEEP_NAMESPACES=1).
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { loadKube, isNotFound, type Kube } from '../../src/kube/client.js';

export function testKube(): Kube {
  return loadKube(inject('kubeContext'));
}

export const TEST_LABEL = 'io.kube-lab-grader/test';

export async function createTestNamespace(kube: Kube, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kube.core.createNamespace({ body: { metadata: { name, labels: { [TEST_LABEL]: prefix } } } });
  return name;
}

export async function deleteTestNamespace(kube: Kube, name: string): Promise<void> {
  if (process.env.LAB_GRADER_KEEP_NAMESPACES === '1') return;
  try {
    await kube.core.deleteNamespace({ name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
