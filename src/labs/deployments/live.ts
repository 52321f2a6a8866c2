// The live plan: apply the first definitions, watch both versions come up, prove the Service
// sends traffic to v1 only (endpoints and answers), apply the switch, prove the traffic moved to
// v2 only while the Deployments, their Pods and the Service's cluster IP stayed as they were.
import type * as k8s from '@kubernetes/client-node';
import type { ApplyResult, LiveRun } from '../../engine/lab.js';
import type { Manifest } from '../../kube/apply.js';
import { collectDiagnostics } from '../../kube/diagnostics.js';
import { CONTAINER_DEFAULTS } from '../../kube/namespace.js';
import { readyPods, serviceEndpoints } from '../../kube/endpoints.js';
import { proxyRequest } from '../../kube/http.js';
import { explainFromCluster } from '../../kube/pod-problems.js';
import { isPodReady } from '../../kube/pods.js';
import { noRoomFor, rolloutState, type RolloutState } from '../../kube/rollout.js';
import { formatLocation } from '../../submission/manifest.js';
import { WaitTimeoutError } from '../../wait/wait-for.js';
import { CheckFailed, CheckInconclusive } from '../../engine/outcomes.js';
import { AFTER_IDS, BEFORE_IDS, type LiveCheckId } from './catalogue.js';
import { commonLabels, compareSource, cpuMilli, podFootprint, distinguishingLabel, exerciseFrom, formatLabels, REPLICAS_WANTED, WHOAMI_IMAGE, type Exercise, type Obj } from './model.js';
import { noSwitchMessage } from './rubric.js';
import { compareAnswers, hostnameOf, type Answer } from './traffic.js';

export const ROLLOUT_TIMEOUT_MS = 120_000;
/** Endpoints follow ready Pods within a second or two; a wrong set that holds this long is the selector. */
export const ENDPOINTS_SETTLED_MS = 5_000;
export const ENDPOINTS_TIMEOUT_MS = 30_000;
/** Requests sent through each Service per traffic check (bounded in count and time). */
export const TRAFFIC_REQUESTS = 10;
const REQUEST_TIMEOUT_MS = 5_000;

type Run = LiveRun<LiveCheckId>;

interface VersionState {
  name: string;
  label: 'v1' | 'v2';
  deployment?: k8s.V1Deployment;
  pods: k8s.V1Pod[];
}

interface Snapshot {
  deployments: Map<string, { uid: string; generation: number; pods: string[] }>;
  services: Map<string, { uid: string; clusterIP: string }>;
}

function toObj(run: Run, m: Manifest): Obj {
  const kind = String(m.kind);
  const name = m.metadata?.name ?? '';
  const file = run.locate(kind, name)?.file;
  return { kind, name, body: m as Record<string, unknown>, ...(file ? { file } : {}) };
}

/** The Pods each Deployment owns (through its ReplicaSets), not yet being deleted. */
async function ownedPods(run: Run, deployments: readonly string[]): Promise<Map<string, k8s.V1Pod[]>> {
  const [sets, pods] = await Promise.all([
    run.api('list ReplicaSets', () => run.kube.apps.listNamespacedReplicaSet({ namespace: run.namespace })),
    run.api('list Pods', () => run.kube.core.listNamespacedPod({ namespace: run.namespace })),
  ]);
  const owner = new Map<string, string>();
  for (const rs of sets.items) {
    const d = rs.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment')?.name;
    if (d && rs.metadata?.name) owner.set(rs.metadata.name, d);
  }
  const out = new Map<string, k8s.V1Pod[]>(deployments.map((d) => [d, []]));
  for (const p of pods.items) {
    if (p.metadata?.deletionTimestamp) continue;
    const rs = p.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
    const d = rs ? owner.get(rs) : undefined;
    if (d && out.has(d)) out.get(d)?.push(p);
  }
  return out;
}

async function versionStates(run: Run, ex: Exercise): Promise<VersionState[]> {
  const v = ex.versions;
  if (!v) return [];
  const names = [v.v1.name, v.v2.name];
  const [owned, ...deployments] = await Promise.all([
    ownedPods(run, names),
    ...names.map((name) => run.api(`read Deployment ${name}`, () => run.kube.apps.readNamespacedDeployment({ name, namespace: run.namespace }))),
  ]);
  return names.map((name, i) => ({
    name,
    label: i === 0 ? 'v1' : 'v2',
    ...(deployments[i] ? { deployment: deployments[i] } : {}),
    pods: (owned as Map<string, k8s.V1Pod[]>).get(name) ?? [],
  }));
}

