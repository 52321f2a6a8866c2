// Check results and runs of the productionizing lab for the reporters' unit tests: every check
// passed unless overridden, with the lab's own points.
import { productionizing } from '../../src/labs/productionizing/catalogue.js';
import { checkResult } from '../../src/lab/types.js';
import type { CheckResult, RunResult } from '../../src/model.js';

export function sampleCheck(id: string, status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult {
  const def = productionizing.checks.find((c) => c.id === id);
  if (!def) throw new Error(`no check ${id} in the productionizing lab`);
  return { ...checkResult(def, status, `${id} is ${status}`, 1500), ...extra };
}

export function sampleRun(overrides: CheckResult[] = [], extra: Partial<RunResult> = {}): RunResult {
  const checks = productionizing.checks.map((def) => overrides.find((o) => o.id === def.id) ?? sampleCheck(def.id, 'passed'));
  return {
    lab: 'productionizing',
    submission: 'submissions/alice',
    score: checks.reduce((s, c) => s + c.points, 0),
    maxScore: checks.reduce((s, c) => s + c.maxPoints, 0),
    startedAt: '2025-01-02T03:04:05.678Z',
    durationMs: 93_000,
    checks,
    ...extra,
  };
}
