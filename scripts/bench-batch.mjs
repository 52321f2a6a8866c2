#!/usr/bin/env node
// Batch throughput: the same submissions graded by `lab-grader batch` at concurrency 1 and at N,
// one after the other on the same cluster, in submissions per hour; and the two runs' verdicts
// compared check by check (concurrency must not change any). Needs `npm run build` and a cluster.
//
//   node scripts/bench-batch.mjs [--concurrency N] [--fixtures a,b,c] [--context C] [--out dir]
//
// Writes <out>/bench-batch.json (default reports/bench-batch) and prints a README-ready line.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '2' },
    fixtures: { type: 'string', default: 'reference,no-readiness,runs-as-root,replicas-three,malformed-yaml,empty' },
    context: { type: 'string', default: 'kind-lab-grader' },
    out: { type: 'string', default: path.join(root, 'reports', 'bench-batch') },
  },
});
const n = Number(values.concurrency);
const fixtures = values.fixtures.split(',').filter(Boolean);
const out = path.resolve(values.out);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const listFile = path.join(out, 'class.csv');
writeFileSync(listFile, ['path', ...fixtures.map((f) => path.join(root, 'fixtures', 'submissions', f)), ''].join('\n'));

function batch(concurrency) {
  const dir = path.join(out, `c${concurrency}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'lab-grader.js'), 'batch', listFile, '--concurrency', String(concurrency), '--out', dir, '--context', values.context], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CI: 'true' },
    });
    child.on('close', (code) => resolve({ concurrency, dir, exitCode: code, ms: Date.now() - started }));
  });
}

function verdicts(dir) {
  const out = {};
  for (const f of fixtures) {
    const name = path.basename(f);
    try {
      const run = JSON.parse(readFileSync(path.join(dir, name, 'result.json'), 'utf8'));
      out[name] = Object.fromEntries(run.checks.map((c) => [c.id, c.status]));
    } catch {
      out[name] = null;
    }
  }
  return out;
}

const load = () => os.loadavg()[0].toFixed(2);
const runs = [];
for (const c of [1, n]) {
  const loadBefore = load();
  console.error(`\nbench-batch: ${fixtures.length} submissions at concurrency ${c} (load ${loadBefore})`);
  const r = await batch(c);
  runs.push({ ...r, loadBefore, loadAfter: load(), perHour: Math.round((fixtures.length * 3_600_000) / r.ms), verdicts: verdicts(r.dir) });
}
const differences = [];
for (const f of fixtures) {
  const a = runs[0].verdicts[f];
  const b = runs[1].verdicts[f];
  if (!a || !b) {
    differences.push(`${f}: no result at concurrency ${a ? n : 1}`);
    continue;
  }
  for (const id of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[id] !== b[id]) differences.push(`${f} ${id}: ${a[id]} at 1, ${b[id]} at ${n}`);
}
const cpus = os.cpus().length;
const memGiB = Math.round(os.totalmem() / 2 ** 30);
let kindCpus = '';
try {
  kindCpus = execFileSync('kubectl', ['--context', values.context, 'get', 'nodes', '-o', 'jsonpath={.items[*].status.allocatable.cpu}'], { encoding: 'utf8' }).trim();
} catch {
  kindCpus = '?';
}
const report = {
  date: new Date().toISOString(),
  machine: `${cpus} cores, ${memGiB} GiB`,
  clusterAllocatableCpu: kindCpus,
  fixtures,
  runs: runs.map(({ verdicts: _v, ...r }) => r),
  verdictDifferences: differences,
};
writeFileSync(path.join(out, 'bench-batch.json'), `${JSON.stringify(report, null, 2)}\n`);
const fmt = (ms) => `${Math.floor(ms / 60000)}m${String(Math.round((ms % 60000) / 1000)).padStart(2, '0')}s`;
console.log(
  `\n${report.date.slice(0, 10)}, ${report.machine}, kind node allocatable CPU ${kindCpus}: ${fixtures.length} submissions` +
    runs.map((r) => `; concurrency ${r.concurrency}: ${fmt(r.ms)} = ${r.perHour}/hour (load ${r.loadBefore}→${r.loadAfter}, exit ${r.exitCode})`).join('') +
    `; verdicts ${differences.length === 0 ? 'identical check by check' : `DIFFER: ${differences.join('; ')}`}`,
);
process.exitCode = differences.length === 0 ? 0 : 1;
