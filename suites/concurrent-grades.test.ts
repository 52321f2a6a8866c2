// A class batch grades many submissions at once on one cluster. The verdicts must not depend on
// that: the reference graded four times at the same moment gets full, identical verdicts every
// time. The cluster holds about one grading's Pods at a time, so the gradings take turns for room
// (the grader waits for it) and the rest of each grading overlaps; the test asserts verdicts, not
// speed. No report may carry an unreadable error ("[object Object]").
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import type { RunResult } from '../src/model.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REFERENCE = join(ROOT, 'fixtures/submissions/reference');
const RUNS = 4;
const TIMEOUT_MS = 30 * 60_000;

async function grade(i: number): Promise<{ code: number; output: string; out: string; result?: RunResult }> {
  const out = mkdtempSync(join(tmpdir(), `concurrent-${i}-`));
  const r = await execa('node', [join(ROOT, 'bin/lab-grader.js'), 'grade', REFERENCE, '--out', out, '--context', inject('kubeContext')], {
    cwd: ROOT,
    reject: false,
    all: true,
    env: { CI: 'true', GITHUB_ACTIONS: '' },
    timeout: TIMEOUT_MS - 60_000,
  });
  const path = join(out, 'result.json');
  return { code: r.exitCode ?? -1, output: String(r.all ?? ''), out, ...(existsSync(path) ? { result: JSON.parse(readFileSync(path, 'utf8')) as RunResult } : {}) };
}

describe('gradings at once on one cluster', () => {
  it(`the reference graded ${RUNS} times at once gets full, identical verdicts every time`, async () => {
    const started = Date.now();
    const runs = await Promise.all(Array.from({ length: RUNS }, (_, i) => grade(i)));
    console.log(`${RUNS} concurrent reference gradings took ${Math.round((Date.now() - started) / 1000)}s`);
    const verdicts = runs.map((r) => (r.result?.checks ?? []).map((c) => `${c.id} ${c.status} ${c.points}/${c.maxPoints}`));
    for (const [i, r] of runs.entries()) {
      const notPassed = (r.result?.checks ?? []).filter((c) => c.status !== 'passed').map((c) => `${c.id} ${c.status}: ${c.message}`);
      expect(notPassed, `run ${i}: checks not passed\n${r.output.slice(-3000)}`).toEqual([]);
      expect(r.code, `run ${i} exit code`).toBe(0);
      expect(r.result?.score).toBe(r.result?.maxScore);
      expect(verdicts[i]).toEqual(verdicts[0]);
      for (const file of ['junit.xml', 'result.json', 'summary.md']) {
        expect(readFileSync(join(r.out, file), 'utf8'), `run ${i} ${file}`).not.toContain('[object Object]');
      }
    }
    expect(verdicts[0]?.length).toBeGreaterThan(20);
  }, TIMEOUT_MS);
});
