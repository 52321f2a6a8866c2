#!/usr/bin/env node
// Enforces the one-way data flow of design.md: which src/ folders may import which.
// Reporters never talk to the cluster; pure layers (submission, rubric, lab, report) never
// import the cluster client.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const CLUSTER_MODULES = ['kube', 'cluster', 'faults', 'scenarios', 'grade', 'selfcheck'];
const FORBIDDEN = {
  report: [...CLUSTER_MODULES, '@kubernetes/client-node'],
  rubric: [...CLUSTER_MODULES, 'report', '@kubernetes/client-node'],
  submission: [...CLUSTER_MODULES, 'report', 'rubric', '@kubernetes/client-node'],
  lab: [...CLUSTER_MODULES, 'report', '@kubernetes/client-node'],
  wait: [...CLUSTER_MODULES, 'report', '@kubernetes/client-node'],
  kube: ['report', 'rubric', 'submission', 'scenarios', 'grade', 'selfcheck', 'cli'],
};

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) yield p;
  }
}

const problems = [];
for (const file of files(root)) {
  const layer = relative(root, file).split('/')[0];
  const banned = FORBIDDEN[layer];
  if (!banned) continue;
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
    const spec = m[1];
    let target = spec;
    if (spec.startsWith('.')) target = relative(root, resolve(dirname(file), spec)).split('/')[0].replace(/\.js$/, '');
    if (banned.includes(target)) {
      const line = text.slice(0, m.index).split('\n').length;
      problems.push(`${relative(process.cwd(), file)}:${line}: src/${layer} must not import ${spec}`);
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('layers ok');
