// result.json: the RunResult with the contract's fields first, extensions after.
import type { CheckResult, RunResult } from '../model.js';

export function renderResultJson(run: RunResult): string {
  const ordered = {
    lab: run.lab,
    submission: run.submission,
    score: run.score,
    maxScore: run.maxScore,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    checks: run.checks.map(orderCheck),
    ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
    ...(run.mode !== undefined ? { mode: run.mode } : {}),
    ...(run.interrupted !== undefined ? { interrupted: run.interrupted } : {}),
    ...(run.namespace !== undefined ? { namespace: run.namespace } : {}),
    ...(run.cluster !== undefined ? { cluster: run.cluster } : {}),
    ...(run.notes !== undefined ? { notes: run.notes } : {}),
    ...(run.floors !== undefined ? { floors: run.floors } : {}),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

function orderCheck(c: CheckResult): CheckResult {
  return {
    id: c.id,
    group: c.group,
    title: c.title,
    status: c.status,
    points: c.points,
    maxPoints: c.maxPoints,
    message: c.message,
    durationMs: c.durationMs,
    ...(c.hint !== undefined ? { hint: c.hint } : {}),
    ...(c.location !== undefined ? { location: c.location } : {}),
    ...(c.diagnostics !== undefined ? { diagnostics: c.diagnostics } : {}),
  };
}
