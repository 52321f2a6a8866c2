// Why a workload's Pods cannot run, in the learner's terms, from what Kubernetes recorded: the
// Pods' statuses, the namespace's events (the kubelet's probe failures, the scheduler's and the
// ReplicaSet's reasons) and the previous container logs. One place for every lab: the rollout
// wait, the Pods check and the checks that cannot run all quote the same explanation.
//
// The most specific reason wins: a container the kubelet refuses to create, an image it cannot
// pull, a container killed for memory, a liveness probe that kills it (with what the probe got),
// a crash (exit code and the last lines of its log), a Pod the scheduler cannot place, Pods the
// ReplicaSet cannot create (quota, Pod Security), and last a readiness probe that keeps failing.
import type * as k8s from '@kubernetes/client-node';
import { apiMessage, type Kube } from './client.js';

export interface PodProblem {
  /** Kubernetes' own word: CreateContainerConfigError, ImagePullBackOff, OOMKilled, Unhealthy, Unschedulable, FailedCreate… */
  reason: string;
  pod?: string;
  container?: string;
  /** What is wrong, in the learner's terms, quoting Kubernetes. */
  message: string;
  /** What to change. */
  hint: string;
  /** It will not resolve itself: waiting longer does not help. */
  final: boolean;
  /** The scheduler has no room for the Pods: the cluster's size, not the specs. */
  noRoom?: boolean;
}

export interface PodRecord {
  pods: readonly k8s.V1Pod[];
  /** The namespace's events (any order). */
  events: readonly k8s.CoreV1Event[];
  /** Last lines of previous container logs, keyed `<pod>/<container>`. */
  previousLogs?: Readonly<Record<string, string>>;
  /** The Deployment's ReplicaFailure condition message, if any. */
  replicaFailure?: string;
}

/** What the lab expects of its app, for hints (none of it is required). */
export interface AppHints {
  /** The path the app reports its health on (e.g. /healthz). */
  healthPath?: string;
  /** The image the lab runs. */
  image?: string;
}

export interface ExplainOptions {
  /** The container that matters (the app's); others are explained only if it has no problem. */
  container?: string;
  hints?: AppHints;
  /** Also report a readiness probe that keeps failing (a Pod that runs but is never ready). */
  includeReadiness?: boolean;
}

/** Waiting reasons that will not fix themselves. */
export const FINAL_WAITING: ReadonlySet<string> = new Set(['CreateContainerConfigError', 'CreateContainerError', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CrashLoopBackOff', 'RunContainerError']);
const IMAGE_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);
const PREVIOUS_LOG_LINES = 5;

export function explainPods(record: PodRecord, opts: ExplainOptions = {}): PodProblem | undefined {
  const pods = [...record.pods].filter((p) => !p.metadata?.deletionTimestamp).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const candidates: PodProblem[] = [];
  for (const pod of pods) candidates.push(...containerProblems(pod, record, opts));
  for (const pod of pods) {
    const p = schedulingProblem(pod);
    if (p) candidates.push(p);
  }
  const create = failedCreate(record);
  if (create) candidates.push(create);
  if (opts.includeReadiness) {
    for (const pod of pods) {
      const p = readinessProblem(pod, record, opts);
      if (p) candidates.push(p);
    }
  }
  // The app's container first, then final problems before passing ones, in the order found.
  const rank = (p: PodProblem) => (opts.container && p.container && p.container !== opts.container ? 2 : 0) + (p.final ? 0 : 1);
  return candidates.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i)[0]?.p;
}

