// The selfcheck walkthrough's steps (catalogue in selfcheck.ts): the published specs, each fault
// of the lab alone, and the fixed specs, on the live cluster.
import type * as k8s from '@kubernetes/client-node';
import { CheckFailed } from '../../engine/outcomes.js';
import type { LiveRun } from '../../engine/lab.js';
import type { Manifest } from '../../kube/apply.js';
import { proxyRequest } from '../../kube/http.js';
import { explainPods, readPodRecord } from '../../kube/pod-problems.js';
import { isPodReady } from '../../kube/pods.js';
import { findApp, type ObjectData } from './app.js';
import { APP } from './catalogue.js';
import { applySpecs } from './live.js';
import type { WalkthroughId } from './selfcheck.js';
import { isPiPage } from './services.js';

type Run = LiveRun<WalkthroughId>;

/** The fixes the lab asks for, applied to its published objects (after policy). */
export function fixSpecs(manifests: readonly Manifest[], opts: { fault?: Fault; suffix?: string } = {}): Manifest[] {
  const out: Manifest[] = [];
  for (const m of manifests) {
    const body = structuredClone(m) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- plain YAML data edited in place
    const label = `pi-web${opts.suffix ?? ''}`;
    if (body.kind === 'Deployment') {
      body.metadata.name = label;
      body.spec.replicas = opts.fault === 'replicas' ? 0 : 1;
      body.spec.selector = { matchLabels: { app: label } };
      body.spec.template.metadata.labels = { app: label };
      const c = body.spec.template.spec.containers[0];
      c.image = opts.fault === 'image' ? 'kiamol/ch05-pi-app' : APP.image;
      c.command = [opts.fault === 'command' ? 'donet' : 'dotnet', 'Pi.Web.dll', '-m', 'web'];
      c.resources = opts.fault === 'resources' ? { limits: { cpu: '32', memory: '128Gi' } } : { requests: { cpu: '25m', memory: '64Mi' }, limits: { cpu: '250m', memory: '128Mi' } };
      c.readinessProbe = { tcpSocket: { port: opts.fault === 'readiness' ? 8020 : 'http' }, periodSeconds: 5 };
      c.livenessProbe = opts.fault === 'liveness' ? { httpGet: { path: '/healthy', port: 80 }, periodSeconds: 5, failureThreshold: 1 } : { httpGet: { path: '/', port: 'http' }, periodSeconds: 5, failureThreshold: 1 };
    } else if (body.kind === 'Service') {
      if (opts.suffix) continue;
      body.spec.selector = { app: label };
      for (const p of body.spec.ports) p.targetPort = 'http';
    }
    out.push(body as Manifest);
  }
  return out;
}

export type Fault = 'replicas' | 'image' | 'command' | 'resources' | 'readiness' | 'liveness';

/** What each fault must look like: Kubernetes' reason as the grader explains it. */
const EXPECTED: Readonly<Record<Exclude<Fault, 'replicas'>, RegExp>> = {
  image: /image "kiamol\/ch05-pi-app".*cannot be pulled/,
  command: /"donet"|exit code 128|StartError/,
  resources: /exceeded quota|resource quota|Insufficient cpu/,
  readiness: /readiness probe .*tcpSocket on port 8020.*connection refused/,
  liveness: /liveness probe .*\/healthy.*HTTP 404/,
};

const FAULT_WAIT_MS = 60_000;

