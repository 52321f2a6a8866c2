// lab-grader: grade a submission, manage the grading cluster, check the grader itself.
import { existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
// The cluster client and everything that talks to a cluster are imported only where used, so
// `--help` and `--static-only` load a YAML parser and pure functions (see runGrade, runCluster).
import type { ClusterAction } from './cluster/commands.js';
import type { AnyLab } from './engine/lab.js';
import { parsesPassed, runStaticRubric, submissionFailure } from './engine/static.js';
import { RunStop } from './engine/stop.js';
import { locatorFor } from './submission/locate.js';
import { getLab, LAB_IDS, LABS, labsNamingImages, recogniseLab } from './labs/index.js';
import { EnvironmentError, ExitCode, SubmissionError, UsageError, type CheckResult } from './model.js';
import { groupChecks, verdictLabel } from './report/groups.js';
import { ReportSession, type FinalizeOptions, type FinalizeOutcome } from './report/session.js';
import { loadSubmission, manifestTexts, type Submission } from './submission/load.js';
import { applyPolicy, makeNamespaceName } from './submission/policy.js';
import { splitRedefinitions } from './submission/redefinitions.js';
import { errorText } from './util/error-text.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (fancier progress lines). */
  isTTY: boolean;
}

interface GradeOptions {
  lab?: string;
  out?: string;
  staticOnly?: boolean;
  context?: string;
  budget: number;
  keepNamespace?: boolean;
}

const DEFAULT_BUDGET_MS = 15 * 60_000;
/** After a stop request, how long live grading may take to clean up before reports are written anyway. */
const STOP_GRACE_MS = 30_000;

