// Pure parts of the scenarios: how exec probe results are judged, probe timing bounds, apply order.
import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../../kube/exec.js';
import type { Manifest } from '../../../kube/apply.js';
import { applyOrder, appliesVerdict } from '../../../engine/apply.js';
import { describeProbe, judgeRemoval, livenessBoundMs, livenessImpliedByReadiness, livenessMissReason, livenessVerdictSeconds, predictedActions, readinessBoundMs } from './probe-timing.js';
import { judgeChown, judgeToken, judgeUid } from './security.js';
import { CheckFailed } from '../../../engine/outcomes.js';

const exec = (exitCode: number | undefined, stdout = '', stderr = '', extra: Partial<ExecResult> = {}): ExecResult => ({
  exitCode,
  stdout,
  stderr,
  statusMessage: '',
  ...extra,
});

describe('exec probes count only when they fail for the right reason', () => {
  it('id -u: a non-zero UID passes (no passwd entry needed), 0 fails', () => {
    expect(judgeUid(exec(0, '65534\n')).verdict).toBe('pass');
    expect(judgeUid(exec(0, '1000\n')).verdict).toBe('pass');
    expect(judgeUid(exec(0, '0\n'))).toMatchObject({ verdict: 'fail', message: expect.stringContaining('runs as root') });
  });

  it('a probe that could not run is inconclusive, never a pass', () => {
    const missing = exec(undefined, '', '', { startFailure: 'executable-not-found', statusMessage: 'exec: "id": executable file not found in $PATH' });
    expect(judgeUid(missing).verdict).toBe('inconclusive');
    expect(judgeToken(missing).verdict).toBe('inconclusive');
    expect(judgeChown(missing).verdict).toBe('inconclusive');
  });

  it('the token must be absent: ENOENT passes, a readable or an unreadable token fails', () => {
    expect(judgeToken(exec(1, '', "cat: can't open '/var/run/secrets/kubernetes.io/serviceaccount/token': No such file or directory")).verdict).toBe('pass');
    const readable = judgeToken(exec(0, 'eyJhbGciOiJSUzI1NiJ9.secret.sig'));
    expect(readable.verdict).toBe('fail');
    expect(readable.message).not.toContain('eyJ');
    expect(judgeToken(exec(1, '', "cat: can't open '...': Permission denied")).verdict).toBe('fail');
    expect(judgeToken(exec(1, '', 'cat: read error: I/O error')).verdict).toBe('inconclusive');
  });

  it('chown must be refused with EPERM', () => {
    expect(judgeChown(exec(1, '', 'chown: /app/configurable.web.dll: Operation not permitted')).verdict).toBe('pass');
    expect(judgeChown(exec(0)).verdict).toBe('fail');
    expect(judgeChown(exec(1, '', 'chown: /app/configurable.web.dll: No such file or directory')).verdict).toBe('inconclusive');
  });
});

describe('probe timing', () => {
  const probe = (p: Partial<k8s.V1Probe>): k8s.V1Probe => ({ httpGet: { path: '/healthz', port: 80 }, ...p });

  it('waits for the probe\'s own detection time plus slack, within bounds', () => {
    expect(readinessBoundMs(probe({ periodSeconds: 1, failureThreshold: 1 }))).toBe(8_000);
    expect(readinessBoundMs(probe({ periodSeconds: 5, failureThreshold: 3 }))).toBe(21_000);
    expect(readinessBoundMs(probe({}))).toBe(36_000); // defaults: 10s x 3 + 1s
    expect(readinessBoundMs(undefined)).toBe(10_000);
    expect(livenessBoundMs(probe({ periodSeconds: 5, failureThreshold: 1 }))).toBe(16_000);
    expect(livenessBoundMs(probe({ periodSeconds: 10, failureThreshold: 10 }))).toBe(60_000);
    expect(livenessBoundMs(undefined)).toBe(15_000);
  });

  it('explains a liveness probe that cannot see the failure', () => {
    expect(livenessMissReason(undefined)).toContain('no liveness probe');
    expect(livenessMissReason({ tcpSocket: { port: 80 } })).toContain('tcpSocket');
    expect(livenessMissReason(probe({ httpGet: { path: '/css/site.css', port: 80 } }))).toContain('/css/site.css');
    expect(describeProbe(probe({ periodSeconds: 5, failureThreshold: 1 }))).toBe('httpGet /healthz on port 80 every 5s, failureThreshold 1');
  });
});

