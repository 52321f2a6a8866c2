import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, RunResult } from '../model.js';
import { productionizing } from '../lab/productionizing.js';
import { checkResult } from '../lab/types.js';
import { renderJunit } from './junit.js';

const XSD = fileURLToPath(new URL('../../schemas/junit-10.xsd', import.meta.url));

function check(id: string, status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult {
  const def = productionizing.checks.find((c) => c.id === id)!;
  return { ...checkResult(def, status, `${id} is ${status}`, 1234), ...extra };
}

/** Every catalogue check, passed unless given. */
function runWith(overrides: CheckResult[] = []): RunResult {
  const checks = productionizing.checks.map((def) => overrides.find((o) => o.id === def.id) ?? check(def.id, 'passed'));
  const score = checks.reduce((s, c) => s + c.points, 0);
  return {
    lab: 'productionizing',
    submission: 'fixtures/submissions/reference',
    score,
    maxScore: 65,
    startedAt: '2025-01-02T03:04:05.678Z',
    durationMs: 93_000,
    checks,
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lab-grader-junit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Validates with xmllint; fails (never skips) when xmllint is missing. */
async function validate(xml: string): Promise<void> {
  const probe = spawnSync('xmllint', ['--version']);
  if (probe.error) {
    throw new Error('xmllint is needed to validate junit.xml against junit-10.xsd: apt-get install -y libxml2-utils');
  }
  const file = path.join(dir, `junit-${Math.random().toString(36).slice(2)}.xml`);
  await writeFile(file, xml);
  try {
    execFileSync('xmllint', ['--noout', '--schema', XSD, file], { stdio: 'pipe' });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    throw new Error(`junit.xml does not validate against junit-10.xsd:\n${stderr}`);
  }
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) });

interface ParsedCase {
  name: string;
  classname: string;
  time: string;
  failure?: { message?: string; type?: string } | string;
  error?: { message?: string; type?: string } | string;
  skipped?: unknown;
  'system-out'?: string;
}
interface ParsedSuite {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  skipped: string;
  time: string;
  properties: { property: Array<{ name: string; value: string }> };
  testcase: ParsedCase[];
}

function parse(xml: string): ParsedSuite[] {
  return (parser.parse(xml) as { testsuites: { testsuite: ParsedSuite[] } }).testsuites.testsuite;
}

describe('renderJunit', () => {
  const mixed = runWith([
    check('readiness.probe-defined', 'failed', {
      message: 'container "app" of Deployment/configurable has no readinessProbe',
      hint: 'Add a readinessProbe',
      location: { file: 'deployment.yaml', line: 22, column: 11 },
    }),
    check('hpa.scales-up', 'error', { message: 'metrics API not available\nsecond line', diagnostics: 'Events:\n  FailedGetResourceMetric' }),
    check('security.exec-chown-refused', 'skipped', { message: 'not run: --static-only' }),
    check('liveness.restarts-failed-container', 'failed', { points: 2, message: 'restarted after 40s' }),
  ]);

  it('validates against junit-10.xsd', async () => {
    await validate(renderJunit(mixed));
  });

  it('has one testsuite per group in catalogue order, one testcase per check', () => {
    const suites = parse(renderJunit(mixed));
    expect(suites.map((s) => s.name)).toEqual(productionizing.groups.map((g) => `productionizing.${g.id}`));
    const cases = suites.flatMap((s) => s.testcase);
    expect(cases.map((c) => c.name)).toEqual(productionizing.checks.map((c) => c.title));
    expect(cases[0]).toMatchObject({ classname: 'productionizing.submission', time: '1.234' });
  });

  it('puts points and the group score into testsuite properties', () => {
    const liveness = parse(renderJunit(mixed)).find((s) => s.name === 'productionizing.liveness')!;
    expect(liveness.properties.property).toEqual([
      { name: 'score', value: '7/10' },
      { name: 'points:liveness.probe-defined', value: '2/2' },
      { name: 'points:liveness.restarts-failed-container', value: '2/5' },
      { name: 'points:liveness.returns-to-service', value: '3/3' },
    ]);
  });

  it('maps failed to <failure>, error to <error>, skipped to <skipped>, with details in <system-out>', () => {
    const cases = parse(renderJunit(mixed)).flatMap((s) => s.testcase);
    const byName = (id: string) => cases.find((c) => c.name === productionizing.checks.find((d) => d.id === id)!.title)!;

    const failed = byName('readiness.probe-defined');
    expect(failed.failure).toEqual({ message: 'container "app" of Deployment/configurable has no readinessProbe', type: 'failed' });
    expect(failed['system-out']).toBe(
      [
        'readiness.probe-defined: failed (0/2 points)',
        'container "app" of Deployment/configurable has no readinessProbe',
        'Hint: Add a readinessProbe',
        'At: deployment.yaml:22:11',
      ].join('\n'),
    );

    const error = byName('hpa.scales-up');
    expect(error.error).toEqual({ message: 'metrics API not available', type: 'error' });
    expect(error.failure).toBeUndefined();
    expect(error['system-out']).toContain('Diagnostics:\nEvents:\n  FailedGetResourceMetric');

    const skipped = byName('security.exec-chown-refused');
    expect(skipped.skipped).toBeDefined();
    expect(skipped['system-out']).toContain('not run: --static-only');

    const passed = byName('submission.parses');
    expect(passed.failure).toBeUndefined();
    expect(passed.error).toBeUndefined();
    expect(passed.skipped).toBeUndefined();
  });

  it('counts failures, errors and skips per suite', () => {
    const suites = parse(renderJunit(mixed));
    const hpa = suites.find((s) => s.name === 'productionizing.hpa')!;
    expect(hpa).toMatchObject({ tests: '8', failures: '0', errors: '1', skipped: '0' });
    const readiness = suites.find((s) => s.name === 'productionizing.readiness')!;
    expect(readiness).toMatchObject({ tests: '3', failures: '1', errors: '0' });
  });

  it('stays valid with text XML cannot carry, CDATA terminators and markup in messages', async () => {
    const nasty = runWith([
      check('submission.parses', 'failed', {
        message: 'bad <tag> & "quotes" \u0000\u0007 ]]> and ]]> again',
        diagnostics: 'log line ]]> with \u001b[31mcolour\u001b[0m and emoji 🚀',
      }),
    ]);
    const xml = renderJunit(nasty);
    await validate(xml);
    const out = parse(xml)[0]!.testcase[0]!['system-out']!;
    expect(out).toContain('bad <tag> & "quotes"  ]] > and ]] > again');
    expect(out).toContain('[31mcolour[0m and emoji 🚀');
  });

  it('is deterministic', () => {
    expect(renderJunit(mixed)).toBe(renderJunit(structuredClone(mixed)));
  });
});
