// One poller for every eventual assertion: a condition is polled with backoff until it is done,
// the deadline passes or the signal aborts. On timeout the error carries what was expected and
// the last thing observed, never a bare "deadline exceeded".
import { withDeadline } from '../util/deadline.js';
import { errorText } from '../util/error-text.js';

export interface Observation<T> {
  done: boolean;
  /** What the condition saw, in words, for progress lines and timeout messages. */
  observed: string;
  value?: T;
}

export type Condition<T> = (signal: AbortSignal) => Promise<Observation<T>>;

export interface WaitOptions {
  /** What we wait for, as a claim: "Pod x leaves the endpoints of Service y". */
  description: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Poll intervals; the last one repeats. */
  intervalsMs?: readonly number[];
  onProgress?: (observed: string) => void;
  /** Errors for which polling stops at once (e.g. Pod cannot start). Others are retried. */
  isFatal?: (error: unknown) => boolean;
  /** How far past the deadline one look may run (default 10 s, or the wait's length if longer). */
  lookGraceMs?: number;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly description: string,
    readonly lastObserved: string,
    readonly lastError: unknown,
    readonly timeoutMs: number,
  ) {
    const err = lastError !== undefined ? `; last error: ${errorText(lastError)}` : '';
    super(`timed out after ${Math.round(timeoutMs / 1000)}s waiting until ${description}; last seen: ${lastObserved}${err}`);
    this.name = 'WaitTimeoutError';
  }
}

export class WaitAbortedError extends Error {
  constructor(readonly description: string, readonly lastObserved: string) {
    super(`stopped waiting until ${description} (run aborted); last seen: ${lastObserved}`);
    this.name = 'WaitAbortedError';
  }
}

const DEFAULT_INTERVALS = [100, 250, 500, 1000, 2000] as const;
/** A look may run past the deadline by this much, or by the wait's own length if longer. */
const LOOK_GRACE_MS = 10_000;

/**
 * A look that did not answer in time (an API call whose connection's far end is gone): the
 * grader could not look, which says nothing about what it waits for, so not a WaitTimeoutError.
 */
export class LookTimeout extends Error {
  constructor(ms: number, message = `the last look did not answer within ${Math.round(ms / 1000)}s`) {
    super(message);
    this.name = 'LookTimeout';
  }
}


export async function waitFor<T>(condition: Condition<T>, options: WaitOptions): Promise<Observation<T>> {
  const intervals = options.intervalsMs ?? DEFAULT_INTERVALS;
  const deadline = Date.now() + options.timeoutMs;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let lastObserved = 'nothing yet';
  let lastError: unknown;
  let lastReported = '';
  try {
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw new WaitAbortedError(options.description, lastObserved);
      try {
        const allowed = Math.max(0, deadline - Date.now()) + (options.lookGraceMs ?? Math.max(LOOK_GRACE_MS, options.timeoutMs));
        const obs = await withDeadline(condition(controller.signal), allowed, () => new LookTimeout(allowed), controller.signal);
        lastObserved = obs.observed;
        lastError = undefined;
        if (obs.observed !== lastReported) {
          lastReported = obs.observed;
          options.onProgress?.(obs.observed);
        }
        if (obs.done) return obs;
      } catch (error) {
        if (error instanceof LookTimeout) {
          if (options.signal?.aborted) throw new WaitAbortedError(options.description, lastObserved);
          throw new LookTimeout(0, `could not tell whether ${options.description}: ${error.message}; last seen: ${lastObserved}`);
        }
        if (options.isFatal?.(error)) throw error;
        lastError = error;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new WaitTimeoutError(options.description, lastObserved, lastError, options.timeoutMs);
      const interval = intervals[Math.min(attempt, intervals.length - 1)] ?? 1000;
      await sleep(Math.min(interval, remaining), options.signal);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Holds for the whole duration: polls and fails at the first observation that is not done. */
export async function holdsFor<T>(
  condition: Condition<T>,
  options: Omit<WaitOptions, 'timeoutMs'> & { durationMs: number; intervalMs?: number },
): Promise<Observation<T>[]> {
  const end = Date.now() + options.durationMs;
  const seen: Observation<T>[] = [];
  const controller = new AbortController();
  while (Date.now() < end) {
    if (options.signal?.aborted) throw new WaitAbortedError(options.description, seen.at(-1)?.observed ?? 'nothing yet');
    let obs: Observation<T>;
    try {
      const allowed = Math.max(0, end - Date.now()) + Math.max(LOOK_GRACE_MS, options.durationMs);
      obs = await withDeadline(condition(controller.signal), allowed, () => new LookTimeout(allowed), controller.signal);
    } catch (error) {
      if (error instanceof LookTimeout) throw new LookTimeout(0, `could not tell whether ${options.description} holds: ${error.message}; last seen: ${seen.at(-1)?.observed ?? 'nothing yet'}`);
      throw error;
    }
    seen.push(obs);
    options.onProgress?.(obs.observed);
    if (!obs.done) {
      const err = new Error(`expected ${options.description} to hold for ${Math.round(options.durationMs / 1000)}s, but: ${obs.observed}`);
      err.name = 'HoldViolatedError';
      throw err;
    }
    await sleep(Math.min(options.intervalMs ?? 1000, Math.max(0, end - Date.now())), options.signal);
  }
  return seen;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