describe('applying', () => {
  it('applies what others refer to first, otherwise in the given order', () => {
    const m = (kind: string, name: string): Manifest => ({ apiVersion: 'v1', kind, metadata: { name } });
    const order = applyOrder([m('HorizontalPodAutoscaler', 'h'), m('Deployment', 'd'), m('Service', 's1'), m('ConfigMap', 'c'), m('Service', 's2')]);
    expect(order.map((o) => o.metadata?.name)).toEqual(['c', 's1', 's2', 'd', 'h']);
  });

  it('fails naming each rejected object and where it is written', () => {
    const err = (() => {
      try {
        appliesVerdict(
          {
            applied: 3,
            rejections: [{ kind: 'Deployment', name: 'configurable', message: 'Deployment.apps "configurable" is invalid: spec.replicas: Invalid value: -1', location: { file: 'deployment.yaml', line: 8, column: 3 } }],
          },
        );
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CheckFailed);
    expect((err as CheckFailed).message).toBe(
      'the API server rejected Deployment/configurable (deployment.yaml:8:3): Deployment.apps "configurable" is invalid: spec.replicas: Invalid value: -1',
    );
    expect((err as CheckFailed).details.location).toEqual({ file: 'deployment.yaml', line: 8, column: 3 });
  });

  it('passes when everything was accepted, whatever the Pods do later', () => {
    expect(appliesVerdict({ applied: 4, rejections: [] })).toBe('the API server accepted all 4 objects');
  });
});

describe('readiness or liveness, from the kubelet\'s record', () => {
  const readiness = { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 1, failureThreshold: 1 };
  const liveness = { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 5, failureThreshold: 1 };
  const failedAt = Date.parse('2026-12-01T12:00:10.400Z');
  // The Pod as read after the liveness restart: killed at :16, running again.
  const pod = (ready?: { status: string; at: string }) => ({
    metadata: { name: 'configurable-abc-1' },
    status: {
      conditions: ready ? [{ type: 'Ready', status: ready.status, lastTransitionTime: ready.at as unknown as Date }] : [],
      containerStatuses: [
        {
          name: 'app',
          image: 'x',
          imageID: '',
          ready: false,
          restartCount: 1,
          state: { running: { startedAt: new Date('2026-12-01T12:00:17Z') } },
          lastState: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: new Date('2026-12-01T12:00:16Z') } },
        },
      ],
    },
  });
  const unhealthy = (message: string, first: string) => ({
    metadata: {},
    involvedObject: { kind: 'Pod', name: 'configurable-abc-1', fieldPath: 'spec.containers{app}' },
    reason: 'Unhealthy',
    message,
    firstTimestamp: new Date(first),
    lastTimestamp: new Date(first),
    count: 1,
  });
  const base = { podName: 'configurable-abc-1', container: 'app', failedAt, readiness, liveness };

  it('readiness acted first when the kubelet recorded its failure before the restart', () => {
    const j = judgeRemoval({ ...base, pod: pod(), events: [unhealthy('Readiness probe failed: HTTP probe failed with statuscode: 500', '2026-12-01T12:00:11Z')] });
    expect(j).toMatchObject({ kind: 'readiness-first', at: Date.parse('2026-12-01T12:00:11Z') });
    expect(j.kind === 'readiness-first' && j.evidence).toBe(
      'the kubelet recorded "Readiness probe failed: HTTP probe failed with statuscode: 500" at 12:00:11, before it restarted the container at 12:00:16',
    );
  });

  it('ignores readiness failures from before the app failed (the app starting) and after the restart', () => {
    const events = [
      unhealthy('Readiness probe failed: Get "http://127.0.0.1:80/healthz": dial tcp 127.0.0.1:80: connect: connection refused', '2026-12-01T11:59:00Z'),
      unhealthy('Readiness probe failed: HTTP probe failed with statuscode: 500', '2026-12-01T12:00:40Z'),
    ];
    expect(judgeRemoval({ ...base, pod: pod(), events }).kind).toBe('undecided');
  });

  it('reads the Ready condition turning False before the restart', () => {
    const j = judgeRemoval({ ...base, pod: pod({ status: 'False', at: '2026-12-01T12:00:12Z' }), events: [] });
    expect(j).toMatchObject({ kind: 'readiness-first', at: Date.parse('2026-12-01T12:00:12Z') });
  });

  it('is undecided, never a failure, when the settings say readiness should have acted first', () => {
    const j = judgeRemoval({ ...base, pod: pod({ status: 'False', at: '2026-12-01T12:00:16Z' }), events: [] });
    expect(j.kind).toBe('undecided');
    expect(j.kind === 'undecided' && j.message).toContain('the readiness probe takes the Pod out within 2s, the liveness probe restarts the container within 6s');
  });

  it("blames the specs when they make liveness act first, or readiness cannot see the failure", () => {
    const slow = judgeRemoval({ ...base, readiness: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 10, failureThreshold: 3 }, pod: pod(), events: [] });
    expect(slow.kind).toBe('liveness-first');
    expect(slow.kind === 'liveness-first' && slow.message).toContain('within 31s');
    expect(judgeRemoval({ ...base, readiness: { tcpSocket: { port: 80 } }, pod: pod(), events: [] }).kind).toBe('liveness-first');
    const none = judgeRemoval({ ...base, readiness: undefined, pod: pod(), events: [] } as Parameters<typeof judgeRemoval>[0]);
    expect(none).toMatchObject({ kind: 'liveness-first' });
  });

  it('predicts when each probe acts', () => {
    expect(predictedActions(readiness, liveness)).toMatchObject({ readinessS: 2, livenessS: 6 });
    expect(predictedActions(undefined, undefined).text).toBe('its probe settings predict: no readiness probe takes the Pod out, no liveness probe restarts the container');
  });
});

