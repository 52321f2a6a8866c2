// The readiness/liveness fault: make ONE Pod's app fail the way a user would. The configurable app
// fails for good after `Configurable__FailAfterCallCount` page loads of `/` (the lab sets 3):
// from then on `/` and `/healthz` answer 500 and the process keeps running. So the grader loads
// `/` of that one Pod through the API server's Pod proxy until it answers 5xx, with a bounded
// number of requests. Nothing is changed in the cluster; the "undo" is replacing the Pod when
// Kubernetes did not restart its container (a submission without a liveness probe), so later
// checks start from healthy Pods again.
import type { Kube } from '../../../kube/client.js';
import { proxyRequest, type ProxyResponse } from '../../../kube/http.js';

export interface TripOptions {
  /** Most page loads to send; the app should fail after FailAfterCallCount of them. */
  maxRequests: number;
  /** Overall time limit for the requests. */
  timeoutMs: number;
  signal?: AbortSignal;
  onResponse?: (n: number, r: ProxyResponse) => void;
}

export type TripOutcome =
  /** The app answered 5xx itself: it has failed. */
  | { kind: 'failed'; requests: number; status: number; body: string; okBefore: number }
  /** Every answer was a success: the app did not fail within the bound. */
  | { kind: 'never-failed'; requests: number; statuses: Record<string, number> }
  /** The API server, not the app, answered (Pod unreachable): the grader cannot decide. */
  | { kind: 'unreachable'; requests: number; status: number; body: string }
  /** The app answered something else (4xx): `/` is not the app's page. */
  | { kind: 'unexpected'; requests: number; status: number; body: string };

/** Bookkeeping of a trip, separate from the HTTP so it can be tested on its own. */
export class TripTracker {
  private requests = 0;
  private ok = 0;
  private readonly statuses: Record<string, number> = {};

  constructor(private readonly maxRequests: number) {}

  get sent(): number {
    return this.requests;
  }

  /** Feeds one response; returns the outcome when the trip is over, undefined to send another. */
  record(r: ProxyResponse): TripOutcome | undefined {
    this.requests++;
    this.statuses[String(r.status)] = (this.statuses[String(r.status)] ?? 0) + 1;
    const body = snippet(r.body);
    if (r.fromApiServer) return { kind: 'unreachable', requests: this.requests, status: r.status, body };
    if (r.status >= 500) return { kind: 'failed', requests: this.requests, status: r.status, body, okBefore: this.ok };
    if (r.status >= 200 && r.status < 400) {
      this.ok++;
      return this.requests >= this.maxRequests ? this.exhausted() : undefined;
    }
    return { kind: 'unexpected', requests: this.requests, status: r.status, body };
  }

  /** The outcome when the bound (count or time) is reached without a failure. */
  exhausted(): TripOutcome {
    return { kind: 'never-failed', requests: this.requests, statuses: { ...this.statuses } };
  }
}

/**
 * How many page loads to allow: the configured FailAfterCallCount (when the Deployment sets it as
 * a plain env value) plus slack for loads other callers made, else a default that covers the lab.
 */
export function tripBudget(failAfterCallCount: number | undefined): number {
  if (failAfterCallCount === undefined || !Number.isFinite(failAfterCallCount) || failAfterCallCount <= 0) return 25;
  return Math.min(200, Math.max(10, Math.ceil(failAfterCallCount) + 5));
}

/** Reads `Configurable__FailAfterCallCount` from a container's env (plain values only). */
export function failAfterCallCount(container: { env?: Array<{ name?: string; value?: string }> } | undefined): number | undefined {
  const env = container?.env?.find((e) => e.name?.toLowerCase() === 'configurable__failaftercallcount');
  if (!env || env.value === undefined) return undefined;
  const n = Number(env.value.trim());
  return Number.isInteger(n) ? n : undefined;
}

export async function tripAppFailure(
  kube: Kube,
  target: { namespace: string; pod: string; port: number | string },
  opts: TripOptions,
): Promise<TripOutcome> {
  const tracker = new TripTracker(opts.maxRequests);
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (opts.signal?.aborted) throw new Error(`stopped loading / of Pod ${target.pod}: run aborted`);
    if (Date.now() >= deadline) return tracker.exhausted();
    const r = await proxyRequest(kube, { namespace: target.namespace, kind: 'pods', name: target.pod, port: target.port }, '/', {
      timeoutMs: Math.max(1_000, Math.min(10_000, deadline - Date.now())),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const outcome = tracker.record(r);
    opts.onResponse?.(tracker.sent, r);
    if (outcome) return outcome;
  }
}

export function snippet(text: string, max = 160): string {
  const flat = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
