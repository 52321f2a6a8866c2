// Runs one group of the walkthrough on the engine's pieces: a fresh namespace, the group's steps in
// order, each one a check of the engine's LiveChecks recorder, an UndoStack run last-in-first-out
// whatever happens, and the namespace deleted at the end. A step that does not pass stops its
// group; the steps after it are reported as not run.
//
// The selfcheck walks through the lab's own specs, so a wait that runs out is the environment's
// doing, not the walkthrough's. `asCheckOutcome` says how a step's error reaches the recorder:
//   CheckFailed, a broken "holds for" claim, a Pod that crashes → failed (the walkthrough did not
//     behave as the lab says: exit 1)
//   a wait that timed out, EnvironmentError, an image that cannot be pulled, API/connection
//     errors, CheckInconclusive probes → error (the environment or the grader could not decide: exit 3)
import { EnvironmentError, type CheckStatus } from '../../../model.js';
import { LiveChecks } from '../../../engine/checks.js';
import { CheckFailed, CheckInconclusive, RunStopped } from '../../../engine/outcomes.js';
import { UndoStack } from '../../../faults/undo.js';
import { apiMessage, type Kube } from '../../../kube/client.js';
import { listPods } from '../../../kube/pods.js';
import { createNamespace, deleteNamespace, describePod, PodStuckError, recentEvents } from '../../../kube/workloads.js';
import type { ReportSession } from '../../../report/session.js';
import type { Progress } from '../../../util/progress.js';
import { WaitAbortedError, WaitTimeoutError } from '../../../wait/wait-for.js';
import { checkDefinition, groupChecks } from './catalogue.js';

/** Thrown by `step` to end the group when a step did not pass. */
class GroupStopped extends Error {
  constructor(readonly checkId: string, readonly interrupted: boolean) {
    super(`${checkId} did not pass`);
    this.name = 'GroupStopped';
  }
}

/** A CheckFailed whose diagnostics start with `diagnostics` (e.g. the app's logs). */
export function failedWithDiagnostics(message: string, diagnostics: string): CheckFailed {
  return Object.assign(new CheckFailed(message), { ownDiagnostics: diagnostics });
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
  step(id: string, fn: () => Promise<string | { message: string }>, opts?: { independent?: boolean }): Promise<boolean>;
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
}

export interface ScenarioOutcome {
  namespace?: string;
  /** Problems while undoing faults or deleting the namespace. */
  cleanupProblems: string[];
  notes: string[];
}

