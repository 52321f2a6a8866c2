import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSubmission } from '../../submission/load.js';
import { CHECKS, GROUPS } from './catalogue.js';
import { deployments, recognise } from './index.js';
import { rubric } from './rubric.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = path.join(ROOT, 'fixtures/labs/deployments');
const fixtures = readdirSync(FIXTURES).filter((n) => existsSync(path.join(FIXTURES, n, 'expected.json'))).sort();

interface Expected { lab: string; static: { exit: number; failed: string[] }; messages?: Record<string, string> }
const expected = (name: string): Expected => JSON.parse(readFileSync(path.join(FIXTURES, name, 'expected.json'), 'utf8')) as Expected;

async function staticResults(dir: string) {
  const sub = await loadSubmission(dir);
  const ctx = rubric.context(sub, sub.objects);
  return CHECKS.filter((c) => c.kind === 'static').map((c) => {
    const impl = rubric.checks[c.id as keyof typeof rubric.checks];
    if (!impl) throw new Error(`no static implementation for ${c.id}`);
    return { id: c.id, ...impl(ctx) };
  });
}

describe('catalogue', () => {
  it('has unique ids in its groups, a hint for each and 30 points', () => {
    expect(new Set(CHECKS.map((c) => c.id)).size).toBe(CHECKS.length);
    for (const c of CHECKS) {
      expect(GROUPS.map((g) => g.id)).toContain(c.group);
      expect(c.id.startsWith(`${c.group}.`)).toBe(true);
      expect(c.hint.length).toBeGreaterThan(20);
    }
    expect(CHECKS.reduce((n, c) => n + c.maxPoints, 0)).toBe(30);
    expect(deployments.redefinitions).toBe('switch');
    expect(Object.keys(rubric.checks).sort()).toEqual(CHECKS.filter((c) => c.kind === 'static').map((c) => c.id).sort());
  });
});

describe('static rubric on the fixtures', () => {
  it.each(fixtures)('%s: exactly the expected static checks fail', async (name) => {
    const want = expected(name);
    expect(want.lab).toBe('deployments');
    const results = await staticResults(path.join(FIXTURES, name));
    expect(results.filter((r) => !r.passed).map((r) => r.id).sort()).toEqual([...want.static.failed].sort());
    for (const r of results) expect(r.message).not.toContain('[object Object]');
    for (const [id, text] of Object.entries(want.messages ?? {})) {
      const r = results.find((x) => x.id === id);
      if (r) expect(r.message).toContain(text);
    }
  });

  it('points a failed check at the learner\'s line', async () => {
    const results = await staticResults(path.join(FIXTURES, 'service-selects-both'));
    expect(results.find((r) => r.id === 'before-switch.spec-selects-v1')).toMatchObject({
      passed: false,
      location: { file: 'whoami-service-v1.yaml', line: 8 },
      message: expect.stringContaining('it matches the Pods of both whoami-v1 (v1) and whoami-v2 (v2)'),
    });
  });

  it('says there is nothing to switch, naming the files in the order they are read', async () => {
    const results = await staticResults(path.join(FIXTURES, 'no-switch'));
    expect(results.find((r) => r.id === 'after-switch.spec-switch-defined')?.message).toMatch(
      /^nothing switches the traffic: no Service is defined in more than one file \(files read in name order: whoami-deployments\.yaml, whoami-service-v1\.yaml\)/,
    );
  });
});

describe('recognise', () => {
  it('claims every fixture of the lab, most strongly the complete ones', async () => {
    for (const name of fixtures) {
      const sub = await loadSubmission(path.join(FIXTURES, name));
      expect(recognise(sub.objects), name).toBeGreaterThan(0);
    }
    expect(recognise((await loadSubmission(path.join(FIXTURES, 'reference'))).objects)).toBe(5);
    expect(recognise((await loadSubmission(path.join(FIXTURES, 'reference-v1v2-folders'))).objects)).toBe(5);
    expect(recognise((await loadSubmission(path.join(FIXTURES, 'no-switch'))).objects)).toBe(3);
  });

  it('does not claim the other labs\' submissions and specs', async () => {
    const others = [
      ...readdirSync(path.join(ROOT, 'fixtures/submissions')).map((n) => path.join(ROOT, 'fixtures/submissions', n)),
      path.join(ROOT, 'specs/productionizing'),
      ...(existsSync(path.join(ROOT, 'fixtures/labs')) ? readdirSync(path.join(ROOT, 'fixtures/labs')).filter((l) => l !== 'deployments').flatMap((l) => readdirSync(path.join(ROOT, 'fixtures/labs', l)).map((n) => path.join(ROOT, 'fixtures/labs', l, n))) : []),
    ];
    let checked = 0;
    for (const dir of others) {
      const sub = await loadSubmission(dir).catch(() => undefined);
      if (!sub || sub.objects.length === 0) continue;
      checked++;
      expect(recognise(sub.objects), dir).toBe(0);
    }
    expect(checked).toBeGreaterThan(10);
  });
});
