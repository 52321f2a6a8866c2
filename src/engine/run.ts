// Live grading: apply the submission into a fresh namespace and run the scenarios, in this order:
//
//   submission.applies   server-side apply: passes when the API server accepts every object
//   replicas.ready-five  the app Deployment's rollout (fails fast, with the most specific reason,
//                        when Pods cannot be created, scheduled, pulled, configured or kept
//                        running), 5 ready Pods that stay up, and no HPA minimum below 5
//   security.exec-*      exec probes in a running app container (cheap, done while all is healthy)
//   readiness.*, liveness.*   one Pod's app is made to fail; what Kubernetes does about it
//   hpa.*                metrics, scale up under CPU load, back down, undo of a manual scale
//
// When the app cannot run because of the submission (the API server rejects its Deployment, its
// Pods cannot be created, started or kept running), the checks that need it are reported as `failed` with that
// cause, "not tested: …", and no points: the learner's work is why they could not pass, and a
// `skipped` would read as "not the learner's concern". `error` is kept for what the grader or the
// environment could not decide (an exec that could not run, a Pod the API server cannot reach).
//
// Every change the grader makes registers its undo first (UndoStack); the undos run at the end,
// also after an interruption, a budget overrun or a lost cluster. A stopped run reports the check
// it was in as an error and leaves the rest to the CLI (skipped); the budget running out reports
// the rest as skipped itself.
import { randomBytes } from 'node:crypto';
import { clusterUp, ownClusterOfContext } from '../cluster/lifecycle.js';
import { waitForPodMetrics } from '../cluster/readiness.js';
import { DEFAULT_CLUSTER_NAME, kindContext } from '../cluster/settings.js';
import { describeUndoFailure, UndoStack } from '../faults/undo.js';
import type { Manifest } from '../kube/apply.js';
import { apiMessage, isConnectionError, loadKube, type Kube } from '../kube/client.js';
import { clusterRoom, describeRoom, milli, podsThatFit, type ClusterRoom } from '../kube/capacity.js';
import { markRoom, readQueue } from '../kube/room-queue.js';
import { readControllerArgs } from '../kube/control-plane.js';
import { CONTAINER_DEFAULTS, createGradingNamespace, deleteNamespaceAndWait, deleteNamespacesOfDeadRuns, QUOTA_HARD, requestNamespaceDeletion } from '../kube/namespace.js';
import { ClusterUnreachableError, withRetry } from '../kube/retry.js';
import { productionizing } from '../labs/productionizing/catalogue.js';
import type { LabDefinition } from '../lab/types.js';
import { EnvironmentError, type CheckResult, type RunResult } from '../model.js';
import { applyAll, appliesVerdict, type ApplyOutcome } from './apply.js';
import { ScenarioContext } from '../labs/productionizing/live/context.js';
import { groupFloors, timingsFromFlags } from '../labs/productionizing/live/floor.js';
import { hpaScenario } from '../labs/productionizing/live/hpa.js';
import { probesScenario } from '../labs/productionizing/live/probes.js';
import { podsCheck, REPLICAS_WANTED, type PodsVerdict } from '../labs/productionizing/live/replicas.js';
import { securityScenario } from '../labs/productionizing/live/security.js';
import type { Progress } from '../util/progress.js';
import { waitFor, WaitTimeoutError } from '../wait/wait-for.js';
import { appFootprint, appUnderTest, floorInputs, namespaceOf } from '../labs/productionizing/app.js';
import { Budget, cleanupReserve } from './budget.js';
import { LiveChecks } from './checks.js';
import { BudgetExhausted, RunStopped } from './outcomes.js';
import { loadLocator } from './sources.js';
import { errorText } from '../util/error-text.js';

export interface LiveGradeOptions {
  submissionDir: string;
  /** Objects after policy, as plain manifests, every one already in the grading namespace (metadata.namespace). */
  manifests: Array<Record<string, unknown>>;
  context?: string;
  budgetMs: number;
  keepNamespace: boolean;
  signal: AbortSignal;
  /** Called as each check finishes, so reports can be written incrementally. */
  onCheck: (result: CheckResult) => void;
  /** Progress lines for the terminal. */
  onProgress: (line: string) => void;
  /** The lab whose live checks are run (default: productionizing). */
  lab?: LabDefinition;
  /** Called once the app is known with the floor of each live group (summary.md shows them). */
  onFloors?: (floors: NonNullable<RunResult['floors']>) => void;
  /** Bring up the default kind cluster when no cluster is reachable (default true without --context). */
  bringUpCluster?: boolean;
}

