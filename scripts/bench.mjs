#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --reps N] [-- --no-default-profile] [-- --no-batch]`
//
// Measures, on this machine and its grading cluster (kind `lab-grader`, brought up if needed):
//   - a warm `cluster up` (the cluster exists: re-verification only);
//   - `grade --static-only` of the reference submission (a new process each time, as a learner
//     runs it), and of 100 generated submissions in one process;
//   - a full grade of the reference on the grading profile, with each live group's duration
//     beside its floor (summary.md's floors, from the specs and the cluster's controller flags);
//   - the same full grade on kind's default timings (`--profile default`) on a second cluster
//     the bench creates and removes (`lab-grader-bench-default`), and the ratio between them;
//   - batch throughput (`lab-grader batch`) on copies of the reference, where batch exists.
// Repetitions give median, min and max. Writes reports/bench.json and reports/bench.md and prints
// the table. `--quick`: fewer repetitions, no default-profile cluster, a small batch (minutes).
// `--grading-cluster <name>`: the grading-profile grades run on a cluster created for the bench
// (the committed profile; the shared cluster keeps the profile it was created with).
// The figures are only as quiet as the machine: run it when nothing else uses the CPU.
import { execa } from 'execa';
import { cpus, totalmem, tmpdir } from 'node:os';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'bin', 'lab-grader.js');
const reference = path.join(root, 'fixtures', 'submissions', 'reference');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const flagValue = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const reps = Number(flagValue('--reps') ?? (quick ? 1 : 3));
const withDefaultProfile = !quick && !args.includes('--no-default-profile');
const withBatch = !args.includes('--no-batch');
const context = flagValue('--context') ?? 'kind-lab-grader';
const compareCluster = 'lab-grader-bench-default';
/** `--grading-cluster <name>`: grade on a new cluster of the committed grading profile, removed afterwards. */
const gradingCluster = flagValue('--grading-cluster');

const TARGETS = {
  fullGradeMs: 60_000,
  defaultRatio: 6,
  groupOverFloor: 1.5,
  staticOnlyMs: 300,
  static100Ms: 3_000,
  warmUpMs: 3_000,
};

const work = mkdtempSync(path.join(tmpdir(), 'lab-grader-bench-'));
const log = (line) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { n: sorted.length, median: Math.round(median), min: Math.round(sorted[0]), max: Math.round(sorted.at(-1)), values: values.map(Math.round) };
}

async function timed(cmd, argv, opts = {}) {
  const started = performance.now();
  const r = await execa(cmd, argv, { cwd: root, reject: false, all: true, ...opts });
  return { ms: performance.now() - started, code: r.exitCode, output: r.all ?? '' };
}

async function grader(argv, opts) {
  return timed(process.execPath, [bin, ...argv], opts);
}

function fail(what, r) {
  throw new Error(`${what} exited ${r.code}:\n${r.output.split('\n').slice(-15).join('\n')}`);
}

/** 100 variants of the reference: replicas, probe timings, limits, HPA bounds, a missing field here and there. */
function generateSubmissions(dir, count) {
  const files = readdirSync(reference).filter((f) => f.endsWith('.yaml'));
  const base = Object.fromEntries(files.map((f) => [f, readFileSync(path.join(reference, f), 'utf8')]));
  const variants = [
    (t, i) => t.replace('replicas: 5', `replicas: ${1 + (i % 7)}`),
    (t, i) => t.replace('periodSeconds: 1', `periodSeconds: ${1 + (i % 5)}`),
    (t) => t.replace(/ {10}readinessProbe:[\s\S]*?failureThreshold: 1\n/, ''),
    (t) => t.replace('runAsNonRoot: true', 'runAsNonRoot: false'),
    (t) => t.replace('cpu: 250m', 'cpu: 100m'),
    (t) => t.replace('automountServiceAccountToken: false', 'automountServiceAccountToken: true'),
    (t) => t.replace(/ {10}capabilities:\n {12}drop:\n {14}- ALL\n/, ''),
    (t, i) => t.replace('maxReplicas: 10', `maxReplicas: ${5 + (i % 8)}`),
    (t, i) => t.replace('averageUtilization: 50', `averageUtilization: ${30 + (i % 5) * 10}`),
    (t) => t,
  ];
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `learner-${String(i).padStart(3, '0')}`);
    mkdirSync(sub, { recursive: true });
    const vary = variants[i % variants.length];
    for (const [f, text] of Object.entries(base)) writeFileSync(path.join(sub, f), vary(text, i));
  }
  return readdirSync(dir).map((d) => path.join(dir, d));
}