export async function main(argv: string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
    ...ioOverrides,
  };
  let exitCode: number = ExitCode.Usage;

  const program = new Command('lab-grader')
    .description('Grades hands-on Kubernetes labs on a real cluster and reports JUnit with points.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(`lab-grader: ${text.trim().replace(/^error: /, '')} (see lab-grader --help)\n`),
    });

  program
    .command('grade')
    .description('grade one submission: a folder of Kubernetes YAML or JSON manifests')
    .argument('<submission-dir>', 'the folder with the learner\'s manifests')
    .addOption(new Option('--lab <id>', 'which lab the submission is for (default: recognised from the submission; see `lab-grader labs`)').choices(LAB_IDS))
    .option('--out <dir>', 'where to write junit.xml, result.json and summary.md (default: reports/<submission name>)')
    .option('--static-only', 'only check the files; do not apply them to a cluster')
    .option('--context <context>', 'kubeconfig context of the cluster to grade on')
    .addOption(
      new Option('--budget <duration>', 'time allowed for live grading, e.g. 15m or 90s')
        .argParser(parseDurationOption)
        .default(DEFAULT_BUDGET_MS, '15m'),
    )
    .option('--keep-namespace', 'keep the grading namespace afterwards for inspection')
    .action(async (dir: string, opts: GradeOptions) => {
      exitCode = await runGrade(dir, opts, io);
    });

  program
    .command('labs')
    .description('list the labs this grader knows: id, title and what the learner does')
    .action(() => {
      const width = Math.max(...LABS.map((l) => l.id.length));
      io.stdout(LABS.map((l) => `${l.id.padEnd(width)}  ${l.title}: ${l.summary}\n`).join(''));
      exitCode = ExitCode.Passed;
    });

  program
    .command('cluster')
    .description('manage the grading cluster (kind)')
    .addArgument(new Argument('<action>', 'up, down or status').choices(['up', 'down', 'status']))
    .option('--name <name>', 'cluster name', 'lab-grader')
    .addOption(new Option('--profile <profile>', 'cluster sizing').choices(['grading', 'default']))
    .option('--force', 'recreate or delete even when the cluster looks busy')
    .option('--restore-host', "down: also undo what scripts/host/ensure-docker.sh changed on this host (daemon.json, runc wrapper; needs root)")
    .action(async (action: ClusterAction, opts: { name: string; profile?: 'grading' | 'default'; force?: boolean; restoreHost?: boolean }) => {
      exitCode = await runCluster(action, opts, io);
    });

  program
    .command('batch')
    .description('grade a class: every subfolder of <dir> (or every path in a CSV/list file) is a submission; one cluster, N at a time')
    .argument('<dir|list>', 'a folder of submission folders, or a file listing them (one path per line, or the first column of a CSV)')
    .addOption(new Option('--lab <id>', 'which lab the submissions are for (default: recognised from them)').choices(LAB_IDS))
    .addOption(new Option('--concurrency <n>', 'gradings at once (default 1: measured on a 2-core machine, see the README)').argParser(parsePositiveInt))
    .option('--out <dir>', 'where to write <submission>/… and the batch files', path.join('reports', 'batch'))
    .option('--context <context>', 'kubeconfig context of the cluster to grade on (default: the kind cluster, brought up if needed)')
    .option('--resume', 'keep the complete results already in --out and grade only the rest')
    .addOption(
      new Option('--budget <duration>', 'time allowed for each submission\'s live grading')
        .argParser(parseDurationOption)
        .default(DEFAULT_BUDGET_MS, '15m'),
    )
    .action(async (source: string, opts: { lab?: string; concurrency?: number; out: string; context?: string; resume?: boolean; budget: number }) => {
      const { runBatch } = await import('./batch/run.js');
      exitCode = await runBatch({
        source,
        ...(opts.lab !== undefined ? { lab: getLab(opts.lab) } : {}),
        out: opts.out,
        ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        ...(opts.context !== undefined ? { context: opts.context } : {}),
        resume: opts.resume ?? false,
        budgetMs: opts.budget,
        io,
      });
    });

  program
    .command('merge')
    .description('join batch outputs graded in shards into one: results.csv, junit.xml, summary.md, report.html')
    .argument('<out-dirs...>', 'the --out folders of the shards\' batches')
    .option('--out <dir>', 'where to write the merged batch', path.join('reports', 'merged'))
    .action(async (dirs: string[], opts: { out: string }) => {
      const { runMerge } = await import('./batch/merge.js');
      exitCode = await runMerge({ dirs, out: opts.out, io });
    });

  program
    .command('selfcheck')
    .description("run a lab's walkthrough with its own specs: is this cluster fit for grading?")
    .addOption(new Option('--lab <id>', "whose walkthrough (default: the first lab's, see `lab-grader labs`)").choices(LAB_IDS))
    .option('--out <dir>', 'where to write the reports (default reports/selfcheck, with --lab reports/selfcheck/<id>)')
    .option('--context <context>', 'kubeconfig context of the cluster to check (default kind-lab-grader)')
    .action(async (opts: { lab?: string; out?: string; context?: string }) => {
      exitCode = await runSelfcheck(opts);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0);
      return ok ? ExitCode.Passed : ExitCode.Usage;
    }
    if (err instanceof UsageError) {
      io.stderr(`lab-grader: ${err.message}\n`);
      return ExitCode.Usage;
    }
    io.stderr(`lab-grader: ${describeError(err)}\n`);
    return ExitCode.Environment;
  }
  return exitCode;
}

/** `15m`, `90s`, `1h30m`, `500ms` → milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const part = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (const m of trimmed.matchAll(part)) {
    const unit = m[2] === 'h' ? 3_600_000 : m[2] === 'm' ? 60_000 : m[2] === 's' ? 1000 : 1;
    total += Number(m[1]) * unit;
    end = (m.index ?? 0) + m[0].length;
  }
  if (trimmed === '' || end !== trimmed.length || total <= 0) {
    throw new UsageError(`invalid duration ${JSON.stringify(text)}: use a number with a unit, e.g. 15m, 90s or 1h30m`);
  }
  return Math.round(total);
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number of 1 or more, got ${JSON.stringify(value)}`);
  return n;
}

function parseDurationOption(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError(errorText(err));
  }
}

/** The submission as read once for the whole run: its objects, or why they cannot be read. */
type Loaded = { submission: Submission } | { failure: unknown };

async function load(dir: string): Promise<Loaded> {
  try {
    return { submission: await loadSubmission(dir) };
  } catch (failure) {
    return { failure };
  }
}

/**
 * The lab to grade for: --lab, else the one the objects look like. Files that do not parse are
 * still reported: against the lab whose images they name, else the first lab, with a note.
 */
