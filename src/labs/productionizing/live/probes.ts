// readiness.* and liveness.*: fail ONE Pod's app the way a user would, then watch what Kubernetes
// does with it.
//
//   readiness.removes-failed-pod      the Pod leaves the Service's EndpointSlice while its
//                                     container keeps running with the same restart count
//   readiness.service-serves-healthy  meanwhile, requests through the Service only get successes
//   liveness.restarts-failed-container the Pod's container is restarted (restartCount +1, same Pod)
//   liveness.returns-to-service       it becomes Ready again and rejoins the endpoints
//
// Readiness and liveness are told apart by what happens to the container: a Pod that leaves the
// endpoints only because its container was killed (restart count up, container not running) was
// removed by the liveness probe, not by a readiness probe.
import type * as k8s from '@kubernetes/client-node';
import type { ProductionizingId } from '../catalogue.js';
import { isNotFound } from '../../../kube/client.js';
import { serviceEndpoints, type ServiceEndpoint } from '../../../kube/endpoints.js';
import { proxyRequest } from '../../../kube/http.js';
import { isPodReady } from '../../../kube/pods.js';
import { snippet, tripAppFailure, tripBudget, type TripOutcome } from './app-failure.js';
import { describeSample, judgeTraffic, startServiceSampler, type Sampler } from '../../../faults/traffic.js';
import { CheckFailed, CheckInconclusive } from '../../../engine/outcomes.js';
import type { LiveCheckRecorder } from '../../../engine/lab.js';
import type { UndoEntry } from '../../../faults/undo.js';
import { appContainerSpec, appContainerStatus, type ScenarioContext } from './context.js';
import { appHpas } from './replicas.js';
import { describeProbe, judgeRemoval, livenessBoundMs, livenessMissReason, predictedActions, readinessBoundMs, returnBoundMs, type RemovalJudgement } from './probe-timing.js';
import { probeFailures } from '../../../kube/pod-problems.js';
import { waitFor, WaitTimeoutError } from '../../../wait/wait-for.js';
import { errorText } from '../../../util/error-text.js';

export const PROBE_CHECKS = [
  'readiness.removes-failed-pod',
  'readiness.service-serves-healthy',
  'liveness.restarts-failed-container',
  'liveness.returns-to-service',
] as const;

/** Ready endpoints needed before failing one: the failed Pod plus at least one healthy Pod. */
const MIN_READY_ENDPOINTS = 2;
const BASELINE_TIMEOUT_MS = 60_000;
/** Service traffic: one request every 250 ms, at most 240 requests / 60 s in all. */
const SAMPLE_INTERVAL_MS = 250;
const SAMPLE_MAX_REQUESTS = 240;
const SAMPLE_MAX_MS = 60_000;
/** After the Pod left the endpoints: slack for the API server's proxy to see the change, then the window judged. */
const PROXY_SLACK_MS = 500;
const JUDGE_WINDOW_MS = 4_000;
const MIN_JUDGED_REQUESTS = 8;
/** Pods tried in turn when what was observed cannot tell readiness from liveness. */
const MAX_REMOVAL_ATTEMPTS = 2;
/** More time for a restart the kubelet has already decided on (liveness failures recorded). */
const LIVENESS_EXTRA_MS = 30_000;
/** More time for an EndpointSlice to drop a Pod the kubelet has already marked unready. */
const LATE_ENDPOINTS_MS = 30_000;

interface Baseline {
  pod: string;
  uid: string;
  containerId: string;
  restarts: number;
  readiness?: k8s.V1Probe;
  liveness?: k8s.V1Probe;
}

