// "EXTRA Pod security": the lab's pi-secure spec (uid 65534, no capabilities, no privilege
// escalation, no service-account token), its custom-port update, and the lab's three exec probes,
// which must now fail for the lab's reasons.
import type * as k8s from '@kubernetes/client-node';
import { listPods, stuckContainers } from '../../../kube/pods.js';
import { describePod, IMAGE_PULL_REASONS, isPodStuckOrEnvironment, stuckPodError, waitForRollout } from '../../../kube/workloads.js';
import { waitFor } from '../../../wait/wait-for.js';
import { applyLab, podName, TIMEOUTS, waits } from './common.js';
import { clip, expectExec, expectStatus, podTarget } from './probes.js';
import { CheckFailed } from '../../../engine/outcomes.js';
import { failedWithDiagnostics, type GroupContext, type Scenario } from './scenario.js';
import { errorText } from '../../../util/error-text.js';

const DEPLOYMENT = 'pi-secure-web';
const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const CUSTOM_PORT = 5001;
/** A container running this long without exiting counts as "the app runs". */
const RUNNING_FOR_MS = 5_000;

export const piSecureScenario: Scenario = {
  group: 'pi-secure',
  async run(ctx) {
    const { kube, namespace: ns } = ctx;
    let pod = '';

    await ctx.step('pi-secure.deploys', async () => {
      await applyLab(ctx, 'pi-secure');
      return firstVersionOutcome(ctx);
    });

    await ctx.step('pi-secure.custom-port-runs', async () => {
      await applyLab(ctx, 'pi-secure/update');
      const { pods } = await waitForRollout(kube, ns, DEPLOYMENT, { ...waits(ctx, TIMEOUTS.rollout), podLabels: { update: 'ports' } });
      pod = pods.map(podName)[0] ?? '';
      await expectStatus(kube, podTarget(ns, pod, CUSTOM_PORT), '/?dp=6', 200, { contains: ['3.141592'], signal: ctx.signal });
      return `${pod} (update=ports) is Ready and answers on port ${CUSTOM_PORT} with 3.141592`;
    });

    await ctx.step('pi-secure.runs-as-nobody', async () => {
      const who = await expectExec(kube, ns, pod, ['whoami'], { exitCode: 0, stdout: 'nobody' }, ctx.signal);
      const uid = await expectExec(kube, ns, pod, ['id', '-u'], { exitCode: 0, stdout: '65534' }, ctx.signal);
      return `${who}; ${uid}`;
    });

    await ctx.step('pi-secure.no-sa-token', () =>
      expectExec(kube, ns, pod, ['cat', SA_TOKEN], { exitCode: 1, stderrIncludes: 'No such file or directory' }, ctx.signal),
    );

    await ctx.step('pi-secure.chown-refused', () =>
      expectExec(kube, ns, pod, ['chown', 'root:root', '/app/Pi.Web.dll'], { exitCode: 1, stderrIncludes: 'Operation not permitted' }, ctx.signal),
    );
  },
};

/**
 * The lab says the first pi-secure Pod fails ("doesn't have permission to listen on the port");
 * runtimes that set net.ipv4.ip_unprivileged_port_start=0 (containerd ≥ 2.0, so current kind) let
 * it bind port 80. Either outcome passes; a crash for any other reason does not.
 */
async function firstVersionOutcome(ctx: GroupContext): Promise<string> {
  const obs = await waitFor<k8s.V1Pod>(
    async () => {
      const pods = await listPods(ctx.kube, ctx.namespace, 'app=pi-secure-web');
      const p = pods[0];
      if (!p) return { done: false, observed: 'no pi-secure-web Pod yet' };
      const stuck = stuckContainers(p).find((s) => IMAGE_PULL_REASONS.has(s.reason) || s.reason.startsWith('CreateContainer'));
      if (stuck) throw stuckPodError(stuck);
      const s = p.status?.containerStatuses?.[0];
      const exited = Boolean(s?.state?.terminated || s?.lastState?.terminated);
      const startedAt = s?.state?.running?.startedAt ? new Date(s.state.running.startedAt).getTime() : undefined;
      const runningLong = startedAt !== undefined && Date.now() - startedAt >= RUNNING_FOR_MS;
      return { done: exited || runningLong, observed: describePod(p), value: p };
    },
    { description: 'the pi-secure-web Pod either keeps running or its app exits', isFatal: isPodStuckOrEnvironment, ...waits(ctx, TIMEOUTS.rollout) },
  );
  const p = obs.value as k8s.V1Pod;
  const name = podName(p);
  const sc = p.spec?.securityContext;
  const csc = p.spec?.containers[0]?.securityContext;
  const hardened = `runAsUser ${sc?.runAsUser ?? '-'}, capabilities drop ${JSON.stringify(csc?.capabilities?.drop ?? [])}, allowPrivilegeEscalation ${String(csc?.allowPrivilegeEscalation)}, automountServiceAccountToken ${String(p.spec?.automountServiceAccountToken)}`;
  if (sc?.runAsUser !== 65534 || p.spec?.automountServiceAccountToken !== false) {
    throw new CheckFailed(`${name} is not hardened as the spec says: ${hardened}`);
  }
  const s = p.status?.containerStatuses?.[0];
  if (!(s?.state?.terminated || s?.lastState?.terminated)) {
    return `${name} (${hardened}) keeps running: this runtime lets non-root processes bind port 80, so the lab's "permission denied" does not happen here`;
  }
  const logs = await ctx.kube.core
    .readNamespacedPodLog({ namespace: ctx.namespace, name, ...(s.state?.terminated ? {} : { previous: true }), tailLines: 20 })
    .catch((e: unknown) => `logs unavailable: ${errorText(e)}`);
  if (/permission denied/i.test(logs)) {
    return `${name} (${hardened}) fails as the lab says: its app may not listen on port 80 ("${clip(/.*permission denied.*/i.exec(logs)?.[0] ?? '', 120)}")`;
  }
  throw failedWithDiagnostics(`${name}'s app exited for another reason than the lab's "permission denied": ${clip(logs, 300)}`, `Logs of ${name}:\n${logs}`);
}
