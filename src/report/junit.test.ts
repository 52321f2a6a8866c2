import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, RunResult } from '../model.js';
import { productionizing } from '../labs/productionizing/catalogue.js';
import { checkResult } from '../lab/types.js';
import { renderJunit, rootName } from './junit.js';

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

function needXmllint(): void {
  const probe = spawnSync('xmllint', ['--version']);
  if (probe.error) {
    throw new Error('xmllint is needed to validate junit.xml against junit-10.xsd: apt-get install -y libxml2-utils (npm run setup installs it)');
  }
}

async function toFile(xml: string): Promise<string> {
  const file = path.join(dir, `junit-${Math.random().toString(36).slice(2)}.xml`);
  await writeFile(file, xml);
  return file;
}

/** The two testcase attributes the Jenkins schema does not know, removed (and nothing else). */
function withoutFileLine(xml: string): string {
  return xml.replace(/<testcase\b[^>]*>/g, (tag) => tag.replace(/ (?:file|line)="[^"]*"/g, ''));
}

/** xmllint's verdict on the report against junit-10.xsd: '' when valid, else its errors. */
async function schemaErrors(xml: string): Promise<string> {
  needXmllint();
  try {
    execFileSync('xmllint', ['--noout', '--schema', XSD, await toFile(xml)], { stdio: 'pipe' });
    return '';
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
  }
}

/** Validates exactly as the contract says: with `file`/`line` removed from testcases. */
async function validate(xml: string): Promise<void> {
  const errors = await schemaErrors(withoutFileLine(xml));
  if (errors) throw new Error(`junit.xml does not validate against junit-10.xsd:\n${errors}`);
}

/** A string as libxml2 (a conforming parser) reads it back: attribute normalization included. */
async function xpathString(xml: string, expr: string): Promise<string> {
  needXmllint();
  const out = execFileSync('xmllint', ['--xpath', `string(${expr})`, await toFile(xml)], { encoding: 'utf8' });
  return out.replace(/\n$/, '');
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) });

interface ParsedCase {
  name: string;
  classname: string;
  time: string;
  file?: string;
  line?: string;
  failure?: { message?: string; type?: string; '#text'?: string };
  error?: { message?: string; type?: string; '#text'?: string };
  skipped?: { message?: string };
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

function root(xml: string): Record<string, string> {
  return (parser.parse(xml) as { testsuites: Record<string, string> }).testsuites;
}

const titleOf = (id: string): string => productionizing.checks.find((d) => d.id === id)!.title;

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
  mixed.score = mixed.checks.reduce((s, c) => s + c.points, 0);

  it('validates against junit-10.xsd once the testcase attributes file and line are removed', async () => {
    const xml = renderJunit(mixed);
    expect(xml).toMatch(/<testcase [^>]* file="deployment.yaml" line="22">/);
    await validate(xml);
  });

  it('is rejected by junit-10.xsd only because of file and line (so the check above is meaningful)', async () => {
    const errors = await schemaErrors(renderJunit(mixed));
    expect(errors).toMatch(/attribute 'file'/);
    const other = errors.split('\n').filter((l) => /element|attribute/.test(l) && !/attribute '(file|line)'/.test(l));
    expect(other).toEqual([]);
  });

  it('has one testsuite per group in catalogue order, one testcase per check', () => {
    const suites = parse(renderJunit(mixed));
    expect(suites.map((s) => s.name)).toEqual(productionizing.groups.map((g) => `productionizing.${g.id}`));
    const cases = suites.flatMap((s) => s.testcase);
    expect(cases.map((c) => c.name)).toEqual(productionizing.checks.map((c) => c.title));
    expect(cases[0]).toMatchObject({ classname: 'productionizing.submission', time: '1.234' });
  });

