// Names and ports of what `lab-grader cluster up` creates. Everything it creates is named or
// labelled after the project, so `down` can remove exactly that and nothing else.
export const DEFAULT_CLUSTER_NAME = 'lab-grader';
export const API_SERVER_PORT = 6550;
export const NODE_PORT_FIRST = 30010;
export const NODE_PORT_LAST = 30040;
export const REGISTRY_CONTAINER = 'lab-grader-registry';
export const REGISTRY_HOST_PORT = 5001;
export const OWNER_LABEL = 'io.kube-lab-grader.owner';
export const MIN_FREE_DISK_BYTES = 6 * 2 ** 30;

export type Profile = 'grading' | 'default';

export function kindContext(clusterName: string): string {
  return `kind-${clusterName}`;
}

/**
 * Host ports a cluster publishes on 127.0.0.1. Only the default cluster has the fixed API port
 * and the lab's NodePorts; a cluster of another name (a comparison cluster beside it, e.g. for
 * the benchmark) gets a free API port chosen by kind and no NodePorts, so both can run at once.
 * Grading reaches Services through the API server and needs no NodePort.
 */
export function publishedPorts(clusterName: string): { apiServerPort?: number; nodePorts: number[] } {
  return clusterName === DEFAULT_CLUSTER_NAME ? { apiServerPort: API_SERVER_PORT, nodePorts: nodePorts() } : { nodePorts: [] };
}

export function nodePorts(): number[] {
  const ports: number[] = [];
  for (let p = NODE_PORT_FIRST; p <= NODE_PORT_LAST; p++) ports.push(p);
  return ports;
}
