// Pure helpers over Kubernetes objects used by live grading: HPA views, rollout states,
// LimitRange annotations, namespace manifests. No cluster, no mocks: plain objects in, words out.
import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { describeCpu, describeHpa, hpaView, metricsFlow, permanentMetricProblem, targetsDeployment } from './hpa-status.js';
import type { V1Namespace } from '@kubernetes/client-node';
import { cpuRequestDefaulted, defaultedResources, limitRangeManifest, namespaceManifest, namespacesOfDeadRuns, processAlive, QUOTA_HARD, quotaManifest } from './namespace.js';
import { parseQuantity } from '../submission/quantity.js';
import { noRoomFor, rolloutState } from './rollout.js';
import { describeRoom, podRequestMilli, podsThatFit, type ClusterRoom } from './capacity.js';

function hpa(spec: Partial<k8s.V2HorizontalPodAutoscalerSpec>, status: Partial<k8s.V2HorizontalPodAutoscalerStatus> = {}): k8s.V2HorizontalPodAutoscaler {
  return {
    metadata: { name: 'configurable-cpu' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'configurable' }, maxReplicas: 10, ...spec },
    status: { desiredReplicas: 5, currentReplicas: 5, ...status },
  };
}

const cpuMetric = (averageUtilization: number): k8s.V2MetricSpec => ({
  type: 'Resource',
  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } },
});

describe('hpaView', () => {
  it('reads target, bounds, CPU target and current utilization', () => {
    const v = hpaView(
      hpa(
        { minReplicas: 5, metrics: [cpuMetric(50)] },
        {
          currentReplicas: 5,
          desiredReplicas: 7,
          currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 180, averageValue: '225m' } } }],
          conditions: [{ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'ok' }],
        },
      ),
    );
    expect(v).toMatchObject({ minReplicas: 5, maxReplicas: 10, cpuTargetPercent: 50, cpuCurrentPercent: 180, currentReplicas: 5, desiredReplicas: 7 });
    expect(describeHpa(v)).toBe('HPA configurable-cpu: 5→7 replicas (min 5, max 10), CPU 180%/50%');
    expect(metricsFlow(v)).toBe(true);
    expect(targetsDeployment(v, 'configurable')).toBe(true);
    expect(targetsDeployment(v, 'pi-web')).toBe(false);
  });

  it('defaults minReplicas to 1 and shows unknown utilization', () => {
    const v = hpaView(hpa({ metrics: [cpuMetric(50)] }, { desiredReplicas: 0 }));
    expect(v.minReplicas).toBe(1);
    expect(describeCpu(v)).toBe('CPU <unknown>/50%');
    expect(describeHpa(v)).toBe('HPA configurable-cpu: 5 replicas (min 1, max 10), CPU <unknown>/50%');
    expect(metricsFlow(v)).toBe(false);
  });

  it('tells a permanent metric problem from a passing one', () => {
    const missing = hpaView(
      hpa({ metrics: [cpuMetric(50)] }, {
        conditions: [{ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'failed to get cpu utilization: missing request for cpu in container app of Pod x' }],
      }),
    );
    expect(permanentMetricProblem(missing)).toMatch(/missing request for cpu/);
    const warmingUp = hpaView(
      hpa({ metrics: [cpuMetric(50)] }, {
        conditions: [{ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'unable to get metrics for resource cpu: no metrics returned from resource metrics API' }],
      }),
    );
    expect(permanentMetricProblem(warmingUp)).toBeUndefined();
  });

  it('reads the scale-down stabilization window when the behavior sets one', () => {
    expect(hpaView(hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } })).scaleDownStabilizationSeconds).toBe(300);
  });
});

describe('LimitRange defaults on Pods', () => {
  const pod = (annotation?: string): k8s.V1Pod => ({ metadata: { name: 'p', ...(annotation ? { annotations: { 'kubernetes.io/limit-ranger': annotation } } : {}) } });

  it('reads what the LimitRanger set for a container', () => {
    const p = pod('LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app');
    expect(defaultedResources(p, 'app')).toEqual({ requests: ['cpu', 'memory'], limits: ['cpu', 'memory'] });
    expect(cpuRequestDefaulted(p, 'app')).toBe(true);
    expect(cpuRequestDefaulted(p, 'sidecar')).toBe(false);
  });

  it('a learner-set CPU request is not defaulted', () => {
    expect(cpuRequestDefaulted(pod('LimitRanger plugin set: cpu limit for container app'), 'app')).toBe(false);
    expect(cpuRequestDefaulted(pod(), 'app')).toBe(false);
  });
});

