// "Self-healing apps with readiness probes" and "Self-repairing apps with liveness probes":
// the lab's whoami specs, one Pod tripped with `curl --data '503' …/health` (here a POST through
// the pod proxy, to exactly one Pod), and what Kubernetes does about it with each update.
import type * as k8s from '@kubernetes/client-node';
import { isNotFound } from '../../../kube/client.js';
import { containerRunning, isPodReady, podSummary, restartCount } from '../../../kube/pods.js';
import { waitForRollout } from '../../../kube/workloads.js';
import { holdsFor, waitFor } from '../../../wait/wait-for.js';
import { applyLab, podName, seconds, TIMEOUTS, waitForEndpoints, waits } from './common.js';
import { endpointView, expectStatus, podTarget, request, serviceTarget, setWhoamiHealth } from './probes.js';
import { CheckFailed } from '../../../engine/outcomes.js';
import { type GroupContext, type Scenario } from './scenario.js';

const DEPLOYMENT = 'whoami';
/** The Service the lab inspects (`kubectl get endpoints whoami-np`). */
const ENDPOINTS_SERVICE = 'whoami-np';
/** The Service the lab curls (localhost:8010 is whoami-lb's port). */
const TRAFFIC_SERVICE = 'whoami-lb';
const TRAFFIC_PORT = 8010;
/** Requests sent through the Service when checking where traffic goes. */
const SERVICE_REQUESTS = 20;

