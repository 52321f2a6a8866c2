// Hostile or broken submissions never escape the grading namespace, never hang the run and never
// lose the report. Each case runs the real CLI against the live cluster and asserts the exit
// code, the message, the reports on disk and that nothing leaked.
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Kube } from '../src/kube/client.js';
import { waitForNamespaceGone } from '../src/kube/workloads.js';
import type { RunResult } from '../src/model.js';
import { makeNamespaceName } from '../src/submission/policy.js';
import { waitFor } from '../src/wait/wait-for.js';
import { testKube } from './support/cluster.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUBMISSIONS = join(ROOT, 'fixtures/submissions');
const HOSTILE = join(ROOT, 'fixtures/hostile');
const MANAGED_BY = 'app.kubernetes.io/managed-by=kube-lab-grader';

let kube: Kube;
let before: ClusterSnapshot;

interface ClusterSnapshot {
  clusterRoleBindings: string[];
  clusterRoles: string[];
  kubeSystem: string[];
  defaultNs: string[];
}

async function snapshot(): Promise<ClusterSnapshot> {
  const rbac = kube.config.makeApiClient((await import('@kubernetes/client-node')).RbacAuthorizationV1Api);
  const names = (items: Array<{ metadata?: { name?: string } }>) => items.map((i) => i.metadata?.name ?? '').sort();
  const inNs = async (namespace: string) => [
    ...names((await kube.core.listNamespacedConfigMap({ namespace })).items).map((n) => `cm/${n}`),
    ...names((await kube.core.listNamespacedService({ namespace })).items).map((n) => `svc/${n}`),
    ...names((await kube.apps.listNamespacedDeployment({ namespace })).items).map((n) => `deploy/${n}`),
    ...names((await kube.core.listNamespacedSecret({ namespace })).items).map((n) => `secret/${n}`),
  ];
  return {
    clusterRoleBindings: names((await rbac.listClusterRoleBinding()).items),
    clusterRoles: names((await rbac.listClusterRole()).items),
    kubeSystem: await inNs('kube-system'),
    defaultNs: await inNs('default'),
  };
}

interface Graded {
  dir: string;
  /** Grading namespaces of this submission that existed before the run (other runs' business). */
  namespacesBefore: string[];
  code: number;
  stderr: string;
  out: string;
  result: RunResult | undefined;
  durationMs: number;
}

/** The prefix of every grading namespace a run of `dir` may create (`lab-grader-<name>-`). */
function namespacePrefix(dir: string): string {
  return makeNamespaceName(dir, 'x').slice(0, -1);
}

async function namespacesOf(dir: string): Promise<string[]> {
  const list = await kube.core.listNamespace({ labelSelector: MANAGED_BY });
  return list.items.map((n) => n.metadata?.name ?? '').filter((n) => n.startsWith(namespacePrefix(dir)));
}

interface Started {
  dir: string;
  namespacesBefore: Promise<string[]>;
  proc: ResultPromise;
  out: string;
  started: number;
}

function startGrade(dir: string, args: string[] = []): Started {
  const out = mkdtempSync(join(tmpdir(), 'sandbox-out-'));
  const namespacesBefore = namespacesOf(dir);
  const proc = execa('node', [join(ROOT, 'bin/lab-grader.js'), 'grade', dir, '--lab', 'productionizing', '--out', out, '--context', inject('kubeContext'), ...args], {
    cwd: ROOT,
    reject: false,
    all: true,
    env: { CI: 'true' },
    timeout: 15 * 60_000,
  });
  return { dir, namespacesBefore, proc, out, started: Date.now() };
}

async function finish(run: Started): Promise<Graded> {
  const r = await run.proc;
  const resultPath = join(run.out, 'result.json');
  const result = existsSync(resultPath) ? (JSON.parse(readFileSync(resultPath, 'utf8')) as RunResult) : undefined;
  return {
    dir: run.dir,
    namespacesBefore: await run.namespacesBefore,
    code: r.exitCode ?? -1,
    stderr: String(r.all ?? ''),
    out: run.out,
    result,
    durationMs: Date.now() - run.started,
  };
}

