// The scale subresource of a Deployment, as `kubectl scale` uses it.
import * as k8s from '@kubernetes/client-node';
import type { Kube } from './client.js';

export async function scaleDeployment(kube: Kube, namespace: string, name: string, replicas: number): Promise<k8s.V1Scale> {
  // Generated patch methods default to JSON Patch: a plain object needs the merge patch type.
  return kube.apps.patchNamespacedDeploymentScale(
    { namespace, name, body: { spec: { replicas } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}