const podName = (p: k8s.V1Pod): string => p.metadata?.name ?? '?';
const readyNames = (s: VersionState | undefined): string[] => (s?.pods ?? []).filter(isPodReady).map(podName).sort();

function podVersion(states: readonly VersionState[], pod: string): string {
  const s = states.find((x) => x.pods.some((p) => podName(p) === pod));
  return s ? `${pod} (${s.label})` : `${pod} (neither version)`;
}

export async function live(run: Run): Promise<void> {
  const first = run.manifests.map((m) => toObj(run, m));
  // Every file read (a file holding only redefinitions included), for messages.
  const files = [...new Set(run.written.map((o) => o.source.file))].sort((a, b) => compareSource({ file: a }, { file: b }));
  const ex = { ...exerciseFrom(first, run.switchManifests.map((m) => toObj(run, m))), files };
  const services = ex.services.map((s) => s.name);
  run.diagnoseWith(() =>
    collectDiagnostics(run.kube, { namespace: run.namespace, services, ...(ex.versions ? { deployment: ex.versions.v1.name } : {}), maxEvents: 15 }),
  );

  let rejected: ApplyResult['rejections'] = [];
  const applied = await run.checks.run('submission.applies', async () => {
    // Waits for room on the node first: other gradings may hold it.
    const result = await run.apply(run.manifests, { pods: footprint(ex) });
    rejected = result.rejections;
    return appliesVerdict(result);
  });
  // Objects the exercise is made of that the API server refused: what needs them cannot hold.
  const needed = rejected.filter((r) => ex.whoami.some((d) => d.name === r.name && r.kind === 'Deployment') || (r.kind === 'Service' && ex.services.some((s) => s.name === r.name)));
  if (needed.length > 0) {
    await run.checks.block(run.checks.pending(), 'failed', `the API server rejected ${needed.map((r) => `${r.kind}/${r.name}`).join(', ')} (see submission.applies)`);
    return;
  }
  if (applied !== 'passed' && applied !== 'failed') {
    await run.checks.block(run.checks.pending(), 'skipped', 'not tested: the specs could not be applied');
    return;
  }

  const v = ex.versions;
  if (!v) {
    const message = `needs two Deployments running ${WHOAMI_IMAGE} (v1 and v2); the specs have ${ex.whoami.length}${ex.whoami.length ? ` (${ex.whoami.map((d) => d.name).join(', ')})` : ''}`;
    await run.checks.block(run.checks.pending(), 'failed', message);
    return;
  }

  let running = false;
  await run.checks.run('deployments.ready', async () => {
    const states = await waitForVersions(run, ex);
    running = states.every((s) => readyNames(s).length > 0);
    const off = states.filter((s) => readyNames(s).length !== REPLICAS_WANTED);
    if (off.length > 0) {
      throw new CheckFailed(
        `${states.map((s) => `${s.name} (${s.label}) has ${readyNames(s).length} ready Pod${readyNames(s).length === 1 ? '' : 's'}`).join(', ')}; the lab runs ${REPLICAS_WANTED} of each version`,
        locationOf(run, 'Deployment', off[0]?.name ?? '', 'spec.replicas'),
      );
    }
    return `${states.map((s) => `${s.name} (${s.label}): ${readyNames(s).join(', ')}`).join('; ')} ready`;
  });
  if (!running) {
    const pending = run.checks.pending().filter((id) => id !== 'deployments.versions-told-apart');
    await run.checks.block(pending, 'skipped', `not tested: the Pods of ${v.v1.name} and ${v.v2.name} are not both running (see deployments.ready)`);
  }

  await run.checks.run('deployments.versions-told-apart', async () => {
    const states = await versionStates(run, ex);
    const [one, two] = states.map((s) => commonLabels(s.pods.map((p) => p.metadata?.labels)));
    const label = one && two ? distinguishingLabel(one, two) : undefined;
    if (!label) {
      throw new CheckFailed(
        `the Pods of ${v.v1.name} (${formatLabels(one ?? {})}) and of ${v.v2.name} (${formatLabels(two ?? {})}) have no label with different values: a Service cannot select one version only`,
        locationOf(run, 'Deployment', v.v2.name, 'spec.template.metadata.labels'),
      );
    }
    return `label ${label.key}: ${label.a} on ${v.v1.name}'s Pods, ${label.b} on ${v.v2.name}'s`;
  });
  if (!running) return;

  if (services.length === 0) {
    await run.checks.block([...BEFORE_IDS, ...AFTER_IDS], 'failed', `no Service selects the Pods of ${v.v1.name} or ${v.v2.name}`);
    return;
  }

  const beforeOk = await run.checks.run('before-switch.endpoints-v1', () => endpointsAre(run, ex, services, 'v1'));
  await run.checks.run('before-switch.traffic-v1', () => trafficFrom(run, ex, 'v1'));
  if (beforeOk === 'error') {
    await run.checks.block(AFTER_IDS, 'skipped', 'not tested: the grader could not read the Service before the switch');
    return;
  }

  if (ex.switched.length === 0) {
    await run.checks.block(AFTER_IDS, 'failed', noSwitchMessage(ex), { hint: 'Write the switch as a second definition of the Service (same name, v2 selector) in a file that sorts after the first: whoami-service-v2.yaml after whoami-service-v1.yaml, or v2/ after v1/.' });
    return;
  }
  const snapshot = await takeSnapshot(run, ex);
  run.progress(`applying the switch: ${run.switchManifests.map((m) => `${String(m.kind)}/${m.metadata?.name ?? '?'}`).join(', ')}`);
  const switched = await run.apply(run.switchManifests);
  if (switched.rejections.length > 0) {
    await run.checks.block(AFTER_IDS, 'failed', `the API server rejected the switch: ${describeRejections(switched.rejections)}`);
    return;
  }

  await run.checks.run('after-switch.endpoints-v2', () => endpointsAre(run, ex, ex.switched.map((s) => s.after.name), 'v2'));
  await run.checks.run('after-switch.traffic-v2', () => trafficFrom(run, ex, 'v2'));
  await run.checks.run('after-switch.deployments-unchanged', () => deploymentsUnchanged(run, ex, snapshot));
  await run.checks.run('after-switch.cluster-ip-kept', () => clusterIpKept(run, snapshot));
}

