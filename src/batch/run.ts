// `lab-grader batch`: grades every submission of a class on one cluster, N at a time.
//
// Each submission is graded by `lab-grader grade` in a child process of its own (own process
// group), so it gets the very same pipeline, namespace, reports and exit code as a single
// grading, and a submission that crashes or hangs its grader cannot take the batch down: a child
// that outlives its time budget is stopped (SIGINT, then SIGKILL) and reported. The next
// submission starts when a slot is free AND the cluster has CPU room for its app's Pods
// (kube/capacity.ts), counting the Pods of gradings that started but have not created theirs yet;
// also the first one, so a cluster busy with other work holds the class back instead of failing
// it. Submissions with nothing to run (ungradable, no Deployment) start without waiting for room.
//
// After every finished submission the batch files are rewritten, so an interrupted or killed
// batch leaves them on disk saying what was not graded. A child that ends with exit 3 makes the
// batch check the cluster: if the API server no longer answers, the batch stops with exit 3.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterRoom, describeRoom, podsThatFit, type ClusterRoom } from '../kube/capacity.js';
import { apiMessage, loadKube, type Kube } from '../kube/client.js';
import { CONTAINER_DEFAULTS, OWNER_PID_ANNOTATION } from '../kube/namespace.js';
import { withRetry } from '../kube/retry.js';
import { waitForPodMetrics } from '../cluster/readiness.js';
import { milli } from '../kube/capacity.js';
import type { AnyLab } from '../engine/lab.js';
import { EnvironmentError, UsageError } from '../model.js';
import { LAB_IDS, LABS, recogniseLab } from '../labs/index.js';
import { batchExitCode, type BatchEntry, type BatchOutcome } from '../report/batch.js';
import { isComplete, readResult, writeBatchFiles } from '../report/batch-files.js';
import { formatDuration } from '../report/groups.js';
import { loadSubmission } from '../submission/load.js';
import { discoverSubmissions, type BatchInput } from './inputs.js';
import { BatchProgress } from './progress.js';
import { errorText } from '../util/error-text.js';

/**
 * Default concurrency, measured on a 2-core machine (kind, 2 CPUs allocatable; README, "Grading a
 * class"): 2 at once graded 6 submissions a third faster, but two apps starting at once on 2 busy
 * cores made one learner's liveness probe time out, changing its verdicts. One at a time never did;
 * raise it with --concurrency on a cluster with CPU to spare.
 */
export const DEFAULT_CONCURRENCY = 1;
const REPLICAS = 5;
/** Beyond its time budget, how long a grading may take to write its reports before it is stopped. */
const OVERRUN_GRACE_MS = 3 * 60_000;
const KILL_AFTER_MS = 45_000;
const GATE_POLL_MS = 3_000;
/** How long the batch holds a submission back for room on the cluster before its grading starts anyway. */
const ROOM_WAIT_MS = 30 * 60_000;

export interface BatchOptions {
  source: string;
  /** Default: the one lab the submissions are recognised as (exit 4 when none or several). */
  lab?: AnyLab;
  out: string;
  concurrency?: number;
  context?: string;
  resume: boolean;
  budgetMs: number;
  /** Passed to every grading. */
  io: { stdout: (t: string) => void; stderr: (t: string) => void; env: NodeJS.ProcessEnv; isTTY: boolean };
}

interface Running {
  input: BatchInput;
  /** Set once the grading process is spawned. */
  child: ChildProcess | undefined;
  started: number;
  pods: number;
  perPodMilli: number;
  done: Promise<BatchEntry>;
}

