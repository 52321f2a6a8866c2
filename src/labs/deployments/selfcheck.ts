// The selfcheck's steps (catalogue in walkthrough.ts): the lab text's walkthrough with the lab's
// published specs (specs/deployments). Create the whoami Deployment, scale it imperatively then
// declaratively, exec a second copy, put the two Services in front, update to v2 ("a smaller
// output", load-balanced), roll back ("back to the full output"). Each step asserts what the lab
// text says the learner will see.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { LiveRun } from '../../engine/lab.js';
import type { Manifest } from '../../kube/apply.js';
import { readyPods, serviceEndpoints } from '../../kube/endpoints.js';
import { execInPod } from '../../kube/exec.js';
import { proxyRequest } from '../../kube/http.js';
import { isPodReady, listPods } from '../../kube/pods.js';
import { scaleDeployment } from '../../kube/scale.js';
import { parseManifests } from '../../submission/load.js';
import { applyPolicy } from '../../submission/policy.js';
import { CheckFailed, CheckInconclusive } from '../../engine/outcomes.js';
import { noRoomFor } from '../../kube/rollout.js';
import { WaitTimeoutError } from '../../wait/wait-for.js';
import { DEFAULT_CPU_MILLI } from './live.js';
import { hostnameOf } from './traffic.js';
import type { StepId } from './walkthrough.js';

type Run = LiveRun<StepId>;

const DEPLOYMENT = 'whoami';
const LB = { name: 'whoami-lb', port: 8080 };
const NP = 'whoami-np';
/** Requests sent to see two Pods answer (the API server's proxy picks an endpoint at random). */
const SPREAD_REQUESTS = 20;
const ROLLOUT_MS = 120_000;

/** The lab's spec files, as the learner applies them, moved into the run's namespace by the policy. */
async function specs(run: Run, specsDir: string, ...files: string[]): Promise<Manifest[]> {
  const objects = [];
  for (const file of files) {
    const parsed = parseManifests(file, await readFile(path.join(specsDir, file), 'utf8'));
    objects.push(...parsed.objects);
  }
  return applyPolicy(objects, { namespace: run.namespace }).objects.map((o) => o.body as Manifest);
}

/** Pods the walkthrough runs at once at most: 3 after `kubectl scale`, 2 + 1 surging in an update. */
const MOST_PODS = 3;

async function apply(run: Run, objects: readonly Manifest[], room = false): Promise<void> {
  // The first apply waits until the node has room for the most Pods the walkthrough will run.
  const r = await run.apply(objects, room ? { pods: { count: MOST_PODS, cpuMilli: DEFAULT_CPU_MILLI } } : {});
  if (r.rejections.length > 0) throw new CheckFailed(`the API server rejected ${r.rejections.map((x) => `${x.kind}/${x.name}: ${x.message}`).join('; ')}`);
}

async function pods(run: Run): Promise<k8s.V1Pod[]> {
  return (await run.api('list the whoami Pods', () => listPods(run.kube, run.namespace, 'app=whoami'))).filter((p) => !p.metadata?.deletionTimestamp);
}

/** Waits until exactly `count` Pods with app=whoami exist and all are ready (and `extra` holds). */
async function settle(run: Run, count: number, what: string, extra: (ps: k8s.V1Pod[]) => boolean = () => true): Promise<k8s.V1Pod[]> {
  try {
    return await settleOnce(run, count, what, extra);
  } catch (error) {
    // Pods the node has no room for (other gradings hold it): the cluster cannot tell, not a failure.
    const noRoom = error instanceof WaitTimeoutError ? noRoomFor(await pods(run)) : undefined;
    if (noRoom) throw new CheckInconclusive(`${noRoom.count} Pod(s) could not be scheduled: ${noRoom.message}`);
    throw error;
  }
}

async function settleOnce(run: Run, count: number, what: string, extra: (ps: k8s.V1Pod[]) => boolean): Promise<k8s.V1Pod[]> {
  const seen = await run.wait(
    async () => {
      const ps = await pods(run);
      const ready = ps.filter(isPodReady);
      return { done: ps.length === count && ready.length === count && extra(ps), observed: `${ready.length}/${ps.length} Pods ready: ${ps.map((p) => `${p.metadata?.name} (${p.metadata?.labels?.version ?? '-'})`).join(', ')}`, value: ps };
    },
    { description: what, timeoutMs: ROLLOUT_MS, intervalsMs: [500, 1000, 2000] },
  );
  return seen.value ?? [];
}