export async function probesScenario(ctx: ScenarioContext, checks: LiveCheckRecorder<ProductionizingId>): Promise<void> {
  const service = ctx.app.services[0];
  if (!service) {
    await checks.block(PROBE_CHECKS, 'failed', `not tested: no Service selects the Pods of Deployment ${ctx.app.deployment}, so there is no traffic to take them out of`);
    return;
  }

  await letHpaSettle(ctx);

  // Setting up and injecting the fault happen inside the first check, so a run stopped meanwhile
  // reports that check as the one interrupted; when the fault cannot be injected, the other
  // three checks share its outcome.
  let fault: { baseline: Baseline; failedAt: number; sampler: Sampler; undo: UndoEntry } | undefined;
  let leftAt: number | undefined;
  try {
    const status = await checks.run('readiness.removes-failed-pod', async () => {
      const tried: string[] = [];
      for (let attempt = 1; ; attempt++) {
        fault = await injectFault(ctx, service, tried);
        try {
          const r = await removesFailedPod(ctx, fault.baseline, service.name, fault.failedAt);
          leftAt = r.leftAt;
          return r.message;
        } catch (error) {
          if (!(error instanceof RemovalUndecided)) throw error;
          if (attempt >= MAX_REMOVAL_ATTEMPTS) {
            throw new CheckInconclusive(`${tried.length > 0 ? `on ${tried.length + 1} Pods in turn, ` : ''}what was observed could not decide: ${error.message}`);
          }
          // Another Pod, from healthy Pods again: the first one is put back (or replaced) first.
          ctx.progress(`readiness: ${error.message}; trying another Pod`);
          tried.push(fault.baseline.pod);
          await fault.sampler.stop();
          await fault.undo.runNow().catch((e: unknown) => ctx.progress(`readiness: could not put Pod ${fault?.baseline.pod} back: ${errorText(e)}`));
          fault = undefined;
        }
      }
    });
    if (!fault) {
      const first = checks.result('readiness.removes-failed-pod');
      await checks.block(PROBE_CHECKS, status === 'error' ? 'error' : 'failed', first?.message ?? 'not tested', {
        ...(first?.hint ? { hint: first.hint } : {}),
        ...(first?.diagnostics ? { diagnostics: first.diagnostics } : {}),
      });
      return;
    }
    const f = fault;
    if (status === 'error' && leftAt === undefined) {
      await checks.block(['readiness.service-serves-healthy'], 'error', 'not judged: whether the failed Pod left the Service could not be decided (see readiness.removes-failed-pod)');
    } else {
      await checks.run('readiness.service-serves-healthy', () => servesHealthy(ctx, f.sampler, f.baseline, service.name, f.failedAt, leftAt));
    }
  } finally {
    await fault?.sampler.stop();
  }
  const { baseline, failedAt, undo: replaceIfStillFailed } = fault;
  const { pod } = baseline;

  // Liveness: the same Pod's container is restarted, then rejoins the Service.
  let restartedAt: number | undefined;
  await checks.run('liveness.restarts-failed-container', async () => {
    const r = await restartsContainer(ctx, baseline, failedAt);
    restartedAt = r.restartedAt;
    return r.message;
  });
  if (restartedAt === undefined) {
    const diagnostics = checks.result('liveness.restarts-failed-container')?.diagnostics;
    await checks.block(['liveness.returns-to-service'], 'failed', `not tested: the container of Pod ${pod} was never restarted after its app failed`, diagnostics ? { diagnostics } : {});
  } else {
    await checks.run('liveness.returns-to-service', () => returnsToService(ctx, baseline, service.name, restartedAt as number));
  }

  // Put things back before the next scenario (a no-op when the container was restarted).
  ctx.progress(`readiness: making sure Pod ${pod} is healthy again or replaced`);
  await replaceIfStillFailed.runNow();
}

/**
 * Picks a ready Pod, registers its undo, makes its app fail and starts sampling the Service.
 * Throws CheckFailed / CheckInconclusive (with "not tested: …") when that cannot be done.
 */
