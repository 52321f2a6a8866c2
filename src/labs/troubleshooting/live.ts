// The live plan: apply the learner's specs, then follow the app's Pod through every stage a
// troubleshooter checks (created, scheduled, image pulled, container started, Ready, no restarts),
// then its Services (endpoints, target port, the Pi page on port 8020). A stage that fails names
// Kubernetes' reason in the learner's terms (src/kube/pod-problems.ts), and the stages after it
// are reported as not tested, with that reason.
import type * as k8s from '@kubernetes/client-node';
import { CheckFailed, CheckInconclusive } from '../../grade/outcomes.js';
import type { LiveRun, Rejection } from '../../engine/lab.js';
import type { Manifest } from '../../kube/apply.js';
import { isNotFound } from '../../kube/client.js';
import { clusterRoom, podRequestMilli } from '../../kube/capacity.js';
import { collectDiagnostics } from '../../kube/diagnostics.js';
import { serviceEndpoints } from '../../kube/endpoints.js';
import { proxyRequest } from '../../kube/http.js';
import { CONTAINER_DEFAULTS, QUOTA_HARD } from '../../kube/namespace.js';
import { explainFromCluster, FINAL_WAITING, type PodProblem } from '../../kube/pod-problems.js';
import { isPodReady, selectorString } from '../../kube/pods.js';
import { cpuMilli } from '../../kube/quantity.js';
import { getPath, isRecord, type ManifestObject } from '../../submission/manifest.js';
import { describeLabels, findApp, probeTiming, selectorMatches, servicePorts, type AppTarget, type ObjectData } from './app.js';
import { APP, type LiveCheckId } from './catalogue.js';

type Run = LiveRun<LiveCheckId>;
type AnyRun = LiveRun<string>;

const POD_CHECKS = ['pods.created', 'pods.scheduled', 'pods.image-pulls', 'pods.container-starts', 'pods.ready', 'pods.no-restarts'] as const satisfies readonly LiveCheckId[];
const SERVICE_CHECKS = ['service.selects-pods', 'service.target-port', 'service.answers'] as const satisfies readonly LiveCheckId[];

/** Bounds of the waits (ms). */
export const TIMING = {
  scheduledMs: 60_000,
  pullMs: 90_000,
  startMs: 60_000,
  /** A container must keep running this long before it counts as started (a process that exits at once does not). */
  runningForMs: 5_000,
  readyFloorMs: 30_000,
  readyCapMs: 150_000,
  /** Shortest and longest no-restart window after Ready. */
  windowFloorMs: 15_000,
  windowCapMs: 150_000,
  endpointsMs: 30_000,
  answerMs: 30_000,
} as const;

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

const ALLOCATED_RETRY_MS = [2_000, 3_000, 5_000, 5_000];

