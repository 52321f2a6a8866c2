// Cluster suites run against a real cluster: the context in LAB_GRADER_CONTEXT, or the kind
// cluster `lab-grader`. Without a reachable cluster they fail at once with one line: bringing the
// cluster up (a cold offline build takes most of an hour) belongs to `lab-grader cluster up`,
// `npm test` (which asks for it with LAB_GRADER_CLUSTER_UP=1) and `.ci/run`. They are never
// skipped silently.
import * as k8s from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { clusterUp } from '../src/cluster/lifecycle.js';
import { DEFAULT_CLUSTER_NAME, kindContext } from '../src/cluster/settings.js';
import { loadKube } from '../src/kube/client.js';
import { createProgress } from '../src/util/progress.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeContext: string;
  }
}

async function reachable(context: string): Promise<string | undefined> {
  try {
    const kube = loadKube(context);
    await Promise.race([
      kube.config.makeApiClient(k8s.VersionApi).getCode(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10s')), 10_000).unref()),
    ]);
    return undefined;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0];
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const explicit = process.env.LAB_GRADER_CONTEXT;
  const context = explicit ?? kindContext(DEFAULT_CLUSTER_NAME);
  if (!explicit && process.env.LAB_GRADER_CLUSTER_UP === '1') {
    await clusterUp({ name: DEFAULT_CLUSTER_NAME, profile: 'grading', offline: 'auto', progress: createProgress('test cluster: ') });
  }
  const problem = await reachable(context);
  if (problem) {
    // One line and out: a thrown error would come with vitest's banners and a misleading
    // "No test files found".
    process.stderr.write(
      `cluster suites need a reachable cluster; context ${context}: ${problem} ` +
        '(run `npx lab-grader cluster up`, or set LAB_GRADER_CLUSTER_UP=1 or LAB_GRADER_CONTEXT)\n',
    );
    process.exit(3);
  }
  project.provide('kubeContext', context);
}
