// Is the cluster fit for grading? Node Ready, kube-system Ready, metrics API serving pod metrics.
// Also installs metrics-server (kind ships none).
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { EnvironmentError } from '../model.js';
import { applyManifests, type Manifest } from '../kube/apply.js';
import { loadKube, type Kube } from '../kube/client.js';
import { isPodReady } from '../kube/pods.js';
import type { Progress } from '../util/progress.js';
import { waitFor, WaitTimeoutError } from '../wait/wait-for.js';
import { metricsServerManifest, readProfile } from './kind-config.js';
import type { Profile } from './settings.js';

export interface ReadinessReport {
  kubernetesVersion: string;
  nodes: string[];
  podMetrics: number;
}

export interface ReadinessOptions {
  timeoutMs?: number;
  /** How long to wait for pod metrics once kube-system is Ready (default: timeoutMs). */
  metricsTimeoutMs?: number;
  signal?: AbortSignal;
}

function waitingReason(p: k8s.V1Pod): string | undefined {
  for (const cs of p.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (w?.reason && w.reason !== 'ContainerCreating') return `${w.reason}${w.message ? `: ${w.message}` : ''}`;
  }
  return undefined;
}

/**
 * Waits until the API server answers and lists a Ready node. Right after `kind create` or after
 * dockerd restarted the node container, the port is already published while the API server still
 * boots: connections are accepted and then dropped ("socket disconnected before secure TLS
 * connection"), which is not yet a broken cluster.
 */
export async function waitForApiServer(context: string, progress: Progress, timeoutMs: number): Promise<void> {
  const kube = loadKube(context);
  try {
    await waitFor(
      async () => {
        const list = await kube.core.listNode();
        // Until its authorizer has synced a booting API server refuses (403) what it will allow.
        await kube.core.listNamespace({ limit: 1 });
        const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return { done: ready.length > 0, observed: ready.length ? 'the API server answers' : 'the API server answers; no node is Ready yet' };
      },
      {
        description: 'the API server answers and a node is Ready',
        timeoutMs,
        intervalsMs: [500, 1000, 2000],
        onProgress: (o) => progress.waiting(o),
      },
    );
  } catch (error) {
    if (error instanceof WaitTimeoutError) throw new EnvironmentError(`API server not answering: ${error.message}`, 'see `lab-grader cluster status`; `kind export logs` has the node\'s journal');
    throw error;
  }
}

export async function verifyClusterReady(context: string, progress: Progress, opts: ReadinessOptions = {}): Promise<ReadinessReport> {
  const kube = loadKube(context);
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  const wrap = async <T>(p: Promise<T>, what: string, advice: string): Promise<T> => {
    try {
      return await p;
    } catch (error) {
      if (error instanceof WaitTimeoutError) throw new EnvironmentError(`${what}: ${error.message}`, advice);
      throw error;
    }
  };

  const version = await kube.config.makeApiClient(k8s.VersionApi).getCode();
  const nodes = await wrap(
    waitFor(
      async () => {
        const list = await kube.core.listNode();
        const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        const names = list.items.map((n) => `${n.metadata?.name} ${ready.includes(n) ? 'Ready' : 'NotReady'}`);
        return { done: list.items.length > 0 && ready.length === list.items.length, observed: `nodes: ${names.join(', ') || 'none'}`, value: names };
      },
      { description: 'every node is Ready', timeoutMs, signal: opts.signal, onProgress: (o) => progress.waiting(o) },
    ),
    'nodes not Ready',
    'see `lab-grader cluster status`; `kind export logs` has the kubelet journal',
  );
  progress.step(nodes.observed);

  await wrap(
    waitFor(
      async () => {
        const pods = await kube.core.listNamespacedPod({ namespace: 'kube-system' });
        const relevant = pods.items.filter((p) => p.status?.phase !== 'Succeeded');
        const notReady = relevant.filter((p) => !isPodReady(p));
        const detail = notReady.map((p) => `${p.metadata?.name}${waitingReason(p) ? ` (${waitingReason(p)})` : ''}`);
        return {
          done: relevant.length > 0 && notReady.length === 0,
          observed: notReady.length ? `kube-system: ${relevant.length - notReady.length}/${relevant.length} Ready, waiting for ${detail.join(', ')}` : `kube-system: ${relevant.length}/${relevant.length} pods Ready`,
        };
      },
      { description: 'every kube-system Pod is Ready', timeoutMs, signal: opts.signal, onProgress: (o) => progress.waiting(o) },
    ),
    'kube-system not Ready',
    'an image may be missing from the node; see `kubectl -n kube-system describe pods`',
  ).then((o) => progress.step(o.observed));

  const podMetrics = await wrap(
    waitForPodMetrics(kube, { timeoutMs: opts.metricsTimeoutMs ?? timeoutMs, signal: opts.signal, onProgress: (o) => progress.waiting(o) }),
    'no metrics API',
    'HPAs cannot act without it: install metrics-server (`lab-grader cluster up` does) and check `kubectl get apiservice v1beta1.metrics.k8s.io`',
  );
  progress.step(`metrics API serves ${podMetrics} pod metrics`);
  return { kubernetesVersion: version.gitVersion, nodes: nodes.value ?? [], podMetrics };
}