/** Bound for deleting the namespace at the end (Pods stop on SIGTERM at once). */
const NAMESPACE_DELETE_TIMEOUT_MS = 60_000;
/** After an interruption the CLI waits 30s for cleanup: stay within it. */
const NAMESPACE_DELETE_AFTER_STOP_MS = 20_000;
const METRICS_PREFLIGHT_MS = 60_000;
/** How long a grading waits for other gradings to free room on the cluster. */
const ROOM_WAIT_MS = 10 * 60_000;
/** How long a grading keeps the others from starting while its Pods get scheduled. */
const PLACEMENT_WAIT_MS = 10_000;

export async function gradeLive(opts: LiveGradeOptions): Promise<CheckResult[]> {
  const lab = opts.lab ?? productionizing;
  const definitions = lab.checks.filter((c) => c.kind === 'live');
  const runId = randomBytes(4).toString('hex');
  const manifests = opts.manifests as Manifest[];
  const namespace = namespaceOf(manifests);

  const budget = new Budget(Math.max(1_000, opts.budgetMs - cleanupReserve(opts.budgetMs)));
  const run = new AbortController();
  let stopReason: string | undefined;
  let budgetRanOut = false;
  const stop = (reason: string): void => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    run.abort(new Error(reason));
  };
  const onAbort = (): void => stop(opts.signal.reason instanceof Error ? opts.signal.reason.message : 'stopped');
  if (opts.signal.aborted) onAbort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const budgetTimer = setTimeout(() => {
    budgetRanOut = true;
    stop(new BudgetExhausted(opts.budgetMs).message);
  }, budget.budgetMs);
  budgetTimer.unref();

  const undo = new UndoStack();
  let diagnose: () => Promise<string> = async () => '';
  const checks = new LiveChecks({
    definitions,
    onCheck: opts.onCheck,
    diagnose: () => diagnose(),
    signal: run.signal,
    stopReason: () => stopReason ?? 'stopped',
  });
  const started = Date.now();
  let failure: unknown;
  try {
    const kube = await connect(opts, run.signal);
    await deleteNamespacesOfDeadRunsQuietly(kube, opts.onProgress);
    const controllerArgs = readControllerArgs(kube).catch(() => ({}) as Awaited<ReturnType<typeof readControllerArgs>>);
    await preflightMetrics(kube, run.signal);

    if (opts.keepNamespace) {
      opts.onProgress(`namespace ${namespace} will be kept (--keep-namespace); delete it with \`kubectl delete namespace ${namespace}\``);
    } else {
      undo.push(
        `delete namespace ${namespace}`,
        // A finished run only asks for the deletion: Kubernetes completes it in the background
        // (about 12 s for the lab's Pods, measured), and whoever needs the room next waits for it
        // (waitForRoom counts terminating Pods). An interrupted run waits, so it exits clean.
        async (signal) => {
          if (opts.signal.aborted) await deleteNamespaceAndWait(kube, namespace, NAMESPACE_DELETE_AFTER_STOP_MS, signal);
          else await requestNamespaceDeletion(kube, namespace, signal);
        },
        { timeoutMs: NAMESPACE_DELETE_TIMEOUT_MS + 10_000 },
      );
    }
    await createGradingNamespace(kube, namespace, runId, run.signal);
    opts.onProgress(`namespace ${namespace} created (run ${runId}; Pod Security baseline, quota 20 Pods, 4 CPU, 4Gi)`);

    const locate = await loadLocator(opts.submissionDir);
    const app = appUnderTest(opts.manifests);
    const api = <T>(what: string, fn: () => Promise<T>): Promise<T> => withRetry(what, fn, { signal: run.signal });
    if (!app) {
      await checks.run('submission.applies', async () => appliesVerdict(await applyAll({ kube, api }, manifests, locate)));
      await checks.block(checks.pending(), 'failed', `not tested: no Deployment in the specs runs the lab's app (image sixeyed/configurable)`, {
        hint: 'Run the app from a Deployment whose container image is sixeyed/configurable:21.04, as in the lab\'s specs.',
      });
      return checks.results();
    }

    if (opts.onFloors) {
      const args = await controllerArgs;
      const timings = timingsFromFlags(args.controllerManager, args.metricsServer);
      opts.onFloors({ timings: `${timings.source}: HPA sync ${timings.hpaSyncSeconds}s, downscale stabilization ${timings.downscaleStabilizationSeconds}s, metrics resolution ${timings.metricResolutionSeconds}s`, groups: groupFloors(floorInputs(opts.manifests, app, timings)) });
    }
    const ctx = new ScenarioContext(kube, namespace, app, run.signal, budget, undo, runId, opts.onProgress);
    diagnose = () => ctx.diagnostics();
    let applied: ApplyOutcome | undefined;
    await checks.run('submission.applies', async () => {
      // A dry run first: an app Deployment the API server rejects is the learner's to fix,
      // whatever the room on the cluster; only then wait for room for the app's Pods.
      const dry = await applyAll(ctx, manifests, locate, { dryRun: true });
      if (dry.rejections.some((r) => r.kind === 'Deployment' && r.name === app.deployment)) {
        applied = dry;
        return appliesVerdict(dry);
      }
      const waited = await oneAtATime(async () => {
        const w = await waitForRoom(kube, namespace, opts.manifests, budget, run.signal, opts.onProgress);
        applied = await applyAll(ctx, manifests, locate);
        if (!applied.rejections.some((r) => r.kind === 'Deployment' && r.name === app.deployment)) await podsPlaced(ctx, opts.manifests, run.signal);
        return w;
      });
      if (!applied) throw new Error('internal: the specs were not applied');
      const verdict = appliesVerdict(applied);
      return waited > 1_000 ? `${verdict} (after waiting ${Math.round(waited / 1000)}s for room on the cluster)` : verdict;
    });
    const appRejection = applied?.rejections.find((r) => r.kind === 'Deployment' && r.name === app.deployment);
    if (checks.status('submission.applies') === 'error') {
      await checks.block(checks.pending(), 'error', 'not run: the grader could not apply the specs (see submission.applies)');
      return checks.results();
    }
    if (appRejection) {
      const appliesDiagnostics = checks.result('submission.applies')?.diagnostics;
      await checks.block(checks.pending(), 'failed', `not tested: the API server rejected the app's Deployment: ${appRejection.message}`, appliesDiagnostics ? { diagnostics: appliesDiagnostics } : {});
      return checks.results();
    }

    // The check about the app's Pods: when they cannot run, the checks that need them are not tested.
    const podsCheckId = lab.podsCheck ?? 'replicas.ready-five';
    const pods: PodsVerdict = {};
    await checks.run(podsCheckId, () => podsCheck(ctx, pods));
    const podsDiagnostics = checks.result(podsCheckId)?.diagnostics;
    if (pods.cannotRun) {
      await checks.block(checks.pending(), 'failed', `not tested: the app's Pods cannot run (see ${podsCheckId}): ${pods.cannotRun.message}`, {
        hint: pods.cannotRun.hint,
        ...(podsDiagnostics ? { diagnostics: podsDiagnostics } : {}),
      });
      return checks.results();
    }
    if (pods.noRoom) {
      await checks.block(checks.pending(), 'error', `not run: the cluster has no room for the app's Pods (see ${podsCheckId})`);
      return checks.results();
    }

    await securityScenario(ctx, checks);
    await probesScenario(ctx, checks);
    await hpaScenario(ctx, checks);
    opts.onProgress(`live checks finished in ${Math.round((Date.now() - started) / 1000)}s`);
  } catch (error) {
    failure = error;
  } finally {
    clearTimeout(budgetTimer);
    opts.signal.removeEventListener('abort', onAbort);
    const pending = undo.pending();
    if (pending.length > 0) opts.onProgress(`cleaning up: ${pending.join('; ')}`);
    const failures = await undo.runAll();
    if (failures[0]) {
      opts.onProgress(`cleanup failed: ${describeUndoFailure(failures[0])}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`);
    }
  }

  if (failure instanceof BudgetExhausted) budgetRanOut = true;
  if (failure instanceof RunStopped || failure instanceof BudgetExhausted || (failure !== undefined && run.signal.aborted)) {
    // Interrupted: the CLI reports what did not run. Out of budget: say so here.
    if (budgetRanOut) await checks.block(checks.pending(), 'skipped', `not run: ${new BudgetExhausted(opts.budgetMs).message}`);
    return checks.results();
  }
  if (failure !== undefined) {
    // A lost cluster (EnvironmentError) or a grader bug: the CLI reports the rest and exits 3.
    throw failure;
  }
  return checks.results();
}

