// "Autoscaling compute-intensive workloads": the lab's pi app with its HPA pi-cpu, two concurrent
// dp=100000 requests (the lab's "two browser tabs") through the pi-lb Service, the HPA scaling up
// and, after the load, back down. Also the lab's "EXTRA Pod security" baseline: the unhardened
// Pod runs as root, holds a service-account token and may chown.
import type * as k8s from '@kubernetes/client-node';
import { startLocalProxy } from '../../../kube/local-proxy.js';
import { waitForRollout } from '../../../kube/workloads.js';
import { waitFor } from '../../../wait/wait-for.js';
import { applyLab, podName, seconds, TIMEOUTS, waitForEndpoints, waits } from './common.js';
import { describeLoad, startLoad, type LoadRun } from './load.js';
import { expectExec, expectStatus, serviceTarget } from './probes.js';
import type { GroupContext, Scenario } from './scenario.js';

const DEPLOYMENT = 'pi-web';
const HPA = 'pi-cpu';
/** The Service the lab browses (localhost:8020 is pi-lb's port). */
const SERVICE = 'pi-lb';
const SERVICE_PORT = 8020;
const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The lab's load: two concurrent dp=100000 requests, bounded in time and count. */
export const PI_LOAD = {
  path: '/pi?dp=100000',
  connections: 2,
  durationSec: 120,
  maxRequestsPerConnection: 2,
  /** One dp=100000 request takes about a minute on a 250m-limited Pod with two running. */
  timeoutSec: 150,
} as const;

export const piScenario: Scenario = {
  group: 'pi',
  async run(ctx) {
    const { kube, namespace: ns } = ctx;
    let pod = '';

    await ctx.step('pi.deploys', async () => {
      const applied = await applyLab(ctx, 'pi');
      const { pods } = await waitForRollout(kube, ns, DEPLOYMENT, waits(ctx, TIMEOUTS.rollout));
      pod = pods.map(podName)[0] ?? '';
      await waitForEndpoints(ctx, SERVICE, [pod]);
      await expectStatus(kube, serviceTarget(ns, SERVICE, SERVICE_PORT), '/pi?dp=6', 200, {
        contains: ['3.141592', 'To: 6 d.p.'],
        signal: ctx.signal,
      });
      return `applied ${applied}; ${pod} Ready; ${SERVICE}:${SERVICE_PORT}/pi?dp=6 shows 3.141592`;
    });

    await ctx.step('pi.runs-as-root', async () => {
      const lines = [
        await expectExec(kube, ns, pod, ['whoami'], { exitCode: 0, stdout: 'root' }, ctx.signal),
        await expectExec(kube, ns, pod, ['cat', SA_TOKEN], { exitCode: 0, stdoutMatches: /^\S{20,}$/ }, ctx.signal).then(() => `\`cat ${SA_TOKEN}\` → a token`),
        await expectExec(kube, ns, pod, ['chown', 'root:root', '/app/Pi.Web.dll'], { exitCode: 0 }, ctx.signal),
      ];
      return lines.join('; ');
    });

    await ctx.step('pi.hpa-reads-metrics', async () => {
      const obs = await waitFor<k8s.V2HorizontalPodAutoscaler>(
        async () => {
          const hpa = await readHpa(ctx);
          const cpu = cpuUtilization(hpa);
          const active = hpa.status?.conditions?.find((c) => c.type === 'ScalingActive');
          return { done: cpu !== undefined && active?.status === 'True', observed: describeHpa(hpa), value: hpa };
        },
        { description: `HPA ${HPA} reports the CPU utilization of pi-web`, ...waits(ctx, TIMEOUTS.hpaMetrics) },
      );
      return describeHpa(obs.value as k8s.V2HorizontalPodAutoscaler);
    });

    await ctx.step('pi.hpa-scales-up', async () => {
      const proxy = await startLocalProxy(kube, serviceTarget(ns, SERVICE, SERVICE_PORT), { timeoutMs: PI_LOAD.timeoutSec * 1000 });
      const closeProxy = ctx.defer('close the local proxy for the load', () => proxy.close());
      let load: LoadRun | undefined;
      const stopLoad = ctx.defer('stop the load', async () => {
        load?.stop();
        await load?.finished.catch(() => undefined);
      });
      const t0 = Date.now();
      load = startLoad({ url: `${proxy.url}${PI_LOAD.path}`, ...PI_LOAD });
      ctx.progress.step(`load: ${PI_LOAD.connections} concurrent GET ${PI_LOAD.path} through ${SERVICE} (at most ${PI_LOAD.durationSec}s)`);
      const obs = await waitFor<{ replicas: number; hpa: string }>(
        async () => {
          const [d, hpa] = await Promise.all([readDeployment(ctx), readHpa(ctx)]);
          const replicas = d.spec?.replicas ?? 0;
          return { done: replicas > 1, observed: `${describeHpa(hpa)}; pi-web replicas ${replicas}`, value: { replicas, hpa: describeHpa(hpa) } };
        },
        { description: `HPA ${HPA} scales pi-web above 1 replica under the load`, ...waits(ctx, TIMEOUTS.hpaScaleUp) },
      );
      const took = Date.now() - t0;
      await stopLoad();
      await closeProxy();
      const summary = await load.finished;
      ctx.progress.step(`load stopped: ${describeLoad(summary)}`);
      return `pi-web scaled to ${obs.value?.replicas} replicas ${seconds(took)} after the load started (${obs.value?.hpa}); load: ${describeLoad(summary)}`;
    });

    await ctx.step('pi.hpa-scales-down', async () => {
      const t0 = Date.now();
      const obs = await waitFor<string>(
        async () => {
          const [d, hpa] = await Promise.all([readDeployment(ctx), readHpa(ctx)]);
          const replicas = d.spec?.replicas ?? 0;
          return { done: replicas === 1, observed: `${describeHpa(hpa)}; pi-web replicas ${replicas}`, value: describeHpa(hpa) };
        },
        { description: `HPA ${HPA} scales pi-web back to 1 replica after the load`, ...waits(ctx, TIMEOUTS.hpaScaleDown) },
      );
      return `pi-web back to 1 replica ${seconds(Date.now() - t0)} after the load stopped (${obs.value})`;
    });
  },
};

