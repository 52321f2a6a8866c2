// Kubernetes clients for one kubeconfig context. Loads explicitly and fails loudly:
// client-node's loadFromDefault() silently falls back to localhost:8080 when nothing is found.
import * as k8s from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { EnvironmentError } from '../model.js';
import { errorText } from '../util/error-text.js';

export interface Kube {
  config: k8s.KubeConfig;
  context: string;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  autoscaling: k8s.AutoscalingV2Api;
  discovery: k8s.DiscoveryV1Api;
  objects: k8s.KubernetesObjectApi;
  custom: k8s.CustomObjectsApi;
  events: k8s.EventsV1Api;
}

export function kubeconfigPaths(): string[] {
  const env = process.env.KUBECONFIG;
  if (env) return env.split(delimiter).filter(Boolean);
  return [join(homedir(), '.kube', 'config')];
}

export function loadKube(context: string): Kube {
  const config = new k8s.KubeConfig();
  const paths = kubeconfigPaths().filter((p) => existsSync(p));
  if (paths.length === 0) {
    throw new EnvironmentError(
      `no kubeconfig found (looked in ${kubeconfigPaths().join(', ')})`,
      'run `lab-grader cluster up` or point KUBECONFIG at your cluster',
    );
  }
  // loadFromFile replaces; merge every file like kubectl does, first one wins.
  const merged = new k8s.KubeConfig();
  for (const path of paths.reverse()) {
    const one = new k8s.KubeConfig();
    one.loadFromFile(path);
    merged.mergeConfig(one, true);
  }
  config.loadFromOptions({
    clusters: merged.getClusters(),
    users: merged.getUsers(),
    contexts: merged.getContexts(),
    currentContext: merged.getCurrentContext(),
  });
  if (!config.getContextObject(context)) {
    throw new EnvironmentError(
      `kubeconfig has no context "${context}" (have: ${config.getContexts().map((c) => c.name).join(', ') || 'none'})`,
      'run `lab-grader cluster up` or pass --context',
    );
  }
  // makeApiClient copies the server at creation: set the context first.
  config.setCurrentContext(context);
  return {
    config,
    context,
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    autoscaling: config.makeApiClient(k8s.AutoscalingV2Api),
    discovery: config.makeApiClient(k8s.DiscoveryV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(config),
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    events: config.makeApiClient(k8s.EventsV1Api),
  };
}

/** HTTP status of a client-node error, if it is one. */
export function statusCode(error: unknown): number | undefined {
  if (error instanceof k8s.ApiException) return error.code;
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; statusCode?: unknown };
    if (typeof e.code === 'number') return e.code;
    if (typeof e.statusCode === 'number') return e.statusCode;
  }
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusCode(error) === 404;
}

/** The API server's own explanation (V1Status.message), without headers and bodies. */
export function apiMessage(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const body: unknown = error.body;
    try {
      const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string; reason?: string };
      if (status?.message) return `${status.reason ? status.reason + ': ' : ''}${status.message}`;
    } catch {
      // body was not JSON: fall through to the code
    }
    return `HTTP ${error.code}`;
  }
  return errorText(error);
}

/** Connection-level failures: the cluster is gone or unreachable (environment, exit 3). */
export function isConnectionError(error: unknown): boolean {
  const text = error instanceof Error ? `${error.name} ${error.message} ${(error as { code?: unknown }).code ?? ''}` : errorText(error);
  return /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT|EPIPE|socket hang up|socket disconnected|FetchError/i.test(text);
}

/** Errors worth retrying: connection blips, throttling, server-side hiccups, conflicts. */
export function isTransient(error: unknown): boolean {
  const code = statusCode(error);
  if (code !== undefined) return code === 409 || code === 429 || code === 500 || code === 502 || code === 503 || code === 504;
  return isConnectionError(error);
}
