// `lab-grader batch` on the live cluster, once, then everything else on its output:
//  - six fixture submissions (full marks, failing in three different groups, two ungradable) plus
//    bad input (a missing folder, a folder listed twice), at concurrency 2 through the real CLI;
//  - per submission: the same exit code and group verdicts as single grading (expected.json, which
//    grade-fixtures holds single gradings to), and the static checks exactly as `grade
//    --static-only` decides them;
//  - the batch files: results.csv, combined junit.xml valid against junit-10.xsd (file/line
//    removed, as the contract says), summary.md, report.html opened in headless Chromium;
//  - merge: the same list cut into two shards (re-run with --resume, so nothing is graded twice)
//    and merged gives byte-identical batch files.
// Live gradings here are four; the rest costs seconds.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../src/cli.js';
import type { RunResult } from '../src/model.js';
import { checkReportInBrowser } from './support/report-browser.js';
import { expectedFor, formatDuration, groupVerdicts, SUBMISSIONS, verdictMismatches } from './support/grading.js';

const context = inject('kubeContext');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'lab-grader.js');
const XSD = path.join(ROOT, 'schemas', 'junit-10.xsd');
const SCREENSHOT = path.join(ROOT, 'reports', 'batch-report.png');

const LIVE = ['reference', 'no-readiness', 'runs-as-root', 'replicas-three'];
const UNGRADABLE = ['malformed-yaml', 'empty'];
const FIXTURES = [...LIVE, ...UNGRADABLE];
const CONCURRENCY = 2;
const BATCH_FILES = ['results.csv', 'junit.xml', 'summary.md', 'report.html'];

const work = mkdtempSync(path.join(tmpdir(), 'batch-suite-'));
const out = path.join(work, 'all');
let batch: { exitCode: number; stdout: string; stderr: string; ms: number };

function list(file: string, lines: string[]): string {
  writeFileSync(file, ['path', ...lines, ''].join('\n'));
  return file;
}

async function cli(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const r = await execa(process.execPath, [BIN, ...args], { reject: false, env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '' }, all: false });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

function result(name: string, dir = out): RunResult {
  return JSON.parse(readFileSync(path.join(dir, name, 'result.json'), 'utf8')) as RunResult;
}

beforeAll(async () => {
  const source = list(path.join(work, 'class.csv'), [
    ...FIXTURES.map((f) => path.join(SUBMISSIONS, f)),
    path.join(SUBMISSIONS, 'reference'), // listed twice: graded once
    path.join(work, 'missing-student'), // no such folder: reported, not graded
  ]);
  batch = await cli(['batch', source, '--concurrency', String(CONCURRENCY), '--out', out, '--context', context]);
  console.log(`batch of ${FIXTURES.length} submissions at concurrency ${CONCURRENCY}: ${formatDuration(batch.ms)}, exit ${batch.exitCode}\n${batch.stdout}`);
}, 40 * 60_000);