describe('grading namespace', () => {
  it('is labelled as the grader\'s, with Pod Security Admission labels', () => {
    const ns = namespaceManifest('lab-grader-x-12345', 'run1');
    expect(ns.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'kube-lab-grader',
      'io.kube-lab-grader/run-id': 'run1',
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });

  it('fits the reference at its HPA maximum with a rolling update surge', () => {
    const q = quotaManifest('ns', 'r').spec?.hard ?? {};
    expect(q).toEqual(QUOTA_HARD);
    const pods = 13; // 10 replicas + 25% surge
    const cores = (v: string | undefined) => parseQuantity(v) ?? 0;
    expect(pods).toBeLessThanOrEqual(Number(q.pods));
    expect(pods * 0.125).toBeLessThanOrEqual(cores(q['requests.cpu']));
    expect(pods * 0.25).toBeLessThanOrEqual(cores(q['limits.cpu']));
    expect(pods * 256 * 2 ** 20).toBeLessThanOrEqual(cores(q['limits.memory']));
    const lr = limitRangeManifest('ns', 'r').spec?.limits[0];
    expect(lr?._default).toEqual({ cpu: '250m', memory: '256Mi' });
    expect(lr?.defaultRequest).toEqual({ cpu: '125m', memory: '128Mi' });
  });
});

describe('rolloutState', () => {
  const deployment = (status: k8s.V1DeploymentStatus, replicas = 5): k8s.V1Deployment => ({
    metadata: { name: 'configurable', generation: 1 },
    spec: { replicas, selector: {}, template: {} },
    status: { observedGeneration: 1, ...status },
  });
  const pod = (name: string, ready: boolean, waiting?: { reason: string; message?: string }): k8s.V1Pod => ({
    metadata: { name },
    status: {
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'app',
          image: 'x',
          imageID: '',
          ready,
          restartCount: 0,
          state: waiting ? { waiting } : { running: {} },
        },
      ],
    },
  });

  it('is complete when every replica is updated and available', () => {
    const s = rolloutState(deployment({ replicas: 5, updatedReplicas: 5, availableReplicas: 5 }), [1, 2, 3, 4, 5].map((i) => pod(`p${i}`, true)), []);
    expect(s.kind).toBe('complete');
    expect(s.observed).toBe('5/5 Pods ready (5 created, 5 updated, 5 available); 5 Ready');
  });

  it('stops at once on a container that cannot start, with the kubelet\'s reason and a hint', () => {
    const s = rolloutState(
      deployment({ replicas: 5, updatedReplicas: 5 }),
      [pod('p1', false, { reason: 'CreateContainerConfigError', message: 'container has runAsNonRoot and image will run as root (pod: "p1", container: app)' })],
      [],
    );
    expect(s).toMatchObject({ kind: 'stuck', problem: { reason: 'CreateContainerConfigError' } });
    expect(s.kind === 'stuck' && s.problem.message).toContain('the kubelet cannot create container app of Pod p1');
    expect(s.kind === 'stuck' && s.problem.message).toContain('kubelet: "container has runAsNonRoot and image will run as root');
    expect(s.kind === 'stuck' && s.problem.hint).toContain('runAsUser');
  });

  it('stops at once when the ReplicaSet cannot create Pods', () => {
    const events: k8s.CoreV1Event[] = [
      {
        metadata: {},
        involvedObject: { kind: 'ReplicaSet', name: 'configurable-abc' },
        reason: 'FailedCreate',
        message: 'pods "configurable-abc-x" is forbidden: exceeded quota: lab-grader-quota, requested: pods=1, used: pods=20, limited: pods=20',
      },
    ];
    const s = rolloutState(deployment({ replicas: 20, updatedReplicas: 20 }, 10000), [], events);
    expect(s).toMatchObject({ kind: 'stuck', problem: { reason: 'FailedCreate' } });
    expect(s.kind === 'stuck' && s.problem.message).toContain('exceeded quota: lab-grader-quota, requested: pods=1, used: pods=20, limited: pods=20');
    expect(s.kind === 'stuck' && s.problem.hint).toContain('quota');
  });

  it('keeps waiting while Pods are being created', () => {
    expect(rolloutState(deployment({ replicas: 5, updatedReplicas: 5, availableReplicas: 2 }), [pod('p1', true), pod('p2', false, { reason: 'ContainerCreating' })], []).kind).toBe('progressing');
  });

});

