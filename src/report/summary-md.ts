// summary.md: a score table per group and what to fix, for a terminal reader or $GITHUB_STEP_SUMMARY.
import type { CheckResult, CheckStatus, RunResult } from '../model.js';
import { countByStatus, formatDuration, formatLocation, groupChecks, verdictLabel } from './groups.js';

const ICON: Record<CheckStatus, string> = { passed: '✅', failed: '❌', error: '⚠️', skipped: '⏭️' };

export function renderSummary(run: RunResult): string {
  const out: string[] = [];
  const counts = countByStatus(run);
  const verdict = run.interrupted
    ? 'interrupted'
    : run.exitCode === 2
      ? 'could not be graded'
      : counts.error > 0
      ? 'could not be fully graded'
      : counts.failed > 0
        ? 'failed'
        : counts.passed === 0
          ? 'not graded'
          : counts.skipped > 0
            ? 'passed (some checks not run)'
            : 'passed';
  out.push(`## Lab ${run.lab}: ${run.score}/${run.maxScore} points, ${verdict}`, '');
  const facts = [`Submission \`${run.submission}\``];
  if (run.exitCode !== undefined) facts.push(`exit code ${run.exitCode}`);
  if (run.mode === 'static-only') facts.push('static checks only');
  facts.push(`started ${run.startedAt}`);
  out.push(facts.join(' · '), '');

  const floors = new Map((run.floors?.groups ?? []).map((f) => [f.group, f]));
  const floorCol = floors.size > 0;
  out.push(`| Group | Score | Result | Time |${floorCol ? ' Floor |' : ''}`, `| --- | ---: | --- | ---: |${floorCol ? ' ---: |' : ''}`);
  for (const g of groupChecks(run.checks)) {
    const f = floors.get(g.group);
    const floorCell = floorCol ? ` ${f ? `${formatDuration(f.floorMs)}${f.floorMs > 0 ? ` (×${(g.durationMs / f.floorMs).toFixed(1)})` : ''}` : ''} |` : '';
    out.push(`| ${g.group} | ${g.points}/${g.maxPoints} | ${ICON[g.verdict === 'skipped' && g.checks.some((c) => c.status === 'passed') ? 'passed' : g.verdict]} ${verdictLabel(g)} | ${formatDuration(g.durationMs)} |${floorCell}`);
  }
  out.push(`| **Total** | **${run.score}/${run.maxScore}** | ${counts.passed} passed, ${counts.failed} failed, ${counts.error} errors, ${counts.skipped} skipped | |${floorCol ? ' |' : ''}`, '');
  if (run.floors && floorCol) {
    out.push(
      `Floor: the least time Kubernetes needs for what the group observes, from your specs and the cluster's timings (${run.floors.timings}); ` +
        'a group far above its floor was slowed by the grader or a busy machine, not by your specs.',
      '',
    );
    for (const f of run.floors.groups) out.push(`- ${f.group}: ${formatDuration(f.floorMs)} = ${f.basis}`);
    out.push('');
  }

  const failed = run.checks.filter((c) => c.status === 'failed');
  if (failed.length > 0) {
    out.push('### What to fix', '');
    for (const c of failed) out.push(...describe(c));
  }
  const errors = run.checks.filter((c) => c.status === 'error');
  if (errors.length > 0) {
    out.push('### Not decided (grader or environment errors; no points were deducted for your work)', '');
    for (const c of errors) out.push(...describe(c));
  }
  const skipped = run.checks.filter((c) => c.status === 'skipped');
  if (skipped.length > 0) {
    out.push('### Not run', '');
    for (const c of skipped) out.push(`- ${ICON.skipped} \`${c.id}\` ${c.title}: ${oneLine(c.message)}`);
    out.push('');
  }
  if (run.notes && run.notes.length > 0) {
    out.push('### Notes', '');
    for (const n of run.notes) out.push(`- ${oneLine(n)}`);
    out.push('');
  }

  out.push('<details><summary>All checks</summary>', '');
  out.push('| Check | Result | Points | Time | Details |', '| --- | --- | ---: | ---: | --- |');
  for (const c of run.checks) {
    const at = c.location ? ` (\`${formatLocation(c.location)}\`)` : '';
    out.push(
      `| \`${c.id}\` ${cell(c.title)} | ${ICON[c.status]} ${c.status} | ${c.points}/${c.maxPoints} | ${formatDuration(c.durationMs)} | ${cell(c.message)}${at} |`,
    );
  }
  out.push('', '</details>', '');
  out.push(`Total grading time: ${formatDuration(run.durationMs)}`, '');
  return out.join('\n');
}

function describe(c: CheckResult): string[] {
  const text = [`${ICON[c.status]} **\`${c.id}\`** ${c.title} (${c.points}/${c.maxPoints}, ${formatDuration(c.durationMs)})`];
  text.push(...c.message.split('\n'));
  if (c.location) text.push(`At \`${formatLocation(c.location)}\``);
  if (c.hint) text.push(`Hint: ${oneLine(c.hint)}`);
  // Two trailing spaces make a line break inside the list item.
  const lines = text.map((l, i) => `${i === 0 ? '- ' : '  '}${l}${i < text.length - 1 ? '  ' : ''}`);
  if (c.diagnostics) {
    lines.push('', '  <details><summary>Diagnostics</summary>', '', fence(c.diagnostics, '  '), '', '  </details>');
  }
  return [...lines, ''];
}

function fence(text: string, indent: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return [ticks, ...text.split('\n'), ticks].map((l) => `${indent}${l}`).join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}
