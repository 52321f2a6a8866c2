// replicas.ready-five: the app's Pods run (the rollout completes, failing fast with the most
// specific reason Kubernetes gives when they cannot be created, scheduled, pulled, configured or
// kept running), 5 of them become Ready and stay up, and nothing (an HPA's minimum included) lets
// the app drop below 5.
import type * as k8s from '@kubernetes/client-node';
import { hpaView, targetsDeployment, type HpaView } from '../../../kube/hpa-status.js';
import { explainFromCluster, FINAL_WAITING, type AppHints, type PodProblem } from '../../../kube/pod-problems.js';
import { isPodReady } from '../../../kube/pods.js';
import { CheckFailed, CheckInconclusive } from '../../../engine/outcomes.js';
import { noRoomFor, rolloutState, type RolloutState } from '../../../kube/rollout.js';
import { WaitTimeoutError } from '../../../wait/wait-for.js';
import { appContainerSpec, appContainerStatus, type ScenarioContext } from './context.js';
import { describeProbe, livenessImpliedByReadiness, livenessVerdictSeconds } from './probe-timing.js';

export const REPLICAS_WANTED = 5;
export const READY_TIMEOUT_MS = 90_000;
/** Rollout bound: the image is cached on the node; the lab's Pods are Ready within seconds. */
export const ROLLOUT_TIMEOUT_MS = 120_000;
/** Extra wait for Pods the node has no room for while other work on the cluster holds it. */
export const ROOM_EXTRA_MS = 300_000;
/** Longest wait for a liveness probe that a passing readiness probe does not vouch for. */
export const LIVENESS_HOLD_MAX_MS = 30_000;

/** What the lab's hints say about its app. */
export const APP_HINTS: AppHints = { healthPath: '/healthz', image: 'sixeyed/configurable:21.04' };

export type RolloutOutcome =
  | { kind: 'complete'; message: string }
  /** Containers run but the rollout did not complete in time (e.g. never ready). */
  | { kind: 'incomplete'; message: string; hint?: string }
  /** The Pods cannot be created or started: the checks that need them cannot run. */
  | { kind: 'blocked'; message: string; hint: string }
  /** The scheduler has no room for some of the Pods, even after waiting: the cluster's limit, not the submission's. */
  | { kind: 'no-room'; message: string };

/** Set by the Pods check when the app's Pods cannot run: the checks that need them are not tested. */
export interface PodsVerdict {
  cannotRun?: { message: string; hint: string };
  noRoom?: string;
}

async function explainNow(ctx: ScenarioContext, pods: readonly k8s.V1Pod[], opts: { includeReadiness?: boolean; replicaFailure?: string } = {}): Promise<PodProblem | undefined> {
  return ctx.api('read the events and logs of the app\'s Pods', () =>
    explainFromCluster(ctx.kube, ctx.namespace, pods, {
      container: ctx.app.container,
      hints: APP_HINTS,
      ...(opts.includeReadiness ? { includeReadiness: true } : {}),
      ...(opts.replicaFailure ? { replicaFailure: opts.replicaFailure } : {}),
    }),
  );
}

/** Waits for the app Deployment's rollout, failing fast when its Pods cannot start. */
export async function waitForRollout(ctx: ScenarioContext): Promise<RolloutOutcome> {
  const started = Date.now();
  let last: RolloutState | undefined;
  let lastPods: k8s.V1Pod[] = [];
  let lastDeployment: k8s.V1Deployment | undefined;
  const waitOnce = (timeoutMs: number) =>
    ctx.wait(
      async () => {
        const [d, pods, events] = await Promise.all([
          ctx.deployment(),
          ctx.pods(),
          ctx.api('list events', () => ctx.kube.core.listNamespacedEvent({ namespace: ctx.namespace })),
        ]);
        lastPods = pods;
        lastDeployment = d;
        last = rolloutState(d, pods, events.items, { container: ctx.app.container, hints: APP_HINTS });
        return { done: last.kind !== 'progressing', observed: `Deployment ${ctx.app.deployment}: ${last.observed}` };
      },
      {
        description: `Deployment ${ctx.app.deployment} finishes rolling out`,
        timeoutMs,
        intervalsMs: [500, 1000, 2000],
        onProgress: (o) => ctx.progress(o),
      },
    );
  try {
    try {
      await waitOnce(ROLLOUT_TIMEOUT_MS);
    } catch (error) {
      // Pods the node has no room for: on a shared cluster other gradings (an HPA scaled up under
      // their load) may hold that room for a while. That is the machine, not the specs: wait for
      // it to be given back rather than judge the learner on it.
      const noRoom = error instanceof WaitTimeoutError ? noRoomFor(lastPods) : undefined;
      if (!noRoom) throw error;
      ctx.progress(`replicas: ${noRoom.count} Pod(s) wait for room on the node (${noRoom.message}); waiting up to ${ROOM_EXTRA_MS / 1000}s more for other work on the cluster to give it back`);
      await waitOnce(ROOM_EXTRA_MS);
    }
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    const seen = (last as RolloutState | undefined)?.observed ?? error.lastObserved;
    const running = lastPods.filter((p) => appContainerStatus(p, ctx.app.container)?.state?.running);
    const within = `within ${Math.round((Date.now() - started) / 1000)}s`;
    const failure = lastDeployment?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True')?.message;
    const why = await explainNow(ctx, lastPods, { includeReadiness: true, ...(failure ? { replicaFailure: failure } : {}) });
    const noRoom = noRoomFor(lastPods);
    if (noRoom) {
      return {
        kind: 'no-room',
        message: `${noRoom.count} of the app's Pods could not be scheduled ${within}: ${noRoom.message}`,
      };
    }
    if (running.length > 0) {
      return {
        kind: 'incomplete',
        message: `the app's containers run, but the rollout did not complete ${within}: ${seen}${why ? `; ${why.message}` : ''}`,
        ...(why ? { hint: why.hint } : {}),
      };
    }
    return why
      ? { kind: 'blocked', message: why.message, hint: why.hint }
      : { kind: 'blocked', message: `none of the app's containers started ${within}: ${seen}`, hint: 'Check the Pods with `kubectl describe pod`: their events say why they do not start.' };
  }
  const state = last as RolloutState | undefined;
  if (state?.kind === 'stuck') {
    // Now with the previous logs too, for a crash.
    const why = state.problem.pod ? await explainNow(ctx, lastPods) : undefined;
    const problem = why?.final ? why : state.problem;
    return { kind: 'blocked', message: problem.message, hint: problem.hint };
  }
  return {
    kind: 'complete',
    message: `Deployment ${ctx.app.deployment} rolled out in ${Math.round((Date.now() - started) / 1000)}s: ${state?.observed ?? ''}`,
  };
}