describe('room on the cluster', () => {
  const room = (requested: number, system: number, pendingMilli = 0): ClusterRoom => ({
    nodes: [{ node: 'n1', allocatableMilli: 2000, requestedMilli: requested, systemMilli: system }],
    pendingMilli,
  });

  it('counts a Pod\'s CPU request: requests, else limits, else the namespace default', () => {
    const c = (resources: k8s.V1ResourceRequirements | undefined): k8s.V1Container => ({ name: 'c', ...(resources ? { resources } : {}) });
    expect(podRequestMilli({ containers: [c({ requests: { cpu: '125m' }, limits: { cpu: '250m' } })] })).toBe(125);
    expect(podRequestMilli({ containers: [c({ limits: { cpu: '250m' } })] })).toBe(250);
    expect(podRequestMilli({ containers: [c(undefined)] }, 125)).toBe(125);
    expect(podRequestMilli({ containers: [c({ requests: { cpu: '0.1' } }), c({ requests: { cpu: '50m' } })] })).toBe(150);
    expect(podRequestMilli({ containers: [c({ requests: { cpu: '50m' } })], initContainers: [c({ requests: { cpu: '1' } })] })).toBe(1000);
  });

  it('the lab on a 2-CPU kind node: one grading fits, a second waits, a 250m-per-Pod app never fits', () => {
    const idle = room(950, 950); // control plane and metrics-server
    expect(podsThatFit(idle, 125, 'now')).toBe(8);
    const busy = room(950 + 5 * 125, 950);
    expect(podsThatFit(busy, 125, 'now')).toBe(3);
    expect(podsThatFit(busy, 125, 'idle')).toBe(8);
    expect(podsThatFit(idle, 250, 'idle')).toBe(4);
    expect(describeRoom(busy)).toBe("425m CPU unrequested now, 1050m besides the system's own Pods, on 1 schedulable node");
  });

  it('counts Pods waiting to be scheduled as taking room first', () => {
    expect(podsThatFit(room(950, 950, 500), 125, 'now')).toBe(4);
    expect(podsThatFit(room(950, 950, 500), 125, 'idle')).toBe(8);
  });

  it('tells Pods the scheduler has no room for', () => {
    const pending = (message: string): k8s.V1Pod => ({
      metadata: { name: 'p' },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] },
    });
    expect(noRoomFor([pending('0/1 nodes are available: 1 Insufficient cpu.')])).toEqual({ count: 1, message: '0/1 nodes are available: 1 Insufficient cpu.' });
    expect(noRoomFor([pending("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity.")])).toBeUndefined();
  });
});

describe('namespacesOfDeadRuns', () => {
  const ns = (name: string, host: string, pid: string, extra: Partial<{ managed: boolean; deleting: boolean }> = {}): V1Namespace => ({
    metadata: {
      name,
      labels: extra.managed === false ? ({} as Record<string, string>) : { 'app.kubernetes.io/managed-by': 'kube-lab-grader' },
      annotations: { 'io.kube-lab-grader/host': host, 'io.kube-lab-grader/pid': pid },
      ...(extra.deleting ? { deletionTimestamp: new Date() } : {}),
    },
  });
  it('picks only namespaces of dead processes on this host', () => {
    const alive = new Set([100]);
    const stale = namespacesOfDeadRuns(
      [ns('a', 'here', '100'), ns('b', 'here', '200'), ns('c', 'elsewhere', '200'), ns('d', 'here', '300', { managed: false }), ns('e', 'here', '400', { deleting: true }), ns('f', 'here', 'x')],
      'here',
      (pid) => alive.has(pid),
    );
    expect(stale).toEqual(['b']);
  });
  it('knows this process is alive', () => {
    expect(processAlive(process.pid)).toBe(true);
  });
});
