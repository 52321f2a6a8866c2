// Reasons from recorded Pod statuses and events (src/kube/testdata/pod-problems/*.json, in the
// shape `kubectl get -o json` gives them).
import { readFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { explainPods, probeFailures, probeOutcome, type PodRecord } from './pod-problems.js';

function recorded(name: string): PodRecord & { description: string } {
  return JSON.parse(readFileSync(new URL(`./testdata/pod-problems/${name}.json`, import.meta.url), 'utf8')) as PodRecord & { description: string };
}

const hints = { healthPath: '/healthz', image: 'sixeyed/configurable:21.04' };
const explain = (name: string, opts: { includeReadiness?: boolean } = {}) => explainPods(recorded(name), { container: 'app', hints, ...opts });

describe('explainPods: the most specific reason, in the learner\'s terms', () => {
  it('a liveness probe on a path the app does not serve: which probe, which handler, what it got, quoting the kubelet', () => {
    const p = explain('liveness-404');
    expect(p).toMatchObject({ reason: 'Unhealthy', pod: 'configurable-6c9b7f5d4-x2kqp', container: 'app', final: true });
    expect(p?.message).toContain('the liveness probe of container app of Pod configurable-6c9b7f5d4-x2kqp (httpGet /health on port 80) fails: the app answered HTTP 404 (it does not serve that path)');
    expect(p?.message).toContain('restarted 3 times; it is now in CrashLoopBackOff');
    expect(p?.message).toContain('kubelet: "Liveness probe failed: HTTP probe failed with statuscode: 404", 4 times');
    // Not the misleading exit status of a container the kubelet stopped.
    expect(p?.message).not.toContain('exit 0');
    expect(p?.hint).toContain('/healthz');
    expect(p?.hint).toContain('/health,');
  });

  it('runAsNonRoot on an image that runs as root', () => {
    const p = explain('run-as-non-root');
    expect(p).toMatchObject({ reason: 'CreateContainerConfigError', final: true });
    expect(p?.message).toContain('the Pod sets runAsNonRoot: true without a runAsUser, and the image runs as root, so Kubernetes refuses to start it');
    expect(p?.message).toContain('kubelet: "container has runAsNonRoot and image will run as root');
    expect(p?.hint).toContain('runAsUser');
  });

  it('OOMKilled with the memory limit', () => {
    const p = explain('oom-killed');
    expect(p).toMatchObject({ reason: 'OOMKilled', final: true });
    expect(p?.message).toBe(
      'container app of Pod configurable-5f6d7c8b9-q9w8e was killed for using more memory than its limit of 16Mi (OOMKilled, exit 137); restarted 2 times; it is now in CrashLoopBackOff',
    );
    expect(p?.hint).toContain('above 16Mi');
  });

  it('a crash: the exit code and the last lines of the previous log', () => {
    const p = explain('crash');
    expect(p).toMatchObject({ reason: 'CrashLoopBackOff', final: true });
    expect(p?.message).toContain('its process exited with exit code 134; restarted 2 times');
    expect(p?.message).toContain("System.IO.FileNotFoundException: The configuration file 'config/override.json' was not found");
    expect(p?.message).toContain('"at Program.Main(String[] args)"');
    // At most the last 5 lines.
    expect(p?.message).not.toContain('Microsoft.Hosting.Lifetime');
  });

  it("Pending: the scheduler's reason", () => {
    const p = explain('unschedulable');
    expect(p).toMatchObject({ reason: 'Unschedulable', final: true });
    expect(p?.noRoom).toBeUndefined();
    expect(p?.message).toContain(`scheduler: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.`);
  });

  it('FailedCreate: the quota\'s message', () => {
    const p = explain('quota');
    expect(p).toMatchObject({ reason: 'FailedCreate', final: true });
    expect(p?.message).toContain("they would exceed the namespace's resource quota");
    expect(p?.message).toContain('exceeded quota: lab-grader-quota, requested: pods=1, used: pods=20, limited: pods=20');
  });

  it('an image that cannot be pulled, naming the image', () => {
    const p = explain('image-pull');
    expect(p).toMatchObject({ reason: 'ImagePullBackOff', final: true });
    expect(p?.message).toContain('the image "sixeyed/configurabel:21.04" of container app');
    expect(p?.hint).toContain('sixeyed/configurable:21.04');
  });

  it('a readiness probe on a port nothing listens on (only when asked: the Pod may still become ready)', () => {
    expect(explain('readiness-refused')).toBeUndefined();
    const p = explain('readiness-refused', { includeReadiness: true });
    expect(p).toMatchObject({ reason: 'Unhealthy', final: false });
    expect(p?.message).toContain('(httpGet /healthz on port 8080) fails: connection refused: nothing listens on port 8080 in the container');
    expect(p?.message).toContain('57 times');
  });

  it('a liveness probe that times out, with its timeoutSeconds', () => {
    const p = explain('liveness-timeout');
    expect(p?.message).toContain('fails: no answer within 1s (timeoutSeconds)');
    expect(p?.message).toContain('restarted 2 times');
    // Still running after the restart: not final, the wait may go on.
    expect(p?.final).toBe(false);
  });

  it('nothing to say about healthy Pods', () => {
    const healthy = recorded('readiness-refused');
    const pod = structuredClone(healthy.pods[0]) as k8s.V1Pod;
    pod.status!.conditions = [{ type: 'Ready', status: 'True' }];
    expect(explainPods({ pods: [pod], events: [] }, { container: 'app', includeReadiness: true })).toBeUndefined();
  });
});

describe('probe texts', () => {
  it('finds the latest failure of the given probe only', () => {
    const r = recorded('liveness-404');
    expect(probeFailures(r.events, 'configurable-6c9b7f5d4-x2kqp', 'Liveness')?.detail).toBe('HTTP probe failed with statuscode: 404');
    expect(probeFailures(r.events, 'configurable-6c9b7f5d4-x2kqp', 'Readiness')?.detail).toContain('connection refused');
    expect(probeFailures(r.events, 'other-pod', 'Liveness')).toBeUndefined();
  });

  it('turns what a probe got into words', () => {
    expect(probeOutcome('HTTP probe failed with statuscode: 500', undefined)).toMatchObject({ kind: 'status', status: 500 });
    expect(probeOutcome('dial tcp 10.244.0.5:81: i/o timeout', { timeoutSeconds: 3 }).words).toBe('no answer within 3s (timeoutSeconds)');
    expect(probeOutcome("cat: can't open '/tmp/healthy': No such file or directory", { exec: { command: ['cat', '/tmp/healthy'] } }).words).toBe(
      `the command failed: "cat: can't open '/tmp/healthy': No such file or directory"`,
    );
  });
});