export const whoamiScenario: Scenario = {
  group: 'whoami',
  async run(ctx) {
    const { kube, namespace: ns } = ctx;
    let pods: string[] = [];

    await ctx.step('whoami.two-replicas-ready', async () => {
      await applyLab(ctx, 'whoami');
      pods = await rolledOut(ctx);
      await expectStatus(kube, serviceTarget(ns, TRAFFIC_SERVICE, TRAFFIC_PORT), '/', 200, { contains: ['Hostname: '], signal: ctx.signal });
      return `2 Pods Ready (${pods.join(', ')}), both in the endpoints of ${ENDPOINTS_SERVICE}; ${TRAFFIC_SERVICE} answers 200`;
    });

    await ctx.step('whoami.no-probe-keeps-failed-pod', async () => {
      const [victim, healthy] = pair(pods);
      const restore = trip(ctx, victim);
      await restore.inject();
      await expectStatus(kube, podTarget(ns, victim, 80), '/', 503, { signal: ctx.signal });
      // Like repeating `curl -i localhost:8010`: some OK responses and some 503s.
      const codes = new Map<number, number>();
      for (let i = 0; i < SERVICE_REQUESTS && !(codes.has(200) && codes.has(503)); i++) {
        const r = await request(kube, serviceTarget(ns, TRAFFIC_SERVICE, TRAFFIC_PORT), '/', { signal: ctx.signal });
        codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
      }
      const tally = [...codes].map(([c, n]) => `${n}× ${c}`).join(', ');
      if (!codes.has(503)) throw new CheckFailed(`the failed Pod ${victim} got no traffic through ${TRAFFIC_SERVICE} (${tally}); without a probe it should stay in the Service`);
      await holdsFor(
        async () => {
          const view = await endpointView(kube, ns, ENDPOINTS_SERVICE);
          return { done: view.slicePods.includes(victim) && view.slicePods.includes(healthy), observed: view.text };
        },
        { description: `the failed Pod ${victim} stays in the endpoints of ${ENDPOINTS_SERVICE}`, durationMs: 5_000, intervalMs: 1_000, signal: ctx.signal },
      );
      await restore.undo();
      return `${victim} answers 503 after POST 503 to its /health; ${TRAFFIC_SERVICE} answered ${tally}; it stayed in the endpoints for 5s (no probe to notice)`;
    });

    await ctx.step('whoami.readiness-update-ready', async () => {
      await applyLab(ctx, 'whoami/update');
      pods = await rolledOut(ctx, 'readiness');
      return `2 Pods with update=readiness Ready (${pods.join(', ')}) and in the endpoints of ${ENDPOINTS_SERVICE}`;
    });

    let victim = '';
    let healthy = '';
    let restoreReadiness: Trip | undefined;
    await ctx.step('whoami.readiness-removes-failed-pod', async () => {
      [victim, healthy] = pair(pods);
      const before = await readPod(ctx, victim);
      restoreReadiness = trip(ctx, victim);
      const t0 = Date.now();
      await restoreReadiness.inject();
      const obs = await waitFor<k8s.V1Pod>(
        async () => {
          const p = await readPod(ctx, victim);
          const view = await endpointView(kube, ns, ENDPOINTS_SERVICE);
          const gone = !view.slicePods.includes(victim) && !view.endpointsPods.includes(victim);
          const stays = view.slicePods.includes(healthy) && view.endpointsPods.includes(healthy);
          return { done: !isPodReady(p) && gone && stays, observed: `${podSummary(p)}; ${view.text}`, value: p };
        },
        { description: `${victim} becomes unready and leaves the endpoints of ${ENDPOINTS_SERVICE}, ${healthy} stays`, ...waits(ctx, TIMEOUTS.readinessChange) },
      );
      const p = obs.value as k8s.V1Pod;
      if (p.metadata?.uid !== before.metadata?.uid) throw new CheckFailed(`${victim} was replaced (new UID): a readiness failure must not replace the Pod`);
      if (restartCount(p) !== restartCount(before)) {
        throw new CheckFailed(`${victim}'s container restarted (${restartCount(before)} → ${restartCount(p)}): a readiness probe must not restart it`);
      }
      if (!containerRunning(p)) throw new CheckFailed(`${victim}'s container is not running: ${podSummary(p)}`);
      return `${victim} became unready ${seconds(Date.now() - t0)} after POST 503 and left the endpoints (${obs.observed.split('; ').pop()}); its container kept running, restarts ${restartCount(p)}`;
    });

    await ctx.step('whoami.service-serves-only-healthy', async () => {
      const codes = new Map<string, number>();
      for (let i = 0; i < SERVICE_REQUESTS; i++) {
        const r = await request(kube, serviceTarget(ns, TRAFFIC_SERVICE, TRAFFIC_PORT), '/', { signal: ctx.signal });
        const from = /^Hostname: (\S+)/m.exec(r.body)?.[1];
        const key = r.fromApiServer ? `${r.status} from the API server` : `${r.status}${from ? ` from ${from}` : ''}`;
        codes.set(key, (codes.get(key) ?? 0) + 1);
      }
      const tally = [...codes].map(([k, n]) => `${n}× ${k}`).join(', ');
      const good = codes.get(`200 from ${healthy}`) ?? 0;
      if (good !== SERVICE_REQUESTS) throw new CheckFailed(`of ${SERVICE_REQUESTS} requests through ${TRAFFIC_SERVICE}: ${tally}; expected all 200 from ${healthy}`);
      await restoreReadiness?.undo();
      return `${SERVICE_REQUESTS} requests through ${TRAFFIC_SERVICE}: ${tally}`;
    });

    await ctx.step('whoami.liveness-update-ready', async () => {
      await applyLab(ctx, 'whoami/update2');
      pods = await rolledOut(ctx, 'liveness');
      return `2 Pods with update=liveness Ready (${pods.join(', ')}) and in the endpoints of ${ENDPOINTS_SERVICE}`;
    });

    await ctx.step('whoami.liveness-restarts-container', async () => {
      [victim, healthy] = pair(pods);
      const before = await readPod(ctx, victim);
      const uid = before.metadata?.uid;
      const restarts = restartCount(before);
      const t0 = Date.now();
      let sawUnready = false;
      await trip(ctx, victim).inject();
      const obs = await waitFor<k8s.V1Pod>(
        async () => {
          const p = await readPod(ctx, victim).catch((e: unknown) => {
            if (isNotFound(e)) throw new CheckFailed(`${victim} was deleted instead of having its container restarted`);
            throw e;
          });
          if (p.metadata?.uid !== uid) throw new CheckFailed(`${victim} was replaced (new UID) instead of having its container restarted`);
          if (!isPodReady(p)) sawUnready = true;
          return { done: restartCount(p) > restarts, observed: podSummary(p), value: p };
        },
        {
          description: `the container of ${victim} restarts (restart count above ${restarts}, same Pod UID)`,
          isFatal: (e) => e instanceof CheckFailed,
          ...waits(ctx, TIMEOUTS.restart),
        },
      );
      const p = obs.value as k8s.V1Pod;
      return `${victim}'s container restarted ${seconds(Date.now() - t0)} after POST 503 (restarts ${restarts} → ${restartCount(p)}, same UID)${sawUnready ? '; it was seen unready first' : ''}`;
    });

    await ctx.step('whoami.restarted-pod-rejoins-service', async () => {
      await waitFor(
        async () => {
          const p = await readPod(ctx, victim);
          return { done: isPodReady(p), observed: podSummary(p) };
        },
        { description: `${victim} is Ready again`, ...waits(ctx, TIMEOUTS.readinessChange) },
      );
      const view = await waitForEndpoints(ctx, ENDPOINTS_SERVICE, pods);
      // The app's health lives in process memory: the new container starts healthy.
      await expectStatus(kube, podTarget(ns, victim, 80), '/health', 200, { signal: ctx.signal });
      return `${victim} is Ready again with its restarted container and back in the endpoints (${view.text}); its /health answers 200`;
    });
  },
};