/** The namespace's LimitRange gives containers without a CPU request this much. */
export const DEFAULT_CPU_MILLI = cpuMilli(CONTAINER_DEFAULTS.defaultRequest.cpu) ?? 125;

function footprint(ex: Exercise): { count: number; cpuMilli: number } {
  const f = podFootprint(ex.whoami, DEFAULT_CPU_MILLI);
  return { count: f.pods, cpuMilli: f.cpuMilli };
}

function locationOf(run: Run, kind: string, name: string, field?: string): { location?: NonNullable<ReturnType<Run['locate']>> } {
  const location = run.locate(kind, name, field) ?? run.locate(kind, name);
  return location ? { location } : {};
}

function describeRejections(rejections: ApplyResult['rejections']): string {
  return rejections.map((r) => `${r.kind}/${r.name}${r.location ? ` (${formatLocation(r.location)})` : ''}: ${r.message}`).join('; ');
}

function appliesVerdict(result: ApplyResult): string {
  if (result.rejections.length > 0) {
    const first = result.rejections[0];
    throw new CheckFailed(`the API server rejected ${describeRejections(result.rejections)}`, { ...(first?.location ? { location: first.location } : {}), diagnostics: false });
  }
  return `the API server accepted all ${result.applied} objects`;
}

/** Both Deployments roll out, or one cannot: fails fast with Kubernetes' reason. */
async function waitForVersions(run: Run, ex: Exercise): Promise<VersionState[]> {
  let states: VersionState[] = [];
  let rollouts: RolloutState[] = [];
  try {
    await run.wait(
      async () => {
        const [s, events] = await Promise.all([versionStates(run, ex), run.api('list events', () => run.kube.core.listNamespacedEvent({ namespace: run.namespace }))]);
        states = s;
        rollouts = s.map((x) => (x.deployment ? rolloutState(x.deployment, x.pods, events.items, { hints: { image: `${WHOAMI_IMAGE}:21.04` } }) : { kind: 'progressing' as const, observed: 'not created' }));
        return { done: rollouts.every((r) => r.kind !== 'progressing'), observed: s.map((x, i) => `${x.name}: ${rollouts[i]?.observed ?? ''}`).join('; ') };
      },
      { description: 'both Deployments finish rolling out', timeoutMs: ROLLOUT_TIMEOUT_MS, intervalsMs: [500, 1000, 2000], onProgress: (o) => run.progress(o) },
    );
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    const pods = states.flatMap((s) => s.pods);
    const noRoom = noRoomFor(pods);
    if (noRoom) throw new CheckInconclusive(`${noRoom.count} Pod(s) could not be scheduled: ${noRoom.message}; the cluster has no room for them, so the grader cannot tell whether they would run`);
    const why = await run.api('read the events and logs of the Pods', () => explainFromCluster(run.kube, run.namespace, pods, { includeReadiness: true, hints: { image: `${WHOAMI_IMAGE}:21.04` } }));
    if (why) throw new CheckFailed(why.message, { hint: why.hint });
    throw error;
  }
  const stuck = rollouts.find((r): r is Extract<RolloutState, { kind: 'stuck' }> => r.kind === 'stuck');
  if (stuck) {
    const pods = states.flatMap((s) => s.pods);
    const why = stuck.problem.pod ? await run.api('read the events and logs of the Pods', () => explainFromCluster(run.kube, run.namespace, pods)) : undefined;
    const problem = why?.final ? why : stuck.problem;
    throw new CheckFailed(problem.message, { hint: problem.hint });
  }
  return states;
}

