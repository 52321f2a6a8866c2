// "Preparing for Production" (courselabs/kubernetes labs/productionizing): the configurable app
// gets probes, an HPA and security settings. Points: live behaviour weighs more than spec text.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getPath, isRecord, ref, type ManifestObject } from '../../submission/manifest.js';
import { parseManifests } from '../../submission/load.js';
import { defineCheck, type AppTargets, type LabDefinition } from '../../lab/types.js';
import { imageRepository } from '../../submission/image.js';

export const APP_IMAGE = 'sixeyed/configurable';

const check = defineCheck;

export const PRODUCTIONIZING_CHECKS = [
  check('submission.parses', 'static', 1, 'the specs parse as Kubernetes objects',
    'Fix the YAML at the line shown: indent with spaces, quote strings containing ": ", and give every document apiVersion, kind and metadata.name.'),
  check('submission.allowed-objects', 'static', 1, 'the specs contain only objects the lab allows',
    'Submit only the app\'s Deployment, Service and HorizontalPodAutoscaler (plus any ConfigMaps, Secrets or PodDisruptionBudgets it uses), without privileged settings; the grader creates the namespace itself.'),
  check('submission.applies', 'live', 2, 'the API server accepts every object in the specs',
    'Run `kubectl apply --dry-run=server -f <your folder>` to see which object the API server rejects and why.'),

  check('replicas.spec-five', 'static', 1, 'the Deployment runs 5 replicas',
    'Set `replicas: 5` in the Deployment spec (or give the HPA `minReplicas: 5`, which keeps at least 5 running).'),
  check('replicas.hpa-min-five', 'static', 1, 'the HPA never scales the app below 5 replicas',
    'Set `minReplicas: 5` in the HPA: without it the HPA may scale the app down to 1 Pod.'),
  check('replicas.ready-five', 'live', 3, '5 Pods of the app become ready',
    'Check the Pods with `kubectl get pods -l app=configurable`; `kubectl describe pod` shows probe failures or scheduling problems.'),

  check('readiness.probe-defined', 'static', 2, 'the app container has a readiness probe',
    'Add a readinessProbe to the app container: an httpGet on path /healthz, port 80, with periodSeconds: 1 and failureThreshold: 1.'),
  check('readiness.removes-failed-pod', 'live', 5, 'a Pod whose app fails leaves the Service endpoints while its container keeps running',
    'The readiness probe must fail when the app fails: probe /healthz (the app reports its health there), often enough to notice quickly.'),
  check('readiness.service-serves-healthy', 'live', 4, 'traffic through the Service reaches only healthy Pods',
    'With a readiness probe on /healthz, Kubernetes takes failed Pods out of the Service so callers only reach healthy ones.'),

  check('liveness.probe-defined', 'static', 2, 'the app container has a liveness probe',
    'Add a livenessProbe to the app container: an httpGet on path /healthz, port 80, with periodSeconds: 5.'),
  check('liveness.restarts-failed-container', 'live', 5, 'a Pod whose app fails gets its container restarted',
    'The liveness probe must fail when the app fails: an httpGet on /healthz does; a tcpSocket probe does not, because the failed app keeps listening.'),
  check('liveness.returns-to-service', 'live', 3, 'the restarted Pod becomes ready again and rejoins the Service',
    'After the restart the readiness probe must pass again: check both probes use /healthz and that the liveness probe leaves the app time to start.'),

  check('hpa.targets-deployment', 'static', 2, 'an HPA targets the app\'s Deployment',
    'Point the HPA\'s scaleTargetRef at apiVersion: apps/v1, kind: Deployment and the name of your Deployment (configurable).'),
  check('hpa.max-ten', 'static', 1, 'the HPA scales up to at most 10 replicas',
    'Set `maxReplicas: 10` in the HPA.'),
  check('hpa.cpu-fifty', 'static', 1, 'the HPA targets 50% average CPU utilization',
    'Use `targetCPUUtilizationPercentage: 50` (autoscaling/v1), or in autoscaling/v2 a Resource metric for cpu with target type Utilization and averageUtilization: 50.'),
  check('hpa.cpu-request-set', 'static', 2, 'every container sets the CPU request the HPA measures against',
    'CPU utilization is a percentage of the CPU request: set resources.requests.cpu (the lab uses 125m), or a CPU limit, which the request then defaults to.'),
  check('hpa.metrics-flow', 'live', 2, 'the HPA reads CPU metrics for the app\'s Pods',
    '`kubectl describe hpa` shows why metrics are missing; usually a container without a CPU request.'),
  check('hpa.scales-up', 'live', 5, 'the HPA adds Pods when the app is under CPU load',
    'Check maxReplicas is above minReplicas and the CPU target is 50%; `kubectl describe hpa` shows the HPA\'s decisions.'),
  check('hpa.scales-down', 'live', 4, 'the HPA removes the extra Pods after the load stops',
    'After the load stops the HPA should return to minReplicas; `kubectl describe hpa` shows why it did not.'),
  check('hpa.restores-manual-scale', 'live', 3, 'the HPA restores the replica count after a manual scale-down',
    'The HPA owns the replica count: after `kubectl scale --replicas=1` it should bring the Deployment back to its minimum (5).'),

  check('security.spec-non-root', 'static', 1, 'the app container is set to run as a non-root user',
    'Set securityContext.runAsUser to a non-zero UID (e.g. 65534) and runAsNonRoot: true, in the Pod spec or the container.'),
  check('security.spec-no-sa-token', 'static', 1, 'the Pod does not mount a service account token',
    'Set `automountServiceAccountToken: false` in the Pod spec (spec.template.spec).'),
  check('security.spec-no-privilege-escalation', 'static', 1, 'the app container disallows privilege escalation',
    'Set `allowPrivilegeEscalation: false` in the app container\'s securityContext.'),
  check('security.spec-capabilities-dropped', 'static', 1, 'the app container drops all Linux capabilities',
    'Add `capabilities: { drop: ["ALL"] }` to the app container\'s securityContext.'),
  check('security.spec-resource-limits', 'static', 2, 'the app container has CPU and memory limits',
    'Set resources.limits.cpu and resources.limits.memory on the app container (e.g. 250m and 256Mi).'),
  check('security.exec-uid-non-root', 'live', 3, 'a process in the app container runs with a non-root UID',
    '`kubectl exec deploy/configurable -- id -u` should print a non-zero UID: set runAsUser.'),
  check('security.exec-no-sa-token', 'live', 3, 'no service account token can be read inside the app container',
    '`kubectl exec deploy/configurable -- cat /var/run/secrets/kubernetes.io/serviceaccount/token` should fail: set automountServiceAccountToken: false.'),
  check('security.exec-chown-refused', 'live', 3, 'changing file ownership inside the app container is refused',
    '`chown` in the container should fail with "Operation not permitted": run as a non-root user and drop all capabilities.'),
] as const;