async function injectFault(
  ctx: ScenarioContext,
  service: { name: string; port: number | string },
  exclude: readonly string[] = [],
): Promise<{ baseline: Baseline; failedAt: number; sampler: Sampler; undo: UndoEntry }> {
  // Two or more ready endpoints, so one can fail while a healthy one remains.
  let baseline: Baseline;
  try {
    baseline = await pickTarget(ctx, service.name, exclude);
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    throw new CheckFailed(`not tested: failing one Pod needs at least ${MIN_READY_ENDPOINTS} ready Pods behind Service ${service.name}; last seen: ${error.lastObserved}`);
  }
  const { pod } = baseline;

  // Undo first: a Pod whose failed app Kubernetes did not restart is replaced afterwards, so the
  // next checks start from healthy Pods.
  const undo = ctx.undo.push(`replace Pod ${pod} if its failed app was not restarted`, (signal) => replaceIfNotRestarted(ctx, baseline, signal), {
    timeoutMs: 90_000,
  });

  // The fault: page loads of / on that one Pod until its app answers 5xx.
  const maxRequests = tripBudget(ctx.app.failAfterCallCount);
  ctx.progress(`readiness: loading / of Pod ${pod} until its app fails (FailAfterCallCount ${ctx.app.failAfterCallCount ?? 'not set as a plain value'}, at most ${maxRequests} requests)`);
  const trip = await tripAppFailure(ctx.kube, { namespace: ctx.namespace, pod, port: ctx.app.podPort }, { maxRequests, timeoutMs: 30_000, signal: ctx.signal });
  const failedAt = Date.now();
  if (trip.kind !== 'failed') {
    undo.discard();
    throw tripProblem(pod, trip);
  }
  ctx.progress(`readiness: Pod ${pod} answers ${trip.status} after ${trip.requests} page loads, waiting for it to leave the endpoints of Service ${service.name}`);

  // Traffic through the Service from now on (to /healthz: see faults/traffic.ts for why).
  const sampler = startServiceSampler(ctx.kube, { namespace: ctx.namespace, service: service.name, port: service.port }, {
    path: '/healthz',
    intervalMs: SAMPLE_INTERVAL_MS,
    maxRequests: SAMPLE_MAX_REQUESTS,
    maxDurationMs: SAMPLE_MAX_MS,
    signal: ctx.signal,
  });
  return { baseline, failedAt, sampler, undo };
}

async function pickTarget(ctx: ScenarioContext, service: string, exclude: readonly string[]): Promise<Baseline> {
  const obs = await ctx.wait(
    async () => {
      const [eps, pods] = await Promise.all([ctx.api(`read the endpoints of ${service}`, () => serviceEndpoints(ctx.kube, ctx.namespace, service)), ctx.pods()]);
      const readyNames = new Set(eps.filter((e) => e.ready && e.pod).map((e) => e.pod as string));
      const candidates = pods.filter((p) => !exclude.includes(p.metadata?.name ?? '') && readyNames.has(p.metadata?.name ?? '') && isPodReady(p) && appContainerStatus(p, ctx.app.container)?.state?.running);
      const observed = `${readyNames.size} ready endpoints in Service ${service} (${candidates.length} ready, running app Pods)`;
      if (readyNames.size < MIN_READY_ENDPOINTS || candidates.length === 0) return { done: false, observed };
      // The newest Pod: the others have been checked by earlier scenarios (exec) already.
      const target = [...candidates].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')).at(-1) as k8s.V1Pod;
      return { done: true, observed, value: target };
    },
    { description: `at least ${MIN_READY_ENDPOINTS} ready Pods serve Service ${service}`, timeoutMs: BASELINE_TIMEOUT_MS, intervalsMs: [500, 1000, 2000] },
  );
  const target = obs.value as k8s.V1Pod;
  const status = appContainerStatus(target, ctx.app.container);
  const spec = appContainerSpec(target, ctx.app.container);
  return {
    pod: target.metadata?.name ?? '?',
    uid: target.metadata?.uid ?? '',
    containerId: status?.containerID ?? '',
    restarts: status?.restartCount ?? 0,
    ...(spec?.readinessProbe ? { readiness: spec.readinessProbe } : {}),
    ...(spec?.livenessProbe ? { liveness: spec.livenessProbe } : {}),
  };
}

