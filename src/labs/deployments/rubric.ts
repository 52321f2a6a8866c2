// The static checks: what the files say, with the line to look at. They decide only what the live
// checks decide the same way (same reading of versions and selectors, see model.ts).
import type { StaticRubric, Verdict } from '../../engine/lab.js';
import type { Submission } from '../../submission/load.js';
import { ref, type ManifestObject } from '../../submission/manifest.js';
import type { StaticCheckId } from './catalogue.js';
import {
  distinguishingLabel, formatLabels, listFiles, readExercise, replicas, REPLICAS_WANTED, selectedVersions, serviceSelector,
  templateLabels, WHOAMI_IMAGE, type Exercise, type Obj,
} from './model.js';

export interface FileObj extends Obj {
  readonly source: ManifestObject;
}

export interface RubricContext {
  submission: Submission;
  exercise: Exercise<FileObj>;
}

export function fileObjects(objects: readonly ManifestObject[]): FileObj[] {
  return objects.map((o) => ({ kind: o.kind, name: o.name, body: o.body, file: o.source.file, line: o.source.line, source: o }));
}

const pass = (message: string): Verdict => ({ passed: true, message });
const fail = (message: string, at?: FileObj, field?: string): Verdict => ({
  passed: false,
  message,
  ...(at ? { location: field ? at.source.locate(field) : at.source.source } : {}),
});
const where = (o: FileObj): string => (o.file ? ` (${o.file})` : '');

function twoVersions(ctx: RubricContext): Verdict {
  const { whoami, first } = ctx.exercise;
  if (whoami.length !== 2) {
    const others = first.filter((o) => o.kind === 'Deployment' && !whoami.includes(o)).map((d) => ref(d));
    return fail(
      `${whoami.length} Deployment${whoami.length === 1 ? '' : 's'} run${whoami.length === 1 ? 's' : ''} ${WHOAMI_IMAGE}` +
        `${whoami.length ? ` (${whoami.map((d) => d.name).join(', ')})` : ''}${others.length ? `; other Deployments: ${others.join(', ')}` : ''}; the lab runs v1 and v2 in two Deployments`,
      whoami[2] ?? whoami[0] ?? first[0],
    );
  }
  const off = whoami.filter((d) => replicas(d) !== REPLICAS_WANTED);
  if (off[0]) return fail(off.map((d) => `${ref(d)} asks for ${replicas(d)} replica${replicas(d) === 1 ? '' : 's'}`).join('; ') + `; the lab runs ${REPLICAS_WANTED} of each version`, off[0], 'spec.replicas');
  return pass(`${whoami.map((d) => `${ref(d)}${where(d)}`).join(' and ')} run ${WHOAMI_IMAGE} with ${REPLICAS_WANTED} replicas each`);
}

function labelsDistinct(ctx: RubricContext): Verdict {
  const v = ctx.exercise.versions;
  if (!v) return fail(`needs two Deployments of ${WHOAMI_IMAGE} to compare their labels; found ${ctx.exercise.whoami.length}`, ctx.exercise.whoami[0]);
  const label = distinguishingLabel(templateLabels(v.v1), templateLabels(v.v2));
  if (!label) {
    return fail(
      `the Pod templates of ${ref(v.v1)} (${formatLabels(templateLabels(v.v1))}) and ${ref(v.v2)} (${formatLabels(templateLabels(v.v2))}) have no label with different values, so no selector can pick one version`,
      v.v2,
      'spec.template.metadata.labels',
    );
  }
  return pass(`label ${label.key} is ${label.a} on ${ref(v.v1)}'s Pods and ${label.b} on ${ref(v.v2)}'s (v1 and v2 told apart by ${v.basis})`);
}

