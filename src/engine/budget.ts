// The live run's time budget. Every wait asks for its own bound and gets at most what is left;
// a wait cut short by the budget is the budget's fault (error), not the learner's (failed).
import { BudgetExhausted } from './outcomes.js';

export interface Clock {
  now(): number;
}

const systemClock: Clock = { now: () => Date.now() };

export class Budget {
  readonly deadline: number;

  constructor(
    readonly budgetMs: number,
    private readonly clock: Clock = systemClock,
    start = clock.now(),
  ) {
    this.deadline = start + budgetMs;
  }

  remaining(): number {
    return Math.max(0, this.deadline - this.clock.now());
  }

  exhausted(): boolean {
    return this.remaining() <= 0;
  }

  /** The timeout a wait may use, and whether the budget (not the wait's own bound) limits it. */
  bound(requestedMs: number): { timeoutMs: number; truncated: boolean } {
    const left = this.remaining();
    if (left <= 0) throw new BudgetExhausted(this.budgetMs);
    return left < requestedMs ? { timeoutMs: left, truncated: true } : { timeoutMs: requestedMs, truncated: false };
  }
}

/**
 * Time kept back from the checks for cleanup (undo faults, delete the namespace) so the reports
 * can be written within the budget: a fifth of the budget, between 10 and 45 seconds.
 */
export function cleanupReserve(budgetMs: number): number {
  return Math.min(45_000, Math.max(10_000, Math.round(budgetMs / 5)));
}
