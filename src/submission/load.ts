// Reads a submission directory into Kubernetes objects that remember where they were written.
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { SubmissionError, UsageError, type SourceLocation } from '../model.js';
import { formatLocation, isRecord, makeLocator, type ManifestObject } from './manifest.js';
import { errorText } from '../util/error-text.js';

export const MAX_FILE_BYTES = 1024 * 1024;
export const MANIFEST_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];
/** Problems listed in one SubmissionError; the rest are counted. */
const MAX_LISTED_PROBLEMS = 10;

export interface Submission {
  /** The directory as given (reports and annotations show it). */
  dir: string;
  /** Manifest files read, relative to `dir`, in reading order. */
  files: string[];
  objects: ManifestObject[];
  /** Things the learner should know that do not stop grading (ignored files…). */
  notes: string[];
}

interface Problem {
  location?: SourceLocation;
  message: string;
}

export async function loadSubmission(dir: string): Promise<Submission> {
  const root = path.resolve(dir);
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat) throw new UsageError(`submission directory not found: ${dir}`);
  if (!rootStat.isDirectory()) throw new UsageError(`submission path is not a directory: ${dir}`);

  const walk = await listFiles(root);
  const problems: Problem[] = [];
  const objects: ManifestObject[] = [];
  const files: string[] = [];
  const notManifests: string[] = [];
  for (const file of walk.manifests) {
    const parsed = await readManifestFile(root, file);
    if (parsed.notManifest) {
      notManifests.push(file);
      continue;
    }
    files.push(file);
    problems.push(...parsed.problems);
    objects.push(...parsed.objects);
  }

  const notes: string[] = [];
  if (walk.ignored.length > 0) {
    notes.push(
      `Ignored ${plural(walk.ignored.length, 'file')} that ${walk.ignored.length === 1 ? 'is' : 'are'} not .yaml, .yml or .json: ${listSome(walk.ignored)}`,
    );
  }
  if (notManifests.length > 0) {
    notes.push(`Ignored JSON files that are not Kubernetes objects (no apiVersion or kind): ${listSome(notManifests)}`);
  }
  if (walk.hidden.length > 0) notes.push(`Ignored hidden entries: ${listSome(walk.hidden)}`);
  if (walk.links.length > 0) {
    notes.push(`Ignored symbolic links to directories or to files outside the submission: ${listSome(walk.links)}`);
  }

  if (problems.length > 0) throw submissionError(problems);
  if (objects.length === 0) {
    const seen = files.length > 0 ? ` (${listSome(files)} held no objects)` : '';
    const skipped = [...walk.ignored, ...notManifests];
    const ignored = skipped.length > 0 ? `; ignored: ${listSome(skipped)}` : '';
    throw new SubmissionError(
      `no Kubernetes manifests found in ${dir}: expected .yaml, .yml or .json files with at least one object${seen}${ignored}`,
    );
  }
  return { dir, files, objects, notes };
}

/**
 * The raw text of the manifest files (each cut at MAX_FILE_BYTES), for telling which lab files
 * that do not parse are meant for. Unreadable files are left out.
 */
export async function manifestTexts(dir: string): Promise<string> {
  const root = path.resolve(dir);
  const walk = await listFiles(root).catch(() => undefined);
  const texts: string[] = [];
  for (const file of walk?.manifests ?? []) {
    const text = await readFile(path.join(root, file), 'utf8').catch(() => '');
    texts.push(text.slice(0, MAX_FILE_BYTES));
  }
  return texts.join('\n');
}

function submissionError(problems: Problem[]): SubmissionError {
  const lines = problems.slice(0, MAX_LISTED_PROBLEMS).map(formatProblem);
  if (problems.length > MAX_LISTED_PROBLEMS) lines.push(`…and ${problems.length - MAX_LISTED_PROBLEMS} more`);
  return new SubmissionError(lines.join('\n'), problems[0]?.location);
}

export function formatProblem(p: Problem): string {
  return p.location ? `${formatLocation(p.location)}: ${p.message}` : p.message;
}

interface Walk {
  manifests: string[];
  ignored: string[];
  hidden: string[];
  links: string[];
}

/** Relative posix paths, sorted by code unit at each level so the order never depends on the OS. */
async function listFiles(root: string): Promise<Walk> {
  const out: Walk = { manifests: [], ignored: [], hidden: [], links: [] };
  const realRoot = await realpath(root);
  const visit = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    const names = entries.map((e) => e.name).sort(compareCodeUnits);
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, relPath);
      // Hidden entries are tooling (.git, .github workflows are YAML but not manifests).
      if (name.startsWith('.')) {
        out.hidden.push(relPath);
        continue;
      }
      const info = await lstat(abs);
      if (info.isDirectory()) {
        await visit(relPath);
        continue;
      }
      let isFile = info.isFile();
      if (info.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => undefined);
        const targetStat = target ? await stat(target).catch(() => undefined) : undefined;
        const inside = target !== undefined && (target + path.sep).startsWith(realRoot + path.sep);
        if (!targetStat?.isFile() || !inside) {
          out.links.push(relPath);
          continue;
        }
        isFile = true;
      }
      if (!isFile) continue;
      if (MANIFEST_EXTENSIONS.includes(path.extname(name).toLowerCase())) out.manifests.push(relPath);
      else out.ignored.push(relPath);
    }
  };
  await visit('');
  return out;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface ParsedFile {
  objects: ManifestObject[];
  problems: Problem[];
  /** A JSON file that is some other tool's data (no apiVersion and no kind): skipped. */
  notManifest?: boolean;
}

