import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Kube } from '../../../kube/client.js';
import { PodStuckError } from '../../../kube/workloads.js';
import { EnvironmentError } from '../../../model.js';
import { ReportSession } from '../../../report/session.js';
import { silentProgress } from '../../../util/progress.js';
import { WaitTimeoutError } from '../../../wait/wait-for.js';
import { groupChecks, SELFCHECK_CHECKS, SELFCHECK_GROUPS, selfcheckLab } from './catalogue.js';
import { CheckFailed, CheckInconclusive } from '../../../engine/outcomes.js';
import { asCheckOutcome, failedWithDiagnostics, runScenario, type Scenario } from './scenario.js';

const WHOAMI = groupChecks('whoami').map((c) => c.id);

let out: string;
let calls: string[];
let session: ReportSession;
let kube: Kube;

beforeEach(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'scenario-test-'));
  calls = [];
  session = new ReportSession({ lab: selfcheckLab, submission: 'specs/productionizing', outDir: out, checkpoint: false, github: false });
  kube = {
    core: {
      createNamespace: async ({ body }: { body: { metadata: { name: string } } }) => {
        calls.push(`create namespace ${body.metadata.name.replace(/-[0-9a-f]{6}$/, '')}`);
        return body;
      },
      deleteNamespace: async ({ name }: { name: string }) => {
        calls.push(`delete namespace ${name.replace(/-[0-9a-f]{6}$/, '')}`);
      },
      listNamespacedPod: async () => ({ items: [] }),
      listNamespacedEvent: async () => ({ items: [{ type: 'Warning', reason: 'Unhealthy', involvedObject: { kind: 'Pod', name: 'whoami-1' }, message: 'Readiness probe failed' }] }),
    },
  } as unknown as Kube;
});

afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

function run(scenario: Scenario, signal = new AbortController().signal) {
  return runScenario(scenario, { kube, session, signal, progress: silentProgress, namespaceLabels: {}, undoTimeoutMs: 1_000 });
}

const statuses = () => Object.fromEntries(session.recorded().map((r) => [r.id, r.status]));

describe('runScenario', () => {
  it('runs the steps in order as checks, then the undos last-in-first-out, the namespace last', async () => {
    const outcome = await run({
      group: 'whoami',
      async run(ctx) {
        for (const id of WHOAMI) {
          await ctx.step(id, async () => {
            calls.push(`step ${id}`);
            ctx.defer(`undo ${id}`, async () => void calls.push(`undo ${id}`));
            return `did ${id}`;
          });
        }
      },
    });
    expect(outcome.cleanupProblems).toEqual([]);
    expect(session.recorded().map((r) => [r.id, r.status, r.points, r.message])).toEqual(WHOAMI.map((id) => [id, 'passed', 1, `did ${id}`]));
    expect(calls).toEqual([
      'create namespace selfcheck-whoami',
      ...WHOAMI.map((id) => `step ${id}`),
      ...[...WHOAMI].reverse().map((id) => `undo ${id}`),
      'delete namespace selfcheck-whoami',
    ]);
  });

  it('stops the group at a failed step, reports the rest as not run, and still undoes everything', async () => {
    await run({
      group: 'whoami',
      async run(ctx) {
        await ctx.step(WHOAMI[0] as string, async () => 'ok');
        ctx.defer('POST 200', async () => void calls.push('POST 200'));
        await ctx.step(WHOAMI[1] as string, async () => {
          throw new CheckFailed('the failed Pod got no traffic');
        });
        calls.push('must not get here');
      },
    });
    const [failed, ...rest] = session.recorded().slice(1);
    expect(failed).toMatchObject({ id: WHOAMI[1], status: 'failed', points: 0, message: 'the failed Pod got no traffic' });
    expect(failed?.hint).toBeTruthy();
    expect(failed?.diagnostics).toContain('Readiness probe failed');
    expect(rest.map((r) => [r.status, r.message])).toEqual(WHOAMI.slice(2).map(() => ['skipped', `not run: ${WHOAMI[1]} did not pass`]));
    expect(calls).toEqual(['create namespace selfcheck-whoami', 'POST 200', 'delete namespace selfcheck-whoami']);
  });

  it('reports a step that timed out as an error naming the step and the last observation', async () => {
    await run({
      group: 'whoami',
      async run(ctx) {
        await ctx.step(WHOAMI[0] as string, async () => {
          throw new WaitTimeoutError('Deployment whoami has 2 Pods Ready', 'deployment whoami: 1/2 ready', undefined, 180_000);
        });
      },
    });
    const first = session.recorded()[0];
    expect(first?.status).toBe('error');
    expect(first?.message).toContain(SELFCHECK_CHECKS.find((c) => c.id === WHOAMI[0])?.title);
    expect(first?.message).toContain('timed out after 180s waiting until Deployment whoami has 2 Pods Ready; last seen: deployment whoami: 1/2 ready');
    const { exitCode } = await session.finalize();
    expect(exitCode).toBe(3);
  });

  it('runs independent steps even after one did not pass', async () => {
    await run({
      group: 'preflight',
      async run(ctx) {
        await ctx.step('preflight.nodes-ready', async () => 'ok', { independent: true });
        const ok = await ctx.step('preflight.metrics-api', async () => {
          throw new EnvironmentError('APIService v1beta1.metrics.k8s.io not registered');
        }, { independent: true });
        calls.push(`metrics ${ok}`);
        await ctx.step('preflight.images-start', async () => 'ok', { independent: true });
      },
    });
    expect(statuses()).toEqual({ 'preflight.nodes-ready': 'passed', 'preflight.metrics-api': 'error', 'preflight.images-start': 'passed' });
    expect(calls).toContain('metrics false');
  });

  it('blames the next step when the scenario throws outside a step', async () => {
    await run({
      group: 'pi',
      async run(ctx) {
        await ctx.step('pi.deploys', async () => 'ok');
        throw new Error('boom');
      },
    });
    expect(statuses()).toEqual({ 'pi.deploys': 'passed', 'pi.runs-as-root': 'error', 'pi.hpa-reads-metrics': 'skipped', 'pi.hpa-scales-up': 'skipped', 'pi.hpa-scales-down': 'skipped' });
    expect(session.recorded()[1]?.message).toContain('boom');
  });

  it('leaves the step that was running to finalize as interrupted when the run is aborted', async () => {
    const controller = new AbortController();
    await run(
      {
        group: 'pi',
        async run(ctx) {
          await ctx.step('pi.deploys', async () => 'ok');
          await ctx.step('pi.runs-as-root', async () => {
            controller.abort();
            throw new Error('aborted');
          });
        },
      },
      controller.signal,
    );
    expect(calls.at(-1)).toBe('delete namespace selfcheck-pi');
    const { run: result, exitCode } = await session.finalize({ interrupted: true, reason: 'interrupted by SIGINT' });
    expect(exitCode).toBe(3);
    const byId = Object.fromEntries(result.checks.map((c) => [c.id, c]));
    expect(byId['pi.runs-as-root']?.status).toBe('error');
    expect(byId['pi.runs-as-root']?.message).toContain('interrupted while running');
    expect(byId['pi.hpa-scales-up']?.status).toBe('skipped');
  });

  it('records an undo that fails as a cleanup problem and keeps undoing', async () => {
    const outcome = await run({
      group: 'pi',
      async run(ctx) {
        ctx.defer('close the proxy', async () => void calls.push('close'));
        ctx.defer('stop the load', async () => {
          throw new Error('socket closed');
        });
        await ctx.step('pi.deploys', async () => 'ok');
        throw new Error('stop');
      },
    });
    expect(outcome.cleanupProblems).toEqual(['stop the load: socket closed']);
    expect(calls.slice(-2)).toEqual(['close', 'delete namespace selfcheck-pi']);
  });
});