  it('puts the score, totals and time on <testsuites>', () => {
    const top = root(renderJunit(mixed));
    expect(mixed.score).toBeLessThan(65);
    expect(top).toMatchObject({
      name: `lab-grader productionizing: ${mixed.score}/65 points, 1 skipped`,
      tests: String(productionizing.checks.length),
      failures: '2',
      errors: '1',
      time: '93',
    });
    expect(rootName({ lab: 'x', score: 3, maxScore: 5 }, 0)).toBe('lab-grader x: 3/5 points');
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

  it('gives <failure>/<error> the hint, location, points and diagnostics as body text, and <skipped> its reason', () => {
    const cases = parse(renderJunit(mixed)).flatMap((s) => s.testcase);
    const byId = (id: string) => cases.find((c) => c.name === titleOf(id))!;

    const failed = byId('readiness.probe-defined');
    expect(failed.failure?.message).toBe('container "app" of Deployment/configurable has no readinessProbe');
    expect(failed.failure?.type).toBe('failed');
    expect(failed.failure?.['#text']).toBe(
      [
        'container "app" of Deployment/configurable has no readinessProbe',
        'Hint: Add a readinessProbe',
        'At: deployment.yaml:22:11',
        'Points: 0/2 (readiness.probe-defined)',
      ].join('\n'),
    );
    expect(failed).toMatchObject({ file: 'deployment.yaml', line: '22' });
    expect(failed['system-out']).toBe(
      [
        'readiness.probe-defined: failed (0/2 points)',
        'container "app" of Deployment/configurable has no readinessProbe',
        'Hint: Add a readinessProbe',
        'At: deployment.yaml:22:11',
      ].join('\n'),
    );

    const error = byId('hpa.scales-up');
    expect(error.error?.message).toBe('metrics API not available');
    expect(error.error?.['#text']).toContain('metrics API not available\nsecond line');
    expect(error.error?.['#text']).toContain('Diagnostics:\nEvents:\n  FailedGetResourceMetric');
    expect(error.failure).toBeUndefined();
    expect(error.file).toBeUndefined();

    const skipped = byId('security.exec-chown-refused');
    expect(skipped.skipped?.message).toBe('not run: --static-only');

    const passed = byId('submission.parses');
    expect(passed.failure).toBeUndefined();
    expect(passed.error).toBeUndefined();
    expect(passed.skipped).toBeUndefined();
  });

  it('makes file paths relative to the repository root under Actions, to the submission otherwise', () => {
    const located = { ...mixed, submission: '/home/runner/work/repo/repo/specs/lab' };
    const inRepo = parse(renderJunit(located, { workspace: '/home/runner/work/repo/repo' })).flatMap((s) => s.testcase);
    expect(inRepo.find((c) => c.name === titleOf('readiness.probe-defined'))?.file).toBe('specs/lab/deployment.yaml');
    const relative = parse(renderJunit({ ...mixed, submission: 'specs/lab' }, { workspace: '/w' })).flatMap((s) => s.testcase);
    expect(relative.find((c) => c.name === titleOf('readiness.probe-defined'))?.file).toBe('specs/lab/deployment.yaml');
    const local = parse(renderJunit(located)).flatMap((s) => s.testcase);
    expect(local.find((c) => c.name === titleOf('readiness.probe-defined'))?.file).toBe('deployment.yaml');
  });

  it('counts failures, errors and skips per suite', () => {
    const suites = parse(renderJunit(mixed));
    const hpa = suites.find((s) => s.name === 'productionizing.hpa')!;
    expect(hpa).toMatchObject({ tests: '8', failures: '0', errors: '1', skipped: '0' });
    const readiness = suites.find((s) => s.name === 'productionizing.readiness')!;
    expect(readiness).toMatchObject({ tests: '3', failures: '1', errors: '0' });
    const security = suites.find((s) => s.name === 'productionizing.security')!;
    expect(security.skipped).toBe('1');
  });

  it('round-trips text and attributes exactly through a conforming parser: ]]>, quotes, newlines, tabs, CR, non-ASCII', async () => {
    const message = 'bad <tag> & "quotes" \'single\' ]]> and ]]> again\n\tindented line\r\nnon-ASCII: é ü 漢字 🚀';
    const reason = 'not run:\n  "line two" ]]> <b>\ttab é';
    const diagnostics = 'log line ]]> with\r\nCRLF and emoji 🚀\n  trailing spaces  ';
    const hint = 'Use "quotes" & <brackets>';
    const nasty = runWith([
      check('submission.parses', 'failed', { message, hint, diagnostics, location: { file: 'dir with "quote"/ü.yaml', line: 3 } }),
      check('security.exec-chown-refused', 'skipped', { message: reason }),
    ]);
    const xml = renderJunit(nasty);
    await validate(xml);
    expect(xml).not.toContain('<![CDATA[');
    const tc = '//testcase[@classname="productionizing.submission"][1]';
    expect(await xpathString(xml, `${tc}/failure/@message`)).toBe(message.split('\n')[0]);
    expect(await xpathString(xml, `${tc}/failure`)).toBe(
      `${message}\nHint: ${hint}\nAt: dir with "quote"/ü.yaml:3\nPoints: 0/1 (submission.parses)\n\nDiagnostics:\n${diagnostics}`,
    );
    expect(await xpathString(xml, `${tc}/@file`)).toBe('dir with "quote"/ü.yaml');
    expect(await xpathString(xml, '//testcase/skipped/@message')).toBe(reason);
    expect(await xpathString(xml, '//testsuite[@name="productionizing.submission"]/testcase[1]/system-out')).toContain(diagnostics);
  });

  it('drops only the characters XML 1.0 cannot carry', async () => {
    const xml = renderJunit(runWith([check('submission.parses', 'failed', { message: 'nul\u0000 bell\u0007 \u001b[31mred\u001b[0m \uFFFE end' })]));
    await validate(xml);
    expect(await xpathString(xml, '//failure/@message')).toBe('nul bell [31mred[0m  end');
  });

  it('is deterministic', () => {
    expect(renderJunit(mixed)).toBe(renderJunit(structuredClone(mixed)));
  });
});

describe('hints in system-out', () => {
  it('prints a hint once, also when the message already ends with it', () => {
    const hint = 'Also set `runAsUser` to a non-zero UID.';
    const xml = renderJunit(runWith([check('replicas.ready-five', 'failed', { message: `the app's Pods cannot run\nHint: ${hint}`, hint })]));
    const sections = [...xml.matchAll(/<(failure|system-out)[^>]*>([\s\S]*?)<\/\1>/g)].map((m) => m[2] ?? '').filter((t) => t.includes('cannot run'));
    expect(sections).toHaveLength(2);
    for (const t of sections) expect(t.split(hint).length - 1).toBe(1);
    const other = renderJunit(runWith([check('replicas.ready-five', 'failed', { message: 'the app settled at 3', hint })]));
    expect(other.split(hint).length - 1).toBeGreaterThanOrEqual(1);
    expect(other).toContain(`Hint: ${hint}`);
  });
});