function tripProblem(pod: string, trip: Exclude<TripOutcome, { kind: 'failed' }>): Error {
  if (trip.kind === 'never-failed') {
    return new CheckFailed(
      `not tested: the app in Pod ${pod} never failed: ${trip.requests} page loads of / answered ${Object.entries(trip.statuses).map(([s, n]) => `${n}×${s}`).join(', ')}. The lab's app fails after Configurable__FailAfterCallCount page loads; keep that setting (the lab uses 3) so probes have something to detect`,
      { hint: 'Keep the env var Configurable__FailAfterCallCount: "3" from the lab\'s spec in the app container.' },
    );
  }
  return new CheckInconclusive(
    trip.kind === 'unreachable'
      ? `the grader could not reach the app in Pod ${pod} through the API server (answer ${trip.status}: ${trip.body}), so it could not make the app fail`
      : `the app in Pod ${pod} answered ${trip.status} to a page load of / (${trip.body}), not the lab's page, so the grader could not make it fail`,
  );
}

interface PodState {
  pod?: k8s.V1Pod;
  inEndpoints: boolean;
  running: boolean;
  containerId: string;
  restarts: number;
}

async function podState(ctx: ScenarioContext, b: Baseline, service: string): Promise<PodState> {
  const [eps, pod] = await Promise.all([
    ctx.api(`read the endpoints of ${service}`, () => serviceEndpoints(ctx.kube, ctx.namespace, service)),
    ctx
      .api(`read Pod ${b.pod}`, () => ctx.kube.core.readNamespacedPod({ namespace: ctx.namespace, name: b.pod }))
      .catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      }),
  ]);
  const cs = pod ? appContainerStatus(pod, ctx.app.container) : undefined;
  return {
    ...(pod ? { pod } : {}),
    inEndpoints: isReadyEndpoint(eps, b.pod),
    running: Boolean(cs?.state?.running),
    containerId: cs?.containerID ?? '',
    restarts: cs?.restartCount ?? 0,
  };
}

function isReadyEndpoint(eps: readonly ServiceEndpoint[], pod: string): boolean {
  return eps.some((e) => e.pod === pod && e.ready);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The observation could not decide between readiness and liveness: try another Pod, or report an error. */
class RemovalUndecided extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemovalUndecided';
  }
}

async function judgeFromRecord(ctx: ScenarioContext, b: Baseline, pod: k8s.V1Pod | undefined, failedAt: number): Promise<RemovalJudgement> {
  const events = await ctx.api('list events', () => ctx.kube.core.listNamespacedEvent({ namespace: ctx.namespace, fieldSelector: `involvedObject.name=${b.pod}` }));
  return judgeRemoval({
    pod,
    podName: b.pod,
    container: ctx.app.container,
    events: events.items,
    failedAt,
    ...(b.readiness ? { readiness: b.readiness } : {}),
    ...(b.liveness ? { liveness: b.liveness } : {}),
  });
}

