// API calls with backoff on transient errors only (throttling, 5xx hiccups, conflicts, connection
// blips). A connection error that persists through every retry means the cluster is gone: that
// is the environment's fault (exit 3), never the learner's.
import pRetry, { AbortError } from 'p-retry';
import { EnvironmentError } from '../model.js';
import { apiMessage, isConnectionError, isTransient } from './client.js';

export interface RetryOptions {
  signal?: AbortSignal;
  /** Attempts after the first; default 4 (about 8 s of backoff in all). */
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
}

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
        return fn();
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