/**
 * Grading namespaces of runs on this host that were killed outright (SIGKILL, a crash) are
 * deleted by the next grade: live runs and other hosts' runs are never touched. Best effort.
 */
async function deleteNamespacesOfDeadRunsQuietly(kube: Kube, onProgress: (line: string) => void): Promise<void> {
  try {
    const deleted = await deleteNamespacesOfDeadRuns(kube);
    if (deleted.length) onProgress(`deleting namespaces of grading runs that died on this host: ${deleted.join(', ')}`);
  } catch (error) {
    onProgress(`could not look for namespaces of dead runs: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

/** Clients for the context; without --context, brings up the default kind cluster if needed. */
async function connect(opts: LiveGradeOptions, signal: AbortSignal): Promise<Kube> {
  const context = opts.context ?? kindContext(DEFAULT_CLUSTER_NAME);
  const reach = async (): Promise<Kube> => {
    const kube = loadKube(context);
    await withRetry('reach the API server', () => kube.core.listNamespace({ limit: 1 }), { signal, retries: 2 });
    return kube;
  };
  try {
    return await reach();
  } catch (error) {
    // lab-grader's own kind clusters are brought back (e.g. after dockerd restarted their node).
    const own = ownClusterOfContext(context);
    const bringUp = opts.bringUpCluster ?? (opts.context === undefined || own !== undefined);
    const unreachable = error instanceof EnvironmentError || isConnectionError(error);
    if (!unreachable) throw error;
    if (!bringUp) {
      if (error instanceof EnvironmentError && !(error instanceof ClusterUnreachableError)) throw error;
      const cause = error instanceof ClusterUnreachableError ? error.cause : error;
      throw new EnvironmentError(`the cluster of context ${context} is not reachable: ${apiMessage(cause)}`, 'check the context with `kubectl --context ' + context + ' get nodes`');
    }
    const name = own?.name ?? DEFAULT_CLUSTER_NAME;
    opts.onProgress(`no grading cluster reachable (${errorText(error).split('\n')[0]}): bringing up the kind cluster "${name}"`);
    await clusterUp({ name, profile: own?.profile ?? 'grading', offline: 'auto', progress: progressFor(opts.onProgress) });
    return reach();
  }
}

/** HPAs cannot act without the metrics API: that is the environment's fault, not the learner's. */
async function preflightMetrics(kube: Kube, signal: AbortSignal): Promise<void> {
  try {
    await waitForPodMetrics(kube, { timeoutMs: METRICS_PREFLIGHT_MS, signal });
  } catch (error) {
    if (error instanceof WaitTimeoutError) {
      throw new EnvironmentError(
        `the metrics API serves no Pod metrics (${error.lastObserved}), so HPAs cannot scale`,
        'install metrics-server (`lab-grader cluster up` does) and check `kubectl get apiservice v1beta1.metrics.k8s.io`',
      );
    }
    throw error;
  }
}

let roomQueue: Promise<unknown> = Promise.resolve();

/**
 * Gradings in one process (a batch, the fixture suite) take turns from "is there room?" until
 * their Pods are scheduled: two that looked at the same free room at once would both apply, and
 * the second one's Pods would sit in Pending, failing a learner for the grader's crowding.
 */
function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const turn = roomQueue.then(fn, fn);
  roomQueue = turn.catch(() => undefined);
  return turn;
}

/** Until the app's Pods are bound to nodes (so the next grading's room check counts them), at most a few seconds. */
async function podsPlaced(ctx: ScenarioContext, manifests: readonly Record<string, unknown>[], signal: AbortSignal): Promise<void> {
  const pods = appFootprint(manifests, REPLICAS_WANTED, milli(CONTAINER_DEFAULTS.defaultRequest.cpu))?.pods ?? 1;
  await waitFor(
    async () => {
      const list = await ctx.pods();
      const placed = list.filter((p) => p.spec?.nodeName).length;
      return { done: placed >= pods, observed: `${placed} of ${pods} Pods scheduled` };
    },
    { description: `the app's Pods are scheduled`, timeoutMs: PLACEMENT_WAIT_MS, signal, intervalsMs: [250, 500] },
  ).catch((error: unknown) => {
    if (!(error instanceof WaitTimeoutError)) throw error;
  });
}

/**
 * Waits until the cluster has CPU room for the app's Pods (another grading may hold it), or
 * reports that it never could: that is the environment's limit, not the learner's mistake.
 * Submissions asking for more than the namespace quota are left to the quota (their failure).
 */
async function waitForRoom(
  kube: Kube,
  namespace: string,
  manifests: readonly Record<string, unknown>[],
  budget: Budget,
  signal: AbortSignal,
  progress: (line: string) => void,
): Promise<number> {
  const started = Date.now();
  const footprint = appFootprint(manifests, REPLICAS_WANTED, milli(CONTAINER_DEFAULTS.defaultRequest.cpu));
  if (!footprint || footprint.perPodMilli <= 0) return 0;
  const { pods, perPodMilli } = footprint;
  const quotaMilli = Number(QUOTA_HARD['requests.cpu']) * 1000;
  if (pods * perPodMilli > quotaMilli) return 0;
  const room = await withRetry('read the room on the cluster', () => clusterRoom(kube), { signal });
  const idle = podsThatFit(room, perPodMilli, 'idle');
  if (idle < pods) {
    throw new EnvironmentError(
      `the cluster is too small for this submission: the app needs ${pods} Pods requesting ${perPodMilli}m CPU each, and the nodes have room for ${idle} besides the system's own Pods (${describeRoom(room)})`,
      `grade on a cluster with more CPU (kind on a machine with 4 or more cores); the lab's spec requests 125m per Pod`,
    );
  }
  // Take turns with other waiting gradings (see kube/room-queue.ts).
  const asked = pods * perPodMilli;
  const look = async (r: ClusterRoom) => {
    const q = await withRetry('read the gradings waiting for room', () => readQueue(kube, namespace), { signal });
    const now = podsThatFit({ ...r, pendingMilli: r.pendingMilli + q.reservedMilli }, perPodMilli, 'now');
    const queue = q.ahead.length > 0 ? `; ${q.ahead.length} earlier grading${q.ahead.length === 1 ? '' : 's'} waiting first` : '';
    const reserved = q.reservedMilli > 0 ? `, ${q.reservedMilli}m promised to a grading starting` : '';
    return { done: now >= pods && q.ahead.length === 0, observed: `room for ${Math.min(now, pods)} of the app's ${pods} Pods (${perPodMilli}m CPU each): ${describeRoom(r)}${reserved}${queue}` };
  };
  const admit = () => withRetry('mark the grading as let in', () => markRoom(kube, namespace, 'admitted', asked), { signal });
  if ((await look(room)).done) {
    await admit();
    return 0;
  }
  await withRetry('mark the grading as waiting for room', () => markRoom(kube, namespace, 'waiting', asked), { signal });
  const { timeoutMs, truncated } = budget.bound(ROOM_WAIT_MS);
  try {
    await waitFor(
      async () => look(await withRetry('read the room on the cluster', () => clusterRoom(kube), { signal })),
      {
        description: `the cluster has room for the app's ${pods} Pods`,
        timeoutMs,
        signal,
        intervalsMs: [1000, 2000],
        onProgress: (o) => progress(`waiting for other workloads to free room on the cluster: ${o}`),
      },
    );
    await admit();
    return Date.now() - started;
  } catch (error) {
    if (error instanceof WaitTimeoutError) {
      if (truncated) throw new BudgetExhausted(budget.budgetMs);
      throw new EnvironmentError(
        `no room on the cluster for the app's ${pods} Pods after waiting ${Math.round(timeoutMs / 60_000)} minutes: ${error.lastObserved}`,
        'other workloads hold the CPU; grade when they are done, or on a larger cluster',
      );
    }
    throw error;
  }
}

function progressFor(line: (text: string) => void): Progress {
  let last = '';
  return {
    step: (t) => line(`cluster: ${t}`),
    waiting: (t) => {
      if (t !== last) line(`cluster: ${t}`);
      last = t;
    },
    done: () => undefined,
  };
}
