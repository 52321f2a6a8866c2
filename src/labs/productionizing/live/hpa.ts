// hpa.*: the HPA that targets the app's Deployment reads CPU metrics, adds Pods under real CPU
// load, removes them after the load stops, and undoes a manual scale-down. With the grading
// profile (HPA sync 5s, downscale stabilization 30s, metric resolution 10s) the group takes about
// two minutes: ~20s to scale up, ~50s to scale back down, a few seconds for the manual scale.
import { describeCondition, describeHpa, hpaView, metricsFlow, permanentMetricProblem, type HpaView } from '../../../kube/hpa-status.js';
import type { ProductionizingId } from '../catalogue.js';
import { cpuRequestDefaulted, CONTAINER_DEFAULTS } from '../../../kube/namespace.js';
import type * as k8s from '@kubernetes/client-node';
import { isPodReady } from '../../../kube/pods.js';
import { scaleDeployment } from '../../../kube/scale.js';
import { CpuLoad, cpuMilli, describeStops, planBurn } from '../../../faults/cpu-load.js';
import { CheckFailed, CheckInconclusive } from '../../../engine/outcomes.js';
import type { LiveCheckRecorder } from '../../../engine/lab.js';
import { appContainerSpec, appContainerStatus, type ScenarioContext } from './context.js';
import { appHpas } from './replicas.js';
import { errorText } from '../../../util/error-text.js';

export const HPA_CHECKS = ['hpa.metrics-flow', 'hpa.scales-up', 'hpa.scales-down', 'hpa.restores-manual-scale'] as const;

export const METRICS_TIMEOUT_MS = 90_000;
export const SCALE_UP_TIMEOUT_MS = 75_000;
export const SCALE_DOWN_TIMEOUT_MS = 150_000;
export const RESTORE_TIMEOUT_MS = 45_000;
/** The busy loops end on their own after this long even if the grader cannot stop them. */
export const BURN_SECONDS = 100;

export async function hpaScenario(ctx: ScenarioContext, checks: LiveCheckRecorder<ProductionizingId>): Promise<void> {
  const hpas = await appHpas(ctx);
  if (hpas.length === 0) {
    const all = await ctx.api('list HorizontalPodAutoscalers', () => ctx.kube.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ctx.namespace }));
    const others = all.items.map((h) => hpaView(h)).map((v) => `HPA ${v.name} targets ${v.target.kind}/${v.target.name}`);
    await checks.block(
      HPA_CHECKS,
      'failed',
      ctx.app.hpas.length > 0
        ? `not tested: the specs' HPA ${ctx.app.hpas.join(', ')} for Deployment ${ctx.app.deployment} is not in the cluster: the API server rejected it (see submission.applies)`
        : `not tested: no HorizontalPodAutoscaler targets Deployment ${ctx.app.deployment}${others.length ? ` (${others.join('; ')})` : ' (the specs have none)'}`,
      { hint: `Create an HPA whose scaleTargetRef is apiVersion: apps/v1, kind: Deployment, name: ${ctx.app.deployment}.` },
    );
    return;
  }
  const name = (hpas[0] as HpaView).name;

  await checks.run('hpa.metrics-flow', () => metricsFlowCheck(ctx, name));
  if (!checks.passed('hpa.metrics-flow')) {
    await checks.block(['hpa.scales-up', 'hpa.scales-down'], 'failed', `not tested: the HPA ${name} reads no CPU metrics for the app's Pods (see hpa.metrics-flow), so it cannot scale on CPU`);
  } else {
    let stopLoad: (() => Promise<void>) | undefined;
    let stoppedAt: number | undefined;
    let stopFailure: unknown;
    try {
      await checks.run('hpa.scales-up', async () => {
        const r = await scalesUp(ctx, name);
        stopLoad = r.stop;
        return r.message;
      });
    } finally {
      if (stopLoad) {
        try {
          await stopLoad();
          stoppedAt = Date.now();
          ctx.progress(`hpa: CPU load stopped`);
        } catch (error) {
          stopFailure = error;
        }
      }
    }
    if (checks.status('hpa.scales-up') === 'error') {
      // The grader could not decide scaling up (it could not load the Pods…): nor can it judge
      // scaling down, and the learner must not lose its points for that.
      await checks.block(['hpa.scales-down'], 'error', `not tested: the grader could not decide whether the HPA ${name} scales up, so scaling down cannot be judged`);
    } else if (!checks.passed('hpa.scales-up')) {
      await checks.block(['hpa.scales-down'], 'failed', `not tested: the HPA ${name} never scaled up under load, so there was nothing to scale down`);
    } else if (stopFailure !== undefined || stoppedAt === undefined) {
      await checks.block(['hpa.scales-down'], 'error', `the grader could not stop its CPU load (${errorText(stopFailure)}), so scaling down cannot be judged`);
    } else {
      await checks.run('hpa.scales-down', () => scalesDown(ctx, name, stoppedAt as number));
    }
  }
  await checks.run('hpa.restores-manual-scale', () => restoresManualScale(ctx, name));
}

