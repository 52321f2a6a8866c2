// How a live check ends when it does not pass. `failed` is the learner's work; `error` is the
// grader or the environment (never deducted silently); a run that is stopped (signal, budget)
// reports the check it was in as an error and stops.
import type { SourceLocation } from '../model.js';

/** The cluster did not do what the lab asks: status `failed`. */
export class CheckFailed extends Error {
  constructor(
    message: string,
    readonly details: { hint?: string; location?: SourceLocation; diagnostics?: boolean } = {},
  ) {
    super(message);
    this.name = 'CheckFailed';
  }
}

/** The grader could not decide (a probe failed for another reason, the Pod was unreachable): `error`. */
export class CheckInconclusive extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckInconclusive';
  }
}

/** The live run's time budget ran out. */
export class BudgetExhausted extends Error {
  constructor(readonly budgetMs: number) {
    super(`the time budget of ${formatSeconds(budgetMs)} for live grading ran out`);
    this.name = 'BudgetExhausted';
  }
}

/** Thrown after the running check was reported, to unwind the scenarios when the run stops. */
export class RunStopped extends Error {
  constructor(readonly reason: string, override readonly cause?: unknown) {
    super(reason);
    this.name = 'RunStopped';
  }
}

export function formatSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 120 && s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}
