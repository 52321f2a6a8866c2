// hpa.*: an HPA targets the Deployment, max 10, 50% CPU, measured against a CPU request.
// autoscaling/v1 (targetCPUUtilizationPercentage) and v2 (metrics) are both accepted.
import { getPath, isRecord, ref, type ManifestObject } from '../../../submission/manifest.js';
import { fail, noApp, pass, POD_SPEC, type RubricContext, type StaticCheck, type Verdict } from './context.js';
import { formatQuantity, parseQuantity } from '../../../submission/quantity.js';

const MAX = 10;
const CPU_TARGET = 50;

export const targetsDeployment: StaticCheck = (ctx) => {
  const dep = ctx.deployment;
  if (!dep) return noApp(ctx);
  const [first, second] = ctx.app.hpas;
  if (first && second) {
    return fail(
      `${ctx.app.hpas.map(ref).join(' and ')} all target ${ref(dep)}; Kubernetes will not scale a Deployment that two HPAs target`,
      second.locate('spec.scaleTargetRef'),
    );
  }
  if (first) return pass(`${ref(first)} targets ${ref(dep)}`, first.locate('spec.scaleTargetRef'));
  const hpas = ctx.submission.objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  if (hpas.length === 0) return fail(`the submission has no HorizontalPodAutoscaler for ${ref(dep)}`, dep.source);
  const reasons = hpas.map((h) => whyNotTargeting(h, dep.name));
  const firstReason = reasons[0];
  return {
    passed: false,
    message: reasons.map((r) => r.message).join('; '),
    ...(firstReason ? { location: firstReason.location } : {}),
  };
};

function whyNotTargeting(hpa: ManifestObject, name: string): Verdict {
  const target = getPath(hpa.body, 'spec.scaleTargetRef');
  if (!isRecord(target)) return fail(`${ref(hpa)} has no scaleTargetRef`, hpa.locate('spec.scaleTargetRef'));
  if (target.kind !== 'Deployment') {
    return fail(`${ref(hpa)} targets a ${String(target.kind)}, not the Deployment ${name}`, hpa.locate('spec.scaleTargetRef.kind'));
  }
  if (target.name !== name) {
    return fail(`${ref(hpa)} targets Deployment/${String(target.name)}, but the app's Deployment is ${name}`, hpa.locate('spec.scaleTargetRef.name'));
  }
  return fail(
    `${ref(hpa)} names Deployment ${name} with apiVersion ${String(target.apiVersion)}; Deployments are apps/v1`,
    hpa.locate('spec.scaleTargetRef.apiVersion'),
  );
}

function withHpa(ctx: RubricContext, decide: (hpa: ManifestObject) => Verdict): Verdict {
  const dep = ctx.deployment;
  if (!dep) return noApp(ctx);
  const hpa = ctx.hpa;
  if (!hpa) return fail(`the submission has no HorizontalPodAutoscaler for ${ref(dep)}`, dep.source);
  const verdict = decide(hpa);
  if (!ctx.hpaIsFallback) return verdict;
  const target = getPath(hpa.body, 'spec.scaleTargetRef.name');
  return { ...verdict, message: `${verdict.message} (${ref(hpa)} targets ${String(target)}, not ${dep.name}: see hpa.targets-deployment)` };
}

export const maxTen: StaticCheck = (ctx) =>
  withHpa(ctx, (hpa) => {
    const max = getPath(hpa.body, 'spec.maxReplicas');
    if (max === MAX) return pass(`${ref(hpa)} scales up to ${MAX} replicas`, hpa.locate('spec.maxReplicas'));
    if (max === undefined) return fail(`${ref(hpa)} does not set maxReplicas`, hpa.locate('spec'));
    return fail(`${ref(hpa)} has maxReplicas ${String(max)}; the lab asks for ${MAX}`, hpa.locate('spec.maxReplicas'));
  });

export const cpuFifty: StaticCheck = (ctx) =>
  withHpa(ctx, (hpa) => {
    if (hpa.apiVersion === 'autoscaling/v1') {
      const target = getPath(hpa.body, 'spec.targetCPUUtilizationPercentage');
      if (target === CPU_TARGET) {
        return pass(`${ref(hpa)} targets ${CPU_TARGET}% CPU utilization`, hpa.locate('spec.targetCPUUtilizationPercentage'));
      }
      if (target === undefined) {
        return fail(`${ref(hpa)} does not set targetCPUUtilizationPercentage, so it targets the default 80%`, hpa.locate('spec'));
      }
      return fail(`${ref(hpa)} targets ${String(target)}% CPU utilization; the lab asks for ${CPU_TARGET}%`, hpa.locate('spec.targetCPUUtilizationPercentage'));
    }
    return cpuFiftyV2(ctx, hpa);
  });

