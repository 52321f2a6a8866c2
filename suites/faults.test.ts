// The environment failing underneath a grade. Runs against a kind cluster of its own,
// `lab-grader-faults`, which it creates and deletes: stopping or pausing that node never disturbs
// the `lab-grader` cluster the other suites share. Each case asserts the exit code, complete
// reports, the message naming the cause and that nothing was left behind.
// Last, dockerd restarts between two grades: that stops every cluster on the machine, so the
// case brings the shared `lab-grader` cluster back up too before the next suite runs.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { execa, type ResultPromise } from 'execa';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDown, clusterUp } from '../src/cluster/lifecycle.js';
import { kindContext } from '../src/cluster/settings.js';
import { loadKube, type Kube } from '../src/kube/client.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../src/kube/namespace.js';
import { productionizing } from '../src/labs/productionizing/catalogue.js';
import type { RunResult } from '../src/model.js';
import { createProgress } from '../src/util/progress.js';
import { waitFor } from '../src/wait/wait-for.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLUSTER = 'lab-grader-faults';
const CONTEXT = kindContext(CLUSTER);
const NODE = `${CLUSTER}-control-plane`;
const SUBMISSIONS = join(ROOT, 'fixtures/submissions');
const HOSTILE = join(ROOT, 'fixtures/hostile');
const work = mkdtempSync(join(tmpdir(), 'faults-'));
let kube: Kube;
const timings: string[] = [];

/** A copy of a fixture under a name of our own, so its grading namespace is recognisable. */
function submission(from: string, name: string): string {
  const dir = join(work, name);
  cpSync(from, dir, { recursive: true });
  return dir;
}

interface Run {
  name: string;
  proc: ResultPromise;
  out: string;
  started: number;
}

interface Finished {
  code: number;
  all: string;
  result: RunResult;
  durationMs: number;
}

/** Grades still running when the suite ends (a failed assertion) are stopped in afterAll. */
const running = new Set<ResultPromise>();

function grade(dir: string, args: string[] = []): Run {
  const out = join(work, `out-${dir.split('/').pop()}-${Date.now()}`);
  const proc = execa('node', [join(ROOT, 'bin/lab-grader.js'), 'grade', dir, '--lab', 'productionizing', '--out', out, '--context', CONTEXT, ...args], {
    cwd: ROOT,
    reject: false,
    all: true,
    env: { CI: 'true', GITHUB_ACTIONS: '' },
    timeout: 20 * 60_000,
  });
  running.add(proc);
  void proc.finally(() => running.delete(proc));
  return { name: dir.split('/').pop() ?? dir, proc, out, started: Date.now() };
}

/** Waits for the process and checks that its reports are complete and well-formed. */
async function finish(run: Run): Promise<Finished> {
  const r = await run.proc;
  const durationMs = Date.now() - run.started;
  timings.push(`${run.name}: exit ${r.exitCode} in ${Math.round(durationMs / 1000)}s`);
  const result = expectCompleteReports(run.out);
  return { code: r.exitCode ?? -1, all: String(r.all ?? ''), result, durationMs };
}

function expectCompleteReports(out: string): RunResult {
  for (const f of ['junit.xml', 'result.json', 'summary.md']) expect(existsSync(join(out, f)), `${out}/${f}`).toBe(true);
  expect(readdirSync(out).filter((f) => f.endsWith('.tmp')), 'no temporary files left').toEqual([]);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult;
  const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
  expect(XMLValidator.validate(junit)).toBe(true);
  const cases = JSON.stringify(new XMLParser({ ignoreAttributes: false }).parse(junit)).match(/"@_classname"/g) ?? [];
  expect(cases.length, 'one testcase per check').toBe(result.checks.length);
  // Every check of the lab is there with a verdict (what did not run is error or skipped).
  expect(result.checks.map((c) => c.id).sort()).toEqual(productionizing.checks.map((c) => c.id).sort());
  return result;
}