async function chooseLab(dir: string, opts: GradeOptions, loaded: Loaded): Promise<{ lab: AnyLab; notes: string[] }> {
  if (opts.lab !== undefined) return { lab: getLab(opts.lab), notes: [] };
  if ('submission' in loaded) return { lab: recogniseLab(loaded.submission.objects), notes: [] };
  const first = LABS[0];
  if (!first) throw new Error('no labs are registered');
  if (LABS.length === 1) return { lab: first, notes: [] };
  const named = labsNamingImages(await manifestTexts(dir));
  if (named.length === 1 && named[0]) {
    return { lab: named[0], notes: [`The objects could not be read; lab ${named[0].id} was recognised from the image names in the files`] };
  }
  return { lab: first, notes: [`The objects could not be read and the files name no single lab's images; reported as lab ${first.id}: pass --lab <id> to choose`] };
}

async function runGrade(dir: string, opts: GradeOptions, io: CliIo): Promise<number> {
  const outDir = opts.out ?? path.join('reports', path.basename(path.resolve(dir)) || 'submission');
  const info = await stat(dir).catch(() => undefined);
  const badPath = !info ? `submission directory not found: ${dir}` : !info.isDirectory() ? `submission path is not a directory: ${dir}` : undefined;
  // Bad input still leaves reports (every check an error, zero points) for whoever collects them.
  const usageReports = async (lab: AnyLab, reason: string): Promise<void> => {
    const session = new ReportSession({ lab, submission: dir, outDir, checkpoint: false, env: io.env, stdout: () => undefined, github: false });
    await session.finalize({ reason, unrun: 'error', exitCode: ExitCode.Usage }).catch(() => undefined);
  };
  const fallbackLab = (opts.lab !== undefined ? LABS.find((l) => l.id === opts.lab) : undefined) ?? LABS[0];
  if (badPath) {
    if (fallbackLab) await usageReports(fallbackLab, badPath);
    throw new UsageError(badPath);
  }
  const loaded = await load(dir);
  let chosen: { lab: AnyLab; notes: string[] };
  try {
    chosen = await chooseLab(dir, opts, loaded);
  } catch (err) {
    if (err instanceof UsageError && fallbackLab) await usageReports(fallbackLab, err.message);
    throw err;
  }
  const { lab } = chosen;
  const progress = new Progress(io);
  const session = new ReportSession({
    lab,
    submission: dir,
    outDir,
    mode: opts.staticOnly ? 'static-only' : 'full',
    env: io.env,
    stdout: io.stdout,
    onRecord: (r) => progress.check(r),
  });
  session.addNotes(...chosen.notes);
  progress.line(`Grading ${dir} for lab ${lab.id}${opts.staticOnly ? ' (static checks only)' : ''}`);

  // A first SIGINT/SIGTERM stops live grading (which then undoes its faults and deletes the
  // namespace) and the reports are finalized as interrupted with exit 3: the run was cut short by
  // its environment, not by the learner's work, so it must not read as a failure (1). A second
  // signal exits at once.
  const stop = new RunStop({
    onSecondSignal: (signal) => {
      io.stderr(`lab-grader: ${signal} again, exiting without cleaning up\n`);
      process.exit(ExitCode.Environment);
    },
  });
  const stopListening = stop.handleSignals((signal) => progress.line(`${signal} received: stopping; reports will be written`));
  try {
    let outcome: FinalizeOutcome;
    try {
      outcome = await gradeInto(session, lab, loaded, dir, opts, progress, stop);
    } catch (err) {
      if (session.reportsFailed) throw err;
      outcome = await session.finalize(finalizeForError(err, stop.reason, io));
    }
    printScores(outcome, io);
    return outcome.exitCode;
  } catch (err) {
    const full = (err as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC';
    io.stderr(
      `lab-grader: could not write the reports to ${outDir}: ${describeError(err)}\n` +
        (full ? '  the disk holding it is full: free space there or pass another --out (each report is written whole or not at all)\n' : ''),
    );
    return ExitCode.Environment;
  } finally {
    stopListening();
  }
}

async function gradeInto(
  session: ReportSession,
  lab: AnyLab,
  loaded: Loaded,
  dir: string,
  opts: GradeOptions,
  progress: Progress,
  stop: RunStop,
): Promise<FinalizeOutcome> {
  const { signal } = stop;
  const interrupted = (): FinalizeOptions => ({ interrupted: true, reason: stop.reason ?? 'stopped', exitCode: ExitCode.Environment });
  const ungradable: FinalizeOptions = { reason: 'the submission could not be graded', exitCode: ExitCode.Ungradable };

  if (!('submission' in loaded)) {
    if (!(loaded.failure instanceof SubmissionError)) throw loaded.failure;
    session.record(submissionFailure('submission.parses', loaded.failure, lab));
    return session.finalize(ungradable);
  }
  const { submission } = loaded;
  session.addNotes(...submission.notes);

  const namespace = makeNamespaceName(dir);
  const split = splitRedefinitions(submission.objects, lab.redefinitions ?? 'reject');
  let policy: ReturnType<typeof applyPolicy>;
  let switched: ReturnType<typeof applyPolicy>;
  try {
    policy = applyPolicy(split.objects, { namespace });
    switched = applyPolicy(split.switches, { namespace, redefinitions: true });
  } catch (err) {
    if (!(err instanceof SubmissionError)) throw err;
    const parsed = parsesPassed(submission, lab);
    if (parsed) session.record(parsed);
    session.record(submissionFailure('submission.allowed-objects', err, lab));
    return session.finalize(ungradable);
  }
  session.addNotes(...policy.notes);
  const checked: Submission = { ...submission, objects: policy.objects };
  for (const result of runStaticRubric(checked, lab, submission.objects)) session.record(result);

  if (opts.staticOnly) return session.finalize({ reason: '--static-only' });

  const supplement = lab.supplements ? await lab.supplements(policy.objects) : { objects: [], notes: [] };
  const added = applyPolicy(supplement.objects, { namespace });
  session.addNotes(...supplement.notes);
  const manifests = [...policy.objects, ...added.objects].map((o) => o.body);
  // Without --context, grade on the project's kind cluster, bringing it up when it is not there
  // (a quick re-verification when it is).
  const context = opts.context ?? (await ensureGradingCluster());
  session.setInfo({ namespace, cluster: { context } });

  const clearBudget = stop.after(opts.budget + STOP_GRACE_MS, `the time budget of ${formatMs(opts.budget)} ran out`);
  const { gradeLive } = await import('./engine/run.js');
  try {
    const live = gradeLive({
      lab,
      manifests,
      switchManifests: switched.objects.map((o) => o.body),
      locate: locatorFor(submission.objects),
      written: submission.objects,
      context,
      budgetMs: opts.budget,
      keepNamespace: opts.keepNamespace ?? false,
      signal,
      onCheck: (r) => session.record(r),
      onProgress: (line) => progress.line(line),
      onFloors: (floors) => session.setInfo({ floors }),
    });
    const finished = await Promise.race([live.then((results) => ({ results })), stop.stoppedFor(STOP_GRACE_MS)]);
    if (!finished) return session.finalize(interrupted());
    for (const r of finished.results) if (!session.has(r.id)) session.record(r);
  } catch (err) {
    if (signal.aborted) return session.finalize(interrupted());
    throw err;
  } finally {
    clearBudget();
  }
  if (signal.aborted) return session.finalize(interrupted());
  return session.finalize({ reason: 'live grading ended without reporting this check', unrun: 'error' });
}

async function ensureGradingCluster(): Promise<string> {
  const { clusterUp } = await import('./cluster/lifecycle.js');
  const { DEFAULT_CLUSTER_NAME } = await import('./cluster/settings.js');
  const { createProgress } = await import('./util/progress.js');
  const { context } = await clusterUp({ name: DEFAULT_CLUSTER_NAME, profile: 'grading', offline: 'auto', progress: createProgress('cluster: ') });
  return context;
}

function finalizeForError(err: unknown, stopReason: string | undefined, io: CliIo): FinalizeOptions {
  if (stopReason) return { interrupted: true, reason: stopReason, exitCode: ExitCode.Environment };
  if (err instanceof EnvironmentError) {
    io.stderr(`lab-grader: ${err.message}\n${err.advice ? `  ${err.advice}\n` : ''}`);
    return { reason: err.message, unrun: 'error', exitCode: ExitCode.Environment };
  }
  io.stderr(`lab-grader: internal error: ${err instanceof Error ? (err.stack ?? err.message) : errorText(err)}\n`);
  return { reason: `the grader failed: ${describeError(err)}`, unrun: 'error', exitCode: ExitCode.Environment };
}

async function runCluster(
  action: ClusterAction,
  opts: { name: string; profile?: 'grading' | 'default'; force?: boolean; restoreHost?: boolean },
  io: CliIo,
): Promise<number> {
  if (opts.restoreHost && action !== 'down') throw new UsageError('--restore-host goes with `cluster down`');
  try {
    const { clusterCommand } = await import('./cluster/commands.js');
    return await clusterCommand(action, {
      name: opts.name,
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.force ? { force: true } : {}),
      ...(opts.restoreHost ? { restoreHost: true } : {}),
    });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (err instanceof EnvironmentError) {
      io.stderr(`lab-grader: ${err.message}\n${err.advice ? `  ${err.advice}\n` : ''}`);
    } else {
      io.stderr(`lab-grader: cluster ${action} failed: ${describeError(err)}\n`);
    }
    return ExitCode.Environment;
  }
}

