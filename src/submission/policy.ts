// What a submission may contain, and the rewrites that let it run beside other gradings.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { SubmissionError, type SourceLocation } from '../model.js';
import { formatProblem } from './load.js';
import { getPath, isRecord, ref, type ManifestObject } from './manifest.js';
import { isDns1123Label, nameProblem, type NameRule } from './names.js';
import { baselineViolations } from './pod-security.js';

export interface PolicyOptions {
  /** The grading namespace every namespaced object is moved into. */
  namespace: string;
  /** The objects are a switch step (later definitions, see redefinitions.ts): the same object may come more than once. */
  redefinitions?: boolean;
}

export interface PolicyResult {
  objects: ManifestObject[];
  notes: string[];
}

/** Allowed kinds and the API versions current Kubernetes serves for them. */
export const ALLOWED_KINDS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['apps/v1'],
  Service: ['v1'],
  HorizontalPodAutoscaler: ['autoscaling/v2', 'autoscaling/v1'],
  ConfigMap: ['v1'],
  Secret: ['v1'],
  PodDisruptionBudget: ['policy/v1'],
};

const NAME_RULES: Readonly<Record<string, NameRule>> = {
  Service: 'dns1035-label',
};

const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding',
  'CustomResourceDefinition', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding', 'APIService', 'PriorityClass', 'RuntimeClass', 'IngressClass',
  'CSIDriver', 'CSINode', 'VolumeAttachment', 'CertificateSigningRequest', 'FlowSchema',
  'PriorityLevelConfiguration', 'ComponentStatus',
]);

const SERVER_SET_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink'];

const ALLOWED_LIST = Object.keys(ALLOWED_KINDS).join(', ');

export function applyPolicy(objects: readonly ManifestObject[], opts: PolicyOptions): PolicyResult {
  if (!isDns1123Label(opts.namespace)) throw new Error(`invalid grading namespace name: ${opts.namespace}`);
  const problems: Array<{ location: SourceLocation; message: string; order: number }> = [];
  const reject = (obj: ManifestObject, location: SourceLocation, message: string): void => {
    problems.push({ location, message: `${ref(obj)}: ${message}`, order: objects.indexOf(obj) });
  };

  const seen = new Map<string, ManifestObject>();
  for (const obj of objects) {
    const versions = ALLOWED_KINDS[obj.kind];
    if (!versions) {
      reject(obj, obj.source, `${disallowedReason(obj.kind)}; allowed kinds: ${ALLOWED_LIST}`);
      continue;
    }
    if (!versions.includes(obj.apiVersion)) {
      reject(
        obj,
        obj.locate('apiVersion'),
        `apiVersion ${obj.apiVersion} is not served for ${obj.kind} by current Kubernetes; use ${versions.join(' or ')}`,
      );
    }
    const rule = NAME_RULES[obj.kind] ?? 'dns1123-subdomain';
    const nameIssue = nameProblem(obj.name, rule);
    if (nameIssue) {
      reject(obj, obj.locate('metadata.name'), `metadata.name ${JSON.stringify(obj.name)} is not a valid ${obj.kind} name: it ${nameIssue}`);
    }
    const key = ref(obj);
    const earlier = seen.get(key);
    if (earlier && !opts.redefinitions) {
      reject(
        obj,
        obj.source,
        `defined twice (also at ${earlier.source.file}:${earlier.source.line}); keep one definition of each object`,
      );
    } else {
      seen.set(key, obj);
    }
    if (obj.kind === 'Deployment') {
      for (const v of baselineViolations(getPath(obj.body, 'spec.template'), ['spec', 'template'])) {
        reject(
          obj,
          obj.locate(v.path),
          `${formatFieldPath(v.path)}: ${v.message}; not allowed by the Pod Security Standard "baseline"`,
        );
      }
    }
  }
  if (problems.length > 0) {
    // Reading order: by object, then by line within it.
    problems.sort((a, b) => a.order - b.order || a.location.line - b.location.line || (a.location.column ?? 0) - (b.location.column ?? 0));
    const first = problems[0];
    const lines = problems.slice(0, 10).map(formatProblem);
    if (problems.length > 10) lines.push(`…and ${problems.length - 10} more`);
    throw new SubmissionError(lines.join('\n'), first?.location);
  }

  const notes: string[] = [];
  const out = objects.map((obj) => rewrite(obj, opts.namespace, notes));
  return { objects: out, notes };
}

