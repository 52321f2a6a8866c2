// Runs live checks one at a time and turns each into a CheckResult: passed with what was seen,
// failed with what was expected and what was observed last (plus diagnostics), or error when the
// grader could not decide. Knows which check is running, so a stopped run reports it as an error.
import { performance } from 'node:perf_hooks';
import { checkResult, type CheckDefinition } from '../lab/types.js';
import { EnvironmentError, type CheckResult, type CheckStatus, type SourceLocation } from '../model.js';
import { WaitAbortedError, WaitTimeoutError } from '../wait/wait-for.js';
import type { LiveCheckRecorder } from './lab.js';
import { BudgetExhausted, CheckFailed, CheckInconclusive, RunStopped } from './outcomes.js';
import { errorText } from '../util/error-text.js';

export interface Passed {
  message: string;
}

export type CheckBody = () => Promise<string | Passed>;

export interface LiveChecksOptions {
  definitions: readonly CheckDefinition[];
  onCheck: (result: CheckResult) => void;
  /** Diagnostics text for a check that did not pass; must not throw. */
  diagnose: () => Promise<string>;
  /** The run's signal: once aborted, a check ending in an error is reported as interrupted. */
  signal: AbortSignal;
  /** Why the run was stopped, for messages. */
  stopReason: () => string;
}

export class LiveChecks<Id extends string = string> implements LiveCheckRecorder<Id> {
  private readonly recorded = new Map<string, CheckResult>();
  private runningId: string | undefined;

  constructor(private readonly opts: LiveChecksOptions) {}

  get running(): string | undefined {
    return this.runningId;
  }

  has(id: Id): boolean {
    return this.recorded.has(id);
  }

  status(id: Id): CheckStatus | undefined {
    return this.recorded.get(id)?.status;
  }

  passed(id: Id): boolean {
    return this.status(id) === 'passed';
  }

  result(id: Id): CheckResult | undefined {
    return this.recorded.get(id);
  }

  /** Every result so far, in catalogue order. */
  results(): CheckResult[] {
    return this.opts.definitions.flatMap((d) => {
      const r = this.recorded.get(d.id);
      return r ? [r] : [];
    });
  }

  /** Ids of the live checks not decided yet. */
  pending(): Id[] {
    return this.opts.definitions.filter((d) => !this.recorded.has(d.id)).map((d) => d.id as Id);
  }

  /**
   * Runs one check. Returns its status. Rethrows (after recording the check as an error) what
   * must stop the whole run: an abort, the budget running out, an unusable environment.
   */
  async run(id: Id, body: CheckBody): Promise<CheckStatus> {
    if (this.recorded.has(id)) return this.recorded.get(id)!.status;
    const def = this.definition(id);
    const started = performance.now();
    this.runningId = id;
    try {
      const outcome = await body();
      const message = typeof outcome === 'string' ? outcome : outcome.message;
      this.record(def, 'passed', message, started);
      return 'passed';
    } catch (error) {
      return await this.fail(def, error, started);
    } finally {
      this.runningId = undefined;
    }
  }

  /** Records checks that cannot be run because of `cause` (not yet decided ones only). */
  async block(
    ids: readonly Id[],
    status: 'failed' | 'skipped' | 'error',
    message: string,
    extra: { hint?: string; location?: SourceLocation; diagnostics?: string } = {},
  ): Promise<void> {
    for (const id of ids) {
      if (this.recorded.has(id)) continue;
      const def = this.definition(id);
      this.record(def, status, message, performance.now(), {
        ...(status !== 'skipped' ? { hint: extra.hint ?? def.hint } : {}),
        ...(extra.location ? { location: extra.location } : {}),
        ...(extra.diagnostics ? { diagnostics: extra.diagnostics } : {}),
      });
    }
  }

  private definition(id: string): CheckDefinition {
    const def = this.opts.definitions.find((d) => d.id === id);
    if (!def) throw new Error(`no live check ${id} in the lab's catalogue`);
    return def;
  }

  private async fail(def: CheckDefinition, error: unknown, started: number): Promise<CheckStatus> {
    if (this.opts.signal.aborted || error instanceof WaitAbortedError || error instanceof RunStopped) {
      const reason = error instanceof BudgetExhausted ? error.message : this.opts.stopReason();
      this.record(def, 'error', `interrupted: ${reason}${lastSeen(error)}`, started);
      throw error instanceof RunStopped ? error : new RunStopped(reason, error);
    }
    if (error instanceof BudgetExhausted) {
      this.record(def, 'error', `${error.message} before this check could decide${lastSeen(error)}`, started);
      throw new RunStopped(error.message, error);
    }
    if (error instanceof EnvironmentError) {
      this.record(def, 'error', error.message, started);
      throw error;
    }
    if (error instanceof CheckFailed) {
      const diagnostics = error.details.diagnostics === false ? undefined : await this.opts.diagnose();
      this.record(def, 'failed', error.message, started, {
        hint: error.details.hint ?? def.hint,
        ...(error.details.location ? { location: error.details.location } : {}),
        ...(diagnostics ? { diagnostics } : {}),
      });
      return 'failed';
    }
    if (error instanceof WaitTimeoutError) {
      const diagnostics = await this.opts.diagnose();
      this.record(def, 'failed', `expected ${error.description} within ${Math.round(error.timeoutMs / 1000)}s; last seen: ${error.lastObserved}`, started, {
        hint: def.hint,
        ...(diagnostics ? { diagnostics } : {}),
      });
      return 'failed';
    }
    const diagnostics = await this.opts.diagnose();
    const message = error instanceof CheckInconclusive ? error.message : `the grader could not decide: ${errorText(error)}`;
    this.record(def, 'error', message, started, diagnostics ? { diagnostics } : {});
    return 'error';
  }

  private record(
    def: CheckDefinition,
    status: CheckStatus,
    message: string,
    started: number,
    extra: { hint?: string; location?: SourceLocation; diagnostics?: string } = {},
  ): void {
    const result = checkResult(def, status, message, performance.now() - started, extra);
    this.recorded.set(def.id, result);
    this.opts.onCheck(result);
  }
}

function lastSeen(error: unknown): string {
  if (error instanceof WaitAbortedError) return `; last seen: ${error.lastObserved}`;
  if (error instanceof RunStopped && error.cause instanceof WaitAbortedError) return `; last seen: ${error.cause.lastObserved}`;
  return '';
}
