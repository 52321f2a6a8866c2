// Runs one group of the walkthrough: a fresh namespace, the group's steps in order (each one a
// check), an undo stack run last-in-first-out whatever happens, and the namespace deleted at the
// end. A step that does not pass stops its group; the steps after it are reported as not run.
//
// How an outcome becomes a status:
//   StepFailure, a broken "holds for" claim, a Pod that crashes → failed (the walkthrough did not
//     behave as the lab says: exit 1)
//   a wait that timed out, EnvironmentError, an image that cannot be pulled, API/connection
//     errors, inconclusive probes → error (the environment or the grader could not decide: exit 3)
import type { CheckResult } from '../../../model.js';
import { EnvironmentError } from '../../../model.js';
import { apiMessage, type Kube } from '../../../kube/client.js';
import { listPods } from '../../../kube/pods.js';
import { createNamespace, deleteNamespace, describePod, PodStuckError, recentEvents } from '../../../kube/workloads.js';
import type { ReportSession } from '../../../report/session.js';
import type { Progress } from '../../../util/progress.js';
import { WaitAbortedError, WaitTimeoutError } from '../../../wait/wait-for.js';
import { checkDefinition, groupChecks } from './catalogue.js';
import { checkResult } from '../../../lab/types.js';

/** The walkthrough did not do what the lab says it does. */
export class StepFailure extends Error {
  constructor(message: string, readonly diagnostics?: string) {
    super(message);
    this.name = 'StepFailure';
  }
}

/** The grader could not decide (e.g. a probe that could not even start). */
export class StepInconclusive extends Error {
  constructor(message: string, readonly diagnostics?: string) {
    super(message);
    this.name = 'StepInconclusive';
  }
}

/** Thrown by `step` to end the group when a step did not pass. */
class GroupStopped extends Error {
  constructor(readonly checkId: string, readonly interrupted: boolean) {
    super(`${checkId} did not pass`);
    this.name = 'GroupStopped';
  }
}

export interface StepOutcome {
  message: string;
  diagnostics?: string;
}

export interface GroupContext {
  readonly kube: Kube;
  /** The group's namespace (created before the first step). */
  readonly namespace: string;
  readonly signal: AbortSignal;
  readonly progress: Progress;
  /**
   * Runs one step as the check `id`. When it does not pass it throws, ending the group, unless
   * `independent` (later steps do not build on it); it then resolves to false.
   */
  step(id: string, fn: () => Promise<string | StepOutcome>, opts?: { independent?: boolean }): Promise<boolean>;
  /** Registers an undo (run LIFO at the end of the group); returns a function that runs it now. */
  defer(description: string, undo: () => Promise<void>): () => Promise<void>;
  note(text: string): void;
}

export interface Scenario {
  group: string;
  run(ctx: GroupContext): Promise<void>;
}

export interface RunScenarioOptions {
  kube: Kube;
  session: ReportSession;
  signal: AbortSignal;
  progress: Progress;
  /** Labels for the group's namespace (the run's id, so leftovers can be found). */
  namespaceLabels: Record<string, string>;
  /** Each undo's own time limit. */
  undoTimeoutMs?: number;
  /** Keep the namespace afterwards (for inspection). */
  keepNamespace?: boolean;
  now?: () => number;
}

export interface ScenarioOutcome {
  namespace?: string;
  /** Problems while undoing faults or deleting the namespace. */
  cleanupProblems: string[];
  notes: string[];
}

interface Undo {
  description: string;
  run: () => Promise<void>;
  done: boolean;
}