describe('lab-grader batch on the live cluster', () => {
  it('grades every submission, reports bad input, and exits with the worst code', () => {
    expect(batch.stderr).toMatch(/preflight .*metrics API ok.*concurrency 2/);
    expect(batch.stderr).toMatch(/reference: listed twice .*graded once/);
    expect(batch.stderr).toMatch(/not graded: .*missing-student: no such folder/);
    // malformed-yaml, empty and the missing folder are ungradable (2); nothing broke (no 3).
    expect(batch.exitCode, batch.stderr).toBe(2);
    const csv = readFileSync(path.join(out, 'results.csv'), 'utf8').trimEnd().split('\n');
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual([...FIXTURES, 'missing-student'].sort());
    for (const f of BATCH_FILES) expect(existsSync(path.join(out, f)), f).toBe(true);
  });

  it.each(FIXTURES)('%s: exit code and verdicts as when graded alone', async (name) => {
    const exp = expectedFor(name);
    const run = result(name);
    expect(exp.exit).toContain(run.exitCode);
    expect(verdictMismatches(exp, run)).toEqual([]);
    expect(run.checks.filter((c) => c.status === 'error').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    // Static checks, check by check, against a single `grade --static-only` of the same folder.
    const single = path.join(work, 'static', name);
    const code = await main(['grade', path.join(SUBMISSIONS, name), '--static-only', '--out', single], {
      stdout: () => undefined,
      stderr: () => undefined,
      env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '' },
      isTTY: false,
    });
    expect(code).toBe(exp.static.exit);
    const alone = result(name, path.join(work, 'static'));
    const decided = alone.checks.filter((c) => c.status !== 'skipped');
    expect(decided.length).toBeGreaterThan(0);
    for (const c of decided) expect(`${c.id}: ${run.checks.find((b) => b.id === c.id)?.status}`).toBe(`${c.id}: ${c.status}`);
    const csvRow = readFileSync(path.join(out, 'results.csv'), 'utf8').split('\n').find((l) => l.startsWith(`${name},`)) ?? '';
    const verdicts = groupVerdicts(run);
    expect(csvRow).toContain(`,${run.score},${run.maxScore},${Object.values(verdicts).join(',')},${run.exitCode},`);
  });

  it('combined junit.xml: a testsuite per submission and group, valid against junit-10.xsd', () => {
    const xml = readFileSync(path.join(out, 'junit.xml'), 'utf8');
    const suites = [...xml.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]);
    for (const name of FIXTURES) {
      for (const group of Object.keys(groupVerdicts(result(name)))) expect(suites).toContain(`${name}/productionizing.${group}`);
    }
    expect(suites).toContain('missing-student');
    const stripped = path.join(work, 'junit-stripped.xml');
    writeFileSync(stripped, xml.replace(/ (file|line)="[^"]*"/g, ''));
    execFileSync('xmllint', ['--noout', '--schema', XSD, stripped], { stdio: 'pipe' });
  });

  it('summary.md: pass rates per group and what was not graded', () => {
    const md = readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(md).toContain('7 submissions: 6 graded, 1 not graded; 1 with full marks. Batch exit code 2.');
    expect(md).toMatch(/\| readiness \| 3\/6 \| 50% \|/);
    expect(md).toMatch(/\*\*missing-student\*\* .*no such folder/);
  });

  it('report.html in headless Chromium: every submission, failed-only filter, a failure\'s diagnostics', async () => {
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    const failed = result('no-readiness').checks.find((c) => c.status === 'failed' && c.diagnostics);
    expect(failed, 'no-readiness has a failed live check with diagnostics').toBeDefined();
    const seen = await checkReportInBrowser(path.join(out, 'report.html'), SCREENSHOT, { submission: 'no-readiness', check: failed!.id });
    expect(seen.consoleErrors).toEqual([]);
    expect(seen.failedRequests).toEqual([]);
    expect(seen.rows).toEqual([...FIXTURES, 'missing-student'].sort());
    expect(seen.failedRows).toEqual([...FIXTURES.filter((f) => f !== 'reference'), 'missing-student'].sort());
    expect(seen.details.title).toBe(`no-readiness — ${failed!.id}`);
    expect(seen.details.status).toContain('failed');
    expect(seen.details.message).toBe(failed!.message);
    expect(seen.details.diagnostics).toBe(failed!.diagnostics);
    if (failed!.hint) expect(seen.details.hint).toBe(failed!.hint);
    expect(seen.groupFiltered.columns.every((c) => c.startsWith('readiness.'))).toBe(true);
    expect(seen.groupFiltered.rows).toEqual(['empty', 'malformed-yaml', 'missing-student', 'no-readiness']);
    expect(seen.rates.find((r) => r.group === 'readiness')?.passed).toBe('3/6');
    expect(seen.sortedByScoreDesc[0]).toBe('reference');
    expect(existsSync(SCREENSHOT)).toBe(true);
  }, 120_000);

  it('merge of two shards equals the batch of both', async () => {
    const names = [...FIXTURES].sort();
    const shards = [names.filter((_, i) => i % 2 === 0), names.filter((_, i) => i % 2 === 1)];
    const dirs: string[] = [];
    for (const [i, shard] of shards.entries()) {
      const dir = path.join(work, `shard-${i + 1}`);
      mkdirSync(dir, { recursive: true });
      // A shard's runner would have graded these; here its results come from the batch above and
      // --resume keeps them, so the shard is written by the real batch command without regrading.
      for (const name of shard) cpSync(path.join(out, name), path.join(dir, name), { recursive: true });
      cpSync(path.join(out, 'batch.json'), path.join(dir, 'batch.json'));
      const extra = i === 1 ? [path.join(work, 'missing-student')] : [];
      const source = list(path.join(work, `shard-${i + 1}.csv`), [...shard.map((n) => path.join(SUBMISSIONS, n)), ...extra]);
      const r = await cli(['batch', source, '--out', dir, '--context', context, '--resume']);
      expect(r.stderr).not.toMatch(/batch: started/);
      expect(r.stderr.match(/kept from an earlier run/g)?.length).toBe(shard.length);
      dirs.push(dir);
    }
    const merged = path.join(work, 'merged');
    const m = await cli(['merge', ...dirs, '--out', merged]);
    expect(m.exitCode, m.stderr).toBe(batch.exitCode);
    for (const f of BATCH_FILES) expect(readFileSync(path.join(merged, f), 'utf8'), f).toBe(readFileSync(path.join(out, f), 'utf8'));
    for (const name of FIXTURES) expect(existsSync(path.join(merged, name, 'result.json')), name).toBe(true);
  }, 120_000);
});

