// `lab-grader selfcheck --lab <id>`: a lab's walkthrough (its SelfcheckPlan) with the lab's own
// specs, on the same engine as grading: a fresh namespace, the specs applied as the run's
// manifests, the same recorder, budget, stop and undo. Reports under reports/selfcheck/<id>.
// Exit 0: the cluster does everything the lab says; 1: a step behaved differently; 3: the
// environment is not usable (or the run was interrupted).
import path from 'node:path';
import type { AnyLab } from '../engine/lab.js';
import { locatorFor } from '../submission/locate.js';
import { EnvironmentError, ExitCode, SubmissionError, UsageError } from '../model.js';
import { checkLine, formatDuration, selfcheckSummary } from '../report/groups.js';
import { ReportSession, type FinalizeOptions } from '../report/session.js';
import { loadSubmission } from '../submission/load.js';
import { applyPolicy, makeNamespaceName } from '../submission/policy.js';
import { splitRedefinitions } from '../submission/redefinitions.js';
import { DEFAULT_CLUSTER_NAME, kindContext } from '../cluster/settings.js';
import { errorText } from '../util/error-text.js';
import { RunStop } from '../engine/stop.js';

export interface LabSelfcheckOptions {
  /** Default reports/selfcheck/<lab id>. */
  out?: string;
  /** Default LAB_GRADER_CONTEXT or kind-lab-grader. */
  context?: string;
  /** Default 20 minutes. */
  budgetMs?: number;
  keepNamespace?: boolean;
  /** Stop cleanly on SIGINT/SIGTERM; default true. */
  handleSignals?: boolean;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

const DEFAULT_BUDGET_MS = 20 * 60_000;
/** After a stop, how long the engine may take to clean up before reports are written anyway. */
const STOP_GRACE_MS = 30_000;

export async function runLabSelfcheck(lab: AnyLab, opts: LabSelfcheckOptions = {}): Promise<number> {
  const plan = lab.selfcheck;
  if (!plan) throw new UsageError(`lab ${lab.id} has no selfcheck walkthrough`);
  const stdout = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  const outDir = opts.out ?? path.join('reports', 'selfcheck', lab.id);
  const context = opts.context ?? process.env.LAB_GRADER_CONTEXT ?? kindContext(DEFAULT_CLUSTER_NAME);
  const budgetMs = opts.budgetMs ?? DEFAULT_BUDGET_MS;
  const specsPath = path.join(lab.specsDir, plan.specs);
  const line = (t: string): void => stderr(`selfcheck ${lab.id}: ${t}\n`);
  const session = new ReportSession({
    lab: { id: lab.id, title: `${lab.title} (selfcheck)`, groups: plan.groups, checks: plan.checks, specsDir: lab.specsDir },
    submission: path.relative(process.cwd(), specsPath) || specsPath,
    outDir,
    mode: 'selfcheck',
    onRecord: (r) => line(checkLine(r)),
  });
  session.setInfo({ cluster: { context } });

  const stop = new RunStop({
    onStop: (reason) => line(`stopping: ${reason}; undoing faults, deleting the namespace, writing reports`),
    onSecondSignal: (signal) => {
      stderr(`lab-grader selfcheck: ${signal} again, exiting without cleaning up\n`);
      process.exit(ExitCode.Environment);
    },
  });
  const stopListening = opts.handleSignals ?? true ? stop.handleSignals() : () => undefined;
  const clearBudget = stop.after(budgetMs + STOP_GRACE_MS, `the time budget of ${formatDuration(budgetMs)} ran out`);

  line(`walking through the lab with ${path.relative(process.cwd(), specsPath) || specsPath} on context ${context} (reports: ${outDir})`);
  let finalize: FinalizeOptions;
  try {
    finalize = await walk();
  } catch (error) {
    if (stop.reason) finalize = { interrupted: true, reason: stop.reason, exitCode: ExitCode.Environment };
    else if (error instanceof EnvironmentError) {
      stderr(`lab-grader selfcheck: ${error.message}\n${error.advice ? `  ${error.advice}\n` : ''}`);
      finalize = { reason: error.message, unrun: 'error', exitCode: ExitCode.Environment };
    } else {
      stderr(`lab-grader selfcheck: internal error: ${error instanceof Error ? (error.stack ?? error.message) : errorText(error)}\n`);
      finalize = { reason: `the selfcheck failed: ${errorText(error)}`, unrun: 'error', exitCode: ExitCode.Environment };
    }
  } finally {
    clearBudget();
    stopListening();
  }
  if (stop.reason && !finalize.interrupted) finalize = { interrupted: true, reason: stop.reason, exitCode: ExitCode.Environment };
  try {
    const { run, exitCode, reports } = await session.finalize(finalize);
    stdout(selfcheckSummary(run, exitCode, reports));
    return exitCode;
  } catch (error) {
    stderr(`lab-grader selfcheck: could not write the reports to ${outDir}: ${errorText(error)}\n`);
    return ExitCode.Environment;
  }

  async function walk(): Promise<FinalizeOptions> {
    const namespace = makeNamespaceName(`selfcheck-${lab.id}`);
    let objects;
    try {
      const specs = await loadSubmission(specsPath);
      // A lab whose objects change from step to step ('switch') publishes one object in several
      // files: as in grading, the first definitions are the run's manifests, the later ones its switch.
      const split = splitRedefinitions(specs.objects, lab.redefinitions ?? 'reject');
      objects = {
        written: specs.objects,
        placed: applyPolicy(split.objects, { namespace }).objects,
        switched: applyPolicy(split.switches, { namespace, redefinitions: true }).objects,
      };
    } catch (error) {
      if (!(error instanceof SubmissionError)) throw error;
      throw new Error(`the lab's own specs in ${specsPath} cannot be applied: ${error.message}`);
    }
    session.setInfo({ namespace, cluster: { context } });
    const { gradeLive } = await import('../engine/run.js');
    const live = gradeLive({
      lab: { id: lab.id, checks: plan!.checks, live: (r) => plan!.run(r), ...(lab.needsMetrics ? { needsMetrics: true } : {}) },
      manifests: objects.placed.map((o) => o.body),
      switchManifests: objects.switched.map((o) => o.body),
      written: objects.written,
      locate: locatorFor(objects.written),
      context,
      budgetMs,
      keepNamespace: opts.keepNamespace ?? false,
      signal: stop.signal,
      bringUpCluster: false,
      onCheck: (r) => session.record(r),
      onProgress: line,
    });
    const finished = await Promise.race([live.then((results) => ({ results })), stop.stoppedFor(STOP_GRACE_MS)]);
    if (!finished) return { interrupted: true, reason: stop.reason ?? 'stopped', exitCode: ExitCode.Environment };
    for (const r of finished.results) if (!session.has(r.id)) session.record(r);
    if (stop.signal.aborted) return { interrupted: true, reason: stop.reason ?? 'stopped', exitCode: ExitCode.Environment };
    return { reason: 'the walkthrough ended before this step', unrun: 'error' };
  }
}
