import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CheckResult } from '../../../model.js';
import { SubmissionError } from '../../../model.js';
import { productionizing } from '../catalogue.js';
import { parseManifests, type Submission } from '../../../submission/load.js';
import { applyPolicy } from '../../../submission/policy.js';
import { runStaticRubric, submissionFailure } from './index.js';
import { parseQuantity } from '../../../submission/quantity.js';

// any: the tests edit manifests through deep paths; the rubric itself sees them as unknown.
type Obj = Record<string, any>;

/** A Submission from YAML files, through the policy as the CLI does it. */
function submission(files: Record<string, string>): Submission {
  const objects = Object.entries(files).flatMap(([file, text]) => {
    const parsed = parseManifests(file, text);
    expect(parsed.problems).toEqual([]);
    return parsed.objects;
  });
  const policy = applyPolicy(objects, { namespace: 'lab-grader-test' });
  return { dir: 'test', files: Object.keys(files), objects: policy.objects, notes: policy.notes };
}

function deployment(): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'configurable' },
    spec: {
      replicas: 5,
      selector: { matchLabels: { app: 'configurable' } },
      template: {
        metadata: { labels: { app: 'configurable' } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsUser: 65534, runAsNonRoot: true },
          containers: [
            {
              name: 'app',
              image: 'sixeyed/configurable:21.04',
              ports: [{ containerPort: 80, name: 'http' }],
              readinessProbe: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 1, failureThreshold: 1 },
              livenessProbe: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 5, failureThreshold: 1 },
              resources: { requests: { cpu: '125m' }, limits: { cpu: '250m', memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

function hpaV2(): Obj {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'configurable-cpu' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'configurable' },
      minReplicas: 5,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    },
  };
}

function hpaV1(): Obj {
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'configurable-cpu' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'configurable' },
      minReplicas: 5,
      maxReplicas: 10,
      targetCPUUtilizationPercentage: 50,
    },
  };
}

const container = (d: Obj): Obj => d.spec.template.spec.containers[0];

function grade(...objs: Obj[]): Record<string, CheckResult> {
  const sub = submission({ 'specs.yaml': objs.map((o) => stringify(o)).join('---\n') });
  return Object.fromEntries(runStaticRubric(sub).map((r) => [r.id, r]));
}

function failedIds(results: Record<string, CheckResult>): string[] {
  return Object.values(results)
    .filter((r) => r.status !== 'passed')
    .map((r) => r.id);
}