describe('lab-grader batch interrupted', () => {
  it('SIGINT mid-batch: running gradings write their reports as interrupted, the rest is listed as not graded, exit 3', async () => {
    const dir = path.join(work, 'interrupted');
    const source = list(path.join(work, 'interrupted.csv'), ['no-liveness', 'reference'].map((f) => path.join(SUBMISSIONS, f)));
    const child = execa(process.execPath, [BIN, 'batch', source, '--concurrency', '1', '--out', dir, '--context', context], {
      reject: false,
      env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '' },
    });
    let stderr = '';
    // Interrupt once the first grading has its namespace (its log says so).
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no grading started within 12 minutes:\n${stderr}`)), 12 * 60_000);
      const poll = setInterval(() => {
        const log = path.join(dir, 'no-liveness', 'grade.log');
        if (existsSync(log) && /namespace \S+ created/.test(readFileSync(log, 'utf8'))) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve();
        }
      }, 1000);
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
    });
    const sent = Date.now();
    child.kill('SIGINT');
    const r = await child;
    const stopMs = Date.now() - sent;
    expect(r.exitCode, `${r.stdout}\n${stderr}`).toBe(3);
    expect(stopMs).toBeLessThan(90_000);
    expect(stderr).toMatch(/SIGINT: no new gradings/);
    const csv = readFileSync(path.join(dir, 'results.csv'), 'utf8');
    expect(csv).toMatch(/^no-liveness,.*,3,[0-9.]+,interrupted$/m);
    expect(csv).toMatch(/^reference,,,not graded.*,3,0\.0,not graded: interrupted by SIGINT$/m);
    const run = result('no-liveness', dir);
    expect(run.interrupted).toBe(true);
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('**The batch was stopped: interrupted by SIGINT.**');
    // The interrupted grading deleted its namespace on the way out.
    const { testKube } = await import('./support/cluster.js');
    const kube = testKube();
    const left = (await kube.core.listNamespace()).items.filter((n) => n.metadata?.name === run.namespace && !n.metadata?.deletionTimestamp);
    expect(left).toEqual([]);
  }, 15 * 60_000);
});