export async function runBatch(options: BatchOptions): Promise<number> {
  const { io } = options;
  const progress = new BatchProgress(io);
  const { inputs, notes } = await discoverSubmissions(options.source);
  const opts = { ...options, lab: options.lab ?? (await recogniseBatchLab(inputs)) };
  for (const n of notes) progress.line(`batch: warning: ${n}`);
  await mkdir(opts.out, { recursive: true });

  const entries = new Map<string, BatchEntry>();
  let stopped: string | undefined;
  const outcome = (): BatchOutcome => ({
    lab: opts.lab,
    entries: inputs.map(
      (i) => entries.get(i.name) ?? { name: i.name, dir: i.dir, state: 'not-graded', exitCode: 3, durationMs: 0, reason: stopped ? 'the batch stopped before grading it' : 'not graded yet (the batch is still running or was killed)' },
    ),
    ...(stopped ? { stopped } : {}),
  });
  let writing: Promise<unknown> = Promise.resolve();
  const rewrite = (): Promise<unknown> => (writing = writing.then(() => writeBatchFiles(opts.out, outcome())).catch((err: unknown) => progress.line(`batch: could not write the batch files to ${opts.out}: ${String(err)}`)));

  if (inputs.length === 0) {
    progress.line(`batch: ${opts.source} holds no submission folders: nothing to grade`);
    await rewrite();
    printTotals(outcome(), opts, io);
    return batchExitCode(outcome());
  }

  // Bad input and results kept from an earlier run, before anything touches the cluster.
  const previous = opts.resume ? await previousDurations(opts.out) : new Map<string, number>();
  const queue: BatchInput[] = [];
  for (const input of inputs) {
    if (input.warning) progress.line(`batch: warning: ${input.warning}`);
    if (input.problem) {
      progress.line(`batch: not graded: ${input.problem}`);
      entries.set(input.name, { name: input.name, dir: input.dir, state: 'not-graded', exitCode: 2, durationMs: 0, reason: input.problem });
      continue;
    }
    if (opts.resume) {
      const run = await readResult(path.join(opts.out, input.name, 'result.json'));
      if (run && isComplete(run)) {
        entries.set(input.name, { name: input.name, dir: input.dir, state: 'graded', exitCode: run.exitCode ?? 3, durationMs: previous.get(input.name) ?? run.durationMs, run });
        progress.line(`batch: ${input.name}: kept from an earlier run (--resume): ${run.score}/${run.maxScore}, exit ${run.exitCode}`);
        continue;
      }
    }
    queue.push(input);
  }

  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  let context = opts.context;
  let kube: Kube | undefined;
  if (queue.length > 0) {
    try {
      context ??= await ensureGradingCluster();
      kube = loadKube(context);
      progress.line(await preflight(kube, context, concurrency, opts.concurrency === undefined, opts.lab.needsMetrics ?? false));
    } catch (err) {
      stopped = `the cluster is not usable: ${errorText(err)}`;
      progress.line(`batch: ${stopped}`);
      if (err instanceof EnvironmentError && err.advice) progress.line(`  ${err.advice}`);
      await rewrite();
      printTotals(outcome(), opts, io);
      return batchExitCode(outcome());
    }
  }

  const running = new Map<string, Running>();
  const footprints = new Map<string, { pods: number; perPodMilli: number }>();
  let waitingFor: { name: string; since: number } | undefined;
  let signals = 0;
  const wake = new Wakeup();
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      stopped ??= `interrupted by ${signal}`;
      progress.line(`batch: ${signal}: no new gradings; stopping the ${running.size} running (their reports are written), then the batch files`);
    } else {
      progress.line(`batch: ${signal} again: stopping the gradings without cleanup`);
    }
    for (const r of running.values()) signalGroup(r.child, 'SIGINT');
    wake.now();
  };
  const onSigint = (): void => onSignal('SIGINT');
  const onSigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);

  const started = Date.now();
  progress.start(inputs.length, entries.size, queue.length, concurrency);
  try {
    while (queue.length > 0 || running.size > 0) {
      if (!stopped && queue.length > 0 && running.size < concurrency) {
        // Submissions with no app to run need no room: they go ahead of one that waits for it.
        for (const q of queue) if (!footprints.has(q.name)) footprints.set(q.name, await footprintOf(opts.lab, q.dir));
        const idle = queue.findIndex((q) => footprints.get(q.name)?.pods === 0);
        const index = running.size > 0 && idle >= 0 ? idle : 0;
        const next = queue[index] as BatchInput;
        const footprint = footprints.get(next.name) ?? { pods: 0, perPodMilli: 0 };
        // Waiting here rather than in the grading keeps a busy cluster (other gradings, other
        // users) from failing a submission with "no room"; after ROOM_WAIT_MS the grading starts
        // anyway and reports the cluster's state itself, as it does when the cluster is too small.
        if (waitingFor?.name !== next.name) waitingFor = { name: next.name, since: Date.now() };
        const gate =
          footprint.pods === 0 || Date.now() - waitingFor.since > ROOM_WAIT_MS
            ? { ok: true, why: '' }
            : await roomFor(kube as Kube, footprint, [...running.values()]).catch((err: unknown) => ({ ok: false, why: `could not read the room on the cluster: ${apiMessage(err)}` }));
        if (gate.ok) {
          waitingFor = undefined;
          queue.splice(index, 1);
          const r = startGrading(next, footprint, opts, context as string, progress);
          running.set(next.name, r);
          progress.update(running.size, queue.length);
          void r.done.then(() => wake.now());
          continue;
        }
        progress.waiting(`${next.name} waits for room on the cluster`, gate.why);
      }
      if (stopped && queue.length > 0) {
        for (const q of queue.splice(0)) entries.set(q.name, { name: q.name, dir: q.dir, state: 'not-graded', exitCode: 3, durationMs: 0, reason: stopped });
      }
      const finished = await Promise.race([...[...running.values()].map((r) => r.done), wake.wait(GATE_POLL_MS).then(() => undefined)]);
      if (!finished) continue;
      running.delete(finished.name);
      entries.set(finished.name, finished);
      progress.finished(finished, running.size, queue.length);
      if (finished.exitCode === 3 && !stopped && kube) {
        const lost = await clusterLost(kube);
        if (lost) {
          stopped = `the cluster was lost: ${lost}`;
          progress.line(`batch: ${stopped}; stopping the running gradings and keeping every finished result`);
          for (const r of running.values()) signalGroup(r.child, 'SIGINT');
        }
      }
      await rewrite();
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    progress.end();
  }
  await rewrite();
  await writing;
  printTotals(outcome(), opts, io, Date.now() - started);
  return batchExitCode(outcome());
}

