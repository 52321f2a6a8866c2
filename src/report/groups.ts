// Shared helpers for the reporters: groups in catalogue order, scores and verdicts.
import type { CheckResult, CheckStatus, RunResult } from '../model.js';

export interface GroupSummary {
  group: string;
  checks: CheckResult[];
  points: number;
  maxPoints: number;
  durationMs: number;
  verdict: CheckStatus;
}

/** Groups in the order their first check appears (the catalogue order). */
export function groupChecks(checks: readonly CheckResult[]): GroupSummary[] {
  const byGroup = new Map<string, CheckResult[]>();
  for (const c of checks) {
    const list = byGroup.get(c.group);
    if (list) list.push(c);
    else byGroup.set(c.group, [c]);
  }
  return [...byGroup].map(([group, list]) => ({
    group,
    checks: list,
    points: sum(list.map((c) => c.points)),
    maxPoints: sum(list.map((c) => c.maxPoints)),
    durationMs: sum(list.map((c) => c.durationMs)),
    verdict: groupVerdict(list),
  }));
}

/** A group passes when every check passed; a failure outranks an error, an error a skip. */
export function groupVerdict(checks: readonly CheckResult[]): CheckStatus {
  if (checks.some((c) => c.status === 'failed')) return 'failed';
  if (checks.some((c) => c.status === 'error')) return 'error';
  if (checks.length > 0 && checks.every((c) => c.status === 'passed')) return 'passed';
  return 'skipped';
}

/** `passed`, or `passed, 2 not run` for a group whose remaining checks were skipped. */
export function verdictLabel(group: GroupSummary): string {
  const notRun = group.checks.filter((c) => c.status === 'skipped').length;
  const passed = group.checks.filter((c) => c.status === 'passed').length;
  if (group.verdict === 'skipped' && passed > 0) return `passed, ${notRun} not run`;
  return group.verdict;
}

export function scoreOf(checks: readonly CheckResult[]): { score: number; maxScore: number } {
  return { score: sum(checks.map((c) => c.points)), maxScore: sum(checks.map((c) => c.maxPoints)) };
}

export function countByStatus(run: Pick<RunResult, 'checks'>): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { passed: 0, failed: 0, error: 0, skipped: 0 };
  for (const c of run.checks) counts[c.status]++;
  return counts;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1).replace(/\.0$/, '')} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest === 0 ? `${m} min` : `${m} min ${rest} s`;
}

export function formatLocation(loc: CheckResult['location']): string {
  if (!loc) return '';
  return loc.column ? `${loc.file}:${loc.line}:${loc.column}` : `${loc.file}:${loc.line}`;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The lines `lab-grader selfcheck` prints at the end: steps passed, each group, what did not pass, where the reports are. */
export function selfcheckSummary(run: RunResult, exitCode: number, reports: { junit: string; resultJson: string; summary: string }): string {
  const passed = run.checks.filter((c) => c.status === 'passed').length;
  const lines = [`selfcheck (${run.lab} walkthrough): ${passed}/${run.checks.length} steps passed in ${formatDuration(run.durationMs)} (exit ${exitCode})`];
  const groups = groupChecks(run.checks);
  const width = Math.max(...groups.map((g) => g.group.length));
  for (const g of groups) lines.push(`  ${g.group.padEnd(width)}  ${`${g.points}/${g.maxPoints}`.padStart(5)}  ${verdictLabel(g)}  ${formatDuration(g.durationMs)}`);
  for (const c of run.checks.filter((x) => x.status === 'failed' || x.status === 'error')) lines.push(`  ${c.status.toUpperCase()} ${c.id}: ${c.message.split('\n')[0]}`);
  for (const n of run.notes ?? []) lines.push(`note: ${n}`);
  lines.push(`Reports: ${reports.junit}, ${reports.resultJson}, ${reports.summary}`);
  return `${lines.join('\n')}\n`;
}

/** One progress line per recorded check: `PASS id (duration): first line of the message`. */
export function checkLine(r: CheckResult): string {
  const word = { passed: 'PASS', failed: 'FAIL', error: 'ERROR', skipped: 'SKIP' }[r.status];
  return `${word} ${r.id} (${formatDuration(r.durationMs)}): ${r.message.split('\n')[0] ?? ''}`;
}
