// submission.applies: server-side apply of every object into the grading namespace, then the app
// Deployment's rollout, stopping at once when its Pods cannot be created or started (with the
// kubelet's or the controller's reason and a hint in the learner's terms).
import type * as k8s from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { applyManifest, FIELD_MANAGER, type Manifest } from '../kube/apply.js';
import type { Kube } from '../kube/client.js';
import { noRoomFor, rolloutState, type RolloutState } from '../kube/rollout.js';
import { formatLocation } from '../submission/manifest.js';
import type { SourceLocation } from '../model.js';
import { CheckFailed, CheckInconclusive } from '../grade/outcomes.js';
import { apiRejection, type Locator } from '../grade/sources.js';
import type { ScenarioContext } from './context.js';
import { WaitTimeoutError } from '../wait/wait-for.js';

/** Rollout bound: the image is cached on the node; the lab's Pods are Ready within seconds. */
export const ROLLOUT_TIMEOUT_MS = 120_000;

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

export type RolloutOutcome =
  | { kind: 'complete'; message: string }
  /** Containers run but the rollout did not complete in time (e.g. never ready). */
  | { kind: 'incomplete'; message: string }
  /** The Pods cannot be created or started: the dependent checks cannot run. */
  | { kind: 'blocked'; message: string; hint?: string }
  /** The scheduler has no room for any of the Pods: the cluster's limit, not the submission's. */
  | { kind: 'no-room'; message: string };

/** Waits for the app Deployment's rollout, failing fast when its Pods cannot start. */
export async function waitForRollout(ctx: ScenarioContext): Promise<RolloutOutcome> {
  const started = Date.now();
  let last: RolloutState | undefined;
  let lastPods: k8s.V1Pod[] = [];
  try {
    await ctx.wait(
      async () => {
        const [d, pods, events] = await Promise.all([
          ctx.deployment(),
          ctx.pods(),
          ctx.api('list FailedCreate events', () => ctx.kube.core.listNamespacedEvent({ namespace: ctx.namespace, fieldSelector: 'reason=FailedCreate' })),
        ]);
        lastPods = pods;
        last = rolloutState(d, pods, events.items);
        return { done: last.kind !== 'progressing', observed: `Deployment ${ctx.app.deployment}: ${last.observed}` };
      },
      {
        description: `Deployment ${ctx.app.deployment} finishes rolling out`,
        timeoutMs: ROLLOUT_TIMEOUT_MS,
        intervalsMs: [500, 1000, 2000],
        onProgress: (o) => ctx.progress(o),
      },
    );
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    const seen = (last as RolloutState | undefined)?.observed ?? error.lastObserved;
    const running = lastPods.filter((p) => p.status?.containerStatuses?.some((c) => c.name === ctx.app.container && c.state?.running));
    const within = `within ${Math.round(error.timeoutMs / 1000)}s`;
    if (running.length > 0) {
      return { kind: 'incomplete', message: `the app's containers run, but the rollout did not complete ${within}: ${seen}` };
    }
    const noRoom = noRoomFor(lastPods);
    if (noRoom) return { kind: 'no-room', message: `none of the app's Pods could be scheduled ${within}: ${noRoom.message}` };
    return { kind: 'blocked', message: `none of the app's containers started ${within}: ${seen}` };
  }
  const state = last as RolloutState | undefined;
  if (state?.kind === 'stuck') return { kind: 'blocked', message: state.message, hint: state.hint };
  return {
    kind: 'complete',
    message: `Deployment ${ctx.app.deployment} rolled out in ${Math.round((Date.now() - started) / 1000)}s: ${state?.observed ?? ''}`,
  };
}

/** The submission.applies check body, given the outcome of applying and of the rollout. */
export function appliesVerdict(apply: ApplyOutcome, rollout: RolloutOutcome | undefined): string {
  if (apply.rejections.length > 0) {
    const first = apply.rejections[0] as Rejection;
    throw new CheckFailed(describeRejections(apply.rejections), { ...(first.location ? { location: first.location } : {}), diagnostics: false });
  }
  const accepted = `the API server accepted all ${apply.applied} objects`;
  if (!rollout) return accepted;
  if (rollout.kind === 'no-room') throw new CheckInconclusive(`${accepted}, but ${rollout.message}: the cluster has no room for them`);
  if (rollout.kind === 'blocked') {
    throw new CheckFailed(`${accepted}, but ${rollout.message}${rollout.hint ? `\nHint: ${rollout.hint}` : ''}`, rollout.hint ? { hint: rollout.hint } : {});
  }
  return `${accepted}; ${rollout.message}`;
}
