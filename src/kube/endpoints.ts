// The Pods a Service sends traffic to, from its EndpointSlices.
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from './client.js';

export interface ServiceEndpoint {
  pod: string | undefined;
  address: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export async function serviceEndpoints(kube: Kube, namespace: string, service: string): Promise<ServiceEndpoint[]> {
  const slices = await kube.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return slices.items.flatMap((s: k8s.V1EndpointSlice) =>
    (s.endpoints ?? []).flatMap((e) =>
      e.addresses.map((address) => ({
        pod: e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined,
        address,
        // Per the EndpointSlice API, a nil ready means ready.
        ready: e.conditions?.ready !== false,
        serving: e.conditions?.serving !== false,
        terminating: e.conditions?.terminating === true,
      })),
    ),
  );
}

export function readyPods(endpoints: readonly ServiceEndpoint[]): string[] {
  return endpoints.filter((e) => e.ready && e.pod).map((e) => e.pod as string).sort();
}

export function describeEndpoints(endpoints: readonly ServiceEndpoint[]): string {
  if (!endpoints.length) return 'no endpoints';
  return endpoints.map((e) => `${e.pod ?? e.address}${e.ready ? '' : ' (not ready)'}`).join(', ');
}
