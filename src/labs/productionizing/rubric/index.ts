// The productionizing lab's static rubric: one function per static check of its catalogue.
import type { CheckResult, SubmissionError } from '../../../model.js';
import type { StaticRubric } from '../../../engine/lab.js';
import { runStaticRubric as runRubric, submissionFailure as failure } from '../../../engine/static.js';
import type { Submission } from '../../../submission/load.js';
import { PRODUCTIONIZING_CHECKS, type ProductionizingId } from '../catalogue.js';
import { buildContext, type RubricContext, type StaticCheck } from './context.js';
import * as hpa from './hpa.js';
import * as probes from './probes.js';
import * as replicas from './replicas.js';
import * as security from './security.js';
import * as submission from './submission.js';

export const STATIC_CHECKS: { readonly [K in ProductionizingId]?: StaticCheck } = {
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

export const rubric: StaticRubric<ProductionizingId, RubricContext> = { context: buildContext, checks: STATIC_CHECKS };

/** The lab's static results (for its tests; the CLI runs the engine's runStaticRubric). */
export function runStaticRubric(sub: Submission): CheckResult[] {
  return runRubric(sub, { id: 'productionizing', checks: PRODUCTIONIZING_CHECKS, rubric });
}

export function submissionFailure(id: 'submission.parses' | 'submission.allowed-objects', error: SubmissionError): CheckResult {
  return failure(id, error, { checks: PRODUCTIONIZING_CHECKS });
}

export type { StaticCheck, Verdict } from './context.js';
