// The lab-agnostic live run: reach the cluster, make a fresh namespace, hand the lab's live plan a
// LiveRun (recorder, budget, stop, undo, apply), and clean up whatever happens.
//
// When the plan's checks cannot run because of the submission, the lab reports them `failed`
// ("not tested: …"); `error` is kept for what the grader or the environment could not decide.
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
import { apiMessage, isConnectionError, loadKube, statusCode, type Kube } from '../kube/client.js';
import { clusterRoom, describeRoom, podsThatFit, type ClusterRoom } from '../kube/capacity.js';
import { markRoom, readQueue } from '../kube/room-queue.js';
import { createGradingNamespace, deleteNamespaceAndWait, deleteNamespacesOfDeadRuns, QUOTA_HARD, requestNamespaceDeletion } from '../kube/namespace.js';
import { ClusterUnreachableError, withRetry } from '../kube/retry.js';
import { EnvironmentError, type CheckResult, type RunResult } from '../model.js';
import type { Progress } from '../util/progress.js';
import { waitFor, WaitTimeoutError, type Condition, type Observation } from '../wait/wait-for.js';
import { errorText } from '../util/error-text.js';
import { applyAll, type ApplyOutcome } from './apply.js';
import { Budget, cleanupReserve } from './budget.js';
import { LiveChecks } from './checks.js';
import type { ApplyResult, Lab, LiveRun, WaitSpec } from './lab.js';
import { BudgetExhausted, CheckFailed, RunStopped } from './outcomes.js';
import type { Locator } from '../submission/locate.js';
import type { ManifestObject } from '../submission/manifest.js';

