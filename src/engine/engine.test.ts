// The live run's bookkeeping without a cluster: how check outcomes become results, the budget,
// and how the app under test is read from the manifests the CLI hands over.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PRODUCTIONIZING_CHECKS } from '../labs/productionizing/catalogue.js';
import { EnvironmentError, type CheckResult } from '../model.js';
import { WaitAbortedError, WaitTimeoutError } from '../wait/wait-for.js';
import { appFootprint, appUnderTest, namespaceOf } from '../labs/productionizing/app.js';
import { Budget, cleanupReserve } from './budget.js';
import { LiveChecks } from './checks.js';
import { BudgetExhausted, CheckFailed, CheckInconclusive, RunStopped } from './outcomes.js';

const live = PRODUCTIONIZING_CHECKS.filter((c) => c.kind === 'live');

function recorder(signal = new AbortController().signal) {
  const seen: CheckResult[] = [];
  let diagnosed = 0;
  const checks = new LiveChecks({
    definitions: live,
    onCheck: (r) => seen.push(r),
    diagnose: async () => `diagnostics #${++diagnosed}`,
    signal,
    stopReason: () => 'interrupted by SIGINT',
  });
  return { checks, seen };
}

describe('LiveChecks', () => {
  it('a pass gets full points and the message', async () => {
    const { checks, seen } = recorder();
    expect(await checks.run('replicas.ready-five', async () => '5 of 5 Pods ready')).toBe('passed');
    expect(seen[0]).toMatchObject({ id: 'replicas.ready-five', group: 'replicas', status: 'passed', points: 3, maxPoints: 3, message: '5 of 5 Pods ready' });
    expect(seen[0]?.hint).toBeUndefined();
  });

  it('a CheckFailed is the learner\'s: failed, no points, hint and diagnostics', async () => {
    const { checks, seen } = recorder();
    await checks.run('liveness.restarts-failed-container', async () => {
      throw new CheckFailed('never restarted', { hint: 'add a liveness probe' });
    });
    expect(seen[0]).toMatchObject({ status: 'failed', points: 0, message: 'never restarted', hint: 'add a liveness probe', diagnostics: 'diagnostics #1' });
  });

  it('a timeout is a failure naming the expectation and the last observation', async () => {
    const { checks, seen } = recorder();
    await checks.run('hpa.scales-up', async () => {
      throw new WaitTimeoutError('the HPA scales above 5 replicas', 'HPA x: 5 replicas, CPU 12%/50%', undefined, 75_000);
    });
    expect(seen[0]?.status).toBe('failed');
    expect(seen[0]?.message).toBe('expected the HPA scales above 5 replicas within 75s; last seen: HPA x: 5 replicas, CPU 12%/50%');
    expect(seen[0]?.hint).toBe(live.find((c) => c.id === 'hpa.scales-up')?.hint);
  });

  it('an inconclusive probe or an unexpected error is an error, never a failure', async () => {
    const { checks, seen } = recorder();
    await checks.run('security.exec-uid-non-root', async () => {
      throw new CheckInconclusive('`id -u` could not run');
    });
    await checks.run('security.exec-no-sa-token', async () => {
      throw new TypeError('boom');
    });
    expect(seen.map((r) => [r.status, r.message])).toEqual([
      ['error', '`id -u` could not run'],
      ['error', 'the grader could not decide: boom'],
    ]);
  });

  it('an abort reports the running check as interrupted and stops the run', async () => {
    const controller = new AbortController();
    const { checks, seen } = recorder(controller.signal);
    const running = checks.run('readiness.removes-failed-pod', async () => {
      controller.abort();
      throw new WaitAbortedError('Pod x leaves the endpoints', 'Pod x is still a ready endpoint');
    });
    await expect(running).rejects.toBeInstanceOf(RunStopped);
    expect(seen[0]).toMatchObject({ status: 'error', message: 'interrupted: interrupted by SIGINT; last seen: Pod x is still a ready endpoint' });
    expect(checks.pending()).not.toContain('readiness.removes-failed-pod');
  });

  it('the budget running out is an error that stops the run', async () => {
    const { checks, seen } = recorder();
    await expect(
      checks.run('hpa.scales-down', async () => {
        throw new BudgetExhausted(60_000);
      }),
    ).rejects.toBeInstanceOf(RunStopped);
    expect(seen[0]?.status).toBe('error');
    expect(seen[0]?.message).toContain('the time budget of 60s for live grading ran out');
  });

  it('an environment error is recorded and rethrown for the CLI (exit 3)', async () => {
    const { checks, seen } = recorder();
    await expect(
      checks.run('hpa.metrics-flow', async () => {
        throw new EnvironmentError('the cluster stopped answering');
      }),
    ).rejects.toBeInstanceOf(EnvironmentError);
    expect(seen[0]).toMatchObject({ status: 'error', message: 'the cluster stopped answering' });
  });

  it('block records only undecided checks, once, in catalogue order', async () => {
    const { checks, seen } = recorder();
    await checks.run('submission.applies', async () => 'ok');
    await checks.block(['submission.applies', 'security.exec-chown-refused', 'replicas.ready-five'], 'failed', 'not tested: the app cannot start');
    expect(seen.map((r) => `${r.id}:${r.status}`)).toEqual(['submission.applies:passed', 'security.exec-chown-refused:failed', 'replicas.ready-five:failed']);
    expect(checks.results().map((r) => r.id)).toEqual(['submission.applies', 'replicas.ready-five', 'security.exec-chown-refused']);
    expect(checks.pending()).toHaveLength(live.length - 3);
    await expect(checks.run('made.up', async () => 'x')).rejects.toThrow('no live check made.up');
  });
});

