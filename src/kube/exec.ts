// `kubectl exec` through the API, waiting for the command to finish.
// client-node's Exec resolves when the WebSocket opens; completion only arrives through the
// status callback, and a dropped socket would hang, so both are wired into one promise here.
import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import type { Kube } from './client.js';
import { errorText } from '../util/error-text.js';

export interface ExecResult {
  /** Exit code; undefined when the command could not be started at all. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** The V1Status message for failures (e.g. "command terminated with non-zero exit code"). */
  statusMessage: string;
  /** Why the command did not run: the executable is missing (no shell in the image), etc. */
  startFailure?: 'executable-not-found' | 'container-not-running' | 'pod-not-found' | 'other';
}

export interface ExecOptions {
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

export function classifyStartFailure(message: string): ExecResult['startFailure'] {
  // The exec handshake of a Pod that no longer exists fails with the API server's 404.
  if (/Unexpected server response: 404|pods? "[^"]*" not found/i.test(message)) return 'pod-not-found';
  if (/executable file not found|no such file or directory: unknown|not found in \$PATH/i.test(message)) return 'executable-not-found';
  if (/container not found|is not running|container .* not running|unable to upgrade connection: container not found/i.test(message)) {
    return 'container-not-running';
  }
  return 'other';
}

export async function execInPod(kube: Kube, opts: ExecOptions): Promise<ExecResult> {
  const container = opts.container ?? (await firstContainer(kube, opts.namespace, opts.pod));
  const out = collector();
  const err = collector();
  const exec = new k8s.Exec(kube.config);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    let socket: { close(): void; on(event: string, cb: (...a: unknown[]) => void): void } | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      socket?.close();
      finish(() => reject(new Error(`exec ${opts.command.join(' ')} in ${opts.pod}: aborted`)));
    };
    const timer = setTimeout(() => {
      socket?.close();
      finish(() => reject(new Error(`exec ${opts.command.join(' ')} in ${opts.pod}: no result within ${timeoutMs / 1000}s`)));
    }, timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const onStatus = (status: k8s.V1Status) => {
      // Give the streams a tick to flush what arrived with the status frame.
      setImmediate(() =>
        finish(() => {
          const message = status.message ?? '';
          if (status.status === 'Success') {
            resolve({ exitCode: 0, stdout: out.text(), stderr: err.text(), statusMessage: '' });
            return;
          }
          const exitCause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
          if (status.reason === 'NonZeroExitCode' && exitCause?.message) {
            resolve({ exitCode: Number(exitCause.message), stdout: out.text(), stderr: err.text(), statusMessage: message });
            return;
          }
          resolve({ exitCode: undefined, stdout: out.text(), stderr: err.text(), statusMessage: message, startFailure: classifyStartFailure(message) });
        }),
      );
    };

    exec
      .exec(opts.namespace, opts.pod, container, opts.command, out.stream, err.stream, null, false, onStatus)
      .then((ws) => {
        socket = ws as unknown as typeof socket;
        ws.on('close', () => {
          // A close without a status frame: the connection dropped or the exec never started.
          setTimeout(
            () =>
              finish(() =>
                resolve({
                  exitCode: undefined,
                  stdout: out.text(),
                  stderr: err.text(),
                  statusMessage: 'exec connection closed without a status',
                  startFailure: 'other',
                }),
              ),
            200,
          );
        });
        ws.on('error', (e: unknown) => finish(() => reject(e instanceof Error ? e : new Error(errorText(e)))));
      })
      .catch((e: unknown) => {
        const message = errorText(e);
        finish(() => resolve({ exitCode: undefined, stdout: '', stderr: '', statusMessage: message, startFailure: classifyStartFailure(message) }));
      });
  });
}

async function firstContainer(kube: Kube, namespace: string, pod: string): Promise<string> {
  const p = await kube.core.readNamespacedPod({ namespace, name: pod });
  const name = p.spec?.containers[0]?.name;
  if (!name) throw new Error(`pod ${namespace}/${pod} has no containers`);
  return name;
}