function containerProblems(pod: k8s.V1Pod, record: PodRecord, opts: ExplainOptions): PodProblem[] {
  const name = pod.metadata?.name ?? '?';
  const out: PodProblem[] = [];
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const cs of statuses) {
    const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === cs.name);
    const waiting = cs.state?.waiting;
    const where = `container ${cs.name} of Pod ${name}`;
    if (waiting?.reason === 'CreateContainerConfigError' || waiting?.reason === 'CreateContainerError') {
      const quoted = waiting.message ?? '';
      out.push({
        reason: waiting.reason,
        pod: name,
        container: cs.name,
        message: `the kubelet cannot create ${where}: ${configErrorInWords(quoted, pod, spec)} (kubelet: "${oneLine(quoted)}")`,
        hint: configErrorHint(quoted),
        final: true,
      });
      continue;
    }
    if (waiting?.reason && IMAGE_REASONS.has(waiting.reason)) {
      const image = spec?.image ?? cs.image;
      out.push({
        reason: waiting.reason,
        pod: name,
        container: cs.name,
        message: `the image "${image}" of ${where} cannot be pulled (${waiting.reason}${waiting.message ? `: ${oneLine(waiting.message)}` : ''})`,
        hint: `Check the image name and tag${opts.hints?.image ? `: the lab runs \`${opts.hints.image}\`` : ''}.`,
        final: waiting.reason !== 'ErrImagePull',
      });
      continue;
    }
    const restarting = (cs.restartCount ?? 0) > 0 || (waiting?.reason !== undefined && FINAL_WAITING.has(waiting.reason));
    if (!restarting) continue;
    const crash = restartProblem(pod, cs, spec, record, opts);
    if (crash) out.push(crash);
  }
  return out;
}

/** Why a container keeps being restarted: memory, a probe, or the process exiting. */
function restartProblem(pod: k8s.V1Pod, cs: k8s.V1ContainerStatus, spec: k8s.V1Container | undefined, record: PodRecord, opts: ExplainOptions): PodProblem | undefined {
  const name = pod.metadata?.name ?? '?';
  const where = `container ${cs.name} of Pod ${name}`;
  const last = cs.lastState?.terminated ?? cs.state?.terminated;
  const waiting = cs.state?.waiting?.reason;
  const restarts = cs.restartCount ?? 0;
  const times = restarts === 1 ? 'once' : `${restarts} times`;
  const backoff = waiting === 'CrashLoopBackOff' ? '; it is now in CrashLoopBackOff' : '';
  const final = waiting !== undefined && FINAL_WAITING.has(waiting);
  if (last?.reason === 'OOMKilled') {
    const limit = spec?.resources?.limits?.memory;
    return {
      reason: 'OOMKilled',
      pod: name,
      container: cs.name,
      message: `${where} was killed for using more memory than its limit${limit ? ` of ${limit}` : ''} (OOMKilled, exit ${last.exitCode}); restarted ${times}${backoff}`,
      hint: `Raise resources.limits.memory of container ${cs.name}${limit ? ` above ${limit}` : ''} to what the app needs.`,
      final,
    };
  }
  for (const kind of ['Startup', 'Liveness'] as const) {
    const failure = probeFailures(record.events, name, kind, cs.name);
    if (!failure) continue;
    const probe = kind === 'Liveness' ? spec?.livenessProbe : spec?.startupProbe;
    const got = probeOutcome(failure.detail, probe);
    return {
      reason: 'Unhealthy',
      pod: name,
      container: cs.name,
      message:
        `the ${kind.toLowerCase()} probe of ${where} (${probeAction(probe)}) fails: ${got.words}, so the kubelet kills and restarts the container: restarted ${times}${backoff} ` +
        `(kubelet: "${oneLine(failure.message)}"${failure.count > 1 ? `, ${failure.count} times` : ''})`,
      hint: probeHint(kind, probe, got, opts.hints),
      final,
    };
  }
  if (!last) {
    return waiting && FINAL_WAITING.has(waiting)
      ? { reason: waiting, pod: name, container: cs.name, message: `${where} cannot start: ${waiting}${cs.state?.waiting?.message ? `: ${oneLine(cs.state.waiting.message)}` : ''}`, hint: 'Check the Pod with `kubectl describe pod`: its events say why.', final }
      : undefined;
  }
  const log = record.previousLogs?.[`${name}/${cs.name}`];
  const logText = log !== undefined ? `; the last lines of its log: ${quoteLog(log)}` : '';
  const exitText = `exit code ${last.exitCode}${last.reason && last.reason !== 'Error' ? ` (${last.reason})` : ''}${last.message ? `: ${oneLine(last.message)}` : ''}`;
  return {
    reason: waiting ?? 'Restarted',
    pod: name,
    container: cs.name,
    message: `${where} keeps stopping: its process exited with ${exitText}; restarted ${times}${backoff}${logText}`,
    hint:
      last.exitCode === 0
        ? 'The container\'s process ends by itself: run the app in the foreground (check command and args).'
        : 'The app crashes at start: its log shows why (`kubectl logs --previous`); check command, args, env and mounted config.',
    final,
  };
}

function schedulingProblem(pod: k8s.V1Pod): PodProblem | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False' && x.reason === 'Unschedulable');
  if (!c) return undefined;
  const noRoom = /Insufficient (cpu|memory)/i.test(c.message ?? '');
  const name = pod.metadata?.name ?? '?';
  return {
    reason: 'Unschedulable',
    pod: name,
    message: `Pod ${name} cannot be scheduled (scheduler: "${oneLine(c.message ?? '')}")`,
    hint: noRoom
      ? 'The nodes have no room for the Pods\' requests: lower resources.requests or the replicas.'
      : 'The scheduler finds no node the Pod may run on: check nodeSelector, affinity, tolerations and volumes against its message.',
    final: !noRoom,
    ...(noRoom ? { noRoom } : {}),
  };
}

function failedCreate(record: PodRecord): PodProblem | undefined {
  const fromEvents = [...record.events]
    .filter((e) => e.reason === 'FailedCreate' && e.involvedObject?.kind === 'ReplicaSet')
    .sort((a, b) => eventTime(a) - eventTime(b))
    .at(-1)?.message;
  const message = record.replicaFailure ?? fromEvents;
  if (!message) return undefined;
  return {
    reason: 'FailedCreate',
    message: `the Deployment's Pods cannot be created: ${failedCreateInWords(message)} (ReplicaSet: "${oneLine(message)}")`,
    hint: failedCreateHint(message),
    final: true,
  };
}