/** One process grading every submission with --static-only, through the CLI's own entry point. */
async function staticInOneProcess(dirs) {
  const script = `
    const { main } = await import(${JSON.stringify(new URL('../dist/cli.js', import.meta.url).href)});
    const dirs = ${JSON.stringify(dirs)};
    const codes = {};
    const quiet = { stdout: () => {}, stderr: () => {}, isTTY: false };
    for (const d of dirs) {
      const code = await main(['grade', d, '--static-only', '--out', d + '-report'], quiet);
      codes[code] = (codes[code] ?? 0) + 1;
    }
    console.log(JSON.stringify(codes));
  `;
  const r = await timed(process.execPath, ['--input-type=module', '-e', script]);
  if (r.code !== 0) fail('static grading of the generated submissions', r);
  return { ms: r.ms, exitCodes: JSON.parse(r.output.trim().split('\n').at(-1)) };
}

/**
 * Runs fn on a cluster the bench creates (name, profile) and removes afterwards. kind makes a new
 * cluster the kubeconfig's current context: whatever it was is put back.
 */
async function withOwnCluster(name, profile, fn) {
  const current = (await execa('kubectl', ['config', 'current-context'], { reject: false })).stdout?.trim();
  const restoreContext = async () => {
    if (current) await execa('kubectl', ['config', 'use-context', current], { reject: false });
  };
  log(`creating cluster ${name} (profile ${profile})`);
  const up = await grader(['cluster', 'up', '--name', name, '--profile', profile]);
  await restoreContext();
  try {
    if (up.code !== 0) fail(`cluster up --name ${name} --profile ${profile}`, up);
    log(`cluster ${name} up in ${(up.ms / 1000).toFixed(0)}s`);
    return await fn(`kind-${name}`, up.ms);
  } finally {
    log(`removing cluster ${name}`);
    const down = await grader(['cluster', 'down', '--name', name]);
    if (down.code !== 0) log(`cluster down --name ${name} exited ${down.code}: ${down.output.split('\n').slice(-3).join(' | ')}`);
    await restoreContext();
  }
}

/** A full grade of the reference on a context: total time, per-group durations and floors. */
async function fullGrade(ctx, label, i) {
  const out = path.join(work, `full-${label}-${i}`);
  const r = await grader(['grade', reference, '--context', ctx, '--out', out], { env: { ...process.env, CI: 'true' } });
  const resultPath = path.join(out, 'result.json');
  if (!existsSync(resultPath)) fail(`full grade (${label})`, r);
  const result = JSON.parse(readFileSync(resultPath, 'utf8'));
  const groups = {};
  for (const c of result.checks) groups[c.group] = (groups[c.group] ?? 0) + c.durationMs;
  const floors = Object.fromEntries((result.floors?.groups ?? []).map((f) => [f.group, f.floorMs]));
  const checks = Object.fromEntries(result.checks.filter((c) => c.durationMs > 500).map((c) => [c.id, c.durationMs]));
  const notPassed = result.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id} ${c.status}: ${c.message.split('\n')[0]}`);
  log(`full grade (${label}) #${i + 1}: ${(r.ms / 1000).toFixed(1)}s, exit ${r.code}, ${result.score}/${result.maxScore}`);
  return { ms: r.ms, gradingMs: result.durationMs, code: r.code, score: result.score, maxScore: result.maxScore, groups, floors, checks, notPassed, timings: result.floors?.timings };
}

function groupTable(runs) {
  const names = Object.keys(runs[0]?.groups ?? {});
  return Object.fromEntries(
    names.map((g) => {
      const s = stats(runs.map((r) => r.groups[g] ?? 0));
      const floor = runs[0].floors[g];
      return [g, { ...s, floorMs: floor, overFloor: floor ? Number((s.median / floor).toFixed(2)) : undefined }];
    }),
  );
}