describe('how a step\'s error is recorded', () => {
  const PI_DEPLOYS = SELFCHECK_CHECKS.find((c) => c.id === 'pi.deploys')!;

  /** Runs pi.deploys throwing `error` through the recorder; its recorded status and message. */
  async function outcomeOf(error: unknown) {
    session = new ReportSession({ lab: selfcheckLab, submission: 'specs/productionizing', outDir: out, checkpoint: false, github: false });
    await run({
      group: 'pi',
      async run(ctx) {
        await ctx.step('pi.deploys', async () => {
          throw error;
        });
      },
    });
    const r = session.recorded().find((c) => c.id === 'pi.deploys');
    return { status: r?.status, message: r?.message, hint: r?.hint, diagnostics: r?.diagnostics };
  }

  it('tells walkthrough failures (failed) from environment and grader problems (error)', async () => {
    expect((await outcomeOf(new CheckFailed('restarted'))).status).toBe('failed');
    const hold = Object.assign(new Error('expected x to hold'), { name: 'HoldViolatedError' });
    expect(await outcomeOf(hold)).toMatchObject({ status: 'failed', message: 'expected x to hold' });
    expect((await outcomeOf(new PodStuckError({ pod: 'p', container: 'c', reason: 'CrashLoopBackOff', message: '' }))).status).toBe('failed');
    expect(await outcomeOf(new EnvironmentError('no metrics', 'install metrics-server'))).toMatchObject({
      status: 'error',
      message: 'environment problem: no metrics (install metrics-server)',
    });
    expect(await outcomeOf(new CheckInconclusive('`cat` could not run'))).toMatchObject({ status: 'error', message: 'inconclusive: `cat` could not run' });
    expect(await outcomeOf(new Error('ECONNREFUSED'))).toMatchObject({ status: 'error', message: `${PI_DEPLOYS.title}: could not be checked: ECONNREFUSED` });
  });

  it('gives every check that did not pass its hint and the namespace\'s diagnostics, after its own', async () => {
    const error = await outcomeOf(new Error('ECONNREFUSED'));
    expect(error.hint).toBe(PI_DEPLOYS.hint);
    expect(error.diagnostics).toContain('Readiness probe failed');
    const failed = await outcomeOf(failedWithDiagnostics('exited for another reason', 'Logs of pi:\nboom'));
    expect(failed).toMatchObject({ status: 'failed', message: 'exited for another reason', hint: PI_DEPLOYS.hint });
    expect(failed.diagnostics?.startsWith('Logs of pi:\nboom\n\nPods in ')).toBe(true);
  });

  it('maps errors the same way without a recorder', () => {
    expect(asCheckOutcome('t', new WaitTimeoutError('x', 'y', undefined, 1_000))).toBeInstanceOf(CheckInconclusive);
    expect(asCheckOutcome('the step', new Error('ECONNREFUSED')).message).toBe('the step: could not be checked: ECONNREFUSED');
  });
});

describe('the catalogue', () => {
  it('has unique ids in known groups, in group order', () => {
    const ids = SELFCHECK_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const order = SELFCHECK_GROUPS.map((g) => g.id as string);
    const groups = SELFCHECK_CHECKS.map((c) => order.indexOf(c.group));
    expect(groups.every((g) => g >= 0)).toBe(true);
    expect([...groups].sort((a, b) => a - b)).toEqual(groups);
  });
});