export async function waitForPodMetrics(
  kube: Kube,
  opts: { timeoutMs: number; signal?: AbortSignal; onProgress?: (o: string) => void },
): Promise<number> {
  const obs = await waitFor(
    async () => {
      const svc = await kube.config
        .makeApiClient(k8s.ApiregistrationV1Api)
        .readAPIService({ name: 'v1beta1.metrics.k8s.io' })
        .catch(() => undefined);
      if (!svc) return { done: false, observed: 'APIService v1beta1.metrics.k8s.io not registered' };
      const available = svc.status?.conditions?.find((c) => c.type === 'Available');
      if (available?.status !== 'True') {
        return { done: false, observed: `metrics API not available: ${available?.reason ?? 'no status'} ${available?.message ?? ''}`.trim() };
      }
      const list = (await kube.custom.listClusterCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', plural: 'pods' })) as {
        items?: unknown[];
      };
      const n = list.items?.length ?? 0;
      return { done: n > 0, observed: `metrics API answers with ${n} pod metrics`, value: n };
    },
    { description: '/apis/metrics.k8s.io/v1beta1/pods lists pod metrics', ...opts },
  );
  return obs.value ?? 0;
}

export async function installMetricsServer(context: string, profile: Profile, progress: Progress, opts: { skipIfCurrent?: boolean } = {}): Promise<void> {
  const kube = loadKube(context);
  const docs = parseAllDocuments(metricsServerManifest(profile))
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null && typeof d === 'object');
  if (opts.skipIfCurrent && (await metricsServerCurrent(kube, docs))) {
    progress.step(`metrics-server present with the profile's arguments (profile ${profile})`);
    return;
  }
  await applyManifests(kube, docs);
  progress.step(`metrics-server applied (${docs.length} objects, profile ${profile})`);
}

/**
 * Whether the metrics-server Deployment runs with exactly the manifest's image and arguments and
 * has an available replica: then re-applying its nine objects on every reuse changes nothing.
 */
async function metricsServerCurrent(kube: Kube, docs: readonly Manifest[]): Promise<boolean> {
  const wanted = docs.find((d) => d.kind === 'Deployment' && d.metadata?.name === 'metrics-server') as
    | { spec?: { template?: { spec?: { containers?: Array<{ image?: string; args?: string[] }> } } } }
    | undefined;
  const want = wanted?.spec?.template?.spec?.containers?.[0];
  if (!want) return false;
  try {
    const d = await kube.apps.readNamespacedDeployment({ namespace: 'kube-system', name: 'metrics-server' });
    const have = d.spec?.template.spec?.containers[0];
    return (d.status?.availableReplicas ?? 0) > 0 && have?.image === want.image && JSON.stringify(have?.args ?? []) === JSON.stringify(want.args ?? []);
  } catch {
    return false;
  }
}

/** Profile settings that apply to objects kubeadm created (it does not reconcile them later). */
export async function applyProfileToCluster(context: string, profile: Profile, progress: Progress): Promise<void> {
  const replicas = readProfile(profile).coreDNSReplicas;
  if (replicas === undefined) return;
  const kube = loadKube(context);
  const scale = await kube.apps.readNamespacedDeploymentScale({ namespace: 'kube-system', name: 'coredns' });
  if (scale.spec?.replicas === replicas) return;
  await kube.apps.patchNamespacedDeploymentScale(
    { namespace: 'kube-system', name: 'coredns', body: { spec: { replicas } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  progress.step(`CoreDNS scaled to ${replicas} replica(s) (profile ${profile})`);
}
