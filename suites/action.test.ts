// The composite action (action.yml) run for real in a GitHub Actions runner emulation: nektos/act
// in self-hosted mode runs .github/workflows/action-selftest.yml, whose steps use the local action
// (`uses: ./`) against the live cluster. Asserts on what the runner produced: the step outputs,
// the step summary, the annotations it printed and the reports. The two remote actions inside
// action.yml (setup-node, upload-artifact) are skipped under ACT; act would still clone them, so
// they are replaced by local actions that fail if they ever run.
// Cost: one full grade (~90 s), three static grades, one `npm ci` in act's copy of the repository.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunResult } from '../src/model.js';
import type { ClassroomResult } from '../src/report/classroom.js';
import { resultJsonProblems } from './support/result-schema.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const toolsBin = path.join(process.env.LAB_GRADER_CACHE ?? path.join(homedir(), '.cache', 'kube-lab-grader'), 'tools', 'bin');
const ACT = path.join(toolsBin, 'act');

interface StepRecord {
  outcome: string;
  conclusion: string;
  outputs: Record<string, string>;
}

let work: string;
let results: string;
let log = '';
let exitCode: number | null = null;
let steps: Record<string, StepRecord>;

function runAct(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(ACT, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function placeholderAction(name: string): Promise<string> {
  const dir = path.join(work, 'placeholders', name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'action.yml'),
    [
      `name: placeholder for ${name}`,
      'description: must never run under act',
      'runs:',
      '  using: composite',
      '  steps:',
      '    - shell: bash',
      `      run: echo "PLACEHOLDER ${name} RAN"; exit 1`,
      '',
    ].join('\n'),
  );
  return dir;
}

const decode = (b64: string): ClassroomResult => JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as ClassroomResult;
const report = async (name: string, file: string): Promise<string> => readFile(path.join(results, 'reports', name, file), 'utf8');
const resultOf = async (name: string): Promise<RunResult> => JSON.parse(await report(name, 'result.json')) as RunResult;

beforeAll(async () => {
  if (!existsSync(ACT)) throw new Error(`act is not installed at ${ACT}: run \`npm run setup\``);
  work = await mkdtemp(path.join(tmpdir(), 'lab-grader-act-'));
  results = path.join(work, 'results');
  const args = [
    'push',
    '-W', '.github/workflows/action-selftest.yml',
    '-P', 'ubuntu-latest=-self-hosted',
    '--env', `LAB_GRADER_CONTEXT=${inject('kubeContext')}`,
    '--env', `RESULTS_DIR=${results}`,
    '--local-repository', `actions/setup-node@v4=${await placeholderAction('setup-node')}`,
    '--local-repository', `actions/upload-artifact@v4=${await placeholderAction('upload-artifact')}`,
  ];
  // act's copy of the repository (and the grader it installs there) lives in its cache: keep it in
  // the scratch directory.
  exitCode = await runAct(args, { ...process.env, XDG_CACHE_HOME: path.join(work, 'cache') }, 15 * 60_000);
  steps = JSON.parse(await readFile(path.join(results, 'steps.json'), 'utf8').catch(() => '{}')) as Record<string, StepRecord>;
  // Kept for whoever reads a failed CI run, and the step times for the README's figures.
  await mkdir(path.join(root, 'reports', 'tests'), { recursive: true });
  await writeFile(path.join(root, 'reports', 'tests', 'act.log'), log);
  const times = [...plain().matchAll(/(?:Success|Failure) - Main (.+?) \[([^\]]+)\]/g)].map((m) => `${m[1]}: ${m[2]}`);
  console.log(`act run (exit ${exitCode}), steps:\n  ${times.join('\n  ')}`);
}, 16 * 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const plain = (): string => log.replace(/\u001b\[[0-9;]*m/g, '');

/** The step summaries act printed ("⚙  Summary - <markdown>" up to the next line of the job). */
function summaries(): string[] {
  const out: string[] = [];
  let current: string[] | undefined;
  for (const line of plain().split('\n')) {
    const start = /^\[[^\]]+\]\s+⚙\s+Summary - (.*)$/.exec(line);
    if (start) {
      current = [start[1]!];
      out.push('');
    } else if (/^\[[^\]]+\]/.test(line) || /^time=/.test(line)) {
      current = undefined;
    } else if (current) {
      current.push(line);
    }
    if (current) out[out.length - 1] = current.join('\n');
  }
  return out;
}