function startGrading(input: BatchInput, footprint: { pods: number; perPodMilli: number }, opts: BatchOptions & { lab: AnyLab }, context: string, progress: BatchProgress): Running {
  const outDir = path.join(opts.out, input.name);
  const bin = fileURLToPath(new URL('../../bin/lab-grader.js', import.meta.url));
  const args = [bin, 'grade', input.dir, '--lab', opts.lab.id, '--out', outDir, '--context', context, '--budget', `${Math.round(opts.budgetMs / 1000)}s`];
  const started = Date.now();
  // Plain progress lines in the log; no GitHub annotations per submission (the batch writes its
  // own step summary).
  const env = { ...opts.io.env, CI: 'true', GITHUB_ACTIONS: '', NO_COLOR: '1' };
  const running: Running = { input, child: undefined, started, pods: footprint.pods, perPodMilli: footprint.perPodMilli, done: Promise.resolve(undefined as unknown as BatchEntry) };
  running.done = (async (): Promise<BatchEntry> => {
    await mkdir(outDir, { recursive: true });
    const log = createWriteStream(path.join(outDir, 'grade.log'));
    const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.child = child;
    let tail = '';
    const keep = (chunk: Buffer): void => {
      log.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let overran = false;
    const overrun = setTimeout(() => {
      overran = true;
      progress.line(`batch: ${input.name}: still running ${formatDuration(opts.budgetMs + OVERRUN_GRACE_MS)} after it started (budget ${formatDuration(opts.budgetMs)}): stopping it`);
      signalGroup(child, 'SIGINT');
      setTimeout(() => signalGroup(child, 'SIGKILL'), KILL_AFTER_MS).unref();
    }, opts.budgetMs + OVERRUN_GRACE_MS);
    const code = await new Promise<number>((resolve) => {
      child.on('error', (err) => {
        tail += `\n${err.message}`;
        resolve(3);
      });
      child.on('close', (c, sig) => resolve(c ?? (sig ? 3 : 3)));
    });
    clearTimeout(overrun);
    await new Promise<void>((resolve) => log.end(resolve));
    const durationMs = Date.now() - started;
    const run = await readResult(path.join(outDir, 'result.json'));
    const entry: BatchEntry = { name: input.name, dir: input.dir, state: run ? 'graded' : 'not-graded', exitCode: code, durationMs };
    if (run) entry.run = run;
    if (overran) entry.reason = `stopped after overrunning its time budget of ${formatDuration(opts.budgetMs)}`;
    else if (!run) entry.reason = `the grader exited with code ${code} without writing result.json: ${lastLine(tail)} (see ${path.join(outDir, 'grade.log')})`;
    if (code === 4) {
      entry.state = 'not-graded';
      entry.reason = `grade rejected its arguments: ${lastLine(tail)}`;
      delete entry.run;
    }
    return entry;
  })();
  progress.line(`batch: started ${input.name}`);
  return running;
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? 'no output';
}

function signalGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Pods the submission's app asks for (0 when it has none to run: it needs no room). */
/** The lab every recognisable submission looks like; none or several is a usage error naming them. */
async function recogniseBatchLab(inputs: readonly BatchInput[]): Promise<AnyLab> {
  const seen = new Map<string, { lab: AnyLab; names: string[] }>();
  let readable = 0;
  for (const input of inputs) {
    if (input.problem) continue;
    try {
      const objects = (await loadSubmission(input.dir)).objects;
      readable++;
      const lab = recogniseLab(objects);
      const entry = seen.get(lab.id) ?? { lab, names: [] };
      entry.names.push(input.name);
      seen.set(lab.id, entry);
    } catch {
      // Unreadable or unrecognisable: graded (and reported) against the batch's lab.
    }
  }
  const found = [...seen.values()];
  if (found.length === 1 && found[0]) return found[0].lab;
  // Nothing readable to recognise (an empty class, missing folders): reported against the first lab.
  if (found.length === 0 && readable === 0 && LABS[0]) return LABS[0];
  if (found.length === 0) throw new UsageError(`no submission of the batch looks like one of the labs (${LAB_IDS.join(', ')}): pass --lab <id>`);
  throw new UsageError(`the submissions look like different labs (${found.map((f) => `${f.lab.id}: ${f.names.slice(0, 3).join(', ')}${f.names.length > 3 ? '…' : ''}`).join('; ')}): grade each lab's with its own --lab`);
}

async function footprintOf(lab: AnyLab, dir: string): Promise<{ pods: number; perPodMilli: number }> {
  try {
    const sub = await loadSubmission(dir);
    const f = await lab.footprint?.(sub.objects, milli(CONTAINER_DEFAULTS.defaultRequest.cpu));
    return f ? { pods: Math.min(f.pods, REPLICAS), perPodMilli: f.cpuMilli } : { pods: 0, perPodMilli: 0 };
  } catch {
    return { pods: 0, perPodMilli: 0 };
  }
}

/**
 * Whether the next submission's Pods fit now, after reserving room for the gradings that started
 * but whose Pods are not all there yet (their namespaces carry the child's pid).
 */
async function roomFor(kube: Kube, next: { pods: number; perPodMilli: number }, running: Running[]): Promise<{ ok: boolean; why: string }> {
  const [room, namespaces] = await Promise.all([clusterRoom(kube), kube.core.listNamespace()]);
  let reservedMilli = 0;
  for (const r of running) {
    const ns = namespaces.items.find((n) => n.metadata?.annotations?.[OWNER_PID_ANNOTATION] === String(r.child?.pid));
    let present = 0;
    let ready = 0;
    if (ns?.metadata?.name) {
      const pods = (await kube.core.listNamespacedPod({ namespace: ns.metadata.name })).items;
      present = pods.length;
      ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    }
    reservedMilli += Math.max(0, r.pods - present) * r.perPodMilli;
    // One app starts at a time: on a small machine two apps starting at once starve each other's
    // probes (measured: a liveness probe timed out and changed a learner's verdicts).
    if (r.pods > 0 && ready < r.pods) {
      return { ok: false, why: `${r.input.name}'s app is starting (${ready} of ${r.pods} Pods ready): one app starts at a time` };
    }
  }
  const reservedPods = next.perPodMilli > 0 ? Math.ceil(reservedMilli / next.perPodMilli) : 0;
  const fit = podsThatFit(room, next.perPodMilli, 'now') - reservedPods;
  // A cluster too small for the app even when idle: no point waiting, the grading says so.
  const tooSmall = podsThatFit(room, next.perPodMilli, 'idle') < next.pods;
  return {
    ok: fit >= next.pods || tooSmall,
    why: `room for ${Math.max(0, fit)} of its ${next.pods} Pods (${next.perPodMilli}m CPU each) besides ${reservedPods} reserved for gradings starting up; ${describeRoom(room)}`,
  };
}

/** The cluster no longer answers: why, or undefined when it does. */
async function clusterLost(kube: Kube): Promise<string | undefined> {
  try {
    await withRetry('reach the API server', () => kube.core.listNamespace({ limit: 1 }), { retries: 5, maxTimeoutMs: 8_000 });
    return undefined;
  } catch (err) {
    return apiMessage(err);
  }
}

/** One line saying what this cluster offers the batch and what is missing. */
async function preflight(kube: Kube, context: string, concurrency: number, defaulted: boolean, needsMetrics: boolean): Promise<string> {
  await withRetry('reach the API server', () => kube.core.listNamespace({ limit: 1 }), { retries: 3 });
  const missing: string[] = [];
  const metrics = !needsMetrics ? 'metrics API not needed' : await waitForPodMetrics(kube, { timeoutMs: 20_000 }).then(
    () => 'metrics API ok',
    (err: unknown) => {
      missing.push(`metrics API (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
      return 'metrics API missing';
    },
  );
  const room: ClusterRoom = await clusterRoom(kube);
  const perPod = milli(CONTAINER_DEFAULTS.defaultRequest.cpu);
  const apps = Math.floor(podsThatFit(room, perPod, 'idle') / REPLICAS);
  if (apps < 1) missing.push(`room for one submission's ${REPLICAS} Pods at ${perPod}m CPU (${describeRoom(room)})`);
  else if (apps < concurrency) missing.push(`room for ${concurrency} apps at once (fits ${apps}: the others wait for room)`);
  const why = defaulted ? ' (default: on 2 cores, 2 at once changed a verdict; --concurrency to change)' : '';
  const line = `batch: preflight ${context}: ${room.nodes.length} schedulable node${room.nodes.length === 1 ? '' : 's'}, ${metrics}, room for ${apps} submission app${apps === 1 ? '' : 's'} at once (${describeRoom(room)}); concurrency ${concurrency}${why}${missing.length ? `; missing: ${missing.join('; ')}` : ''}`;
  if (missing.some((m) => m.startsWith('metrics API') || m.startsWith('room for one'))) {
    throw new EnvironmentError(line, 'the gradings would all fail on this cluster; `lab-grader cluster up` installs metrics-server on the kind cluster');
  }
  return line;
}

async function previousDurations(out: string): Promise<Map<string, number>> {
  try {
    const json = JSON.parse(await readFile(path.join(out, 'batch.json'), 'utf8')) as { entries?: Array<{ name: string; durationMs: number; state: string }> };
    return new Map((json.entries ?? []).filter((e) => e.state === 'graded').map((e) => [e.name, e.durationMs]));
  } catch {
    return new Map();
  }
}

async function ensureGradingCluster(): Promise<string> {
  const { clusterUp } = await import('../cluster/lifecycle.js');
  const { DEFAULT_CLUSTER_NAME } = await import('../cluster/settings.js');
  const { createProgress } = await import('../util/progress.js');
  const { context } = await clusterUp({ name: DEFAULT_CLUSTER_NAME, profile: 'grading', offline: 'auto', progress: createProgress('cluster: ') });
  return context;
}

function printTotals(outcome: BatchOutcome, opts: BatchOptions & { lab: AnyLab }, io: BatchOptions['io'], wallMs?: number): void {
  const graded = outcome.entries.filter((e) => e.run).length;
  const lines = [
    `batch ${opts.lab.id}: ${outcome.entries.length} submissions, ${graded} graded, ${outcome.entries.length - graded} not graded${wallMs !== undefined ? ` in ${formatDuration(wallMs)}` : ''} (exit ${batchExitCode(outcome)})`,
  ];
  if (outcome.stopped) lines.push(`stopped: ${outcome.stopped}`);
  lines.push(`Batch files: ${['results.csv', 'junit.xml', 'summary.md', 'report.html'].map((f) => path.join(opts.out, f)).join(', ')}`);
  io.stdout(`${lines.join('\n')}\n`);
}

/** Lets the scheduler sleep until something happens (a grading ends, a signal) or a poll is due. */
class Wakeup {
  private resolvers: Array<() => void> = [];
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.resolvers.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  now(): void {
    const r = this.resolvers;
    this.resolvers = [];
    for (const f of r) f();
  }
}
