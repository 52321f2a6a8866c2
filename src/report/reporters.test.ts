import { describe, expect, it } from 'vitest';
import type { CheckResult, RunResult } from '../model.js';
import { sampleCheck, sampleRun } from '../../suites/support/sample-runs.js';
import { annotationPath, escapeData, escapeProperty, githubAnnotations } from './github.js';
import { formatDuration, groupChecks } from './groups.js';
import { resultJsonProblems } from '../../suites/support/result-schema.js';
import { renderResultJson } from './result-json.js';
import { renderSummary } from './summary-md.js';

const check = sampleCheck;
const runWith = sampleRun;

const readinessFailed = check('readiness.probe-defined', 'failed', {
  message: 'container "app" of Deployment/configurable has no readinessProbe',
  hint: 'Add a readinessProbe on /healthz.',
  location: { file: 'deployment.yaml', line: 22, column: 11 },
});
const hpaError = check('hpa.metrics-flow', 'error', {
  message: 'the metrics API is not available',
  diagnostics: 'kubectl top: error: Metrics API not available',
});
const liveFailedNoLocation = check('readiness.removes-failed-pod', 'failed', { message: 'the Pod stayed in the endpoints for 30s' });

describe('result.json', () => {
  it('has the contract\'s fields, in the contract\'s order, with extensions after', () => {
    const run = runWith([readinessFailed], { exitCode: 1, mode: 'full', namespace: 'lab-grader-alice-abcde', notes: ['a note'] });
    const text = renderResultJson(run);
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['lab', 'submission', 'score', 'maxScore', 'startedAt', 'durationMs', 'checks', 'exitCode', 'mode', 'namespace', 'notes']);
    expect(json).toMatchObject({ lab: 'productionizing', submission: 'submissions/alice', score: 63, maxScore: 65, durationMs: 93_000 });
    const checks = json.checks as Array<Record<string, unknown>>;
    expect(checks).toHaveLength(28);
    expect(Object.keys(checks[0]!)).toEqual(['id', 'group', 'title', 'status', 'points', 'maxPoints', 'message', 'durationMs']);
    const failed = checks.find((c) => c.id === 'readiness.probe-defined')!;
    expect(Object.keys(failed)).toEqual(['id', 'group', 'title', 'status', 'points', 'maxPoints', 'message', 'durationMs', 'hint', 'location']);
    expect(failed).toMatchObject({ status: 'failed', points: 0, maxPoints: 2, location: { file: 'deployment.yaml', line: 22, column: 11 } });
    expect(text.endsWith('}\n')).toBe(true);
    expect(resultJsonProblems(json)).toEqual([]);
  });

  it('validates against docs/result.schema.json, which rejects what breaks the contract', () => {
    const run = runWith([readinessFailed, hpaError, check('hpa.scales-up', 'skipped')], { exitCode: 3, mode: 'full', interrupted: true, cluster: { context: 'kind-x' } });
    const json = JSON.parse(renderResultJson(run)) as RunResult;
    expect(resultJsonProblems(json)).toEqual([]);
    expect(resultJsonProblems({ ...json, score: json.score + 1 })).toEqual([expect.stringContaining('/score')]);
    expect(resultJsonProblems({ ...json, checks: [{ ...json.checks[0]!, status: 'broken' }] })).toEqual([expect.stringContaining('/checks/0/status')]);
    const { maxScore: _dropped, ...withoutMax } = json;
    expect(resultJsonProblems(withoutMax)).toEqual([expect.stringContaining("must have required property 'maxScore'")]);
    expect(resultJsonProblems({ ...json, startedAt: 'yesterday' })).toEqual([expect.stringContaining('/startedAt')]);
  });

  it('uses only the four statuses', () => {
    const run = runWith([readinessFailed, hpaError, check('hpa.scales-up', 'skipped')]);
    const statuses = new Set((JSON.parse(renderResultJson(run)) as RunResult).checks.map((c) => c.status));
    expect([...statuses].sort()).toEqual(['error', 'failed', 'passed', 'skipped']);
  });
});

