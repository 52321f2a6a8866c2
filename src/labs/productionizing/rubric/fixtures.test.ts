// The bundled fixture submissions: their static verdicts must be what expected.json says, and
// consistent with the group verdicts a full grading must reach.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SubmissionError } from '../../../model.js';
import { productionizing } from '../catalogue.js';
import { loadSubmission } from '../../../submission/load.js';
import { applyPolicy } from '../../../submission/policy.js';
import { runStaticRubric } from './index.js';

const root = fileURLToPath(new URL('../../../../fixtures/submissions/', import.meta.url));
const fixtures = readdirSync(root)
  .filter((name) => statSync(path.join(root, name)).isDirectory())
  .sort();

type GroupVerdict = 'passed' | 'failed' | 'skipped' | 'any';
interface Expected {
  description: string;
  exit: number[];
  groups: Record<string, GroupVerdict>;
  static: { exit: number; failed: string[] };
}

function expected(name: string): Expected {
  return JSON.parse(readFileSync(path.join(root, name, 'expected.json'), 'utf8')) as Expected;
}

async function staticFailures(name: string): Promise<{ exit: number; failed: string[] }> {
  const dir = path.join(root, name);
  try {
    const sub = await loadSubmission(dir);
    try {
      const policy = applyPolicy(sub.objects, { namespace: 'lab-grader-fixture' });
      const results = runStaticRubric({ ...sub, objects: policy.objects });
      const failed = results.filter((r) => r.status !== 'passed').map((r) => r.id);
      return { exit: failed.length > 0 ? 1 : 0, failed };
    } catch (err) {
      if (err instanceof SubmissionError) return { exit: 2, failed: ['submission.allowed-objects'] };
      throw err;
    }
  } catch (err) {
    if (err instanceof SubmissionError) return { exit: 2, failed: ['submission.parses'] };
    throw err;
  }
}

describe('fixture submissions', () => {
  it('include the agreed set', () => {
    for (const name of [
      'reference', 'no-readiness', 'no-liveness', 'hpa-wrong-target', 'runs-as-root', 'no-limits', 'replicas-three',
      'equivalent-v1-hpa-pod-securitycontext', 'malformed-yaml', 'empty', 'cluster-role-binding',
      'kube-system-namespace', 'privileged-hostpath',
    ]) {
      expect(fixtures).toContain(name);
    }
  });

  it.each(fixtures)('%s: static verdicts match expected.json', async (name) => {
    const exp = expected(name);
    const actual = await staticFailures(name);
    expect(actual).toEqual(exp.static);

    const groups = productionizing.groups.map((g) => g.id);
    expect(Object.keys(exp.groups)).toEqual(groups);
    expect(exp.exit.length).toBeGreaterThan(0);
    expect(exp.description.length).toBeGreaterThan(10);
    for (const group of groups) {
      const verdict = exp.groups[group];
      const staticFails = actual.failed.some((id) => id.startsWith(`${group}.`));
      // A static failure fails the group in a full grading too; a group expected to pass has none.
      if (staticFails) expect(['failed', 'any'], `${name}: ${group}`).toContain(verdict);
      if (verdict === 'passed') expect(staticFails, `${name}: ${group}`).toBe(false);
    }
    if (actual.exit === 2) {
      expect(exp.exit).toEqual([2]);
      expect(Object.entries(exp.groups).filter(([g]) => g !== 'submission').every(([, v]) => v === 'skipped')).toBe(true);
    }
    if (exp.exit.includes(0)) expect(Object.values(exp.groups).every((v) => v === 'passed')).toBe(true);
  });
});
