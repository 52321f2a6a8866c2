// The static rubric: every static check of the catalogue, decided from the policy-checked files.
import { performance } from 'node:perf_hooks';
import type { CheckResult, SubmissionError } from '../../../model.js';
import { productionizing } from '../catalogue.js';
import { checkResult, type CheckDefinition, type LabDefinition } from '../../../lab/types.js';
import type { Submission } from '../../../submission/load.js';
import { buildContext, type StaticCheck, type Verdict } from './context.js';
import * as hpa from './hpa.js';
import * as probes from './probes.js';
import * as replicas from './replicas.js';
import * as security from './security.js';
import * as submission from './submission.js';
import { errorText } from '../../../util/error-text.js';

export const STATIC_CHECKS: Readonly<Record<string, StaticCheck>> = {
  'submission.parses': submission.parses,
  'submission.allowed-objects': submission.allowedObjects,
  'replicas.spec-five': replicas.specFive,
  'replicas.hpa-min-five': replicas.hpaMinFive,
  'readiness.probe-defined': probes.readinessProbeDefined,
  'liveness.probe-defined': probes.livenessProbeDefined,
  'hpa.targets-deployment': hpa.targetsDeployment,
  'hpa.max-ten': hpa.maxTen,
  'hpa.cpu-fifty': hpa.cpuFifty,
  'hpa.cpu-request-set': hpa.cpuRequestSet,
  'security.spec-non-root': security.nonRoot,
  'security.spec-no-sa-token': security.noServiceAccountToken,
  'security.spec-no-privilege-escalation': security.noPrivilegeEscalation,
  'security.spec-capabilities-dropped': security.capabilitiesDropped,
  'security.spec-resource-limits': security.resourceLimits,
};

/** Results for every static check of `lab`, in catalogue order. */
export function runStaticRubric(sub: Submission, lab: LabDefinition = productionizing): CheckResult[] {
  const ctx = buildContext(sub);
  return lab.checks
    .filter((c) => c.kind === 'static')
    .map((def) => {
      const impl = STATIC_CHECKS[def.id];
      if (!impl) throw new Error(`static check ${def.id} has no implementation`);
      const started = performance.now();
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

/** The failed `submission.parses` / `submission.allowed-objects` result for an ungradable submission. */
export function submissionFailure(
  id: 'submission.parses' | 'submission.allowed-objects',
  error: SubmissionError,
  lab: LabDefinition = productionizing,
): CheckResult {
  const def = lab.checks.find((c) => c.id === id);
  if (!def) throw new Error(`lab ${lab.id} has no check ${id}`);
  return resultFromVerdict(
    def,
    { passed: false, message: error.message, ...(error.location ? { location: error.location } : {}) },
    0,
  );
}

export type { StaticCheck, Verdict } from './context.js';