describe('summary.md', () => {
  const run = runWith([readinessFailed, hpaError, liveFailedNoLocation, check('hpa.scales-up', 'skipped', { message: 'not run: interrupted' })], {
    exitCode: 3,
    notes: ['Service/configurable-np: type NodePort changed to ClusterIP'],
  });
  const md = renderSummary(run);

  it('has a score table per group and the total', () => {
    expect(md).toContain('## Lab productionizing: 51/65 points, could not be fully graded');
    expect(md).toContain('| Group | Score | Result | Time |');
    expect(md).toContain('| submission | 4/4 | ✅ passed | 4.5 s |');
    expect(md).toContain('| readiness | 4/11 | ❌ failed | 4.5 s |');
    expect(md).toContain('| hpa | 13/20 | ⚠️ error | 12 s |');
    expect(md).toContain('| **Total** | **51/65** | 24 passed, 2 failed, 1 errors, 1 skipped | |');
  });

  it('lists failing checks with message, hint and file:line', () => {
    const fix = md.slice(md.indexOf('### What to fix'), md.indexOf('### Not decided'));
    expect(fix).toContain('- ❌ **`readiness.probe-defined`** the app container has a readiness probe (0/2, 1.5 s)  \n');
    expect(fix).toContain('  container "app" of Deployment/configurable has no readinessProbe  \n');
    expect(fix).toContain('  At `deployment.yaml:22:11`  \n');
    expect(fix).toContain('  Hint: Add a readinessProbe on /healthz.\n');
    expect(fix).toContain('`readiness.removes-failed-pod`');
  });

  it('keeps errors apart from failures, with diagnostics', () => {
    const errors = md.slice(md.indexOf('### Not decided'), md.indexOf('### Not run'));
    expect(errors).toContain('no points were deducted for your work');
    expect(errors).toContain('`hpa.metrics-flow`');
    expect(errors).toContain('```\n  kubectl top: error: Metrics API not available\n  ```');
  });

  it('lists what did not run, the notes, every check, and the total grading time', () => {
    expect(md).toContain('- ⏭️ `hpa.scales-up` the HPA adds Pods when the app is under CPU load: not run: interrupted');
    expect(md).toContain('- Service/configurable-np: type NodePort changed to ClusterIP');
    expect(md).toContain('<details><summary>All checks</summary>');
    expect(md.match(/^\| `[a-z-]+\.[a-z-]+` /gm)).toHaveLength(28);
    expect(md).toContain('Total grading time: 1 min 33 s');
  });

  it('says a clean run passed and escapes table cells', () => {
    const clean = renderSummary(runWith([check('submission.parses', 'passed', { message: 'a | b\nc' })], { exitCode: 0 }));
    expect(clean).toContain('65/65 points, passed');
    expect(clean).not.toContain('### What to fix');
    expect(clean).toContain('a \\| b c');
  });

  it('puts each live group\'s floor beside its measured time, with how it adds up', () => {
    const floors = { timings: 'flags of kube-controller-manager and metrics-server', groups: [{ group: 'readiness', floorMs: 1_000, basis: 'readiness probe 1s × 1' }] };
    const md = renderSummary(runWith([], { exitCode: 0, floors }));
    const readiness = groupChecks(runWith().checks).find((g) => g.group === 'readiness')!;
    expect(md).toContain('| Group | Score | Result | Time | Floor |');
    expect(md).toContain(`| ${formatDuration(readiness.durationMs)} | 1 s (×${(readiness.durationMs / 1000).toFixed(1)}) |`);
    expect(md).toMatch(/\| security \|[^\n]*\| {2}\|\n/);
    expect(md).toContain('- readiness: 1 s = readiness probe 1s × 1');
    expect(JSON.parse(renderResultJson(runWith([], { floors }))).floors).toEqual(floors);
    expect(renderSummary(runWith())).not.toContain('Floor');
  });

  it('shows groups whose live checks were not run as passed so far', () => {
    const staticOnly = renderSummary(runWith([check('submission.applies', 'skipped')], { mode: 'static-only' }));
    expect(staticOnly).toContain('| submission | 2/4 | ✅ passed, 1 not run |');
    expect(staticOnly).toContain('static checks only');
  });
});