/** The lab's check ids: a typo in one fails to compile. */
export type ProductionizingId = (typeof PRODUCTIONIZING_CHECKS)[number]['id'];

const specsDir = fileURLToPath(new URL('../../../specs/productionizing/', import.meta.url));

export const productionizing: LabDefinition = {
  id: 'productionizing',
  title: 'Preparing for Production',
  groups: [
    { id: 'submission', title: 'Submission' },
    { id: 'replicas', title: 'Replicas' },
    { id: 'readiness', title: 'Readiness' },
    { id: 'liveness', title: 'Liveness' },
    { id: 'hpa', title: 'Autoscaling' },
    { id: 'security', title: 'Security' },
  ],
  checks: PRODUCTIONIZING_CHECKS,
  specsDir,
};

export { imageRepository } from '../../submission/image.js';

export function podTemplateContainers(deployment: ManifestObject): unknown[] {
  const containers = getPath(deployment.body, 'spec.template.spec.containers');
  return Array.isArray(containers) ? containers : [];
}

function appContainerIndex(deployment: ManifestObject): number {
  return podTemplateContainers(deployment).findIndex(
    (c) => isRecord(c) && typeof c.image === 'string' && imageRepository(c.image) === APP_IMAGE,
  );
}

export function selectorMatches(selector: unknown, labels: unknown): boolean {
  if (!isRecord(selector) || Object.keys(selector).length === 0 || !isRecord(labels)) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Finds the lab's app, its Services and its HPAs among policy-checked objects. */
export function identifyApp(objects: readonly ManifestObject[]): AppTargets {
  const candidates = objects.filter((o) => o.kind === 'Deployment' && appContainerIndex(o) >= 0);
  // A learner who kept the lab's name wins over any other copy.
  const deployment = candidates.find((o) => o.name === 'configurable') ?? candidates[0];
  const targets: AppTargets = {
    services: [],
    hpas: [],
    otherAppDeployments: candidates.filter((o) => o !== deployment),
  };
  if (!deployment) return targets;
  targets.deployment = deployment;
  targets.containerIndex = appContainerIndex(deployment);
  const podLabels = getPath(deployment.body, 'spec.template.metadata.labels');
  targets.services = objects.filter(
    (o) => o.kind === 'Service' && selectorMatches(getPath(o.body, 'spec.selector'), podLabels),
  );
  targets.hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' && hpaTargets(o, deployment.name));
  return targets;
}

export function hpaTargets(hpa: ManifestObject, deploymentName: string): boolean {
  const target = getPath(hpa.body, 'spec.scaleTargetRef');
  if (!isRecord(target)) return false;
  const apiVersion = target.apiVersion;
  return (
    target.kind === 'Deployment' &&
    target.name === deploymentName &&
    (apiVersion === undefined || apiVersion === 'apps/v1')
  );
}

export interface Supplement {
  objects: ManifestObject[];
  notes: string[];
}

/**
 * The lab hands learners its Services; a submission that brings none for the app gets the lab's
 * (`specs/productionizing/configurable/services.yaml`), selecting the app's Pods. Run the result
 * through the policy like the learner's own objects.
 */
export async function labSupplements(objects: readonly ManifestObject[]): Promise<Supplement> {
  const app = identifyApp(objects);
  if (!app.deployment || app.services.length > 0) return { objects: [], notes: [] };
  const file = path.join(specsDir, 'configurable', 'services.yaml');
  const parsed = parseManifests('(lab) configurable/services.yaml', await readFile(file, 'utf8'));
  const podLabels = getPath(app.deployment.body, 'spec.template.metadata.labels');
  const matchLabels = getPath(app.deployment.body, 'spec.selector.matchLabels');
  const taken = new Set(objects.map(ref));
  const added: ManifestObject[] = [];
  const notes: string[] = [];
  for (const svc of parsed.objects) {
    if (svc.kind !== 'Service') continue;
    if (taken.has(ref(svc))) {
      notes.push(`The lab's ${ref(svc)} was not added: the submission has an object of that name`);
      continue;
    }
    let body = svc.body;
    if (!selectorMatches(getPath(body, 'spec.selector'), podLabels) && isRecord(matchLabels)) {
      body = structuredClone(body);
      (body.spec as Record<string, unknown>).selector = { ...matchLabels };
    }
    added.push({ ...svc, body });
  }
  if (added.length > 0) {
    notes.push(
      `No Service selects the Pods of ${ref(app.deployment)}, so the lab's ${added.map(ref).join(' and ')} ${added.length === 1 ? 'was' : 'were'} added`,
    );
  }
  return { objects: added, notes };
}
