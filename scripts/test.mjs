#!/usr/bin/env node
// `npm test`.
//  - With SUBMISSION=<dir>: grades that submission, exactly like `lab-grader grade <dir>`
//    (same checks, same reports in reports/<name>/, same exit code).
//  - Without: the project's own tests — typecheck, layer rules, unit tests and the cluster
//    suites against a live cluster (brought up if needed). A cluster test that is skipped
//    fails the run: the cluster suites must really execute.
import { execa } from 'execa';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (cmd, args, env = {}) => execa(cmd, args, { cwd: root, stdio: 'inherit', reject: false, env });

async function main() {
  const submission = process.env.SUBMISSION;
  if (submission) {
    const built = await run('npm', ['run', '--silent', 'build']);
    if (built.exitCode !== 0) return 4;
    const extra = process.env.GRADE_ARGS ? process.env.GRADE_ARGS.split(' ').filter(Boolean) : [];
    return (await run('node', ['bin/lab-grader.js', 'grade', submission, ...extra])).exitCode ?? 3;
  }
  for (const [cmd, args] of [
    ['npm', ['run', '--silent', 'typecheck']],
    ['npm', ['run', '--silent', 'lint:layers']],
    ['npm', ['run', '--silent', 'lint:workflows']],
    ['npm', ['run', '--silent', 'build']],
  ]) {
    const r = await run(cmd, args);
    if (r.exitCode !== 0) return r.exitCode ?? 1;
  }
  const report = `${root}reports/tests/vitest.json`;
  rmSync(report, { force: true });
  // `npm test` brings the cluster up when it is not there; bare `vitest run` fails fast instead.
  const vitest = await run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
    LAB_GRADER_CLUSTER_UP: process.env.LAB_GRADER_CLUSTER_UP ?? '1',
  });
  const skipped = clusterTestsNotRun(report);
  if (skipped.length) {
    console.error(`\nnpm test: ${skipped.length} cluster test(s) did not run:\n  ${skipped.join('\n  ')}`);
    return vitest.exitCode || 1;
  }
  return vitest.exitCode ?? 1;
}

function clusterTestsNotRun(reportPath) {
  let report;
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8'));
  } catch {
    return ['(no vitest report written)'];
  }
  const out = [];
  for (const file of report.testResults ?? []) {
    if (!file.name.includes('/suites/')) continue;
    for (const t of file.assertionResults ?? []) {
      if (t.status !== 'passed' && t.status !== 'failed') out.push(`${t.status}: ${t.fullName}`);
    }
  }
  return out;
}

process.exitCode = await main();