describe('GitHub annotations', () => {
  it('escapes data and properties per the workflow-command rules', () => {
    expect(escapeData('50% done\r\nnext: a,b')).toBe('50%25 done%0D%0Anext: a,b');
    expect(escapeProperty('50% done\r\nnext: a,b')).toBe('50%25 done%0D%0Anext%3A a%2Cb');
  });

  it('annotates failed checks that have a location, and warns about errors', () => {
    const run = runWith([readinessFailed, hpaError, liveFailedNoLocation]);
    expect(githubAnnotations(run, { submissionDir: 'submissions/alice' })).toEqual([
      '::error file=submissions/alice/deployment.yaml,line=22,col=11,title=the app container has a readiness probe::container "app" of Deployment/configurable has no readinessProbe%0AAdd a readinessProbe on /healthz.',
      '::warning title=the HPA reads CPU metrics for the app\'s Pods::the metrics API is not available',
    ]);
  });

  it('makes one warning of the checks a broken environment kept from running', () => {
    const notRun = (id: string) => check(id, 'error', { message: 'not run: no kubeconfig found' });
    const run = runWith([notRun('hpa.scales-up'), notRun('hpa.scales-down'), notRun('liveness.returns-to-service'), hpaError]);
    expect(githubAnnotations(run, { submissionDir: 's' })).toEqual([
      '::warning title=3 checks could not be graded::not run: no kubeconfig found',
      "::warning title=the HPA reads CPU metrics for the app's Pods::the metrics API is not available",
    ]);
  });

  it('joins paths with the submission folder, relative to the workspace', () => {
    expect(annotationPath({ submissionDir: './specs/' }, 'app/deploy.yaml')).toBe('specs/app/deploy.yaml');
    expect(annotationPath({ submissionDir: '/home/runner/work/repo/repo/specs', workspace: '/home/runner/work/repo/repo' }, 'd.yaml')).toBe('specs/d.yaml');
    expect(annotationPath({ submissionDir: '/elsewhere/specs', workspace: '/home/runner/work' }, 'd.yaml')).toBe('/elsewhere/specs/d.yaml');
    expect(annotationPath({ submissionDir: '.' }, 'd.yaml')).toBe('d.yaml');
  });

  it('escapes commas and colons in file names', () => {
    const run = runWith([{ ...readinessFailed, location: { file: 'a,b:c.yaml', line: 1 } }]);
    expect(githubAnnotations(run, { submissionDir: 's' })[0]).toMatch(/^::error file=s\/a%2Cb%3Ac\.yaml,line=1,title=/);
  });
});

describe('groups', () => {
  it('keeps catalogue order and sums points', () => {
    const groups = groupChecks(runWith([readinessFailed]).checks);
    expect(groups.map((g) => `${g.group}:${g.points}/${g.maxPoints}:${g.verdict}`)).toEqual([
      'submission:4/4:passed',
      'replicas:5/5:passed',
      'readiness:9/11:failed',
      'liveness:10/10:passed',
      'hpa:20/20:passed',
      'security:15/15:passed',
    ]);
  });

  it('formats durations', () => {
    expect(formatDuration(12)).toBe('12 ms');
    expect(formatDuration(1500)).toBe('1.5 s');
    expect(formatDuration(60_000)).toBe('1 min');
    expect(formatDuration(93_400)).toBe('1 min 33 s');
  });
});
