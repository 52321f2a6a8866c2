// What the walkthrough does to its apps, as the lab's curl and kubectl exec commands do it, but
// through the API server: HTTP via the pod/service proxy, exec with exit code and stderr checked.
// An exec that fails counts only when it fails for the lab's reason; one that cannot even start
// (executable not found, container gone) is inconclusive.
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from '../../../kube/client.js';
import { describeEndpoints, readyPods, serviceEndpoints } from '../../../kube/endpoints.js';
import { execInPod, type ExecResult } from '../../../kube/exec.js';
import { proxyRequest, type ProxyResponse, type ProxyTarget } from '../../../kube/http.js';
import { CheckFailed, CheckInconclusive } from '../../../engine/outcomes.js';

export const HTTP_TIMEOUT_MS = 20_000;
export const EXEC_TIMEOUT_MS = 20_000;

export function podTarget(namespace: string, pod: string, port: number): ProxyTarget {
  return { namespace, kind: 'pods', name: pod, port };
}

export function serviceTarget(namespace: string, service: string, port: number): ProxyTarget {
  return { namespace, kind: 'services', name: service, port };
}

export function describeTarget(t: ProxyTarget): string {
  return `${t.kind === 'pods' ? 'Pod' : 'Service'} ${t.name}:${t.port}`;
}

/** One HTTP request; a response from the API server itself (app unreachable) is reported as such. */
export async function request(
  kube: Kube,
  target: ProxyTarget,
  path: string,
  init: { method?: string; body?: string; signal?: AbortSignal } = {},
): Promise<ProxyResponse> {
  return proxyRequest(kube, target, path, { timeoutMs: HTTP_TIMEOUT_MS, ...init });
}

/** Expects the app (not the API server) to answer with `status`; returns the response. */
export async function expectStatus(
  kube: Kube,
  target: ProxyTarget,
  path: string,
  status: number,
  init: { method?: string; body?: string; signal?: AbortSignal; contains?: readonly string[] } = {},
): Promise<ProxyResponse> {
  const { contains, ...rest } = init;
  const r = await request(kube, target, path, rest);
  const what = `${rest.method ?? 'GET'} ${path} on ${describeTarget(target)}`;
  if (r.fromApiServer) {
    throw new CheckFailed(`${what}: the app did not answer; the API server said ${r.status}: ${apiServerMessage(r.body)}`);
  }
  if (r.status !== status) throw new CheckFailed(`${what} answered ${r.status}, expected ${status}${r.body ? `: ${clip(r.body)}` : ''}`);
  for (const text of contains ?? []) {
    if (!r.body.includes(text)) throw new CheckFailed(`${what} answered ${r.status} without "${text}": ${clip(r.body)}`);
  }
  return r;
}

/** The whoami fault: POST a status code to the Pod's /health (like `curl --data '503' …/health`). */
export async function setWhoamiHealth(kube: Kube, namespace: string, pod: string, code: number, signal?: AbortSignal): Promise<void> {
  await expectStatus(kube, podTarget(namespace, pod, 80), '/health', 200, { method: 'POST', body: String(code), ...(signal ? { signal } : {}) });
}

export interface ExecExpectation {
  exitCode: number;
  /** stdout after trimming must equal this. */
  stdout?: string;
  /** stdout must match. */
  stdoutMatches?: RegExp;
  /** stderr must contain this (the reason for a failure). */
  stderrIncludes?: string;
}

/** Runs the command and checks exit code and output; returns a one-line account of what happened. */
export async function expectExec(
  kube: Kube,
  namespace: string,
  pod: string,
  command: readonly string[],
  want: ExecExpectation,
  signal?: AbortSignal,
): Promise<string> {
  const cmd = command.join(' ');
  const r: ExecResult = await execInPod(kube, { namespace, pod, command: [...command], timeoutMs: EXEC_TIMEOUT_MS, ...(signal ? { signal } : {}) });
  if (r.exitCode === undefined) {
    throw new CheckInconclusive(`\`${cmd}\` in ${pod} could not run (${r.startFailure ?? 'unknown'}): ${r.statusMessage}`);
  }
  const out = r.stdout.trim();
  const err = r.stderr.trim();
  const seen = `exit ${r.exitCode}${out ? `, stdout "${clip(out, 80)}"` : ''}${err ? `, stderr "${clip(err, 160)}"` : ''}`;
  if (r.exitCode !== want.exitCode) throw new CheckFailed(`\`${cmd}\` in ${pod}: ${seen}; expected exit ${want.exitCode}`);
  if (want.stdout !== undefined && out !== want.stdout) throw new CheckFailed(`\`${cmd}\` in ${pod}: ${seen}; expected stdout "${want.stdout}"`);
  if (want.stdoutMatches && !want.stdoutMatches.test(out)) throw new CheckFailed(`\`${cmd}\` in ${pod}: ${seen}; expected stdout matching ${want.stdoutMatches}`);
  if (want.stderrIncludes && !r.stderr.includes(want.stderrIncludes)) {
    throw new CheckFailed(`\`${cmd}\` in ${pod} failed for another reason: ${seen}; expected "${want.stderrIncludes}"`);
  }
  return `\`${cmd}\` → ${want.stdout !== undefined ? `"${out}"` : seen}`;
}

export interface EndpointView {
  /** Ready Pods in the EndpointSlices. */
  slicePods: string[];
  /** Ready Pods in the legacy Endpoints object, which the API server's service proxy uses. */
  endpointsPods: string[];
  text: string;
}

/** Ready Pods of a Service, from both its EndpointSlices and its Endpoints. */
export async function endpointView(kube: Kube, namespace: string, service: string): Promise<EndpointView> {
  const slices = await serviceEndpoints(kube, namespace, service);
  const slicePods = readyPods(slices);
  let endpointsPods: string[] = [];
  try {
    const ep: k8s.V1Endpoints = await kube.core.readNamespacedEndpoints({ namespace, name: service });
    endpointsPods = (ep.subsets ?? [])
      .flatMap((s) => s.addresses ?? [])
      .map((a) => a.targetRef?.name)
      .filter((n): n is string => Boolean(n))
      .sort();
  } catch {
    endpointsPods = [];
  }
  return { slicePods, endpointsPods, text: `${service} endpoints: ${describeEndpoints(slices)}` };
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

function apiServerMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? clip(body);
  } catch {
    return clip(body);
  }
}

export function clip(text: string, max = 200): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}
