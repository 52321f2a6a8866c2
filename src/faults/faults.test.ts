import { describe, expect, it } from 'vitest';
import { failAfterCallCount, snippet, TripTracker, tripBudget } from '../labs/productionizing/live/app-failure.js';
import { burnCommand, cpuMilli, describeStops, MAX_TOTAL_BURN_MILLI, planBurn, stopCommand, stopOutcome } from './cpu-load.js';
import { classifyStartFailure, type ExecResult } from '../kube/exec.js';
import { describeSample, judgeTraffic, type TrafficSample } from './traffic.js';

const app = (status: number, body = '') => ({ status, body, fromApiServer: false });

describe('TripTracker (the readiness/liveness fault)', () => {
  it('counts page loads until the app answers 5xx', () => {
    const t = new TripTracker(10);
    expect(t.record(app(200))).toBeUndefined();
    expect(t.record(app(200))).toBeUndefined();
    expect(t.record(app(200))).toBeUndefined();
    expect(t.record(app(500, '<h1>Error.</h1> An error occurred'))).toEqual({
      kind: 'failed',
      requests: 4,
      status: 500,
      body: 'Error. An error occurred',
      okBefore: 3,
    });
    expect(t.sent).toBe(4);
  });

  it('gives up after the bound when the app never fails', () => {
    const t = new TripTracker(3);
    t.record(app(200));
    t.record(app(200));
    expect(t.record(app(200))).toEqual({ kind: 'never-failed', requests: 3, statuses: { '200': 3 } });
  });

  it('tells an API server answer (Pod unreachable) from the app failing', () => {
    const t = new TripTracker(5);
    expect(t.record({ status: 503, body: '{"kind":"Status"}', fromApiServer: true })).toMatchObject({ kind: 'unreachable', status: 503 });
  });

  it('treats a 4xx as not the lab\'s page', () => {
    expect(new TripTracker(5).record(app(404))).toMatchObject({ kind: 'unexpected', status: 404 });
  });

  it('allows FailAfterCallCount plus slack, within bounds', () => {
    expect(tripBudget(3)).toBe(10);
    expect(tripBudget(20)).toBe(25);
    expect(tripBudget(1000)).toBe(200);
    expect(tripBudget(undefined)).toBe(25);
    expect(tripBudget(0)).toBe(25);
  });

  it('reads FailAfterCallCount from the env, case-insensitively, plain values only', () => {
    expect(failAfterCallCount({ env: [{ name: 'Configurable__FailAfterCallCount', value: '3' }] })).toBe(3);
    expect(failAfterCallCount({ env: [{ name: 'CONFIGURABLE__FAILAFTERCALLCOUNT', value: ' 7 ' }] })).toBe(7);
    expect(failAfterCallCount({ env: [{ name: 'Configurable__FailAfterCallCount' }] })).toBeUndefined();
    expect(failAfterCallCount({ env: [{ name: 'Configurable__FailAfterCallCount', value: 'three' }] })).toBeUndefined();
    expect(failAfterCallCount({})).toBeUndefined();
  });

  it('shortens HTML bodies to text', () => {
    expect(snippet('<html><body><h1>Error</h1>\n\n<p>Request failed</p></body></html>')).toBe('Error Request failed');
    expect(snippet('x'.repeat(200), 10)).toBe('xxxxxxxxxx…');
  });
});

describe('planBurn (CPU load for the HPA)', () => {
  it('loads the fewest Pods that clearly exceed the target: the lab (125m request, 250m limit, 5 replicas, 50%)', () => {
    expect(planBurn(5, { requestMilli: 125, limitMilli: 250 }, 50)).toEqual({ pods: 3, expectedPercent: 120, perPodMilli: 250 });
  });

  it('uses the limit as the request when only a limit is set', () => {
    // Request defaults to the limit: each loop is 100% of its request; the 1-core cap allows 4.
    expect(planBurn(5, { limitMilli: 250 }, 50)).toEqual({ pods: 4, expectedPercent: 80, perPodMilli: 250 });
  });

  it('assumes one core per loop without a limit, and caps the total CPU burnt', () => {
    expect(planBurn(5, { requestMilli: 125 }, 50)).toEqual({ pods: 1, expectedPercent: 160, perPodMilli: 1000 });
    const big = planBurn(10, { requestMilli: 1000, limitMilli: 1000 }, 90);
    expect(big.pods * big.perPodMilli).toBeLessThanOrEqual(MAX_TOTAL_BURN_MILLI);
  });

  it('never plans more loops than Pods, and nothing without a CPU request or limit', () => {
    expect(planBurn(2, { requestMilli: 100, limitMilli: 100 }, 80).pods).toBe(2);
    expect(planBurn(5, {}, 50)).toEqual({ pods: 0, expectedPercent: 0, perPodMilli: 0 });
  });

  it('parses CPU quantities to millicores', () => {
    expect(cpuMilli('125m')).toBe(125);
    expect(cpuMilli('0.5')).toBe(500);
    expect(cpuMilli('2')).toBe(2000);
    expect(cpuMilli(undefined)).toBeUndefined();
  });

  it('marks the loop with the run id and detaches it from the exec streams', () => {
    const cmd = burnCommand('lab-grader-burn-abc', 100);
    expect(cmd.slice(0, 2)).toEqual(['sh', '-c']);
    expect(cmd[2]).toContain("timeout 100 sh -c 'while :; do :; done' lab-grader-burn-abc </dev/null >/dev/null 2>&1 &");
  });

  it('stops only loops carrying the marker, and its own command line cannot match', () => {
    const cmd = stopCommand('lab-grader-burn-abc');
    expect(cmd.at(-1)).toBe('lab-grader-burn-abc');
    const script = cmd[2] ?? '';
    expect(script).toContain('"do :; done $1"');
    // The marker is an argument, never part of the pattern text.
    expect(script).not.toContain('lab-grader-burn-abc');
  });
});