interface Trip {
  inject(): Promise<void>;
  undo(): Promise<void>;
}

/** The fault with its undo registered first: POST 503 to the Pod's /health, undone by POST 200. */
function trip(ctx: GroupContext, pod: string): Trip {
  const undo = ctx.defer(`POST 200 to ${pod}/health`, async () => {
    try {
      await setWhoamiHealth(ctx.kube, ctx.namespace, pod, 200);
    } catch (error) {
      // The Pod may be gone already (replaced by a rollout): nothing left to undo.
      const exists = await ctx.kube.core.readNamespacedPod({ namespace: ctx.namespace, name: pod }).then(
        () => true,
        (e: unknown) => !isNotFound(e),
      );
      if (exists) throw error;
    }
  });
  return {
    inject: async () => {
      await setWhoamiHealth(ctx.kube, ctx.namespace, pod, 503, ctx.signal);
      ctx.progress.step(`POST 503 to ${pod}/health`);
    },
    undo,
  };
}

/** The whoami Deployment has rolled out 2 Ready Pods (with `update=<label>`), all in the endpoints. */
async function rolledOut(ctx: GroupContext, update?: string): Promise<string[]> {
  const { pods } = await waitForRollout(ctx.kube, ctx.namespace, DEPLOYMENT, {
    ...waits(ctx, TIMEOUTS.rollout),
    ...(update ? { podLabels: { update } } : {}),
  });
  const names = pods.map(podName).sort();
  if (names.length !== 2) throw new CheckFailed(`expected 2 whoami Pods, found ${names.length}: ${names.join(', ')}`);
  await waitForEndpoints(ctx, ENDPOINTS_SERVICE, names);
  await waitForEndpoints(ctx, TRAFFIC_SERVICE, names);
  return names;
}

function pair(pods: readonly string[]): [string, string] {
  const [a, b] = pods;
  if (!a || !b) throw new Error(`two whoami Pods expected, have ${pods.join(', ') || 'none'}`);
  return [a, b];
}

function readPod(ctx: GroupContext, name: string): Promise<k8s.V1Pod> {
  return ctx.kube.core.readNamespacedPod({ namespace: ctx.namespace, name });
}
