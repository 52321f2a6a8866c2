// The live plan: apply the learner's specs, then follow the app's Pod through every stage a
// troubleshooter checks (created, scheduled, image pulled, container started, Ready, no restarts),
// then its Services (endpoints, target port, the Pi page on port 8020). A stage that fails names
// Kubernetes' reason in the learner's terms (src/kube/pod-problems.ts), and the stages after it
// are reported as not tested, with that reason.
import type * as k8s from '@kubernetes/client-node';
import { CheckFailed } from '../../engine/outcomes.js';
import type { LiveRun, Rejection } from '../../engine/lab.js';
import type { Manifest } from '../../kube/apply.js';
import { isNotFound } from '../../kube/client.js';
import { clusterRoom, podRequestMilli } from '../../kube/capacity.js';
import { collectDiagnostics } from '../../kube/diagnostics.js';
import { CONTAINER_DEFAULTS, QUOTA_HARD } from '../../kube/namespace.js';
import { selectorString } from '../../kube/pods.js';
import { cpuMilli } from '../../kube/quantity.js';
import { getPath, isRecord, type ManifestObject } from '../../submission/manifest.js';
import { findApp, servicePorts, type AppTarget, type ObjectData } from './app.js';
import { APP, type LiveCheckId } from './catalogue.js';
import { PodStages } from './pods.js';
import { serviceChecks } from './services.js';

type Run = LiveRun<LiveCheckId>;
type AnyRun = LiveRun<string>;

const fromManifest = (m: Manifest): ObjectData => ({
  kind: String(m.kind ?? ''),
  name: String(m.metadata?.name ?? ''),
  body: m as Record<string, unknown>,
});

export async function livePlan(run: Run): Promise<void> {
  const objects = run.manifests.map(fromManifest);
  const app = findApp(objects);
  const serviceNames = objects.filter((o) => o.kind === 'Service').map((o) => o.name);
  const podSelector = app ? selectorString(getPath(app.deployment.body, 'spec.selector') as k8s.V1LabelSelector | undefined) : undefined;
  run.diagnoseWith(() =>
    collectDiagnostics(run.kube, { namespace: run.namespace, ...(podSelector ? { podSelector } : {}), ...(app ? { deployment: app.deployment.name } : {}), services: serviceNames }),
  );

  const rejected: Rejection[] = [];
  await run.checks.run('submission.applies', async () => {
    rejected.push(...(await applySpecs(run, app)));
    if (rejected.length > 0) {
      throw new CheckFailed(`the API server rejected ${rejected.map((r) => `${r.kind} ${r.name}: ${r.message}`).join('; ')}`, rejected[0]?.location ? { location: rejected[0].location } : {});
    }
    return `the API server accepted all ${run.manifests.length} objects`;
  });
  if (run.checks.status('submission.applies') === 'error') {
    await run.checks.block(run.checks.pending(), 'error', 'not run: the grader could not apply the specs (see submission.applies)');
    return;
  }
  if (!app) {
    await run.checks.block(run.checks.pending(), 'failed', `not tested: no Deployment in the specs runs the Pi app (image ${APP.image})`, {
      hint: `Run the Pi app from a Deployment whose container image is ${APP.image}, as the lab's specs do.`,
    });
    return;
  }
  const appRejection = rejected.find((r) => r.kind === 'Deployment' && r.name === app.deployment.name);
  if (appRejection) {
    await run.checks.block(run.checks.pending(), 'failed', `not tested: the API server rejected the app's Deployment ${appRejection.name}: ${appRejection.message}`);
    return;
  }

  const pods = new PodStages(run, app);
  const ok = await pods.check();
  if (!ok) {
    await run.checks.block(run.checks.pending(), 'failed', `not tested: the app's Pod is not running and Ready (see ${pods.failedAt ?? 'the Pods checks'})`);
    return;
  }
  const services = objects.filter((o) => o.kind === 'Service' && !rejected.some((r) => r.kind === 'Service' && r.name === o.name));
  await serviceChecks(run, app, services, pods.readyPod as k8s.V1Pod);
}