function disallowedReason(kind: string): string {
  if (kind === 'Namespace') return 'Namespace objects are not allowed: the grader creates a namespace for each run';
  if (kind === 'Pod') return 'bare Pods are not allowed: run the app from a Deployment';
  if (kind === 'ServiceAccount') {
    return 'ServiceAccounts are not allowed: to keep the token out of the Pod, set automountServiceAccountToken: false in the Pod spec';
  }
  if (kind === 'Role' || kind === 'RoleBinding') return `${kind} objects (RBAC) are not allowed: the app needs no API access`;
  if (CLUSTER_SCOPED.has(kind)) return `${kind} is cluster-scoped and not allowed: a submission may only create objects in its own namespace`;
  return `kind ${kind} is not allowed`;
}

/** `spec.template.spec.containers[0].securityContext.privileged` */
export function formatFieldPath(segs: ReadonlyArray<string | number>): string {
  return segs.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function rewrite(obj: ManifestObject, namespace: string, notes: string[]): ManifestObject {
  const body = structuredClone(obj.body);
  const metadata = isRecord(body.metadata) ? body.metadata : {};
  body.metadata = metadata;
  const written = metadata.namespace;
  if (typeof written === 'string' && written !== '' && written !== namespace) {
    notes.push(`${ref(obj)}: metadata.namespace ${written} replaced by ${namespace}`);
  }
  metadata.namespace = namespace;

  const removed = SERVER_SET_METADATA.filter((f) => f in metadata).map((f) => `metadata.${f}`);
  for (const f of SERVER_SET_METADATA) delete metadata[f];
  if ('status' in body) {
    removed.push('status');
    delete body.status;
  }
  if (removed.length > 0) notes.push(`${ref(obj)}: removed fields the API server sets (${removed.join(', ')})`);

  if (obj.kind === 'Service' && isRecord(body.spec)) rewriteService(obj, body.spec, notes);
  return { ...obj, body };
}

/**
 * The grader reaches Services through the API server, and fixed node ports or cluster IPs would
 * collide between gradings running side by side, so every Service becomes a plain ClusterIP one.
 */
function rewriteService(obj: ManifestObject, spec: Record<string, unknown>, notes: string[]): void {
  const type = spec.type;
  if (type === 'NodePort' || type === 'LoadBalancer') {
    const nodePorts: string[] = [];
    if (Array.isArray(spec.ports)) {
      for (const port of spec.ports) {
        if (isRecord(port) && port.nodePort !== undefined) {
          nodePorts.push(String(port.nodePort));
          delete port.nodePort;
        }
      }
    }
    for (const f of ['externalTrafficPolicy', 'healthCheckNodePort', 'loadBalancerIP', 'loadBalancerSourceRanges', 'loadBalancerClass', 'allocateLoadBalancerNodePorts']) {
      delete spec[f];
    }
    spec.type = 'ClusterIP';
    const dropped = nodePorts.length > 0 ? ` (nodePort ${nodePorts.join(', ')} dropped)` : '';
    notes.push(`${ref(obj)}: type ${type} changed to ClusterIP${dropped}; the grader reaches Services through the API server`);
  }
  if (Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0) {
    delete spec.externalIPs;
    notes.push(`${ref(obj)}: externalIPs removed`);
  }
  const clusterIP = spec.clusterIP;
  if (typeof clusterIP === 'string' && clusterIP !== '' && clusterIP !== 'None') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    notes.push(`${ref(obj)}: fixed clusterIP ${clusterIP} removed; Kubernetes assigns one`);
  }
}

/** `lab-grader-<submission>-<random>`, a valid namespace name of at most 63 characters. */
export function makeNamespaceName(submissionDir: string, random = randomBytes(4).toString('hex').slice(0, 5)): string {
  const base = path
    .basename(path.resolve(submissionDir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - 'lab-grader-'.length - random.length - 2)
    .replace(/-+$/g, '');
  return base ? `lab-grader-${base}-${random}` : `lab-grader-${random}`;
}
