// Property-based tests of what a learner's files go through before any cluster is involved:
// loadSubmission (bytes → YAML → objects), applyPolicy and the static rubric. Whatever the files
// hold, the outcome is either an ungradable submission (SubmissionError naming file:line, exit 2)
// or a normal verdict (every static check passed or failed, never "could not decide"), within a
// bounded time. Runs a bounded number of cases (FUZZ_RUNS, default 60 per property) and a fixed
// seed unless FUZZ_SEED is set, so `npm test` is repeatable; failures found once are kept below
// as regression cases.
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { SubmissionError, type CheckResult } from '../../../model.js';
import { loadSubmission } from '../../../submission/load.js';
import { applyPolicy } from '../../../submission/policy.js';
import { runStaticRubric } from './index.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261201;
/**
 * Per submission: parse, policy and rubric together, in CPU time (wall-clock time depends on what
 * else the machine runs). A 1 MiB file parses in well under this.
 */
const MAX_CPU_MS_PER_SUBMISSION = 3_000;
/** Wall-clock bound, loose: only catches a hang. */
const MAX_WALL_MS_PER_SUBMISSION = 30_000;
const REFERENCE = fileURLToPath(new URL('../../../../fixtures/submissions/reference/', import.meta.url));
const REFERENCE_FILES = ['deployment.yaml', 'hpa.yaml', 'services.yaml'] as const;
const referenceText = Object.fromEntries(REFERENCE_FILES.map((f) => [f, readFileSync(join(REFERENCE, f), 'utf8')]));

const scratch = mkdtempSync(join(tmpdir(), 'lab-grader-fuzz-'));
let caseNo = 0;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Outcome =
  | { exit: 2; message: string; file?: string; line?: number }
  | { exit: 0 | 1; checks: CheckResult[] };

/** What `lab-grader grade --static-only` decides for these files, without the reporters. */
async function staticOutcome(files: Record<string, string | Uint8Array>): Promise<Outcome> {
  const dir = join(scratch, `case-${++caseNo}`);
  mkdirSync(dir);
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    try {
      const submission = await loadSubmission(dir);
      const policy = applyPolicy(submission.objects, { namespace: 'lab-grader-fuzz-00000' });
      const checks = runStaticRubric({ ...submission, objects: policy.objects });
      return { exit: checks.every((c) => c.status === 'passed') ? 0 : 1, checks };
    } catch (err) {
      if (!(err instanceof SubmissionError)) throw err;
      return { exit: 2, message: err.message, ...(err.location ? { file: err.location.file, line: err.location.line } : {}) };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How often each exit code came out, per property: a property that only ever sees one is vacuous. */
const seen = new Map<string, Set<number>>();
let property = '';

/** The contract every outcome must meet; returns the outcome for further assertions. */
async function expectSane(files: Record<string, string | Uint8Array>): Promise<Outcome> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const outcome = await staticOutcome(files);
  const used = process.cpuUsage(cpu);
  if (!seen.has(property)) seen.set(property, new Set());
  seen.get(property)!.add(outcome.exit);
  const ms = performance.now() - started;
  expect((used.user + used.system) / 1000, 'CPU time for one submission').toBeLessThan(MAX_CPU_MS_PER_SUBMISSION);
  expect(ms, 'wall-clock time for one submission').toBeLessThan(MAX_WALL_MS_PER_SUBMISSION);
  if (outcome.exit === 2) {
    expect(outcome.message.length).toBeGreaterThan(0);
    // Every rejection names a file and a line, except "no manifests at all" (nothing to point at).
    if (!/^no Kubernetes manifests found/.test(outcome.message)) {
      expect(outcome.file, outcome.message).toBeDefined();
      expect(Object.keys(files)).toContain(outcome.file);
      expect(outcome.line, outcome.message).toBeGreaterThanOrEqual(1);
    }
  } else {
    for (const c of outcome.checks) {
      expect(['passed', 'failed'], `${c.id}: ${c.status} ${c.message}`).toContain(c.status);
      expect(typeof c.message).toBe('string');
      expect(c.points).toBeGreaterThanOrEqual(0);
      expect(c.points).toBeLessThanOrEqual(c.maxPoints);
      if (c.location) expect(c.location.line).toBeGreaterThanOrEqual(1);
    }
  }
  return outcome;
}

const params = { numRuns: RUNS, seed: SEED, endOnFailure: true } as const;

/** Values of the wrong (or absurd) type for any field. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, '', 0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, 0.5, '5', '50%', 'NaN', [], {}, [[]], [{}]),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null)), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxKeys: 3 }),
);

/** Every path to a value inside a parsed object (the fields the rubric reads are among them). */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setPath(root: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...Array<string | number>];
  const copy = Array.isArray(root) ? [...root] : { ...(root as Record<string, unknown>) };
  (copy as Record<string | number, unknown>)[head] = setPath((root as Record<string | number, unknown>)[head], rest, value);
  return copy;
}

