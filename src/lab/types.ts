// A lab as data: its check catalogue, its app and its published specs.
import type { ManifestObject } from '../submission/manifest.js';
import type { CheckResult, CheckStatus } from '../model.js';

export type CheckKind = 'static' | 'live';

export interface CheckDefinition {
  /** `<group>.<name>` */
  readonly id: string;
  readonly group: string;
  /** An observable claim, used as the JUnit test case name. */
  readonly title: string;
  readonly maxPoints: number;
  /** static: decided from the files; live: decided from what the cluster does. */
  readonly kind: CheckKind;
  /** What to change, in the learner's terms. */
  readonly hint: string;
}

export interface GroupDefinition {
  readonly id: string;
  readonly title: string;
}

export interface LabDefinition {
  readonly id: string;
  readonly title: string;
  readonly groups: readonly GroupDefinition[];
  /** Catalogue order: the order of every report. */
  readonly checks: readonly CheckDefinition[];
  /** Absolute path of the lab's published specs shipped with the package. */
  readonly specsDir: string;
}

/** The objects of a submission that the lab's checks are about. */
export interface AppTargets {
  /** The Deployment whose Pods run the lab's app, if any. */
  deployment?: ManifestObject;
  /** Index of the app container in `spec.template.spec.containers`. */
  containerIndex?: number;
  /** Services whose selector matches the app's Pod labels. */
  services: ManifestObject[];
  /** HPAs whose scaleTargetRef names the app's Deployment. */
  hpas: ManifestObject[];
  /** Other Deployments running the app's image (a second copy is ignored by the checks). */
  otherAppDeployments: ManifestObject[];
}

/**
 * A catalogue entry; the group is the id's part before the dot. The id and kind keep their
 * literal types, so a lab's check ids are a union a typo fails to compile against.
 */
export function defineCheck<const Id extends string, const Kind extends CheckKind>(
  id: Id,
  kind: Kind,
  maxPoints: number,
  title: string,
  hint: string,
): CheckDefinition & { readonly id: Id; readonly kind: Kind } {
  return { id, group: id.slice(0, id.indexOf('.')), title, maxPoints, kind, hint };
}

/** The result of a check from its definition: full points when passed, none otherwise. */
export function checkResult(
  def: CheckDefinition,
  status: CheckStatus,
  message: string,
  durationMs: number,
  extra: Partial<Pick<CheckResult, 'hint' | 'location' | 'diagnostics'>> = {},
): CheckResult {
  return {
    id: def.id,
    group: def.group,
    title: def.title,
    status,
    points: status === 'passed' ? def.maxPoints : 0,
    maxPoints: def.maxPoints,
    message,
    durationMs: Math.max(0, Math.round(durationMs)),
    ...extra,
  };
}
