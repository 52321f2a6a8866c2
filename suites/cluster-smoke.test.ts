// Proves the grading cluster is a real Kubernetes: with our own tiny image, a Deployment serves
// HTTP through a NodePort on 127.0.0.1, a failing readiness probe removes its Pod from the
// EndpointSlice, the metrics API reports its CPU, and an HPA scales a CPU-burning Pod up and
// back down.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findKind } from '../src/cluster/host.js';
import { applyManifests, type Manifest } from '../src/kube/apply.js';
import type { Kube } from '../src/kube/client.js';
import { readyPods, serviceEndpoints, describeEndpoints } from '../src/kube/endpoints.js';
import { proxyRequest } from '../src/kube/http.js';
import { isPodReady, listPods } from '../src/kube/pods.js';
import { waitFor } from '../src/wait/wait-for.js';
import { createTestNamespace, deleteTestNamespace, testKube } from './support/cluster.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SMOKE_NODE_PORT = 30039;
const log = (s: string) => process.stderr.write(`  smoke: ${s}\n`);

let kube: Kube;
let ns: string;
let image: string;

function deployment(name: string, extra: { cpuLimit: string }): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ containerPort: 8080, name: 'http' }],
              readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
              resources: { requests: { cpu: '100m', memory: '16Mi' }, limits: { cpu: extra.cpuLimit, memory: '64Mi' } },
            },
          ],
        },
      },
    },
  };
}

async function onlyPod(app: string): Promise<string> {
  const obs = await waitFor(
    async () => {
      const pods = await listPods(kube, ns, `app=${app}`);
      const ready = pods.filter(isPodReady);
      return { done: ready.length === 1, observed: `${ready.length}/${pods.length} ${app} pods Ready`, value: ready[0]?.metadata?.name };
    },
    { description: `one ${app} Pod is Ready`, timeoutMs: 120_000 },
  );
  return obs.value as string;
}

beforeAll(async () => {
  kube = testKube();
  image = (await execa('bash', [`${ROOT}/scripts/build-smoke-image.sh`])).stdout.trim();
  const kind = await findKind();
  if (!kind) throw new Error('kind CLI not found');
  const cluster = kube.context.replace(/^kind-/, '');
  await execa(kind, ['load', 'docker-image', image, '--name', cluster]);
  ns = await createTestNamespace(kube, 'smoke');
  await applyManifests(kube, [
    deployment('web', { cpuLimit: '200m' }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http', nodePort: SMOKE_NODE_PORT }] },
    },
  ]);
}, 300_000);

afterAll(async () => {
  if (kube && ns) await deleteTestNamespace(kube, ns);
});

describe('the grading cluster is real', () => {
  it('serves a Deployment through its NodePort on 127.0.0.1', async () => {
    const pod = await onlyPod('web');
    const obs = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${SMOKE_NODE_PORT}/`, { signal: AbortSignal.timeout(3_000) });
        const body = await res.text();
        return { done: res.status === 200 && body.includes(pod), observed: `HTTP ${res.status}: ${body.trim()}`, value: body };
      },
      { description: `127.0.0.1:${SMOKE_NODE_PORT} answers from ${pod}`, timeoutMs: 60_000 },
    );
    expect(obs.value).toContain(`smoke-app ${pod}`);
  });

  it('removes a Pod whose readiness probe fails from the EndpointSlice, and restores it', async () => {
    const pod = await onlyPod('web');
    expect(readyPods(await serviceEndpoints(kube, ns, 'web'))).toEqual([pod]);
    const target = { namespace: ns, kind: 'pods' as const, name: pod, port: 8080 };
    try {
      expect((await proxyRequest(kube, target, '/ready/fail', { method: 'POST' })).status).toBe(200);
      await waitFor(
        async () => {
          const eps = await serviceEndpoints(kube, ns, 'web');
          return { done: !readyPods(eps).includes(pod), observed: describeEndpoints(eps) };
        },
        { description: `${pod} leaves the ready endpoints of Service web`, timeoutMs: 30_000, onProgress: log },
      );
      const pods = await listPods(kube, ns, 'app=web');
      expect(pods.find((p) => p.metadata?.name === pod)?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    } finally {
      await proxyRequest(kube, target, '/ready/ok', { method: 'POST' });
    }
    await waitFor(
      async () => {
        const eps = await serviceEndpoints(kube, ns, 'web');
        return { done: readyPods(eps).includes(pod), observed: describeEndpoints(eps) };
      },
      { description: `${pod} returns to the endpoints`, timeoutMs: 30_000 },
    );
  });

  it('reports the Pod CPU through the metrics API', async () => {
    const pod = await onlyPod('web');
    const obs = await waitFor(
      async () => {
        const m = (await kube.custom
          .getNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: ns, plural: 'pods', name: pod })
          .catch(() => undefined)) as { containers?: Array<{ usage?: { cpu?: string } }> } | undefined;
        const cpu = m?.containers?.[0]?.usage?.cpu;
        return { done: cpu !== undefined, observed: cpu ? `cpu ${cpu}` : 'no metrics for the pod yet', value: cpu };
      },
      { description: `the metrics API reports CPU for ${pod}`, timeoutMs: 120_000, onProgress: log },
    );
    expect(obs.value).toMatch(/^\d+(n|u|m)?$/);
  });

  it('scales a CPU-burning Deployment up with an HPA and back down after the load stops', async () => {
    await applyManifests(kube, [
      deployment('burner', { cpuLimit: '200m' }),
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'burner', namespace: ns },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'burner' },
          minReplicas: 1,
          maxReplicas: 3,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
        },
      },
    ]);
    const pod = await onlyPod('burner');
    const target = { namespace: ns, kind: 'pods' as const, name: pod, port: 8080 };
    const hpa = async () => kube.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'burner' });
    const hpaState = (h: Awaited<ReturnType<typeof hpa>>) =>
      `replicas ${h.status?.currentReplicas ?? '?'}→${h.status?.desiredReplicas ?? '?'}, CPU ${h.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization ?? '?'}%/50%`;
    try {
      // Bounded: the app stops burning by itself after 150s even if this test dies.
      expect((await proxyRequest(kube, target, '/burn?seconds=150', { method: 'POST' })).status).toBe(200);
      const up = await waitFor(
        async () => {
          const h = await hpa();
          return { done: (h.status?.desiredReplicas ?? 0) > 1, observed: hpaState(h), value: h.status?.desiredReplicas };
        },
        { description: 'HPA burner wants more than 1 replica', timeoutMs: 150_000, onProgress: log },
      );
      expect(up.value).toBeGreaterThan(1);
    } finally {
      for (const p of await listPods(kube, ns, 'app=burner')) {
        await proxyRequest(kube, { ...target, name: p.metadata?.name ?? '' }, '/burn/stop', { method: 'POST' }).catch(() => undefined);
      }
    }
    const down = await waitFor(
      async () => {
        const h = await hpa();
        return { done: h.status?.desiredReplicas === 1 && h.status?.currentReplicas === 1, observed: hpaState(h), value: h.status?.currentReplicas };
      },
      { description: 'HPA burner scales back down to 1 replica', timeoutMs: 180_000, onProgress: log },
    );
    expect(down.value).toBe(1);
  });
});