export async function runScenario(scenario: Scenario, opts: RunScenarioOptions): Promise<ScenarioOutcome> {
  const { session, kube, signal, progress } = opts;
  const definitions = groupChecks(scenario.group);
  const undo = new UndoStack(opts.undoTimeoutMs);
  const outcome: ScenarioOutcome = { cleanupProblems: [], notes: [] };
  let namespace: string | undefined;
  let ownDiagnostics: string | undefined;
  const checks = new LiveChecks({
    definitions,
    onCheck: (r) => {
      // Once the run is stopped, the step that was running stays "started": finalize reports it
      // as interrupted while running.
      if (signal.aborted && r.status === 'error') return;
      session.record(r.status !== 'passed' && r.hint === undefined ? { ...r, hint: checkDefinition(r.id).hint } : r);
    },
    diagnose: async () => {
      const own = ownDiagnostics;
      ownDiagnostics = undefined;
      const diag = namespace ? await collectDiagnostics(kube, namespace).catch((e: unknown) => `diagnostics unavailable: ${describeError(e)}`) : undefined;
      return [own, diag].filter(Boolean).join('\n\n');
    },
    signal,
    stopReason: () => errorText(signal.reason),
  });

  const recordNotRun = async (reason: string, firstAsError?: string): Promise<void> => {
    const [first, ...rest] = checks.pending();
    if (first === undefined) return;
    if (firstAsError) await checks.block([first], 'error', `${checkDefinition(first).title}: ${firstAsError}`);
    await checks.block(firstAsError ? rest : [first, ...rest], 'skipped', `not run: ${reason}`);
  };
  const runUndo = async (run: () => Promise<void>, description: string): Promise<void> => {
    try {
      await run();
    } catch (error) {
      outcome.cleanupProblems.push(`${description}: ${describeError(error)}`);
    }
  };

  try {
    if (signal.aborted) return outcome;
    try {
      namespace = await createNamespace(kube, `selfcheck-${scenario.group}`, opts.namespaceLabels);
    } catch (error) {
      await recordNotRun(`the namespace for ${scenario.group} could not be created`, `could not create a namespace: ${describeError(error)}`);
      return outcome;
    }
    outcome.namespace = namespace;
    const ns = namespace;
    if (!opts.keepNamespace) undo.push(`delete namespace ${ns}`, () => deleteNamespace(kube, ns));
    progress.step(`namespace ${ns}`);

    const ctx: GroupContext = {
      kube,
      namespace: ns,
      signal,
      progress,
      note: (text) => outcome.notes.push(text),
      defer(description, run) {
        const entry = undo.push(description, () => run());
        return () => runUndo(() => entry.runNow(), description);
      },
      async step(id, fn, stepOpts) {
        const def = checkDefinition(id);
        if (def.group !== scenario.group) throw new Error(`check ${id} is not in group ${scenario.group}`);
        if (signal.aborted) throw new GroupStopped(id, true);
        session.start(id);
        progress.step(`${id}: ${def.title}`);
        let status: CheckStatus;
        try {
          status = await checks.run(id, async () => {
            try {
              return await fn();
            } catch (error) {
              if (signal.aborted || error instanceof WaitAbortedError) throw error;
              ownDiagnostics = (error as { ownDiagnostics?: string }).ownDiagnostics;
              throw asCheckOutcome(def.title, error);
            }
          });
        } catch (error) {
          if (error instanceof RunStopped) throw new GroupStopped(id, true);
          throw error;
        }
        if (status === 'passed') return true;
        if (stepOpts?.independent) return false;
        throw new GroupStopped(id, false);
      },
    };

    try {
      await scenario.run(ctx);
      await recordNotRun('the scenario ended before this step');
    } catch (error) {
      if (error instanceof GroupStopped) {
        if (!error.interrupted) await recordNotRun(`${error.checkId} did not pass`);
      } else if (!signal.aborted) {
        // Thrown outside any step (a bug or a broken setup): blame the next step, skip the rest.
        await recordNotRun(`the ${scenario.group} scenario stopped`, `the scenario stopped before this step: ${describeError(error)}`);
      }
    }
  } finally {
    for (const f of await undo.runAll()) outcome.cleanupProblems.push(`${f.description}: ${describeError(f.error)}`);
    for (const p of outcome.cleanupProblems) progress.step(`cleanup problem: ${p}`);
  }
  return outcome;
}

/** What a step's error is to the engine's recorder: CheckFailed (failed) or CheckInconclusive (error). */
export function asCheckOutcome(title: string, error: unknown): CheckFailed | CheckInconclusive {
  if (error instanceof CheckFailed) return error;
  if (error instanceof Error && error.name === 'HoldViolatedError') return new CheckFailed(error.message);
  // A crash of the lab's own app is the walkthrough failing; an image that cannot be pulled comes
  // wrapped as an EnvironmentError (see stuckPodError).
  if (error instanceof PodStuckError) return new CheckFailed(error.message);
  if (error instanceof WaitTimeoutError) return new CheckInconclusive(`${title}: ${error.message}`);
  if (error instanceof CheckInconclusive) return new CheckInconclusive(`inconclusive: ${error.message}`);
  if (error instanceof EnvironmentError) {
    return new CheckInconclusive(`environment problem: ${error.message}${error.advice ? ` (${error.advice})` : ''}`);
  }
  return new CheckInconclusive(`${title}: could not be checked: ${describeError(error)}`);
}

export function describeError(error: unknown): string {
  return apiMessage(error);
}

function errorText(reason: unknown): string {
  return reason instanceof Error ? reason.message : 'the run was stopped';
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