async function readHpa(ctx: ScenarioContext, name: string): Promise<HpaView> {
  return hpaView(await ctx.api(`read HPA ${name}`, () => ctx.kube.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ctx.namespace, name })));
}

async function metricsFlowCheck(ctx: ScenarioContext, name: string): Promise<string> {
  // Honesty about the namespace's defaults: a CPU request the LimitRange filled in is not the learner's.
  const pods = await ctx.pods();
  const defaulted = pods.find((p) => cpuRequestDefaulted(p, ctx.app.container));
  if (defaulted) {
    throw new CheckFailed(
      `the app container sets no CPU request, and the HPA measures utilization as a percentage of it: on a cluster without defaults \`kubectl describe hpa\` shows "missing request for cpu". ` +
        `(In the grading namespace a LimitRange filled in ${CONTAINER_DEFAULTS.defaultRequest.cpu} for Pod ${defaulted.metadata?.name}, which does not count as yours.)`,
      { hint: 'Set resources.requests.cpu on the app container (the lab uses 125m), or a CPU limit, which the request then defaults to.' },
    );
  }
  const first = await readHpa(ctx, name);
  if (first.cpuTargetPercent === undefined) {
    throw new CheckFailed(`the HPA ${name} has no CPU utilization target, so it does not scale on CPU`);
  }
  const started = Date.now();
  const obs = await ctx.wait(
    async () => {
      const v = await readHpa(ctx, name);
      const problem = permanentMetricProblem(v);
      if (problem) throw new CheckFailed(`the HPA ${name} cannot compute CPU utilization: ${problem}`);
      return { done: metricsFlow(v), observed: `${describeHpa(v)}; ${describeCondition('ScalingActive', v.scalingActive)}`, value: v };
    },
    {
      description: `the HPA ${name} reports the app's current CPU utilization`,
      timeoutMs: METRICS_TIMEOUT_MS,
      intervalsMs: [1000, 2000],
      onProgress: (o) => ctx.progress(`hpa: ${o}`),
    },
  );
  return `${describeHpa(obs.value as HpaView)}: metrics flow (${Math.round((Date.now() - started) / 1000)}s wait)`;
}

interface ScaleUpResult {
  message: string;
  stop: () => Promise<void>;
}

