// The whole walkthrough on the live cluster: every step of the productionizing lab, with the lab's
// own specs, does what the lab says, and the reports say so.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunResult } from '../src/model.js';
import { SELFCHECK_CHECKS } from '../src/labs/productionizing/selfcheck/catalogue.js';
import { runSelfcheck } from '../src/labs/productionizing/selfcheck/run.js';

describe('lab-grader selfcheck', () => {
  let out: string;
  let exitCode: number;
  let stdout = '';
  let run: RunResult;

  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'selfcheck-'));
    exitCode = await runSelfcheck({
      out,
      context: inject('kubeContext'),
      handleSignals: false,
      budgetMs: 14 * 60_000,
      stdout: (t) => {
        stdout += t;
        process.stderr.write(t);
      },
    });
    run = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
  }, 15 * 60_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('exits 0: every step of the walkthrough passed', () => {
    const notPassed = run.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id}: ${c.status}: ${c.message}`);
    expect(notPassed).toEqual([]);
    expect(exitCode).toBe(0);
    expect(run.exitCode).toBe(0);
  });

  it('lists every step of the catalogue in result.json, in order, with status passed and none skipped', () => {
    expect(run.mode).toBe('selfcheck');
    expect(run.checks.map((c) => c.id)).toEqual(SELFCHECK_CHECKS.map((c) => c.id));
    for (const c of run.checks) {
      expect(c.status, c.id).toBe('passed');
      expect(c.message, c.id).not.toBe('');
    }
    expect(run.checks.some((c) => c.status === 'skipped')).toBe(false);
    expect(run.score).toBe(run.maxScore);
    expect(run.maxScore).toBe(SELFCHECK_CHECKS.length);
  });

  it('writes junit.xml with one passing testcase per step, and summary.md', async () => {
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(junit).toMatch(new RegExp(`<testsuites [^>]*tests="${SELFCHECK_CHECKS.length}" failures="0" errors="0"`));
    expect(junit.match(/<testcase /g)).toHaveLength(SELFCHECK_CHECKS.length);
    expect(junit).not.toContain('<skipped');
    expect(existsSync(path.join(out, 'summary.md'))).toBe(true);
    expect(stdout).toContain(`${SELFCHECK_CHECKS.length}/${SELFCHECK_CHECKS.length} steps passed`);
  });
});
