// What every static check looks at: the app's Deployment, container and HPA, found once.
import type { SourceLocation } from '../../../model.js';
import { APP_IMAGE, identifyApp } from '../catalogue.js';
import type { AppTargets } from '../../../lab/types.js';
import type { Submission } from '../../../submission/load.js';
import { getPath, isRecord, ref, type FieldPath, type ManifestObject } from '../../../submission/manifest.js';

/** A check's decision; the runner adds id, points and hint from the catalogue. */
export interface Verdict {
  passed: boolean;
  message: string;
  location?: SourceLocation;
  diagnostics?: string;
}

export type StaticCheck = (ctx: RubricContext) => Verdict;

export interface AppContainer {
  data: Record<string, unknown>;
  name: string;
  /** Path from the Deployment root, e.g. `['spec','template','spec','containers',0]`. */
  path: Array<string | number>;
}

export interface RubricContext {
  submission: Submission;
  app: AppTargets;
  deployment?: ManifestObject;
  podSpec?: Record<string, unknown>;
  container?: AppContainer;
  /** The HPA the checks read: the one targeting the app, or the only HPA in the submission. */
  hpa?: ManifestObject;
  /** True when `hpa` does not target the app (it is the submission's only HPA). */
  hpaIsFallback: boolean;
}

export const POD_SPEC: readonly string[] = ['spec', 'template', 'spec'];

export function buildContext(submission: Submission): RubricContext {
  const app = identifyApp(submission.objects);
  const ctx: RubricContext = { submission, app, hpaIsFallback: false };
  const deployment = app.deployment;
  if (deployment) {
    ctx.deployment = deployment;
    const podSpec = getPath(deployment.body, POD_SPEC);
    if (isRecord(podSpec)) ctx.podSpec = podSpec;
    const index = app.containerIndex ?? -1;
    const data = getPath(deployment.body, [...POD_SPEC, 'containers', index]);
    if (isRecord(data)) {
      ctx.container = {
        data,
        name: typeof data.name === 'string' ? data.name : `#${index}`,
        path: [...POD_SPEC, 'containers', index],
      };
    }
  }
  const allHpas = submission.objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  if (app.hpas[0]) ctx.hpa = app.hpas[0];
  else if (allHpas.length === 1 && allHpas[0]) {
    ctx.hpa = allHpas[0];
    ctx.hpaIsFallback = true;
  }
  return ctx;
}

/** The verdict of an app-specific check when no Deployment runs the app. */
export function noApp(ctx: RubricContext): Verdict {
  const deployments = ctx.submission.objects.filter((o) => o.kind === 'Deployment');
  const found = deployments.map((d) => {
    const images = (getPath(d.body, 'spec.template.spec.containers') as unknown[] | undefined) ?? [];
    const list = Array.isArray(images)
      ? images.map((c) => (isRecord(c) && typeof c.image === 'string' ? c.image : '?')).join(', ')
      : '?';
    return `${ref(d)} runs ${list}`;
  });
  const detail = found.length > 0 ? ` (${found.join('; ')})` : ' (the submission has no Deployment)';
  const first = deployments[0] ?? ctx.submission.objects[0];
  return {
    passed: false,
    message: `no Deployment runs ${APP_IMAGE}${detail}`,
    ...(first ? { location: first.source } : {}),
  };
}

export function containerField(ctx: RubricContext, rel: FieldPath): unknown {
  if (!ctx.container) return undefined;
  return getPath(ctx.container.data, rel);
}

/** Location of a field under the app container, or of its nearest ancestor. */
export function locateInContainer(ctx: RubricContext, rel: ReadonlyArray<string | number>): SourceLocation | undefined {
  if (!ctx.deployment || !ctx.container) return ctx.deployment?.source;
  return ctx.deployment.locate([...ctx.container.path, ...rel]);
}

export function locateInPodSpec(ctx: RubricContext, rel: ReadonlyArray<string | number>): SourceLocation | undefined {
  return ctx.deployment?.locate([...POD_SPEC, ...rel]);
}

export function containerLabel(ctx: RubricContext): string {
  const name = ctx.container?.name ?? '?';
  return `container "${name}" of ${ctx.deployment ? ref(ctx.deployment) : 'the Deployment'}`;
}

export function pass(message: string, location?: SourceLocation): Verdict {
  return { passed: true, message, ...(location ? { location } : {}) };
}

export function fail(message: string, location?: SourceLocation): Verdict {
  return { passed: false, message, ...(location ? { location } : {}) };
}