async function scalesUp(ctx: ScenarioContext, name: string): Promise<ScaleUpResult> {
  const hpa = await readHpa(ctx, name);
  const deployment = await ctx.deployment();
  const baseline = Math.max(deployment.spec?.replicas ?? 1, hpa.currentReplicas);
  if (hpa.maxReplicas <= baseline) {
    throw new CheckFailed(`the HPA ${name} has maxReplicas ${hpa.maxReplicas}, no room above the current ${baseline} replicas`);
  }
  const pods = (await ctx.pods()).filter((p) => appContainerStatus(p, ctx.app.container)?.state?.running);
  const loadable = [...pods.filter(isPodReady), ...pods.filter((p) => !isPodReady(p))];
  const spec = loadable[0] ? appContainerSpec(loadable[0], ctx.app.container) : undefined;
  const requestMilli = cpuMilli(spec?.resources?.requests?.cpu);
  const limitMilli = cpuMilli(spec?.resources?.limits?.cpu);
  const cpu = { ...(requestMilli ? { requestMilli } : {}), ...(limitMilli ? { limitMilli } : {}) };
  const plan = planBurn(baseline, cpu, hpa.cpuTargetPercent ?? 50);
  const targets = loadable.slice(0, plan.pods);
  if (targets.length === 0) throw new CheckInconclusive('no running app container to put CPU load in');
  const load = new CpuLoad(ctx.kube, { namespace: ctx.namespace, container: ctx.app.container, marker: `lab-grader-burn-${ctx.runId}`, seconds: BURN_SECONDS });

  // Undo first: stop the busy loops in every Pod that may have one (a Pod deleted meanwhile has none left).
  const undo = ctx.undo.push(
    `stop the CPU load in the app's Pods`,
    async (signal) => {
      const outcomes = await load.stopAll(signal);
      if (outcomes.some((o) => o.kind === 'problem')) throw new Error(`CPU load: ${describeStops(outcomes)}`);
      if (outcomes.length > 0) ctx.progress(`hpa: CPU load ${describeStops(outcomes)}`);
    },
    { timeoutMs: 30_000 },
  );
  ctx.progress(`hpa: starting CPU load in ${targets.length} of ${baseline} Pods for at most ${BURN_SECONDS}s (each up to ${plan.perPodMilli}m, aiming at ${plan.expectedPercent}% of the CPU request on average)`);
  const loadStarted = Date.now();
  /** Undefined once started; the reason when the container stopped meanwhile (another Pod will do). */
  const startIn = async (pod: k8s.V1Pod): Promise<string | undefined> => {
    const name = pod.metadata?.name ?? '?';
    const r = await load.load({ name, uid: pod.metadata?.uid ?? '' }, ctx.signal);
    if (r.exitCode === 0 && /started \d+/.test(r.stdout)) return undefined;
    const why = `the grader could not start CPU load in Pod ${name}: exit ${r.exitCode ?? 'none'}: ${r.stderr.trim() || r.statusMessage || 'no output'}`;
    // A container restarted (its liveness probe) or deleted between listing and exec.
    if (/stopped container|container not found|not running|NotFound/i.test(why)) return why;
    await undo.runNow().catch(() => undefined);
    throw new CheckInconclusive(why);
  };
  let started = 0;
  const skipped: string[] = [];
  for (const pod of loadable) {
    if (started >= targets.length) break;
    const why = await startIn(pod);
    if (why) skipped.push(why);
    else started++;
  }
  if (started < targets.length) {
    await undo.runNow().catch(() => undefined);
    throw new CheckInconclusive(skipped.join('; ') || 'no running app container to put CPU load in');
  }
  if (skipped.length) ctx.progress(`hpa: ${skipped.join('; ')}; used another Pod`);
  const stop = () => undo.runNow();
  try {
    const obs = await ctx.wait(
      async () => {
        const [v, d, pods] = await Promise.all([readHpa(ctx, name), ctx.deployment(), ctx.pods()]);
        await keepLoaded(ctx, load, pods, plan.pods);
        const replicas = d.spec?.replicas ?? 0;
        return {
          done: v.desiredReplicas > baseline || replicas > baseline,
          observed: `HPA ${name}: ${baseline}→${Math.max(v.desiredReplicas, replicas)} replicas, ${describeCpuShort(v)}`,
          value: v,
        };
      },
      {
        description: `the HPA ${name} scales Deployment ${ctx.app.deployment} above ${baseline} replicas under CPU load`,
        timeoutMs: SCALE_UP_TIMEOUT_MS,
        intervalsMs: [1000, 2000],
        onProgress: (o) => ctx.progress(o),
      },
    );
    return {
      stop,
      message: `${obs.observed}, ${Math.round((Date.now() - loadStarted) / 1000)}s after CPU load started in ${targets.length} of ${baseline} Pods`,
    };
  } catch (error) {
    // The caller stops the load only after a pass: stop it here otherwise.
    await undo.runNow().catch(() => undefined);
    const starved = await starvedLoad(ctx, name, plan.expectedPercent, error);
    if (starved) throw new CheckInconclusive(starved);
    throw error;
  }
}

