// The lab's app among the manifests the CLI hands over (plain objects after policy), described
// the way the scenarios need it: names, selector, ports, Services, HPAs.
import { identifyApp } from './catalogue.js';
import type { Manifest } from '../../kube/apply.js';
import { podRequestMilli } from '../../kube/capacity.js';
import { selectorString } from '../../kube/pods.js';
import { failAfterCallCount } from './live/app-failure.js';
import { getPath, isRecord, type ManifestObject } from '../../submission/manifest.js';
import type { AppUnderTest } from './live/context.js';
import type { ControllerTimings, FloorInputs } from './live/floor.js';
import type { V1Probe } from '@kubernetes/client-node';

/** Wraps plain manifests so the lab's identifyApp can read them (no source positions needed). */
export function asManifestObjects(manifests: readonly Record<string, unknown>[]): ManifestObject[] {
  return manifests.map((body) => {
    const metadata = isRecord(body.metadata) ? body.metadata : {};
    const source = { file: '(applied manifest)', line: 1 };
    return {
      apiVersion: String(body.apiVersion ?? ''),
      kind: String(body.kind ?? ''),
      name: String(metadata.name ?? ''),
      ...(typeof metadata.namespace === 'string' ? { namespace: metadata.namespace } : {}),
      body,
      source,
      locate: () => source,
    };
  });
}

/** The grading namespace the manifests carry (the CLI moved every object into it). */
export function namespaceOf(manifests: readonly Manifest[]): string {
  const names = new Set(manifests.map((m) => m.metadata?.namespace).filter((n): n is string => typeof n === 'string' && n !== ''));
  if (names.size !== 1) {
    throw new Error(`live grading needs every manifest in one grading namespace; found ${names.size === 0 ? 'none' : [...names].join(', ')}`);
  }
  return [...names][0] as string;
}

export function appUnderTest(manifests: readonly Record<string, unknown>[]): AppUnderTest | undefined {
  const objects = asManifestObjects(manifests);
  const found = identifyApp(objects);
  const deployment = found.deployment;
  if (!deployment || found.containerIndex === undefined) return undefined;
  const container = getPath(deployment.body, ['spec', 'template', 'spec', 'containers', found.containerIndex]);
  if (!isRecord(container)) return undefined;
  const selector = getPath(deployment.body, 'spec.selector');
  const ports = Array.isArray(container.ports) ? container.ports : [];
  const firstPort = ports.find((p) => isRecord(p) && typeof p.containerPort === 'number') as { containerPort: number } | undefined;
  const services = found.services.map((s) => {
    const svcPorts = getPath(s.body, 'spec.ports');
    const first = Array.isArray(svcPorts) && isRecord(svcPorts[0]) ? svcPorts[0] : {};
    const port = typeof first.port === 'number' ? first.port : typeof first.name === 'string' ? first.name : 80;
    return { name: s.name, port };
  });
  const count = failAfterCallCount(container as { env?: Array<{ name?: string; value?: string }> });
  return {
    deployment: deployment.name,
    container: typeof container.name === 'string' ? container.name : 'app',
    podSelector: selectorString(isRecord(selector) ? (selector as never) : undefined),
    podPort: firstPort?.containerPort ?? 80,
    services,
    hpas: found.hpas.map((h) => h.name),
    ...(count !== undefined ? { failAfterCallCount: count } : {}),
  };
}

export interface Footprint {
  /** Pods the lab needs running at once (the Deployment's or HPA minimum's, at most 5). */
  pods: number;
  /** CPU each Pod requests, counting the grading namespace's default for containers without one. */
  perPodMilli: number;
}

/** What the app's Pods will ask the scheduler for, from the manifests. */
export function appFootprint(manifests: readonly Record<string, unknown>[], wanted: number, defaultRequestMilli: number): Footprint | undefined {
  const found = identifyApp(asManifestObjects(manifests));
  if (!found.deployment) return undefined;
  const replicas = getPath(found.deployment.body, 'spec.replicas');
  const hpaMins = found.hpas.map((h) => getPath(h.body, 'spec.minReplicas')).map((m) => (typeof m === 'number' ? m : 1));
  const want = Math.max(typeof replicas === 'number' ? replicas : 1, ...hpaMins);
  const spec = getPath(found.deployment.body, 'spec.template.spec');
  return {
    pods: Math.min(wanted, want),
    perPodMilli: podRequestMilli(isRecord(spec) ? (spec as unknown as Parameters<typeof podRequestMilli>[0]) : undefined, defaultRequestMilli),
  };
}

/** What the floors of the live groups depend on, read from the app's manifests. */
export function floorInputs(manifests: readonly Record<string, unknown>[], app: AppUnderTest, timings: ControllerTimings): FloorInputs {
  const objects = asManifestObjects(manifests);
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.name === app.deployment);
  const containers = getPath(deployment?.body, 'spec.template.spec.containers');
  const container = Array.isArray(containers) ? containers.find((c) => isRecord(c) && c.name === app.container) : undefined;
  const probe = (field: string): V1Probe | undefined => {
    const p = isRecord(container) ? container[field] : undefined;
    return isRecord(p) ? (p as V1Probe) : undefined;
  };
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && app.hpas.includes(o.name));
  const window = getPath(hpa?.body, 'spec.behavior.scaleDown.stabilizationWindowSeconds');
  const readiness = probe('readinessProbe');
  const liveness = probe('livenessProbe');
  return {
    ...(readiness ? { readiness } : {}),
    ...(liveness ? { liveness } : {}),
    ...(typeof window === 'number' ? { hpaScaleDownWindowSeconds: window } : {}),
    hasHpa: app.hpas.length > 0,
    timings,
  };
}
