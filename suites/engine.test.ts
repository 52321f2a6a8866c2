// The lab-agnostic engine on the live cluster, with a made-up lab of ConfigMaps (no Pods, a few
// seconds): a live plan gets a fresh namespace with the manifests, applies them and its switch
// step, its checks end as passed / failed / error as their bodies say, undos run and the
// namespace goes away; `selfcheck --lab` runs a SelfcheckPlan on the same engine with the lab's
// own specs and writes its reports.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AnyLab, LiveRun } from '../src/engine/lab.js';
import { CheckFailed } from '../src/engine/outcomes.js';
import { gradeLive } from '../src/engine/run.js';
import { loadKube } from '../src/kube/client.js';
import type { CheckDefinition } from '../src/lab/types.js';
import type { CheckResult, RunResult } from '../src/model.js';
import { runLabSelfcheck } from '../src/selfcheck/lab-run.js';
import { parseManifests } from '../src/submission/load.js';
import { applyPolicy, makeNamespaceName } from '../src/submission/policy.js';
import { splitRedefinitions } from '../src/submission/redefinitions.js';

const context = inject('kubeContext');
const kube = loadKube(context);
const temp = mkdtempSync(path.join(tmpdir(), 'engine-suite-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const live = (id: string, title = id): CheckDefinition => ({ id, group: id.split('.')[0]!, title, maxPoints: 1, kind: 'live', hint: `hint for ${id}` });
const configMap = (name: string, colour: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  colour: ${colour}\n`;

async function colourOf(run: LiveRun<string>, name: string): Promise<string | undefined> {
  const cm = await run.api(`read ConfigMap ${name}`, () => kube.core.readNamespacedConfigMap({ namespace: run.namespace, name }));
  return cm.data?.colour;
}

describe('the live engine with a made-up lab', () => {
  it('applies the manifests, then the switch step; records passed, failed and error; undoes and deletes the namespace', async () => {
    // Two files define ConfigMap/colour: with redefinitions 'switch' the later one is the switch step.
    const objects = [...parseManifests('b-switch.yaml', configMap('colour', 'green')).objects, ...parseManifests('a-first.yaml', configMap('colour', 'blue')).objects];
    const split = splitRedefinitions(objects, 'switch');
    const namespace = makeNamespaceName('engine-suite');
    const manifests = applyPolicy(split.objects, { namespace }).objects.map((o) => o.body);
    const switchManifests = applyPolicy(split.switches, { namespace, redefinitions: true }).objects.map((o) => o.body);
    const checks = [live('colour.first-blue'), live('colour.switched-green'), live('colour.fails-on-purpose'), live('colour.grader-error'), live('colour.never-run')];
    let undone = false;
    const recorded: CheckResult[] = [];
    const results = await gradeLive({
      lab: {
        id: 'engine-suite',
        checks,
        live: async (run) => {
          run.undo.push('mark undone', async () => {
            undone = true;
          });
          await run.checks.run('colour.first-blue', async () => {
            const applied = await run.apply();
            if (applied.rejections.length > 0) throw new CheckFailed(applied.rejections[0]!.message);
            const colour = await colourOf(run, 'colour');
            if (colour !== 'blue') throw new CheckFailed(`colour is ${colour}`);
            return `ConfigMap/colour is ${colour} in ${run.namespace}`;
          });
          await run.checks.run('colour.switched-green', async () => {
            await run.apply(run.switchManifests);
            const seen = await run.wait(async () => {
              const colour = await colourOf(run, 'colour');
              return { done: colour === 'green', observed: `colour ${colour}`, value: colour };
            }, { description: 'the switch to green', timeoutMs: 10_000 });
            return `switched to ${seen.value}`;
          });
          await run.checks.run('colour.fails-on-purpose', async () => {
            throw new CheckFailed('the learner got it wrong');
          });
          await run.checks.run('colour.grader-error', async () => {
            throw new TypeError('boom');
          });
          await run.checks.block(run.checks.pending(), 'failed', 'not tested: on purpose');
        },
      },
      manifests,
      switchManifests,
      context,
      budgetMs: 3 * 60_000,
      keepNamespace: false,
      bringUpCluster: false,
      signal: new AbortController().signal,
      onCheck: (r) => recorded.push(r),
      onProgress: () => undefined,
    });
    const status = Object.fromEntries(results.map((r) => [r.id, `${r.status}: ${r.message}`]));
    expect(status['colour.first-blue']).toMatch(/^passed: ConfigMap\/colour is blue in lab-grader-engine-suite-/);
    expect(status['colour.switched-green']).toBe('passed: switched to green');
    expect(status['colour.fails-on-purpose']).toBe('failed: the learner got it wrong');
    expect(status['colour.grader-error']).toBe('error: the grader could not decide: boom');
    expect(status['colour.never-run']).toBe('failed: not tested: on purpose');
    expect(recorded.map((r) => r.id)).toEqual(checks.map((c) => c.id));
    expect(undone).toBe(true);
    // The namespace is being deleted (or gone) once the run returns.
    const ns = await kube.core.readNamespace({ name: namespace }).catch(() => undefined);
    expect(ns === undefined || ns.status?.phase === 'Terminating' || ns.metadata?.deletionTimestamp !== undefined).toBe(true);
  }, 5 * 60_000);

  it('selfcheck --lab runs a SelfcheckPlan on the engine with the lab\'s own specs, reports in --out', async () => {
    const specsDir = path.join(temp, 'specs');
    mkdirSync(path.join(specsDir, 'walk'), { recursive: true });
    writeFileSync(path.join(specsDir, 'walk', 'colour.yaml'), configMap('colour', 'blue'));
    const checks = [live('walk.applies'), live('walk.blue')];
    const lab = {
      id: 'engine-suite',
      title: 'Engine suite',
      summary: 'a made-up lab',
      groups: [{ id: 'walk', title: 'Walk' }],
      checks: [],
      specsDir,
      images: [],
      recognise: () => 0,
      rubric: { context: () => ({}), checks: {} },
      live: async () => undefined,
      selfcheck: {
        groups: [{ id: 'walk', title: 'Walk' }],
        checks,
        specs: 'walk',
        run: async (run: LiveRun<string>) => {
          await run.checks.run('walk.applies', async () => `applied ${(await run.apply()).applied} object(s)`);
          await run.checks.run('walk.blue', async () => `colour ${await colourOf(run, 'colour')}`);
        },
      },
    } satisfies AnyLab;
    const out = path.join(temp, 'selfcheck');
    let stdout = '';
    const code = await runLabSelfcheck(lab, { out, context, handleSignals: false, budgetMs: 3 * 60_000, stdout: (t) => (stdout += t), stderr: () => undefined });
    const result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as RunResult;
    expect(result.checks.map((c) => `${c.id} ${c.status}: ${c.message}`)).toEqual(['walk.applies passed: applied 1 object(s)', 'walk.blue passed: colour blue']);
    expect(code).toBe(0);
    expect(result).toMatchObject({ lab: 'engine-suite', mode: 'selfcheck', score: 2, maxScore: 2 });
    expect(stdout).toContain('selfcheck (engine-suite walkthrough): 2/2 steps passed');
  }, 5 * 60_000);
});
