// HTTP to Pods and Services through the API server's proxy: works on any cluster, needs no
// NodePort, and keeps grading traffic on the connection to the API server (127.0.0.1 for kind).
import * as https from 'node:https';
import * as http from 'node:http';
import type { Kube } from './client.js';

export interface ProxyResponse {
  status: number;
  body: string;
  /** Set when the API server itself answered (no endpoint, Pod not reachable) rather than the app. */
  fromApiServer: boolean;
}

export interface ProxyTarget {
  namespace: string;
  kind: 'pods' | 'services';
  name: string;
  /** Port number or name; for services a port name or number of the Service. */
  port: number | string;
  /** `http` (default) or `https`. */
  scheme?: 'http' | 'https';
}

export function proxyPath(target: ProxyTarget, path: string): string {
  const scheme = target.scheme === 'https' ? 'https:' : '';
  const rel = path.startsWith('/') ? path : `/${path}`;
  return `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/${target.kind}/${scheme}${encodeURIComponent(target.name)}:${target.port}/proxy${rel}`;
}

export async function proxyRequest(
  kube: Kube,
  target: ProxyTarget,
  path: string,
  init: { method?: string; body?: string; timeoutMs?: number; signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<ProxyResponse> {
  const cluster = kube.config.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig context ${kube.context} has no cluster`);
  const base = new URL(cluster.server);
  const options: https.RequestOptions = {
    protocol: base.protocol,
    hostname: base.hostname,
    port: base.port,
    method: init.method ?? 'GET',
    path: `${base.pathname.replace(/\/$/, '')}${proxyPath(target, path)}`,
    headers: { ...(init.headers ?? {}) },
    timeout: init.timeoutMs ?? 15_000,
    signal: init.signal,
  };
  await kube.config.applyToHTTPSOptions(options);
  const body = init.body;
  if (body !== undefined) {
    (options.headers as Record<string, string>)['content-type'] ??= 'application/json';
    (options.headers as Record<string, string>)['content-length'] = String(Buffer.byteLength(body));
  }
  const transport = base.protocol === 'https:' ? https : http;
  return new Promise<ProxyResponse>((resolve, reject) => {
    const req = transport.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text, fromApiServer: isApiServerStatus(res.headers['content-type'], text) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${target.kind}/${target.name}${path} timed out after ${(options.timeout ?? 0) / 1000}s`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The API server wraps its own proxy errors (no endpoints, dial failure) in a V1Status. */
function isApiServerStatus(contentType: string | undefined, body: string): boolean {
  if (!contentType?.includes('application/json')) return false;
  try {
    const parsed = JSON.parse(body) as { kind?: string; apiVersion?: string };
    return parsed.kind === 'Status' && parsed.apiVersion === 'v1';
  } catch {
    return false;
  }
}