/**
 * The HPA did not scale up, but its metrics never reached the target although the load was
 * planned to: the node could not give the busy loops their CPU (other workloads starved them).
 * An HPA that stays put below its target is right, so that is no failure of the learner's specs.
 * Undefined when the learner's specs explain it (a plan that cannot reach the target) or when
 * it is not a timeout.
 */
async function starvedLoad(ctx: ScenarioContext, name: string, plannedPercent: number, error: unknown): Promise<string | undefined> {
  if (!(error instanceof Error && error.name === 'WaitTimeoutError')) return undefined;
  const v = await readHpa(ctx, name).catch(() => undefined);
  const target = v?.cpuTargetPercent;
  const current = v?.cpuCurrentPercent;
  if (target === undefined || current === undefined || plannedPercent < target || current >= target) return undefined;
  return `the node did not give the grader's CPU load its share: the load was planned for ${plannedPercent}% of the CPU request, the HPA ${name} measured ${current}% against its ${target}% target, so staying at its replicas was right; the cluster was too busy to decide`;
}

/**
 * The load follows the Deployment's Pods: a loaded Pod that the HPA or the ReplicaSet deleted is
 * forgotten (no load left to stop), and another running Pod is loaded in its place so the planned
 * number of Pods stays loaded. Pods are never loaded beyond the plan, so Pods the HPA adds stay idle.
 */