/**
 * The Services' ready endpoints become exactly the ready Pods of `version`. Gives up early when
 * a wrong set holds for ENDPOINTS_SETTLED_MS (then it is the selector, not the timing).
 */
async function endpointsAre(run: Run, ex: Exercise, services: readonly string[], version: 'v1' | 'v2'): Promise<string> {
  const v = ex.versions as NonNullable<Exercise['versions']>;
  const owner = version === 'v1' ? v.v1.name : v.v2.name;
  let lastText = '';
  let lastKey = '';
  let since = Date.now();
  let wrong = '';
  await run.wait(
    async () => {
      const states = await versionStates(run, ex);
      const want = readyNames(states.find((s) => s.label === version));
      const seen = await Promise.all(services.map(async (name) => ({ name, ready: readyPods(await run.api(`read the endpoints of Service ${name}`, () => serviceEndpoints(run.kube, run.namespace, name))) })));
      const ok = seen.every((s) => sameList(s.ready, want));
      lastText = seen.map((s) => `${s.name}: ${s.ready.length ? s.ready.map((p) => podVersion(states, p)).join(', ') : 'no ready endpoints'}`).join('; ');
      const key = JSON.stringify([seen, want]);
      if (key !== lastKey) {
        lastKey = key;
        since = Date.now();
      }
      if (!ok && Date.now() - since >= ENDPOINTS_SETTLED_MS) wrong = `${lastText}; the ${version} Pods are ${want.join(', ') || 'none ready'}`;
      return { done: ok || wrong !== '', observed: lastText };
    },
    { description: `the ready endpoints of ${services.join(', ')} are exactly the ${version} Pods of ${owner}`, timeoutMs: ENDPOINTS_TIMEOUT_MS, intervalsMs: [500, 1000] },
  );
  if (wrong) throw new CheckFailed(`the ready endpoints are not exactly the ${version} Pods: ${wrong}`, locationOf(run, 'Service', services[0] ?? '', 'spec.selector'));
  return `${lastText}: exactly ${owner}'s Pods`;
}

/** TRAFFIC_REQUESTS requests through each Service: every answer must come from a Pod of `version`. */
async function trafficFrom(run: Run, ex: Exercise, version: 'v1' | 'v2'): Promise<string> {
  const services = version === 'v1' ? ex.services : ex.switched.map((s) => s.after);
  const states = await versionStates(run, ex);
  const mine = new Set((states.find((s) => s.label === version)?.pods ?? []).map(podName));
  const others = new Set(states.filter((s) => s.label !== version).flatMap((s) => s.pods.map(podName)));
  const lines: string[] = [];
  for (const svc of services) {
    const port = servicePort(svc);
    const answers: Answer[] = [];
    for (let i = 0; i < TRAFFIC_REQUESTS && !run.signal.aborted; i++) {
      try {
        const r = await proxyRequest(run.kube, { namespace: run.namespace, kind: 'services', name: svc.name, port }, '/', { timeoutMs: REQUEST_TIMEOUT_MS, signal: run.signal });
        answers.push({ status: r.status, fromApiServer: r.fromApiServer, pod: r.status === 200 && !r.fromApiServer ? hostnameOf(r.body) : undefined });
      } catch (error) {
        answers.push({ status: 0, fromApiServer: false, error: error instanceof Error ? error.message : String(error) });
      }
    }
    const verdict = compareAnswers(answers, mine, others, version);
    if (!verdict.ok) throw new CheckFailed(`Service ${svc.name} (port ${port}): ${verdict.message}`, locationOf(run, 'Service', svc.name, 'spec.selector'));
    lines.push(`Service ${svc.name}: ${verdict.message}`);
  }
  return lines.join('; ');
}