/**
 * Applies the specs. The API server checks a nodePort's range only when a Service is really
 * created (a dry run accepts nodePort 8020), and policy turns NodePort Services into ClusterIP ones
 * so gradings side by side do not collide; so each Service the learner wrote with a fixed nodePort
 * is created as written, briefly, to hear the API server's verdict, then deleted.
 */
export async function applySpecs(run: AnyRun, app: AppTarget | undefined): Promise<Rejection[]> {
  const dry = await run.apply(undefined, { dryRun: true });
  const rejections = [...dry.rejections];
  for (const written of run.written) {
    if (written.kind !== 'Service' || !servicePorts(written).some((p) => p.nodePort !== undefined)) continue;
    if (rejections.some((r) => r.kind === 'Service' && r.name === written.name)) continue;
    const rejection = await nodePortVerdict(run, written);
    if (rejection) rejections.push(rejection);
  }
  const skip = new Set(rejections.filter((r) => r.kind === 'Service').map((r) => r.name));
  const toApply = run.manifests.filter((m) => !(m.kind === 'Service' && skip.has(String(m.metadata?.name))));
  const appRejected = rejections.some((r) => app && r.kind === 'Deployment' && r.name === app.deployment.name);
  const pods = appRejected || !app ? undefined : await roomNeeded(run, app);
  const applied = await run.apply(toApply, pods ? { pods } : {});
  for (const r of applied.rejections) if (!rejections.some((x) => x.kind === r.kind && x.name === r.name)) rejections.push(r);
  if (applied.waitedForRoomMs > 1_000) run.progress(`waited ${Math.round(applied.waitedForRoomMs / 1000)}s for room on the cluster`);
  return rejections;
}

async function nodePortVerdict(run: AnyRun, written: ManifestObject): Promise<Rejection | undefined> {
  const body = structuredClone(written.body) as Manifest;
  body.metadata = { ...(isRecord(body.metadata) ? body.metadata : {}), name: written.name, namespace: run.namespace };
  const rejection = (await run.apply([body])).rejections[0];
  if (rejection) {
    // The API server checks the range before the allocation: a port another Service holds (another
    // grading of this lab, or the learner's own copy on the cluster) is in range, and accepted here.
    if (/already allocated/i.test(rejection.message)) {
      run.progress(`Service ${written.name}: its nodePort is in range (another Service on the cluster holds it at the moment)`);
      return undefined;
    }
    return { ...rejection, location: written.locate('spec.ports') };
  }
  await run.api(`delete Service ${written.name} (created to check its nodePort)`, () =>
    run.kube.core.deleteNamespacedService({ namespace: run.namespace, name: written.name }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    }),
  );
  await run.wait(
    async () => {
      try {
        await run.kube.core.readNamespacedService({ namespace: run.namespace, name: written.name });
        return { done: false, observed: `Service ${written.name} still exists` };
      } catch (e) {
        if (isNotFound(e)) return { done: true, observed: `Service ${written.name} deleted` };
        throw e;
      }
    },
    { description: `the Service ${written.name} created to check its nodePort is deleted`, timeoutMs: 20_000, intervalsMs: [200, 500, 1000] },
  );
  return undefined;
}

/** Room to wait for before the Pods are created; none when they cannot fit anyway (that is the learner's to fix). */
async function roomNeeded(run: AnyRun, app: AppTarget): Promise<{ count: number; cpuMilli: number } | undefined> {
  const replicas = getPath(app.deployment.body, 'spec.replicas');
  const count = typeof replicas === 'number' ? replicas : 1;
  const spec = getPath(app.deployment.body, 'spec.template.spec') as k8s.V1PodSpec | undefined;
  const perPod = podRequestMilli(spec, cpuMilli(CONTAINER_DEFAULTS.defaultRequest.cpu) ?? 0);
  if (count <= 0 || perPod <= 0) return undefined;
  const quota = cpuMilli(QUOTA_HARD['requests.cpu']) ?? 0;
  const room = await run.api('read the nodes\' capacity', () => clusterRoom(run.kube));
  const largestNode = Math.max(0, ...room.nodes.map((n) => n.allocatableMilli - n.systemMilli));
  if (perPod > quota || perPod > largestNode) return undefined;
  return { count: Math.max(1, Math.min(count, Math.floor(quota / perPod))), cpuMilli: perPod };
}
