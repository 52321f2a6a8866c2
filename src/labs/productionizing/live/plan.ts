// The productionizing lab's live plan, in this order:
//
//   submission.applies   server-side apply: passes when the API server accepts every object
//   replicas.ready-five  the app Deployment's rollout (fails fast, with the most specific reason,
//                        when Pods cannot be created, scheduled, pulled, configured or kept
//                        running), 5 ready Pods that stay up, and no HPA minimum below 5
//   security.exec-*      exec probes in a running app container (cheap, done while all is healthy)
//   readiness.*, liveness.*   one Pod's app is made to fail; what Kubernetes does about it
//   hpa.*                metrics, scale up under CPU load, back down, undo of a manual scale
//
// When the app cannot run because of the submission (the API server rejects its Deployment, its
// Pods cannot be created, started or kept running), the checks that need it are reported as
// `failed` with that cause, "not tested: …", and no points: the learner's work is why they could
// not pass, and a `skipped` would read as "not the learner's concern".
import { milli } from '../../../kube/capacity.js';
import { readControllerArgs } from '../../../kube/control-plane.js';
import { CONTAINER_DEFAULTS } from '../../../kube/namespace.js';
import { appliesVerdict } from '../../../engine/apply.js';
import type { ApplyResult, LiveRun } from '../../../engine/lab.js';
import { APP_IMAGE, type ProductionizingId } from '../catalogue.js';
import { appFootprint, appUnderTest, floorInputs } from '../app.js';
import { ScenarioContext } from './context.js';
import { groupFloors, timingsFromFlags } from './floor.js';
import { hpaScenario } from './hpa.js';
import { probesScenario } from './probes.js';
import { podsCheck, REPLICAS_WANTED, type PodsVerdict } from './replicas.js';
import { securityScenario } from './security.js';

/** The live check about the app's Pods: when they cannot run, the checks that need them are not tested. */
const PODS_CHECK: ProductionizingId = 'replicas.ready-five';

export async function productionizingLive(run: LiveRun<ProductionizingId>): Promise<void> {
  const { checks } = run;
  const manifests = run.manifests as unknown as Array<Record<string, unknown>>;
  const controllerArgs = readControllerArgs(run.kube).catch(() => ({}) as Awaited<ReturnType<typeof readControllerArgs>>);
  const app = appUnderTest(manifests);
  if (!app) {
    await checks.run('submission.applies', async () => appliesVerdict(await run.apply()));
    await checks.block(checks.pending(), 'failed', `not tested: no Deployment in the specs runs the lab's app (image ${APP_IMAGE})`, {
      hint: `Run the app from a Deployment whose container image is ${APP_IMAGE}:21.04, as in the lab's specs.`,
    });
    return;
  }

  const args = await controllerArgs;
  const timings = timingsFromFlags(args.controllerManager, args.metricsServer);
  run.setFloors({
    timings: `${timings.source}: HPA sync ${timings.hpaSyncSeconds}s, downscale stabilization ${timings.downscaleStabilizationSeconds}s, metrics resolution ${timings.metricResolutionSeconds}s`,
    groups: groupFloors(floorInputs(manifests, app, timings)),
  });
  const ctx = new ScenarioContext(run, app);
  run.diagnoseWith(() => ctx.diagnostics());
  let applied: ApplyResult | undefined;
  const isApp = (r: { kind: string; name: string }): boolean => r.kind === 'Deployment' && r.name === app.deployment;
  await checks.run('submission.applies', async () => {
    // A dry run first: an app Deployment the API server rejects is the learner's to fix,
    // whatever the room on the cluster; only then wait for room for the app's Pods.
    const dry = await run.apply(undefined, { dryRun: true });
    if (dry.rejections.some(isApp)) {
      applied = dry;
      return appliesVerdict(dry);
    }
    const footprint = appFootprint(manifests, REPLICAS_WANTED, milli(CONTAINER_DEFAULTS.defaultRequest.cpu));
    applied = await run.apply(undefined, footprint ? { pods: { count: footprint.pods, cpuMilli: footprint.perPodMilli } } : {});
    const verdict = appliesVerdict(applied);
    const waited = applied.waitedForRoomMs;
    return waited > 1_000 ? `${verdict} (after waiting ${Math.round(waited / 1000)}s for room on the cluster)` : verdict;
  });
  const appRejection = applied?.rejections.find(isApp);
  if (checks.status('submission.applies') === 'error') {
    await checks.block(checks.pending(), 'error', 'not run: the grader could not apply the specs (see submission.applies)');
    return;
  }
  if (appRejection) {
    const appliesDiagnostics = checks.result('submission.applies')?.diagnostics;
    await checks.block(checks.pending(), 'failed', `not tested: the API server rejected the app's Deployment: ${appRejection.message}`, appliesDiagnostics ? { diagnostics: appliesDiagnostics } : {});
    return;
  }

  const pods: PodsVerdict = {};
  await checks.run(PODS_CHECK, () => podsCheck(ctx, pods));
  const podsDiagnostics = checks.result(PODS_CHECK)?.diagnostics;
  if (pods.cannotRun) {
    await checks.block(checks.pending(), 'failed', `not tested: the app's Pods cannot run (see ${PODS_CHECK}): ${pods.cannotRun.message}`, {
      hint: pods.cannotRun.hint,
      ...(podsDiagnostics ? { diagnostics: podsDiagnostics } : {}),
    });
    return;
  }
  if (pods.noRoom) {
    await checks.block(checks.pending(), 'error', `not run: the cluster has no room for the app's Pods (see ${PODS_CHECK})`);
    return;
  }

  await securityScenario(ctx, checks);
  await probesScenario(ctx, checks);
  await hpaScenario(ctx, checks);
}