/**
 * The Pods check: the rollout completes, 5 Pods are ready, they stay up for as long as their
 * liveness probe needs to show it passes, and no HPA minimum lets the app drop below 5.
 * `verdict.cannotRun` is set when the Pods cannot run at all.
 */
export async function podsCheck(ctx: ScenarioContext, verdict: PodsVerdict): Promise<string> {
  const rollout = await waitForRollout(ctx);
  if (rollout.kind === 'no-room') {
    verdict.noRoom = rollout.message;
    throw new CheckInconclusive(`${rollout.message}: the cluster has no room for them, so the grader cannot tell whether they would run`);
  }
  if (rollout.kind === 'blocked') {
    verdict.cannotRun = { message: rollout.message, hint: rollout.hint };
    throw new CheckFailed(`the app's Pods cannot run: ${rollout.message}`, { hint: rollout.hint });
  }
  if (rollout.kind === 'incomplete') throw new CheckFailed(rollout.message, rollout.hint ? { hint: rollout.hint } : {});
  ctx.progress(`replicas: ${rollout.message}`);
  const ready = await readyFive(ctx, verdict);
  const stayed = await staysUp(ctx);
  if (stayed.problem) {
    verdict.cannotRun = { message: stayed.problem.message, hint: stayed.problem.hint };
    throw new CheckFailed(`the app's Pods do not stay up: ${stayed.problem.message}`, { hint: stayed.problem.hint });
  }
  return stayed.note ? `${ready}; ${stayed.note}` : ready;
}

/**
 * Ready Pods whose liveness probe a passing readiness probe does not vouch for (another path or
 * port) are watched until that probe has had its chance to fail (from the probe's settings, at
 * most LIVENESS_HOLD_MAX_MS). A restart meanwhile is explained from the kubelet's record.
 */
async function staysUp(ctx: ScenarioContext): Promise<{ problem?: PodProblem; note?: string }> {
  const pods = (await ctx.pods()).filter(isPodReady);
  const first = pods[0];
  const spec = first ? appContainerSpec(first, ctx.app.container) : undefined;
  if (!spec?.livenessProbe || livenessImpliedByReadiness(spec.livenessProbe, spec.readinessProbe)) return {};
  const verdictMs = livenessVerdictSeconds(spec.livenessProbe) * 1000 + 2_000;
  const startedAt = (p: k8s.V1Pod) => {
    const t = appContainerStatus(p, ctx.app.container)?.state?.running?.startedAt;
    return t ? new Date(t).getTime() : Date.now();
  };
  const until = Math.min(Date.now() + LIVENESS_HOLD_MAX_MS, Math.max(...pods.map((p) => startedAt(p) + verdictMs)));
    const probeText = describeProbe(spec.livenessProbe);
  if (until <= Date.now()) return { note: `they stayed up past the point their liveness probe (${probeText}) would have failed` };
  ctx.progress(`replicas: the liveness probe (${probeText}) differs from the readiness probe: watching the Pods for ${Math.round((until - Date.now()) / 1000)}s until it has had its chance to fail`);
  let problem: PodProblem | undefined;
  await ctx.wait(
    async () => {
      const now = await ctx.pods();
      const restarted = now.filter((p) => (appContainerStatus(p, ctx.app.container)?.restartCount ?? 0) > 0);
      if (restarted.length > 0) {
        problem = await explainNow(ctx, restarted);
        return { done: true, observed: `${restarted.length} Pods restarted` };
      }
      return { done: Date.now() >= until, observed: `${now.filter(isPodReady).length} Pods ready, none restarted` };
    },
    { description: `the app's Pods stay up until their liveness probe has had its chance to fail`, timeoutMs: until - Date.now() + 15_000, intervalsMs: [1000] },
  );
  if (problem) return { problem };
  return { note: `they stayed up ${Math.round(verdictMs / 1000)}s after starting, long enough for their liveness probe (${probeText}) to have failed` };
}

