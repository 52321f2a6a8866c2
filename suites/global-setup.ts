// Cluster suites run against a real cluster: the kind cluster `lab-grader` (brought up here if
// needed, like `lab-grader grade` does) or the context in LAB_GRADER_CONTEXT. Without a usable
// cluster the suites fail; they are never skipped silently.
import type { TestProject } from 'vitest/node';
import { clusterUp } from '../src/cluster/lifecycle.js';
import { DEFAULT_CLUSTER_NAME } from '../src/cluster/settings.js';
import { loadKube } from '../src/kube/client.js';
import { createProgress } from '../src/util/progress.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeContext: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const explicit = process.env.LAB_GRADER_CONTEXT;
  let context: string;
  if (explicit) {
    loadKube(explicit); // fails loudly when the context does not exist
    context = explicit;
  } else {
    const progress = createProgress('test cluster: ');
    ({ context } = await clusterUp({ name: DEFAULT_CLUSTER_NAME, profile: 'grading', offline: 'auto', progress }));
  }
  project.provide('kubeContext', context);
}
