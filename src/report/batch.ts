// The batch files: results.csv, a combined junit.xml, summary.md (report.html is in html.ts).
// Pure functions of the batch's entries, sorted by submission name, so a batch and the merge of
// its shards write the same bytes. The combined JUnit reuses each submission's own junit.xml
// rendering (renderJunit) and only renames its suites and classes after the submission.
import type { LabDefinition } from '../lab/types.js';
import type { CheckStatus, RunResult } from '../model.js';
import { formatDuration, groupChecks } from './groups.js';
import { attribute, renderJunit, text } from './junit.js';

/** One submission of a batch, graded or not. */
export interface BatchEntry {
  /** Folder name under the batch's --out (unique within a batch). */
  name: string;
  /** The submission folder as given. */
  dir: string;
  /** `graded`: grade ran and left a result.json; `not-graded`: why is in `reason`. */
  state: 'graded' | 'not-graded';
  /** grade's exit code; for a submission not graded, 2 (bad input) or 3 (environment, interrupted). */
  exitCode: number;
  durationMs: number;
  /** Why a submission was not graded, or what went wrong around its grading (timed out, crashed). */
  reason?: string;
  run?: RunResult;
}

/** What the batch files are built from (also the content of batch.json, minus the runs). */
export interface BatchOutcome {
  lab: LabDefinition;
  entries: BatchEntry[];
  /** Why the batch stopped before grading everything (interrupted, cluster lost). */
  stopped?: string;
}

export type GroupVerdict = CheckStatus | 'not graded';