async function removesFailedPod(ctx: ScenarioContext, b: Baseline, service: string, failedAt: number): Promise<{ message: string; leftAt: number }> {
  const bound = readinessBoundMs(b.readiness);
  const noProbeHint = b.readiness ? {} : { hint: 'Add a readinessProbe to the app container: httpGet /healthz on port 80, periodSeconds: 1, failureThreshold: 1.' };
  let restarted: { pod: k8s.V1Pod; restarts: number; running: boolean } | undefined;
  let timedOut: WaitTimeoutError | undefined;
  await ctx
    .wait(
      async () => {
        const s = await podState(ctx, b, service);
        if (!s.pod || s.pod.metadata?.uid !== b.uid) {
          throw new RemovalUndecided(`Pod ${b.pod} was deleted after its app failed, so whether it left the Service because of a readiness probe could not be seen`);
        }
        const sameContainer = s.running && s.containerId === b.containerId && s.restarts === b.restarts;
        if (!sameContainer) {
          restarted = { pod: s.pod, restarts: s.restarts, running: s.running };
          return { done: true, observed: `Pod ${b.pod}'s container was restarted (restarts ${b.restarts}→${s.restarts}) before it was seen out of the endpoints` };
        }
        const where = s.inEndpoints ? 'still a ready endpoint' : 'out of the ready endpoints';
        return {
          done: !s.inEndpoints,
          observed: `Pod ${b.pod} (app failed, container running, restarts ${s.restarts}) is ${where} of Service ${service}`,
        };
      },
      {
        description: `Pod ${b.pod}, whose app answers 500, leaves the ready endpoints of Service ${service} while its container keeps running`,
        timeoutMs: Math.max(1_000, bound - (Date.now() - failedAt)),
        intervalsMs: [250],
        onProgress: (o) => ctx.progress(`readiness: ${o}`),
        isFatal: (e) => e instanceof RemovalUndecided,
      },
    )
    .catch((error: unknown) => {
      if (error instanceof WaitTimeoutError) timedOut = error;
      else throw error;
    });

  if (restarted || timedOut) {
    // What was observed does not show readiness acting: ask the kubelet's own record.
    const pod = restarted?.pod ?? (await podState(ctx, b, service)).pod;
    const judged = await judgeFromRecord(ctx, b, pod, failedAt);
    if (judged.kind === 'readiness-first') {
      // Traffic is judged from when the failed app could no longer be reached through the
      // Service: once restarted (the new container is healthy or not yet ready), or once the
      // EndpointSlice, late on a busy machine, drops the Pod.
      let leftAt = Date.now();
      if (!restarted) {
        const gone = await ctx
          .wait(
            async () => {
              const s = await podState(ctx, b, service);
              const restartedNow = !s.running || s.containerId !== b.containerId || s.restarts !== b.restarts;
              return { done: !s.inEndpoints || restartedNow, observed: `Pod ${b.pod} is ${s.inEndpoints ? 'still' : 'no longer'} a ready endpoint of Service ${service}` };
            },
            { description: `the EndpointSlice of Service ${service} drops Pod ${b.pod}, which the kubelet marked unready`, timeoutMs: LATE_ENDPOINTS_MS, intervalsMs: [250, 500] },
          )
          .then(() => true)
          .catch((e: unknown) => {
            if (e instanceof WaitTimeoutError) return false;
            throw e;
          });
        if (!gone) {
          throw new RemovalUndecided(`the kubelet marked Pod ${b.pod} unready (${judged.evidence}), but its Service ${service} kept it as a ready endpoint for ${seconds(bound + LATE_ENDPOINTS_MS)}`);
        }
        leftAt = Date.now();
      }
      const seen = restarted
        ? `its container was restarted by the liveness probe before the grader saw the endpoints change, but ${judged.evidence}`
        : `the grader saw the endpoints change only after ${seconds(leftAt - failedAt)}, but ${judged.evidence}`;
      return {
        leftAt,
        message: `the readiness probe took Pod ${b.pod} out of service after its app failed: ${seen} (readiness probe: ${describeProbe(b.readiness)})`,
      };
    }
    if (judged.kind === 'undecided') throw new RemovalUndecided(`Pod ${b.pod}: ${judged.message}`);
    if (restarted) {
      throw new CheckFailed(
        `Pod ${b.pod} stayed in the endpoints of Service ${service} after its app failed until its container was restarted (restarts ${b.restarts}→${restarted.restarts}${restarted.running ? '' : ', container not running'}): ` +
          `that was the liveness probe; a readiness probe takes the failed Pod out while its container keeps running. Readiness probe: ${describeProbe(b.readiness)}; ${judged.message}`,
        noProbeHint,
      );
    }
    throw new CheckFailed(
      `expected Pod ${b.pod} to leave the ready endpoints of Service ${service} within ${seconds(bound)} of its app failing (its /healthz answers 500); it stayed. Readiness probe: ${describeProbe(b.readiness)}; ${judged.message}; last seen: ${timedOut?.lastObserved ?? ''}`,
      noProbeHint,
    );
  }
  const leftAt = Date.now();
  return {
    leftAt,
    message: `Pod ${b.pod} left the ready endpoints of Service ${service} ${seconds(leftAt - failedAt)} after its app failed, while its container kept running (restarts still ${b.restarts}; readiness probe: ${describeProbe(b.readiness)})`,
  };
}