async function gradingNamespaces(prefix: string): Promise<string[]> {
  const list = await kube.core.listNamespace({ labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` });
  return list.items
    .filter((n) => !n.metadata?.deletionTimestamp)
    .map((n) => n.metadata?.name ?? '')
    .filter((n) => n.startsWith(`lab-grader-${prefix}-`));
}

async function namespaceOf(prefix: string, timeoutMs = 180_000): Promise<string> {
  const found = await waitFor(
    async () => {
      const names = await gradingNamespaces(prefix);
      return { done: names.length === 1, observed: `namespaces ${names.join(', ') || 'none'}`, value: names[0] };
    },
    { description: `the grade of ${prefix} creates its namespace`, timeoutMs },
  );
  return found.value as string;
}

async function namespaceExists(name: string): Promise<boolean> {
  try {
    const ns = await kube.core.readNamespace({ name });
    return !ns.metadata?.deletionTimestamp;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const build = await execa('npm', ['run', '--silent', 'build'], { cwd: ROOT, reject: false, all: true });
  if (build.exitCode !== 0) throw new Error(`npm run build failed: ${String(build.all ?? '').slice(-2000)}`);
  const started = Date.now();
  await clusterUp({ name: CLUSTER, profile: 'grading', offline: 'auto', progress: createProgress('faults cluster: ') });
  timings.push(`cluster up: ${Math.round((Date.now() - started) / 1000)}s`);
  kube = loadKube(CONTEXT);
}, 20 * 60_000);

afterAll(async () => {
  const started = Date.now();
  // Unpause first in case a test failed while the node was paused.
  await execa('docker', ['unpause', NODE], { reject: false });
  for (const proc of running) proc.kill('SIGTERM');
  await Promise.allSettled([...running]);
  if (process.env.LAB_GRADER_KEEP_FAULTS_CLUSTER !== '1') {
    await clusterDown({ name: CLUSTER, force: false, progress: createProgress('faults cluster: ') });
  }
  rmSync(work, { recursive: true, force: true });
  timings.push(`cluster down: ${Math.round((Date.now() - started) / 1000)}s`);
  process.stderr.write(`faults suite timings: ${timings.join('; ')}\n`);
}, 10 * 60_000);

describe('faults of the environment during a grade', () => {
  it('reports dir on a nearly full disk: exit 3, one clear line, every report whole or absent', async () => {
    const mount = join(work, 'full');
    mkdirSync(mount);
    // Room for one report and not the others.
    const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', mount], { reject: false, all: true });
    expect(mounted.exitCode, `mount a 12 KiB tmpfs: ${mounted.all}`).toBe(0);
    try {
      const out = join(mount, 'out');
      const r = await execa('node', [join(ROOT, 'bin/lab-grader.js'), 'grade', join(SUBMISSIONS, 'reference'), '--static-only', '--out', out], {
        cwd: ROOT,
        reject: false,
        all: true,
        env: { CI: 'true', GITHUB_ACTIONS: '' },
      });
      expect(r.exitCode, r.all).toBe(3);
      expect(r.all).toMatch(/could not write the reports to .*ENOSPC.*\n.*disk holding it is full/);
      expect(r.all).not.toMatch(/internal error|\n\s+at /);
      const present = readdirSync(out);
      expect(present.filter((f) => f.endsWith('.tmp')), 'no temporary files left').toEqual([]);
      expect(present.length, 'the disk really filled up before every report was written').toBeLessThan(4);
      for (const f of present) {
        const text = readFileSync(join(out, f), 'utf8');
        if (f.endsWith('.json')) expect(() => JSON.parse(text), `${f} is whole`).not.toThrow();
        if (f.endsWith('.xml')) expect(XMLValidator.validate(text), `${f} is whole`).toBe(true);
        if (f.endsWith('.md')) expect(text).toMatch(/productionizing/);
      }
    } finally {
      await execa('umount', [mount], { reject: false });
    }
  });

  it('a grade killed with SIGKILL: the next grade deletes its namespace; a concurrent live grade is untouched', async () => {
    const live = grade(submission(join(SUBMISSIONS, 'reference'), 'faults-live'));
    const killed = grade(submission(join(SUBMISSIONS, 'reference'), 'faults-killed'));
    const liveNs = await namespaceOf('faults-live');
    const killedNs = await namespaceOf('faults-killed');
    killed.proc.kill('SIGKILL');
    await killed.proc;
    expect(await namespaceExists(killedNs), 'a SIGKILLed grade cannot clean up').toBe(true);

    // The next grade on this host: a submission without the app (quick, but live).
    const next = await finish(grade(submission(join(HOSTILE, 'kube-system-only'), 'faults-next')));
    expect(next.code, next.all).toBe(1);
    expect(next.all).toContain(`deleting namespaces of grading runs that died on this host: ${killedNs}`);
    expect(next.all).not.toContain(liveNs);
    await waitFor(async () => ({ done: !(await namespaceExists(killedNs)), observed: `${killedNs} still there` }), {
      description: `namespace ${killedNs} of the killed grade is deleted`,
      timeoutMs: 120_000,
    });

    const done = await finish(live);
    expect(done.code, `${done.all.split('\n').slice(-15).join('\n')}`).toBe(0);
    expect(done.result.namespace).toBe(liveNs);
    expect(await gradingNamespaces('faults-')).toEqual([]);
  });

  it('the API server stops answering for 20 s mid-grade (node paused): bounded, and completes or ends with exit 3', async () => {
    const run = grade(submission(join(SUBMISSIONS, 'reference'), 'faults-paused'), ['--budget', '6m']);
    await namespaceOf('faults-paused');
    await sleep(20_000);
    // The cgroup freezer can give up on a node that forks busily ("unable to freeze"): try again.
    let paused = await execa('docker', ['pause', NODE], { reject: false, all: true });
    for (let attempt = 2; paused.exitCode !== 0 && /unable to freeze/.test(String(paused.all)) && attempt <= 6; attempt++) {
      await sleep(1_000);
      paused = await execa('docker', ['pause', NODE], { reject: false, all: true });
    }
    expect(paused.exitCode, paused.all).toBe(0);
    await sleep(20_000);
    await execa('docker', ['unpause', NODE]);
    const g = await finish(run);
    expect([0, 3], g.all.split('\n').slice(-15).join('\n')).toContain(g.code);
    // Bounded: the budget plus its cleanup reserve, never a hang.
    expect(g.durationMs).toBeLessThan(8 * 60_000);
    if (g.code === 0) {
      expect(g.result.checks.every((c) => c.status === 'passed' || c.status === 'skipped')).toBe(true);
    } else {
      expect(g.result.checks.some((c) => c.status === 'error')).toBe(true);
      expect(JSON.stringify(g.result.checks)).toMatch(/budget|time|not reachable|timed out|ECONNREFUSED|socket/i);
    }
    await waitFor(async () => ({ done: (await gradingNamespaces('faults-paused')).length === 0, observed: 'namespace still there' }), {
      description: 'the paused grade deletes its namespace',
      timeoutMs: 120_000,
    });
  });

  it('the node container is stopped mid-grade: exit 3 with reports; the next `cluster up` recreates it and says so', async () => {
    const run = grade(submission(join(SUBMISSIONS, 'reference'), 'faults-stopped'));
    await namespaceOf('faults-stopped');
    await sleep(10_000);
    const stopped = await execa('docker', ['stop', '-t', '2', NODE], { reject: false, all: true });
    expect(stopped.exitCode, stopped.all).toBe(0);
    const g = await finish(run);
    expect(g.code, g.all.split('\n').slice(-15).join('\n')).toBe(3);
    expect(g.durationMs).toBeLessThan(10 * 60_000);
    expect(g.result.checks.some((c) => c.status === 'error')).toBe(true);
    // The cause is named: the cluster could not be reached.
    expect(`${g.all}\n${JSON.stringify(g.result.checks)}`).toMatch(/not reachable|ECONNREFUSED|connect|socket hang up|API server/i);

    const up = await execa('node', [join(ROOT, 'bin/lab-grader.js'), 'cluster', 'up', '--name', CLUSTER], {
      cwd: ROOT,
      reject: false,
      all: true,
      env: { CI: 'true' },
      timeout: 15 * 60_000,
    });
    expect(up.exitCode, up.all).toBe(0);
    expect(up.all).toMatch(new RegExp(`cluster "${CLUSTER}" is broken \\(.*\\); (recreating it|restarted)`));
    const nodes = await loadKube(CONTEXT).core.listNode();
    expect(nodes.items.map((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status)).toEqual(['True']);
  });

  it('dockerd restarts between two grades: the next grade brings the cluster back and grades as before', async () => {
    // Only containers of lab-grader's own clusters and registry may run: a restart stops them all.
    const ps = await execa('docker', ['ps', '--format', '{{.Names}}|{{.Label "io.x-k8s.kind.cluster"}}|{{.Label "io.kube-lab-grader.owner"}}']);
    const foreign = ps.stdout.split('\n').filter(Boolean).filter((l) => {
      const [, cluster, owner] = l.split('|');
      return !(cluster ?? '').startsWith('lab-grader') && owner !== 'lab-grader';
    });
    expect(foreign, 'containers kube-lab-grader did not create would be stopped by the restart').toEqual([]);
    // The case before recreated this cluster: its API server may listen on another port now.
    kube = loadKube(CONTEXT);

    const started = Date.now();
    await execa('pkill', ['-x', 'dockerd'], { reject: false });
    await waitFor(async () => ({ done: (await execa('pgrep', ['-x', 'dockerd'], { reject: false })).exitCode !== 0, observed: 'dockerd still running' }), {
      description: 'dockerd stops',
      timeoutMs: 30_000,
    });
    const start = await execa('bash', [join(ROOT, 'scripts/host/ensure-docker.sh'), '--start'], { reject: false, all: true, timeout: 120_000 });
    expect(start.exitCode, start.all).toBe(0);

    // No waiting for the node: the grade finds its API server booting and brings the cluster back.
    const g = await finish(grade(submission(join(SUBMISSIONS, 'reference'), 'faults-after-restart')));
    timings.push(`grade after a dockerd restart: ${Math.round((Date.now() - started) / 1000)}s from the restart`);
    expect(g.code, g.all.split('\n').slice(-20).join('\n')).toBe(0);
    expect(g.result.score).toBe(g.result.maxScore);
    expect(g.all).not.toMatch(/internal error/);
    expect(await gradingNamespaces('faults-')).toEqual([]);

    // The shared cluster the other suites use comes back with `cluster up` (reused, not recreated).
    const up = await execa('node', [join(ROOT, 'bin/lab-grader.js'), 'cluster', 'up'], { cwd: ROOT, reject: false, all: true, env: { CI: 'true' }, timeout: 15 * 60_000 });
    expect(up.exitCode, up.all).toBe(0);
    expect(up.all).toMatch(/reusing cluster "lab-grader"/);
  });
});