function readinessProblem(pod: k8s.V1Pod, record: PodRecord, opts: ExplainOptions): PodProblem | undefined {
  const name = pod.metadata?.name ?? '?';
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  if (ready) return undefined;
  for (const cs of pod.status?.containerStatuses ?? []) {
    if (!cs.state?.running) continue;
    const failure = probeFailures(record.events, name, 'Readiness', cs.name);
    if (!failure) continue;
    const probe = pod.spec?.containers.find((c) => c.name === cs.name)?.readinessProbe;
    const got = probeOutcome(failure.detail, probe);
    return {
      reason: 'Unhealthy',
      pod: name,
      container: cs.name,
      message: `the readiness probe of container ${cs.name} of Pod ${name} (${probeAction(probe)}) fails: ${got.words}, so the Pod never becomes ready (kubelet: "${oneLine(failure.message)}"${failure.count > 1 ? `, ${failure.count} times` : ''})`,
      hint: probeHint('Readiness', probe, got, opts.hints),
      final: false,
    };
  }
  return undefined;
}

interface ProbeFailure {
  /** The whole event message: "Liveness probe failed: HTTP probe failed with statuscode: 404". */
  message: string;
  /** What the probe got: "HTTP probe failed with statuscode: 404". */
  detail: string;
  count: number;
  at: number;
}

