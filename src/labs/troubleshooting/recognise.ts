// How strongly a submission looks like this lab's: the Pi app (its image, even misspelt as in the
// lab's broken specs, or its command line), the lab's label, names and ports. Objects labelled
// for another courselabs lab, or with an HPA (the Pi app autoscaled is another lab's exercise), are
// not this lab's; another lab's app weighs more in that lab's own recognition.
import { getPath, isRecord, type ManifestObject } from '../../submission/manifest.js';
import { containersOf, looksLikePi, servicePorts } from './app.js';
import { APP, LAB_ID } from './catalogue.js';

const COURSE_LABEL = 'kubernetes.courselabs.co';

export function recognise(objects: readonly ManifestObject[]): number {
  const labels = objects.map((o) => getPath(o.body, 'metadata.labels')).filter(isRecord);
  if (labels.some((l) => typeof l[COURSE_LABEL] === 'string' && l[COURSE_LABEL] !== LAB_ID)) return 0;
  const containers = objects.filter((o) => o.kind === 'Deployment').flatMap(containersOf).filter(isRecord);
  if (objects.some((o) => o.kind === 'HorizontalPodAutoscaler')) return 0;

  let score = 0;
  if (containers.some(looksLikePi)) score += 3;
  if (labels.some((l) => l[COURSE_LABEL] === LAB_ID)) score += 3;
  if (score === 0) return 0;
  if (objects.some((o) => o.kind === 'Deployment' && o.name === 'pi-web')) score += 1;
  if (objects.some((o) => o.kind === 'Service' && servicePorts(o).some((p) => p.port === APP.servicePort || p.nodePort === APP.nodePort))) score += 1;
  return score;
}
