import { describe, expect, it } from 'vitest';
import { productionizing } from '../labs/productionizing/catalogue.js';
import { sampleCheck, sampleRun } from '../../suites/support/sample-runs.js';
import { ExitCode, type CheckResult, type RunResult } from '../model.js';
import { classroomError, classroomResult, classroomScores, encodeClassroomResult, renderClassroomJson } from './classroom.js';

const check = sampleCheck;
const runWith = (overrides: CheckResult[] = [], extra: Partial<RunResult> = {}): RunResult =>
  sampleRun(overrides, { submission: 'specs/lab', ...extra });

/**
 * What autograding-grading-reporter computes, restated from its sources: the console's
 * getTestScore (passed tests / all tests × max_score) and NotifyClassroom's sum of scores, which
 * it skips when max_score is 0.
 */
function reporterView(r: ReturnType<typeof classroomResult>): { console: number; posted: string | undefined } {
  const passed = r.tests.reduce((acc, { status }) => (status === 'pass' ? acc + 1 : acc), 0);
  const consoleScore = (passed / r.tests.length) * (r.max_score || 0);
  const total = r.tests.reduce((acc, { score }) => acc + score, 0);
  return { console: consoleScore, posted: r.max_score ? `Points ${total}/${r.max_score}` : undefined };
}

describe('classroomResult', () => {
  const partial = runWith([
    check('readiness.removes-failed-pod', 'failed', { points: 3, message: 'left endpoints after 40 s\nmore', hint: 'probe /healthz' }),
    check('readiness.probe-defined', 'failed', { message: 'no readinessProbe', location: { file: 'deploy.yaml', line: 22 } }),
    check('hpa.scales-down', 'skipped', { message: 'not run: --static-only' }),
  ]);

  it('makes the console score and the posted "Points x/y" both equal the grade, partial credit included', () => {
    expect(partial.score).toBe(65 - 2 - 2 - 4);
    const r = classroomResult(partial);
    expect(r.status).toBe('fail');
    expect(r.max_score).toBe(65);
    expect(r.tests).toHaveLength(65);
    const view = reporterView(r);
    expect(view.console).toBe(partial.score);
    expect(view.posted).toBe(`Points ${partial.score}/65`);
    expect(classroomScores(r)).toEqual({ posted: partial.score, console: partial.score, max: 65 });
  });

  it('has one test per point: a check worth 5 with 3 earned is 3 passing and 2 failing tests', () => {
    const tests = classroomResult(partial).tests.filter((t) => t.name.startsWith('readiness.removes-failed-pod '));
    expect(tests.map((t) => [t.status, t.score])).toEqual([
      ['pass', 1],
      ['pass', 1],
      ['pass', 1],
      ['fail', 0],
      ['fail', 0],
    ]);
    expect(tests[0]!.name).toBe('readiness.removes-failed-pod (point 1/5): a Pod whose app fails leaves the Service endpoints while its container keeps running');
    expect(tests[3]!.message).toBe('failed: left endpoints after 40 s Hint: probe /healthz');
    expect(tests[0]!.duration).toBe(1500);
    expect(tests[1]!.duration).toBe(0);
  });

  it('carries the learner\'s file and line, relative to the repository root under Actions', () => {
    const local = classroomResult(partial).tests.find((t) => t.name.startsWith('readiness.probe-defined '))!;
    expect(local).toMatchObject({ status: 'fail', filename: 'deploy.yaml', line_no: 22 });
    const onGithub = classroomResult({ ...partial, submission: '/ws/specs/lab' }, { workspace: '/ws' });
    expect(onGithub.tests.find((t) => t.name.startsWith('readiness.probe-defined '))!.filename).toBe('specs/lab/deploy.yaml');
    expect(classroomResult(partial).tests.find((t) => t.name.startsWith('submission.parses '))!.line_no).toBe(0);
  });

  it('reports a skipped check as failing tests saying it was not run', () => {
    const tests = classroomResult(partial).tests.filter((t) => t.name.startsWith('hpa.scales-down '));
    expect(tests).toHaveLength(4);
    expect(tests.every((t) => t.status === 'fail' && t.score === 0 && t.message.startsWith('not run: --static-only'))).toBe(true);
  });

  it('grades a --static-only run out of the checks it ran', () => {
    const run = runWith(
      productionizing.checks.filter((c) => c.kind === 'live').map((c) => check(c.id, 'skipped', { message: 'not run: --static-only' })),
      { mode: 'static-only', exitCode: ExitCode.Passed },
    );
    const staticMax = productionizing.checks.filter((c) => c.kind === 'static').reduce((s, c) => s + c.maxPoints, 0);
    const r = classroomResult(run);
    expect(r).toMatchObject({ status: 'pass', max_score: staticMax });
    expect(reporterView(r)).toEqual({ console: run.score, posted: `Points ${run.score}/${staticMax}` });
  });

  it('passes when every check passed', () => {
    const r = classroomResult(runWith([], { exitCode: ExitCode.Passed }));
    expect(r.status).toBe('pass');
    expect(reporterView(r)).toEqual({ console: 65, posted: 'Points 65/65' });
  });

  it('fails (not errors) an ungradable submission: exit 2 is the learner\'s work', () => {
    const r = classroomResult(runWith([check('submission.parses', 'failed', { message: 'bad YAML at line 3' })], { exitCode: ExitCode.Ungradable }));
    expect(r.status).toBe('fail');
  });

  it('awards zero points with status "error" when the run could not be graded (exit 3 or 4), however far it got', () => {
    for (const exitCode of [ExitCode.Environment, ExitCode.Usage]) {
      const run = runWith([check('hpa.scales-up', 'error', { message: 'metrics API not available\ndetails' })], { exitCode });
      expect(run.score).toBeGreaterThan(0);
      const r = classroomResult(run);
      expect(r).toMatchObject({ version: 1, status: 'error', max_score: 65 });
      expect(r.tests).toHaveLength(1);
      expect(r.tests[0]).toMatchObject({ status: 'error', score: 0, line_no: 0 });
      expect(r.tests[0]!.message).toContain('metrics API not available; no points awarded');
      expect(reporterView(r)).toEqual({ console: 0, posted: 'Points 0/65' });
    }
    // Without an exit code, an undecided check still makes the run an error.
    expect(classroomResult(runWith([check('hpa.scales-up', 'error')])).status).toBe('error');
  });

  it('never yields what would crash the reporter or print NaN: tests are never empty', () => {
    const r = classroomError('lab "nope" is unknown');
    expect(r).toEqual({
      version: 1,
      status: 'error',
      max_score: 0,
      tests: [{ name: 'lab-grader', status: 'error', score: 0, message: 'lab "nope" is unknown', test_code: '', filename: '', line_no: 0, duration: 0 }],
    });
    expect(reporterView(r)).toEqual({ console: 0, posted: undefined });
    const empty = classroomResult({ ...runWith(), checks: [], score: 0, maxScore: 0 });
    expect(empty.status).toBe('error');
    expect(empty.tests).toHaveLength(1);
  });

  it('encodes as the reporter decodes: base64 of UTF-8 JSON', () => {
    const r = classroomResult(runWith([check('submission.parses', 'failed', { message: 'é "quoted" 🚀' })]));
    const decoded = JSON.parse(Buffer.from(encodeClassroomResult(r), 'base64').toString('utf-8')) as unknown;
    expect(decoded).toEqual(r);
    expect(JSON.parse(renderClassroomJson(r))).toEqual(r);
  });
});