async function servesHealthy(ctx: ScenarioContext, sampler: Sampler, b: Baseline, service: string, failedAt: number, leftAt: number | undefined): Promise<string> {
  const target = `Service ${service}`;
  if (leftAt === undefined) {
    // The failed Pod never left the Service: every request in that time could reach it.
    const v = judgeTraffic(sampler.samples, failedAt);
    if (v.failures.length > 0) {
      const first = v.failures[0]!;
      throw new CheckFailed(
        `${v.failures.length} of ${v.counted} requests to /healthz through ${target} after Pod ${b.pod}'s app failed were answered by the failed app (first: ${describeSample(first, failedAt)}): the Service kept sending traffic to it`,
      );
    }
    throw new CheckFailed(
      `Pod ${b.pod} stayed in ${target} after its app failed, so callers could reach the failed app (${v.counted} requests through the Service happened to miss it)`,
    );
  }
  // Judge the requests sent once the API server's proxy has seen the Pod leave.
  const from = leftAt + PROXY_SLACK_MS;
  await ctx.wait(
    async () => {
      const counted = judgeTraffic(sampler.samples, from).counted;
      return { done: counted >= MIN_JUDGED_REQUESTS && Date.now() >= from + JUDGE_WINDOW_MS, observed: `${counted} requests through ${target} since Pod ${b.pod} left it` };
    },
    { description: `requests through ${target} are sampled`, timeoutMs: JUDGE_WINDOW_MS + 15_000, intervalsMs: [250] },
  );
  const v = judgeTraffic(sampler.samples, from);
  if (v.failures.length > 0) {
    const first = v.failures[0]!;
    throw new CheckFailed(
      `expected only successes through ${target} while Pod ${b.pod} was out of it; ${v.failures.length} of ${v.counted} requests to /healthz got the failed app's answer (first: ${describeSample(first, failedAt)})`,
    );
  }
  if (v.ok === 0) {
    const first = v.other[0];
    throw new CheckInconclusive(`no request through ${target} reached the app${first ? ` (${describeSample(first, failedAt)})` : ''}, so the grader cannot tell which Pods serve it`);
  }
  const others = v.other.length > 0 ? `; ${v.other.length} got no answer from the app (first: ${describeSample(v.other[0]!, failedAt)})` : '';
  return `${v.ok} of ${v.counted} requests to /healthz through ${target} answered 200 while Pod ${b.pod}'s failed app was out of it${others}`;
}

