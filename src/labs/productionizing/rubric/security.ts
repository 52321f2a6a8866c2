// security.spec-*: what the Pod spec says. Container-level securityContext overrides the Pod's,
// and a non-zero runAsUser is as good as runAsNonRoot (the false positive kube-score avoids).
import type { SourceLocation } from '../../../model.js';
import { APP_IMAGE } from '../catalogue.js';
import { getPath, isRecord } from '../../../submission/manifest.js';
import {
  containerField,
  containerLabel,
  fail,
  locateInContainer,
  locateInPodSpec,
  noApp,
  pass,
  type RubricContext,
  type StaticCheck,
} from './context.js';
import { formatQuantity } from '../../../submission/quantity.js';

interface Effective {
  value: unknown;
  level: 'container' | 'Pod';
  location?: SourceLocation;
}

/** The value Kubernetes uses: the container's setting if present, else the Pod's. */
function effective(ctx: RubricContext, field: string): Effective | undefined {
  const own = containerField(ctx, ['securityContext', field]);
  if (own !== undefined) {
    return { value: own, level: 'container', ...withLocation(locateInContainer(ctx, ['securityContext', field])) };
  }
  const pod = ctx.podSpec ? getPath(ctx.podSpec, ['securityContext', field]) : undefined;
  if (pod !== undefined) return { value: pod, level: 'Pod', ...withLocation(locateInPodSpec(ctx, ['securityContext', field])) };
  return undefined;
}

function withLocation(location: SourceLocation | undefined): { location?: SourceLocation } {
  return location ? { location } : {};
}

export const nonRoot: StaticCheck = (ctx) => {
  if (!ctx.container) return noApp(ctx);
  const user = effective(ctx, 'runAsUser');
  const nonRootFlag = effective(ctx, 'runAsNonRoot');
  const who = containerLabel(ctx);
  if (user && user.value === 0) {
    const clash = nonRootFlag?.value === true ? '; with runAsNonRoot: true as well, Kubernetes will refuse to start it' : '';
    return fail(`${who} runs as UID 0 (root), set on the ${user.level}${clash}`, user.location);
  }
  if (user && typeof user.value === 'number') {
    const flag = nonRootFlag?.value === true ? ' with runAsNonRoot: true' : '';
    return pass(`${who} runs as UID ${user.value} (runAsUser on the ${user.level})${flag}`, user.location);
  }
  if (nonRootFlag?.value === true) {
    return pass(
      `${who} has runAsNonRoot: true (on the ${nonRootFlag.level}) but no runAsUser, so the image's user is used; ${APP_IMAGE} runs as root, so Kubernetes will refuse to start the container unless runAsUser is set`,
      nonRootFlag.location,
    );
  }
  if (nonRootFlag?.value === false) {
    return fail(`${who} sets runAsNonRoot: false and no runAsUser, so it runs as the image's user (root)`, nonRootFlag.location);
  }
  return fail(
    `${who} sets neither runAsUser nor runAsNonRoot, so it runs as the image's user (root)`,
    locateInContainer(ctx, ['securityContext']),
  );
};

export const noServiceAccountToken: StaticCheck = (ctx) => {
  const spec = ctx.podSpec;
  if (!ctx.deployment || !spec) return noApp(ctx);
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  const tokenVolume = volumes.findIndex((v) => {
    const sources = getPath(v, 'projected.sources');
    return Array.isArray(sources) && sources.some((s) => isRecord(s) && s.serviceAccountToken !== undefined);
  });
  if (tokenVolume >= 0) {
    return fail('the Pod mounts a projected serviceAccountToken volume', locateInPodSpec(ctx, ['volumes', tokenVolume]));
  }
  const automount = spec.automountServiceAccountToken;
  if (automount === false) {
    return pass('the Pod spec sets automountServiceAccountToken: false', locateInPodSpec(ctx, ['automountServiceAccountToken']));
  }
  if (automount === true) {
    return fail('the Pod spec sets automountServiceAccountToken: true', locateInPodSpec(ctx, ['automountServiceAccountToken']));
  }
  return fail(
    'the Pod spec does not set automountServiceAccountToken: false, so the service account token is mounted',
    locateInPodSpec(ctx, []),
  );
};

export const noPrivilegeEscalation: StaticCheck = (ctx) => {
  if (!ctx.container) return noApp(ctx);
  const value = containerField(ctx, 'securityContext.allowPrivilegeEscalation');
  const at = locateInContainer(ctx, ['securityContext', 'allowPrivilegeEscalation']);
  if (value === false) return pass(`${containerLabel(ctx)} sets allowPrivilegeEscalation: false`, at);
  if (value === true) return fail(`${containerLabel(ctx)} sets allowPrivilegeEscalation: true`, at);
  return fail(`${containerLabel(ctx)} does not set allowPrivilegeEscalation: false, and it defaults to true`, at);
};

export const capabilitiesDropped: StaticCheck = (ctx) => {
  if (!ctx.container) return noApp(ctx);
  const drop = containerField(ctx, 'securityContext.capabilities.drop');
  const add = containerField(ctx, 'securityContext.capabilities.add');
  const at = locateInContainer(ctx, ['securityContext', 'capabilities', 'drop']);
  const dropped = Array.isArray(drop) ? drop.map(String) : [];
  if (dropped.some((c) => c.toUpperCase() === 'ALL')) {
    const added = Array.isArray(add) && add.length > 0 ? `, then adds back ${add.map(String).join(', ')}` : '';
    return pass(`${containerLabel(ctx)} drops all capabilities${added}`, at);
  }
  if (dropped.length > 0) return fail(`${containerLabel(ctx)} drops only ${dropped.join(', ')}, not ALL`, at);
  return fail(`${containerLabel(ctx)} keeps the runtime's default capabilities (no capabilities.drop: [ALL])`, at);
};

export const resourceLimits: StaticCheck = (ctx) => {
  if (!ctx.container) return noApp(ctx);
  const cpu = containerField(ctx, 'resources.limits.cpu');
  const memory = containerField(ctx, 'resources.limits.memory');
  const missing = [cpu === undefined ? 'cpu' : undefined, memory === undefined ? 'memory' : undefined].filter(
    (m): m is string => m !== undefined,
  );
  if (missing.length === 0) {
    return pass(
      `${containerLabel(ctx)} has limits cpu ${formatQuantity(cpu)}, memory ${formatQuantity(memory)}`,
      locateInContainer(ctx, ['resources', 'limits']),
    );
  }
  const has = cpu !== undefined ? ` (it has a cpu limit of ${formatQuantity(cpu)})` : memory !== undefined ? ` (it has a memory limit of ${formatQuantity(memory)})` : '';
  return fail(
    `${containerLabel(ctx)} has no ${missing.join(' or ')} limit${has}`,
    locateInContainer(ctx, ['resources', 'limits']),
  );
};
