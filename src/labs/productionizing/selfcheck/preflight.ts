// Is the environment fit for the walkthrough? Nodes Ready, the metrics API serving Pod metrics
// (the HPA needs it) and every image of the lab's specs starting in a Pod. Anything wrong here is
// the environment's fault: every step reports `error`, never `failed`.
import type * as k8s from '@kubernetes/client-node';
import { waitForPodMetrics } from '../../../cluster/readiness.js';
import { EnvironmentError } from '../../../model.js';
import { stuckContainers } from '../../../kube/pods.js';
import { PodStuckError, stuckPodError } from '../../../kube/workloads.js';
import { waitFor } from '../../../wait/wait-for.js';
import { TIMEOUTS, waits } from './common.js';
import type { GroupContext, Scenario } from './scenario.js';
import { imagesOf, readLabSpecs } from './specs.js';

/** The folders whose images the walkthrough (and a graded submission) runs. */
export const IMAGE_FOLDERS = ['whoami', 'pi', 'pi-secure', 'configurable'] as const;

export const preflightScenario: Scenario = {
  group: 'preflight',
  async run(ctx) {
    await ctx.step('preflight.nodes-ready', () => nodesReady(ctx), { independent: true });
    await ctx.step('preflight.metrics-api', async () => {
      const n = await waitForPodMetrics(ctx.kube, waits(ctx, TIMEOUTS.metricsApi));
      return `the metrics API lists ${n} Pod metrics`;
    }, { independent: true });
    await ctx.step('preflight.images-start', () => imagesStart(ctx), { independent: true });
  },
};

async function nodesReady(ctx: GroupContext): Promise<string> {
  const obs = await waitFor<string[]>(
    async () => {
      const list = await ctx.kube.core.listNode();
      const ready = (n: k8s.V1Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const names = list.items.map((n) => `${n.metadata?.name ?? '?'} ${ready(n) ? 'Ready' : 'NotReady'}`);
      return { done: list.items.length > 0 && list.items.every(ready), observed: `nodes: ${names.join(', ') || 'none'}`, value: names };
    },
    { description: 'every node is Ready', ...waits(ctx, TIMEOUTS.nodes) },
  );
  return `${obs.value?.length ?? 0} node(s) Ready: ${(obs.value ?? []).join(', ')}`;
}

/** One Pod per image, each left to its image's own command; passes when every container has started. */
async function imagesStart(ctx: GroupContext): Promise<string> {
  const images: string[] = [];
  for (const folder of IMAGE_FOLDERS) {
    for (const image of imagesOf(await readLabSpecs(folder))) if (!images.includes(image)) images.push(image);
  }
  const pods = images.map((image, i) => ({ image, name: `image-${i}` }));
  for (const p of pods) {
    await ctx.kube.core.createNamespacedPod({
      namespace: ctx.namespace,
      body: {
        metadata: { name: p.name, labels: { 'io.kube-lab-grader/preflight': 'image' } },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          containers: [{ name: 'app', image: p.image, resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '128Mi' } } }],
        },
      },
    });
  }
  const results = await Promise.all(pods.map((p) => imageStarted(ctx, p.name, p.image)));
  return `every image starts: ${results.join('; ')}`;
}

async function imageStarted(ctx: GroupContext, pod: string, image: string): Promise<string> {
  try {
    const obs = await waitFor<string>(
      async () => {
        const p = await ctx.kube.core.readNamespacedPod({ namespace: ctx.namespace, name: pod });
        const stuck = stuckContainers(p)[0];
        if (stuck) throw stuckPodError(stuck);
        const s = p.status?.containerStatuses?.[0];
        const state = s?.state;
        if (state?.terminated && state.terminated.exitCode !== 0) {
          throw new EnvironmentError(`image ${image} started but its container exited with code ${state.terminated.exitCode} (${state.terminated.reason ?? ''})`);
        }
        const started = Boolean(state?.running || state?.terminated);
        const how = state?.running ? 'running' : state?.terminated ? 'ran and exited 0' : `waiting: ${state?.waiting?.reason ?? p.status?.phase ?? 'pending'}`;
        return { done: started, observed: `${image}: ${how}`, value: `${image} ${how}` };
      },
      {
        description: `a Pod with image ${image} starts`,
        isFatal: (e) => e instanceof EnvironmentError || e instanceof PodStuckError,
        ...waits(ctx, TIMEOUTS.imageStart),
      },
    );
    return obs.value ?? image;
  } catch (error) {
    // A container that cannot be created from the image is the environment's problem here.
    if (error instanceof PodStuckError) throw new EnvironmentError(`image ${image}: ${error.message}`);
    throw error;
  }
}
