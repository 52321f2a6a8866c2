import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterCommandOptions } from './cluster/commands.js';
import type { LiveGradeOptions } from './engine/run.js';
import { productionizing } from './labs/productionizing/catalogue.js';
import { resultJsonProblems } from '../suites/support/result-schema.js';
import { EnvironmentError, type CheckResult, type RunResult } from './model.js';
import { LABS } from './labs/index.js';

const fakes = vi.hoisted(() => ({
  live: undefined as undefined | ((opts: LiveGradeOptions) => Promise<CheckResult[]>),
  cluster: undefined as undefined | ((action: string, opts: ClusterCommandOptions) => Promise<number>),
  selfcheck: undefined as undefined | (() => Promise<number>),
  selfcheckOpts: undefined as unknown,
}));
// The walkthrough itself runs in suites/selfcheck.test.ts against the live cluster.
vi.mock('./labs/productionizing/selfcheck/run.js', () => ({
  runSelfcheck: (opts: unknown) => {
    fakes.selfcheckOpts = opts;
    if (!fakes.selfcheck) throw new Error('selfcheck was not expected to run');
    return fakes.selfcheck();
  },
}));
vi.mock('./engine/run.js', () => ({
  gradeLive: (opts: LiveGradeOptions) => {
    if (!fakes.live) throw new Error('gradeLive was not expected to run');
    return fakes.live(opts);
  },
}));
// The CLI's flow is tested here; bringing the cluster up is the cluster suites' job.
vi.mock('./cluster/lifecycle.js', () => ({
  clusterUp: async () => ({ context: 'kind-lab-grader-under-test' }),
}));
vi.mock('./cluster/commands.js', () => ({
  clusterCommand: (action: string, opts: ClusterCommandOptions) => fakes.cluster!(action, opts),
}));

const { main, parseDuration } = await import('./cli.js');

const FIXTURES = fileURLToPath(new URL('../fixtures/submissions/', import.meta.url));
const fixture = (name: string): string => path.join(FIXTURES, name);

const dirs: string[] = [];
const BAD_INPUT_OUT = path.join(tmpdir(), `lab-grader-cli-bad-input-${process.pid}`);
beforeEach(() => {
  fakes.live = undefined;
  fakes.cluster = undefined;
});
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function outDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lab-grader-cli-'));
  dirs.push(dir);
  return path.join(dir, 'out');
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], env: NodeJS.ProcessEnv = { CI: 'true' }, isTTY = false): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
    isTTY,
  });
  return { code, stdout, stderr };
}

/** result.json, checked against docs/result.schema.json on every read. */
async function result(out: string): Promise<RunResult> {
  const parsed = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
  expect(resultJsonProblems(parsed), `${out}/result.json against docs/result.schema.json`).toEqual([]);
  return parsed;
}

const byId = (r: RunResult, id: string): CheckResult => r.checks.find((c) => c.id === id)!;

function passedLive(): CheckResult[] {
  return productionizing.checks
    .filter((c) => c.kind === 'live')
    .map((c) => ({ id: c.id, group: c.group, title: c.title, status: 'passed', points: c.maxPoints, maxPoints: c.maxPoints, message: 'ok', durationMs: 10 }));
}

