// Namespaces, Pods and Deployments as wait conditions: throw-away namespaces, "Pod is Ready",
// "Deployment rolled out". Waits stop at once when a Pod cannot start (ImagePullBackOff…) and say
// why, instead of running into their deadline.
import type * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { EnvironmentError } from '../model.js';
import { waitFor, type WaitOptions } from '../wait/wait-for.js';
import { isNotFound, type Kube } from './client.js';
import { isPodReady, listPods, podSummary, selectorString, stuckContainers, type StuckPod } from './pods.js';

/** Image pull problems: the environment (registry, mirror, network) is at fault, not the spec. */
export const IMAGE_PULL_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'ErrImageNeverPull', 'InvalidImageName']);

/** podSummary plus why a Pending Pod is not scheduled (e.g. "Insufficient cpu"). */
export function describePod(p: k8s.V1Pod): string {
  const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return `${podSummary(p)} (${scheduled.reason ?? 'not scheduled'}: ${scheduled.message ?? ''})`;
  return podSummary(p);
}

/** A Pod cannot start and will not fix itself. */
export class PodStuckError extends Error {
  constructor(readonly stuck: StuckPod) {
    super(`Pod ${stuck.pod} cannot start: container ${stuck.container} is ${stuck.reason}${stuck.message ? ` (${stuck.message})` : ''}`);
    this.name = 'PodStuckError';
  }

  get imagePull(): boolean {
    return IMAGE_PULL_REASONS.has(this.stuck.reason);
  }
}

/** A stuck Pod as the error to report: image pulls are environment problems (exit 3). */
export function stuckPodError(stuck: StuckPod): Error {
  const err = new PodStuckError(stuck);
  if (!err.imagePull) return err;
  return new EnvironmentError(err.message, 'the image must be pullable from the cluster: check the registry mirror (`lab-grader cluster status`)');
}

export const isPodStuckOrEnvironment = (e: unknown): boolean => e instanceof PodStuckError || e instanceof EnvironmentError;

export type WaitSettings = Pick<WaitOptions, 'timeoutMs' | 'signal' | 'onProgress' | 'intervalsMs'>;

export async function createNamespace(kube: Kube, prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kube.core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

/** Deletes a namespace; one that is already gone counts as deleted. */
export async function deleteNamespace(kube: Kube, name: string): Promise<void> {
  try {
    await kube.core.deleteNamespace({ name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Waits until the namespace no longer exists (its Pods have terminated). */
export async function waitForNamespaceGone(kube: Kube, name: string, opts: WaitSettings): Promise<void> {
  await waitFor(
    async () => {
      try {
        const ns = await kube.core.readNamespace({ name });
        return { done: false, observed: `namespace ${name} is ${ns.status?.phase ?? 'present'}` };
      } catch (error) {
        if (isNotFound(error)) return { done: true, observed: `namespace ${name} is gone` };
        throw error;
      }
    },
    { description: `namespace ${name} is deleted`, intervalsMs: [500, 1000, 2000], ...opts },
  );
}

/** Waits until the Pod is Ready; stops at once if it cannot start. */
export async function waitForPodReady(kube: Kube, namespace: string, name: string, opts: WaitSettings): Promise<k8s.V1Pod> {
  const obs = await waitFor<k8s.V1Pod>(
    async () => {
      const pod = await kube.core.readNamespacedPod({ namespace, name });
      const stuck = stuckContainers(pod)[0];
      if (stuck) throw stuckPodError(stuck);
      return { done: isPodReady(pod), observed: describePod(pod), value: pod };
    },
    { description: `Pod ${namespace}/${name} is Ready`, isFatal: isPodStuckOrEnvironment, ...opts },
  );
  return obs.value as k8s.V1Pod;
}

export interface Rollout {
  deployment: k8s.V1Deployment;
  /** The Deployment's Pods, all Ready and of the current template. */
  pods: k8s.V1Pod[];
}

/**
 * Waits until the Deployment has rolled out its current template: every replica updated and
 * Ready, no Pod of an older template left, and (optionally) the Pods carry `podLabels`.
 */
export async function waitForRollout(
  kube: Kube,
  namespace: string,
  name: string,
  opts: WaitSettings & { podLabels?: Record<string, string> },
): Promise<Rollout> {
  const obs = await waitFor<Rollout>(
    async () => {
      const d = await kube.apps.readNamespacedDeployment({ namespace, name });
      const want = d.spec?.replicas ?? 1;
      const selector = selectorString(d.spec?.selector);
      const pods = await listPods(kube, namespace, selector);
      const labelled = pods.filter((p) => Object.entries(opts.podLabels ?? {}).every(([k, v]) => p.metadata?.labels?.[k] === v));
      // Only the new Pods must start: an old Pod that crashes is what an update may be fixing.
      for (const p of labelled) {
        const stuck = stuckContainers(p)[0];
        if (stuck) throw stuckPodError(stuck);
      }
      const s = d.status ?? {};
      const current = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
      const ready = labelled.filter(isPodReady);
      const done =
        current &&
        (s.updatedReplicas ?? 0) === want &&
        (s.readyReplicas ?? 0) === want &&
        (s.replicas ?? 0) === want &&
        pods.length === want &&
        ready.length === want;
      const observed = `deployment ${name}: ${s.readyReplicas ?? 0}/${want} ready, ${s.updatedReplicas ?? 0} updated, ${s.replicas ?? 0} total; pods: ${pods.map(describePod).join('; ') || 'none'}`;
      return { done, observed, value: { deployment: d, pods: ready } };
    },
    {
      description: `Deployment ${namespace}/${name} has ${describeLabels(opts.podLabels)}Pods all Ready`,
      isFatal: isPodStuckOrEnvironment,
      ...opts,
    },
  );
  return obs.value as Rollout;
}

function describeLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length ? `only ${entries.map(([k, v]) => `${k}=${v}`).join(',')} ` : 'only current-template ';
}

/** Recent events of a namespace, oldest first, as text lines (for diagnostics). */
export async function recentEvents(kube: Kube, namespace: string, limit = 25): Promise<string[]> {
  const list = await kube.core.listNamespacedEvent({ namespace });
  const time = (e: k8s.CoreV1Event): number =>
    new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? 0).getTime();
  return list.items
    .sort((a, b) => time(a) - time(b))
    .slice(-limit)
    .map((e) => `${e.type ?? ''} ${e.reason ?? ''} ${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}: ${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`.trim());
}
