// replicas.ready-five: 5 Pods of the app become Ready, and nothing (an HPA's minimum included)
// lets the app drop below 5.
import type * as k8s from '@kubernetes/client-node';
import { hpaView, targetsDeployment, type HpaView } from '../kube/hpa-status.js';
import { isPodReady } from '../kube/pods.js';
import { CheckFailed, CheckInconclusive } from '../grade/outcomes.js';
import { noRoomFor } from '../kube/rollout.js';
import { WaitTimeoutError } from '../wait/wait-for.js';
import type { ScenarioContext } from './context.js';

export const REPLICAS_WANTED = 5;
export const READY_TIMEOUT_MS = 90_000;

/** The live HPAs that scale the app's Deployment. */
export async function appHpas(ctx: ScenarioContext): Promise<HpaView[]> {
  const list = await ctx.api('list HorizontalPodAutoscalers', () => ctx.kube.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ctx.namespace }));
  return list.items.map((h: k8s.V2HorizontalPodAutoscaler) => hpaView(h)).filter((v) => targetsDeployment(v, ctx.app.deployment));
}

export async function readyFive(ctx: ScenarioContext): Promise<string> {
  const started = Date.now();
  let lastPods: k8s.V1Pod[] = [];
  const obs = await ctx.wait(
    async () => {
      const [d, pods, hpas] = await Promise.all([ctx.deployment(), ctx.pods(), appHpas(ctx)]);
      lastPods = pods;
      const ready = pods.filter(isPodReady).length;
      const want = d.spec?.replicas ?? 1;
      const hpaMin = hpas.length > 0 ? Math.max(...hpas.map((h) => h.minReplicas)) : undefined;
      const hpaText = hpaMin === undefined ? 'no HPA' : `HPA minReplicas ${hpaMin}`;
      const observed = `${ready} of ${pods.length} Pods ready, Deployment asks for ${want} (${hpaText})`;
      if (ready >= REPLICAS_WANTED) return { done: true, observed, value: { ready, hpaMin } };
      // Nothing will add Pods: the Deployment has all it asks for and no HPA raises it to 5.
      const settled = (d.status?.readyReplicas ?? 0) >= want && (d.status?.replicas ?? 0) === want;
      if (settled && want < REPLICAS_WANTED && (hpaMin === undefined || hpaMin < REPLICAS_WANTED)) {
        throw new CheckFailed(
          `expected ${REPLICAS_WANTED} ready Pods; the app settled at ${ready}: the Deployment asks for ${want} replicas${hpaMin === undefined ? '' : ` and its HPA's minimum is ${hpaMin}`}`,
        );
      }
      return { done: false, observed };
    },
    {
      description: `${REPLICAS_WANTED} Pods of Deployment ${ctx.app.deployment} are ready`,
      timeoutMs: READY_TIMEOUT_MS,
      intervalsMs: [500, 1000, 2000],
      onProgress: (o) => ctx.progress(`replicas: ${o}`),
    },
  ).catch((error: unknown) => {
    const noRoom = error instanceof WaitTimeoutError ? noRoomFor(lastPods) : undefined;
    if (noRoom) {
      // The scheduler has no room for them: the cluster is too small or busy, the spec may be fine.
      throw new CheckInconclusive(
        `${error instanceof WaitTimeoutError ? error.lastObserved : ''}; ${noRoom.count} Pods cannot be scheduled: ${noRoom.message}. The cluster has no room for them, so the grader cannot tell whether 5 would become ready`,
      );
    }
    throw error;
  });
  const hpaMin = obs.value?.hpaMin;
  if (hpaMin !== undefined && hpaMin < REPLICAS_WANTED) {
    throw new CheckFailed(
      `${obs.value?.ready ?? '?'} Pods became ready, but the HPA's minReplicas is ${hpaMin}: at low CPU it scales the app down to ${hpaMin} Pods, below ${REPLICAS_WANTED}`,
      { hint: 'Set `minReplicas: 5` in the HPA: it owns the replica count and scales down to its minimum when the app is idle.' },
    );
  }
  return `${obs.observed} after ${Math.round((Date.now() - started) / 1000)}s`;
}
