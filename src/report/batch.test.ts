import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { productionizing } from '../labs/productionizing/catalogue.js';
import { checkResult } from '../lab/types.js';
import type { CheckResult, RunResult } from '../model.js';
import { batchExitCode, renderBatchJunit, renderBatchSummary, renderResultsCsv, type BatchEntry, type BatchOutcome } from './batch.js';
import { readBatchDir, writeBatchFiles } from './batch-files.js';
import { renderReportHtml, reportData } from './html.js';

const XSD = fileURLToPath(new URL('../../schemas/junit-10.xsd', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function run(name: string, overrides: Partial<Record<string, Partial<CheckResult> & { status: CheckResult['status'] }>> = {}): RunResult {
  const checks = productionizing.checks.map((def) => {
    const o = overrides[def.id];
    return { ...checkResult(def, o?.status ?? 'passed', o?.message ?? `${def.id} ok`, 1200), ...(o ?? {}) };
  });
  return {
    lab: 'productionizing',
    submission: `class/${name}`,
    score: checks.reduce((s, c) => s + (c.status === 'passed' ? c.points : 0), 0),
    maxScore: checks.reduce((s, c) => s + c.maxPoints, 0),
    startedAt: '2026-01-02T03:04:05.000Z',
    durationMs: 90_000,
    checks: checks.map((c) => (c.status === 'passed' ? c : { ...c, points: 0 })),
    exitCode: checks.some((c) => c.status === 'error') ? 3 : checks.some((c) => c.status === 'failed') ? 1 : 0,
  };
}

const alice: BatchEntry = { name: 'alice', dir: 'class/alice', state: 'graded', exitCode: 0, durationMs: 91_000, run: run('alice') };
const bob: BatchEntry = {
  name: 'bob',
  dir: 'class/bob',
  state: 'graded',
  exitCode: 1,
  durationMs: 95_500,
  run: run('bob', {
    'readiness.probe-defined': {
      status: 'failed',
      message: 'no readinessProbe <script>alert(1)</script> & "quotes", commas',
      hint: 'Add a readinessProbe',
      location: { file: 'deployment.yaml', line: 12 },
      diagnostics: 'Events:\n  Warning  Unhealthy </script><b>x</b>',
    },
  }),
};
const carol: BatchEntry = { name: 'carol', dir: 'class/carol', state: 'not-graded', exitCode: 2, durationMs: 0, reason: 'class/carol: cannot read it (EACCES)' };
const outcome: BatchOutcome = { lab: productionizing, entries: [carol, bob, alice] };
const groups = [...new Set(productionizing.checks.map((c) => c.group))];

describe('batch files', () => {
  it('results.csv: a row per submission, sorted, with a verdict per group and CSV quoting', () => {
    const lines = renderResultsCsv(outcome).trimEnd().split('\n');
    expect(lines[0]).toBe(['submission', 'score', 'max', ...groups.map((g) => `${g}_verdict`), 'exit_code', 'duration_s', 'note'].join(','));
    expect(lines.map((l) => l.split(',')[0])).toEqual(['submission', 'alice', 'bob', 'carol']);
    const bobCells = (lines[2] ?? '').split(',');
    expect(bobCells[3 + groups.indexOf('readiness')]).toBe('failed');
    expect(bobCells[3 + groups.indexOf('security')]).toBe('passed');
    expect(lines[3]).toContain('not graded');
    expect(lines[3]).toMatch(/,2,0\.0,"?not graded: class\/carol: cannot read it \(EACCES\)"?$/);
  });

  it('batch exit code: worst of the submissions, 3 when stopped, 2 when empty', () => {
    expect(batchExitCode(outcome)).toBe(2);
    expect(batchExitCode({ entries: [alice, bob] })).toBe(1);
    expect(batchExitCode({ entries: [alice] })).toBe(0);
    expect(batchExitCode({ entries: [alice], stopped: 'interrupted by SIGINT' })).toBe(3);
    expect(batchExitCode({ entries: [] })).toBe(2);
  });

  it('combined junit.xml: a testsuite per submission and group, valid against junit-10.xsd without file/line', async () => {
    const xml = renderBatchJunit(outcome);
    const suites = [...xml.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]);
    expect(suites).toEqual([...groups.map((g) => `alice/productionizing.${g}`), ...groups.map((g) => `bob/productionizing.${g}`), 'carol']);
    expect(xml).toContain('classname="bob/productionizing.readiness"');
    expect(xml).toMatch(/<testsuites name="lab-grader batch productionizing: 3 submissions" tests="(\d+)" failures="1" errors="1"/);
    const tests = Number(/<testsuites[^>]* tests="(\d+)"/.exec(xml)?.[1]);
    expect(tests).toBe(2 * productionizing.checks.length + 1);
    const dir = await mkdtemp(path.join(tmpdir(), 'batch-junit-'));
    dirs.push(dir);
    const file = path.join(dir, 'junit.xml');
    await writeFile(file, xml.replace(/ (file|line)="[^"]*"/g, ''));
    execFileSync('xmllint', ['--noout', '--schema', XSD, file], { stdio: 'pipe' });
  });

  it('summary.md: pass rates per group, not graded submissions with their reason', () => {
    const md = renderBatchSummary(outcome);
    expect(md).toContain('3 submissions: 2 graded, 1 not graded; 1 with full marks. Batch exit code 2.');
    expect(md).toMatch(/\| readiness \| 1\/2 \| 50% \|/);
    expect(md).toMatch(/\| security \| 2\/2 \| 100% \|/);
    expect(md).toContain('**carol** (class/carol): not graded: class/carol: cannot read it (EACCES)');
    expect(md).toContain('**bob**: `readiness.probe-defined` failed');
  });

  it('report.html: self-contained, learner text only inside the JSON data, escaped', () => {
    const html = renderReportHtml(outcome);
    expect(html).not.toMatch(/<(link|img|iframe)\b|src=|href=|https?:/i);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('</script><b>');
    const json = /<script type="application\/json" id="data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const data = JSON.parse(json) as ReturnType<typeof reportData>;
    expect(data.rows.map((r) => r.name)).toEqual(['alice', 'bob', 'carol']);
    expect(data.rows[1]?.cells['readiness.probe-defined']).toMatchObject({ s: 'failed', l: 'deployment.yaml:12', h: 'Add a readinessProbe' });
    expect(data.rates.find((r) => r.group === 'readiness')).toEqual({ group: 'readiness', passed: 1, graded: 2 });
  });

  it('writes the files and reads them back to the same outcome', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'batch-files-'));
    dirs.push(dir);
    for (const e of [alice, bob]) {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(path.join(dir, e.name), { recursive: true });
      await writeFile(path.join(dir, e.name, 'result.json'), JSON.stringify(e.run));
    }
    await writeBatchFiles(dir, outcome);
    const back = await readBatchDir(dir, () => outcome.lab);
    expect(back.entries.map((e) => [e.name, e.state, e.exitCode, e.durationMs])).toEqual([
      ['alice', 'graded', 0, 91_000],
      ['bob', 'graded', 1, 95_500],
      ['carol', 'not-graded', 2, 0],
    ]);
    expect(renderResultsCsv(back)).toBe(await readFile(path.join(dir, 'results.csv'), 'utf8'));
    expect(renderReportHtml(back)).toBe(await readFile(path.join(dir, 'report.html'), 'utf8'));
  });
});
