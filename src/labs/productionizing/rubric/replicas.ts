// replicas.*: the lab wants 5 replicas, and nothing (the HPA included) going below 5.
import { getPath, ref } from '../../../submission/manifest.js';
import { fail, noApp, pass, type StaticCheck } from './context.js';

const WANTED = 5;

/**
 * Passes when the Deployment asks for 5 replicas, or when an HPA targeting it keeps at least 5:
 * the HPA then owns the replica count and `replicas` only matters for the first seconds.
 */
export const specFive: StaticCheck = (ctx) => {
  const dep = ctx.deployment;
  if (!dep) return noApp(ctx);
  const replicas = getPath(dep.body, 'spec.replicas');
  if (replicas === WANTED) return pass(`${ref(dep)} asks for ${WANTED} replicas`, dep.locate('spec.replicas'));
  const hpa = ctx.app.hpas[0];
  const min = hpa ? getPath(hpa.body, 'spec.minReplicas') : undefined;
  const written = replicas === undefined ? 'does not set replicas' : `asks for ${String(replicas)} replicas`;
  if (hpa && typeof min === 'number' && min >= WANTED) {
    return pass(`${ref(dep)} ${written}, and ${ref(hpa)} keeps at least ${min} running`, hpa.locate('spec.minReplicas'));
  }
  const outcome = replicas === undefined ? ' (so it runs 1 Pod)' : '';
  return fail(`${ref(dep)} ${written}${outcome}; the lab asks for ${WANTED}`, dep.locate('spec.replicas'));
};

/** No HPA for the app passes here: the hpa group reports the missing HPA. */
export const hpaMinFive: StaticCheck = (ctx) => {
  if (!ctx.deployment) return noApp(ctx);
  const hpa = ctx.hpa;
  if (!hpa) return pass('the submission has no HPA that could scale the app below 5 (the hpa checks report the missing HPA)');
  const min = getPath(hpa.body, 'spec.minReplicas');
  if (min === undefined) {
    return fail(`${ref(hpa)} does not set minReplicas, so it may scale the app down to 1 Pod`, hpa.locate('spec'));
  }
  if (typeof min === 'number' && min >= WANTED) return pass(`${ref(hpa)} keeps at least ${min} replicas`, hpa.locate('spec.minReplicas'));
  return fail(`${ref(hpa)} has minReplicas ${String(min)}, so it may scale the app below ${WANTED}`, hpa.locate('spec.minReplicas'));
};