describe('lab-grader grade --static-only', () => {
  it('exits 0 on the reference solution, with the live checks skipped, and writes the reports', async () => {
    const out = await outDir();
    const ran = await run(['grade', fixture('reference'), '--static-only', '--out', out]);
    expect(ran.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['classroom.json', 'junit.xml', 'result.json', 'summary.md']);
    const r = await result(out);
    const classroom = JSON.parse(await readFile(path.join(out, 'classroom.json'), 'utf8')) as { status: string; max_score: number; tests: Array<{ score: number }> };
    const staticMax = r.checks.filter((c) => c.status !== 'skipped').reduce((s, c) => s + c.maxPoints, 0);
    expect(classroom).toMatchObject({ status: 'pass', max_score: staticMax });
    expect(classroom.tests.reduce((s, t) => s + t.score, 0)).toBe(r.score);
    expect(r).toMatchObject({ lab: 'productionizing', submission: fixture('reference'), score: 20, maxScore: 65, mode: 'static-only', exitCode: 0 });
    expect(r.checks.map((c) => c.id)).toEqual(productionizing.checks.map((c) => c.id));
    for (const c of r.checks) {
      const kind = productionizing.checks.find((d) => d.id === c.id)!.kind;
      expect(c.status).toBe(kind === 'static' ? 'passed' : 'skipped');
      if (kind === 'live') expect(c.message).toBe('not run: --static-only');
    }
    expect(ran.stdout).toContain('productionizing: 20/65 points (exit 0)');
    expect(ran.stdout).toContain(`Reports: ${path.join(out, 'junit.xml')}`);
    expect(ran.stderr).toContain('PASS readiness.probe-defined 2/2');
  });

  it.each([
    ['no-readiness', 1],
    ['hpa-wrong-target', 1],
    ['equivalent-v1-hpa-pod-securitycontext', 0],
    ['kube-system-namespace', 0],
    ['empty', 2],
    ['privileged-hostpath', 2],
  ])('%s exits %d', async (name, code) => {
    const ran = await run(['grade', fixture(name), '--static-only', '--out', await outDir()]);
    expect(ran.code).toBe(code);
  });

  it('exits 2 on malformed YAML, with reports naming the file and line and everything else skipped', async () => {
    const out = await outDir();
    const ran = await run(['grade', fixture('malformed-yaml'), '--static-only', '--out', out]);
    expect(ran.code).toBe(2);
    const r = await result(out);
    expect(byId(r, 'submission.parses')).toMatchObject({
      status: 'failed',
      message: 'deployment.yaml:33:14: YAML syntax error: All mapping items must start at the same column',
      location: { file: 'deployment.yaml', line: 33, column: 14 },
    });
    expect(r.checks.filter((c) => c.id !== 'submission.parses').every((c) => c.status === 'skipped')).toBe(true);
    expect(byId(r, 'hpa.max-ten').message).toBe('not run: the submission could not be graded');
    expect(r.exitCode).toBe(2);
    expect(await readFile(path.join(out, 'junit.xml'), 'utf8')).toContain('YAML syntax error');
    const summary = await readFile(path.join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('## Lab productionizing: 0/65 points, could not be graded');
    expect(summary).toContain('At `deployment.yaml:33:14`');
  });

  it('exits 2 on rejected objects, reporting which one and where', async () => {
    const out = await outDir();
    const ran = await run(['grade', fixture('cluster-role-binding'), '--out', out]);
    expect(ran.code).toBe(2);
    const r = await result(out);
    expect(byId(r, 'submission.parses').status).toBe('passed');
    expect(byId(r, 'submission.allowed-objects')).toMatchObject({
      status: 'failed',
      location: { file: 'rbac.yaml', line: 2 },
      message: expect.stringMatching(/^rbac\.yaml:2:1: ClusterRoleBinding\/configurable-view: ClusterRoleBinding is cluster-scoped/),
    });
  });

  it('notes objects moved out of kube-system', async () => {
    const out = await outDir();
    await run(['grade', fixture('kube-system-namespace'), '--static-only', '--out', out]);
    const notes = (await result(out)).notes ?? [];
    expect(notes.some((n) => /^Deployment\/configurable: metadata\.namespace kube-system replaced by lab-grader-kube-system-namespace-[0-9a-f]{5}$/.test(n))).toBe(true);
  });

  it('writes to reports/<submission name> by default', async () => {
    const cwd = process.cwd();
    const dir = path.dirname(await outDir());
    process.chdir(dir);
    try {
      const ran = await run(['grade', fixture('reference'), '--static-only']);
      expect(ran.code).toBe(0);
      expect(await readdir(path.join(dir, 'reports', 'reference'))).toContain('result.json');
    } finally {
      process.chdir(cwd);
    }
  });

  it('prints GitHub annotations and appends the step summary under GITHUB_ACTIONS', async () => {
    const out = await outDir();
    const stepSummary = path.join(path.dirname(out), 'step.md');
    const ran = await run(['grade', 'fixtures/submissions/no-liveness', '--static-only', '--out', out], {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: stepSummary,
    });
    expect(ran.code).toBe(1);
    expect(ran.stdout).toContain('::error file=fixtures/submissions/no-liveness/deployment.yaml,line=22,col=11,title=the app container has a liveness probe::');
    expect(await readFile(stepSummary, 'utf8')).toContain('## Lab productionizing: 18/65 points, failed');
  });

  it('uses symbols on a terminal and plain words in CI', async () => {
    const tty = await run(['grade', fixture('no-readiness'), '--static-only', '--out', await outDir()], {}, true);
    expect(tty.stderr).toContain('\u001b[31m✘\u001b[0m readiness.probe-defined');
    const ci = await run(['grade', fixture('no-readiness'), '--static-only', '--out', await outDir()], { CI: 'true' }, true);
    expect(ci.stderr).toContain('FAIL readiness.probe-defined 0/2: container "app" of Deployment/configurable has no readinessProbe');
    expect(ci.stderr).not.toContain('\u001b[');
  });
});

describe('lab-grader grade (live)', () => {
  it('passes policy-checked manifests to gradeLive and records checks as they finish', async () => {
    let seen: LiveGradeOptions | undefined;
    fakes.live = async (opts) => {
      seen = opts;
      for (const r of passedLive()) opts.onCheck(r);
      opts.onProgress('applied 3 objects');
      return passedLive();
    };
    const out = await outDir();
    const ran = await run(['grade', fixture('equivalent-v1-hpa-pod-securitycontext'), '--out', out, '--context', 'kind-x', '--budget', '2m', '--keep-namespace']);
    expect(ran.code).toBe(0);
    expect(seen).toMatchObject({ context: 'kind-x', budgetMs: 120_000, keepNamespace: true });
    const kinds = seen!.manifests.map((m) => `${String(m.kind)}/${String((m.metadata as { name: string }).name)}`);
    // No Services in the submission: the lab's are added, as ClusterIP.
    expect(kinds).toEqual(['Deployment/configurable', 'HorizontalPodAutoscaler/configurable-cpu', 'Service/configurable-np', 'Service/configurable-lb']);
    const namespaces = new Set(seen!.manifests.map((m) => (m.metadata as { namespace?: string }).namespace));
    expect(namespaces.size).toBe(1);
    const ns = [...namespaces][0]!;
    expect(ns).toMatch(/^lab-grader-equivalent-v1-hpa-pod-securitycontext-[0-9a-f]{5}$/);
    expect(seen!.manifests.filter((m) => m.kind === 'Service').map((m) => (m.spec as { type: string }).type)).toEqual(['ClusterIP', 'ClusterIP']);
    const r = await result(out);
    expect(r).toMatchObject({ score: 65, maxScore: 65, exitCode: 0, namespace: ns, mode: 'full', cluster: { context: 'kind-x' } });
    expect(ran.stderr).toContain('applied 3 objects');
  });

  it('exits 1 when a live check fails', async () => {
    fakes.live = async () => passedLive().map((r) => (r.id === 'liveness.restarts-failed-container' ? { ...r, status: 'failed', points: 0 } : r));
    const ran = await run(['grade', fixture('reference'), '--out', await outDir()]);
    expect(ran.code).toBe(1);
  });

  it('reports a live check gradeLive never reported as an error', async () => {
    fakes.live = async () => passedLive().filter((r) => r.id !== 'hpa.scales-down');
    const out = await outDir();
    expect((await run(['grade', fixture('reference'), '--out', out])).code).toBe(3);
    expect(byId(await result(out), 'hpa.scales-down')).toMatchObject({ status: 'error', message: 'not run: live grading ended without reporting this check' });
  });

  it('exits 3 on an EnvironmentError, with reports and the unrun live checks as errors', async () => {
    fakes.live = async (opts) => {
      opts.onCheck(passedLive()[0]!);
      throw new EnvironmentError('no cluster is reachable', 'run `lab-grader cluster up`');
    };
    const out = await outDir();
    const ran = await run(['grade', fixture('reference'), '--out', out]);
    expect(ran.code).toBe(3);
    expect(ran.stderr).toContain('lab-grader: no cluster is reachable\n  run `lab-grader cluster up`');
    const r = await result(out);
    expect(byId(r, 'submission.applies').status).toBe('passed');
    expect(byId(r, 'replicas.ready-five')).toMatchObject({ status: 'error', message: 'not run: no cluster is reachable' });
    expect(byId(r, 'readiness.probe-defined').status).toBe('passed');
  });

  it('exits 3 on an unexpected error, still writing reports', async () => {
    fakes.live = async () => {
      throw new TypeError('boom');
    };
    const out = await outDir();
    const ran = await run(['grade', fixture('reference'), '--out', out]);
    expect(ran.code).toBe(3);
    expect(ran.stderr).toContain('internal error: TypeError: boom');
    expect(byId(await result(out), 'hpa.scales-up')).toMatchObject({ status: 'error', message: 'not run: the grader failed: boom' });
  });

  it('on SIGINT aborts live grading, finalizes the reports as interrupted and exits 3', async () => {
    fakes.live = (opts) =>
      new Promise((_resolve, reject) => {
        opts.onCheck(passedLive()[0]!);
        opts.signal.addEventListener('abort', () => {
          // A live grader reports the check it was in the middle of as an error.
          opts.onCheck({ ...passedLive()[1]!, status: 'error', points: 0, message: 'interrupted' });
          reject(opts.signal.reason as Error);
        });
        setImmediate(() => process.emit('SIGINT'));
      });
    const before = process.listenerCount('SIGINT');
    const out = await outDir();
    const ran = await run(['grade', fixture('reference'), '--out', out]);
    expect(ran.code).toBe(3);
    expect(ran.stderr).toContain('SIGINT received: stopping; reports will be written');
    const r = await result(out);
    expect(r.interrupted).toBe(true);
    expect(r.exitCode).toBe(3);
    expect(byId(r, 'submission.applies').status).toBe('passed');
    expect(byId(r, 'replicas.ready-five')).toMatchObject({ status: 'error', message: 'interrupted' });
    expect(byId(r, 'hpa.scales-up')).toMatchObject({ status: 'skipped', message: 'not run: interrupted by SIGINT' });
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});

describe('usage errors exit 4 with one line', () => {
  it.each([
    [['frobnicate'], /^lab-grader: unknown command 'frobnicate'/],
    [['grade'], /^lab-grader: missing required argument 'submission-dir'/],
    [['grade', 'x', '--frob'], /^lab-grader: unknown option '--frob'/],
    [['grade', 'x', '--lab', 'networking'], /^lab-grader: option '--lab <id>' argument 'networking' is invalid\. Allowed choices are .*productionizing/],
    [['grade', 'x', '--budget', 'soon'], /invalid duration "soon"/],
    [['cluster', 'explode'], /^lab-grader: command-argument value 'explode' is invalid for argument 'action'/],
    [['grade', '/nonexistent/submission', '--out', BAD_INPUT_OUT], /^lab-grader: submission directory not found: \/nonexistent\/submission$/],
  ])('%j', async (argv, message) => {
    const ran = await run(argv);
    expect(ran.code).toBe(4);
    expect(ran.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(ran.stderr.trimEnd()).toMatch(message);
  });

  it('a missing submission directory still leaves reports: every check an error, classroom status "error" with zero points', async () => {
    await rm(BAD_INPUT_OUT, { recursive: true, force: true });
    expect((await run(['grade', '/nonexistent/submission', '--out', BAD_INPUT_OUT])).code).toBe(4);
    const result = JSON.parse(await readFile(path.join(BAD_INPUT_OUT, 'result.json'), 'utf8')) as RunResult;
    expect(resultJsonProblems(result)).toEqual([]);
    expect(result).toMatchObject({ score: 0, exitCode: 4 });
    expect(result.checks.every((c) => c.status === 'error' && c.message.includes('submission directory not found'))).toBe(true);
    const classroom = JSON.parse(await readFile(path.join(BAD_INPUT_OUT, 'classroom.json'), 'utf8')) as { status: string; tests: Array<{ score: number; message: string }> };
    expect(classroom.status).toBe('error');
    expect(classroom.tests.reduce((s, t) => s + t.score, 0)).toBe(0);
    expect(classroom.tests[0]!.message).toContain('submission directory not found: /nonexistent/submission');
    expect(await readFile(path.join(BAD_INPUT_OUT, 'junit.xml'), 'utf8')).toContain('<error message="not run: submission directory not found');
    await rm(BAD_INPUT_OUT, { recursive: true, force: true });
  });

  it('without a command, prints help and exits 4', async () => {
    const ran = await run([]);
    expect(ran.code).toBe(4);
    expect(ran.stderr).toContain('Usage: lab-grader');
  });

  it('--help and --version exit 0', async () => {
    expect((await run(['--help'])).code).toBe(0);
    const help = await run(['grade', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--static-only');
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('lab-grader cluster', () => {
  it('delegates to clusterCommand', async () => {
    const calls: Array<[string, ClusterCommandOptions]> = [];
    fakes.cluster = async (action, opts) => {
      calls.push([action, opts]);
      return 0;
    };
    expect((await run(['cluster', 'up', '--profile', 'grading', '--force'])).code).toBe(0);
    expect((await run(['cluster', 'status', '--name', 'other'])).code).toBe(0);
    expect(calls).toEqual([
      ['up', { name: 'lab-grader', profile: 'grading', force: true }],
      ['status', { name: 'other' }],
    ]);
  });

  it('exits 3 when the environment is not usable', async () => {
    fakes.cluster = async () => {
      throw new EnvironmentError('Docker is not running', 'start Docker');
    };
    const ran = await run(['cluster', 'up']);
    expect(ran.code).toBe(3);
    expect(ran.stderr).toBe('lab-grader: Docker is not running\n  start Docker\n');
  });
});

describe('lab-grader selfcheck', () => {
  it('passes --out and --context to the walkthrough and returns its exit code', async () => {
    fakes.selfcheck = async () => 1;
    const ran = await run(['selfcheck', '--out', 'x', '--context', 'kind-y']);
    expect(ran.code).toBe(1);
    expect(fakes.selfcheckOpts).toEqual({ out: 'x', context: 'kind-y' });
  });
});

describe('parseDuration', () => {
  it.each([
    ['15m', 900_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5m', 90_000],
  ])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '15', 'm', '10x', '0s', '5m later'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
});

describe('labs and --lab', () => {
  it('`labs` prints one line per lab: id, title and summary', async () => {
    const ran = await run(['labs']);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^productionizing\s+Preparing for Production: the configurable app gets 5 replicas/m);
  });

  it('recognises the lab from the submission when --lab is left out, and passes it to live grading', async () => {
    let lab: string | undefined;
    fakes.live = async (opts) => {
      lab = opts.lab.id;
      return passedLive();
    };
    const out = await outDir();
    expect((await run(['grade', fixture('reference'), '--out', out, '--context', 'kind-x'])).code).toBe(0);
    expect(lab).toBe('productionizing');
    expect((await result(out)).lab).toBe('productionizing');
  });

  it('a submission that looks like no lab is a usage error (exit 4) with reports', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lab-grader-cli-nolab-'));
    dirs.push(dir);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'app.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n');
    const out = await outDir();
    const ran = await run(['grade', dir, '--out', out]);
    expect(ran.code).toBe(4);
    expect(ran.stderr).toMatch(/^lab-grader: the submission matches none of the labs: no object looks like productionizing/);
    expect((await result(out)).exitCode).toBe(4);
  });

  it('files that do not parse are still graded (exit 2) without --lab', async () => {
    const out = await outDir();
    const ran = await run(['grade', fixture('malformed-yaml'), '--out', out]);
    expect(ran.code).toBe(2);
    const r = await result(out);
    expect(r.lab).toBe('productionizing');
    expect(byId(r, 'submission.parses').status).toBe('failed');
    const empty = await outDir();
    expect((await run(['grade', fixture('empty'), '--out', empty])).code).toBe(2);
    const e = await result(empty);
    expect(e.lab).toBe(LABS[0]!.id);
    if (LABS.length > 1) expect(e.notes).toContain(`The objects could not be read and the files name no single lab's images; reported as lab ${LABS[0]!.id}: pass --lab <id> to choose`);
  });
});