export function sortEntries(entries: readonly BatchEntry[]): BatchEntry[] {
  return [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Groups of the lab, in catalogue order. */
export function labGroups(lab: LabDefinition): string[] {
  return [...new Set(lab.checks.map((c) => c.group))];
}

export function groupVerdicts(entry: BatchEntry, groups: readonly string[]): Record<string, GroupVerdict> {
  const out: Record<string, GroupVerdict> = {};
  const byGroup = new Map(entry.run ? groupChecks(entry.run.checks).map((g) => [g.group, g.verdict] as const) : []);
  for (const g of groups) out[g] = byGroup.get(g) ?? 'not graded';
  return out;
}

/**
 * The batch's exit code: the worst of its submissions' codes (0 < 1 < 2 < 3); 3 also when the
 * batch itself was stopped (interrupted, cluster lost); 2 when there was nothing to grade.
 */
export function batchExitCode(outcome: Pick<BatchOutcome, 'entries' | 'stopped'>): number {
  if (outcome.stopped) return 3;
  if (outcome.entries.length === 0) return 2;
  return Math.max(...outcome.entries.map((e) => e.exitCode));
}

function csvField(value: string | number): string {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderResultsCsv(outcome: BatchOutcome): string {
  const groups = labGroups(outcome.lab);
  const header = ['submission', 'score', 'max', ...groups.map((g) => `${g}_verdict`), 'exit_code', 'duration_s', 'note'];
  const rows = sortEntries(outcome.entries).map((e) => {
    const verdicts = groupVerdicts(e, groups);
    return [
      e.name,
      e.run ? e.run.score : '',
      e.run ? e.run.maxScore : '',
      ...groups.map((g) => verdicts[g] ?? 'not graded'),
      e.exitCode,
      (e.durationMs / 1000).toFixed(1),
      noteOf(e),
    ];
  });
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

function noteOf(e: BatchEntry): string {
  if (e.state === 'not-graded') return `not graded: ${e.reason ?? 'unknown reason'}`;
  if (e.reason) return e.reason;
  if (e.run?.interrupted) return 'interrupted';
  return '';
}

interface SuiteTotals {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  time: number;
}

function attrNumber(tag: string, name: string): number {
  const m = new RegExp(`\\s${name}="([0-9.]+)"`).exec(tag);
  return m ? Number(m[1]) : 0;
}

/**
 * The testsuites of one submission's junit.xml, renamed `<submission>/<suite>`, with its testcases'
 * classnames prefixed the same way.
 */
function submissionSuites(entry: BatchEntry, totals: SuiteTotals): string[] {
  const prefix = attribute(entry.name);
  if (!entry.run) {
    totals.tests += 1;
    totals.errors += 1;
    const reason = entry.reason ?? 'not graded';
    return [
      [
        `  <testsuite name="${prefix}" tests="1" failures="0" errors="1" skipped="0" time="0">`,
        `    <testcase classname="${prefix}" name="graded" time="0">`,
        `      <error message="${attribute(`not graded: ${reason.split('\n')[0] ?? ''}`)}" type="not-graded">${text(`${entry.dir}: not graded: ${reason}`)}</error>`,
        `    </testcase>`,
        `  </testsuite>`,
      ].join('\n'),
    ];
  }
  const xml = renderJunit(entry.run);
  const suites = xml.match(/^ {2}<testsuite\b[\s\S]*?^ {2}<\/testsuite>$|^ {2}<testsuite\b[^>]*\/>$/gm) ?? [];
  return suites.map((suite) => {
    const open = /^ {2}<testsuite\b[^>]*>/.exec(suite)?.[0] ?? '';
    totals.tests += attrNumber(open, 'tests');
    totals.failures += attrNumber(open, 'failures');
    totals.errors += attrNumber(open, 'errors');
    totals.skipped += attrNumber(open, 'skipped');
    totals.time += attrNumber(open, 'time');
    return suite
      .replace(/^( {2}<testsuite\b[^>]*?\sname=")/, `$1${prefix}/`)
      .replace(/(<testcase\b[^>]*?\sclassname=")/g, `$1${prefix}/`);
  });
}

export function renderBatchJunit(outcome: BatchOutcome): string {
  const totals: SuiteTotals = { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0 };
  const suites = sortEntries(outcome.entries).flatMap((e) => submissionSuites(e, totals));
  // junit-10.xsd has no `skipped` on <testsuites>: the total goes into its name, as in junit.ts.
  const n = outcome.entries.length;
  const name = attribute(`lab-grader batch ${outcome.lab.id}: ${n} submission${n === 1 ? '' : 's'}${totals.skipped > 0 ? `, ${totals.skipped} skipped` : ''}`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${name}" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" time="${Math.round(totals.time * 1000) / 1000}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

/** Per group: in how many graded submissions it passed. */
export function groupPassRates(outcome: BatchOutcome): Array<{ group: string; passed: number; graded: number }> {
  const groups = labGroups(outcome.lab);
  const graded = outcome.entries.filter((e) => e.run);
  return groups.map((group) => ({
    group,
    passed: graded.filter((e) => groupVerdicts(e, [group])[group] === 'passed').length,
    graded: graded.length,
  }));
}

const ICON: Record<GroupVerdict, string> = { passed: '✅', failed: '❌', error: '⚠️', skipped: '⏭️', 'not graded': '➖' };

export function renderBatchSummary(outcome: BatchOutcome): string {
  const groups = labGroups(outcome.lab);
  const entries = sortEntries(outcome.entries);
  const graded = entries.filter((e) => e.run);
  const notGraded = entries.filter((e) => !e.run);
  const exit = batchExitCode(outcome);
  const lines: string[] = [`# Batch grading: ${outcome.lab.id}`, ''];
  lines.push(
    `${entries.length} submission${entries.length === 1 ? '' : 's'}: ${graded.length} graded, ${notGraded.length} not graded; ` +
      `${graded.filter((e) => e.exitCode === 0).length} with full marks. Batch exit code ${exit}.`,
  );
  if (outcome.stopped) lines.push('', `**The batch was stopped: ${outcome.stopped}.** Submissions it did not finish are listed as not graded.`);
  if (entries.length === 0) lines.push('', 'Nothing was graded: the batch had no submissions.');
  lines.push('', '## Pass rate per group', '', '| Group | Passed | Rate |', '| --- | ---: | ---: |');
  for (const r of groupPassRates(outcome)) {
    lines.push(`| ${r.group} | ${r.passed}/${r.graded} | ${r.graded ? `${Math.round((100 * r.passed) / r.graded)}%` : '-'} |`);
  }
  lines.push('', '## Submissions', '', `| Submission | Score | ${groups.join(' | ')} | Exit | Time |`, `| --- | ---: | ${groups.map(() => ':---:').join(' | ')} | ---: | ---: |`);
  for (const e of entries) {
    const v = groupVerdicts(e, groups);
    const score = e.run ? `${e.run.score}/${e.run.maxScore}` : '-';
    lines.push(`| ${mdCell(e.name)} | ${score} | ${groups.map((g) => ICON[v[g] ?? 'not graded']).join(' | ')} | ${e.exitCode} | ${formatDuration(e.durationMs)} |`);
  }
  lines.push('', `${ICON.passed} passed · ${ICON.failed} failed · ${ICON.error} error (not decided) · ${ICON.skipped} not run · ${ICON['not graded']} not graded`);
  if (notGraded.length > 0 || entries.some((e) => e.reason)) {
    lines.push('', '## Not graded or incomplete', '');
    for (const e of entries.filter((x) => !x.run || x.reason)) lines.push(`- **${mdCell(e.name)}** (${mdCell(e.dir)}): ${mdCell(noteOf(e))}`);
  }
  const failing = graded.filter((e) => e.run?.checks.some((c) => c.status === 'failed' || c.status === 'error'));
  if (failing.length > 0) {
    lines.push('', '## What failed', '');
    for (const e of failing) {
      const bad = e.run?.checks.filter((c) => c.status === 'failed' || c.status === 'error') ?? [];
      lines.push(`- **${mdCell(e.name)}**: ${bad.map((c) => `\`${c.id}\` ${c.status}`).join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
