// What the blue-green exercise is made of, read from object bodies alone (pure, no cluster): the
// whoami Deployments, which one is v1 and which v2, the label that tells them apart, the Services
// and the Pods they select, and the switch (objects defined again in a later file).
import { getPath, isRecord } from '../../submission/manifest.js';
import { imageRepository } from '../../submission/image.js';

export const WHOAMI_IMAGE = 'sixeyed/whoami';
export const REPLICAS_WANTED = 2;

/** An object as both the static rubric (files) and the live plan (applied bodies) see it. */
export interface Obj {
  readonly kind: string;
  readonly name: string;
  readonly body: Record<string, unknown>;
  /** Relative path of the file it was written in, when known. */
  readonly file?: string;
  readonly line?: number;
}

export type Labels = Readonly<Record<string, string>>;

/** Lexical order of relative paths (code points, not locale), then position in the file. */
export function compareSource(a: Pick<Obj, 'file' | 'line'>, b: Pick<Obj, 'file' | 'line'>): number {
  const fa = a.file ?? '';
  const fb = b.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  return (a.line ?? 0) - (b.line ?? 0);
}

export interface Definitions<T extends Obj> {
  /** The first definition of every object, in file order: applied and checked first. */
  readonly first: T[];
  /** Every later definition of an object already defined, in file order: the switch. */
  readonly later: T[];
}

/** Splits objects into first definitions and redefinitions (the lab's submission convention). */
export function splitDefinitions<T extends Obj>(objects: readonly T[]): Definitions<T> {
  const firstFile = new Map<string, string | undefined>();
  const first: T[] = [];
  const later: T[] = [];
  for (const o of [...objects].sort(compareSource)) {
    const key = `${o.kind}/${o.name}`;
    // Twice in the file that first defines it is no switch (the policy's "defined twice").
    if (firstFile.has(key) && firstFile.get(key) !== o.file) later.push(o);
    else {
      if (!firstFile.has(key)) firstFile.set(key, o.file);
      first.push(o);
    }
  }
  return { first, later };
}

export { imageRepository } from '../../submission/image.js';

export function containerImages(o: Obj): string[] {
  const containers = getPath(o.body, 'spec.template.spec.containers');
  if (!Array.isArray(containers)) return [];
  return containers.flatMap((c) => (isRecord(c) && typeof c.image === 'string' ? [c.image] : []));
}

export const runsWhoami = (o: Obj): boolean => o.kind === 'Deployment' && containerImages(o).some((i) => imageRepository(i) === WHOAMI_IMAGE);

function stringMap(value: unknown): Labels {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === undefined || v === null ? [] : [[k, String(v)]])));
}

export const templateLabels = (d: Obj): Labels => stringMap(getPath(d.body, 'spec.template.metadata.labels'));
export const serviceSelector = (s: Obj): Labels => stringMap(getPath(s.body, 'spec.selector'));

export function replicas(d: Obj): number {
  const r = getPath(d.body, 'spec.replicas');
  return typeof r === 'number' ? r : 1;
}

/** `125m` → 125, `0.5` / 0.5 → 500; undefined for anything else. */
export function cpuMilli(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(text);
  if (!m) return undefined;
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

/**
 * The Pods the Deployments start and the most CPU one of them requests (a container without a
 * request gets its limit, else `defaultMilli`, as the grading namespace's LimitRange does).
 */
export function podFootprint(deployments: readonly Obj[], defaultMilli: number): { pods: number; cpuMilli: number } {
  let pods = 0;
  let most = 0;
  for (const d of deployments) {
    pods += replicas(d);
    const containers = getPath(d.body, 'spec.template.spec.containers');
    const milli = (Array.isArray(containers) ? containers : []).reduce<number>((sum, c) => {
      const req = cpuMilli(getPath(c, 'resources.requests.cpu')) ?? cpuMilli(getPath(c, 'resources.limits.cpu')) ?? defaultMilli;
      return sum + req;
    }, 0);
    most = Math.max(most, milli);
  }
  return { pods, cpuMilli: most };
}

/** A Service selector selects Pods carrying all its labels; an empty selector selects none by itself. */
export function selects(selector: Labels, labels: Labels): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

export function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '(none)';
}

/** A label key whose value differs between the two sets of labels (`version`, then the first found). */
export function distinguishingLabel(a: Labels, b: Labels): { key: string; a: string; b: string } | undefined {
  const keys = Object.keys(a).filter((k) => k in b && a[k] !== b[k]);
  const key = keys.includes('version') ? 'version' : keys.sort()[0];
  return key === undefined ? undefined : { key, a: a[key] as string, b: b[key] as string };
}

