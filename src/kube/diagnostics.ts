// What a learner (or an instructor) needs to see when a live check does not pass: recent events,
// Pod statuses, the previous logs of restarted containers, the Service's EndpointSlices, the
// Deployment's and the HPA's conditions. Plain text for JUnit <system-out>. Collecting never
// throws and is bounded in time: a section that cannot be read says so.
import type * as k8s from '@kubernetes/client-node';
import { apiMessage, type Kube } from './client.js';
import { describeEndpoints, serviceEndpoints } from './endpoints.js';
import { describeCondition, describeHpa, hpaView } from './hpa-status.js';
import { isPodReady, podSummary } from './pods.js';

export interface DiagnosticsScope {
  namespace: string;
  /** Label selector of the app's Pods. */
  podSelector?: string;
  deployment?: string;
  services?: readonly string[];
  hpas?: readonly string[];
  /** Events shown, newest last. */
  maxEvents?: number;
  /** Previous logs of at most this many restarted containers. */
  maxPreviousLogs?: number;
  timeoutMs?: number;
}

export async function collectDiagnostics(kube: Kube, scope: DiagnosticsScope): Promise<string> {
  const timeoutMs = scope.timeoutMs ?? 10_000;
  const sections = await Promise.all([
    section('Deployment', timeoutMs, () => deploymentSection(kube, scope)),
    section('Pods', timeoutMs, () => podsSection(kube, scope)),
    section('EndpointSlices', timeoutMs, () => endpointsSection(kube, scope)),
    section('HorizontalPodAutoscalers', timeoutMs, () => hpaSection(kube, scope)),
    section(`Events (newest last)`, timeoutMs, () => eventsSection(kube, scope)),
  ]);
  return sections.filter((s) => s !== '').join('\n\n');
}

async function section(title: string, timeoutMs: number, body: () => Promise<string>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const text = await Promise.race([
      body(),
      new Promise<string>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)), timeoutMs);
      }),
    ]);
    return text ? `${title}:\n${text}` : '';
  } catch (error) {
    return `${title}:\n  (could not be read: ${apiMessage(error).split('\n')[0]})`;
  } finally {
    clearTimeout(timer);
  }
}

async function deploymentSection(kube: Kube, scope: DiagnosticsScope): Promise<string> {
  if (!scope.deployment) return '';
  const d = await kube.apps.readNamespacedDeployment({ namespace: scope.namespace, name: scope.deployment });
  const s = d.status;
  const lines = [
    `  ${scope.deployment}: spec.replicas ${d.spec?.replicas ?? '?'}, ready ${s?.readyReplicas ?? 0}, available ${s?.availableReplicas ?? 0}, updated ${s?.updatedReplicas ?? 0}`,
  ];
  for (const c of s?.conditions ?? []) lines.push(`  ${c.type}=${c.status} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`);
  return lines.join('\n');
}

async function podsSection(kube: Kube, scope: DiagnosticsScope): Promise<string> {
  const list = await kube.core.listNamespacedPod({ namespace: scope.namespace, ...(scope.podSelector ? { labelSelector: scope.podSelector } : {}) });
  if (list.items.length === 0) return '  no Pods';
  const lines: string[] = [];
  const restarted: Array<{ pod: string; container: string }> = [];
  for (const p of list.items) {
    lines.push(`  ${podSummary(p)}${p.metadata?.deletionTimestamp ? ' (terminating)' : ''}${p.status?.phase && p.status.phase !== 'Running' ? ` [${p.status.phase}]` : ''}`);
    for (const c of p.status?.conditions ?? []) {
      if (c.status !== 'True' && (c.reason || c.message)) lines.push(`    ${c.type}=${c.status} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`);
    }
    for (const cs of p.status?.containerStatuses ?? []) {
      const w = cs.state?.waiting;
      if (w?.reason) lines.push(`    ${cs.name} waiting: ${w.reason}${w.message ? `: ${w.message}` : ''}`);
      const last = cs.lastState?.terminated;
      if (last) lines.push(`    ${cs.name} last terminated: ${last.reason ?? ''} exit ${last.exitCode}${last.finishedAt ? ` at ${new Date(last.finishedAt).toISOString()}` : ''}`);
      if (cs.restartCount > 0 && p.metadata?.name) restarted.push({ pod: p.metadata.name, container: cs.name });
    }
    const limitRanger = p.metadata?.annotations?.['kubernetes.io/limit-ranger'];
    if (limitRanger) lines.push(`    defaults applied by the namespace LimitRange: ${limitRanger.replace(/^LimitRanger plugin set: /, '')}`);
  }
  for (const r of restarted.slice(0, scope.maxPreviousLogs ?? 2)) {
    try {
      const log = await kube.core.readNamespacedPodLog({ namespace: scope.namespace, name: r.pod, container: r.container, previous: true, tailLines: 15 });
      const text = String(log ?? '').trimEnd();
      lines.push(`  previous log of ${r.pod}/${r.container} (last 15 lines):`);
      lines.push(...(text ? text.split('\n').map((l) => `    | ${l}`) : ['    | (empty)']));
    } catch (error) {
      lines.push(`  previous log of ${r.pod}/${r.container}: (could not be read: ${apiMessage(error).split('\n')[0]})`);
    }
  }
  return lines.join('\n');
}

async function endpointsSection(kube: Kube, scope: DiagnosticsScope): Promise<string> {
  const lines: string[] = [];
  for (const svc of scope.services ?? []) {
    const eps = await serviceEndpoints(kube, scope.namespace, svc);
    lines.push(`  Service ${svc}: ${describeEndpoints(eps)}`);
  }
  return lines.join('\n');
}

async function hpaSection(kube: Kube, scope: DiagnosticsScope): Promise<string> {
  const lines: string[] = [];
  for (const name of scope.hpas ?? []) {
    const view = hpaView(await kube.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: scope.namespace, name }));
    lines.push(`  ${describeHpa(view)}`);
    lines.push(`    ${describeCondition('AbleToScale', view.ableToScale)}`);
    lines.push(`    ${describeCondition('ScalingActive', view.scalingActive)}`);
    lines.push(`    ${describeCondition('ScalingLimited', view.scalingLimited)}`);
  }
  return lines.join('\n');
}

async function eventsSection(kube: Kube, scope: DiagnosticsScope): Promise<string> {
  const list = await kube.core.listNamespacedEvent({ namespace: scope.namespace });
  const events = [...list.items].sort((a, b) => eventTime(a) - eventTime(b)).slice(-(scope.maxEvents ?? 25));
  if (events.length === 0) return '  no events';
  return events.map((e) => `  ${formatEvent(e)}`).join('\n');
}

export function eventTime(e: k8s.CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

export function formatEvent(e: k8s.CoreV1Event): string {
  const at = eventTime(e);
  const time = at ? new Date(at).toISOString().slice(11, 19) : '--:--:--';
  const count = (e.count ?? 1) > 1 ? ` (x${e.count})` : '';
  return `${time} ${e.type ?? ''} ${e.involvedObject?.kind ?? '?'}/${e.involvedObject?.name ?? '?'} ${e.reason ?? ''}: ${(e.message ?? '').trim()}${count}`;
}

/** Ready Pods among `pods`, for messages. */
export function readyCount(pods: readonly k8s.V1Pod[]): number {
  return pods.filter(isPodReady).length;
}
