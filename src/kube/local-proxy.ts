// A loopback HTTP server that forwards every request to a Service or Pod through the API server
// proxy. Load generators (autocannon) then target 127.0.0.1 only, and the cluster needs no
// NodePort. Closed by the caller (register the close as an undo).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kube } from './client.js';
import { proxyRequest, type ProxyTarget } from './http.js';
import { errorText } from '../util/error-text.js';

export interface LocalProxy {
  url: string;
  close(): Promise<void>;
}

export async function startLocalProxy(kube: Kube, target: ProxyTarget, opts: { timeoutMs?: number } = {}): Promise<LocalProxy> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    // When the client goes away (load stopped, proxy closing), cancel the upstream request too,
    // so the app is not left computing answers nobody reads.
    const upstream = new AbortController();
    res.on('close', () => {
      if (!res.writableEnded) upstream.abort();
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
      proxyRequest(kube, target, req.url ?? '/', { method: req.method, body, timeoutMs: opts.timeoutMs ?? 120_000, signal: upstream.signal })
        .then((r) => {
          res.writeHead(r.status, { 'content-type': 'text/plain' });
          res.end(r.body);
        })
        .catch((e: unknown) => {
          if (upstream.signal.aborted || res.headersSent) return void res.destroy();
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`proxy error: ${errorText(e)}`);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