async function restartsContainer(ctx: ScenarioContext, b: Baseline, failedAt: number): Promise<{ message: string; restartedAt: number }> {
  const bound = livenessBoundMs(b.liveness);
  const waitRestart = (timeoutMs: number) =>
    ctx.wait(
      async () => {
        const pod = await ctx
          .api(`read Pod ${b.pod}`, () => ctx.kube.core.readNamespacedPod({ namespace: ctx.namespace, name: b.pod }))
          .catch((e: unknown) => {
            if (isNotFound(e)) return undefined;
            throw e;
          });
        if (!pod || pod.metadata?.uid !== b.uid) {
          // Kubernetes never deletes a Pod for a failing liveness probe: a controller scaled it
          // away, so whether its container would have been restarted cannot be seen.
          throw new CheckInconclusive(`Pod ${b.pod} was deleted (scaled down or replaced) before its container was restarted, so the liveness probe could not be judged on it`);
        }
        const cs = appContainerStatus(pod, ctx.app.container);
        const restarts = cs?.restartCount ?? 0;
        const state = cs?.state?.running ? 'running' : cs?.state?.waiting ? `waiting (${cs.state.waiting.reason ?? ''})` : 'terminated';
        return {
          done: restarts > b.restarts,
          observed: `container ${ctx.app.container} of Pod ${b.pod}: ${state}, restarts ${restarts}, ${isPodReady(pod) ? 'ready' : 'not ready'}`,
          value: restarts,
        };
      },
      {
        description: `the container of Pod ${b.pod} is restarted`,
        timeoutMs,
        intervalsMs: [500, 1000],
        onProgress: (o) => ctx.progress(`liveness: ${o}`),
        isFatal: (e) => e instanceof CheckInconclusive,
      },
    );
  const obs = await waitRestart(Math.max(1_000, bound - (Date.now() - failedAt))).catch(async (error: unknown) => {
    if (!(error instanceof WaitTimeoutError)) throw error;
    const miss = livenessMissReason(b.liveness);
    const predicted = predictedActions(b.readiness, b.liveness);
    // A probe that cannot see the failure: the learner's. One that can but did not act in time:
    // ask the kubelet's record before blaming the specs.
    if (!b.liveness || b.liveness.tcpSocket || /does not report the app's failure/.test(miss)) {
      throw new CheckFailed(
        `expected the container of Pod ${b.pod} to be restarted within ${seconds(bound)} of its app failing; it was not: ${miss}; last seen: ${error.lastObserved}`,
        b.liveness ? {} : { hint: 'Add a livenessProbe to the app container: httpGet /healthz on port 80, periodSeconds: 5.' },
      );
    }
    if (predicted.livenessS !== undefined && predicted.livenessS * 1000 > bound) {
      throw new CheckFailed(
        `expected the container of Pod ${b.pod} to be restarted within ${seconds(bound)} of its app failing; it was not: its liveness probe (${describeProbe(b.liveness)}) needs up to ${predicted.livenessS}s to act; last seen: ${error.lastObserved}`,
      );
    }
    const events = await ctx.api('list events', () => ctx.kube.core.listNamespacedEvent({ namespace: ctx.namespace, fieldSelector: `involvedObject.name=${b.pod}` }));
    const failures = probeFailures(events.items, b.pod, 'Liveness', ctx.app.container);
    if (failures && failures.at >= Math.floor(failedAt / 1000) * 1000 - 1000) {
      ctx.progress(`liveness: the kubelet recorded "${failures.message}" but the restart is slow; waiting longer`);
      return waitRestart(LIVENESS_EXTRA_MS).catch((again: unknown) => {
        if (again instanceof WaitTimeoutError) {
          throw new CheckInconclusive(
            `the kubelet recorded "${failures.message}" for Pod ${b.pod}, but its container was not restarted within ${seconds(bound + LIVENESS_EXTRA_MS)}; ${predicted.text}: the node was too busy to finish the restart`,
          );
        }
        throw again;
      });
    }
    throw new CheckInconclusive(
      `the container of Pod ${b.pod} was not restarted within ${seconds(bound)} and the kubelet recorded no liveness probe failure, although ${predicted.text} (liveness probe: ${describeProbe(b.liveness)}): the node was too busy to probe; last seen: ${error.lastObserved}`,
    );
  });
  const restartedAt = Date.now();
  return {
    restartedAt,
    message: `the container of Pod ${b.pod} was restarted in place (restarts ${b.restarts}→${obs.value ?? '?'}, same Pod) about ${seconds(restartedAt - failedAt)} after its app failed (liveness probe: ${describeProbe(b.liveness)})`,
  };
}

async function returnsToService(ctx: ScenarioContext, b: Baseline, service: string, restartedAt: number): Promise<string> {
  const bound = returnBoundMs(b.readiness, b.liveness);
  const obs = await ctx.wait(
    async () => {
      const s = await podState(ctx, b, service);
      const ready = s.pod ? isPodReady(s.pod) : false;
      return {
        done: ready && s.inEndpoints && s.running,
        observed: `Pod ${b.pod}: ${ready ? 'ready' : 'not ready'}, ${s.inEndpoints ? 'a ready endpoint' : 'not a ready endpoint'} of Service ${service}, restarts ${s.restarts}`,
      };
    },
    {
      description: `the restarted Pod ${b.pod} is ready again and back in the endpoints of Service ${service}`,
      timeoutMs: bound,
      intervalsMs: [500, 1000],
      onProgress: (o) => ctx.progress(`liveness: ${o}`),
    },
  );
  const back = Date.now();
  // The new process must be the healthy app again.
  const health = await proxyRequest(ctx.kube, { namespace: ctx.namespace, kind: 'pods', name: b.pod, port: ctx.app.podPort }, '/healthz', { timeoutMs: 10_000, signal: ctx.signal });
  if (health.fromApiServer) throw new CheckInconclusive(`Pod ${b.pod} is back in the Service but the grader could not reach its /healthz (${health.status}: ${snippet(health.body)})`);
  if (health.status !== 200) throw new CheckFailed(`Pod ${b.pod} is back in the endpoints but its /healthz answers ${health.status} (${snippet(health.body)})`);
  return `${obs.observed}, ${seconds(back - restartedAt)} after the restart; its /healthz answers 200`;
}