/** Labels every Pod of a version carries with the same value (the template's, without pod-template-hash). */
export function commonLabels(podLabels: ReadonlyArray<Labels | undefined>): Labels {
  const [head, ...rest] = podLabels.map((l) => l ?? {});
  if (!head) return {};
  return Object.fromEntries(Object.entries(head).filter(([k, v]) => k !== 'pod-template-hash' && rest.every((l) => l[k] === v)));
}

const V1_TOKEN = /(^|[^a-z0-9])(v1|blue)($|[^a-z0-9])/i;
const V2_TOKEN = /(^|[^a-z0-9])(v2|green)($|[^a-z0-9])/i;

function versionToken(d: Obj): 'v1' | 'v2' | undefined {
  const words = [d.name, ...Object.values(templateLabels(d))];
  const one = words.some((w) => V1_TOKEN.test(w));
  const two = words.some((w) => V2_TOKEN.test(w));
  return one === two ? undefined : one ? 'v1' : 'v2';
}

export interface Versions<T extends Obj = Obj> {
  v1: T;
  v2: T;
  /** How v1 and v2 were told apart, for messages. */
  basis: string;
}

/**
 * Which of two whoami Deployments is v1 (live first) and which v2 (after the switch): by their
 * names and labels (v1/v2, blue/green); else v1 is the one the Services select before the switch;
 * else the one the switch moves to is v2; else the first written is v1.
 */
export function identifyVersions<T extends Obj>(deployments: readonly T[], before: readonly Obj[], after: readonly Obj[]): Versions<T> | undefined {
  if (deployments.length !== 2) return undefined;
  const [a, b] = deployments as [T, T];
  const ta = versionToken(a);
  const tb = versionToken(b);
  if (ta && tb && ta !== tb) return ta === 'v1' ? { v1: a, v2: b, basis: 'their names and labels' } : { v1: b, v2: a, basis: 'their names and labels' };
  const only = (services: readonly Obj[]): T | undefined => {
    const sa = services.some((s) => selects(serviceSelector(s), templateLabels(a)));
    const sb = services.some((s) => selects(serviceSelector(s), templateLabels(b)));
    return sa === sb ? undefined : sa ? a : b;
  };
  const live = only(before);
  if (live) return { v1: live, v2: live === a ? b : a, basis: 'the Service selecting it first' };
  const next = only(after);
  if (next) return { v1: next === a ? b : a, v2: next, basis: 'the switch selecting it' };
  return { v1: a, v2: b, basis: 'the order they are written in' };
}

/** The exercise as written: every piece the checks look at, found once. */
export interface Exercise<T extends Obj = Obj> {
  /** First definitions and the switch. */
  first: T[];
  later: T[];
  whoami: T[];
  versions?: Versions<T>;
  /** Services redefined by the switch (their first and their last definition). */
  switched: Array<{ before: T; after: T }>;
  /** The Services checked before the switch: the switched ones, else every Service selecting whoami Pods. */
  services: T[];
  /** Files in the order they are read, for messages. */
  files: string[];
}

export function readExercise<T extends Obj>(objects: readonly T[]): Exercise<T> {
  const { first, later } = splitDefinitions(objects);
  return exerciseFrom(first, later);
}

/** The exercise from definitions already split (the live plan gets them split by the engine). */
export function exerciseFrom<T extends Obj>(first: readonly T[], later: readonly T[]): Exercise<T> {
  const whoami = first.filter(runsWhoami);
  const lastOf = (s: T): T => [...later].reverse().find((o) => o.kind === s.kind && o.name === s.name) ?? s;
  const switched = first.filter((o) => o.kind === 'Service' && later.some((l) => l.kind === 'Service' && l.name === o.name)).map((s) => ({ before: s, after: lastOf(s) }));
  const selectingWhoami = first.filter((o) => o.kind === 'Service' && whoami.some((d) => selects(serviceSelector(o), templateLabels(d))));
  const services = switched.length > 0 ? switched.map((s) => s.before) : selectingWhoami;
  const versions = identifyVersions(
    whoami,
    services,
    switched.map((s) => s.after),
  );
  const files = [...new Set([...first, ...later].sort(compareSource).flatMap((o) => (o.file ? [o.file] : [])))];
  return { first: [...first], later: [...later], whoami, ...(versions ? { versions } : {}), switched, services, files };
}

/** "the Service's first definition selects Pods of …": which of v1 and v2 a selector selects. */
export function selectedVersions(selector: Labels, versions: Versions): Array<'v1' | 'v2'> {
  const out: Array<'v1' | 'v2'> = [];
  if (selects(selector, templateLabels(versions.v1))) out.push('v1');
  if (selects(selector, templateLabels(versions.v2))) out.push('v2');
  return out;
}

export function listFiles(files: readonly string[]): string {
  return files.length ? files.join(', ') : '(no files)';
}
