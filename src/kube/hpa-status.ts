// Reading a HorizontalPodAutoscaler (autoscaling/v2 view; v1 objects read through v2 carry their
// targetCPUUtilizationPercentage as a Resource metric): its target, its CPU target and current
// utilization, its conditions, in words for progress lines and messages.
import type * as k8s from '@kubernetes/client-node';

export interface HpaView {
  name: string;
  target: { kind: string; name: string; apiVersion?: string };
  minReplicas: number;
  maxReplicas: number;
  /** averageUtilization target of the cpu Resource metric, if the HPA has one. */
  cpuTargetPercent?: number;
  /** Current average CPU utilization the HPA computed, if it has one. */
  cpuCurrentPercent?: number;
  currentReplicas: number;
  desiredReplicas: number;
  /** ScalingActive: True when the HPA could compute a replica count from its metrics. */
  scalingActive?: HpaCondition;
  ableToScale?: HpaCondition;
  scalingLimited?: HpaCondition;
  /** Scale-down stabilization window the HPA asks for, when its behavior sets one. */
  scaleDownStabilizationSeconds?: number;
}

export interface HpaCondition {
  status: string;
  reason: string;
  message: string;
}

export function hpaView(hpa: k8s.V2HorizontalPodAutoscaler): HpaView {
  const spec = hpa.spec;
  const status = hpa.status;
  const cpuMetric = spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const cpuTarget = cpuMetric?.resource?.target;
  const current = status?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const cond = (type: string): HpaCondition | undefined => {
    const c = status?.conditions?.find((x) => x.type === type);
    return c ? { status: c.status, reason: c.reason ?? '', message: c.message ?? '' } : undefined;
  };
  const view: HpaView = {
    name: hpa.metadata?.name ?? '?',
    target: {
      kind: spec?.scaleTargetRef?.kind ?? '?',
      name: spec?.scaleTargetRef?.name ?? '?',
      ...(spec?.scaleTargetRef?.apiVersion ? { apiVersion: spec.scaleTargetRef.apiVersion } : {}),
    },
    minReplicas: spec?.minReplicas ?? 1,
    maxReplicas: spec?.maxReplicas ?? 0,
    currentReplicas: status?.currentReplicas ?? 0,
    desiredReplicas: status?.desiredReplicas ?? 0,
  };
  if (cpuTarget?.type === 'Utilization' && typeof cpuTarget.averageUtilization === 'number') {
    view.cpuTargetPercent = cpuTarget.averageUtilization;
  }
  const util = current?.resource?.current?.averageUtilization;
  if (typeof util === 'number') view.cpuCurrentPercent = util;
  const active = cond('ScalingActive');
  if (active) view.scalingActive = active;
  const able = cond('AbleToScale');
  if (able) view.ableToScale = able;
  const limited = cond('ScalingLimited');
  if (limited) view.scalingLimited = limited;
  const window = spec?.behavior?.scaleDown?.stabilizationWindowSeconds;
  if (typeof window === 'number') view.scaleDownStabilizationSeconds = window;
  return view;
}

/** Whether the HPA scales the Deployment `name` (apiVersion apps/v1 or unset). */
export function targetsDeployment(view: HpaView, name: string): boolean {
  return view.target.kind === 'Deployment' && view.target.name === name && (view.target.apiVersion ?? 'apps/v1') === 'apps/v1';
}

/** `CPU 180%/50%`, `CPU <unknown>/50%`, `no CPU metric` */
export function describeCpu(view: HpaView): string {
  if (view.cpuTargetPercent === undefined) return 'no CPU utilization target';
  const current = view.cpuCurrentPercent === undefined ? '<unknown>' : `${view.cpuCurrentPercent}%`;
  return `CPU ${current}/${view.cpuTargetPercent}%`;
}

/** `HPA configurable-cpu: 5→7 replicas, CPU 180%/50%` */
export function describeHpa(view: HpaView): string {
  const replicas =
    view.desiredReplicas === 0 || view.currentReplicas === view.desiredReplicas ? `${view.currentReplicas}` : `${view.currentReplicas}→${view.desiredReplicas}`;
  return `HPA ${view.name}: ${replicas} replicas (min ${view.minReplicas}, max ${view.maxReplicas}), ${describeCpu(view)}`;
}

export function describeCondition(type: string, c: HpaCondition | undefined): string {
  if (!c) return `${type} not reported yet`;
  return `${type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`;
}

/** Metric problems that will not go away by waiting (a container without a CPU request). */
export function permanentMetricProblem(view: HpaView): string | undefined {
  const c = view.scalingActive;
  if (!c || c.status === 'True') return undefined;
  if (/missing request for cpu/i.test(c.message)) return c.message;
  if (c.reason === 'InvalidMetricSourceType' || c.reason === 'InvalidSelector' || c.reason === 'AmbiguousSelector') return c.message || c.reason;
  return undefined;
}

/** Metrics flow when the HPA computed a replica count from a current CPU utilization. */
export function metricsFlow(view: HpaView): boolean {
  return view.scalingActive?.status === 'True' && view.cpuCurrentPercent !== undefined;
}
