// Pure parts of the scenarios: how exec probe results are judged, probe timing bounds, apply order.
import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../kube/exec.js';
import type { Manifest } from '../kube/apply.js';
import { applyOrder, appliesVerdict } from './apply.js';
import { describeProbe, livenessBoundMs, livenessMissReason, readinessBoundMs } from './probe-timing.js';
import { judgeChown, judgeToken, judgeUid } from './security.js';
import { CheckFailed } from '../grade/outcomes.js';

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