function servicePort(svc: Obj): number | string {
  const ports = (svc.body.spec as { ports?: Array<{ name?: string; port?: number }> } | undefined)?.ports ?? [];
  const p = ports[0];
  return p?.name ?? p?.port ?? 80;
}

async function takeSnapshot(run: Run, ex: Exercise): Promise<Snapshot> {
  const states = await versionStates(run, ex);
  const deployments = new Map(states.map((s) => [s.name, { uid: s.deployment?.metadata?.uid ?? '', generation: s.deployment?.metadata?.generation ?? 0, pods: s.pods.map((p) => p.metadata?.uid ?? '').sort() }]));
  const services = new Map<string, { uid: string; clusterIP: string }>();
  for (const { before } of ex.switched) {
    const svc = await run.api(`read Service ${before.name}`, () => run.kube.core.readNamespacedService({ name: before.name, namespace: run.namespace }));
    services.set(before.name, { uid: svc.metadata?.uid ?? '', clusterIP: svc.spec?.clusterIP ?? '' });
  }
  return { deployments, services };
}

async function deploymentsUnchanged(run: Run, ex: Exercise, snap: Snapshot): Promise<string> {
  const states = await versionStates(run, ex);
  const problems: string[] = [];
  for (const s of states) {
    const was = snap.deployments.get(s.name);
    if (!was) continue;
    const uid = s.deployment?.metadata?.uid ?? '';
    const generation = s.deployment?.metadata?.generation ?? 0;
    if (uid !== was.uid) problems.push(`Deployment ${s.name} was deleted and created again`);
    else if (generation !== was.generation) problems.push(`Deployment ${s.name} changed: generation ${was.generation} → ${generation} (the switch changed its spec)`);
    const now = s.pods.map((p) => p.metadata?.uid ?? '').sort();
    const gone = was.pods.filter((u) => !now.includes(u)).length;
    const added = now.filter((u) => !was.pods.includes(u)).length;
    if (gone || added) problems.push(`${s.name}'s Pods were replaced (${gone} gone, ${added} new)`);
  }
  if (problems.length > 0) {
    const changed = run.switchManifests.filter((m) => m.kind === 'Deployment').map((m) => m.metadata?.name ?? '?');
    throw new CheckFailed(
      `${problems.join('; ')}${changed.length ? `; the switch defines Deployment ${changed.join(', ')} again` : ''}`,
      changed[0] ? locationOf(run, 'Deployment', changed[0]) : {},
    );
  }
  return states.map((s) => `${s.name}: generation ${snap.deployments.get(s.name)?.generation ?? '?'}, same ${s.pods.length} Pod${s.pods.length === 1 ? '' : 's'}`).join('; ');
}

async function clusterIpKept(run: Run, snap: Snapshot): Promise<string> {
  const out: string[] = [];
  for (const [name, was] of snap.services) {
    const svc = await run.api(`read Service ${name}`, () => run.kube.core.readNamespacedService({ name, namespace: run.namespace }));
    const ip = svc.spec?.clusterIP ?? '';
    if (svc.metadata?.uid !== was.uid) throw new CheckFailed(`Service ${name} was deleted and created again: its cluster IP went from ${was.clusterIP} to ${ip}`, locationOf(run, 'Service', name));
    if (ip !== was.clusterIP) throw new CheckFailed(`Service ${name}'s cluster IP changed from ${was.clusterIP} to ${ip}`, locationOf(run, 'Service', name));
    out.push(`${name}: ${ip}`);
  }
  return `same cluster IP after the switch (${out.join(', ')})`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
