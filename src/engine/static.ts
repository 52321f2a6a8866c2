// The static rubric of any lab: every static check of its catalogue, decided from the
// policy-checked files by the lab's own functions.
import { performance } from 'node:perf_hooks';
import type { CheckResult, SubmissionError } from '../model.js';
import { checkResult, type CheckDefinition } from '../lab/types.js';
import type { Submission } from '../submission/load.js';
import type { ManifestObject } from '../submission/manifest.js';
import type { AnyLab, Lab, Verdict } from './lab.js';
import { errorText } from '../util/error-text.js';

type RubricLab = Pick<AnyLab, 'id' | 'checks' | 'rubric'>;

/**
 * Results for every static check of `lab`, in catalogue order. `sub` holds the policy-checked
 * objects; `written` the same as the learner wrote them (default: `sub.objects`).
 */
export function runStaticRubric(sub: Submission, lab: RubricLab, written: readonly ManifestObject[] = sub.objects): CheckResult[] {
  const statics = lab.checks.filter((c) => c.kind === 'static');
  let ctx: unknown;
  let contextError: unknown;
  try {
    ctx = lab.rubric.context(sub, written);
  } catch (err) {
    contextError = err;
  }
  return statics.map((def) => {
    const impl = lab.rubric.checks[def.id];
    if (!impl) throw new Error(`static check ${def.id} of lab ${lab.id} has no implementation`);
    const started = performance.now();
    if (contextError !== undefined) return checkResult(def, 'error', `the grader could not decide: ${errorText(contextError)}`, 0);
    let verdict: Verdict;
    try {
      verdict = impl(ctx);
    } catch (err) {
      // An unexpected shape in the learner's files must not abort the rubric.
      return checkResult(def, 'error', `the grader could not decide: ${errorText(err)}`, performance.now() - started);
    }
    return resultFromVerdict(def, verdict, performance.now() - started);
  });
}

export function resultFromVerdict(def: CheckDefinition, verdict: Verdict, durationMs: number): CheckResult {
  return checkResult(def, verdict.passed ? 'passed' : 'failed', verdict.message, durationMs, {
    ...(verdict.passed ? {} : { hint: def.hint }),
    ...(verdict.location ? { location: verdict.location } : {}),
    ...(verdict.diagnostics ? { diagnostics: verdict.diagnostics } : {}),
  });
}

/**
 * The failed `submission.parses` / `submission.allowed-objects` result for an ungradable
 * submission. A lab without that check gets one made up from the error (points 0 of 0).
 */
export function submissionFailure(id: 'submission.parses' | 'submission.allowed-objects', error: SubmissionError, lab: Pick<Lab, 'checks'>): CheckResult {
  const def: CheckDefinition = lab.checks.find((c) => c.id === id) ?? {
    id,
    group: 'submission',
    title: id === 'submission.parses' ? 'the specs parse as Kubernetes objects' : 'the specs contain only objects the lab allows',
    maxPoints: 0,
    kind: 'static',
    hint: '',
  };
  return resultFromVerdict(def, { passed: false, message: error.message, ...(error.location ? { location: error.location } : {}) }, 0);
}

/** The passed `submission.parses` result when the files parsed but the policy refused them (the lab's own check when it has one). */
export function parsesPassed(submission: Submission, lab: RubricLab): CheckResult | undefined {
  const def = lab.checks.find((c) => c.id === 'submission.parses');
  const impl = lab.rubric.checks['submission.parses'];
  if (!def || !impl) return undefined;
  return resultFromVerdict(def, impl(lab.rubric.context(submission, submission.objects)), 0);
}
