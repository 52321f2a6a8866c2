#!/usr/bin/env node
// Enforces the one-way data flow of design.md over every folder of src/:
//   cli.ts → batch, selfcheck → labs/<id> → engine → report, cluster, faults → kube → wait,
//   submission, lab (check definitions) → util, model.ts
// (each folder may import only the folders listed for it below; an unknown folder is an error),
// that a lab never imports another lab, and that nothing outside src/labs/<id>/ names a lab: its
// id as a string or an import path, or one of the images its folder names. The registry
// src/labs/index.ts is the one exception. Tests (*.test.ts) are not checked.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Which top-level folders (and root files, by name without .ts) each one may import. */
export const ALLOWED = {
  model: [],
  util: ['model'],
  lab: ['model', 'submission'],
  wait: ['model', 'util'],
  submission: ['model', 'util'],
  kube: ['model', 'util', 'wait'],
  faults: ['model', 'util', 'wait', 'kube'],
  cluster: ['model', 'util', 'wait', 'kube'],
  report: ['model', 'util', 'lab'],
  engine: ['model', 'util', 'wait', 'kube', 'faults', 'cluster', 'submission', 'report', 'lab'],
  labs: ['model', 'util', 'wait', 'kube', 'faults', 'cluster', 'submission', 'report', 'lab', 'engine'],
  selfcheck: ['model', 'util', 'wait', 'kube', 'faults', 'cluster', 'submission', 'report', 'lab', 'engine', 'labs'],
  batch: ['model', 'util', 'wait', 'kube', 'faults', 'cluster', 'submission', 'report', 'lab', 'engine', 'labs'],
  cli: ['model', 'util', 'wait', 'kube', 'faults', 'cluster', 'submission', 'report', 'lab', 'engine', 'labs', 'selfcheck', 'batch'],
};
/** Packages only the layers that talk to a cluster may load. */
const CLUSTER_PACKAGES = ['@kubernetes/client-node'];
const NO_CLUSTER = ['model', 'util', 'lab', 'wait', 'submission', 'report'];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) yield p;
  }
}

/** The layer of a path relative to src/: its first folder, or a root file's name. */
function layerOf(rel) {
  const parts = rel.split('/');
  return parts.length === 1 ? parts[0].replace(/\.(ts|js)$/, '') : parts[0];
}

/** The lab folder (`labs/<id>`) a path relative to src/ is in, if any. */
function labOf(rel) {
  const m = /^labs\/([^/]+)\//.exec(rel);
  return m ? m[1] : undefined;
}

/** String literals of a source text, with their offsets (quotes and plain template literals). */
function* stringLiterals(text) {
  for (const m of text.matchAll(/(['"`])((?:\\.|(?!\1)[^\\\n])*)\1/g)) yield { value: m[2], index: m.index };
}

const IMAGE = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)+(:[A-Za-z0-9._-]+)?$/;
/** Image repositories a lab's folder names (`org/name[:tag]`), leaving out API versions and file paths. */
function imagesNamedIn(labDir) {
  const images = new Set();
  for (const file of files(labDir)) {
    for (const { value } of stringLiterals(readFileSync(file, 'utf8'))) {
      if (!IMAGE.test(value) || value.startsWith('.')) continue;
      const repo = value.replace(/:[^/:]*$/, '');
      if (/\/v\d+((alpha|beta)\d+)?$/.test(repo)) continue; // apps/v1, autoscaling/v2
      if (/\.(ts|js|mjs|json|ya?ml|md|txt|sh)$/.test(repo)) continue;
      images.add(repo);
    }
  }
  return images;
}

export function checkLayers(root) {
  const problems = [];
  const labsDir = join(root, 'labs');
  const labIds = readdirSync(labsDir).filter((n) => statSync(join(labsDir, n)).isDirectory());
  const images = new Map(labIds.map((id) => [id, imagesNamedIn(join(labsDir, id))]));
  // An image two labs both run belongs to neither alone: only names one lab owns are checked.
  const owner = new Map();
  for (const [id, set] of images) for (const image of set) owner.set(image, owner.has(image) ? null : id);

  for (const entry of readdirSync(root)) {
    const layer = entry.replace(/\.ts$/, '');
    if (entry.endsWith('.test.ts')) continue;
    if (!(layer in ALLOWED)) problems.push(`src/${entry}: a folder the layer rules do not know; add it to ALLOWED in scripts/check-layers.mjs`);
  }

  for (const file of files(root)) {
    const rel = relative(root, file);
    const layer = layerOf(rel);
    const allowed = ALLOWED[layer];
    if (!allowed) continue; // reported above
    const text = readFileSync(file, 'utf8');
    const lineOf = (index) => text.slice(0, index).split('\n').length;
    const where = (index) => `${relative(process.cwd(), file)}:${lineOf(index)}`;
    const ownLab = labOf(rel);
    const isRegistry = rel === 'labs/index.ts';

    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      if (spec.startsWith('.')) {
        const targetRel = relative(root, resolve(dirname(file), spec));
        if (targetRel.startsWith('..')) continue; // outside src (e.g. package.json)
        const target = layerOf(targetRel);
        const targetLab = labOf(targetRel);
        if (target !== layer && !allowed.includes(target)) problems.push(`${where(m.index)}: src/${layer} must not import ${spec} (src/${target})`);
        if (targetLab && ownLab && targetLab !== ownLab) problems.push(`${where(m.index)}: lab ${ownLab} must not import another lab's ${spec}`);
        if (targetLab && !ownLab && !isRegistry && layer !== 'labs') problems.push(`${where(m.index)}: only src/labs/index.ts may import a lab (${spec})`);
      } else if (NO_CLUSTER.includes(layer) && CLUSTER_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))) {
        if (!/^\s*import\s+type\b/.test(text.slice(text.lastIndexOf('\n', m.index) + 1, m.index + m[0].length))) {
          problems.push(`${where(m.index)}: src/${layer} must not load ${spec} (it does not talk to a cluster)`);
        }
      }
    }

    if (ownLab || isRegistry) continue;
    for (const { value, index } of stringLiterals(text)) {
      for (const id of labIds) {
        if (value === id || new RegExp(`(^|/)labs/${id}(/|$)`).test(value)) problems.push(`${where(index)}: names lab ${id} (${JSON.stringify(value)}); only src/labs/${id}/ and src/labs/index.ts may`);
      }
      const repo = IMAGE.test(value) ? value.replace(/:[^/:]*$/, '') : undefined;
      const lab = repo ? owner.get(repo) : undefined;
      if (lab) problems.push(`${where(index)}: names lab ${lab}'s image ${value}; keep it in src/labs/${lab}/`);
    }
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const problems = checkLayers(root);
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log('layers ok');
}