const grade = (dir: string, args: string[] = []) => finish(startGrade(dir, args));

/** What did not pass, for assertion messages. */
function notPassed(g: Graded): string {
  const bad = g.result?.checks.filter((c) => c.status !== 'passed' && c.status !== 'skipped') ?? [];
  return bad.map((c) => `${c.id} ${c.status}: ${c.message}`).join(' | ') || g.stderr.split('\n').slice(-5).join(' | ');
}

function expectReportsOnDisk(g: Graded): void {
  for (const f of ['junit.xml', 'result.json', 'summary.md']) expect(existsSync(join(g.out, f)), `${f} written`).toBe(true);
  expect(g.result?.checks.length).toBeGreaterThan(0);
}

/**
 * The run's namespace is gone (a run that ends with exit 2 never creates one: none of this
 * submission's may appear), and nothing changed outside the grading namespaces.
 */
async function expectNothingLeaked(g: Graded): Promise<void> {
  const ns = g.result?.namespace;
  if (g.code !== 2) expect(ns, 'result.json names the grading namespace').toMatch(new RegExp(`^${namespacePrefix(g.dir)}`));
  if (ns) await waitForNamespaceGone(kube, ns, { timeoutMs: 120_000 });
  const left = (await namespacesOf(g.dir)).filter((n) => !g.namespacesBefore.includes(n));
  expect(left, `grading namespaces of ${g.dir} left behind`).toEqual([]);
  expect(await snapshot()).toEqual(before);
}

beforeAll(async () => {
  kube = testKube();
  before = await snapshot();
  // The CLI runs from dist/: grading with a stale build would test old code.
  const build = await execa('npm', ['run', '--silent', 'build'], { cwd: ROOT, reject: false, all: true });
  if (build.exitCode !== 0) throw new Error(`npm run build failed (exit ${build.exitCode}): ${String(build.all ?? '').slice(-2000)}`);
});