/** Requests through whoami-lb until two different Pods answered (or SPREAD_REQUESTS were sent). */
async function sample(run: Run): Promise<{ bodies: string[]; pods: Set<string> }> {
  const bodies: string[] = [];
  const answered = new Set<string>();
  for (let i = 0; i < SPREAD_REQUESTS && answered.size < 2 && !run.signal.aborted; i++) {
    const r = await run.api(`GET / through Service ${LB.name}`, () => proxyRequest(run.kube, { namespace: run.namespace, kind: 'services', name: LB.name, port: LB.port }, '/', { timeoutMs: 5_000, signal: run.signal }));
    if (r.status !== 200 || r.fromApiServer) throw new CheckFailed(`GET / through ${LB.name} answered ${r.status}: ${r.body.slice(0, 200)}`);
    bodies.push(r.body);
    const host = hostnameOf(r.body);
    if (host) answered.add(host);
  }
  return { bodies, pods: answered };
}

const names = (ps: readonly k8s.V1Pod[]): string => ps.map((p) => p.metadata?.name ?? '?').sort().join(', ');

export async function walk(run: Run, specsDir: string): Promise<void> {
  let firstPods: k8s.V1Pod[] = [];
  await run.checks.run('walkthrough.deployment-creates-pod', async () => {
    await apply(run, await specs(run, specsDir, 'deployments/whoami-v1.yaml'), true);
    firstPods = await settle(run, 1, 'the whoami Deployment has 1 ready Pod');
    const name = firstPods[0]?.metadata?.name ?? '';
    if (!/^whoami-[a-z0-9]+-[a-z0-9]{5}$/.test(name)) throw new CheckFailed(`the Pod is named ${name}, not [deployment]-[template-hash]-[random]`);
    return `Pod ${name} ready, labelled app=whoami`;
  });

  await run.checks.run('walkthrough.scale-declaratively', async () => {
    await run.api('scale Deployment whoami to 3', () => scaleDeployment(run.kube, run.namespace, DEPLOYMENT, 3));
    const three = await settle(run, 3, 'kubectl scale: 3 ready Pods');
    await apply(run, await specs(run, specsDir, 'deployments/whoami-v1-scale.yaml'));
    const two = await settle(run, 2, 'whoami-v1-scale.yaml: back to 2 ready Pods');
    const kept = two.filter((p) => three.some((t) => t.metadata?.uid === p.metadata?.uid));
    if (kept.length !== 2) throw new CheckFailed(`the Deployment replaced Pods instead of removing one: ${names(three)} → ${names(two)}`);
    return `3 Pods (${names(three)}) → 2 (${names(two)}): one removed, none replaced`;
  });

  await run.checks.run('walkthrough.exec-second-copy-fails', async () => {
    const pod = (await pods(run)).find(isPodReady)?.metadata?.name;
    if (!pod) throw new CheckFailed('no ready whoami Pod to exec into');
    const r = await run.api(`exec /app/whoami in ${pod}`, () => execInPod(run.kube, { namespace: run.namespace, pod, command: ['/app/whoami'], timeoutMs: 15_000, signal: run.signal }));
    const out = `${r.stdout}${r.stderr}`.trim();
    if (r.exitCode === undefined || r.exitCode === 0 || !/address already in use/.test(out)) {
      throw new CheckFailed(`expected /app/whoami to exit non-zero with "address already in use"; exit ${r.exitCode ?? `not started (${r.statusMessage})`}: ${out.slice(0, 300)}`);
    }
    return `exit ${r.exitCode}: ${out.split('\n').slice(-1)[0] ?? ''}`;
  });

  let v1Pods: k8s.V1Pod[] = [];
  await run.checks.run('walkthrough.services-reach-pods', async () => {
    await apply(run, await specs(run, specsDir, 'services/whoami-loadbalancer.yaml', 'services/whoami-nodeport.yaml'));
    v1Pods = await pods(run);
    const want = v1Pods.map((p) => p.metadata?.name ?? '').sort();
    for (const svc of [LB.name, NP]) {
      await run.wait(
        async () => {
          const ready = readyPods(await run.api(`read the endpoints of ${svc}`, () => serviceEndpoints(run.kube, run.namespace, svc)));
          return { done: ready.join() === want.join(), observed: `${svc}: ${ready.join(', ') || 'no ready endpoints'}` };
        },
        { description: `the endpoints of ${svc} are the 2 whoami Pods (${want.join(', ')})`, timeoutMs: 30_000, intervalsMs: [500, 1000] },
      );
    }
    const { bodies, pods: answered } = await sample(run);
    const short = bodies.find((b) => !b.includes('RemoteAddr:'));
    if (short !== undefined) throw new CheckFailed(`v1 answered without the request details (RemoteAddr, headers): ${JSON.stringify(short)}`);
    return `${LB.name} and ${NP} list ${want.join(', ')}; ${bodies.length} requests answered with the full output by ${[...answered].join(', ')}`;
  });

  await run.checks.run('walkthrough.update-smaller-output', async () => {
    const before = bodyLength(await sample(run));
    await apply(run, await specs(run, specsDir, 'deployments/whoami-v2.yaml'));
    const old = new Set(v1Pods.map((p) => p.metadata?.uid));
    const v2 = await settle(run, 2, 'whoami-v2.yaml: 2 new ready Pods labelled version=v2', (ps) => ps.every((p) => !old.has(p.metadata?.uid) && p.metadata?.labels?.version === 'v2'));
    const after = await sample(run);
    const full = after.bodies.find((b) => b.includes('RemoteAddr:'));
    if (full !== undefined) throw new CheckFailed(`v2 (WHOAMI_MODE=q) still answers with the request details: ${JSON.stringify(full)}`);
    if (after.pods.size < 2) throw new CheckFailed(`${after.bodies.length} requests were all answered by ${[...after.pods].join(', ')}; the lab text says they are load-balanced over both Pods`);
    return `new Pods ${names(v2)} replaced ${names(v1Pods)}; answers shrank from about ${before} to ${bodyLength(after)} bytes (no RemoteAddr or headers), from both Pods`;
  });

  await run.checks.run('walkthrough.rollback-full-output', async () => {
    const revision = await rollBack(run);
    const back = await settle(run, 2, 'rollout undo: 2 ready Pods labelled version=v1', (ps) => ps.every((p) => p.metadata?.labels?.version === 'v1'));
    const { bodies } = await sample(run);
    const short = bodies.find((b) => !b.includes('RemoteAddr:'));
    if (short !== undefined) throw new CheckFailed(`after the rollback an answer is still the short one: ${JSON.stringify(short)}`);
    return `back to revision ${revision}'s template: Pods ${names(back)} answer with the full output`;
  });
}

