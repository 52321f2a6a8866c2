// `lab-grader selfcheck`: walks through the productionizing lab with the lab's own specs on the
// grading cluster and reports each step as a check (junit.xml, result.json, summary.md).
// Exit 0: the cluster does everything the lab says; 1: a walkthrough step behaved differently;
// 3: the environment is not usable or a step timed out (or the run was interrupted).
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { DEFAULT_CLUSTER_NAME, kindContext } from '../../../cluster/settings.js';
import { EnvironmentError, ExitCode } from '../../../model.js';
import { isConnectionError, loadKube, type Kube } from '../../../kube/client.js';
import { waitForNamespaceGone } from '../../../kube/workloads.js';
import { checkLine, formatDuration, selfcheckSummary } from '../../../report/groups.js';
import { ReportSession, type FinalizeOptions } from '../../../report/session.js';
import { createProgress } from '../../../util/progress.js';
import { RunStop } from '../../../engine/stop.js';
import { checkDefinition, selfcheckLab } from './catalogue.js';
import { piScenario } from './pi.js';
import { piSecureScenario } from './pi-secure.js';
import { preflightScenario } from './preflight.js';
import { describeError, runScenario, withTimeout, type Scenario, type ScenarioOutcome } from './scenario.js';
import { whoamiScenario } from './whoami.js';
import { errorText } from '../../../util/error-text.js';

