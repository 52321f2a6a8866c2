// Bounded HTTP load with autocannon against a 127.0.0.1 URL (startLocalProxy's): a fixed number of
// connections, a time limit, a cap on requests per connection, and a stop() the caller registers
// as an undo. autocannon's default 10s request timeout would re-send long requests (and pile up
// work in the app), so the timeout is set above the longest expected request.
import autocannon from 'autocannon';
import { errorText } from '../../../util/error-text.js';

export interface LoadOptions {
  url: string;
  connections: number;
  durationSec: number;
  /** Requests per connection before it stops. */
  maxRequestsPerConnection: number;
  /** Seconds to wait for one response. */
  timeoutSec: number;
}

export interface LoadSummary {
  requests: number;
  completed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSec: number;
}

export interface LoadRun {
  /** Stops sending (autocannon stops at its next one-second tick and closes its connections). */
  stop(): void;
  /** Resolves when autocannon has stopped. */
  finished: Promise<LoadSummary>;
  /** Responses seen so far. */
  responses(): number;
}

export function startLoad(opts: LoadOptions): LoadRun {
  const url = new URL(opts.url);
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
    throw new Error(`load is only sent to 127.0.0.1, not ${url.hostname}`);
  }
  let responses = 0;
  let instance: autocannon.Instance | undefined;
  const finished = new Promise<LoadSummary>((resolve, reject) => {
    instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        duration: opts.durationSec,
        maxConnectionRequests: opts.maxRequestsPerConnection,
        timeout: opts.timeoutSec,
        pipelining: 1,
      },
      (err, result) => {
        if (err) return reject(err instanceof Error ? err : new Error(errorText(err)));
        resolve({
          requests: result.requests.sent,
          completed: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          durationSec: result.duration,
        });
      },
    );
    instance.on('response', () => {
      responses++;
    });
  });
  return {
    stop: () => instance?.stop(),
    finished,
    responses: () => responses,
  };
}

export function describeLoad(s: LoadSummary): string {
  return `${s.requests} request(s) sent, ${s.completed} answered (${s.non2xx} not 2xx), ${s.errors} error(s), ${s.timeouts} timeout(s) in ${s.durationSec}s`;
}
