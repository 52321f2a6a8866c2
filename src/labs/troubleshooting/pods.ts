// The Pods checks, in the order a troubleshooter looks: created, scheduled, image pulled, container
// started, Ready, and no restarts over a window that covers the liveness probe. Each stage waits for
// its milestone or a final problem, explained in the learner's terms by src/kube/pod-problems.ts.
import type * as k8s from '@kubernetes/client-node';
import { CheckFailed } from '../../engine/outcomes.js';
import type { LiveRun } from '../../engine/lab.js';
import { clusterRoom, podRequestMilli } from '../../kube/capacity.js';
import { CONTAINER_DEFAULTS } from '../../kube/namespace.js';
import { explainFromCluster, FINAL_WAITING, type PodProblem } from '../../kube/pod-problems.js';
import { isPodReady, selectorString } from '../../kube/pods.js';
import { cpuMilli } from '../../kube/quantity.js';
import { getPath, isRecord } from '../../submission/manifest.js';
import { probeTiming, type AppTarget } from './app.js';
import { APP, POD_CHECKS, SERVICE_CHECKS, TIMING, type LiveCheckId } from './catalogue.js';

type Run = LiveRun<LiveCheckId>;

interface PodsView {
  deployment: k8s.V1Deployment;
  pods: k8s.V1Pod[];
}

/** The Pods checks, in the order a troubleshooter looks: each stage waits for its milestone or a final problem. */
export class PodStages {
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