describe('the action under act', () => {
  it('runs the workflow to success (its own step checks the outcomes), never running the remote actions', () => {
    expect(exitCode, plain().slice(-4000)).toBe(0);
    expect(plain()).not.toContain('PLACEHOLDER');
    expect(Object.keys(steps)).toEqual(expect.arrayContaining(['reference', 'failing', 'failing-strict', 'missing']));
  });

  it('sets score, max-score and exit-code as in result.json, and a result whose tests sum to the score', async () => {
    for (const [id, dir] of [['reference', 'reference'], ['failing', 'no-readiness'], ['failing-strict', 'no-readiness-strict']] as const) {
      const result = await resultOf(dir);
      const outputs = steps[id]!.outputs;
      expect(outputs.score, id).toBe(String(result.score));
      expect(outputs['max-score'], id).toBe(String(result.maxScore));
      expect(outputs['exit-code'], id).toBe(String(result.exitCode));
      const classroom = decode(outputs.result!);
      expect(classroom).toEqual(JSON.parse(await report(dir, 'classroom.json')));
      expect(classroom.tests.reduce((s, t) => s + t.score, 0), id).toBe(result.score);
      expect(classroom.tests.filter((t) => t.status === 'pass').length, id).toBe(result.score);
    }
    const reference = await resultOf('reference');
    expect(reference).toMatchObject({ mode: 'full', exitCode: 0, score: reference.maxScore });
    expect(decode(steps.reference!.outputs.result!)).toMatchObject({ status: 'pass', max_score: reference.maxScore });
    expect(steps.failing!.outputs['exit-code']).toBe('1');
    expect(steps.failing!.outcome).toBe('success');
    expect(steps['failing-strict']!.outcome).toBe('failure');
  });

  it('answers a missing path with one clear line, reports on disk, exit 4 and Classroom status "error" with zero points', async () => {
    const outputs = steps.missing!.outputs;
    expect(steps.missing!.outcome).toBe('failure');
    expect(outputs['exit-code']).toBe('4');
    const classroom = decode(outputs.result!);
    expect(classroom.status).toBe('error');
    expect(classroom.tests.reduce((s, t) => s + t.score, 0)).toBe(0);
    expect(classroom.tests[0]!.message).toContain('does-not-exist');
    const result = await resultOf('missing');
    expect(result.checks.every((c) => c.status === 'error')).toBe(true);
    const line = 'the input `path` names "fixtures/submissions/does-not-exist", which does not exist';
    const errorLines = plain().split('\n').filter((l) => l.includes('::error') && l.includes('does-not-exist'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain(`::error title=lab-grader::${line}`);
    expect(summaries().some((s) => s.includes(`**lab-grader:** ${line}`))).toBe(true);
  });

  it('writes the step summary of every grade', async () => {
    const summary = summaries().join('\n');
    const reference = await resultOf('reference');
    const failing = await resultOf('no-readiness');
    expect(summary).toContain(`## Lab productionizing: ${reference.score}/${reference.maxScore} points, passed`);
    expect(summary).toContain(`## Lab productionizing: ${failing.score}/${failing.maxScore} points, failed`);
    expect(summary).toContain('container "app" of Deployment/configurable has no readinessProbe');
  });

  it('prints annotations on the learner\'s line, and fails the strict step with the score', async () => {
    const text = plain();
    expect(text).toMatch(/::error file=fixtures\/submissions\/no-readiness\/deployment\.yaml,line=22,col=11,title=the app container has a readiness probe::container "app"/);
    const failing = await resultOf('no-readiness-strict');
    expect(text).toContain(`::error title=lab-grader::productionizing: ${failing.score}/${failing.maxScore} points, 1 check failed (exit 1)`);
  });

  it('gives the failing testcase file/line relative to the repository and the details as <failure> body', async () => {
    const junit = await report('no-readiness', 'junit.xml');
    const testcase = /<testcase name="the app container has a readiness probe"[^>]*>[\s\S]*?<\/testcase>/.exec(junit)?.[0] ?? '';
    expect(testcase).toContain('file="fixtures/submissions/no-readiness/deployment.yaml" line="22"');
    const failure = /<failure [^>]*>([\s\S]*?)<\/failure>/.exec(testcase)?.[1] ?? '';
    expect(failure).toContain('Hint: Add a readinessProbe');
    expect(failure).toContain('At: deployment.yaml:22:11');
    expect(junit).toMatch(/<testsuites name="lab-grader productionizing: \d+\/65 points, 13 skipped"/);
  });

  it('writes result.json files that validate against docs/result.schema.json', async () => {
    for (const dir of ['reference', 'no-readiness', 'no-readiness-strict', 'missing']) {
      expect(resultJsonProblems(JSON.parse(await report(dir, 'result.json'))), dir).toEqual([]);
    }
  });
});

/** The action's grading step run directly, for the bad inputs the act workflow does not cover. */
async function gradeStep(inputs: Record<string, string>, extraEnv: NodeJS.ProcessEnv = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'lab-grader-action-step-'));
  const files = { output: path.join(dir, 'output'), summary: path.join(dir, 'summary.md') };
  await writeFile(files.output, '');
  await writeFile(files.summary, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: root,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    INPUT_OUT: path.join(dir, 'reports'),
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k}`, v])),
    ...extraEnv,
  };
  let stdout = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'scripts/action/grade.mjs')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', resolve);
  });
  const outputs = Object.fromEntries(
    (await readFile(files.output, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const summary = await readFile(files.summary, 'utf8');
  const classroom = JSON.parse(await readFile(path.join(dir, 'reports', 'classroom.json'), 'utf8')) as ClassroomResult;
  await rm(dir, { recursive: true, force: true });
  return { code, stdout, outputs, summary, classroom };
}

describe("the action's grading step on bad input", () => {
  it.each([
    ['an empty path', { PATH: '  ' }, {}, '4', 'the input `path` is empty'],
    ['an unknown lab', { PATH: 'fixtures/submissions/reference', LAB: 'networking' }, {}, '4', 'the input `lab` is "networking", which is not a known lab'],
    // A docker CLI without a daemon, as on a runner where Docker is not running.
    ['a cluster that cannot be reached', { PATH: 'fixtures/submissions/reference', CONTEXT: 'no-such-context' }, {}, '3', 'fixtures/submissions/reference could not be graded: '],
    ['a runner without Docker', { PATH: 'fixtures/submissions/reference' }, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, '3', 'Docker is not usable on this runner'],
  ])('%s: one error line, the same in the step summary, exit code output, Classroom status "error" with zero points', async (_name, inputs, env, exit, line) => {
    const step = await gradeStep(inputs, env);
    expect(step.code, step.stdout).toBe(0);
    const errors = step.stdout.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors, step.stdout).toHaveLength(1);
    expect(errors[0]).toContain(`::error title=lab-grader::${line}`);
    expect(step.summary).toContain(line);
    expect(step.outputs['exit-code']).toBe(exit);
    expect(decode(step.outputs.result!)).toEqual(step.classroom);
    expect(step.classroom.status).toBe('error');
    expect(step.classroom.tests.reduce((s, t) => s + t.score, 0)).toBe(0);
  });
});
