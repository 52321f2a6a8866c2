// Every fixture submission with an expected.json (every folder of fixtures/submissions that has
// one, found when the suite starts) is graded by the real CLI against the live cluster; its exit
// code and group verdicts must be what expected.json says ("any" matches all).
// Gradings run side by side, as a batch would: FIXTURE_CONCURRENCY at once (measured on the
// 2-core build machine, see README), and the grader's own capacity wait decides when each one's
// Pods may start (a grading waits while others hold the CPU room). LAB_GRADER_FIXTURE_CONCURRENCY
// overrides it. A fixture the cluster is too small for (the grader exits 3 saying so) is skipped,
// not passed. LAB_GRADER_ECHO=1 prints the gradings' progress lines.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { reportFolderProblems } from './support/result-schema.js';
import { expectedFor, fixtureNames, formatDuration, gradeFixture, groupVerdicts, limiter, verdictMismatches, type Graded } from './support/grading.js';

const context = inject('kubeContext');
/** Gradings at once by default: see the README's measured figures for how it was chosen. */
const FIXTURE_CONCURRENCY = 3;
const concurrency = Math.max(1, Number(process.env.LAB_GRADER_FIXTURE_CONCURRENCY ?? FIXTURE_CONCURRENCY));
const echo = process.env.LAB_GRADER_ECHO === '1';
const slot = limiter(concurrency);

/** A warm full grade of the reference should take less than this (design target), alone on the cluster. */
const REFERENCE_TARGET_MS = 3 * 60_000;
/** Beyond this the suite fails: something is wrong, not just a busy machine (it shares the cluster here). */
const REFERENCE_CEILING_MS = 6 * 60_000;
const FIXTURE_TIMEOUT_MS = 45 * 60_000;

const graded: Graded[] = [];
const skipped: string[] = [];

/** The grader's own verdict that this cluster cannot hold the submission (exit 3, environment). */
function clusterTooSmall(g: Graded): string | undefined {
  if (g.code !== 3 || !g.result) return undefined;
  const c = g.result.checks.find((x) => x.status === 'error' && /cluster is too small|no room on the cluster|has no room for them/.test(x.message));
  return c?.message;
}
const suiteStarted = Date.now();

// The reference first, then the other live gradings; the ungradable ones (exit 2) are instant.
const names = fixtureNames().filter((n) => n !== 'reference');
const ordered = [...names.filter((n) => !expectedFor(n).exit.includes(2)), ...names.filter((n) => expectedFor(n).exit.includes(2))];

function summary(g: Graded): string {
  const verdicts = g.result ? Object.entries(groupVerdicts(g.result)).map(([k, v]) => `${k}=${v}`).join(' ') : 'no result.json';
  const score = g.result ? `${g.result.score}/${g.result.maxScore}` : '-';
  return `${g.name.padEnd(40)} exit ${g.code}  ${score.padStart(5)}  ${formatDuration(g.durationMs).padStart(6)}  ${verdicts}`;
}

afterAll(() => {
  const lines = graded.map(summary);
  const notes = skipped.map((s) => `skipped ${s}`);
  console.log(`\nFixture gradings (concurrency ${concurrency}, suite ${formatDuration(Date.now() - suiteStarted)}):\n${[...lines, ...notes].join('\n')}\n`);
});

describe('fixture submissions graded on the live cluster', () => {
  it.concurrent('reference: full marks and exit 0, in under 3 minutes warm', async ({ expect }) => {
    const g = await slot(() => gradeFixture('reference', { context, echo }));
    graded.push(g);
    console.log(`reference graded in ${formatDuration(g.durationMs)} (target < ${formatDuration(REFERENCE_TARGET_MS)})`);
    expect(g.result, g.stderr).toBeDefined();
    const failedChecks = g.result!.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id} ${c.status}: ${c.message}`);
    expect(failedChecks).toEqual([]);
    expect(g.code).toBe(0);
    expect(g.result!.score).toBe(g.result!.maxScore);
    expect(verdictMismatches(expectedFor('reference'), g.result!)).toEqual([]);
    expect(reportFolderProblems(g.outDir), 'reports against docs/result.schema.json').toEqual([]);
    if (g.durationMs > REFERENCE_TARGET_MS) console.warn(`reference took ${formatDuration(g.durationMs)}, over the ${formatDuration(REFERENCE_TARGET_MS)} target`);
    expect(g.durationMs).toBeLessThan(REFERENCE_CEILING_MS);
  }, REFERENCE_CEILING_MS + 5 * 60_000);

  for (const name of ordered) {
    const exp = expectedFor(name);
    it.concurrent(`${name}: ${exp.description}`, async ({ expect, skip }) => {
      const g = await slot(() => gradeFixture(name, { context, echo }));
      graded.push(g);
      console.log(summary(g));
      const tooSmall = clusterTooSmall(g);
      if (tooSmall) {
        skipped.push(`${name}: ${tooSmall}`);
        console.warn(`${name}: skipped, the cluster cannot hold it: ${tooSmall}`);
        skip();
      }
      expect(g.result, `${name}: no result.json\n${g.stderr}`).toBeDefined();
      expect(exp.exit, `${name}: exit code ${g.code}\n${g.stdout}`).toContain(g.code);
      expect(verdictMismatches(exp, g.result!), `${name}: group verdicts`).toEqual([]);
      expect(reportFolderProblems(g.outDir), `${name}: reports against docs/result.schema.json`).toEqual([]);
      // Whatever the verdicts, the grader itself never broke on a bundled fixture.
      const errors = g.result!.checks.filter((c) => c.status === 'error').map((c) => `${c.id}: ${c.message}`);
      expect(errors, `${name}: checks in error`).toEqual([]);
    }, FIXTURE_TIMEOUT_MS);
  }
});
