import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resultJsonProblems } from '../../suites/support/result-schema.js';
import type { CheckResult, RunResult } from '../model.js';
import { productionizing } from '../labs/productionizing/catalogue.js';
import { checkResult } from '../lab/types.js';
import { ReportSession } from './session.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function session(extra: Partial<ConstructorParameters<typeof ReportSession>[0]> = {}) {
  const outDir = await mkdtemp(path.join(tmpdir(), 'lab-grader-session-'));
  dirs.push(outDir);
  let clock = 1_000_000;
  const s = new ReportSession({
    lab: productionizing,
    submission: 'specs',
    outDir,
    env: {},
    now: () => clock,
    ...extra,
  });
  return { s, outDir, tick: (ms: number) => (clock += ms) };
}

function result(id: string, status: CheckResult['status'] = 'passed', extra: Partial<CheckResult> = {}): CheckResult {
  const def = productionizing.checks.find((c) => c.id === id)!;
  return { ...checkResult(def, status, status, 5), ...extra };
}

const byId = (run: RunResult, id: string) => run.checks.find((c) => c.id === id)!;

describe('ReportSession', () => {
  it('reports every catalogue check in catalogue order, whatever order results arrive in', async () => {
    const { s } = await session();
    s.record(result('security.exec-chown-refused'));
    s.record(result('submission.parses'));
    s.record(result('hpa.scales-up', 'failed', { points: 2 }));
    const { run, exitCode } = await s.finalize({ reason: 'live grading ended without reporting this check', unrun: 'error' });
    expect(run.checks.map((c) => c.id)).toEqual(productionizing.checks.map((c) => c.id));
    expect(byId(run, 'hpa.scales-up')).toMatchObject({ status: 'failed', points: 2 });
    expect(byId(run, 'replicas.ready-five')).toMatchObject({
      status: 'error',
      points: 0,
      message: 'not run: live grading ended without reporting this check',
    });
    expect(exitCode).toBe(3);
    expect(run.exitCode).toBe(3);
  });

  it('marks checks without a result as skipped, with the reason; exit follows the results', async () => {
    const { s } = await session({ mode: 'static-only' });
    for (const def of productionizing.checks.filter((c) => c.kind === 'static')) s.record(result(def.id));
    const { run, exitCode } = await s.finalize({ reason: '--static-only' });
    expect(exitCode).toBe(0);
    expect(byId(run, 'submission.applies')).toMatchObject({ status: 'skipped', message: 'not run: --static-only', points: 0, maxPoints: 2 });
    expect(run.checks.filter((c) => c.status === 'skipped')).toHaveLength(13);
    expect(run).toMatchObject({ score: 20, maxScore: 65, mode: 'static-only' });
    expect(run.interrupted).toBeUndefined();
  });

  it('on interruption: a check in progress is an error, checks not started are skipped, exit 3', async () => {
    const { s, tick } = await session();
    s.record(result('submission.parses'));
    s.start('readiness.removes-failed-pod');
    tick(4_000);
    const { run, exitCode } = await s.finalize({ interrupted: true, reason: 'interrupted by SIGINT' });
    expect(exitCode).toBe(3);
    expect(run.interrupted).toBe(true);
    expect(byId(run, 'readiness.removes-failed-pod')).toMatchObject({
      status: 'error',
      message: 'interrupted while running: interrupted by SIGINT',
      durationMs: 4_000,
    });
    expect(byId(run, 'liveness.restarts-failed-container')).toMatchObject({ status: 'skipped', message: 'not run: interrupted by SIGINT' });
    expect(run.durationMs).toBe(4_000);
  });

  it('lets the caller set the exit code (2 for an ungradable submission)', async () => {
    const { s } = await session();
    s.record(result('submission.parses', 'failed', { message: 'a.yaml:1: YAML syntax error' }));
    const { run, exitCode } = await s.finalize({ reason: 'the submission could not be graded', exitCode: 2 });
    expect(exitCode).toBe(2);
    expect(run.checks.filter((c) => c.status === 'skipped')).toHaveLength(27);
  });

  it('writes checkpoints as results arrive, so a killed run still leaves reports', async () => {
    const { s, outDir } = await session();
    s.record(result('submission.parses'));
    await s.flush();
    const snapshot = JSON.parse(await readFile(path.join(outDir, 'result.json'), 'utf8')) as RunResult;
    expect(resultJsonProblems(snapshot)).toEqual([]);
    expect(byId(snapshot, 'submission.parses').status).toBe('passed');
    expect(byId(snapshot, 'hpa.scales-up')).toMatchObject({
      status: 'skipped',
      message: 'not run yet: grading is still in progress or stopped unexpectedly',
    });
    expect(snapshot.exitCode).toBeUndefined();
    expect(await readFile(path.join(outDir, 'junit.xml'), 'utf8')).toContain('<testsuites');

    s.record(result('submission.allowed-objects', 'failed'));
    await s.finalize({ reason: 'stopped' });
    const final = JSON.parse(await readFile(path.join(outDir, 'result.json'), 'utf8')) as RunResult;
    expect(final).toMatchObject({ exitCode: 1 });
    expect(resultJsonProblems(final)).toEqual([]);
  });

  it('publishes to GitHub once, at the end', async () => {
    const printed: string[] = [];
    const { s } = await session({ env: { GITHUB_ACTIONS: 'true' }, stdout: (t) => printed.push(t) });
    s.record(result('readiness.probe-defined', 'failed', { location: { file: 'd.yaml', line: 3 } }));
    s.record(result('liveness.probe-defined', 'failed', { location: { file: 'd.yaml', line: 9 } }));
    await s.finalize({ reason: 'x' });
    expect(printed.filter((p) => p.startsWith('::error'))).toHaveLength(2);
  });

  it('ignores results that arrive after finalize, and finalize is idempotent', async () => {
    const { s } = await session();
    const first = await s.finalize({ interrupted: true, reason: 'SIGTERM' });
    s.record(result('hpa.scales-up'));
    const second = await s.finalize({ reason: 'again' });
    expect(second).toBe(first);
    expect(byId(second.run, 'hpa.scales-up').status).toBe('skipped');
  });

  it('a final write that fails (disk full) fails every later finalize too, never reads as reported', async () => {
    // outDir is a file: mkdir under it fails like a full or read-only disk would.
    const { outDir } = await session();
    const blocked = path.join(outDir, 'not-a-dir');
    await writeFile(blocked, 'x');
    const s = new ReportSession({ lab: productionizing, submission: 'specs', outDir: path.join(blocked, 'out'), env: {} });
    await expect(s.finalize({ reason: 'done' })).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(s.reportsFailed).toBe(true);
    await expect(s.finalize({ reason: 'again' })).rejects.toThrow(/ENOTDIR|EEXIST/);
  });

  it('keeps catalogue titles and points, clamps points, and keeps unknown checks last', async () => {
    const { s } = await session();
    s.record(result('hpa.scales-up', 'passed', { points: 99, maxPoints: 1, title: 'other title' }));
    s.record({ ...result('hpa.max-ten'), id: 'extra.zeta', group: 'extra' });
    s.record({ ...result('hpa.max-ten'), id: 'extra.alpha', group: 'extra' });
    const { run } = await s.finalize({});
    expect(byId(run, 'hpa.scales-up')).toMatchObject({ points: 5, maxPoints: 5, title: 'the HPA adds Pods when the app is under CPU load' });
    expect(run.checks.slice(-2).map((c) => c.id)).toEqual(['extra.alpha', 'extra.zeta']);
  });

  it('carries notes and run information into the result', async () => {
    const { s } = await session();
    s.addNotes('one', 'two');
    s.setInfo({ namespace: 'lab-grader-x', cluster: { context: 'kind-lab-grader' } });
    const { run } = await s.finalize({});
    expect(run).toMatchObject({ notes: ['one', 'two'], namespace: 'lab-grader-x', cluster: { context: 'kind-lab-grader' } });
  });
});