/** Undo of the fault: replace the Pod when its container was not restarted, and wait for a Ready replacement. */
async function replaceIfNotRestarted(ctx: ScenarioContext, b: Baseline, signal: AbortSignal): Promise<void> {
  const pod = await ctx.kube.core.readNamespacedPod({ namespace: ctx.namespace, name: b.pod });
  const cs = appContainerStatus(pod, ctx.app.container);
  if (pod.metadata?.uid !== b.uid || (cs?.restartCount ?? 0) > b.restarts) return;
  const before = (await ctx.kube.apps.readNamespacedDeployment({ namespace: ctx.namespace, name: ctx.app.deployment })).spec?.replicas ?? 1;
  await ctx.kube.core.deleteNamespacedPod({ namespace: ctx.namespace, name: b.pod, gracePeriodSeconds: 5 });
  ctx.progress(`readiness: deleted Pod ${b.pod} (its app stayed failed); waiting for its replacement`);
  await waitFor(
    async () => {
      const pods = (await ctx.kube.core.listNamespacedPod({ namespace: ctx.namespace, labelSelector: ctx.app.podSelector })).items.filter(
        (p) => !p.metadata?.deletionTimestamp,
      );
      const ready = pods.filter(isPodReady).length;
      return { done: ready >= before, observed: `${ready} of ${before} Pods ready` };
    },
    { description: `a ready Pod replaces ${b.pod}`, timeoutMs: 75_000, intervalsMs: [1000], signal },
  );
}

/** Longest wait for an HPA to scale the idle app down to its minimum before a Pod is failed. */
const HPA_SETTLE_MS = 120_000;

/**
 * An HPA whose minimum is below the Deployment's replicas removes Pods once the app is idle, and a
 * ReplicaSet removes not-ready Pods first: the very Pod whose app the grader failed. So the
 * scale-down is let happen first; the fault then goes into a Pod that stays. A wait that runs out
 * goes on regardless (a removed target is then tried again on another Pod).
 */
async function letHpaSettle(ctx: ScenarioContext): Promise<void> {
  const hpas = await appHpas(ctx);
  if (hpas.length === 0) return;
  const min = Math.max(...hpas.map((h) => h.minReplicas));
  const replicas = (await ctx.deployment()).spec?.replicas ?? 0;
  if (min >= replicas) return;
  ctx.progress(`readiness: the HPA's minimum (${min}) is below the ${replicas} replicas: waiting for it to scale the idle app down before failing a Pod`);
  await ctx
    .wait(
      async () => {
        const [d, pods] = await Promise.all([ctx.deployment(), ctx.kube.core.listNamespacedPod({ namespace: ctx.namespace, labelSelector: ctx.app.podSelector })]);
        const want = d.spec?.replicas ?? 0;
        const terminating = pods.items.filter((p) => p.metadata?.deletionTimestamp).length;
        const ready = pods.items.filter((p) => !p.metadata?.deletionTimestamp && isPodReady(p)).length;
        return { done: want <= min && terminating === 0 && ready >= want, observed: `Deployment ${ctx.app.deployment}: ${want} replicas, ${ready} ready, ${terminating} terminating (HPA minimum ${min})` };
      },
      { description: `the HPA scales Deployment ${ctx.app.deployment} down to its minimum of ${min}`, timeoutMs: HPA_SETTLE_MS, intervalsMs: [1000, 2000], onProgress: (o) => ctx.progress(`readiness: ${o}`) },
    )
    .catch((error: unknown) => {
      if (!(error instanceof WaitTimeoutError)) throw error;
      ctx.progress(`readiness: the HPA did not scale down within ${HPA_SETTLE_MS / 1000}s (${error.lastObserved}); going on`);
    });
}
