// Traffic through a Service while one Pod's app has failed, to see whether callers ever reach it.
//
// Which path: `/healthz`, not `/`. The configurable app counts only page loads of `/` towards
// FailAfterCallCount (its /healthz must not count: the lab's readiness probe calls it every
// second, so if it counted, every Pod would fail within seconds of starting and the lab could
// not work). Loading `/` through the Service would spend the HEALTHY Pods' few calls (3 in the
// lab) and fail them one after another, so "only successes while a healthy Pod remains" would
// be unfair to a correct submission. `/healthz` answers 200 on a healthy Pod and 500 on the
// failed one, and costs nothing: a 500 through the Service means the failed Pod was served.
//
// Requests go through the API server's Service proxy, which picks one ready endpoint per request,
// so a Pod that stays in the endpoints is reached about once in N requests.
import type { Kube } from '../kube/client.js';
import { proxyRequest } from '../kube/http.js';
import { sleep } from '../wait/wait-for.js';
import { errorText } from '../util/error-text.js';

export interface TrafficSample {
  /** ms since the epoch when the request was sent */
  at: number;
  status: number;
  fromApiServer: boolean;
  body: string;
  error?: string;
}

export interface SamplerOptions {
  path: string;
  intervalMs: number;
  maxRequests: number;
  maxDurationMs: number;
  signal?: AbortSignal;
}

export interface Sampler {
  readonly samples: readonly TrafficSample[];
  /** Stops sending and waits for the request in flight. */
  stop(): Promise<void>;
}

export function startServiceSampler(
  kube: Kube,
  target: { namespace: string; service: string; port: number | string },
  opts: SamplerOptions,
): Sampler {
  const samples: TrafficSample[] = [];
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const end = Date.now() + opts.maxDurationMs;
  const loop = (async () => {
    while (!controller.signal.aborted && samples.length < opts.maxRequests && Date.now() < end) {
      const at = Date.now();
      try {
        const r = await proxyRequest(kube, { namespace: target.namespace, kind: 'services', name: target.service, port: target.port }, opts.path, {
          timeoutMs: 5_000,
          signal: controller.signal,
        });
        samples.push({ at, status: r.status, fromApiServer: r.fromApiServer, body: r.body.slice(0, 200) });
      } catch (error) {
        if (controller.signal.aborted) break;
        samples.push({ at, status: 0, fromApiServer: false, body: '', error: errorText(error) });
      }
      await sleep(Math.max(0, at + opts.intervalMs - Date.now()), controller.signal);
    }
  })();
  return {
    samples,
    stop: async () => {
      controller.abort();
      opts.signal?.removeEventListener('abort', onAbort);
      await loop;
    },
  };
}

export interface TrafficVerdict {
  /** Samples judged (sent at or after `from`). */
  counted: number;
  /** App answers 2xx. */
  ok: number;
  /** App answers 5xx: the failed Pod was served. */
  failures: TrafficSample[];
  /** API server answers (no endpoint) and transport errors: neither success nor the app's failure. */
  other: TrafficSample[];
}

/** Judges the samples sent in [from, to). */
export function judgeTraffic(samples: readonly TrafficSample[], from: number, to = Number.POSITIVE_INFINITY): TrafficVerdict {
  const counted = samples.filter((s) => s.at >= from && s.at < to);
  const verdict: TrafficVerdict = { counted: counted.length, ok: 0, failures: [], other: [] };
  for (const s of counted) {
    if (s.error || s.fromApiServer || s.status === 0) verdict.other.push(s);
    else if (s.status >= 500) verdict.failures.push(s);
    else if (s.status >= 200 && s.status < 300) verdict.ok++;
    else verdict.other.push(s);
  }
  return verdict;
}

export function describeSample(s: TrafficSample, since: number): string {
  const t = `${((s.at - since) / 1000).toFixed(1)}s`;
  if (s.error) return `${t}: ${s.error}`;
  const who = s.fromApiServer ? 'the API server' : 'the app';
  const body = s.body.replace(/\s+/g, ' ').trim().slice(0, 80);
  return `${t}: ${who} answered ${s.status}${body ? ` ${body}` : ''}`;
}
