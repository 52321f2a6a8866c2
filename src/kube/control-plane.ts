// The command lines of the controllers whose timings bound what a grading can observe:
// kube-controller-manager (HPA sync, downscale stabilization) and metrics-server (resolution).
// Either may be unreadable (a managed cluster hides its control plane): undefined then.
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from './client.js';

export interface ControllerArgs {
  controllerManager?: string[];
  metricsServer?: string[];
}

function commandLine(containers: readonly k8s.V1Container[] | undefined, name: string): string[] | undefined {
  const c = containers?.find((x) => x.name === name) ?? containers?.[0];
  return c ? [...(c.command ?? []), ...(c.args ?? [])] : undefined;
}

export async function readControllerArgs(kube: Kube): Promise<ControllerArgs> {
  const [pods, deployments] = await Promise.all([
    kube.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'component=kube-controller-manager' }).catch(() => undefined),
    kube.apps.listNamespacedDeployment({ namespace: 'kube-system', fieldSelector: 'metadata.name=metrics-server' }).catch(() => undefined),
  ]);
  const cm = pods?.items[0];
  const ms = deployments?.items[0];
  const controllerManager = cm ? commandLine(cm.spec?.containers, 'kube-controller-manager') : undefined;
  const metricsServer = ms ? commandLine(ms.spec?.template.spec?.containers, 'metrics-server') : undefined;
  return { ...(controllerManager ? { controllerManager } : {}), ...(metricsServer ? { metricsServer } : {}) };
}
