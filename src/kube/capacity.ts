// Room on the cluster for the app's Pods, by CPU requests (what the scheduler counts). A small
// grading cluster (kind on a 2-core machine: 2 CPUs allocatable, about 1 CPU requested by the
// control plane and metrics-server) holds one grading of the lab at a time: 5 Pods at 125m. A
// grading that starts while another one's Pods hold the room waits for it instead of failing its
// learner with Pods stuck in Pending; a submission that could not fit even on the idle cluster
// is reported as the environment's limit, not the learner's mistake.
import type * as k8s from '@kubernetes/client-node';
import { cpuMilli } from './quantity.js';
import type { Kube } from './client.js';

/** Namespaces whose Pods are the cluster's own and stay: their requests are never freed. */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'local-path-storage', 'kube-public', 'kube-node-lease'];

export interface ClusterRoom {
  nodes: NodeRoom[];
  /** CPU requested by Pods not bound to a node yet (they will take room first). */
  pendingMilli: number;
}

export interface NodeRoom {
  node: string;
  allocatableMilli: number;
  /** CPU requested by every Pod on the node. */
  requestedMilli: number;
  /** CPU requested by the system namespaces' Pods only. */
  systemMilli: number;
}

/** CPU in millicores; 0 when missing or not a quantity. */
export function milli(value: unknown): number {
  return cpuMilli(value) ?? 0;
}

/**
 * CPU a Pod asks the scheduler for: the sum of its containers' requests (a container with only a
 * limit requests its limit; with neither, `defaultMilli`, the namespace's default request), or its
 * largest init container's if that is more.
 */
export function podRequestMilli(spec: Pick<k8s.V1PodSpec, 'containers' | 'initContainers'> | undefined, defaultMilli = 0): number {
  const one = (c: k8s.V1Container): number => {
    const r = c.resources?.requests?.cpu ?? c.resources?.limits?.cpu;
    return r === undefined ? defaultMilli : milli(r);
  };
  const main = (spec?.containers ?? []).reduce((sum, c) => sum + one(c), 0);
  const init = Math.max(0, ...(spec?.initContainers ?? []).map(one));
  return Math.max(main, init);
}

/**
 * How many Pods of `perPodMilli` fit: `now`, after the Pods already there and those waiting to
 * be scheduled; `idle`, on the cluster with only its system Pods.
 */
export function podsThatFit(room: ClusterRoom, perPodMilli: number, basis: 'now' | 'idle'): number {
  if (perPodMilli <= 0) return Number.POSITIVE_INFINITY;
  const fit = room.nodes.reduce((n, r) => {
    const free = r.allocatableMilli - (basis === 'now' ? r.requestedMilli : r.systemMilli);
    return n + Math.max(0, Math.floor(free / perPodMilli));
  }, 0);
  return basis === 'now' ? Math.max(0, fit - Math.ceil(room.pendingMilli / perPodMilli)) : fit;
}

export function describeRoom(room: ClusterRoom): string {
  const free = room.nodes.reduce((s, r) => s + r.allocatableMilli - r.requestedMilli, 0) - room.pendingMilli;
  const idle = room.nodes.reduce((s, r) => s + r.allocatableMilli - r.systemMilli, 0);
  const n = room.nodes.length;
  return `${Math.max(0, free)}m CPU unrequested now, ${idle}m besides the system's own Pods, on ${n} schedulable node${n === 1 ? '' : 's'}`;
}

function schedulable(n: k8s.V1Node): boolean {
  if (n.spec?.unschedulable) return false;
  if (!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return false;
  return !(n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
}

/** CPU room per schedulable node, and the demand of Pods not bound to a node yet. */
export async function clusterRoom(kube: Kube): Promise<ClusterRoom> {
  const [nodes, pods] = await Promise.all([
    kube.core.listNode(),
    kube.core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
  ]);
  const rooms = new Map<string, NodeRoom>();
  for (const n of nodes.items.filter(schedulable)) {
    const name = n.metadata?.name ?? '?';
    rooms.set(name, { node: name, allocatableMilli: milli(n.status?.allocatable?.cpu), requestedMilli: 0, systemMilli: 0 });
  }
  let pendingMilli = 0;
  for (const p of pods.items) {
    const req = podRequestMilli(p.spec);
    if (!p.spec?.nodeName) {
      if (!p.metadata?.deletionTimestamp) pendingMilli += req;
      continue;
    }
    const room = rooms.get(p.spec.nodeName);
    if (!room) continue;
    room.requestedMilli += req;
    if (SYSTEM_NAMESPACES.includes(p.metadata?.namespace ?? '')) room.systemMilli += req;
  }
  return { nodes: [...rooms.values()], pendingMilli };
}