/** The latest "<Kind> probe failed/errored" event of a Pod's container, with how often it happened. */
export function probeFailures(events: readonly k8s.CoreV1Event[], pod: string, kind: 'Liveness' | 'Readiness' | 'Startup', container?: string): ProbeFailure | undefined {
  const pattern = new RegExp(`^${kind} probe (?:failed|errored):\\s*([\\s\\S]*)$`);
  const matching = events
    .filter((e) => e.reason === 'Unhealthy' && e.involvedObject?.kind === 'Pod' && e.involvedObject.name === pod)
    .filter((e) => !container || !e.involvedObject?.fieldPath || e.involvedObject.fieldPath.includes(`{${container}}`))
    .map((e) => ({ e, m: pattern.exec((e.message ?? '').trim()) }))
    .filter((x): x is { e: k8s.CoreV1Event; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => eventTime(a.e) - eventTime(b.e));
  const latest = matching.at(-1);
  if (!latest) return undefined;
  return {
    message: (latest.e.message ?? '').trim(),
    detail: (latest.m[1] ?? '').trim(),
    count: matching.reduce((n, x) => n + (x.e.count ?? 1), 0),
    at: eventTime(latest.e),
  };
}

export interface ProbeOutcome {
  kind: 'status' | 'refused' | 'timeout' | 'exec' | 'other';
  status?: number;
  /** In the learner's terms: "the app answered HTTP 404 (it does not serve that path)". */
  words: string;
}

/** What a probe got, from the kubelet's text. */
export function probeOutcome(detail: string, probe: k8s.V1Probe | undefined): ProbeOutcome {
  const status = /statuscode:\s*(\d+)/i.exec(detail);
  if (status) {
    const code = Number(status[1]);
    const why = code === 404 ? ' (it does not serve that path)' : code >= 500 ? ' (the app reports itself unhealthy)' : '';
    return { kind: 'status', status: code, words: `the app answered HTTP ${code}${why}` };
  }
  const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
  if (/connection refused/i.test(detail)) {
    return { kind: 'refused', words: `connection refused: nothing listens on port ${port ?? '?'} in the container` };
  }
  if (/context deadline exceeded|Client\.Timeout|i\/o timeout|timed out|timeout/i.test(detail)) {
    return { kind: 'timeout', words: `no answer within ${probe?.timeoutSeconds ?? 1}s (timeoutSeconds)` };
  }
  if (probe?.exec) return { kind: 'exec', words: `the command failed${detail ? `: "${oneLine(detail)}"` : ''}` };
  return { kind: 'other', words: detail ? `"${oneLine(detail)}"` : 'no details' };
}

function probeHint(kind: 'Liveness' | 'Readiness' | 'Startup', probe: k8s.V1Probe | undefined, got: ProbeOutcome, hints: AppHints | undefined): string {
  const field = `${kind.toLowerCase()}Probe`;
  const health = hints?.healthPath ? ` (the app reports its health on ${hints.healthPath})` : '';
  if (got.kind === 'status' && got.status === 404) return `Point the ${field} at a path the app serves${health}: it requests ${probe?.httpGet?.path ?? '/'}, which answers 404.`;
  if (got.kind === 'refused') return `Point the ${field} at the port the app listens on (containerPort): nothing listens on ${String(probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? '?')}.`;
  if (got.kind === 'timeout') return `The app does not answer the ${field} within timeoutSeconds: raise timeoutSeconds, or check the path and port${health}.`;
  if (kind === 'Liveness') return `The liveness probe must pass while the app is healthy${health}; give the app time to start (initialDelaySeconds) if it needs it.`;
  return `Check the ${field}'s handler${health}.`;
}

/** `httpGet /healthz on port 80` */
export function probeAction(probe: k8s.V1Probe | undefined): string {
  if (!probe) return 'none';
  if (probe.httpGet) return `httpGet ${probe.httpGet.path ?? '/'} on port ${String(probe.httpGet.port)}`;
  if (probe.tcpSocket) return `tcpSocket on port ${String(probe.tcpSocket.port)}`;
  if (probe.exec) return `exec ${JSON.stringify(probe.exec.command ?? [])}`;
  if (probe.grpc) return `grpc on port ${probe.grpc.port}`;
  return 'no action';
}

function configErrorInWords(message: string, pod: k8s.V1Pod, spec: k8s.V1Container | undefined): string {
  if (/runAsNonRoot/i.test(message) && /root/i.test(message)) {
    const uid = spec?.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
    return `the Pod sets runAsNonRoot: true${uid === undefined ? ' without a runAsUser' : ''}, and the image runs as root, so Kubernetes refuses to start it`;
  }
  if (/configmap .* not found|secret .* not found|couldn't find key/i.test(message)) return 'it refers to a ConfigMap or Secret (or a key in one) that does not exist';
  return 'the container cannot be built from the Pod spec';
}

function configErrorHint(message: string): string {
  if (/runAsNonRoot/i.test(message) && /root/i.test(message)) {
    return 'The image runs as root, so `runAsNonRoot: true` alone stops it from starting: also set `runAsUser` to a non-zero UID (e.g. 65534).';
  }
  if (/configmap|secret/i.test(message)) return 'The Pod refers to a ConfigMap or Secret (or a key in one) that your specs do not create.';
  return 'Kubernetes cannot build the container from the Pod spec: check env, volumes and securityContext against the message.';
}

function failedCreateInWords(message: string): string {
  if (/exceeded quota/i.test(message)) return "they would exceed the namespace's resource quota";
  if (/violates PodSecurity/i.test(message)) return 'they break the namespace\'s Pod Security Standard';
  if (/must be less than or equal to (cpu|memory) limit/i.test(message)) return 'a resource request is above its limit';
  return 'the API server refuses them';
}

function failedCreateHint(message: string): string {
  if (/exceeded quota/i.test(message)) return 'Lower the replicas or the resources so the Pods fit the namespace\'s quota (the message names the resource and the limit).';
  if (/violates PodSecurity/i.test(message)) return 'The Pod breaks the Pod Security Standard "baseline": drop privileged settings, host namespaces and hostPath volumes.';
  if (/must be less than or equal to (cpu|memory) limit/i.test(message)) {
    return 'A request is larger than the limit (a namespace LimitRange may fill in limits you did not set): set both, with the request at most the limit.';
  }
  return 'The ReplicaSet cannot create the Pods: the message says which rule the Pod breaks.';
}

function quoteLog(log: string): string {
  const lines = log.trimEnd().split('\n').filter((l) => l.trim() !== '').slice(-PREVIOUS_LOG_LINES);
  if (lines.length === 0) return '(empty)';
  return lines.map((l) => `"${l.trim().slice(0, 200)}"`).join(' / ');
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

function eventTime(e: k8s.CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

/**
 * Reads what explainPods needs: the namespace's events and, for the restarted containers named
 * in `logsOf`, the last lines of their previous logs. Never throws for a log that cannot be read.
 */
export async function readPodRecord(
  kube: Kube,
  namespace: string,
  pods: readonly k8s.V1Pod[],
  opts: { logsOf?: ReadonlyArray<{ pod: string; container: string }>; replicaFailure?: string } = {},
): Promise<PodRecord> {
  const events = (await kube.core.listNamespacedEvent({ namespace })).items;
  const previousLogs: Record<string, string> = {};
  for (const r of opts.logsOf ?? []) {
    try {
      const log = await kube.core.readNamespacedPodLog({ namespace, name: r.pod, container: r.container, previous: true, tailLines: PREVIOUS_LOG_LINES });
      previousLogs[`${r.pod}/${r.container}`] = String(log ?? '');
    } catch (error) {
      previousLogs[`${r.pod}/${r.container}`] = `(could not be read: ${apiMessage(error).split('\n')[0]})`;
    }
  }
  return { pods, events, previousLogs, ...(opts.replicaFailure ? { replicaFailure: opts.replicaFailure } : {}) };
}

/**
 * explainPods from the cluster's record; for a container that keeps stopping, the last lines
 * of its previous log are read and quoted.
 */
export async function explainFromCluster(
  kube: Kube,
  namespace: string,
  pods: readonly k8s.V1Pod[],
  opts: ExplainOptions & { replicaFailure?: string } = {},
): Promise<PodProblem | undefined> {
  const { replicaFailure, ...explain } = opts;
  const record = await readPodRecord(kube, namespace, pods, replicaFailure ? { replicaFailure } : {});
  const first = explainPods(record, explain);
  const crashed = first?.pod && first.container && pods.some((p) => p.metadata?.name === first.pod && (p.status?.containerStatuses ?? []).some((c) => c.name === first.container && (c.restartCount ?? 0) > 0));
  if (!first || !crashed || first.reason === 'OOMKilled' || first.reason === 'Unhealthy') return first;
  const logs = await readPodRecord(kube, namespace, [], { logsOf: [{ pod: first.pod as string, container: first.container as string }] });
  return explainPods({ ...record, previousLogs: logs.previousLogs ?? {} }, explain);
}
