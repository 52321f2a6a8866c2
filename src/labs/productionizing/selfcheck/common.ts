// Pieces the walkthrough groups share: applying the lab's specs like `kubectl apply -f`, waiting
// for a Service's endpoints, and the time limits of every kind of wait.
import { applyManifests, describeObject } from '../../../kube/apply.js';
import type { WaitSettings } from '../../../kube/workloads.js';
import { waitFor } from '../../../wait/wait-for.js';
import { endpointView, sameSet, type EndpointView } from './probes.js';
import type { GroupContext } from './scenario.js';
import { placeInNamespace, readLabSpecs } from './specs.js';

/** One time limit per kind of wait (ms). */
export const TIMEOUTS = {
  nodes: 60_000,
  metricsApi: 180_000,
  imageStart: 180_000,
  rollout: 180_000,
  endpoints: 60_000,
  readinessChange: 60_000,
  restart: 120_000,
  hpaMetrics: 150_000,
  hpaScaleUp: 120_000,
  hpaScaleDown: 300_000,
} as const;

/** Applies `specs/productionizing/<folder>` into the group's namespace; returns what was applied. */
export async function applyLab(ctx: GroupContext, folder: string): Promise<string> {
  const read = await readLabSpecs(folder);
  const placed = placeInNamespace(read, ctx.namespace);
  for (const n of placed.notes) ctx.note(n);
  const applied = await applyManifests(ctx.kube, placed.manifests);
  const names = applied.map((o) => describeObject({ ...o, metadata: { ...o.metadata, namespace: undefined } }));
  ctx.progress.step(`applied ${folder}: ${names.join(', ')}`);
  return names.join(', ');
}

/** Wait settings for the group: its signal and progress lines. */
export function waits(ctx: GroupContext, timeoutMs: number): WaitSettings {
  return { timeoutMs, signal: ctx.signal, onProgress: (o) => ctx.progress.waiting(o) };
}

/** Waits until the Service's ready endpoints (EndpointSlices and Endpoints) are exactly `pods`. */
export async function waitForEndpoints(ctx: GroupContext, service: string, pods: readonly string[], timeoutMs = TIMEOUTS.endpoints): Promise<EndpointView> {
  const obs = await waitFor<EndpointView>(
    async () => {
      const view = await endpointView(ctx.kube, ctx.namespace, service);
      return { done: sameSet(view.slicePods, pods) && sameSet(view.endpointsPods, pods), observed: view.text, value: view };
    },
    { description: `the ready endpoints of Service ${service} are exactly ${pods.join(', ') || 'none'}`, ...waits(ctx, timeoutMs) },
  );
  return obs.value as EndpointView;
}

export function podName(p: { metadata?: { name?: string } }): string {
  return p.metadata?.name ?? '?';
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
