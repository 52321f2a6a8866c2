import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, RunResult } from '../model.js';
import { writeFileAtomic, writeReports } from './write.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lab-grader-write-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const failed: CheckResult = {
  id: 'readiness.probe-defined',
  group: 'readiness',
  title: 'the app container has a readiness probe',
  status: 'failed',
  points: 0,
  maxPoints: 2,
  message: 'no readinessProbe',
  durationMs: 3,
  location: { file: 'deployment.yaml', line: 22 },
};
const run: RunResult = {
  lab: 'productionizing',
  submission: 'specs',
  score: 0,
  maxScore: 2,
  startedAt: '2025-01-02T03:04:05.678Z',
  durationMs: 10,
  checks: [failed],
};

describe('writeReports', () => {
  it('creates the folder and writes the four reports, leaving no temporary files', async () => {
    const out = path.join(await tempDir(), 'reports', 'alice');
    const written = await writeReports(out, run, { env: {} });
    expect((await readdir(out)).sort()).toEqual(['classroom.json', 'junit.xml', 'result.json', 'summary.md']);
    expect(written).toEqual({
      dir: out,
      junit: path.join(out, 'junit.xml'),
      resultJson: path.join(out, 'result.json'),
      summary: path.join(out, 'summary.md'),
      classroom: path.join(out, 'classroom.json'),
    });
    expect(JSON.parse(await readFile(written.classroom, 'utf8'))).toMatchObject({ version: 1, status: 'fail', max_score: 2 });
    expect(JSON.parse(await readFile(written.resultJson, 'utf8'))).toMatchObject({ score: 0, maxScore: 2 });
    expect(await readFile(written.junit, 'utf8')).toMatch(/^<\?xml/);
  });

  it('publishes to GitHub only under GITHUB_ACTIONS=true', async () => {
    const dir = await tempDir();
    const stepSummary = path.join(dir, 'step-summary.md');
    await writeFile(stepSummary, 'earlier step\n');
    const printed: string[] = [];
    const stdout = (t: string): void => {
      printed.push(t);
    };

    await writeReports(path.join(dir, 'a'), run, { env: { GITHUB_STEP_SUMMARY: stepSummary }, stdout });
    expect(printed).toEqual([]);
    expect(await readFile(stepSummary, 'utf8')).toBe('earlier step\n');

    const env = { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary };
    await writeReports(path.join(dir, 'b'), run, { env, stdout });
    const summary = await readFile(stepSummary, 'utf8');
    expect(summary.startsWith('earlier step\n## Lab productionizing: 0/2 points, failed')).toBe(true);
    expect(printed).toEqual([
      '::error file=specs/deployment.yaml,line=22,title=the app container has a readiness probe::no readinessProbe\n',
    ]);

    await writeReports(path.join(dir, 'c'), run, { env, stdout, github: false });
    expect(printed).toHaveLength(1);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'result.json');
    await writeFileAtomic(file, 'old');
    await writeFileAtomic(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['result.json']);
  });

  it('keeps the old file and removes its temporary file when the rename fails', async () => {
    const dir = await tempDir();
    const target = path.join(dir, 'junit.xml');
    await mkdir(target); // a directory where the file should go: rename fails
    await writeFile(path.join(target, 'keep'), 'x');
    await expect(writeFileAtomic(target, '<testsuites/>')).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['junit.xml']);
    expect(await readdir(target)).toEqual(['keep']);
  });

  it('never lets a reader see a partly written file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'result.json');
    const big = (n: number): string => JSON.stringify({ n, pad: 'x'.repeat(2_000_000) });
    await writeFileAtomic(file, big(0));
    let reads = 0;
    const writes = Promise.all([1, 2, 3, 4, 5].map((n) => writeFileAtomic(file, big(n))));
    let done = false;
    void writes.then(() => {
      done = true;
    });
    while (!done) {
      const text = await readFile(file, 'utf8');
      expect(() => JSON.parse(text) as unknown).not.toThrow();
      reads++;
    }
    await writes;
    expect(reads).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(['result.json']);
  });
});
