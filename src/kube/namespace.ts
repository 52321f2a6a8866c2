// The grading namespace: one per run, labelled as the grader's, with Pod Security Admission
// labels, a ResourceQuota and a LimitRange, so a submission can neither escape nor starve the
// shared cluster. Deleted at the end (waiting for the deletion to finish, bounded).
//
// The numbers, and why the lab's reference solution fits:
//   ResourceQuota "lab-grader-quota": pods 20; requests.cpu 4, limits.cpu 4;
//     requests.memory 4Gi, limits.memory 4Gi.
//   LimitRange "lab-grader-defaults", per container without its own values:
//     default (limit) cpu 250m, memory 256Mi; defaultRequest cpu 125m, memory 128Mi.
//   The reference runs 5 to 10 replicas at 125m/250m CPU and a 256Mi memory limit (its memory
//   request defaults to the limit): at 10 replicas that is 1.25 CPU requested, 2.5 CPU and 2.5Gi
//   limited, and a rolling update's 25% surge (13 Pods) still fits (3.25 CPU, 3.25Gi).
//   A quota on CPU and memory makes the API server reject Pods that do not state them, so the
//   LimitRange supplies defaults in the lab's own sizes: a Pod without resources still runs. Its
//   default CPU request would also let the HPA measure a container that sets none, which it could
//   not do on a cluster without such defaults; the Pods carry the `kubernetes.io/limit-ranger`
//   annotation saying what was defaulted, and the HPA checks use it to stay honest (see
//   cpuRequestDefaulted).
import { hostname } from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import { isNotFound, type Kube } from './client.js';
import { withRetry } from './retry.js';
import { waitForNamespaceGone } from './workloads.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kube-lab-grader';
export const RUN_ID_LABEL = 'io.kube-lab-grader/run-id';
export const QUOTA_NAME = 'lab-grader-quota';
export const LIMIT_RANGE_NAME = 'lab-grader-defaults';

export const QUOTA_HARD: Readonly<Record<string, string>> = {
  pods: '20',
  'requests.cpu': '4',
  'limits.cpu': '4',
  'requests.memory': '4Gi',
  'limits.memory': '4Gi',
};

export const CONTAINER_DEFAULTS = {
  default: { cpu: '250m', memory: '256Mi' },
  defaultRequest: { cpu: '125m', memory: '128Mi' },
} as const;

/** Which process owns a grading namespace, so a janitor can tell the namespaces of dead runs. */
export const OWNER_HOST_ANNOTATION = 'io.kube-lab-grader/host';
export const OWNER_PID_ANNOTATION = 'io.kube-lab-grader/pid';

export function namespaceManifest(name: string, runId: string): k8s.V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      annotations: { [OWNER_HOST_ANNOTATION]: hostname(), [OWNER_PID_ANNOTATION]: String(process.pid) },
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY,
        [RUN_ID_LABEL]: runId,
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': 'latest',
      },
    },
  };
}

export function quotaManifest(namespace: string, runId: string): k8s.V1ResourceQuota {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: QUOTA_NAME, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RUN_ID_LABEL]: runId } },
    spec: { hard: { ...QUOTA_HARD } },
  };
}

export function limitRangeManifest(namespace: string, runId: string): k8s.V1LimitRange {
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: LIMIT_RANGE_NAME, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RUN_ID_LABEL]: runId } },
    spec: {
      limits: [{ type: 'Container', _default: { ...CONTAINER_DEFAULTS.default }, defaultRequest: { ...CONTAINER_DEFAULTS.defaultRequest } }],
    },
  };
}

/** Creates the namespace with its quota and defaults. Register the deletion before calling this. */
export async function createGradingNamespace(kube: Kube, name: string, runId: string, signal?: AbortSignal): Promise<void> {
  const opts = signal ? { signal } : {};
  await withRetry(`create namespace ${name}`, () => kube.core.createNamespace({ body: namespaceManifest(name, runId) }), opts);
  await withRetry(`create ResourceQuota in ${name}`, () => kube.core.createNamespacedResourceQuota({ namespace: name, body: quotaManifest(name, runId) }), opts);
  await withRetry(`create LimitRange in ${name}`, () => kube.core.createNamespacedLimitRange({ namespace: name, body: limitRangeManifest(name, runId) }), opts);
}

/** Deletes the namespace and waits until it is gone; NotFound counts as deleted. */
export async function deleteNamespaceAndWait(kube: Kube, name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  if (!(await requestNamespaceDeletion(kube, name, signal))) return;
  await waitForNamespaceGone(kube, name, { timeoutMs, intervalsMs: [500, 1000], ...(signal ? { signal } : {}) });
}

/**
 * Asks the API server to delete the namespace (it is marked at once; the namespace controller
 * removes its objects in the background). False when it was already gone.
 */
export async function requestNamespaceDeletion(kube: Kube, name: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await withRetry(`delete namespace ${name}`, () => kube.core.deleteNamespace({ name, propagationPolicy: 'Background' }), signal ? { signal } : {});
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * Resources the namespace's LimitRange filled in for `container`, from the Pod's
 * `kubernetes.io/limit-ranger` annotation, e.g. "LimitRanger plugin set: cpu, memory request for
 * container app; cpu, memory limit for container app".
 */
export function defaultedResources(pod: k8s.V1Pod, container: string): { requests: string[]; limits: string[] } {
  const text = pod.metadata?.annotations?.['kubernetes.io/limit-ranger'] ?? '';
  const out = { requests: [] as string[], limits: [] as string[] };
  for (const part of text.replace(/^LimitRanger plugin set:\s*/, '').split(';')) {
    const m = /^\s*(.+?)\s+(request|limit)\s+for\s+(?:init\s+)?container\s+(\S+)\s*$/.exec(part);
    if (!m || m[3] !== container) continue;
    const names = (m[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    (m[2] === 'request' ? out.requests : out.limits).push(...names);
  }
  return out;
}

/** True when the app container's CPU request came from the grading namespace, not the learner. */
export function cpuRequestDefaulted(pod: k8s.V1Pod, container: string): boolean {
  return defaultedResources(pod, container).requests.includes('cpu');
}

/**
 * Grading namespaces left behind by runs on this host whose process is gone (killed with
 * SIGKILL, machine reset): a run that is alive, or one from another host, is never touched.
 */
export function namespacesOfDeadRuns(
  namespaces: readonly k8s.V1Namespace[],
  host: string,
  isAlive: (pid: number) => boolean,
): string[] {
  return namespaces
    .filter((ns) => ns.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && !ns.metadata?.deletionTimestamp)
    .filter((ns) => ns.metadata?.annotations?.[OWNER_HOST_ANNOTATION] === host)
    .filter((ns) => {
      const pid = Number(ns.metadata?.annotations?.[OWNER_PID_ANNOTATION]);
      return Number.isInteger(pid) && pid > 0 && !isAlive(pid);
    })
    .map((ns) => ns.metadata?.name ?? '')
    .filter(Boolean);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes the namespaces of dead runs on this host (without waiting); returns their names. */
export async function deleteNamespacesOfDeadRuns(kube: Kube): Promise<string[]> {
  const list = await kube.core.listNamespace({ labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` });
  const stale = namespacesOfDeadRuns(list.items, hostname(), processAlive);
  for (const name of stale) {
    await kube.core.deleteNamespace({ name, propagationPolicy: 'Background' }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }
  return stale;
}