export interface LiveGradeOptions {
  /** The lab whose live plan is run. */
  lab: Pick<Lab, 'id' | 'checks' | 'live' | 'needsMetrics'>;
  /** Objects after policy, as plain manifests, every one already in the grading namespace (metadata.namespace). */
  manifests: Array<Record<string, unknown>>;
  /** Labs with redefinitions 'switch': the later definitions, after policy, in the same namespace. */
  switchManifests?: Array<Record<string, unknown>>;
  /** Where each object was written in the learner's files (default: nowhere). */
  locate?: Locator;
  /** The submission's objects as the learner wrote them, before policy (LiveRun.written). */
  written?: readonly ManifestObject[];
  context?: string;
  budgetMs: number;
  keepNamespace: boolean;
  signal: AbortSignal;
  /** Called as each check finishes, so reports can be written incrementally. */
  onCheck: (result: CheckResult) => void;
  /** Progress lines for the terminal. */
  onProgress: (line: string) => void;
  /** Called when the lab knows the floor of each live group (summary.md shows them). */
  onFloors?: (floors: NonNullable<RunResult['floors']>) => void;
  /** Bring up the default kind cluster when no cluster is reachable (default true without --context). */
  bringUpCluster?: boolean;
  /** The live plan to run (default: the lab's `live`); selfcheck passes the lab's walkthrough. */
  plan?: (run: LiveRun<string>) => Promise<void>;
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
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Job', 'CronJob']);

export async function gradeLive(opts: LiveGradeOptions): Promise<CheckResult[]> {
  const lab = opts.lab;
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
    diagnose: async () => {
      try {
        return await diagnose();
      } catch (error) {
        return `(diagnostics could not be collected: ${errorText(error)})`;
      }
    },
    signal: run.signal,
    stopReason: () => stopReason ?? 'stopped',
  });
  const started = Date.now();
  let failure: unknown;
  try {
    const kube = await connect(opts, run.signal);
    await deleteNamespacesOfDeadRunsQuietly(kube, opts.onProgress);
    if (lab.needsMetrics) await preflightMetrics(kube, run.signal, opts);

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

    const locate: Locator = opts.locate ?? (() => undefined);
    const api = <T>(what: string, fn: () => Promise<T>): Promise<T> => withRetry(what, fn, { signal: run.signal });
    const liveRun: LiveRun<string> = {
      kube,
      namespace,
      runId,
      signal: run.signal,
      undo,
      checks,
      manifests,
      switchManifests: (opts.switchManifests ?? []) as Manifest[],
      written: opts.written ?? [],
      locate,
      progress: opts.onProgress,
      api,
      wait: <T>(condition: Condition<T>, spec: WaitSpec): Promise<Observation<T>> => budgetedWait(condition, spec, budget, run.signal),
      apply: (objects = manifests, applyOpts = {}) => applyInto({ kube, api, namespace, locate, budget, signal: run.signal, progress: opts.onProgress }, objects, applyOpts),
      diagnoseWith: (collect) => {
        diagnose = collect;
      },
      setFloors: (floors) => opts.onFloors?.(floors),
    };
    await (opts.plan ?? ((r: LiveRun<string>) => lab.live(r)))(liveRun);
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

/** The grading namespace the manifests carry (the CLI moved every object into it). */
export function namespaceOf(manifests: readonly Manifest[]): string {
  const names = new Set(manifests.map((m) => m.metadata?.namespace).filter((n): n is string => typeof n === 'string' && n !== ''));
  if (names.size !== 1) {
    throw new Error(`live grading needs every manifest in one grading namespace; found ${names.size === 0 ? 'none' : [...names].join(', ')}`);
  }
  return [...names][0] as string;
}

/**
 * waitFor within the budget. The learner's failures and the environment's stop the wait at
 * once; a wait cut short by the budget throws BudgetExhausted instead of a timeout.
 */
async function budgetedWait<T>(condition: Condition<T>, spec: WaitSpec, budget: Budget, signal: AbortSignal): Promise<Observation<T>> {
  const { timeoutMs, truncated } = budget.bound(spec.timeoutMs);
  try {
    return await waitFor(condition, {
      description: spec.description,
      timeoutMs,
      signal,
      ...(spec.intervalsMs ? { intervalsMs: spec.intervalsMs } : {}),
      ...(spec.onProgress ? { onProgress: spec.onProgress } : {}),
      isFatal: (e) => e instanceof EnvironmentError || e instanceof CheckFailed || (spec.isFatal?.(e) ?? false),
    });
  } catch (error) {
    if (error instanceof WaitTimeoutError && truncated) throw new BudgetExhausted(budget.budgetMs);
    throw error;
  }
}

interface ApplyBase {
  kube: Kube;
  api: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  namespace: string;
  locate: Locator;
  budget: Budget;
  signal: AbortSignal;
  progress: (line: string) => void;
}

async function applyInto(
  base: ApplyBase,
  objects: readonly Manifest[],
  opts: { dryRun?: boolean; pods?: { count: number; cpuMilli: number } },
): Promise<ApplyResult> {
  if (opts.dryRun || !opts.pods || opts.pods.count <= 0) {
    return { ...(await applyAll(base, objects, base.locate, opts.dryRun ? { dryRun: true } : {})), waitedForRoomMs: 0 };
  }
  const pods = opts.pods;
  let applied: ApplyOutcome | undefined;
  const waited = await oneAtATime(async () => {
    const w = await waitForRoom(base, pods);
    applied = await applyAll(base, objects, base.locate);
    if (!applied.rejections.some((r) => WORKLOAD_KINDS.has(r.kind))) await podsPlaced(base, pods.count);
    return w;
  });
  if (!applied) throw new Error('internal: the objects were not applied');
  return { ...applied, waitedForRoomMs: waited };
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
export async function connect(opts: Pick<LiveGradeOptions, 'context' | 'bringUpCluster' | 'onProgress'>, signal: AbortSignal): Promise<Kube> {
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
    // A booting API server answers 401/403 until its authorizer has synced, and 5xx until it is
    // ready: on lab-grader's own cluster that is a cluster coming back, not a grader's bug.
    const code = statusCode(error);
    const booting = own !== undefined && code !== undefined && (code === 401 || code === 403 || code >= 500);
    if (!unreachable && !booting) throw error;
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

/**
 * HPAs cannot act without the metrics API: that is the environment's fault, not the learner's.
 * On lab-grader's own cluster, a metrics APIService stuck failing its discovery check (after the
 * node restarted) is repaired once by `cluster up`.
 */
async function preflightMetrics(kube: Kube, signal: AbortSignal, opts: Pick<LiveGradeOptions, 'context' | 'onProgress'>, repair = true): Promise<void> {
  try {
    await waitForPodMetrics(kube, { timeoutMs: METRICS_PREFLIGHT_MS, signal });
  } catch (error) {
    if (error instanceof WaitTimeoutError) {
      const own = ownClusterOfContext(opts.context ?? kindContext(DEFAULT_CLUSTER_NAME));
      if (repair && own && /FailedDiscoveryCheck/.test(error.lastObserved) && !signal.aborted) {
        opts.onProgress(`the metrics API is not available (${error.lastObserved}): repairing the kind cluster "${own.name}"`);
        await clusterUp({ name: own.name, profile: own.profile, offline: 'auto', progress: progressFor(opts.onProgress) });
        return preflightMetrics(kube, signal, opts, false);
      }
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

/** Until `count` Pods of the namespace are bound to nodes (so the next grading's room check counts them), at most a few seconds. */
async function podsPlaced(base: ApplyBase, count: number): Promise<void> {
  await waitFor(
    async () => {
      const list = await base.api('list the Pods of the grading namespace', () => base.kube.core.listNamespacedPod({ namespace: base.namespace }));
      const placed = list.items.filter((p) => p.spec?.nodeName).length;
      return { done: placed >= count, observed: `${placed} of ${count} Pods scheduled` };
    },
    { description: `the Pods are scheduled`, timeoutMs: PLACEMENT_WAIT_MS, signal: base.signal, intervalsMs: [250, 500] },
  ).catch((error: unknown) => {
    if (!(error instanceof WaitTimeoutError)) throw error;
  });
}

/**
 * Waits until the cluster has CPU room for the Pods (another grading may hold it), or reports
 * that it never could: that is the environment's limit, not the learner's mistake. Submissions
 * asking for more than the namespace quota are left to the quota (their failure).
 */
async function waitForRoom(base: ApplyBase, footprint: { count: number; cpuMilli: number }): Promise<number> {
  const { kube, namespace, budget, signal, progress } = base;
  const started = Date.now();
  const pods = footprint.count;
  const perPodMilli = footprint.cpuMilli;
  if (pods <= 0 || perPodMilli <= 0) return 0;
  const quotaMilli = Number(QUOTA_HARD['requests.cpu']) * 1000;
  if (pods * perPodMilli > quotaMilli) return 0;
  const room = await withRetry('read the room on the cluster', () => clusterRoom(kube), { signal });
  const idle = podsThatFit(room, perPodMilli, 'idle');
  if (idle < pods) {
    throw new EnvironmentError(
      `the cluster is too small for this submission: the app needs ${pods} Pods requesting ${perPodMilli}m CPU each, and the nodes have room for ${idle} besides the system's own Pods (${describeRoom(room)})`,
      `grade on a cluster with more CPU (kind on a machine with 4 or more cores)`,
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
