// classroom.json: the JSON GitHub Classroom's grading reporter
// (classroom-resources/autograding-grading-reporter) reads, base64-encoded, from the environment
// variable `<STEP-ID>_RESULTS`; the same shape its command and io graders emit as output `result`.
//
// The reporter shows a score twice, computed two ways:
// - its console ("Total points for <step>: x/y" and the summary table) weighs every test equally:
//   passed tests / all tests × max_score;
// - the "Points x/y" it posts to Classroom sums the tests' `score`s over max_score.
// Our checks weigh 1 to 5 points and can pass partially (3/5), so one test per check cannot make
// the two agree. One test per point does: a check worth m points becomes m tests of 1 point, the
// first p of which pass (p = points earned). Then passed tests = sum of scores = the score, and
// max_score = number of tests = the maximum score, so both read `score/maxScore`.
//
// A --static-only run is graded out of the static checks' points (the live checks it skips on
// purpose are left out). Otherwise a skipped check counts as failing tests saying it was not run.
//
// A run that could not be graded (bad input, no Docker, no cluster, interrupted, or a check the
// grader could not decide: exit 3 or 4) becomes `status: "error"` with a single error test and
// zero points: Classroom never records a score the grader did not establish.
import { ExitCode, exitCodeFor, type CheckResult, type RunResult } from '../model.js';
import { annotationPath } from './github.js';

export type ClassroomStatus = 'pass' | 'fail' | 'error';

export interface ClassroomTest {
  name: string;
  status: ClassroomStatus;
  score: number;
  message: string;
  /** Printed by the reporter under the test when not empty; we leave it empty. */
  test_code: string;
  filename: string;
  /** 0 when the check points at no line (the reporter then prints no "- line N"). */
  line_no: number;
  /** Milliseconds, like the command grader's. */
  duration: number;
}

export interface ClassroomResult {
  version: 1;
  status: ClassroomStatus;
  max_score: number;
  tests: ClassroomTest[];
}

export interface ClassroomOptions {
  /** The repository checkout ($GITHUB_WORKSPACE): `filename` is then relative to it. */
  workspace?: string;
}

export function classroomResult(run: RunResult, opts: ClassroomOptions = {}): ClassroomResult {
  const exitCode = run.exitCode ?? exitCodeFor(run.checks);
  if (exitCode === ExitCode.Environment || exitCode === ExitCode.Usage) {
    return classroomError(errorMessage(run, exitCode), run.maxScore);
  }
  // A --static-only run leaves the live checks out on purpose: they are not part of its grade.
  const graded = run.mode === 'static-only' ? run.checks.filter((c) => c.status !== 'skipped') : run.checks;
  const tests = graded.flatMap((c) => pointTests(run, c, opts));
  if (tests.length === 0) return classroomError(`no checks with points were run for lab ${run.lab}`, run.maxScore);
  return {
    version: 1,
    status: tests.every((t) => t.status === 'pass') ? 'pass' : 'fail',
    max_score: tests.length,
    tests,
  };
}

/** A result that awards nothing and says why, for runs that produced no grade. */
export function classroomError(message: string, maxScore = 0): ClassroomResult {
  return {
    version: 1,
    status: 'error',
    max_score: Math.max(0, maxScore),
    tests: [{ name: 'lab-grader', status: 'error', score: 0, message, test_code: '', filename: '', line_no: 0, duration: 0 }],
  };
}

export function renderClassroomJson(result: ClassroomResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/** The value of the action's `result` output and of `<STEP-ID>_RESULTS`: base64 of compact JSON. */
export function encodeClassroomResult(result: ClassroomResult): string {
  return Buffer.from(JSON.stringify(result), 'utf8').toString('base64');
}

/** What the reporter would post ("Points x/y") and print (passed/all × max_score). */
export function classroomScores(result: ClassroomResult): { posted: number; console: number; max: number } {
  const posted = result.tests.reduce((s, t) => s + t.score, 0);
  const passed = result.tests.filter((t) => t.status === 'pass').length;
  return { posted, console: result.tests.length ? (passed / result.tests.length) * result.max_score : 0, max: result.max_score };
}

function pointTests(run: RunResult, c: CheckResult, opts: ClassroomOptions): ClassroomTest[] {
  const tests: ClassroomTest[] = [];
  const earned = Math.min(Math.max(0, Math.round(c.points)), c.maxPoints);
  const failStatus: ClassroomStatus = c.status === 'error' ? 'error' : 'fail';
  const headline = (c.message.split('\n')[0] ?? '').trim();
  const filename = c.location ? (opts.workspace ? annotationPath({ submissionDir: run.submission, workspace: opts.workspace }, c.location.file) : c.location.file) : '';
  for (let k = 1; k <= c.maxPoints; k++) {
    const pass = k <= earned;
    tests.push({
      name: `${c.id} (point ${k}/${c.maxPoints}): ${c.title}`,
      status: pass ? 'pass' : failStatus,
      score: pass ? 1 : 0,
      message: pass ? '' : `${c.status === 'skipped' ? '' : `${c.status}: `}${headline}${c.hint ? ` Hint: ${c.hint}` : ''}`,
      test_code: '',
      filename,
      line_no: c.location?.line ?? 0,
      duration: k === 1 ? Math.max(0, Math.round(c.durationMs)) : 0,
    });
  }
  return tests;
}

function errorMessage(run: RunResult, exitCode: ExitCode): string {
  const cause = run.checks.find((c) => c.status === 'error')?.message.split('\n')[0];
  const what = exitCode === ExitCode.Usage ? 'could not be graded (bad input)' : 'could not be graded (environment)';
  return `${run.submission} ${what}: ${cause ?? run.notes?.[0] ?? 'see the grader log'}; no points awarded`;
}
