// A Kubernetes object read from the learner's files, with a way back to its source lines.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { SourceLocation } from '../model.js';

/** `spec.template.spec.containers.0.readinessProbe`, `containers[0].image`, or segments. */
export type FieldPath = string | readonly (string | number)[];

export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** `metadata.namespace` as the learner wrote it (policy replaces it in `body`). */
  readonly namespace?: string;
  /** The object as plain JSON data. Policy returns rewritten copies; it never mutates. */
  readonly body: Record<string, unknown>;
  /** Where the document (or the `kind: List` item) starts. */
  readonly source: SourceLocation;
  /**
   * Where a field is written. When the field is missing, the location of its deepest ancestor
   * that exists (at worst the object itself), so a finding still points somewhere useful.
   */
  locate(path: FieldPath): SourceLocation;
}

export function ref(obj: Pick<ManifestObject, 'kind' | 'name'>): string {
  return `${obj.kind}/${obj.name}`;
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  return loc.column ? `${loc.file}:${loc.line}:${loc.column}` : `${loc.file}:${loc.line}`;
}

export function parseFieldPath(path: FieldPath): Array<string | number> {
  if (typeof path !== 'string') return [...path];
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((s) => s !== '')
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Plain-data lookup along a field path; undefined when any step is missing. */
export function getPath(data: unknown, path: FieldPath): unknown {
  let current: unknown = data;
  for (const seg of parseFieldPath(path)) {
    if (Array.isArray(current) && typeof seg === 'number') current = current[seg];
    else if (isRecord(current)) current = current[String(seg)];
    else return undefined;
  }
  return current;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Builds `locate` for one object whose YAML node is `root`. */
export function makeLocator(
  file: string,
  root: Node,
  doc: Document,
  lineCounter: LineCounter,
): (path: FieldPath) => SourceLocation {
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const rootOffset = root.range?.[0] ?? 0;
  return (path) => {
    let current: unknown = root;
    let offset = rootOffset;
    for (const seg of parseFieldPath(path)) {
      if (isAlias(current)) current = current.resolve(doc);
      if (isMap(current)) {
        const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const key = pair.key as Node;
        offset = key.range?.[0] ?? offset;
        current = pair.value;
      } else if (isSeq(current) && typeof seg === 'number') {
        const item = current.items[seg];
        if (!item || typeof item !== 'object') break;
        offset = (item as Node).range?.[0] ?? offset;
        current = item;
      } else {
        break;
      }
    }
    return at(offset);
  };
}
