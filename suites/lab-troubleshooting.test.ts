// The troubleshooting lab on the live cluster: every fixture of fixtures/labs/troubleshooting is
// graded by the real CLI (`grade --lab troubleshooting`), 3 at a time; its exit code and group
// verdicts must be what its expected.json says, and the reference gets full marks. Then
// `selfcheck --lab troubleshooting` must pass. LAB_GRADER_ECHO=1 prints the gradings' progress.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { main } from '../src/cli.js';
import type { RunResult } from '../src/model.js';
import { formatDuration, groupVerdicts, limiter, verdictMismatches, type Expected } from './support/grading.js';

const LAB = 'troubleshooting';
const FIXTURES = fileURLToPath(new URL(`../fixtures/labs/${LAB}/`, import.meta.url));
const context = inject('kubeContext');
const echo = process.env.LAB_GRADER_ECHO === '1';
const slot = limiter(3);
const started = Date.now();

const names = readdirSync(FIXTURES)
  .filter((n) => statSync(path.join(FIXTURES, n)).isDirectory() && existsSync(path.join(FIXTURES, n, 'expected.json')))
  .sort();
const expectedFor = (name: string): Expected & { lab: string } => JSON.parse(readFileSync(path.join(FIXTURES, name, 'expected.json'), 'utf8')) as Expected & { lab: string };

interface Run {
  code: number;
  stderr: string;
  result: RunResult | undefined;
  durationMs: number;
}

async function cli(argv: string[], label: string, out: string): Promise<Run> {
  let stderr = '';
  const t = Date.now();
  const code = await main([...argv, '--out', out, '--context', context], {
    stdout: () => {},
    stderr: (s) => {
      stderr += s;
      if (echo) process.stderr.write(s.split('\n').filter(Boolean).map((l) => `[${label}] ${l}\n`).join(''));
    },
    env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '' },
    isTTY: false,
  });
  const file = path.join(out, 'result.json');
  return { code, stderr, result: existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunResult) : undefined, durationMs: Date.now() - t };
}

const gradings = new Map<string, Promise<Run>>();
const grade = (name: string): Promise<Run> => {
  let p = gradings.get(name);
  if (!p) {
    p = slot(() => cli(['grade', path.join(FIXTURES, name), '--lab', LAB], name, mkdtempSync(path.join(tmpdir(), `ts-${name}-`))));
    gradings.set(name, p);
  }
  return p;
};
// All gradings start at once (the limiter runs 3 at a time); each test awaits its own.
for (const name of names) void grade(name).catch(() => undefined);
// Queued after every grading: at most 3 runs share the cluster at any time.
const selfcheck = slot(() => cli(['selfcheck', '--lab', LAB], 'selfcheck', mkdtempSync(path.join(tmpdir(), 'ts-selfcheck-'))));

const lines: string[] = [];
afterAll(() => {
  console.log(`\nTroubleshooting lab gradings (3 at once, suite ${formatDuration(Date.now() - started)}):\n${lines.join('\n')}\n`);
});

describe(`lab ${LAB}: fixtures graded live`, () => {
  it('has a reference and at least one fixture per group that can fail', () => {
    expect(names).toContain('reference');
    for (const group of ['submission', 'pods', 'service']) {
      expect(names.filter((n) => expectedFor(n).groups[group] === 'failed').length, group).toBeGreaterThan(0);
    }
  });

  for (const name of names) {
    it(`${name}: ${expectedFor(name).description.split(':')[0]}`, async () => {
      const expected = expectedFor(name);
      expect(expected.lab).toBe(LAB);
      const g = await grade(name);
      const verdicts = g.result ? groupVerdicts(g.result) : {};
      lines.push(`${name.padEnd(28)} exit ${g.code}  ${g.result ? `${g.result.score}/${g.result.maxScore}` : '-'}  ${formatDuration(g.durationMs).padStart(6)}  ${Object.entries(verdicts).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      expect(g.result, `no result.json; stderr:\n${g.stderr}`).toBeDefined();
      const result = g.result as RunResult;
      expect(result.lab).toBe(LAB);
      expect(verdictMismatches(expected, result), g.stderr.slice(-3000)).toEqual([]);
      expect(expected.exit, `exit ${g.code}`).toContain(g.code);
      if (name === 'reference') {
        expect(result.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
        expect(result.score).toBe(result.maxScore);
      }
      // A check that did not pass says why, in words, never an empty or unreadable message.
      for (const c of result.checks.filter((x) => x.status !== 'passed')) expect(c.message.length, c.id).toBeGreaterThan(10);
    }, 10 * 60_000);
  }
});

describe(`lab-grader selfcheck --lab ${LAB}`, () => {
  it('exits 0: every step of the walkthrough passed', async () => {
    const s = await selfcheck;
    lines.push(`${'selfcheck'.padEnd(28)} exit ${s.code}  ${formatDuration(s.durationMs).padStart(6)}`);
    const notPassed = (s.result?.checks ?? []).filter((c) => c.status !== 'passed').map((c) => `${c.id}: ${c.status}: ${c.message}`);
    expect(notPassed, s.stderr.slice(-3000)).toEqual([]);
    expect(s.result?.checks.length).toBeGreaterThanOrEqual(3);
    expect(s.code).toBe(0);
  }, 12 * 60_000);
});
