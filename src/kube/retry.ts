// API calls with backoff on transient errors only (throttling, 5xx hiccups, conflicts, connection
// blips). A connection error that persists through every retry means the cluster is gone: that
// is the environment's fault (exit 3), never the learner's.
import pRetry, { AbortError } from 'p-retry';
import { EnvironmentError } from '../model.js';
import { withDeadline } from '../util/deadline.js';
import { apiMessage, isConnectionError, isTransient } from './client.js';

export interface RetryOptions {
  signal?: AbortSignal;
  /** Attempts after the first; default 4 (about 8 s of backoff in all). */
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  /**
   * Bound of one attempt (default 60 s). client-node's requests have no timeout of their own: a
   * connection whose far end vanished (the node's container restarted with dockerd) can wait
   * forever. A timed-out attempt counts as a connection error: retried, then the cluster is
   * unreachable (exit 3), never a hang.
   */
  attemptTimeoutMs?: number;
}

/** One attempt of an API call that did not answer within its bound. */
export class AttemptTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(what: string, ms: number) {
    super(`ETIMEDOUT: no answer within ${Math.round(ms / 1000)}s while trying to ${what}`);
    this.name = 'AttemptTimeoutError';
  }
}

export const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;


export class ClusterUnreachableError extends EnvironmentError {
  constructor(
    what: string,
    override readonly cause: unknown,
  ) {
    super(
      `the cluster stopped answering while the grader tried to ${what}: ${apiMessage(cause)}`,
      'check that the cluster is still running (`lab-grader cluster status`); the grade was not decided',
    );
    this.name = 'ClusterUnreachableError';
  }
}

export async function withRetry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  try {
    return await pRetry(
      async () => {
        if (opts.signal?.aborted) throw new AbortError(`aborted: ${what}`);
        const ms = opts.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
        return withDeadline(fn(), ms, () => new AttemptTimeoutError(what, ms));
      },
      {
        retries: opts.retries ?? 4,
        minTimeout: opts.minTimeoutMs ?? 250,
        maxTimeout: opts.maxTimeoutMs ?? 4_000,
        factor: 2,
        randomize: true,
        shouldRetry: (error) => isTransient(error),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
  } catch (error) {
    if (isConnectionError(error) && !opts.signal?.aborted) throw new ClusterUnreachableError(what, error);
    throw error;
  }
}
