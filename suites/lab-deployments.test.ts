// Lab "deployments" (blue-green whoami) on the live cluster: every fixture of fixtures/labs/
// deployments is graded by the real CLI, CONCURRENCY at once, and must end with the exit code and
// group verdicts its expected.json gives; the two references (one per submission layout) are
// graded without --lab, so the lab is recognised from the files, and must get full marks. Then
// `lab-grader selfcheck --lab deployments` walks through the lab text with its published specs.
// whoami Pods request no CPU and start in a second or two, so gradings overlap well.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, inject, it } from 'vitest';
import { main } from '../src/cli.js';
import type { RunResult } from '../src/model.js';
import { fileURLToPath } from 'node:url';
import { formatDuration, groupVerdicts, limiter, verdictMismatches, type Expected } from './support/grading.js';

const LAB = 'deployments';
const FIXTURES = fileURLToPath(new URL(`../fixtures/labs/${LAB}/`, import.meta.url));
const labFixturesDir = (_lab: string): string => FIXTURES;
const labFixtureNames = (_lab: string): string[] => readdirSync(FIXTURES).filter((n) => existsSync(path.join(FIXTURES, n, 'expected.json'))).sort();
const context = inject('kubeContext');
const CONCURRENCY = Math.max(1, Number(process.env.LAB_GRADER_FIXTURE_CONCURRENCY ?? 3));
const slot = limiter(CONCURRENCY);
const FIXTURE_TIMEOUT_MS = 10 * 60_000;
const REFERENCES = ['reference', 'reference-v1v2-folders'];

interface Run {
  name: string;
  code: number;
  stderr: string;
  result: RunResult | undefined;
  durationMs: number;
}

async function cli(name: string, argv: string[], outDir: string): Promise<Run> {
  let stderr = '';
  const started = Date.now();
  const code = await main(argv, {
    stdout: () => undefined,
    stderr: (t) => {
      stderr += t;
      if (process.env.LAB_GRADER_ECHO === '1') process.stderr.write(t.split('\n').filter(Boolean).map((l) => `[${name}] ${l}\n`).join(''));
    },
    env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '' },
    isTTY: false,
  });
  const file = path.join(outDir, 'result.json');
  const result = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunResult) : undefined;
  return { name, code, stderr, result, durationMs: Date.now() - started };
}

function grade(name: string): Promise<Run> {
  const out = mkdtempSync(path.join(tmpdir(), `grade-${LAB}-${name}-`));
  const lab = REFERENCES.includes(name) ? [] : ['--lab', LAB];
  return cli(name, ['grade', path.join(labFixturesDir(LAB), name), ...lab, '--out', out, '--context', context], out);
}

const expected = (name: string): Expected => JSON.parse(readFileSync(path.join(labFixturesDir(LAB), name, 'expected.json'), 'utf8')) as Expected;
const runs: Run[] = [];
const started = Date.now();

afterAll(() => {
  const lines = runs.map((r) => {
    const verdicts = r.result ? Object.entries(groupVerdicts(r.result)).map(([k, v]) => `${k}=${v}`).join(' ') : 'no result.json';
    return `${r.name.padEnd(28)} exit ${r.code}  ${r.result ? `${r.result.score}/${r.result.maxScore}` : '-'}  ${formatDuration(r.durationMs).padStart(6)}  ${verdicts}`;
  });
  console.log(`\nLab ${LAB} (concurrency ${CONCURRENCY}, suite ${formatDuration(Date.now() - started)}):\n${lines.join('\n')}\n`);
});

describe(`lab ${LAB} on the live cluster`, () => {
  for (const name of labFixtureNames(LAB)) {
    const exp = expected(name);
    it.concurrent(`${name}: ${exp.description}`, async ({ expect }) => {
      const r = await slot(() => grade(name));
      runs.push(r);
      expect(r.result, r.stderr).toBeDefined();
      const result = r.result as RunResult;
      expect(result.lab).toBe(LAB);
      expect(verdictMismatches(exp, result)).toEqual([]);
      expect(exp.exit, `exit ${r.code}; ${r.stderr.split('\n').slice(-5).join(' | ')}`).toContain(r.code);
      if (REFERENCES.includes(name)) {
        expect(result.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id} ${c.status}: ${c.message}`)).toEqual([]);
        expect(result.score).toBe(result.maxScore);
        expect(r.code).toBe(0);
      }
    }, FIXTURE_TIMEOUT_MS);
  }

  it.concurrent('selfcheck --lab deployments walks through the lab text and passes', async ({ expect }) => {
    const out = mkdtempSync(path.join(tmpdir(), `selfcheck-${LAB}-`));
    const r = await slot(() => cli('selfcheck', ['selfcheck', '--lab', LAB, '--out', out, '--context', context], out));
    runs.push(r);
    expect(r.result, r.stderr).toBeDefined();
    const result = r.result as RunResult;
    expect(result.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id} ${c.status}: ${c.message}`)).toEqual([]);
    expect(result.checks.map((c) => c.id)).toContain('walkthrough.update-smaller-output');
    expect(r.code).toBe(0);
  }, FIXTURE_TIMEOUT_MS);
});