describe('Budget', () => {
  it('gives a wait its own bound, or what is left and says so', () => {
    let now = 0;
    const budget = new Budget(10_000, { now: () => now });
    expect(budget.bound(4_000)).toEqual({ timeoutMs: 4_000, truncated: false });
    now = 8_000;
    expect(budget.bound(4_000)).toEqual({ timeoutMs: 2_000, truncated: true });
    now = 10_000;
    expect(() => budget.bound(1)).toThrow(BudgetExhausted);
  });

  it('keeps a fifth of the budget for cleanup, between 10 and 45 seconds', () => {
    expect(cleanupReserve(15 * 60_000)).toBe(45_000);
    expect(cleanupReserve(120_000)).toBe(24_000);
    expect(cleanupReserve(20_000)).toBe(10_000);
  });
});

describe('the app under test, from the manifests', () => {
  const load = (file: string) =>
    parseAllDocuments(readFileSync(new URL(`../../fixtures/submissions/${file}`, import.meta.url), 'utf8')).map((d) => {
      const body = d.toJS() as Record<string, unknown>;
      (body.metadata as Record<string, unknown>).namespace = 'lab-grader-x-00000';
      return body;
    });
  const reference = [...load('reference/deployment.yaml'), ...load('reference/hpa.yaml'), ...load('reference/services.yaml')];

  it('names the Deployment, container, selector, port, Services and HPAs', () => {
    expect(appUnderTest(reference)).toEqual({
      deployment: 'configurable',
      container: 'app',
      podSelector: 'app=configurable',
      podPort: 80,
      services: [
        { name: 'configurable-np', port: 80 },
        { name: 'configurable-lb', port: 8040 },
      ],
      hpas: ['configurable-cpu'],
      failAfterCallCount: 3,
    });
    expect(namespaceOf(reference as never)).toBe('lab-grader-x-00000');
  });

  it('needs room for 5 Pods at the request, the limit or the namespace default', () => {
    expect(appFootprint(reference, 5, 125)).toEqual({ pods: 5, perPodMilli: 125 });
    const equivalent = load('equivalent-v1-hpa-pod-securitycontext/app.yaml');
    // No replicas field: 1, but no HPA among these manifests either.
    expect(appFootprint(equivalent, 5, 125)).toEqual({ pods: 1, perPodMilli: 250 });
    const three = [...load('replicas-three/deployment.yaml'), ...load('replicas-three/hpa.yaml')];
    expect(appFootprint(three, 5, 125)).toEqual({ pods: 3, perPodMilli: 125 });
    const none = load('no-resources/deployment.yaml');
    expect(appFootprint(none, 5, 125)).toEqual({ pods: 5, perPodMilli: 125 });
  });

  it('finds no app without a Deployment running the lab\'s image', () => {
    expect(appUnderTest(load('reference/services.yaml'))).toBeUndefined();
  });
});