export async function walkthrough(run: Run): Promise<void> {
    await run.checks.run('walkthrough.published-specs-rejected', async () => {
    const deployment = findApp(run.manifests.map(asObject));
    const rejected = await applySpecs(run as LiveRun<string>, deployment);
    const selector = rejected.find((r) => r.kind === 'Deployment' && /selector/i.test(r.message));
    const nodePort = rejected.find((r) => r.kind === 'Service' && r.name === 'pi-np' && /valid range/i.test(r.message));
    if (!selector || !nodePort) throw new CheckFailed(`expected the Deployment's selector and pi-np's nodePort to be rejected; the API server rejected: ${rejected.map((r) => `${r.kind} ${r.name}: ${r.message}`).join('; ') || 'nothing'}`);
    return `rejected as the lab intends: Deployment ${selector.name} (${selector.message}); Service pi-np (${nodePort.message})`;
  });

  const faults: Array<Exclude<Fault, 'replicas'>> = ['image', 'command', 'resources', 'readiness', 'liveness'];
  const fixed = fixSpecs(run.manifests);
  const variants = faults.flatMap((f) => fixSpecs(run.manifests, { fault: f, suffix: `-${f}` }));
  const zero = fixSpecs(run.manifests, { fault: 'replicas', suffix: '-replicas' });
  const applied = await run.apply([...fixed, ...variants, ...zero], { pods: { count: 1 + faults.length, cpuMilli: 25 } });
  if (applied.rejections.length > 0) throw new Error(`the fixed specs were rejected: ${applied.rejections.map((r) => `${r.kind} ${r.name}: ${r.message}`).join('; ')}`);

  await run.checks.run('walkthrough.fixed-specs-run', async () => {
    const pod = await waitPod(run, 'pi-web', isPodReady, 'is Ready', 60_000);
    const uid = pod.metadata?.uid;
    const until = Date.now() + 15_000; // three liveness periods of 5s
    await run.wait(
      async () => {
        const [now] = (await run.kube.core.listNamespacedPod({ namespace: run.namespace, labelSelector: 'app=pi-web' })).items;
        if (!now || now.metadata?.uid !== uid || (now.status?.containerStatuses?.[0]?.restartCount ?? 0) > 0 || !isPodReady(now)) {
          throw new CheckFailed(`the fixed Pod did not stay Ready with no restarts: ${now ? JSON.stringify(now.status?.containerStatuses?.[0]?.state) : 'gone'}`);
        }
        return { done: Date.now() >= until, observed: 'Ready, no restarts' };
      },
      { description: 'the fixed Pod stays Ready with no restarts for 15s', timeoutMs: 45_000, intervalsMs: [2000], isFatal: (e) => e instanceof CheckFailed },
    );
    for (const svc of ['pi-np', 'pi-lb']) {
      await run.wait(
        async (signal) => {
          const r = await proxyRequest(run.kube, { namespace: run.namespace, kind: 'services', name: svc, port: APP.servicePort }, '/', { timeoutMs: 10_000, signal });
          return { done: r.status === 200 && !r.fromApiServer && isPiPage(r.body), observed: `HTTP ${r.status}: ${r.body.slice(0, 80)}` };
        },
        { description: `the Pi page answers through Service ${svc} on port ${APP.servicePort}`, timeoutMs: 30_000, intervalsMs: [500, 1000, 2000] },
      );
    }
    return `Pod ${pod.metadata?.name} Ready with no restarts for 15s; the Pi page answers through pi-np and pi-lb on port ${APP.servicePort}`;
  });

  await run.checks.run('walkthrough.each-fault-fails', async () => {
    const found: string[] = [];
    const problems: string[] = [];
    const deployments = await run.kube.apps.listNamespacedDeployment({ namespace: run.namespace });
    const zeroPods = await run.kube.core.listNamespacedPod({ namespace: run.namespace, labelSelector: 'app=pi-web-replicas' });
    if (deployments.items.some((d) => d.metadata?.name === 'pi-web-replicas' && d.spec?.replicas === 0) && zeroPods.items.length === 0) found.push('replicas: 0 → no Pod');
    else problems.push('replicas: 0 should run no Pod');
    await Promise.all(
      faults.map(async (fault) => {
        try {
          const seen = await run.wait(
            async () => {
              const pods = (await run.kube.core.listNamespacedPod({ namespace: run.namespace, labelSelector: `app=pi-web-${fault}` })).items;
              const replicaFailure = (await run.kube.apps.readNamespacedDeployment({ namespace: run.namespace, name: `pi-web-${fault}` })).status?.conditions?.find((c) => c.type === 'ReplicaFailure')?.message;
              // Only this variant's events: the others' (another ReplicaSet's FailedCreate) are not its reason.
              const record = await readPodRecord(run.kube, run.namespace, pods, replicaFailure ? { replicaFailure } : {});
              const events = record.events.filter((e) => (e.involvedObject?.name ?? '').startsWith(`pi-web-${fault}-`));
              const problem = explainPods({ ...record, events }, { includeReadiness: true });
              const text = `${problem?.message ?? ''} ${rawReason(pods)}`.trim();
              return { done: EXPECTED[fault].test(text), observed: text || 'no problem yet' };
            },
            { description: `the ${fault} fault stops the app for its reason`, timeoutMs: FAULT_WAIT_MS, intervalsMs: [1000, 2000] },
          );
          found.push(`${fault} → ${seen.observed.slice(0, 160)}`);
        } catch (error) {
          problems.push(`${fault}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );
    if (problems.length > 0) throw new CheckFailed(problems.join('; '));
    return found.join('; ');
  });
}

function asObject(m: Manifest): ObjectData {
  return { kind: String(m.kind ?? ''), name: String(m.metadata?.name ?? ''), body: m as Record<string, unknown> };
}

/** The container's own waiting/terminated reason and message, for faults pod-problems words generally. */
function rawReason(pods: readonly k8s.V1Pod[]): string {
  const cs = pods[0]?.status?.containerStatuses?.[0];
  return [cs?.state?.waiting?.reason, cs?.lastState?.terminated?.reason, cs?.lastState?.terminated?.message].filter(Boolean).join(' ');
}

async function waitPod(run: Run, app: string, ok: (p: k8s.V1Pod) => boolean, what: string, timeoutMs: number): Promise<k8s.V1Pod> {
  const seen = await run.wait(
    async () => {
      const pods = (await run.kube.core.listNamespacedPod({ namespace: run.namespace, labelSelector: `app=${app}` })).items;
      const pod = pods.find(ok);
      return { done: pod !== undefined, observed: pods.map((p) => `${p.metadata?.name}: ${isPodReady(p) ? 'Ready' : p.status?.phase}`).join(', ') || 'no Pod', ...(pod ? { value: pod } : {}) };
    },
    { description: `a Pod of ${app} ${what}`, timeoutMs, intervalsMs: [500, 1000, 2000] },
  );
  return seen.value as k8s.V1Pod;
}
