// junit.xml as GitHub's JUnit readers show it: one testsuite per group, one testcase per check.
// - Points go into testsuite properties (`points:<check-id>` = `3/5`, and the group's `score`):
//   junit-10.xsd allows no properties inside a testcase nor on <testsuites>; the run's score is in
//   the <testsuites> name.
// - dorny/test-reporter and action-junit-report read only a failure's `message` and body text, so
//   the message, hint, location and diagnostics form the body of <failure>/<error>; a skip carries
//   its reason in `message`. <system-out> keeps the same details for other readers.
// - `file`/`line` on a testcase point at the learner's YAML (the de-facto extension read by
//   pytest, GitLab and action-junit-report); removing those two attributes leaves the file valid
//   against junit-10.xsd, which has no `skipped` on <testsuites>: the total is in its name.
// The serializer is written here because every string must round-trip exactly through a parser:
// newlines, tabs and CRs in attributes are character references, `>` is always escaped (so `]]>`
// cannot appear), and only characters XML 1.0 cannot carry at all are dropped.
import type { CheckResult, RunResult } from '../model.js';
import { annotationPath } from './github.js';
import { countByStatus, formatLocation, groupChecks } from './groups.js';

export interface JunitOptions {
  /**
   * The repository checkout ($GITHUB_WORKSPACE): `file` attributes are then relative to it.
   * Without it they are relative to the submission directory.
   */
  workspace?: string;
}

export function renderJunit(run: RunResult, opts: JunitOptions = {}): string {
  const counts = countByStatus(run);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites${attrs({
      name: rootName(run, counts.skipped),
      tests: run.checks.length,
      failures: counts.failed,
      errors: counts.error,
      time: seconds(run.durationMs),
    })}>`,
  );
  for (const group of groupChecks(run.checks)) {
    const gc = countByStatus(group);
    out.push(
      `  <testsuite${attrs({
        name: `${run.lab}.${group.group}`,
        tests: group.checks.length,
        failures: gc.failed,
        errors: gc.error,
        skipped: gc.skipped,
        time: seconds(group.durationMs),
        timestamp: run.startedAt,
      })}>`,
      '    <properties>',
      `      <property${attrs({ name: 'score', value: `${group.points}/${group.maxPoints}` })}/>`,
      ...group.checks.map((c) => `      <property${attrs({ name: `points:${c.id}`, value: `${c.points}/${c.maxPoints}` })}/>`),
      '    </properties>',
    );
    for (const c of group.checks) out.push(...testcase(run, c, opts));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/** The `<testsuites>` name: the run's score, and the skip total the schema has no attribute for. */
export function rootName(run: Pick<RunResult, 'lab' | 'score' | 'maxScore'>, skipped: number): string {
  return `lab-grader ${run.lab}: ${run.score}/${run.maxScore} points${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

/** Where a check points, as the `file` attribute shows it (see JunitOptions.workspace). */
export function junitFile(run: Pick<RunResult, 'submission'>, file: string, opts: JunitOptions): string {
  if (!opts.workspace) return file;
  return annotationPath({ submissionDir: run.submission, workspace: opts.workspace }, file);
}

function testcase(run: RunResult, c: CheckResult, opts: JunitOptions): string[] {
  const open = `    <testcase${attrs({
    name: c.title,
    classname: `${run.lab}.${c.group}`,
    time: seconds(c.durationMs),
    ...(c.location ? { file: junitFile(run, c.location.file, opts), line: c.location.line } : {}),
  })}>`;
  const lines = [open];
  if (c.status === 'failed' || c.status === 'error') {
    const tag = c.status === 'failed' ? 'failure' : 'error';
    lines.push(`      <${tag}${attrs({ message: firstLine(c.message), type: c.status })}>${text(details(c))}</${tag}>`);
  } else if (c.status === 'skipped') {
    lines.push(`      <skipped${attrs({ message: c.message })}/>`);
  }
  lines.push(`      <system-out>${text(systemOut(c))}</system-out>`, '    </testcase>');
  return lines;
}

/** The body of <failure>/<error>: everything a learner needs, for readers that skip <system-out>. */
export function details(c: CheckResult): string {
  const lines = [c.message];
  if (c.hint && !c.message.includes(c.hint)) lines.push(`Hint: ${c.hint}`);
  if (c.location) lines.push(`At: ${formatLocation(c.location)}`);
  lines.push(`Points: ${c.points}/${c.maxPoints} (${c.id})`);
  if (c.diagnostics) lines.push('', 'Diagnostics:', c.diagnostics);
  return lines.join('\n');
}

function systemOut(c: CheckResult): string {
  const lines = [`${c.id}: ${c.status} (${c.points}/${c.maxPoints} points)`, c.message];
  // A message may already end with its hint: print it once.
  if (c.hint && c.status !== 'passed' && !c.message.includes(c.hint)) lines.push(`Hint: ${c.hint}`);
  if (c.location) lines.push(`At: ${formatLocation(c.location)}`);
  if (c.diagnostics) lines.push('', 'Diagnostics:', c.diagnostics);
  return lines.join('\n');
}

function seconds(ms: number): string {
  return String(Math.round(Math.max(0, ms)) / 1000);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? '';
}

/** Drops what XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF). */
export function xmlSafe(s: string): string {
  return s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
}

/** Character data that a parser returns unchanged (CR kept as a reference, `]]>` impossible). */
export function text(s: string): string {
  return xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** An attribute value that survives attribute-value normalization (newlines, tabs, CRs). */
export function attribute(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${attribute(String(v))}"`)
    .join('');
}
