// The API server's reasons for refusing an object, with the fields it names (the Locator maps
// them back to the learner's lines: submission/locate.ts).
import * as k8s from '@kubernetes/client-node';

export type { Locator } from '../submission/locate.js';

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