/** The live HPAs that scale the app's Deployment. */
export async function appHpas(ctx: ScenarioContext): Promise<HpaView[]> {
  const list = await ctx.api('list HorizontalPodAutoscalers', () => ctx.kube.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ctx.namespace }));
  return list.items.map((h: k8s.V2HorizontalPodAutoscaler) => hpaView(h)).filter((v) => targetsDeployment(v, ctx.app.deployment));
}

async function readyFive(ctx: ScenarioContext, verdict: PodsVerdict): Promise<string> {
  const started = Date.now();
  let lastPods: k8s.V1Pod[] = [];
  const obs = await ctx.wait(
    async () => {
      const [d, pods, hpas] = await Promise.all([ctx.deployment(), ctx.pods(), appHpas(ctx)]);
      lastPods = pods;
      // Containers that will not come back (CrashLoopBackOff…): say why at once.
      const stuck = pods.filter((p) => {
        const w = appContainerStatus(p, ctx.app.container)?.state?.waiting?.reason;
        return w !== undefined && FINAL_WAITING.has(w);
      });
      if (stuck.length > 0) {
        const why = await explainNow(ctx, stuck);
        if (why) {
          verdict.cannotRun = { message: why.message, hint: why.hint };
          throw new CheckFailed(`the app's Pods cannot run: ${why.message}`, { hint: why.hint });
        }
      }
      const ready = pods.filter(isPodReady).length;
      const want = d.spec?.replicas ?? 1;
      const hpaMin = hpas.length > 0 ? Math.max(...hpas.map((h) => h.minReplicas)) : undefined;
      const hpaText = hpaMin === undefined ? 'no HPA' : `HPA minReplicas ${hpaMin}`;
      const observed = `${ready} of ${pods.length} Pods ready, Deployment asks for ${want} (${hpaText})`;
      if (ready >= REPLICAS_WANTED) return { done: true, observed, value: { ready, hpaMin } };
      // Nothing will add Pods: the Deployment has all it asks for and no HPA raises it to 5.
      const settled = (d.status?.readyReplicas ?? 0) >= want && (d.status?.replicas ?? 0) === want;
      if (settled && want < REPLICAS_WANTED && (hpaMin === undefined || hpaMin < REPLICAS_WANTED)) {
        throw new CheckFailed(
          `expected ${REPLICAS_WANTED} ready Pods; the app settled at ${ready}: the Deployment asks for ${want} replicas${hpaMin === undefined ? '' : ` and its HPA's minimum is ${hpaMin}`}`,
        );
      }
      return { done: false, observed };
    },
    {
      description: `${REPLICAS_WANTED} Pods of Deployment ${ctx.app.deployment} are ready`,
      timeoutMs: READY_TIMEOUT_MS,
      intervalsMs: [500, 1000, 2000],
      onProgress: (o) => ctx.progress(`replicas: ${o}`),
    },
  ).catch(async (error: unknown) => {
    const noRoom = error instanceof WaitTimeoutError ? noRoomFor(lastPods) : undefined;
    if (noRoom) {
      // The scheduler has no room for them: the cluster is too small or busy, the spec may be fine.
      throw new CheckInconclusive(
        `${error instanceof WaitTimeoutError ? error.lastObserved : ''}; ${noRoom.count} Pods cannot be scheduled: ${noRoom.message}. The cluster has no room for them, so the grader cannot tell whether 5 would become ready`,
      );
    }
    if (error instanceof WaitTimeoutError) {
      const why = await explainNow(ctx, lastPods, { includeReadiness: true });
      if (why) throw new CheckFailed(`expected ${REPLICAS_WANTED} ready Pods within ${Math.round(error.timeoutMs / 1000)}s; last seen: ${error.lastObserved}; ${why.message}`, { hint: why.hint });
    }
    throw error;
  });
  const hpaMin = obs.value?.hpaMin;
  if (hpaMin !== undefined && hpaMin < REPLICAS_WANTED) {
    throw new CheckFailed(
      `${obs.value?.ready ?? '?'} Pods became ready, but the HPA's minReplicas is ${hpaMin}: at low CPU it scales the app down to ${hpaMin} Pods, below ${REPLICAS_WANTED}`,
      { hint: 'Set `minReplicas: 5` in the HPA: it owns the replica count and scales down to its minimum when the app is idle.' },
    );
  }
  return `${obs.observed} after ${Math.round((Date.now() - started) / 1000)}s`;
}