async function keepLoaded(ctx: ScenarioContext, load: CpuLoad, pods: readonly k8s.V1Pod[], wanted: number): Promise<void> {
  const current = pods.map((p) => ({ name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' }));
  const gone = load.forgetGone(current);
  if (gone.length === 0) return;
  const loaded = new Set(load.pods());
  const spare = pods.filter((p) => !loaded.has(p.metadata?.name ?? '') && isPodReady(p) && appContainerStatus(p, ctx.app.container)?.state?.running);
  const refill = spare.slice(0, Math.max(0, wanted - loaded.size));
  ctx.progress(
    `hpa: loaded Pod${gone.length === 1 ? '' : 's'} ${gone.join(', ')} ${gone.length === 1 ? 'was' : 'were'} deleted (scaled down or replaced)` +
      (refill.length ? `; loading ${refill.map((p) => p.metadata?.name).join(', ')} instead` : '; no other running Pod to load'),
  );
  for (const p of refill) {
    const name = p.metadata?.name ?? '?';
    const r = await load.load({ name, uid: p.metadata?.uid ?? '' }, ctx.signal).catch((e: unknown) => errorText(e));
    if (typeof r === 'string' || r.exitCode !== 0) {
      ctx.progress(`hpa: could not load Pod ${name} instead: ${typeof r === 'string' ? r : `exit ${r.exitCode ?? 'none'}: ${r.stderr.trim() || r.statusMessage || 'no output'}`}`);
    }
  }
}

function describeCpuShort(v: HpaView): string {
  const current = v.cpuCurrentPercent === undefined ? '<unknown>' : `${v.cpuCurrentPercent}%`;
  return `CPU ${current}/${v.cpuTargetPercent ?? '?'}%`;
}

async function scalesDown(ctx: ScenarioContext, name: string, stoppedAt: number): Promise<string> {
  const first = await readHpa(ctx, name);
  const min = first.minReplicas;
  const window = first.scaleDownStabilizationSeconds;
  let peak = Math.max(first.currentReplicas, first.desiredReplicas);
  await ctx
    .wait(
      async () => {
        const [v, d] = await Promise.all([readHpa(ctx, name), ctx.deployment()]);
        const replicas = d.spec?.replicas ?? 0;
        peak = Math.max(peak, replicas, v.desiredReplicas);
        return {
          done: replicas <= min && v.desiredReplicas <= min,
          observed: `HPA ${name}: ${replicas}→${v.desiredReplicas} replicas (min ${min}), ${describeCpuShort(v)}`,
        };
      },
      {
        description: `the HPA ${name} scales Deployment ${ctx.app.deployment} back to its minimum of ${min} replicas after the load stopped`,
        timeoutMs: SCALE_DOWN_TIMEOUT_MS,
        intervalsMs: [2000],
        onProgress: (o) => ctx.progress(o),
      },
    )
    .catch((error: unknown) => {
      if (window !== undefined && window * 1000 > SCALE_DOWN_TIMEOUT_MS / 2 && error instanceof Error && error.name === 'WaitTimeoutError') {
        throw new CheckFailed(`${error.message}. The HPA's behavior.scaleDown.stabilizationWindowSeconds is ${window}: it waits that long before removing Pods`);
      }
      throw error;
    });
  return `HPA ${name} scaled Deployment ${ctx.app.deployment} back from ${peak} to ${min} replicas, its minimum, ${Math.round((Date.now() - stoppedAt) / 1000)}s after the load stopped`;
}

async function restoresManualScale(ctx: ScenarioContext, name: string): Promise<string> {
  const v = await readHpa(ctx, name);
  if (v.minReplicas <= 1) {
    throw new CheckFailed(`the HPA ${name} has minReplicas ${v.minReplicas}: a manual scale to 1 is within its range, so nothing brings the app back (the lab keeps 5)`, {
      hint: 'Set `minReplicas: 5` in the HPA.',
    });
  }
  const before = (await ctx.deployment()).spec?.replicas ?? v.minReplicas;
  const scaleTo = (replicas: number): Promise<unknown> => scaleDeployment(ctx.kube, ctx.namespace, ctx.app.deployment, replicas);
  // Undo first: if the HPA does not restore it, the grader does.
  const undo = ctx.undo.push(
    `restore Deployment ${ctx.app.deployment} to ${before} replicas`,
    async () => {
      const d = await ctx.kube.apps.readNamespacedDeployment({ namespace: ctx.namespace, name: ctx.app.deployment });
      if ((d.spec?.replicas ?? 0) < v.minReplicas) await scaleTo(before);
    },
    { timeoutMs: 20_000 },
  );
  ctx.progress(`hpa: scaling Deployment ${ctx.app.deployment} from ${before} to 1 replica by hand (like \`kubectl scale --replicas=1\`)`);
  await ctx.api(`scale Deployment ${ctx.app.deployment} to 1`, () => scaleTo(1));
  const scaledAt = Date.now();
  try {
    const obs = await ctx.wait(
      async () => {
        const [h, d] = await Promise.all([readHpa(ctx, name), ctx.deployment()]);
        const replicas = d.spec?.replicas ?? 0;
        return {
          done: replicas >= h.minReplicas && replicas > 1,
          observed: `Deployment ${ctx.app.deployment}: spec.replicas ${replicas} (HPA ${name} min ${h.minReplicas}, desired ${h.desiredReplicas})`,
        };
      },
      {
        description: `the HPA ${name} scales Deployment ${ctx.app.deployment} back to at least ${v.minReplicas} replicas after a manual scale to 1`,
        timeoutMs: RESTORE_TIMEOUT_MS,
        intervalsMs: [1000],
        onProgress: (o) => ctx.progress(`hpa: ${o}`),
      },
    );
    return `${obs.observed}, ${Math.round((Date.now() - scaledAt) / 1000)}s after the manual scale to 1`;
  } finally {
    await undo.runNow().catch((e: unknown) => ctx.progress(`hpa: could not restore the replicas: ${errorText(e)}`));
  }
}