function cpuFiftyV2(ctx: RubricContext, hpa: ManifestObject): Verdict {
  const metrics = getPath(hpa.body, 'spec.metrics');
  if (!Array.isArray(metrics) || metrics.length === 0) {
    return fail(`${ref(hpa)} has no metrics, so it targets the default 80% CPU utilization`, hpa.locate('spec'));
  }
  const appContainer = ctx.container?.name;
  const cpuIndex = metrics.findIndex((m) => {
    if (!isRecord(m)) return false;
    if (m.type === 'Resource') return getPath(m, 'resource.name') === 'cpu';
    if (m.type === 'ContainerResource') {
      return getPath(m, 'containerResource.name') === 'cpu' && getPath(m, 'containerResource.container') === appContainer;
    }
    return false;
  });
  const metric = metrics[cpuIndex];
  if (!isRecord(metric)) {
    const kinds = metrics.map((m) => (isRecord(m) ? String(getPath(m, 'resource.name') ?? m.type) : '?')).join(', ');
    return fail(`${ref(hpa)} has no CPU metric (metrics: ${kinds})`, hpa.locate('spec.metrics'));
  }
  const field = metric.type === 'Resource' ? 'resource' : 'containerResource';
  const target = getPath(metric, [field, 'target']);
  const at = hpa.locate(['spec', 'metrics', cpuIndex, field, 'target']);
  if (!isRecord(target)) return fail(`the CPU metric of ${ref(hpa)} has no target`, at);
  if (target.type !== 'Utilization') {
    const value = target.averageValue ?? target.value;
    return fail(
      `${ref(hpa)} targets an average CPU ${target.type === 'AverageValue' ? 'value' : 'amount'} of ${formatQuantity(value)}; the lab asks for ${CPU_TARGET}% utilization`,
      at,
    );
  }
  const utilization = target.averageUtilization;
  const utilAt = hpa.locate(['spec', 'metrics', cpuIndex, field, 'target', 'averageUtilization']);
  if (utilization === CPU_TARGET) {
    const others = metrics.length > 1 ? ` (and ${metrics.length - 1} other metric${metrics.length > 2 ? 's' : ''}, which can also scale it)` : '';
    return pass(`${ref(hpa)} targets ${CPU_TARGET}% CPU utilization${others}`, utilAt);
  }
  if (utilization === undefined) return fail(`the CPU metric of ${ref(hpa)} sets no averageUtilization`, at);
  return fail(`${ref(hpa)} targets ${String(utilization)}% CPU utilization; the lab asks for ${CPU_TARGET}%`, utilAt);
}

/** Utilization is usage over request; a limit alone also works because the request defaults to it. */
export const cpuRequestSet: StaticCheck = (ctx) => {
  const dep = ctx.deployment;
  if (!dep) return noApp(ctx);
  const containers = getPath(dep.body, [...POD_SPEC, 'containers']);
  const found: string[] = [];
  for (const [i, c] of (Array.isArray(containers) ? containers : []).entries()) {
    if (!isRecord(c)) continue;
    const name = typeof c.name === 'string' ? c.name : `#${i}`;
    const request = getPath(c, 'resources.requests.cpu');
    const limit = getPath(c, 'resources.limits.cpu');
    const base = [...POD_SPEC, 'containers', i];
    if (request !== undefined) {
      if (!((parseQuantity(request) ?? 0) > 0)) {
        return fail(`container "${name}" requests ${formatQuantity(request)} CPU; the HPA needs a request above zero`, dep.locate([...base, 'resources', 'requests', 'cpu']));
      }
      found.push(`"${name}" requests ${formatQuantity(request)}`);
    } else if (limit !== undefined && (parseQuantity(limit) ?? 0) > 0) {
      found.push(`"${name}" has a ${formatQuantity(limit)} CPU limit, which its request defaults to`);
    } else {
      return fail(
        `container "${name}" of ${ref(dep)} has no CPU request (or limit), so the HPA cannot compute its CPU utilization`,
        dep.locate([...base, 'resources']),
      );
    }
  }
  if (found.length === 0) return fail(`${ref(dep)} has no containers`, dep.locate([...POD_SPEC]));
  const appPath = ctx.container?.path ?? [...POD_SPEC, 'containers', 0];
  return pass(`CPU for ${ref(dep)}: ${found.join('; ')}`, dep.locate([...appPath, 'resources']));
};