function selectsV1(ctx: RubricContext): Verdict {
  const { versions, services, first } = ctx.exercise;
  if (!versions) return fail(`needs two Deployments of ${WHOAMI_IMAGE} (v1 and v2); found ${ctx.exercise.whoami.length}`, ctx.exercise.whoami[0]);
  if (services.length === 0) {
    const all = first.filter((o) => o.kind === 'Service');
    return fail(
      all.length
        ? `no Service selects the whoami Pods: ${all.map((s) => `${ref(s)} selects ${formatLabels(serviceSelector(s))}`).join('; ')}`
        : 'the submission has no Service',
      all[0],
      'spec.selector',
    );
  }
  const wrong = services.filter((s) => {
    const sel = selectedVersions(serviceSelector(s), versions);
    return sel.length !== 1 || sel[0] !== 'v1';
  });
  if (wrong[0]) {
    return fail(
      wrong.map((s) => `${ref(s)}${where(s)} selects ${formatLabels(serviceSelector(s))}: ${describeSelection(selectedVersions(serviceSelector(s), versions), versions)}`).join('; '),
      wrong[0],
      'spec.selector',
    );
  }
  return pass(`${services.map((s) => `${ref(s)}${where(s)}`).join(', ')} select${services.length === 1 ? 's' : ''} only ${ref(versions.v1)}'s Pods (${formatLabels(templateLabels(versions.v1))})`);
}

export function describeSelection(sel: ReadonlyArray<'v1' | 'v2'>, v: { v1: Obj; v2: Obj }): string {
  if (sel.length === 0) return `it matches the Pods of neither ${v.v1.name} nor ${v.v2.name}`;
  if (sel.length === 2) return `it matches the Pods of both ${v.v1.name} (v1) and ${v.v2.name} (v2)`;
  return sel[0] === 'v1' ? `it matches the Pods of ${v.v1.name} (v1)` : `it matches the Pods of ${v.v2.name} (v2)`;
}

/** Why there is nothing to switch, naming the files read: shared by the static and live checks. */
export function noSwitchMessage(ex: Exercise): string {
  const redefined = ex.later.map((o) => `${o.kind}/${o.name}${o.file ? ` in ${o.file}` : ''}`);
  return (
    `nothing switches the traffic: no Service is defined in more than one file (files read in name order: ${listFiles(ex.files)})` +
    (redefined.length ? `; defined again: ${redefined.join(', ')}` : '') +
    '. Define the Service again, with the v2 selector, in a file whose path sorts after the first one\'s'
  );
}

function switchDefined(ctx: RubricContext): Verdict {
  const { switched, versions } = ctx.exercise;
  if (switched.length === 0) return fail(noSwitchMessage(ctx.exercise), ctx.exercise.services[0] ?? ctx.exercise.first[0]);
  if (!versions) return fail(`needs two Deployments of ${WHOAMI_IMAGE} (v1 and v2); found ${ctx.exercise.whoami.length}`, ctx.exercise.whoami[0]);
  const wrong = switched.filter(({ after }) => {
    const sel = selectedVersions(serviceSelector(after), versions);
    return sel.length !== 1 || sel[0] !== 'v2';
  });
  if (wrong[0]) {
    return fail(
      wrong.map(({ after }) => `${ref(after)} as defined again in ${after.file ?? '?'} selects ${formatLabels(serviceSelector(after))}: ${describeSelection(selectedVersions(serviceSelector(after), versions), versions)}`).join('; '),
      wrong[0].after,
      'spec.selector',
    );
  }
  return pass(switched.map(({ before, after }) => `${ref(after)}: ${before.file ?? '?'} then ${after.file ?? '?'} (selects ${formatLabels(serviceSelector(after))})`).join('; '));
}

export const rubric: StaticRubric<StaticCheckId, RubricContext> = {
  // The objects as written: every definition of a redefined object, whatever policy made of them
  // (the checks read only selectors, labels, replicas and images, which policy leaves alone).
  context: (submission, written) => ({ submission, exercise: readExercise(fileObjects(written)) }),
  checks: {
    'submission.parses': ({ submission }) => {
      const n = submission.objects.length;
      return n > 0 ? pass(`${n} object${n === 1 ? '' : 's'} read from ${submission.files.length} file${submission.files.length === 1 ? '' : 's'}`) : fail('the submission holds no Kubernetes objects');
    },
    'submission.allowed-objects': ({ submission }) => {
      const counts = new Map<string, number>();
      for (const o of submission.objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
      return pass(`every object is of an allowed kind: ${[...counts].map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`).join(', ')}`);
    },
    'deployments.spec-two-versions': twoVersions,
    'deployments.spec-labels-distinct': labelsDistinct,
    'before-switch.spec-selects-v1': selectsV1,
    'after-switch.spec-switch-defined': switchDefined,
  },
};