describe('judgeTraffic (requests through the Service)', () => {
  const s = (at: number, status: number, extra: Partial<TrafficSample> = {}): TrafficSample => ({ at, status, fromApiServer: false, body: '', ...extra });
  const samples = [s(0, 200), s(100, 500, { body: 'Unhealthy' }), s(600, 200), s(700, 200), s(800, 503, { fromApiServer: true }), s(900, 0, { error: 'timeout' })];

  it('judges only the window asked for', () => {
    expect(judgeTraffic(samples, 500)).toMatchObject({ counted: 4, ok: 2, failures: [] });
    expect(judgeTraffic(samples, 500).other).toHaveLength(2);
    expect(judgeTraffic(samples, 0, 500)).toMatchObject({ counted: 2, ok: 1 });
    expect(judgeTraffic(samples, 0).failures.map((f) => f.at)).toEqual([100]);
  });

  it('describes a sample relative to the failure', () => {
    expect(describeSample(s(1500, 500, { body: 'Unhealthy' }), 0)).toBe('1.5s: the app answered 500 Unhealthy');
    expect(describeSample(s(200, 503, { fromApiServer: true, body: '{"message":"no endpoints available"}' }), 0)).toContain('the API server answered 503');
  });
});

describe('stopping the CPU load in Pods that may be gone', () => {
  const exec = (r: Partial<ExecResult>): ExecResult => ({ exitCode: undefined, stdout: '', stderr: '', statusMessage: '', ...r });
  const alive = { exists: true, sameUid: true, terminating: false, running: true };

  it('counts the loops stopped', () => {
    expect(stopOutcome('p', { result: exec({ exitCode: 0, stdout: 'stopped 2\n' }) }, undefined)).toEqual({ pod: 'p', kind: 'stopped', loops: 2 });
  });

  it('treats a Pod the HPA deleted as done, whatever the exec said', () => {
    // What the exec handshake gives for a deleted Pod: the ws ErrorEvent's text.
    const r = exec({ statusMessage: 'Unexpected server response: 404', startFailure: classifyStartFailure('Unexpected server response: 404') });
    expect(r.startFailure).toBe('pod-not-found');
    expect(stopOutcome('p', { result: r }, { exists: false, sameUid: false, terminating: false, running: false })).toMatchObject({ kind: 'gone' });
    expect(stopOutcome('p', { result: r }, undefined)).toMatchObject({ kind: 'gone' });
    expect(stopOutcome('p', { error: { type: 'error', message: 'x' } }, { ...alive, sameUid: false })).toMatchObject({ kind: 'gone' });
    expect(stopOutcome('p', { result: exec({ statusMessage: 'container not found' }) }, { ...alive, terminating: true })).toMatchObject({ kind: 'gone' });
    expect(stopOutcome('p', { result: exec({ statusMessage: 'container not found' }) }, { ...alive, running: false })).toMatchObject({ kind: 'gone' });
  });

  it('reports a real failure in readable words, never [object Object]', () => {
    const event = { type: 'error', message: '', error: { message: 'socket hang up' } };
    const o = stopOutcome('p', { error: event }, alive);
    expect(o).toEqual({ pod: 'p', kind: 'problem', text: 'socket hang up' });
    expect(stopOutcome('p', { error: {} }, alive)).toMatchObject({ kind: 'problem' });
    expect(JSON.stringify(stopOutcome('p', { error: {} }, alive))).not.toContain('[object');
    expect(stopOutcome('p', { result: exec({ exitCode: 1, stderr: 'sh: kill: permission denied' }) }, alive)).toEqual({
      pod: 'p',
      kind: 'problem',
      text: 'exit 1: sh: kill: permission denied',
    });
  });

  it('describes a mix of outcomes', () => {
    expect(
      describeStops([
        { pod: 'a', kind: 'stopped', loops: 1 },
        { pod: 'b', kind: 'gone', why: 'the Pod was deleted' },
      ]),
    ).toBe('stopped in 1 Pod; 1 loaded Pod was gone already (b: the Pod was deleted)');
  });
});