describe('submissions that cannot be graded end with exit 2, a message naming the place, and reports', () => {
  it('malformed YAML names the file and line', async () => {
    const g = await grade(join(SUBMISSIONS, 'malformed-yaml'));
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/deployment\.yaml:\d+/);
    expectReportsOnDisk(g);
    expect(g.result?.checks.find((c) => c.id === 'submission.parses')?.status).toBe('failed');
    await expectNothingLeaked(g);
  });

  it('an empty directory says there is nothing to grade', async () => {
    const g = await grade(join(SUBMISSIONS, 'empty'));
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/no (Kubernetes )?manifests|nothing to grade|no \.ya?ml/i);
    expectReportsOnDisk(g);
    await expectNothingLeaked(g);
  });

  it('a binary file is named and rejected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-binary-'));
    writeFileSync(join(dir, 'deployment.yaml'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02, 0xff, 0xfe]));
    const g = await grade(dir);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/deployment\.yaml.*binary|binary.*deployment\.yaml/i);
    expectReportsOnDisk(g);
    await expectNothingLeaked(g);
  });

  it('a 5 MB file is named with its size and rejected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-big-'));
    const big = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: "${'x'.repeat(5 * 1024 * 1024)}"\n`;
    writeFileSync(join(dir, 'big.yaml'), big);
    const g = await grade(dir);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/big\.yaml/);
    expect(g.stderr).toMatch(/MiB|MB|bytes/);
    expectReportsOnDisk(g);
    await expectNothingLeaked(g);
  });

  it('a ClusterRoleBinding is rejected naming the object and its file:line, and never created', async () => {
    const g = await grade(join(SUBMISSIONS, 'cluster-role-binding'));
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/ClusterRoleBinding\/\S+/);
    expect(g.stderr).toMatch(/\.yaml:\d+/);
    expectReportsOnDisk(g);
    await expectNothingLeaked(g);
  });

  it('privileged + hostPath is rejected naming the field', async () => {
    const g = await grade(join(SUBMISSIONS, 'privileged-hostpath'));
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/privileged|hostPath/);
    expectReportsOnDisk(g);
    await expectNothingLeaked(g);
  });
});

describe('broken or greedy submissions are graded without harm and without hanging', () => {
  it('objects aimed at kube-system land in the grading namespace, and the report says so', async () => {
    const g = await grade(join(HOSTILE, 'kube-system-only'));
    // Exit 1, not 2: the policy moves the objects (it rejects nothing), so the submission is
    // graded, and with no Deployment running the app its live checks fail: the learner's work is
    // wrong, which design.md's exit codes call 1. Exit 2 is for what cannot be graded at all.
    expect(g.code, notPassed(g)).toBe(1);
    expect(g.result?.checks.find((c) => c.id === 'submission.applies')?.status).toBe('passed');
    expectReportsOnDisk(g);
    expect(JSON.stringify(g.result?.notes ?? [])).toMatch(/kube-system/);
    await expectNothingLeaked(g);
  });

  it('an image that does not exist fails fast, quoting the kubelet', async () => {
    const g = await grade(join(HOSTILE, 'missing-image'));
    expect(g.code).toBe(1);
    expect(JSON.stringify(g.result?.checks)).toMatch(/ImagePullBackOff|ErrImagePull/);
    expect(g.durationMs).toBeLessThan(4 * 60_000);
    expectReportsOnDisk(g);
    await expectNothingLeaked(g);
  });

  it('a crash-looping app fails fast, quoting the kubelet', async () => {
    const g = await grade(join(HOSTILE, 'crash-loop'));
    expect(g.code).toBe(1);
    expect(JSON.stringify(g.result?.checks)).toMatch(/CrashLoopBackOff|Error|exit/i);
    expect(g.durationMs).toBeLessThan(4 * 60_000);
    expectReportsOnDisk(g);
    await expectNothingLeaked(g);
  });

  it('10,000 replicas are bounded by the namespace quota and fail the replicas group', async () => {
    const g = await grade(join(HOSTILE, 'ten-thousand-replicas'));
    expect(g.code, notPassed(g)).toBe(1);
    // An HPA minimum of 10,000 keeps "at least 5" true; the maximum of 10 is what it breaks.
    expect(g.result?.checks.find((c) => c.id === 'hpa.max-ten')?.status).toBe('failed');
    expect(g.durationMs).toBeLessThan(8 * 60_000);
    expectReportsOnDisk(g);
    await expectNothingLeaked(g);
  });
});

describe('interrupted and concurrent runs', () => {
  it('SIGINT in the middle of a run undoes its faults, deletes the namespace, keeps the reports and exits 3', async () => {
    const run = startGrade(join(SUBMISSIONS, 'reference'));
    // Interrupt once live grading has really started: the grading namespace exists.
    await waitFor(
      async () => {
        const list = await kube.core.listNamespace({ labelSelector: MANAGED_BY });
        const mine = list.items.filter((n) => n.metadata?.name?.startsWith('lab-grader-reference-'));
        return { done: mine.length > 0, observed: `${mine.length} reference namespaces` };
      },
      { description: 'the reference run creates its grading namespace', timeoutMs: 120_000 },
    );
    await new Promise((r) => setTimeout(r, 15_000));
    run.proc.kill('SIGINT');
    const g = await finish(run);
    expect(g.code).toBe(3);
    expectReportsOnDisk(g);
    expect(g.result?.interrupted).toBe(true);
    expect(g.result?.checks.some((c) => c.status === 'skipped' || c.status === 'error')).toBe(true);
    await expectNothingLeaked(g);
  });

  it('two runs at once on one cluster give the same verdicts as their expected ones', async () => {
    const names = ['no-readiness', 'no-liveness'];
    const results = await Promise.all(names.map((n) => finish(startGrade(join(SUBMISSIONS, n)))));
    for (const [i, name] of names.entries()) {
      const g = results[i]!;
      const expected = JSON.parse(readFileSync(join(SUBMISSIONS, name, 'expected.json'), 'utf8')) as {
        exit: number[];
        groups: Record<string, string>;
      };
      expect(expected.exit, `${name} exit ${g.code}; ${notPassed(g)}`).toContain(g.code);
      for (const [group, verdict] of Object.entries(expected.groups)) {
        if (verdict === 'any') continue;
        const checks = g.result?.checks.filter((c) => c.group === group) ?? [];
        const actual = checks.every((c) => c.status === 'passed') ? 'passed' : 'failed';
        expect(`${name} ${group}: ${actual}`).toBe(`${name} ${group}: ${verdict}`);
      }
      await expectNothingLeaked(g);
    }
  });
});

describe('hostile neighbours: a fork bomb, a memory hog, log spam and a connection flood beside the app', () => {
  const NEIGHBOURS = join(HOSTILE, 'hostile-neighbours');

  /** The kubelet's own configuration, as it serves it: podPidsLimit must bound a fork bomb. */
  async function podPidsLimit(node: string): Promise<number | undefined> {
    const text = await kube.core.connectGetNodeProxyWithPath({ name: node, path: 'configz' });
    const config = (typeof text === 'string' ? JSON.parse(text) : text) as { kubeletconfig?: { podPidsLimit?: number } };
    return config.kubeletconfig?.podPidsLimit;
  }

  /** pids.max and pids.current of a Pod's cgroup, read on the kind node (its container). */
  async function podPids(node: string, uid: string): Promise<{ max: string; current: number } | undefined> {
    const u = uid.replace(/-/g, '_');
    // The Pod's own cgroup (systemd driver: …-pod<uid_>.slice; cgroupfs: …/pod<uid>), v1 or v2.
    const script = `f=$(find /sys/fs/cgroup -maxdepth 7 -name pids.max \\( -path '*pod${u}.slice/pids.max' -o -path '*pod${uid}/pids.max' \\) | head -n 1); [ -n "$f" ] && d=$(dirname "$f") && cat "$d/pids.max" "$d/pids.current"`;
    const r = await execa('docker', ['exec', node, 'sh', '-c', script], { reject: false, timeout: 10_000 });
    const [max, current] = r.stdout.trim().split('\n');
    return r.exitCode === 0 && max && current ? { max, current: Number(current) } : undefined;
  }

  it('the node and the grader stay healthy, limits hold, and both the app and a parallel reference are graded as they deserve', async () => {
    const nodes = await kube.core.listNode();
    const node = nodes.items[0]?.metadata?.name ?? '';
    // Without a PID limit per Pod a fork bomb takes the whole node down: refuse to run it.
    const limit = await podPidsLimit(node);
    expect(limit, `kubelet podPidsLimit on ${node}: recreate the cluster with the grading profile (kind/profiles/grading.yaml)`).toBeGreaterThan(0);

    const reference = startGrade(join(SUBMISSIONS, 'reference'));
    const hostile = startGrade(NEIGHBOURS);
    const earlier = await hostile.namespacesBefore;
    let done = false;
    const both = Promise.all([finish(reference), finish(hostile)]).finally(() => {
      done = true;
    });

    const seen = { oomKilled: false, pidsMax: '', pidsPeak: 0, logSpamRunning: false, floodRunning: 0, apiSlowestMs: 0, nodeNotReady: [] as string[], quotaOver: [] as string[] };
    const deadline = Date.now() + 15 * 60_000;
    while (!done && Date.now() < deadline) {
      const t0 = Date.now();
      await kube.core.listNode().then((list) => {
        for (const n of list.items) {
          const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
          if (ready?.status !== 'True') seen.nodeNotReady.push(`${new Date().toISOString()} ${n.metadata?.name}: ${ready?.reason ?? 'unknown'}`);
        }
      });
      seen.apiSlowestMs = Math.max(seen.apiSlowestMs, Date.now() - t0);
      const ns = (await namespacesOf(NEIGHBOURS)).filter((n) => !earlier.includes(n))[0];
      if (ns) {
        const pods = (await kube.core.listNamespacedPod({ namespace: ns }).catch(() => ({ items: [] }))).items;
        for (const p of pods) {
          const app = p.metadata?.labels?.app;
          const cs = p.status?.containerStatuses?.[0];
          if (app === 'memory-hog' && (cs?.lastState?.terminated?.reason === 'OOMKilled' || cs?.state?.terminated?.reason === 'OOMKilled')) seen.oomKilled = true;
          if (app === 'log-spam' && cs?.state?.running) seen.logSpamRunning = true;
          if (app === 'connection-flood' && cs?.state?.running) seen.floodRunning = Math.max(seen.floodRunning, pods.filter((q) => q.metadata?.labels?.app === 'connection-flood' && q.status?.containerStatuses?.[0]?.state?.running).length);
          if (app === 'fork-bomb' && p.metadata?.uid && cs?.state?.running) {
            const pids = await podPids(p.spec?.nodeName ?? node, p.metadata.uid);
            if (pids) {
              seen.pidsMax = pids.max;
              seen.pidsPeak = Math.max(seen.pidsPeak, pids.current);
            }
          }
        }
        const quotas = (await kube.core.listNamespacedResourceQuota({ namespace: ns }).catch(() => ({ items: [] }))).items;
        for (const q of quotas) {
          if (Number(q.status?.used?.pods ?? 0) > Number(q.status?.hard?.pods ?? Infinity)) seen.quotaOver.push(`pods ${q.status?.used?.pods}/${q.status?.hard?.pods}`);
        }
      }
      await new Promise((r) => setTimeout(r, 3_000));
    }
    const [ref, neighbours] = await both;
    const summary = JSON.stringify(seen);
    process.stderr.write(`hostile neighbours: ${summary}; reference exit ${ref.code} in ${Math.round(ref.durationMs / 1000)}s, neighbours exit ${neighbours.code} in ${Math.round(neighbours.durationMs / 1000)}s\n`);

    // The parallel reference and the learner's app (the reference too) deserve full marks. On a
    // small node the neighbours' CPU may starve the grader's HPA load: then the grader must say it
    // could not decide (exit 3, errors naming the starved load), never fail the learner.
    for (const [what, g] of [['reference beside hostile neighbours', ref], ['hostile neighbours', neighbours]] as const) {
      const notOk = g.result?.checks.filter((c) => c.status !== 'passed') ?? [];
      expect(notOk.filter((c) => c.status === 'failed'), `${what}: ${notPassed(g)}`).toEqual([]);
      if (g.code !== 0) {
        expect(g.code, `${what}: ${notPassed(g)}`).toBe(3);
        expect(notOk.map((c) => c.id).sort(), `${what}: ${notPassed(g)}`).toEqual(['hpa.scales-down', 'hpa.scales-up']);
        expect(notOk.find((c) => c.id === 'hpa.scales-up')?.message).toMatch(/did not give the grader's CPU load its share/);
      }
    }
    expectReportsOnDisk(ref);
    expectReportsOnDisk(neighbours);
    // The node stayed Ready and the API server kept answering.
    expect(seen.nodeNotReady, summary).toEqual([]);
    expect(seen.apiSlowestMs, summary).toBeLessThan(10_000);
    // The limits held: the fork bomb hit its PID limit, the hog was OOM-killed, the quota held.
    expect(seen.pidsMax, summary).toBe(String(limit));
    expect(seen.pidsPeak, summary).toBeLessThanOrEqual(limit ?? 0);
    expect(seen.pidsPeak, `${summary}: the fork bomb really forked`).toBeGreaterThan(100);
    expect(seen.oomKilled, summary).toBe(true);
    expect(seen.logSpamRunning, summary).toBe(true);
    expect(seen.floodRunning, summary).toBeGreaterThan(0);
    expect(seen.quotaOver, summary).toEqual([]);
    await expectNothingLeaked(ref);
    await expectNothingLeaked(neighbours);
  });
});