async function readManifestFile(root: string, file: string): Promise<ParsedFile> {
  const abs = path.join(root, file);
  const size = (await stat(abs)).size;
  if (size > MAX_FILE_BYTES) {
    return {
      objects: [],
      problems: [
        {
          location: { file, line: 1 },
          message: `file is ${formatBytes(size)}, larger than the ${formatBytes(MAX_FILE_BYTES)} limit for a manifest file`,
        },
      ],
    };
  }
  const bytes = await readFile(abs);
  const text = decodeText(bytes);
  if (typeof text !== 'string') return { objects: [], problems: [{ location: { file, line: 1 }, message: text.error }] };
  return parseManifests(file, text);
}

function decodeText(bytes: Buffer): string | { error: string } {
  if (bytes.includes(0)) {
    return { error: 'binary file (it contains NUL bytes): manifests must be UTF-8 text; UTF-16 files must be saved as UTF-8' };
  }
  try {
    // The decoder drops a UTF-8 byte-order mark.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { error: 'not valid UTF-8 text: save the file as UTF-8' };
  }
}

/** Parses the text of one file; exported for tests and for the lab's own specs. */
export function parseManifests(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  // Kubernetes reads YAML with YAML 1.1 rules (yes/no/on/off are booleans, 0644 is octal).
  const version = file.toLowerCase().endsWith('.json') ? '1.2' : '1.1';
  const docs = parseAllDocuments(text, { lineCounter, version, prettyErrors: false, uniqueKeys: true });
  const objects: ManifestObject[] = [];
  const problems: Problem[] = [];
  const locationAt = (offset: number): SourceLocation => {
    // Errors often start at a line's indentation; point at the text instead. An error found at
    // the end of the file (an unclosed quote or bracket) points at the last line with text.
    let at = offset;
    while (text[at] === ' ' || text[at] === '\t') at++;
    if (at >= text.length) {
      at = text.length - 1;
      while (at > 0 && /\s/.test(text[at] ?? '')) at--;
      at = text.lastIndexOf('\n', at) + 1;
    }
    const { line, col } = lineCounter.linePos(at);
    return { file, line, column: col };
  };

  const isJson = version === '1.2';
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        problems.push({ location: locationAt(err.pos[0]), message: `YAML syntax error: ${firstLine(err.message)}` });
      }
      continue;
    }
    const contents = doc.contents as Node | null;
    if (contents === null || (isScalar(contents) && contents.value === null)) continue; // `---` only
    const start = locationAt(contents.range?.[0] ?? 0);
    if (!isMap(contents)) {
      const found = isSeq(contents) ? 'a list' : 'a plain value';
      problems.push({
        location: start,
        message: `document is ${found}, not a mapping: each YAML document must be one Kubernetes object`,
      });
      continue;
    }
    if (isJson && docs.length === 1 && !contents.has('apiVersion') && !contents.has('kind')) {
      return { objects, problems, notManifest: true };
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      problems.push({ location: start, message: `cannot read document: ${firstLine(errorMessage(err))}` });
      continue;
    }
    collectObjects(file, doc, contents, data, lineCounter, objects, problems);
  }
  return { objects, problems };
}

function collectObjects(
  file: string,
  doc: Document,
  node: Node,
  data: unknown,
  lineCounter: LineCounter,
  objects: ManifestObject[],
  problems: Problem[],
): void {
  const locate = makeLocator(file, node, doc, lineCounter);
  const source = locate([]);
  if (!isRecord(data)) {
    problems.push({ location: source, message: 'item is not a mapping: each item must be one Kubernetes object' });
    return;
  }
  const { apiVersion, kind } = data;
  const missing: string[] = [];
  if (typeof apiVersion !== 'string' || apiVersion === '') missing.push('apiVersion');
  if (typeof kind !== 'string' || kind === '') missing.push('kind');

  // `kind: List` (and typed lists such as ServiceList) carry their objects in `items`.
  if (typeof kind === 'string' && kind.endsWith('List') && 'items' in data) {
    const items = data.items;
    const itemsNode = isMap(node) ? node.get('items', true) : undefined;
    if (items === null || items === undefined) return;
    if (!Array.isArray(items) || !isSeq(itemsNode)) {
      problems.push({ location: locate('items'), message: `${kind}: items must be a list of objects` });
      return;
    }
    items.forEach((item, i) => {
      const itemNode = itemsNode.items[i];
      if (itemNode && typeof itemNode === 'object' && 'range' in itemNode) {
        collectObjects(file, doc, itemNode as Node, item, lineCounter, objects, problems);
      }
    });
    return;
  }

  const metadata = data.metadata;
  const name = isRecord(metadata) ? metadata.name : undefined;
  if (typeof name !== 'string' || name === '') missing.push('metadata.name');
  if (missing.length > 0) {
    const what = typeof kind === 'string' && kind !== '' ? `${kind} object` : 'object';
    const hint =
      isRecord(metadata) && typeof metadata.generateName === 'string'
        ? ' (generateName cannot be applied: give the object a name)'
        : '';
    problems.push({
      location: source,
      message: `${what} has no ${missing.join(', ')}: every object needs apiVersion, kind and metadata.name${hint}`,
    });
    return;
  }
  const namespace = isRecord(metadata) && typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
  objects.push({
    apiVersion: apiVersion as string,
    kind: kind as string,
    name: name as string,
    ...(namespace !== undefined ? { namespace } : {}),
    body: data,
    source,
    locate,
  });
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? text;
}

function errorMessage(err: unknown): string {
  return errorText(err);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${n} bytes`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function listSome(items: readonly string[], max = 10): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
