// Server-side apply of plain manifests through the API (no kubectl needed).
import * as k8s from '@kubernetes/client-node';
import type { Kube } from './client.js';

export const FIELD_MANAGER = 'kube-lab-grader';

export type Manifest = k8s.KubernetesObject & Record<string, unknown>;

/** Applies each manifest in order; returns what the API server stored. */
export async function applyManifests(kube: Kube, manifests: readonly Manifest[]): Promise<k8s.KubernetesObject[]> {
  const applied: k8s.KubernetesObject[] = [];
  for (const manifest of manifests) {
    applied.push(await applyManifest(kube, manifest));
  }
  return applied;
}

export async function applyManifest(kube: Kube, manifest: Manifest): Promise<k8s.KubernetesObject> {
  // Positional API: patch(spec, pretty, dryRun, fieldManager, force, patchStrategy)
  return kube.objects.patch(manifest, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
}

export function describeObject(o: k8s.KubernetesObject): string {
  const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind}/${ns}${o.metadata?.name ?? '?'}`;
}
