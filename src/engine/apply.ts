// submission.applies: server-side apply of every object into the grading namespace. The check
// says what its title says: whether the API server accepts the objects. Whether the app's Pods
// then run is the Pods check's (replicas.ts).
import { PatchStrategy } from '@kubernetes/client-node';
import { applyManifest, FIELD_MANAGER, type Manifest } from '../kube/apply.js';
import type { Kube } from '../kube/client.js';
import { formatLocation } from '../submission/manifest.js';
import type { SourceLocation } from '../model.js';
import { CheckFailed } from './outcomes.js';
import { apiRejection, type Locator } from './sources.js';

const KIND_ORDER = ['ConfigMap', 'Secret', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'];

/** Objects in an order that lets each find what it refers to (ConfigMaps before Deployments…). */
export function applyOrder(manifests: readonly Manifest[]): Manifest[] {
  const rank = (m: Manifest) => {
    const i = KIND_ORDER.indexOf(String(m.kind));
    return i < 0 ? KIND_ORDER.length : i;
  };
  return manifests
    .map((m, i) => ({ m, i }))
    .sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i)
    .map((x) => x.m);
}

export interface Rejection {
  kind: string;
  name: string;
  message: string;
  location?: SourceLocation;
}

export interface ApplyOutcome {
  applied: number;
  rejections: Rejection[];
}

/** Applies every object; 4xx answers are collected as rejections, anything else is thrown. */
export async function applyAll(
  base: { kube: Kube; api: <T>(what: string, fn: () => Promise<T>) => Promise<T> },
  manifests: readonly Manifest[],
  locate: Locator,
  opts: { dryRun?: boolean } = {},
): Promise<ApplyOutcome> {
  const out: ApplyOutcome = { applied: 0, rejections: [] };
  for (const m of applyOrder(manifests)) {
    const kind = String(m.kind);
    const name = m.metadata?.name ?? '?';
    try {
      await base.api(`${opts.dryRun ? 'dry-run apply' : 'apply'} ${kind}/${name}`, () =>
        opts.dryRun
          ? base.kube.objects.patch(m, undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply)
          : applyManifest(base.kube, m),
      );
      out.applied++;
    } catch (error) {
      const rejection = apiRejection(error);
      if (!rejection) throw error;
      const location = (rejection.fields[0] ? locate(kind, name, rejection.fields[0]) : undefined) ?? locate(kind, name);
      out.rejections.push({ kind, name, message: rejection.message, ...(location ? { location } : {}) });
    }
  }
  return out;
}

export function describeRejections(rejections: readonly Rejection[]): string {
  return rejections
    .map((r) => `the API server rejected ${r.kind}/${r.name}${r.location ? ` (${formatLocation(r.location)})` : ''}: ${r.message}`)
    .join('\n');
}

/** The submission.applies check body: passes when the API server accepted every object. */
export function appliesVerdict(apply: ApplyOutcome): string {
  if (apply.rejections.length > 0) {
    const first = apply.rejections[0] as Rejection;
    throw new CheckFailed(describeRejections(apply.rejections), { ...(first.location ? { location: first.location } : {}), diagnostics: false });
  }
  return `the API server accepted all ${apply.applied} objects`;
}