export interface SelfcheckOptions {
  /** Where to write the reports; default `reports/selfcheck`. */
  out?: string;
  /** kubeconfig context; default LAB_GRADER_CONTEXT or `kind-lab-grader`. */
  context?: string;
  /** Stops the run (reports are still written, as interrupted). */
  signal?: AbortSignal;
  /** Time allowed for the whole walkthrough; default 20 minutes. */
  budgetMs?: number;
  /** Stop cleanly on SIGINT/SIGTERM; default true. */
  handleSignals?: boolean;
  /** Keep the namespaces for inspection (LAB_GRADER_KEEP_NAMESPACES=1 does too). */
  keepNamespaces?: boolean;
  /** Run the pi group beside the whoami and pi-secure groups; default true. */
  parallel?: boolean;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

export const DEFAULT_SELFCHECK_OUT = 'reports/selfcheck';
const DEFAULT_BUDGET_MS = 20 * 60_000;
const NAMESPACE_GONE_MS = 90_000;
export const SELFCHECK_RUN_LABEL = 'io.kube-lab-grader/selfcheck';

export async function runSelfcheck(opts: SelfcheckOptions = {}): Promise<number> {
  const stdout = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  const outDir = opts.out ?? DEFAULT_SELFCHECK_OUT;
  const context = opts.context ?? process.env.LAB_GRADER_CONTEXT ?? kindContext(DEFAULT_CLUSTER_NAME);
  const keepNamespaces = opts.keepNamespaces ?? process.env.LAB_GRADER_KEEP_NAMESPACES === '1';
  const runId = randomBytes(4).toString('hex');
  const progress = createProgress('selfcheck: ', stderr);
  const session = new ReportSession({
    lab: selfcheckLab,
    submission: 'specs/productionizing',
    outDir,
    mode: 'selfcheck',
    onRecord: (r) => progress.step(checkLine(r)),
  });
  session.setInfo({ cluster: { context } });

  const stop = new RunStop({
    onStop: (reason) => progress.step(`stopping: ${reason}; undoing faults, deleting namespaces, writing reports`),
    onSecondSignal: (signal) => {
      stderr(`lab-grader selfcheck: ${signal} again, exiting without cleaning up (namespaces labelled ${SELFCHECK_RUN_LABEL}=${runId} may remain)\n`);
      process.exit(ExitCode.Environment);
    },
  });
  const stopListening = opts.handleSignals ?? true ? stop.handleSignals() : () => undefined;
  const onExternalAbort = (): void => stop.stop('stopped by the caller');
  opts.signal?.addEventListener('abort', onExternalAbort, { once: true });
  if (opts.signal?.aborted) onExternalAbort();
  const budgetMs = opts.budgetMs ?? DEFAULT_BUDGET_MS;
  const clearBudget = stop.after(budgetMs, `the time budget of ${formatDuration(budgetMs)} ran out`);

  progress.step(`walking through the productionizing lab on context ${context} (reports: ${outDir})`);
  let finalize: FinalizeOptions = {};
  try {
    finalize = await walkthrough();
  } catch (error) {
    // Not expected (steps catch their own errors): the grader itself failed.
    stderr(`lab-grader selfcheck: internal error: ${error instanceof Error ? (error.stack ?? error.message) : errorText(error)}\n`);
    finalize = { reason: `the selfcheck failed: ${describeError(error)}`, unrun: 'error', exitCode: ExitCode.Environment };
  } finally {
    clearBudget();
    opts.signal?.removeEventListener('abort', onExternalAbort);
    stopListening();
  }
  if (stop.reason) finalize = { interrupted: true, reason: stop.reason, exitCode: ExitCode.Environment };
  try {
    const { run, exitCode, reports } = await session.finalize(finalize);
    progress.done();
    stdout(selfcheckSummary(run, exitCode, reports));
    return exitCode;
  } catch (error) {
    stderr(`lab-grader selfcheck: could not write the reports to ${outDir}: ${describeError(error)}\n`);
    return ExitCode.Environment;
  }

  async function walkthrough(): Promise<FinalizeOptions> {
    let kube: Kube;
    try {
      kube = loadKube(context);
      const version = await withTimeout(kube.config.makeApiClient(k8s.VersionApi).getCode(), 15_000, `API server of ${context}`);
      session.setInfo({ cluster: { context, kubernetesVersion: version.gitVersion } });
    } catch (error) {
      const unreachable = error instanceof EnvironmentError || isConnectionError(error) || /no answer within/.test(describeError(error));
      const advice = error instanceof EnvironmentError && error.advice ? ` (${error.advice})` : ' (start it with `lab-grader cluster up`)';
      const message = `cannot reach the cluster of context ${context}: ${describeError(error)}${unreachable ? advice : ''}`;
      recordError('preflight.nodes-ready', message);
      return { reason: 'the cluster is not reachable', unrun: 'skipped', exitCode: ExitCode.Environment };
    }

    const namespaces: string[] = [];
    const notes = new Set<string>();
    const run = async (scenario: Scenario): Promise<ScenarioOutcome> => {
      const outcome = await runScenario(scenario, {
        kube,
        session,
        signal: stop.signal,
        progress: createProgress(`selfcheck ${scenario.group}: `, stderr),
        namespaceLabels: { [SELFCHECK_RUN_LABEL]: runId },
        keepNamespace: keepNamespaces,
      });
      if (outcome.namespace) namespaces.push(outcome.namespace);
      for (const n of outcome.notes) notes.add(n);
      for (const p of outcome.cleanupProblems) notes.add(`cleanup: ${p}`);
      return outcome;
    };
    const chain = async (...scenarios: Scenario[]): Promise<void> => {
      for (const s of scenarios) await run(s);
    };

    try {
      await run(preflightScenario);
      const preflight = session.recorded().filter((r) => r.group === 'preflight');
      if (preflight.length < 3 || preflight.some((r) => r.status !== 'passed')) {
        return { reason: 'the preflight found the environment unfit for the walkthrough', unrun: 'skipped' };
      }
      // pi-secure goes first beside pi: once the HPA has scaled pi up, a small cluster may have no
      // CPU left to schedule pi-secure's Pods (they request 125m each).
      if (opts.parallel ?? true) await Promise.all([chain(piSecureScenario, whoamiScenario), chain(piScenario)]);
      else await chain(whoamiScenario, piScenario, piSecureScenario);
      return { reason: 'the walkthrough ended before this step', unrun: 'error' };
    } finally {
      if (!keepNamespaces && namespaces.length > 0) {
        progress.step(`waiting for namespaces ${namespaces.join(', ')} to be deleted`);
        const t0 = Date.now();
        const results = await Promise.allSettled(namespaces.map((ns) => waitForNamespaceGone(kube, ns, { timeoutMs: NAMESPACE_GONE_MS })));
        progress.step(`namespaces deleted after ${formatDuration(Date.now() - t0)}`);
        results.forEach((r, i) => {
          if (r.status === 'rejected') notes.add(`namespace ${namespaces[i]} was not gone after ${formatDuration(NAMESPACE_GONE_MS)}: ${describeError(r.reason)}`);
        });
      } else if (keepNamespaces && namespaces.length > 0) {
        notes.add(`namespaces kept for inspection: ${namespaces.join(', ')} (label ${SELFCHECK_RUN_LABEL}=${runId})`);
      }
      session.addNotes(...notes);
    }
  }

  function recordError(id: string, message: string): void {
    const def = checkDefinition(id);
    session.record({ id, group: def.group, title: def.title, status: 'error', points: 0, maxPoints: def.maxPoints, message, durationMs: 0, hint: def.hint });
  }
}