async function runSelfcheck(opts: { lab?: string; out?: string; context?: string }): Promise<number> {
  const { lab: id, ...rest } = opts;
  // Without --lab: the first lab's walkthrough (the contract's `lab-grader selfcheck`).
  const lab = id !== undefined ? getLab(id) : LABS[0];
  if (lab?.selfcheck) {
    const { runLabSelfcheck } = await import('./selfcheck/lab-run.js');
    return runLabSelfcheck(lab, rest);
  }
  if (lab?.runOwnSelfcheck) return lab.runOwnSelfcheck(rest);
  throw new UsageError(`lab ${lab?.id ?? '?'} has no selfcheck walkthrough`);
}

/** Progress on stderr: symbols and colour on a terminal, plain words in CI or a pipe. */
class Progress {
  private readonly fancy: boolean;
  constructor(private readonly io: CliIo) {
    this.fancy = io.isTTY && io.env.CI !== 'true' && io.env.NO_COLOR === undefined;
  }

  line(text: string): void {
    this.io.stderr(`${text}\n`);
  }

  check(r: CheckResult): void {
    const pts = `${r.points}/${r.maxPoints}`;
    const detail = r.status === 'passed' ? '' : `: ${r.message.split('\n')[0] ?? ''}`;
    if (!this.fancy) {
      const word = { passed: 'PASS', failed: 'FAIL', error: 'ERROR', skipped: 'SKIP' }[r.status];
      this.line(`${word} ${r.id} ${pts}${detail}`);
      return;
    }
    const [symbol, colour] = {
      passed: ['✔', 32],
      failed: ['✘', 31],
      error: ['!', 33],
      skipped: ['-', 90],
    }[r.status] as [string, number];
    this.line(`  \u001b[${colour}m${symbol}\u001b[0m ${r.id} \u001b[2m${pts}${detail}\u001b[0m`);
  }
}

function printScores(outcome: FinalizeOutcome, io: CliIo): void {
  const { run, reports } = outcome;
  const groups = groupChecks(run.checks);
  const width = Math.max(...groups.map((g) => g.group.length), 5);
  const lines = [`${run.lab}: ${run.score}/${run.maxScore} points (exit ${outcome.exitCode})`];
  for (const g of groups) lines.push(`  ${g.group.padEnd(width)}  ${`${g.points}/${g.maxPoints}`.padStart(5)}  ${verdictLabel(g)}`);
  for (const n of run.notes ?? []) lines.push(`note: ${n}`);
  lines.push(`Reports: ${reports.junit}, ${reports.resultJson}, ${reports.summary}, ${reports.classroom}`);
  io.stdout(`${lines.join('\n')}\n`);
}

function formatMs(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
}

function describeError(err: unknown): string {
  return errorText(err);
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
