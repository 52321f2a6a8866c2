// Grading fixture submissions with the real CLI (`main` from src/cli.ts, in this process) and
// comparing the outcome with their expected.json.
import { mkdtempSync, readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli.js';
import type { RunResult } from '../../src/model.js';
import { groupChecks } from '../../src/report/groups.js';

export const SUBMISSIONS = fileURLToPath(new URL('../../fixtures/submissions/', import.meta.url));
/** Fixtures of plug-in labs: fixtures/labs/<lab-id>/<name>/ with an expected.json each. */
export const LAB_FIXTURES = fileURLToPath(new URL('../../fixtures/labs/', import.meta.url));

export type ExpectedVerdict = 'passed' | 'failed' | 'skipped' | 'any';

export interface Expected {
  description: string;
  exit: number[];
  groups: Record<string, ExpectedVerdict>;
  static: { exit: number; failed: string[] };
  /** Text each listed check's message must contain (the reason quoted from Kubernetes). */
  messages?: Record<string, string>;
  /** The lab the fixture is for (fixtures/labs/<lab>/…): graded with --lab. */
  lab?: string;
}

/** Fixture folders that have an expected.json, sorted. */
export function fixtureNames(): string[] {
  return readdirSync(SUBMISSIONS)
    .filter((name) => statSync(path.join(SUBMISSIONS, name)).isDirectory() && existsSync(path.join(SUBMISSIONS, name, 'expected.json')))
    .sort();
}

export function expectedFor(name: string): Expected {
  return expectedAt(path.join(SUBMISSIONS, name));
}

/** The expected.json of the fixture folder `dir`. */
export function expectedAt(dir: string): Expected {
  return JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
}

/** The folder of a plug-in lab's fixture. */
export function labFixtureDir(labId: string, name: string): string {
  return path.join(LAB_FIXTURES, labId, name);
}

/** Fixture folders of a plug-in lab (fixtures/labs/<labId>/) that have an expected.json, sorted. */
export function labFixtureNames(labId: string): string[] {
  const root = path.join(LAB_FIXTURES, labId);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => statSync(path.join(root, name)).isDirectory() && existsSync(path.join(root, name, 'expected.json')))
    .sort();
}

export interface Graded {
  name: string;
  code: number;
  stdout: string;
  stderr: string;
  result: RunResult | undefined;
  durationMs: number;
  outDir: string;
}

export interface GradeOptions {
  context: string;
  /** Passed as --lab (default: none, the CLI recognises the lab). */
  lab?: string;
  budget?: string;
  /** Also print the CLI's output as it comes (to see progress in long runs). */
  echo?: boolean;
}

export async function gradeFixture(name: string, opts: GradeOptions): Promise<Graded> {
  return gradeFixtureAt(path.join(SUBMISSIONS, name), opts);
}

/**
 * Grades the submission folder `dir` with the real CLI in this process (several may run at once:
 * wrap them in `limiter`). Plug-in labs pass `lab` (their expected.json's "lab").
 */
export async function gradeFixtureAt(dir: string, opts: GradeOptions): Promise<Graded> {
  const name = path.basename(dir);
  const outDir = mkdtempSync(path.join(tmpdir(), `grade-${opts.lab ? `${opts.lab}-` : ''}${name}-`));
  let stdout = '';
  let stderr = '';
  const started = Date.now();
  const argv = [
    'grade', dir, '--out', outDir, '--context', opts.context,
    ...(opts.lab ? ['--lab', opts.lab] : []),
    ...(opts.budget ? ['--budget', opts.budget] : []),
  ];
  const prefix = `[${opts.lab ? `${opts.lab}/` : ''}${name}] `;
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
      if (opts.echo) process.stderr.write(t.split('\n').filter(Boolean).map((l) => `${prefix}${l}\n`).join(''));
    },
    // Plain progress lines, no annotations for the GitHub runner from fixtures.
    env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '' },
    isTTY: false,
  });
  const resultPath = path.join(outDir, 'result.json');
  const result = existsSync(resultPath) ? (JSON.parse(readFileSync(resultPath, 'utf8')) as RunResult) : undefined;
  return { name, code, stdout, stderr, result, durationMs: Date.now() - started, outDir };
}

/** Each group's verdict as the reports compute it (failed > error > passed; all skipped = skipped). */
export function groupVerdicts(result: RunResult): Record<string, string> {
  return Object.fromEntries(groupChecks(result.checks).map((g) => [g.group, g.verdict]));
}

/** Lines naming every group whose verdict differs from the expected one ("any" matches all). */
export function verdictMismatches(expected: Expected, result: RunResult): string[] {
  const actual = groupVerdicts(result);
  const out: string[] = [];
  for (const [group, want] of Object.entries(expected.groups)) {
    if (want === 'any') continue;
    const got = actual[group] ?? 'missing';
    if (got !== want) {
      const detail = result.checks
        .filter((c) => c.group === group && c.status !== 'passed')
        .map((c) => `${c.id} ${c.status}: ${c.message.split('\n')[0]}`)
        .join('; ');
      out.push(`${group}: expected ${want}, got ${got}${detail ? ` (${detail})` : ''}`);
    }
  }
  for (const [id, text] of Object.entries(expected.messages ?? {})) {
    const c = result.checks.find((x) => x.id === id);
    if (!c?.message.includes(text)) out.push(`${id}: expected its message to contain ${JSON.stringify(text)}, got ${JSON.stringify(c?.message ?? 'no such check')}`);
  }
  const unreadable = result.checks.filter((c) => `${c.message} ${c.diagnostics ?? ''}`.includes('[object Object]')).map((c) => c.id);
  if (unreadable.length > 0) out.push(`unreadable error text ([object Object]) in ${unreadable.join(', ')}`);
  return out;
}

/** A tiny semaphore: at most `n` gradings at once on the shared cluster. */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  const release = (): void => {
    active--;
    queue.shift()?.();
  };
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      release();
    }
  };
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
