// Reading Pods: readiness, restarts, and why a Pod cannot start (to fail fast with the
// kubelet's own reason instead of waiting for a deadline).
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from './client.js';

export function isPodReady(p: k8s.V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function restartCount(p: k8s.V1Pod, container?: string): number {
  const statuses = p.status?.containerStatuses ?? [];
  const s = container ? statuses.find((c) => c.name === container) : statuses[0];
  return s?.restartCount ?? 0;
}

export function containerRunning(p: k8s.V1Pod, container?: string): boolean {
  const statuses = p.status?.containerStatuses ?? [];
  const s = container ? statuses.find((c) => c.name === container) : statuses[0];
  return Boolean(s?.state?.running);
}

/** Reasons that will not fix themselves: waiting stops at once and reports them. */
export const STUCK_REASONS = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'RunContainerError',
]);

export interface StuckPod {
  pod: string;
  container: string;
  reason: string;
  message: string;
}

export function stuckContainers(p: k8s.V1Pod): StuckPod[] {
  const out: StuckPod[] = [];
  for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const w = s.state?.waiting;
    if (w?.reason && STUCK_REASONS.has(w.reason)) {
      // ErrImagePull is left out on purpose: a pull that fails once is retried, and only the
      // ImagePullBackOff that follows a second failure is final.
      out.push({ pod: p.metadata?.name ?? '?', container: s.name, reason: w.reason, message: w.message ?? '' });
    }
  }
  return out;
}

export async function listPods(kube: Kube, namespace: string, labelSelector?: string): Promise<k8s.V1Pod[]> {
  const list = await kube.core.listNamespacedPod({ namespace, labelSelector });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

export function selectorString(selector: k8s.V1LabelSelector | Record<string, string> | undefined): string {
  if (!selector) return '';
  const labels = 'matchLabels' in selector || 'matchExpressions' in selector ? (selector as k8s.V1LabelSelector).matchLabels ?? {} : (selector as Record<string, string>);
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  for (const e of (selector as k8s.V1LabelSelector).matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export function podSummary(p: k8s.V1Pod): string {
  const cs = p.status?.containerStatuses?.[0];
  const state = cs?.state?.running ? 'running' : cs?.state?.waiting ? `waiting ${cs.state.waiting.reason ?? ''}` : cs?.state?.terminated ? `terminated ${cs.state.terminated.reason ?? ''}` : p.status?.phase ?? '?';
  return `${p.metadata?.name}: ${isPodReady(p) ? 'Ready' : 'NotReady'}, ${state}, restarts ${cs?.restartCount ?? 0}`;
}
