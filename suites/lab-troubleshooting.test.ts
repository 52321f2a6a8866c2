// The troubleshooting lab on the live cluster: every fixture of fixtures/labs/troubleshooting is
// graded by the real CLI (`grade --lab troubleshooting`), 3 at a time; its exit code and group
// verdicts must be what its expected.json says, and the reference gets full marks. Then
// `lab-grader selfcheck --lab troubleshooting` must pass. LAB_GRADER_ECHO=1 prints progress.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { main } from '../src/cli.js';
import { CHECKS } from '../src/labs/troubleshooting/catalogue.js';
import type { RunResult } from '../src/model.js';
import { expectedAt, formatDuration, gradeFixtureAt, groupVerdicts, labFixtureDir, labFixtureNames, limiter, verdictMismatches, type Graded } from './support/grading.js';

const LAB = 'troubleshooting';
const context = inject('kubeContext');
const echo = process.env.LAB_GRADER_ECHO === '1';
const slot = limiter(3);
const started = Date.now();
const STATIC_IDS = new Set<string>(CHECKS.filter((c) => c.kind === 'static').map((c) => c.id));
const names = labFixtureNames(LAB);
const expectedFor = (name: string) => expectedAt(labFixtureDir(LAB, name));

// Every grading is queued at once (the limiter runs 3 at a time); each test awaits its own.
const gradings = new Map(names.map((name) => [name, slot(() => gradeFixtureAt(labFixtureDir(LAB, name), { context, lab: LAB, echo }))] as const));
for (const p of gradings.values()) p.catch(() => undefined);
// Queued after the gradings, so at most 3 runs share the cluster.
const selfcheck = slot(async () => {
  const out = mkdtempSync(path.join(tmpdir(), `selfcheck-${LAB}-`));
  let stderr = '';
  const t = Date.now();
  const code = await main(['selfcheck', '--lab', LAB, '--out', out, '--context', context], {
    stdout: () => {},
    stderr: (s) => {
      stderr += s;
      if (echo) process.stderr.write(s);
    },
    env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '' },
    isTTY: false,
  });
  const file = path.join(out, 'result.json');
  const result = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunResult) : undefined;
  return { code, stderr, result, durationMs: Date.now() - t };
});
selfcheck.catch(() => undefined);

const lines: string[] = [];
afterAll(() => {
  console.log(`\nTroubleshooting lab gradings (3 at once, suite ${formatDuration(Date.now() - started)}):\n${lines.sort().join('\n')}\n`);
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
      const g: Graded = await (gradings.get(name) as Promise<Graded>);
      const verdicts = g.result ? groupVerdicts(g.result) : {};
      lines.push(`${name.padEnd(28)} exit ${g.code}  ${g.result ? `${g.result.score}/${g.result.maxScore}` : '-'}  ${formatDuration(g.durationMs).padStart(6)}  ${Object.entries(verdicts).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      expect(g.result, `no result.json; stderr:\n${g.stderr}`).toBeDefined();
      const result = g.result as RunResult;
      expect(result.lab).toBe(LAB);
      expect(verdictMismatches(expected, result), g.stderr.slice(-3000)).toEqual([]);
      expect(expected.exit, `exit ${g.code}`).toContain(g.code);
      // The static part is what --static-only reports: exactly the static checks expected.json lists fail.
      const staticFailed = result.checks.filter((c) => c.status !== 'passed' && STATIC_IDS.has(c.id)).map((c) => c.id);
      expect(staticFailed).toEqual(expected.static.failed);
      if (name === 'reference') {
        expect(result.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
        expect(result.score).toBe(result.maxScore);
      }
      // A check that did not pass says why, in words.
      for (const c of result.checks.filter((x) => x.status !== 'passed')) expect(c.message.length, c.id).toBeGreaterThan(10);
    }, 10 * 60_000);
  }
});

describe(`lab-grader selfcheck --lab ${LAB}`, () => {
  it('exits 0: the published specs fail as the lab says, each fault fails for its reason, the fixed specs run', async () => {
    const s = await selfcheck;
    lines.push(`${'(selfcheck)'.padEnd(28)} exit ${s.code}  ${s.result ? `${s.result.score}/${s.result.maxScore}` : '-'}  ${formatDuration(s.durationMs).padStart(6)}`);
    const notPassed = (s.result?.checks ?? []).filter((c) => c.status !== 'passed').map((c) => `${c.id}: ${c.status}: ${c.message}`);
    expect(notPassed, s.stderr.slice(-3000)).toEqual([]);
    expect(s.result?.checks.map((c) => c.id)).toEqual(['walkthrough.published-specs-rejected', 'walkthrough.fixed-specs-run', 'walkthrough.each-fault-fails']);
    expect(s.code).toBe(0);
  }, 10 * 60_000);
});
