// Lab "deployments" (blue-green whoami) on the live cluster: every fixture of fixtures/labs/
// deployments is graded by the real CLI, CONCURRENCY at once, and must end with the exit code and
// group verdicts its expected.json gives; the two references (one per submission layout) are
// graded without --lab, so the lab is recognised from the files, and must get full marks. Beside
// them, `lab-grader selfcheck --lab deployments` walks through the lab text with its published
// specs. whoami Pods start in a second or two, so gradings overlap well.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, inject, it } from 'vitest';
import { main } from '../src/cli.js';
import type { RunResult } from '../src/model.js';
import { expectedAt, formatDuration, gradeFixtureAt, groupVerdicts, labFixtureDir, labFixtureNames, limiter, verdictMismatches, type Graded } from './support/grading.js';

const LAB = 'deployments';
const context = inject('kubeContext');
const CONCURRENCY = Math.max(1, Number(process.env.LAB_GRADER_FIXTURE_CONCURRENCY ?? 3));
const echo = process.env.LAB_GRADER_ECHO === '1';
const slot = limiter(CONCURRENCY);
const TIMEOUT_MS = 10 * 60_000;
/** Recognised without --lab. */
const REFERENCES = ['reference', 'reference-v1v2-folders'];

const runs: Array<Pick<Graded, 'name' | 'code' | 'result' | 'durationMs'>> = [];
const started = Date.now();

afterAll(() => {
  const lines = runs.map((r) => {
    const verdicts = r.result ? Object.entries(groupVerdicts(r.result)).map(([k, v]) => `${k}=${v}`).join(' ') : 'no result.json';
    return `${r.name.padEnd(28)} exit ${r.code}  ${(r.result ? `${r.result.score}/${r.result.maxScore}` : '-').padStart(5)}  ${formatDuration(r.durationMs).padStart(6)}  ${verdicts}`;
  });
  console.log(`\nLab ${LAB} (concurrency ${CONCURRENCY}, suite ${formatDuration(Date.now() - started)}):\n${lines.join('\n')}\n`);
});

describe(`lab ${LAB} on the live cluster`, () => {
  it.concurrent('selfcheck --lab deployments walks through the lab text and passes', async ({ expect }) => {
    const out = mkdtempSync(path.join(tmpdir(), `selfcheck-${LAB}-`));
    let stderr = '';
    const t0 = Date.now();
    const code = await slot(() =>
      main(['selfcheck', '--lab', LAB, '--out', out, '--context', context], {
        stdout: () => undefined,
        stderr: (t) => {
          stderr += t;
          if (echo) process.stderr.write(t);
        },
        env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '' },
        isTTY: false,
      }),
    );
    const file = path.join(out, 'result.json');
    const result = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunResult) : undefined;
    runs.push({ name: 'selfcheck', code, result, durationMs: Date.now() - t0 });
    expect(result, stderr).toBeDefined();
    expect(result!.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id} ${c.status}: ${c.message}`)).toEqual([]);
    expect(result!.checks.map((c) => c.id)).toContain('walkthrough.update-smaller-output');
    expect(code).toBe(0);
  }, TIMEOUT_MS);

  for (const name of labFixtureNames(LAB)) {
    const dir = labFixtureDir(LAB, name);
    const exp = expectedAt(dir);
    it.concurrent(`${name}: ${exp.description}`, async ({ expect }) => {
      const g = await slot(() => gradeFixtureAt(dir, { context, echo, ...(REFERENCES.includes(name) ? {} : { lab: LAB }) }));
      runs.push(g);
      expect(g.result, g.stderr).toBeDefined();
      const result = g.result as RunResult;
      expect(result.lab).toBe(LAB);
      expect(verdictMismatches(exp, result)).toEqual([]);
      expect(exp.exit, `exit ${g.code}: ${g.stderr.split('\n').slice(-4).join(' | ')}`).toContain(g.code);
      if (REFERENCES.includes(name)) {
        expect(result.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id} ${c.status}: ${c.message}`)).toEqual([]);
        expect(result.score).toBe(result.maxScore);
      }
    }, TIMEOUT_MS);
  }
});