describe('runStaticRubric', () => {
  it('returns every static check in catalogue order, all passed for the lab\'s solution shape', () => {
    const results = runStaticRubric(submission({ 'd.yaml': stringify(deployment()), 'h.yaml': stringify(hpaV2()) }));
    expect(results.map((r) => r.id)).toEqual(productionizing.checks.filter((c) => c.kind === 'static').map((c) => c.id));
    for (const r of results) {
      expect(r.status, `${r.id}: ${r.message}`).toBe('passed');
      expect(r.points).toBe(r.maxPoints);
      expect(r.hint).toBeUndefined();
    }
  });

  it('points failures at the field, or at the nearest thing that exists, with the hint', () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: configurable
spec:
  replicas: 3
  selector:
    matchLabels:
      app: configurable
  template:
    metadata:
      labels:
        app: configurable
    spec:
      containers:
        - name: app
          image: sixeyed/configurable:21.04
          securityContext:
            allowPrivilegeEscalation: true
`;
    const results = Object.fromEntries(runStaticRubric(submission({ 'deploy/app.yaml': text })).map((r) => [r.id, r]));
    expect(results['replicas.spec-five']).toMatchObject({
      status: 'failed',
      points: 0,
      maxPoints: 1,
      message: 'Deployment/configurable asks for 3 replicas; the lab asks for 5',
      location: { file: 'deploy/app.yaml', line: 6, column: 3 },
    });
    expect(results['replicas.spec-five']!.hint).toContain('replicas: 5');
    expect(results['readiness.probe-defined']!.location).toEqual({ file: 'deploy/app.yaml', line: 16, column: 11 });
    expect(results['security.spec-no-privilege-escalation']).toMatchObject({
      message: 'container "app" of Deployment/configurable sets allowPrivilegeEscalation: true',
      location: { line: 19, column: 13 },
    });
    expect(results['security.spec-no-sa-token']!.location).toMatchObject({ line: 14 }); // the Pod spec
    expect(results['hpa.targets-deployment']).toMatchObject({
      message: 'the submission has no HorizontalPodAutoscaler for Deployment/configurable',
      location: { line: 1 },
    });
  });

  it('fails every app-specific check when no Deployment runs sixeyed/configurable', () => {
    const other = deployment();
    container(other).image = 'kiamol/ch05-pi';
    other.metadata.name = 'pi-web';
    const results = grade(other, hpaV2());
    expect(results['submission.parses']!.status).toBe('passed');
    expect(results['submission.allowed-objects']!.status).toBe('passed');
    const appSpecific = Object.values(results).filter((r) => r.group !== 'submission');
    for (const r of appSpecific) {
      expect(r.status, r.id).toBe('failed');
      expect(r.message).toBe('no Deployment runs sixeyed/configurable (Deployment/pi-web runs kiamol/ch05-pi)');
    }
  });

  it('treats a field of the wrong shape as not set', () => {
    const d = deployment();
    d.spec.template.spec.containers[0].securityContext.capabilities = { drop: 'ALL' };
    const results = grade(d, hpaV2());
    expect(results['security.spec-capabilities-dropped']!.status).toBe('failed');
  });
});

describe('replicas', () => {
  it('accepts the HPA minimum instead of the Deployment\'s replicas', () => {
    const d = deployment();
    delete d.spec.replicas;
    const r = grade(d, hpaV2());
    expect(r['replicas.spec-five']).toMatchObject({
      status: 'passed',
      message: 'Deployment/configurable does not set replicas, and HorizontalPodAutoscaler/configurable-cpu keeps at least 5 running',
    });
  });

  it('fails a missing replicas field without an HPA floor', () => {
    const d = deployment();
    delete d.spec.replicas;
    const hpa = hpaV2();
    hpa.spec.minReplicas = 2;
    expect(grade(d, hpa)['replicas.spec-five']!.message).toBe(
      'Deployment/configurable does not set replicas (so it runs 1 Pod); the lab asks for 5',
    );
    expect(grade(d)['replicas.spec-five']!.status).toBe('failed');
  });

  it('checks the HPA minimum; no HPA passes here (the hpa group reports it)', () => {
    const hpa = hpaV2();
    hpa.spec.minReplicas = 3;
    expect(grade(deployment(), hpa)['replicas.hpa-min-five']).toMatchObject({
      status: 'failed',
      message: 'HorizontalPodAutoscaler/configurable-cpu has minReplicas 3, so it may scale the app below 5',
    });
    delete hpa.spec.minReplicas;
    expect(grade(deployment(), hpa)['replicas.hpa-min-five']!.message).toBe(
      'HorizontalPodAutoscaler/configurable-cpu does not set minReplicas, so it may scale the app down to 1 Pod',
    );
    expect(grade(deployment())['replicas.hpa-min-five']!.status).toBe('passed');
  });
});

describe('probes', () => {
  it.each([
    ['httpGet on a named port', { httpGet: { path: '/healthz', port: 'http' } }, 'httpGet /healthz on port http, every 10s, failure threshold 3'],
    ['tcpSocket', { tcpSocket: { port: 80 }, periodSeconds: 2 }, 'tcpSocket on port 80, every 2s, failure threshold 3'],
    ['exec', { exec: { command: ['cat', '/tmp/healthy'] } }, 'exec cat /tmp/healthy'],
    ['grpc', { grpc: { port: 9000 } }, 'grpc on port 9000'],
  ])('accepts any handler: %s', (_name, probe, description) => {
    const d = deployment();
    container(d).readinessProbe = probe;
    container(d).livenessProbe = probe;
    const r = grade(d, hpaV2());
    expect(r['readiness.probe-defined']!.status).toBe('passed');
    expect(r['readiness.probe-defined']!.message).toContain(description);
    expect(r['liveness.probe-defined']!.message).toContain('has a livenessProbe: ');
  });

  it('mentions a named port the container does not declare, without failing', () => {
    const d = deployment();
    container(d).readinessProbe = { httpGet: { path: '/healthz', port: 'web' } };
    expect(grade(d)['readiness.probe-defined']).toMatchObject({
      status: 'passed',
      message: expect.stringContaining('(the container declares no port named "web")'),
    });
  });

  it('fails a missing probe and a probe without a handler', () => {
    const d = deployment();
    delete container(d).livenessProbe;
    container(d).readinessProbe = { periodSeconds: 1 };
    const r = grade(d, hpaV2());
    expect(r['liveness.probe-defined']!.message).toBe('container "app" of Deployment/configurable has no livenessProbe');
    expect(r['readiness.probe-defined']!.message).toBe(
      'the readinessProbe of container "app" of Deployment/configurable has no handler (httpGet, tcpSocket, exec or grpc)',
    );
  });

  it('looks at the app container, not a sidecar', () => {
    const d = deployment();
    d.spec.template.spec.containers.unshift({ name: 'sidecar', image: 'busybox', resources: { requests: { cpu: '10m' } } });
    const r = grade(d, hpaV2());
    expect(r['readiness.probe-defined']!.message).toContain('container "app"');
    expect(failedIds(r)).toEqual([]);
  });
});

describe('hpa', () => {
  it('accepts autoscaling/v1 with targetCPUUtilizationPercentage', () => {
    const r = grade(deployment(), hpaV1());
    expect(failedIds(r)).toEqual([]);
    expect(r['hpa.cpu-fifty']!.message).toBe('HorizontalPodAutoscaler/configurable-cpu targets 50% CPU utilization');
  });

  it('fails v1 without a target (defaults to 80%) or with another one', () => {
    const hpa = hpaV1();
    delete hpa.spec.targetCPUUtilizationPercentage;
    expect(grade(deployment(), hpa)['hpa.cpu-fifty']!.message).toContain('so it targets the default 80%');
    hpa.spec.targetCPUUtilizationPercentage = 75;
    expect(grade(deployment(), hpa)['hpa.cpu-fifty']!.message).toBe(
      'HorizontalPodAutoscaler/configurable-cpu targets 75% CPU utilization; the lab asks for 50%',
    );
  });

  it('accepts a v2 ContainerResource metric for the app container, and mentions extra metrics', () => {
    const hpa = hpaV2();
    hpa.spec.metrics = [
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
      { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 50 } } },
    ];
    expect(grade(deployment(), hpa)['hpa.cpu-fifty']).toMatchObject({
      status: 'passed',
      message: 'HorizontalPodAutoscaler/configurable-cpu targets 50% CPU utilization (and 1 other metric, which can also scale it)',
    });
  });

  it('fails v2 without metrics, without a CPU metric, or with an average value target', () => {
    const hpa = hpaV2();
    delete hpa.spec.metrics;
    expect(grade(deployment(), hpa)['hpa.cpu-fifty']!.message).toContain('has no metrics, so it targets the default 80%');
    hpa.spec.metrics = [{ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 50 } } }];
    expect(grade(deployment(), hpa)['hpa.cpu-fifty']!.message).toBe('HorizontalPodAutoscaler/configurable-cpu has no CPU metric (metrics: memory)');
    hpa.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '125m' } } }];
    expect(grade(deployment(), hpa)['hpa.cpu-fifty']!.message).toBe(
      'HorizontalPodAutoscaler/configurable-cpu targets an average CPU value of 125m; the lab asks for 50% utilization',
    );
    hpa.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }];
    expect(grade(deployment(), hpa)['hpa.cpu-fifty']!.status).toBe('failed');
  });

  it('checks maxReplicas', () => {
    const hpa = hpaV2();
    hpa.spec.maxReplicas = 5;
    expect(grade(deployment(), hpa)['hpa.max-ten']!.message).toBe(
      'HorizontalPodAutoscaler/configurable-cpu has maxReplicas 5; the lab asks for 10',
    );
  });

  it('names what is wrong with a target, and still reads the only HPA\'s settings', () => {
    const hpa = hpaV2();
    hpa.spec.scaleTargetRef.name = 'pi-web';
    const r = grade(deployment(), hpa);
    expect(r['hpa.targets-deployment']!.message).toBe(
      "HorizontalPodAutoscaler/configurable-cpu targets Deployment/pi-web, but the app's Deployment is configurable",
    );
    expect(r['hpa.max-ten']).toMatchObject({ status: 'passed', message: expect.stringContaining('see hpa.targets-deployment') });
    expect(r['replicas.hpa-min-five']!.status).toBe('passed');
    expect(failedIds(r)).toEqual(['hpa.targets-deployment']);

    hpa.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'configurable' };
    expect(grade(deployment(), hpa)['hpa.targets-deployment']!.message).toContain('targets a StatefulSet');
    hpa.spec.scaleTargetRef = { apiVersion: 'extensions/v1beta1', kind: 'Deployment', name: 'configurable' };
    expect(grade(deployment(), hpa)['hpa.targets-deployment']!.message).toContain('apiVersion extensions/v1beta1; Deployments are apps/v1');
  });

  it('fails two HPAs on one Deployment', () => {
    const second = hpaV1();
    second.metadata.name = 'second';
    expect(grade(deployment(), hpaV2(), second)['hpa.targets-deployment']!.message).toContain('Kubernetes will not scale a Deployment that two HPAs target');
  });

  it('accepts a CPU limit without a request (the request defaults to the limit)', () => {
    const d = deployment();
    container(d).resources = { limits: { cpu: '250m', memory: '256Mi' } };
    expect(grade(d, hpaV2())['hpa.cpu-request-set']).toMatchObject({
      status: 'passed',
      message: 'CPU for Deployment/configurable: "app" has a 250m CPU limit, which its request defaults to',
    });
  });

  it('needs a CPU request on every container', () => {
    const d = deployment();
    d.spec.template.spec.containers.push({ name: 'sidecar', image: 'busybox', resources: { limits: { memory: '10Mi' } } });
    expect(grade(d, hpaV2())['hpa.cpu-request-set']!.message).toBe(
      'container "sidecar" of Deployment/configurable has no CPU request (or limit), so the HPA cannot compute its CPU utilization',
    );
    container(d).resources = { requests: { cpu: '0' } };
    expect(grade(d, hpaV2())['hpa.cpu-request-set']!.message).toBe('container "app" requests 0 CPU; the HPA needs a request above zero');
  });
});

describe('security', () => {
  it.each([
    ['runAsUser on the container', { pod: {}, ctr: { runAsUser: 1000 } }, 'passed', 'runs as UID 1000 (runAsUser on the container)'],
    ['runAsUser on the Pod', { pod: { runAsUser: 65534 }, ctr: {} }, 'passed', 'runs as UID 65534 (runAsUser on the Pod)'],
    ['runAsNonRoot alone', { pod: { runAsNonRoot: true }, ctr: {} }, 'passed', 'has runAsNonRoot: true (on the Pod) but no runAsUser'],
    ['container overrides the Pod (root wins)', { pod: { runAsUser: 65534 }, ctr: { runAsUser: 0 } }, 'failed', 'runs as UID 0 (root), set on the container'],
    ['container overrides the Pod (non-root wins)', { pod: { runAsUser: 0 }, ctr: { runAsUser: 1000 } }, 'passed', 'runs as UID 1000'],
    ['runAsNonRoot with UID 0', { pod: { runAsNonRoot: true, runAsUser: 0 }, ctr: {} }, 'failed', 'Kubernetes will refuse to start it'],
    ['runAsNonRoot false', { pod: { runAsNonRoot: false }, ctr: {} }, 'failed', 'sets runAsNonRoot: false'],
    ['nothing set', { pod: {}, ctr: {} }, 'failed', 'sets neither runAsUser nor runAsNonRoot'],
  ])('non-root: %s', (_name, sc, status, message) => {
    const d = deployment();
    d.spec.template.spec.securityContext = sc.pod;
    container(d).securityContext = { ...container(d).securityContext, ...sc.ctr };
    const r = grade(d, hpaV2())['security.spec-non-root']!;
    expect(r.status).toBe(status);
    expect(r.message).toContain(message);
  });

  it('service account token', () => {
    const d = deployment();
    delete d.spec.template.spec.automountServiceAccountToken;
    expect(grade(d)['security.spec-no-sa-token']!.message).toBe(
      'the Pod spec does not set automountServiceAccountToken: false, so the service account token is mounted',
    );
    d.spec.template.spec.automountServiceAccountToken = true;
    expect(grade(d)['security.spec-no-sa-token']!.status).toBe('failed');
    d.spec.template.spec.automountServiceAccountToken = false;
    d.spec.template.spec.volumes = [{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }];
    expect(grade(d)['security.spec-no-sa-token']!.message).toBe('the Pod mounts a projected serviceAccountToken volume');
  });

  it('privilege escalation', () => {
    const d = deployment();
    delete container(d).securityContext.allowPrivilegeEscalation;
    expect(grade(d)['security.spec-no-privilege-escalation']!.message).toBe(
      'container "app" of Deployment/configurable does not set allowPrivilegeEscalation: false, and it defaults to true',
    );
  });

  it.each([
    [['ALL'], 'passed'],
    [['all'], 'passed'],
    [['All', 'NET_RAW'], 'passed'],
    [['NET_RAW'], 'failed'],
    [[], 'failed'],
  ])('capabilities drop %j: %s', (drop, status) => {
    const d = deployment();
    container(d).securityContext.capabilities = { drop };
    expect(grade(d)['security.spec-capabilities-dropped']!.status).toBe(status);
  });

  it('mentions capabilities added back after dropping all', () => {
    const d = deployment();
    container(d).securityContext.capabilities = { drop: ['ALL'], add: ['NET_BIND_SERVICE'] };
    expect(grade(d)['security.spec-capabilities-dropped']!.message).toBe(
      'container "app" of Deployment/configurable drops all capabilities, then adds back NET_BIND_SERVICE',
    );
  });

  it('resource limits: cpu and memory, requests optional', () => {
    const d = deployment();
    container(d).resources = { limits: { cpu: '250m', memory: '256Mi' } };
    expect(grade(d)['security.spec-resource-limits']!.status).toBe('passed');
    container(d).resources = { limits: { cpu: '250m' } };
    expect(grade(d)['security.spec-resource-limits']!.message).toBe(
      'container "app" of Deployment/configurable has no memory limit (it has a cpu limit of 250m)',
    );
    container(d).resources = { requests: { cpu: '125m' } };
    expect(grade(d)['security.spec-resource-limits']!.message).toBe('container "app" of Deployment/configurable has no cpu or memory limit');
  });
});

describe('submissionFailure', () => {
  it('turns a SubmissionError into the failed check with its location and hint', () => {
    const err = new SubmissionError('a.yaml:3:1: YAML syntax error: bad', { file: 'a.yaml', line: 3, column: 1 });
    expect(submissionFailure('submission.parses', err)).toEqual({
      id: 'submission.parses',
      group: 'submission',
      title: 'the specs parse as Kubernetes objects',
      status: 'failed',
      points: 0,
      maxPoints: 1,
      message: 'a.yaml:3:1: YAML syntax error: bad',
      durationMs: 0,
      hint: productionizing.checks[0]!.hint,
      location: { file: 'a.yaml', line: 3, column: 1 },
    });
  });
});

describe('parseQuantity', () => {
  it.each([
    ['125m', 0.125],
    ['0.5', 0.5],
    [1, 1],
    ['2', 2],
    ['256Mi', 256 * 2 ** 20],
    ['1G', 1e9],
    ['1e3', 1000],
    ['.5', 0.5],
  ])('%j → %d', (q, n) => {
    expect(parseQuantity(q)).toBeCloseTo(n);
  });
  it.each(['', 'abc', '1x', '1e3m', null])('rejects %j', (q) => {
    expect(parseQuantity(q)).toBeUndefined();
  });
});