function deletePath(root: unknown, path: Array<string | number>): unknown {
  if (path.length === 0) return root;
  if (path.length === 1) {
    if (Array.isArray(root)) return root.filter((_, i) => i !== path[0]);
    const { [path[0] as string]: _, ...rest } = root as Record<string, unknown>;
    return rest;
  }
  const [head, ...rest] = path as [string | number, ...Array<string | number>];
  const copy = Array.isArray(root) ? [...root] : { ...(root as Record<string, unknown>) };
  (copy as Record<string | number, unknown>)[head] = deletePath((root as Record<string | number, unknown>)[head], rest);
  return copy;
}

const referenceObjects = Object.fromEntries(REFERENCE_FILES.map((f) => [f, referenceText[f]!.split(/^---$/m).map((d) => parse(d) as unknown)]));

describe('fuzzed submissions: exit 2 with file:line, or a normal verdict', () => {
  it('the reference itself gets a normal verdict (the harness is sound)', async () => {
    const outcome = await expectSane(referenceText);
    expect(outcome.exit).toBe(0);
  });

  it('random bytes in a .yaml file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        await expectSane({ 'deployment.yaml': bytes });
      }),
      params,
    );
  });

  it('random text, and the reference with characters inserted, deleted or replaced', async () => {
    property = 'edits';
    const edit = fc.record({
      file: fc.constantFrom(...REFERENCE_FILES),
      at: fc.nat(),
      remove: fc.nat({ max: 40 }),
      insert: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(':', '- ', '  ', '\t', '\n', '&a', '*a', '!!binary', '---\n', '{', '[', '"', "'", '|', '>', '#', '%YAML 1.2\n', '<<: *a')),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 5 }), fc.string({ maxLength: 300 }), async (edits, junk) => {
        const files: Record<string, string> = { ...referenceText, 'junk.yaml': junk };
        for (const e of edits) {
          const text = files[e.file]!;
          const at = e.at % (text.length + 1);
          files[e.file] = text.slice(0, at) + e.insert + text.slice(at + e.remove);
        }
        await expectSane(files);
      }),
      params,
    );
    expect([...seen.get('edits')!].sort(), 'edits lead both to verdicts and to rejections').toEqual(expect.arrayContaining([1, 2]));
  });

  it('a wrong type, an absurd value or a missing value in any field of the reference', async () => {
    property = 'types';
    const mutation = fc.record({
      file: fc.constantFrom(...REFERENCE_FILES),
      doc: fc.nat(),
      pathPick: fc.nat(),
      value: hostileValue,
      drop: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const docs: Record<string, unknown[]> = Object.fromEntries(REFERENCE_FILES.map((f) => [f, [...referenceObjects[f]!]]));
        for (const m of mutations) {
          const list = docs[m.file]!;
          const d = m.doc % list.length;
          const all = paths(list[d]);
          const path = all[m.pathPick % all.length]!;
          list[d] = m.drop && path.length > 0 ? deletePath(list[d], path) : setPath(list[d], path, m.value);
        }
        const files = Object.fromEntries(Object.entries(docs).map(([f, list]) => [f, list.map((d) => stringify(d)).join('---\n')]));
        await expectSane(files);
      }),
      params,
    );
    expect([...seen.get('types')!].sort(), 'wrong types lead both to failed checks and to rejections').toEqual(expect.arrayContaining([1, 2]));
  });

  it('huge and odd numbers where the rubric reads numbers', async () => {
    const odd = fc.constantFrom(
      '1e400', '-1e400', '99999999999999999999999999', '0x7fffffffffffffff', '.inf', '-.inf', '.nan', '0o777', '1_000', '0b101',
      '5.0000000000000001', '-0', '+5', '1:30', '5e-324', '~', 'null', '"5"', '[5]', '{a: 5}', '!!int 5', '!!float 5', '!!str 5',
    );
    const where = fc.constantFrom<readonly [(typeof REFERENCE_FILES)[number], RegExp, string]>(
      ['deployment.yaml', /replicas: \d+/, 'replicas: '],
      ['hpa.yaml', /minReplicas: \d+/, 'minReplicas: '],
      ['hpa.yaml', /maxReplicas: \d+/, 'maxReplicas: '],
      ['hpa.yaml', /averageUtilization: \d+|targetCPUUtilizationPercentage: \d+/, 'averageUtilization: '],
      ['deployment.yaml', /runAsUser: \d+/, 'runAsUser: '],
      ['deployment.yaml', /port: \d+/, 'port: '],
      ['deployment.yaml', /cpu: \S+/, 'cpu: '],
      ['deployment.yaml', /memory: \S+/, 'memory: '],
      ['deployment.yaml', /periodSeconds: \d+|initialDelaySeconds: \d+/, 'periodSeconds: '],
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(where, odd), { minLength: 1, maxLength: 4 }), async (changes) => {
        const files: Record<string, string> = { ...referenceText };
        for (const [[file, pattern, key], value] of changes) files[file] = files[file]!.replace(pattern, `${key}${value}`);
        await expectSane(files);
      }),
      params,
    );
  });

  it('duplicate keys anywhere in a mapping are rejected with their line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...REFERENCE_FILES), fc.nat(), async (file, pick) => {
        const lines = referenceText[file]!.split('\n');
        const keyed = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[A-Za-z]+:/.test(l) && !/^\s*-/.test(l));
        const [line, index] = keyed[pick % keyed.length]!;
        // The same key again right after its own line (and its block): at the same indentation.
        const indent = /^\s*/.exec(line)![0];
        let end = index + 1;
        while (end < lines.length) {
          const next = lines[end]!;
          const nextIndent = /^\s*/.exec(next)![0].length;
          const inBlock = next.trim() === '' || nextIndent > indent.length || (nextIndent === indent.length && next.trimStart().startsWith('- '));
          if (!inBlock || next.startsWith('---')) break;
          end++;
        }
        const dup = `${indent}${line.trim().split(':')[0]}: duplicated`;
        const files = { ...referenceText, [file]: [...lines.slice(0, end), dup, ...lines.slice(end)].join('\n') };
        const outcome = await expectSane(files);
        expect(outcome.exit, `duplicate of line ${index + 1} in ${file}`).toBe(2);
      }),
      { ...params, numRuns: Math.min(RUNS, 30) },
    );
  });

  it('deep nesting, alias bombs and long documents end within the time bound', async () => {
    const depth = 10_000;
    const cases: Record<string, string> = {
      'flow-nesting.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: ${'['.repeat(depth)}${']'.repeat(depth)}\n`,
      'block-nesting.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n${Array.from({ length: 2_000 }, (_, i) => `${' '.repeat(i + 2)}a${i}:`).join('\n').replace(/^/, 'data:\n')}\n`,
      'alias-bomb.yaml': [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: bomb}',
        'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
        ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
        'data: {k: *i}',
      ].join('\n'),
      'many-docs.yaml': Array.from({ length: 5_000 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\n`).join('---\n'),
      'long-line.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: "${'y'.repeat(900_000)}"}\n`,
    };
    for (const [name, text] of Object.entries(cases)) {
      const heapBefore = process.memoryUsage().heapUsed;
      const outcome = await expectSane({ ...referenceText, [name]: text });
      expect(process.memoryUsage().heapUsed - heapBefore, `${name}: heap growth`).toBeLessThan(512 * 2 ** 20);
      if (name === 'alias-bomb.yaml') expect(outcome.exit, name).toBe(2);
    }
  });
});