async function batchThroughput() {
  const help = await grader(['batch', '--help']);
  if (help.code !== 0) return { available: false };
  const n = quick ? 3 : 4;
  const dir = path.join(work, 'class');
  for (let i = 0; i < n; i++) cpSync(reference, path.join(dir, `student-${i + 1}`), { recursive: true });
  const out = path.join(work, 'batch-out');
  log(`batch of ${n} copies of the reference`);
  const r = await grader(['batch', dir, '--context', context, '--out', out], { env: { ...process.env, CI: 'true' } });
  const perMinute = n / (r.ms / 60_000);
  log(`batch: ${(r.ms / 1000).toFixed(1)}s for ${n}, exit ${r.code}`);
  return { available: true, submissions: n, ms: Math.round(r.ms), code: r.code, perMinute: Number(perMinute.toFixed(2)) };
}

async function main() {
  const started = Date.now();
  log(`building dist/`);
  const build = await timed('npm', ['run', '--silent', 'build']);
  if (build.code !== 0) fail('npm run build', build);

  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), loadAverageAtStart: (await import('node:os')).loadavg().map((l) => Number(l.toFixed(2))) },
    mode: quick ? 'quick' : 'full',
    reps,
    targets: TARGETS,
  };

  log('cluster up (first call may create the cluster; not counted)');
  const first = await grader(['cluster', 'up']);
  if (first.code !== 0) fail('cluster up', first);
  const ups = [];
  for (let i = 0; i < Math.max(3, reps); i++) {
    const r = await grader(['cluster', 'up']);
    if (r.code !== 0) fail('cluster up', r);
    ups.push(r.ms);
  }
  report.warmClusterUp = stats(ups);
  log(`warm cluster up: median ${report.warmClusterUp.median} ms`);

  const statics = [];
  for (let i = 0; i < (quick ? 5 : 10); i++) {
    const r = await grader(['grade', reference, '--static-only', '--out', path.join(work, 'static')]);
    if (r.code !== 0) fail('static-only grade of the reference', r);
    statics.push(r.ms);
  }
  report.staticOnlyReference = stats(statics);
  log(`static-only reference: median ${report.staticOnlyReference.median} ms`);

  const helps = [];
  for (let i = 0; i < 5; i++) {
    const r = await grader(['--help']);
    if (r.code !== 0) fail('lab-grader --help', r);
    helps.push(r.ms);
  }
  report.help = stats(helps);

  const generated = generateSubmissions(path.join(work, 'generated'), 100);
  const hundred = [];
  let exitCodes;
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const r = await staticInOneProcess(generated);
    hundred.push(r.ms);
    exitCodes = r.exitCodes;
  }
  report.staticOnly100 = { ...stats(hundred), exitCodes };
  log(`100 static-only in one process: median ${report.staticOnly100.median} ms (exit codes ${JSON.stringify(exitCodes)})`);

  const grading = [];
  const gradeOn = async (ctx) => {
    for (let i = 0; i < reps; i++) grading.push(await fullGrade(ctx, 'grading', i));
  };
  let gradingContext = context;
  if (gradingCluster) {
    // The grading profile as committed, on a cluster created now (an older cluster keeps the
    // profile it was created with).
    gradingContext = `kind-${gradingCluster}`;
    await withOwnCluster(gradingCluster, 'grading', async (ctx, upMs) => {
      report.gradingClusterUpMs = Math.round(upMs);
      await gradeOn(ctx);
    });
  } else {
    await gradeOn(context);
  }
  report.fullGrade = { profile: 'grading', context: gradingContext, ...stats(grading.map((g) => g.ms)), exitCodes: grading.map((g) => g.code), timings: grading[0]?.timings, groups: groupTable(grading), checks: grading.map((g) => g.checks) };

  if (withDefaultProfile) {
    try {
      await withOwnCluster(compareCluster, 'default', async (ctx, upMs) => {
        const run = await fullGrade(ctx, 'default', 0);
        report.defaultProfile = { profile: 'default', clusterUpMs: Math.round(upMs), ms: Math.round(run.ms), code: run.code, notPassed: run.notPassed, timings: run.timings, groups: run.groups, floors: run.floors };
        report.ratio = Number((run.ms / report.fullGrade.median).toFixed(2));
      });
    } catch (error) {
      report.defaultProfile = { error: error instanceof Error ? error.message : String(error) };
      log(`default profile: ${report.defaultProfile.error}`);
    }
  }

  if (withBatch) report.batch = await batchThroughput();
  report.benchMs = Date.now() - started;

  mkdirSync(path.join(root, 'reports'), { recursive: true });
  writeFileSync(path.join(root, 'reports', 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = markdown(report);
  writeFileSync(path.join(root, 'reports', 'bench.md'), md);
  process.stdout.write(md);
  rmSync(work, { recursive: true, force: true });
}

const s = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const range = (st) => (st.n > 1 ? `${s(st.median)} (${s(st.min)}–${s(st.max)}, n=${st.n})` : s(st.median));
const mark = (ok) => (ok ? '✅' : '❌');

function markdown(r) {
  const lines = [
    `## lab-grader bench (${r.mode}), ${r.date.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB; load average at start ${r.machine.loadAverageAtStart.join(' / ')}.`,
    '',
    '| measure | median (min–max) | target | |',
    '| --- | ---: | ---: | --- |',
    `| warm \`cluster up\` | ${range(r.warmClusterUp)} | ≤ ${s(r.targets.warmUpMs)} | ${mark(r.warmClusterUp.median <= r.targets.warmUpMs)} |`,
    `| \`--static-only\` reference, new process | ${range(r.staticOnlyReference)} | ≤ ${s(r.targets.staticOnlyMs)} | ${mark(r.staticOnlyReference.median <= r.targets.staticOnlyMs)} |`,
    `| \`lab-grader --help\` | ${range(r.help)} | ≤ ${s(r.targets.staticOnlyMs)} | ${mark(r.help.median <= r.targets.staticOnlyMs)} |`,
    `| \`--static-only\` 100 submissions, one process | ${range(r.staticOnly100)} | ≤ ${s(r.targets.static100Ms)} | ${mark(r.staticOnly100.median <= r.targets.static100Ms)} |`,
    `| full grade of the reference (grading profile) | ${range(r.fullGrade)} | ≤ ${s(r.targets.fullGradeMs)} | ${mark(r.fullGrade.median <= r.targets.fullGradeMs)} |`,
  ];
  if (r.gradingClusterUpMs) lines.push(`| new cluster, grading profile (\`cluster up --name …\`) | ${s(r.gradingClusterUpMs)} | | |`);
  if (r.defaultProfile?.error) lines.push(`| full grade, kind's default timings | not measured: ${r.defaultProfile.error.split('\n')[0]} | | |`);
  if (r.defaultProfile && !r.defaultProfile.error) {
    lines.push(`| full grade, kind's default timings | ${s(r.defaultProfile.ms)} | | |`);
    lines.push(`| ratio default / grading | ×${r.ratio} | ≥ ×${r.targets.defaultRatio} | ${mark(r.ratio >= r.targets.defaultRatio)} |`);
  }
  if (r.batch?.available) lines.push(`| batch of ${r.batch.submissions} references | ${s(r.batch.ms)} (${r.batch.perMinute}/min, exit ${r.batch.code}) | | |`);
  lines.push('', `Per live group, grading profile (${r.fullGrade.timings ?? 'timings unknown'}):`, '', '| group | median (min–max) | floor | × floor | ≤ ×1.5 |', '| --- | ---: | ---: | ---: | --- |');
  for (const [g, st] of Object.entries(r.fullGrade.groups)) {
    lines.push(`| ${g} | ${range(st)} | ${st.floorMs ? s(st.floorMs) : '–'} | ${st.overFloor ? `×${st.overFloor}` : '–'} | ${st.floorMs ? mark(st.overFloor <= r.targets.groupOverFloor) : ''} |`);
  }
  if (r.defaultProfile && !r.defaultProfile.error) {
    lines.push('', `Default profile per group (${r.defaultProfile.timings ?? ''}): ${Object.entries(r.defaultProfile.groups).map(([g, ms]) => `${g} ${s(ms)}${r.defaultProfile.floors[g] ? ` (floor ${s(r.defaultProfile.floors[g])})` : ''}`).join(', ')}.`);
  }
  lines.push('', `Bench took ${s(r.benchMs)}.`, '');
  return lines.join('\n');
}

main().catch((error) => {
  log(error instanceof Error ? error.message : String(error));
  rmSync(work, { recursive: true, force: true });
  process.exitCode = 1;
});
