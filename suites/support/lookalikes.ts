// Pods running the lab's images (the offline look-alikes on this cluster), as the lab runs them
// and hardened like the lab's pi-secure spec, plus small HTTP and exec helpers for assertions.
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from '../../src/kube/client.js';
import { execInPod, type ExecResult } from '../../src/kube/exec.js';
import { proxyRequest, type ProxyResponse } from '../../src/kube/http.js';
import { waitForPodReady } from '../../src/kube/workloads.js';

export const WHOAMI_IMAGE = 'sixeyed/whoami:21.04';
export const PI_IMAGE = 'kiamol/ch05-pi';
export const CONFIGURABLE_IMAGE = 'sixeyed/configurable:21.04';

export const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
export const NOBODY = 65534;

export interface PodOptions {
  name: string;
  namespace: string;
  image: string;
  command?: string[];
  env?: Record<string, string>;
  /** Container port the app listens on (for the readiness probe). */
  port: number;
  /** Probe path answering 200 while the app runs; tcpSocket when absent. */
  readyPath?: string;
  /** Run as uid 65534 with every capability dropped, no privilege escalation, no SA token. */
  hardened?: boolean;
}

export function lookalikePod(o: PodOptions): k8s.V1Pod {
  const container: k8s.V1Container = {
    name: 'app',
    image: o.image,
    ...(o.command ? { command: o.command } : {}),
    env: Object.entries(o.env ?? {}).map(([name, value]) => ({ name, value })),
    ports: [{ containerPort: o.port, name: 'http' }],
    readinessProbe: o.readyPath
      ? { httpGet: { path: o.readyPath, port: o.port }, periodSeconds: 1 }
      : { tcpSocket: { port: o.port }, periodSeconds: 1 },
    resources: { requests: { cpu: '25m', memory: '16Mi' }, limits: { cpu: '250m', memory: '128Mi' } },
    ...(o.hardened ? { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: { app: o.name } },
    spec: {
      containers: [container],
      terminationGracePeriodSeconds: 2,
      ...(o.hardened ? { automountServiceAccountToken: false, securityContext: { runAsUser: NOBODY, runAsGroup: 3000 } } : {}),
    },
  };
}

/** Creates the Pods and waits until each is Ready (stops at once on ImagePullBackOff…). */
export async function startPods(kube: Kube, pods: readonly k8s.V1Pod[], timeoutMs = 120_000): Promise<void> {
  for (const body of pods) {
    await kube.core.createNamespacedPod({ namespace: body.metadata?.namespace as string, body });
  }
  await Promise.all(
    pods.map((p) => waitForPodReady(kube, p.metadata?.namespace as string, p.metadata?.name as string, { timeoutMs })),
  );
}

export function podHttp(kube: Kube, namespace: string, pod: string, port: number) {
  return (path: string, init: { method?: string; body?: string } = {}): Promise<ProxyResponse> =>
    proxyRequest(kube, { namespace, kind: 'pods', name: pod, port }, path, { timeoutMs: 20_000, ...init });
}

export function podExec(kube: Kube, namespace: string, pod: string) {
  return (...command: string[]): Promise<ExecResult> => execInPod(kube, { namespace, pod, command, timeoutMs: 20_000 });
}
