// Gradings that wait for room on a shared cluster take turns. Without this, two waiting gradings
// that poll at the same moment both see the room another grading freed, both apply, and one
// finds its Pods Pending for lack of CPU: its verdict would depend on timing. Each waiting
// grading marks its own namespace "waiting" (with the CPU it asks for); the oldest waiting one
// goes first, and a grading just let in keeps its room reserved until its Pods exist.
import type * as k8s from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Kube } from './client.js';
import { MANAGED_BY, MANAGED_BY_LABEL, OWNER_HOST_ANNOTATION, OWNER_PID_ANNOTATION, processAlive } from './namespace.js';
import { podRequestMilli } from './capacity.js';

export const ROOM_STATE_ANNOTATION = 'io.kube-lab-grader/room';
export const ROOM_MILLI_ANNOTATION = 'io.kube-lab-grader/room-cpu-milli';
export const ROOM_SINCE_ANNOTATION = 'io.kube-lab-grader/room-since';
/** How long a grading just let in keeps its room reserved while its Pods are being created. */
export const RESERVATION_MS = 60_000;

export interface QueueView {
  /** Older gradings still waiting: this one goes after them. */
  ahead: string[];
  /** CPU (millicores) promised to gradings let in whose Pods do not all exist yet. */
  reservedMilli: number;
}

/**
 * Where `me` stands among the grading namespaces: who waits ahead of it and how much room is
 * promised to others. `podsByNamespace` are the Pods that exist (their requests already count in
 * the cluster's room). Waiters of dead processes on this host are ignored.
 */
export function queueView(
  me: string,
  namespaces: readonly k8s.V1Namespace[],
  podsByNamespace: ReadonlyMap<string, readonly k8s.V1Pod[]>,
  now: number,
  isAlive: (host: string, pid: number) => boolean,
): QueueView {
  const mine = namespaces.find((n) => n.metadata?.name === me);
  const key = (n: k8s.V1Namespace) => `${new Date(n.metadata?.creationTimestamp ?? 0).toISOString()} ${n.metadata?.name ?? ''}`;
  const myKey = mine ? key(mine) : `${new Date(now).toISOString()} ${me}`;
  const ahead: string[] = [];
  let reservedMilli = 0;
  for (const n of namespaces) {
    const name = n.metadata?.name ?? '';
    const a = n.metadata?.annotations ?? {};
    if (name === me || n.metadata?.deletionTimestamp || n.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY) continue;
    if (!isAlive(a[OWNER_HOST_ANNOTATION] ?? '', Number(a[OWNER_PID_ANNOTATION]))) continue;
    const state = a[ROOM_STATE_ANNOTATION];
    if (state === 'waiting' && key(n) < myKey) ahead.push(name);
    if (state === 'admitted') {
      const since = Date.parse(a[ROOM_SINCE_ANNOTATION] ?? '');
      if (!Number.isFinite(since) || now - since > RESERVATION_MS) continue;
      const promised = Number(a[ROOM_MILLI_ANNOTATION] ?? 0);
      const existing = (podsByNamespace.get(name) ?? []).reduce((s, p) => s + podRequestMilli(p.spec), 0);
      reservedMilli += Math.max(0, promised - existing);
    }
  }
  return { ahead, reservedMilli };
}

/** A process on this host is alive; one on another host is assumed to be. */
export function ownerAlive(host: string, pid: number): boolean {
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return true;
  return processAlive(pid);
}

export async function markRoom(kube: Kube, namespace: string, state: 'waiting' | 'admitted', milli: number): Promise<void> {
  await kube.core.patchNamespace(
    {
      name: namespace,
      body: { metadata: { annotations: { [ROOM_STATE_ANNOTATION]: state, [ROOM_MILLI_ANNOTATION]: String(milli), [ROOM_SINCE_ANNOTATION]: new Date().toISOString() } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

export async function readQueue(kube: Kube, me: string): Promise<QueueView> {
  const [namespaces, pods] = await Promise.all([
    kube.core.listNamespace({ labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }),
    kube.core.listPodForAllNamespaces({ labelSelector: undefined, fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
  ]);
  const byNs = new Map<string, k8s.V1Pod[]>();
  for (const p of pods.items) {
    const ns = p.metadata?.namespace ?? '';
    byNs.set(ns, [...(byNs.get(ns) ?? []), p]);
  }
  return queueView(me, namespaces.items, byNs, Date.now(), ownerAlive);
}