async function nodePortVerdict(run: AnyRun, written: ManifestObject): Promise<Rejection | undefined> {
  const body = structuredClone(written.body) as Manifest;
  body.metadata = { ...(isRecord(body.metadata) ? body.metadata : {}), name: written.name, namespace: run.namespace };
  for (const attempt of [0, ...ALLOCATED_RETRY_MS]) {
    if (attempt) await sleep(attempt, run.signal);
    const created = await run.apply([body]);
    const rejection = created.rejections[0];
    if (!rejection) {
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
    // Another grading holds the port for a moment: ask again.
    if (!/already allocated/i.test(rejection.message)) return { ...rejection, location: written.locate('spec.ports') };
  }
  throw new CheckInconclusive(`the nodePort of Service ${written.name} stayed allocated by another Service on the cluster, so the grader could not check it`);
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

interface PodsView {
  deployment: k8s.V1Deployment;
  pods: k8s.V1Pod[];
}

/** The Pods checks, in the order a troubleshooter looks: each stage waits for its milestone or a final problem. */
class PodStages {
  failedAt: LiveCheckId | undefined;
  readyPod: k8s.V1Pod | undefined;
  private readonly name: string;
  private readonly containerName: string;
  private selector = '';

  constructor(
    private readonly run: Run,
    private readonly app: AppTarget,
  ) {
    this.name = app.deployment.name;
    this.containerName = typeof app.container.name === 'string' ? app.container.name : '';
  }

  async check(): Promise<boolean> {
    const stages: Array<[LiveCheckId, () => Promise<string>]> = [
      ['pods.created', () => this.created()],
      ['pods.scheduled', () => this.scheduled()],
      ['pods.image-pulls', () => this.imagePulls()],
      ['pods.container-starts', () => this.containerStarts()],
      ['pods.ready', () => this.ready()],
      ['pods.no-restarts', () => this.noRestarts()],
    ];
    for (const [id, body] of stages) {
      const status = await this.run.checks.run(id, body);
      if (status !== 'passed') {
        this.failedAt = id;
        const rest = POD_CHECKS.slice(POD_CHECKS.indexOf(id as (typeof POD_CHECKS)[number]) + 1);
        if (status === 'error') await this.run.checks.block([...rest, ...SERVICE_CHECKS], 'error', `not run: the grader could not decide ${id}`);
        return false;
      }
    }
    return true;
  }

  private async view(): Promise<PodsView> {
    const deployment = await this.run.api(`read Deployment ${this.name}`, () => this.run.kube.apps.readNamespacedDeployment({ namespace: this.run.namespace, name: this.name }));
    this.selector = selectorString(deployment.spec?.selector);
    const list = await this.run.api('list the app\'s Pods', () => this.run.kube.core.listNamespacedPod({ namespace: this.run.namespace, labelSelector: this.selector }));
    return { deployment, pods: list.items.filter((p) => !p.metadata?.deletionTimestamp) };
  }

  private status(pod: k8s.V1Pod): k8s.V1ContainerStatus | undefined {
    const all = pod.status?.containerStatuses ?? [];
    return all.find((c) => c.name === this.containerName) ?? all[0];
  }

  private async explain(pods: readonly k8s.V1Pod[], deployment?: k8s.V1Deployment): Promise<PodProblem | undefined> {
    const replicaFailure = deployment?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True')?.message;
    return this.run.api('read why the Pods cannot run', () =>
      explainFromCluster(this.run.kube, this.run.namespace, pods, {
        container: this.containerName,
        hints: { image: APP.image, healthPath: '/' },
        includeReadiness: true,
        ...(replicaFailure ? { replicaFailure } : {}),
      }),
    );
  }

  private fail(problem: PodProblem, extra = ''): CheckFailed {
    return new CheckFailed(`${problem.message}${extra}`, { hint: problem.hint, diagnostics: true });
  }

  private async created(): Promise<string> {
    const { deployment } = await this.view();
    const replicas = deployment.spec?.replicas ?? 1;
    if (replicas < 1) {
      throw new CheckFailed(`the Deployment ${this.name} asks for ${replicas} replicas, so no Pod runs`, {
        ...(this.run.locate('Deployment', this.name, 'spec.replicas') ? { location: this.run.locate('Deployment', this.name, 'spec.replicas') } : {}),
      });
    }
    return `the Deployment ${this.name} asks for ${replicas} replica${replicas === 1 ? '' : 's'}`;
  }

  private async scheduled(): Promise<string> {
    const resources = this.resourcesInWords();
    const largestNode = await this.largestNodeMilli();
    const seen = await this.run.wait(
      async () => {
        const { deployment, pods } = await this.view();
        const placed = pods.find((p) => p.spec?.nodeName);
        if (placed) return { done: true, observed: `Pod ${placed.metadata?.name} scheduled to node ${placed.spec?.nodeName}`, value: placed };
        const problem = await this.explain(pods, deployment);
        if (problem?.reason === 'FailedCreate') throw this.fail(problem, `; ${resources}`);
        if (problem?.reason === 'Unschedulable') {
          const tooBig = largestNode !== undefined && this.requestMilli() > largestNode;
          if (problem.final || tooBig) throw this.fail(problem, `; ${resources}${tooBig ? `, more than a node can give (${largestNode}m CPU)` : ''}`);
        }
        return { done: false, observed: pods.length ? `${pods.length} Pod(s), none scheduled${problem ? `: ${problem.message}` : ''}` : 'no Pod yet' };
      },
      { description: `a Pod of Deployment ${this.name} is created and scheduled`, timeoutMs: TIMING.scheduledMs, intervalsMs: [500, 1000, 2000], isFatal: (e) => e instanceof CheckFailed },
    );
    return `${seen.observed} (${resources})`;
  }

  private async imagePulls(): Promise<string> {
    const seen = await this.run.wait(
      async () => {
        const { pods } = await this.view();
        for (const pod of pods) {
          const cs = this.status(pod);
          if (cs?.imageID || cs?.state?.running || cs?.state?.terminated || cs?.lastState?.terminated) {
            return { done: true, observed: `the image ${cs.image} of Pod ${pod.metadata?.name} was pulled` };
          }
        }
        const waiting = pods.map((p) => this.status(p)?.state?.waiting).find((w) => w?.reason && /Image/.test(w.reason));
        const final = waiting && (waiting.reason !== 'ErrImagePull' || /not found|pull access denied|unauthorized|manifest unknown|does not exist/i.test(waiting.message ?? ''));
        if (final) {
          const problem = await this.explain(pods);
          if (problem) throw this.fail(problem);
        }
        return { done: false, observed: waiting ? `the image is not pulled: ${waiting.reason}` : 'the image is being pulled' };
      },
      { description: `the image of Deployment ${this.name} is pulled`, timeoutMs: TIMING.pullMs, intervalsMs: [500, 1000, 2000], isFatal: (e) => e instanceof CheckFailed },
    );
    return seen.observed;
  }

  private async containerStarts(): Promise<string> {
    const command = JSON.stringify(this.app.container.command ?? '(the image\'s)');
    const seen = await this.run.wait(
      async () => {
        const { pods } = await this.view();
        for (const pod of pods) {
          const cs = this.status(pod);
          const since = cs?.state?.running?.startedAt ? Date.now() - new Date(cs.state.running.startedAt).getTime() : -1;
          if (isPodReady(pod) || since >= TIMING.runningForMs) return { done: true, observed: `the container ${cs?.name} of Pod ${pod.metadata?.name} is running` };
          const startError = cs?.lastState?.terminated?.reason === 'StartError' || cs?.state?.terminated?.reason === 'StartError' || ['RunContainerError', 'CreateContainerError', 'CreateContainerConfigError'].includes(cs?.state?.waiting?.reason ?? '');
          if (startError) throw this.commandFailure(pod, cs as k8s.V1ContainerStatus, command);
          if ((cs?.restartCount ?? 0) > 0 && !cs?.state?.running) {
            const problem = await this.explain([pod]);
            // A liveness probe that kills the container is pods.ready's and pods.no-restarts' business.
            if (problem && problem.reason !== 'Unhealthy') throw this.fail(problem);
          }
        }
        return { done: false, observed: pods.map((p) => this.describe(p)).join('; ') || 'no Pod' };
      },
      { description: `the container of Deployment ${this.name} starts and keeps running`, timeoutMs: TIMING.startMs, intervalsMs: [500, 1000, 2000], isFatal: (e) => e instanceof CheckFailed },
    );
    return seen.observed;
  }

  /** The container runtime could not run the command (RunContainerError / StartError): name the command. */
  private commandFailure(pod: k8s.V1Pod, cs: k8s.V1ContainerStatus, command: string): CheckFailed {
    const raw = cs.lastState?.terminated?.message ?? cs.state?.terminated?.message ?? cs.state?.waiting?.message ?? '';
    const exe = /exec: "([^"]+)": (executable file not found in \$PATH|no such file or directory|permission denied)/.exec(raw);
    const words = exe ? `the executable "${exe[1]}" of its command ${command} ${exe[2] === 'permission denied' ? 'cannot be run (permission denied)' : 'is not in the image'}` : `its command ${command} cannot be run`;
    const location = this.run.locate('Deployment', this.name, `spec.template.spec.containers.${this.app.containerIndex}.command`);
    return new CheckFailed(
      `the container ${cs.name} of Pod ${pod.metadata?.name} cannot start: ${words}${cs.restartCount ? `; tried ${cs.restartCount + 1} times` : ''} (kubelet: "${raw.replace(/\s+/g, ' ').trim().slice(0, 300)}")`,
      { hint: 'Fix the container\'s command: the Pi app runs as `dotnet Pi.Web.dll -m web`.', diagnostics: true, ...(location ? { location } : {}) },
    );
  }

  private async ready(): Promise<string> {
    const readiness = probeTiming(this.app.container.readinessProbe);
    const bound = readiness ? 20_000 + (readiness.initialDelaySeconds + 2 * readiness.periodSeconds) * 1000 : 0;
    const timeoutMs = Math.min(TIMING.readyCapMs, Math.max(TIMING.readyFloorMs, bound));
    let last: PodsView | undefined;
    try {
      const seen = await this.run.wait(
        async () => {
          last = await this.view();
          const ready = last.pods.find(isPodReady);
          if (ready) {
            this.readyPod = ready;
            return { done: true, observed: `Pod ${ready.metadata?.name} is Ready` };
          }
          const crashing = last.pods.some((p) => FINAL_WAITING.has(this.status(p)?.state?.waiting?.reason ?? ''));
          if (crashing) {
            const problem = await this.explain(last.pods);
            if (problem) throw this.fail(problem);
          }
          return { done: false, observed: last.pods.map((p) => this.describe(p)).join('; ') || 'no Pod' };
        },
        { description: `a Pod of Deployment ${this.name} becomes Ready`, timeoutMs, intervalsMs: [500, 1000, 2000], isFatal: (e) => e instanceof CheckFailed },
      );
      return seen.observed;
    } catch (error) {
      if (error instanceof CheckFailed || !last) throw error;
      const problem = await this.explain(last.pods);
      if (problem) throw this.fail(problem, ` (waited ${Math.round(timeoutMs / 1000)}s)`);
      throw error;
    }
  }

  /**
   * The Ready Pod stays Ready with no restarts for a window that covers a failing liveness probe:
   * until the probe would have killed the container ((failureThreshold + 1) periods after its
   * initial delay from the container's start), and at least two liveness periods after Ready.
   */
  private async noRestarts(): Promise<string> {
    const pod = this.readyPod as k8s.V1Pod;
    const podName = pod.metadata?.name ?? '?';
    const uid = pod.metadata?.uid;
    const readyAt = Date.now();
    const liveness = probeTiming(this.app.container.livenessProbe);
    const startedAt = this.status(pod)?.state?.running?.startedAt ? new Date(this.status(pod)?.state?.running?.startedAt as Date).getTime() : readyAt;
    let windowEnd = readyAt + TIMING.windowFloorMs;
    let basis = `${TIMING.windowFloorMs / 1000}s`;
    if (liveness) {
      const kill = startedAt + (liveness.initialDelaySeconds + (liveness.failureThreshold + 1) * liveness.periodSeconds) * 1000;
      windowEnd = Math.max(windowEnd, readyAt + 2 * liveness.periodSeconds * 1000, kill);
      basis = `two liveness periods of ${liveness.periodSeconds}s after Ready, and until a failing liveness probe (failureThreshold ${liveness.failureThreshold}, initialDelaySeconds ${liveness.initialDelaySeconds}) would have restarted the container`;
    }
    const capped = windowEnd - readyAt > TIMING.windowCapMs;
    if (capped) windowEnd = readyAt + TIMING.windowCapMs;
    const windowS = Math.round((windowEnd - readyAt) / 1000);
    const window = `${windowS}s after it became Ready (${basis}${capped ? `, capped at ${TIMING.windowCapMs / 1000}s` : ''})`;
    const restartsBefore = this.status(pod)?.restartCount ?? 0;
    if (restartsBefore > 0) {
      const problem = await this.explain([pod]);
      throw new CheckFailed(`Pod ${podName} was restarted ${restartsBefore} time(s) before it became Ready${problem ? `: ${problem.message}` : ''}`, { ...(problem ? { hint: problem.hint } : {}), diagnostics: true });
    }
    await this.run.wait(
      async () => {
        const now = await this.run.api(`read Pod ${podName}`, () => this.run.kube.core.readNamespacedPod({ namespace: this.run.namespace, name: podName }));
        const restarts = this.status(now)?.restartCount ?? 0;
        if (now.metadata?.uid !== uid || now.metadata?.deletionTimestamp) throw new CheckFailed(`Pod ${podName} was replaced within the window of ${window}`, { diagnostics: true });
        if (restarts > 0 || !isPodReady(now)) {
          const problem = await this.explain([now]);
          const what = restarts > 0 ? `its container was restarted ${restarts} time(s)` : 'it stopped being Ready';
          throw new CheckFailed(`Pod ${podName} did not stay healthy for ${window}: ${what}${problem ? `: ${problem.message}` : ''}`, { ...(problem ? { hint: problem.hint } : {}), diagnostics: true });
        }
        const left = windowEnd - Date.now();
        return { done: left <= 0, observed: `Pod ${podName} Ready, no restarts, ${Math.max(0, Math.round(left / 1000))}s of the window left` };
      },
      { description: `Pod ${podName} stays Ready with no restarts for ${window}`, timeoutMs: windowEnd - Date.now() + 30_000, intervalsMs: [2000], isFatal: (e) => e instanceof CheckFailed },
    );
    return `Pod ${podName} stayed Ready with no restarts for ${window}`;
  }

  private describe(p: k8s.V1Pod): string {
    const cs = this.status(p);
    const state = cs?.state?.running ? 'running' : cs?.state?.waiting ? `waiting: ${cs.state.waiting.reason ?? ''}` : cs?.state?.terminated ? `terminated: ${cs.state.terminated.reason ?? ''}` : p.status?.phase ?? '?';
    return `${p.metadata?.name}: ${isPodReady(p) ? 'Ready' : 'not Ready'}, ${state}, restarts ${cs?.restartCount ?? 0}`;
  }

  private requestMilli(): number {
    return podRequestMilli(getPath(this.app.deployment.body, 'spec.template.spec') as k8s.V1PodSpec | undefined, cpuMilli(CONTAINER_DEFAULTS.defaultRequest.cpu) ?? 0);
  }

  private async largestNodeMilli(): Promise<number | undefined> {
    try {
      const room = await clusterRoom(this.run.kube);
      return Math.max(0, ...room.nodes.map((n) => n.allocatableMilli - n.systemMilli));
    } catch {
      return undefined;
    }
  }

  /** "the container asks for cpu 32, memory 128Gi (requests default to the limits when not set)" */
  private resourcesInWords(): string {
    const r = this.app.container.resources;
    const requests = isRecord(r) && isRecord(r.requests) ? r.requests : {};
    const limits = isRecord(r) && isRecord(r.limits) ? r.limits : {};
    const part = (res: 'cpu' | 'memory'): string => {
      if (requests[res] !== undefined) return `${res} ${String(requests[res])}`;
      if (limits[res] !== undefined) return `${res} ${String(limits[res])} (its limit: requests default to the limits when not set)`;
      return `${res} ${CONTAINER_DEFAULTS.defaultRequest[res]} (the namespace's default)`;
    };
    return `the container asks for ${part('cpu')} and ${part('memory')}`;
  }
}