describe('when a passing readiness probe vouches for the liveness probe', () => {
  const get = (path: string, port: number | string = 80) => ({ httpGet: { path, port } });
  it('same path and port: no wait needed', () => {
    expect(livenessImpliedByReadiness(get('/healthz'), get('/healthz'))).toBe(true);
    expect(livenessImpliedByReadiness(undefined, get('/healthz'))).toBe(true);
    expect(livenessImpliedByReadiness({ tcpSocket: { port: 80 } }, get('/healthz'))).toBe(true);
  });
  it('another path, port, or a shorter timeout: the liveness probe has to be watched', () => {
    expect(livenessImpliedByReadiness(get('/health'), get('/healthz'))).toBe(false);
    expect(livenessImpliedByReadiness(get('/healthz', 8080), get('/healthz'))).toBe(false);
    expect(livenessImpliedByReadiness(get('/healthz'), undefined)).toBe(false);
    expect(livenessImpliedByReadiness({ ...get('/healthz'), timeoutSeconds: 1 }, { ...get('/healthz'), timeoutSeconds: 3 })).toBe(false);
    expect(livenessImpliedByReadiness({ exec: { command: ['true'] } }, get('/healthz'))).toBe(false);
  });
  it('knows when a failing liveness probe would have acted', () => {
    expect(livenessVerdictSeconds({ initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 1 })).toBe(16);
    expect(livenessVerdictSeconds({})).toBe(31);
  });
});
