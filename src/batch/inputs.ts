// Which submissions a batch grades: every subfolder of a class folder, or the paths listed in a
// CSV/list file (one per line; the first column of a CSV; relative paths are relative to the
// list's folder; `#` comments and a `path`/`submission` header are ignored). Problems with a
// single submission (unreadable, no manifests, a name already taken) never stop the batch: they
// are reported per submission.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_EXTENSIONS } from '../submission/load.js';
import { UsageError } from '../model.js';

export interface BatchInput {
  /** Unique folder name for this submission's reports under --out. */
  name: string;
  /** The submission folder as given (resolved against the list file for a list). */
  dir: string;
  /** Set when the submission cannot be graded at all (the batch reports it, exit 2). */
  problem?: string;
  /** Worth telling the user, but grading goes ahead (no manifests: grade reports exit 2 itself). */
  warning?: string;
}

export async function discoverSubmissions(source: string): Promise<{ inputs: BatchInput[]; notes: string[] }> {
  const info = await stat(source).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`batch source not found or unreadable: ${source} (${err.code ?? err.message})`);
  });
  const notes: string[] = [];
  let dirs: string[];
  if (info.isDirectory()) {
    let names: string[];
    try {
      names = (await readdir(source, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
    } catch (err) {
      throw new UsageError(`cannot read the batch folder ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    dirs = names.sort().map((n) => path.join(source, n));
  } else {
    dirs = parseList(await readFile(source, 'utf8'), source);
  }
  const inputs: BatchInput[] = [];
  const seenPaths = new Map<string, string>();
  const taken = new Set<string>();
  for (const dir of dirs) {
    const resolved = path.resolve(dir);
    const first = seenPaths.get(resolved);
    if (first !== undefined) {
      notes.push(`${dir}: listed twice (same folder as ${first}); graded once`);
      continue;
    }
    seenPaths.set(resolved, dir);
    const base = safeName(path.basename(resolved));
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
    taken.add(name);
    const input: BatchInput = { name, dir };
    if (name !== base) input.warning = `another submission is also named "${base}": reports go to ${name}/`;
    const problem = await checkFolder(dir);
    if (problem?.fatal) input.problem = problem.message;
    else if (problem) input.warning = [input.warning, problem.message].filter(Boolean).join('; ');
    inputs.push(input);
  }
  return { inputs, notes };
}

/** Paths from a list file: one per line, or the first column of a CSV. */
export function parseList(text: string, listFile: string): string[] {
  const base = path.dirname(listFile);
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let first = line;
    const quoted = /^"((?:[^"]|"")*)"/.exec(line);
    if (quoted) first = (quoted[1] ?? '').replace(/""/g, '"');
    else if (line.includes(',')) first = line.slice(0, line.indexOf(',')).trim();
    if (i === 0 && /^(path|submission|dir|folder)$/i.test(first)) return;
    if (!first) return;
    out.push(path.isAbsolute(first) ? first : path.join(base, first));
  });
  return out;
}

/** A folder name that is safe as a path segment under --out. */
export function safeName(base: string): string {
  const s = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return s || 'submission';
}

async function checkFolder(dir: string): Promise<{ message: string; fatal: boolean } | undefined> {
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    return { fatal: true, message: `${dir}: ${(info as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : `cannot read it (${(info as NodeJS.ErrnoException).code ?? info.message})`}` };
  }
  if (!info.isDirectory()) return { fatal: true, message: `${dir}: not a folder` };
  let found = false;
  try {
    found = await hasManifest(dir, 3);
  } catch (err) {
    return { fatal: true, message: `${dir}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  if (!found) return { fatal: false, message: `${dir}: no .yaml, .yml or .json file: not a submission (it is graded as ungradable)` };
  return undefined;
}

async function hasManifest(dir: string, depth: number): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && MANIFEST_EXTENSIONS.includes(path.extname(e.name).toLowerCase()))) return true;
  if (depth <= 0) return false;
  for (const e of entries) {
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules' && (await hasManifest(path.join(dir, e.name), depth - 1).catch(() => false))) return true;
  }
  return false;
}
