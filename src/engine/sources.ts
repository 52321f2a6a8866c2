// Maps objects (and fields the API server names) back to the learner's files and lines. The CLI
// hands live grading plain manifests; the loader is run again on the submission directory to
// find where each object was written. Objects the grader added (the lab's Services) have none.
import * as k8s from '@kubernetes/client-node';
import type { SourceLocation } from '../model.js';
import { loadSubmission } from '../submission/load.js';
import type { ManifestObject } from '../submission/manifest.js';

export type Locator = (kind: string, name: string, field?: string) => SourceLocation | undefined;

export async function loadLocator(submissionDir: string): Promise<Locator> {
  let objects: ManifestObject[] = [];
  try {
    objects = (await loadSubmission(submissionDir)).objects;
  } catch {
    // The CLI loaded it already; if it cannot be read again, messages go without lines.
  }
  return locatorFor(objects);
}

export function locatorFor(objects: readonly ManifestObject[]): Locator {
  return (kind, name, field) => {
    const obj = objects.find((o) => o.kind === kind && o.name === name);
    if (!obj) return undefined;
    if (!field) return obj.source;
    return obj.locate(field.replace(/\[(\d+)\]/g, '.$1'));
  };
}

export interface ApiRejection {
  code: number;
  /** The API server's message (V1Status.message). */
  message: string;
  /** Fields the API server names in details.causes, e.g. spec.template.spec.containers[0].image. */
  fields: string[];
}

/** The API server's reasons for refusing a request (4xx), or undefined for other errors. */
export function apiRejection(error: unknown): ApiRejection | undefined {
  if (!(error instanceof k8s.ApiException)) return undefined;
  if (error.code < 400 || error.code >= 500 || error.code === 409 || error.code === 429) return undefined;
  let status: { message?: string; reason?: string; details?: { causes?: Array<{ field?: string; message?: string }> } } = {};
  try {
    const body: unknown = error.body;
    status = (typeof body === 'string' ? JSON.parse(body) : body) as typeof status;
  } catch {
    // not a V1Status
  }
  const fields = (status.details?.causes ?? []).map((c) => c.field ?? '').filter((f) => f !== '' && !f.startsWith('<'));
  return { code: error.code, message: status.message ?? `HTTP ${error.code}`, fields };
}