function bodyLength(s: { bodies: string[] }): number {
  return Math.round(s.bodies.reduce((n, b) => n + b.length, 0) / Math.max(1, s.bodies.length));
}

/**
 * `kubectl rollout undo`: the Deployment's template becomes the one of the ReplicaSet with the
 * revision before the current one (without its pod-template-hash label). Returns that revision.
 */
async function rollBack(run: Run): Promise<string> {
  const sets = await run.api('list ReplicaSets', () => run.kube.apps.listNamespacedReplicaSet({ namespace: run.namespace }));
  const revision = (rs: k8s.V1ReplicaSet): number => Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
  const owned = sets.items.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === DEPLOYMENT)).sort((a, b) => revision(b) - revision(a));
  const previous = owned[1];
  if (!previous?.spec?.template) throw new CheckFailed(`no earlier revision to roll back to (ReplicaSets: ${owned.map((rs) => `${rs.metadata?.name} r${revision(rs)}`).join(', ')})`);
  // The typed model round-trips to JSON unchanged for these specs (no field whose TypeScript name
  // differs from its JSON name, such as a probe's `exec`).
  const template = JSON.parse(JSON.stringify(previous.spec.template)) as k8s.V1PodTemplateSpec;
  delete template.metadata?.labels?.['pod-template-hash'];
  await run.api('roll back Deployment whoami', () =>
    run.kube.apps.patchNamespacedDeployment(
      { name: DEPLOYMENT, namespace: run.namespace, body: [{ op: 'replace', path: '/spec/template', value: template }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    ),
  );
  return String(revision(previous));
}