async function serviceChecks(run: Run, app: AppTarget, services: readonly ObjectData[], pod: k8s.V1Pod): Promise<void> {
  const podName = pod.metadata?.name ?? '?';
  // The template's labels, as the learner wrote them (without the pod-template-hash Kubernetes adds).
  const podLabels = Object.fromEntries(Object.entries(pod.metadata?.labels ?? {}).filter(([k]) => k !== 'pod-template-hash'));
  if (services.length === 0) {
    await run.checks.block([...SERVICE_CHECKS], 'failed', 'not tested: the specs create no Service for the app', { hint: `Expose the app with a Service on port ${APP.servicePort} (NodePort ${APP.nodePort}), as the lab's specs do.` });
    return;
  }
  const withEndpoints: ObjectData[] = [];
  await run.checks.run('service.selects-pods', async () => {
    const missing: string[] = [];
    for (const svc of services) {
      const selector = getPath(svc.body, 'spec.selector');
      if (!selectorMatches(selector, podLabels)) {
        missing.push(`Service ${svc.name} selects ${describeLabels(selector)}, but the app's Pods are labelled ${describeLabels(podLabels)}: it has no endpoints`);
        continue;
      }
      try {
        await run.wait(
          async () => {
            const eps = await serviceEndpoints(run.kube, run.namespace, svc.name);
            const ready = eps.filter((e) => e.ready && e.pod === podName);
            return { done: ready.length > 0, observed: eps.length ? eps.map((e) => `${e.pod ?? e.address}${e.ready ? '' : ' (not ready)'}`).join(', ') : 'no endpoints' };
          },
          { description: `Service ${svc.name} lists Pod ${podName} as a ready endpoint`, timeoutMs: TIMING.endpointsMs, intervalsMs: [500, 1000] },
        );
        withEndpoints.push(svc);
      } catch (error) {
        missing.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (missing.length > 0) {
      const first = services.find((s) => !withEndpoints.includes(s));
      const location = first ? run.locate('Service', first.name, 'spec.selector') : undefined;
      throw new CheckFailed(missing.join('; '), { diagnostics: true, ...(location ? { location } : {}) });
    }
    return `${services.map((s) => `Service ${s.name}`).join(' and ')} list${services.length === 1 ? 's' : ''} Pod ${podName} as a ready endpoint`;
  });

  if (withEndpoints.length === 0) {
    await run.checks.block(['service.target-port', 'service.answers'], 'failed', 'not tested: no Service selects the app\'s Pods (see service.selects-pods)');
    return;
  }
  await run.checks.run('service.target-port', async () => {
    const problems: string[] = [];
    const fine: string[] = [];
    let location: ReturnType<Run['locate']>;
    for (const svc of withEndpoints) {
      const slices = await run.api(`list the EndpointSlices of Service ${svc.name}`, () =>
        run.kube.discovery.listNamespacedEndpointSlice({ namespace: run.namespace, labelSelector: `kubernetes.io/service-name=${svc.name}` }),
      );
      for (const port of servicePorts(svc)) {
        const target = port.targetPort ?? port.port;
        const resolved = slices.items.flatMap((s) => (s.endpoints ?? []).some((e) => e.targetRef?.name === podName) ? (s.ports ?? []) : []).find((p) => (p.name ?? '') === (port.name ?? ''));
        if (resolved?.port === undefined) {
          problems.push(`Service ${svc.name} port ${port.port}: targetPort ${JSON.stringify(target)} names no port of the app's container, so the Service has nowhere to send traffic (container ports: ${describeContainerPorts(pod, app)})`);
          location ??= run.locate('Service', svc.name, `spec.ports.${port.index}.targetPort`);
          continue;
        }
        const answer = await run.api(`GET / on port ${resolved.port} of Pod ${podName}`, () =>
          proxyRequest(run.kube, { namespace: run.namespace, kind: 'pods', name: podName, port: resolved.port as number }, '/', { timeoutMs: 10_000, signal: run.signal }),
        );
        if (answer.fromApiServer) {
          problems.push(`Service ${svc.name} port ${port.port} sends traffic to port ${resolved.port} of the Pods (targetPort ${JSON.stringify(target)}), where the app does not answer (${firstLine(answer.body)}); the app listens on port ${listeningPort(app)}`);
          location ??= run.locate('Service', svc.name, `spec.ports.${port.index}.targetPort`);
        } else {
          fine.push(`Service ${svc.name} port ${port.port} → Pod port ${resolved.port}`);
        }
      }
    }
    if (problems.length > 0) throw new CheckFailed(problems.join('; '), { diagnostics: true, ...(location ? { location } : {}) });
    return `${fine.join(', ')}: the app answers there`;
  });

  await run.checks.run('service.answers', async () => {
    const on8020 = withEndpoints.filter((s) => servicePorts(s).some((p) => p.port === APP.servicePort));
    if (on8020.length === 0) {
      const location = run.locate('Service', services[0]?.name ?? '', 'spec.ports');
      throw new CheckFailed(`no Service that selects the app's Pods listens on port ${APP.servicePort} (${services.map((s) => `${s.name}: ${servicePorts(s).map((p) => p.port).join(', ')}`).join('; ')})`, location ? { location } : {});
    }
    const answered: string[] = [];
    // A Service already known to send its traffic nowhere gets a short wait only.
    const quick = run.checks.status('service.target-port') === 'failed';
    for (const svc of on8020) {
      let last = '';
      try {
        await run.wait(
          async (signal) => {
            const r = await proxyRequest(run.kube, { namespace: run.namespace, kind: 'services', name: svc.name, port: APP.servicePort }, '/', { timeoutMs: 10_000, signal });
            last = r.fromApiServer ? `the API server answered ${r.status}: ${firstLine(r.body)}` : `HTTP ${r.status}${isPiPage(r.body) ? ', the Pi page' : `: ${firstLine(r.body) || '(empty body)'}`}`;
            return { done: !r.fromApiServer && r.status === 200 && isPiPage(r.body), observed: last };
          },
          { description: `the Pi page answers through Service ${svc.name} on port ${APP.servicePort}`, timeoutMs: quick ? 5_000 : TIMING.answerMs, intervalsMs: [500, 1000, 2000] },
        );
        answered.push(svc.name);
      } catch (error) {
        throw new CheckFailed(`GET / through Service ${svc.name} on port ${APP.servicePort} did not return the Pi page: ${last || (error instanceof Error ? error.message : String(error))}`, { diagnostics: true });
      }
    }
    return `GET / through ${answered.map((s) => `Service ${s}`).join(' and ')} on port ${APP.servicePort} returns the Pi page (pi to 6 decimal places: 3.141592)`;
  });
}

/** The Pi app's page: "To: 6 d.p." and the value truncated to 6 decimals. */
export function isPiPage(body: string): boolean {
  return /To:\s*6\s*d\.p\./.test(body) && body.includes('3.141592');
}

function listeningPort(app: AppTarget): string {
  const env = Array.isArray(app.container.env) ? app.container.env : [];
  const urls = env.find((e) => isRecord(e) && e.name === 'ASPNETCORE_URLS');
  return isRecord(urls) && typeof urls.value === 'string' ? `of ASPNETCORE_URLS (${urls.value})` : String(APP.defaultPort);
}

function describeContainerPorts(pod: k8s.V1Pod, app: AppTarget): string {
  const c = pod.spec?.containers.find((x) => x.name === app.container.name) ?? pod.spec?.containers[0];
  const ports = c?.ports ?? [];
  return ports.length ? ports.map((p) => (p.name ? `${p.name}=${p.containerPort}` : String(p.containerPort))).join(', ') : 'none';
}

function firstLine(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed.message) return parsed.message;
  } catch {
    // not JSON
  }
  return text.split('\n')[0]?.trim().slice(0, 200) ?? '';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

