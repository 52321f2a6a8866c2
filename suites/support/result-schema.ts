// Validates result.json against docs/result.schema.json (the published contract), with ajv.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const schema = JSON.parse(readFileSync(new URL('../../docs/result.schema.json', import.meta.url), 'utf8')) as object;
// ajv-formats is CommonJS with a default export; under NodeNext the callable may sit on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);

/** Schema errors as `path: message` lines; empty when the report is valid. */
export function validateResultJson(report: unknown): string[] {
  if (validate(report)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
}

/** Also checks the arithmetic the schema cannot express. */
export function resultJsonProblems(report: unknown): string[] {
  const problems = validateResultJson(report);
  if (problems.length) return problems;
  const r = report as { score: number; maxScore: number; checks: Array<{ id: string; points: number; maxPoints: number }> };
  const sum = (f: (c: (typeof r.checks)[number]) => number): number => r.checks.reduce((s, c) => s + f(c), 0);
  if (sum((c) => c.points) !== r.score) problems.push(`/score: ${r.score} is not the sum of the checks' points (${sum((c) => c.points)})`);
  if (sum((c) => c.maxPoints) !== r.maxScore) problems.push(`/maxScore: ${r.maxScore} is not the sum of the checks' maxPoints (${sum((c) => c.maxPoints)})`);
  for (const c of r.checks) if (c.points > c.maxPoints) problems.push(`/checks/${c.id}: points ${c.points} above maxPoints ${c.maxPoints}`);
  return problems;
}

/**
 * Problems with the reports in a grade's output folder: result.json against the schema, and
 * classroom.json agreeing with it (the posted points sum to the score unless the run errored).
 */
export function reportFolderProblems(outDir: string): string[] {
  const read = (f: string): unknown => JSON.parse(readFileSync(`${outDir}/${f}`, 'utf8'));
  const result = read('result.json') as { score: number; exitCode?: number };
  const problems = resultJsonProblems(result).map((p) => `result.json ${p}`);
  const classroom = read('classroom.json') as { status: string; tests: Array<{ score: number }> };
  const posted = classroom.tests.reduce((s, t) => s + t.score, 0);
  if (classroom.status === 'error' ? posted !== 0 : posted !== result.score) {
    problems.push(`classroom.json: status ${classroom.status} posts ${posted} points, result.json has ${result.score}`);
  }
  return problems;
}