export async function runScenario(scenario: Scenario, opts: RunScenarioOptions): Promise<ScenarioOutcome> {
  const now = opts.now ?? Date.now;
  const { session, kube, signal, progress } = opts;
  const checks = groupChecks(scenario.group);
  const undos: Undo[] = [];
  const outcome: ScenarioOutcome = { cleanupProblems: [], notes: [] };
  let namespace: string | undefined;

  const recordNotRun = (reason: string, firstAsError?: string): void => {
    let first = true;
    for (const def of checks) {
      if (session.has(def.id)) continue;
      if (firstAsError && first) {
        session.record(result(def.id, 'error', `${def.title}: ${firstAsError}`, 0));
      } else {
        session.record(result(def.id, 'skipped', `not run: ${reason}`, 0));
      }
      first = false;
    }
  };

  const runUndo = async (u: Undo): Promise<void> => {
    if (u.done) return;
    u.done = true;
    try {
      await withTimeout(u.run(), opts.undoTimeoutMs ?? 30_000, u.description);
    } catch (error) {
      outcome.cleanupProblems.push(`${u.description}: ${describeError(error)}`);
    }
  };

  try {
    if (signal.aborted) return outcome;
    try {
      namespace = await createNamespace(kube, `selfcheck-${scenario.group}`, opts.namespaceLabels);
    } catch (error) {
      recordNotRun(`the namespace for ${scenario.group} could not be created`, `could not create a namespace: ${describeError(error)}`);
      return outcome;
    }
    outcome.namespace = namespace;
    const ns = namespace;
    if (!opts.keepNamespace) {
      undos.push({ description: `delete namespace ${ns}`, run: () => deleteNamespace(kube, ns), done: false });
    }
    progress.step(`namespace ${ns}`);

    const ctx: GroupContext = {
      kube,
      namespace: ns,
      signal,
      progress,
      note: (text) => outcome.notes.push(text),
      defer(description, run) {
        const u: Undo = { description, run, done: false };
        undos.push(u);
        return () => runUndo(u);
      },
      async step(id, fn, stepOpts) {
        const def = checkDefinition(id);
        if (def.group !== scenario.group) throw new Error(`check ${id} is not in group ${scenario.group}`);
        if (signal.aborted) throw new GroupStopped(id, true);
        session.start(id);
        const started = now();
        progress.step(`${id}: ${def.title}`);
        let verdict: Pick<CheckResult, 'status' | 'message' | 'diagnostics'>;
        try {
          const out = await fn();
          const o = typeof out === 'string' ? { message: out } : out;
          verdict = { status: 'passed', message: o.message, ...(o.diagnostics ? { diagnostics: o.diagnostics } : {}) };
        } catch (error) {
          if (signal.aborted || error instanceof WaitAbortedError) {
            // Left as "started": finalize reports it as interrupted.
            throw new GroupStopped(id, true);
          }
          verdict = classify(def.title, error);
          const diag = await collectDiagnostics(kube, ns).catch((e: unknown) => `diagnostics unavailable: ${describeError(e)}`);
          const own = (error as { diagnostics?: string }).diagnostics;
          verdict.diagnostics = [own, diag].filter(Boolean).join('\n\n');
        }
        session.record(result(id, verdict.status, verdict.message, now() - started, verdict.diagnostics));
        if (verdict.status === 'passed') return true;
        if (stepOpts?.independent) return false;
        throw new GroupStopped(id, false);
      },
    };

    try {
      await scenario.run(ctx);
      recordNotRun('the scenario ended before this step');
    } catch (error) {
      if (error instanceof GroupStopped) {
        if (!error.interrupted) recordNotRun(`${error.checkId} did not pass`);
      } else if (!signal.aborted) {
        // Thrown outside any step (a bug or a broken setup): blame the next step, skip the rest.
        recordNotRun(`the ${scenario.group} scenario stopped`, `the scenario stopped before this step: ${describeError(error)}`);
      }
    }
  } finally {
    for (const u of [...undos].reverse()) await runUndo(u);
    for (const p of outcome.cleanupProblems) progress.step(`cleanup problem: ${p}`);
  }
  return outcome;

  function result(id: string, status: CheckResult['status'], message: string, durationMs: number, diagnostics?: string): CheckResult {
    const def = checkDefinition(id);
    return checkResult(def, status, message, durationMs, {
      ...(status !== 'passed' ? { hint: def.hint } : {}),
      ...(diagnostics ? { diagnostics } : {}),
    });
  }

}

/** Status and message for a step that threw. */
export function classify(title: string, error: unknown): Pick<CheckResult, 'status' | 'message' | 'diagnostics'> {
  if (error instanceof StepFailure) return { status: 'failed', message: error.message };
  if (error instanceof Error && error.name === 'HoldViolatedError') return { status: 'failed', message: error.message };
  if (error instanceof PodStuckError) {
    // A crash of the lab's own app is the walkthrough failing; an image that cannot be pulled
    // comes wrapped as an EnvironmentError (see stuckPodError).
    return { status: 'failed', message: error.message };
  }
  if (error instanceof WaitTimeoutError) return { status: 'error', message: `${title}: ${error.message}` };
  if (error instanceof StepInconclusive) return { status: 'error', message: `inconclusive: ${error.message}` };
  if (error instanceof EnvironmentError) {
    return { status: 'error', message: `environment problem: ${error.message}${error.advice ? ` (${error.advice})` : ''}` };
  }
  return { status: 'error', message: `${title}: could not be checked: ${describeError(error)}` };
}

export function describeError(error: unknown): string {
  return apiMessage(error);
}

/** Pods and recent events of the namespace, for a check that did not pass. */
export async function collectDiagnostics(kube: Kube, namespace: string): Promise<string> {
  const [pods, events] = await Promise.all([
    withTimeout(listPods(kube, namespace), 10_000, 'list pods'),
    withTimeout(recentEvents(kube, namespace, 20), 10_000, 'list events'),
  ]);
  return [
    `Pods in ${namespace}:`,
    ...(pods.length ? pods.map((p) => `  ${describePod(p)}`) : ['  none']),
    `Recent events in ${namespace}:`,
    ...(events.length ? events.map((e) => `  ${e}`) : ['  none']),
  ].join('\n');
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)}s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