function readHpa(ctx: GroupContext): Promise<k8s.V2HorizontalPodAutoscaler> {
  return ctx.kube.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ctx.namespace, name: HPA });
}

function readDeployment(ctx: GroupContext): Promise<k8s.V1Deployment> {
  return ctx.kube.apps.readNamespacedDeployment({ namespace: ctx.namespace, name: DEPLOYMENT });
}

export function cpuUtilization(hpa: k8s.V2HorizontalPodAutoscaler): number | undefined {
  const m = hpa.status?.currentMetrics?.find((x) => x.type === 'Resource' && x.resource?.name === 'cpu');
  return m?.resource?.current?.averageUtilization;
}

function targetUtilization(hpa: k8s.V2HorizontalPodAutoscaler): number | undefined {
  return hpa.spec?.metrics?.find((x) => x.type === 'Resource' && x.resource?.name === 'cpu')?.resource?.target?.averageUtilization;
}

export function describeHpa(hpa: k8s.V2HorizontalPodAutoscaler): string {
  const cpu = cpuUtilization(hpa);
  const target = targetUtilization(hpa);
  const s = hpa.status;
  return `HPA ${hpa.metadata?.name ?? HPA}: cpu ${cpu === undefined ? '<unknown>' : `${cpu}%`}/${target ?? '?'}%, replicas ${s?.currentReplicas ?? '?'} → desired ${s?.desiredReplicas ?? '?'} (min ${hpa.spec?.minReplicas ?? 1}, max ${hpa.spec?.maxReplicas ?? '?'})`;
}
