// The Pi app in a submission: which Deployment and container run it, what command line the
// container really runs (the image's ENTRYPOINT and CMD, as Kubernetes combines them with
// command and args), which port the app listens on, and what a probe or a Service's targetPort
// reaches. Pure functions over plain object data: the static rubric and the live plan share them.
import { getPath, isRecord } from '../../submission/manifest.js';
import { APP } from './catalogue.js';
import { imageRepository } from '../../submission/image.js';

/** Any object with a kind, a name and its data (a ManifestObject, or a manifest's parts). */
export interface ObjectData {
  readonly kind: string;
  readonly name: string;
  readonly body: Record<string, unknown>;
}

export interface AppTarget<O extends ObjectData = ObjectData> {
  deployment: O;
  containerIndex: number;
  container: Record<string, unknown>;
  /** `spec.template.spec.containers.<i>` */
  containerPath: Array<string | number>;
}

export const POD_SPEC = ['spec', 'template', 'spec'] as const;

export { imageRepository } from '../../submission/image.js';

/** The tag of an image reference, `latest` when none is given; undefined for a digest. */
export function imageTag(image: string): string | undefined {
  const trimmed = image.trim();
  if (trimmed.includes('@')) return undefined;
  const lastSlash = trimmed.lastIndexOf('/');
  const colon = trimmed.lastIndexOf(':');
  return colon > lastSlash ? trimmed.slice(colon + 1) : 'latest';
}

export function containersOf(deployment: ObjectData): unknown[] {
  const containers = getPath(deployment.body, [...POD_SPEC, 'containers']);
  return Array.isArray(containers) ? containers : [];
}

const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);

/** Does this container look like the Pi app (its image, or a command line naming Pi.Web.dll)? */
export function looksLikePi(container: unknown): boolean {
  if (!isRecord(container)) return false;
  if (typeof container.image === 'string' && imageRepository(container.image).startsWith(APP.image)) return true;
  const line = [...(strings(container.command) ?? []), ...(strings(container.args) ?? [])].join(' ');
  return /pi\.web\.dll/i.test(line);
}

/**
 * The Deployment and container that run the Pi app: the first container that looks like it (a
 * Deployment named pi-web first), or else the first container of the only Deployment.
 */
export function findApp<O extends ObjectData>(objects: readonly O[]): AppTarget<O> | undefined {
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const ordered = [...deployments.filter((d) => d.name === 'pi-web'), ...deployments.filter((d) => d.name !== 'pi-web')];
  for (const deployment of ordered) {
    const index = containersOf(deployment).findIndex(looksLikePi);
    if (index >= 0) return target(deployment, index);
  }
  const only = deployments.length === 1 ? deployments[0] : undefined;
  return only && containersOf(only).length > 0 ? target(only, 0) : undefined;
}

function target<O extends ObjectData>(deployment: O, index: number): AppTarget<O> | undefined {
  const container = containersOf(deployment)[index];
  if (!isRecord(container)) return undefined;
  return { deployment, containerIndex: index, container, containerPath: [...POD_SPEC, 'containers', index] };
}

/** The command line the container runs: Kubernetes' rules for command/args over ENTRYPOINT/CMD. */
export function effectiveArgv(container: Record<string, unknown>): string[] {
  const command = strings(container.command);
  const args = strings(container.args);
  if (command && command.length > 0) return [...command, ...(args ?? [])];
  return [...APP.entrypoint, ...(args ?? APP.cmd)];
}

export interface CommandVerdict {
  ok: boolean;
  /** What the container runs, in words. */
  message: string;
  /** Which field to point at. */
  field: 'command' | 'args' | 'workingDir';
}

const SHELLS = new Set(['sh', 'ash', 'bash', 'busybox']);
const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** Whether the container's command line runs `dotnet Pi.Web.dll` in web mode. */
export function commandVerdict(container: Record<string, unknown>): CommandVerdict {
  const argv = effectiveArgv(container);
  const shown = JSON.stringify(argv);
  const field = strings(container.command)?.length ? 'command' : 'args';
  const exe = argv[0] ?? '';
  if (SHELLS.has(basename(exe)) && argv[1] === '-c' && typeof argv[2] === 'string') {
    const script = argv[2];
    const ok = /(^|[\s;&|/])dotnet\s+(\S*\/)?Pi\.Web\.dll\b/.test(script) && modeOf(script.split(/\s+/)) === 'web';
    return ok
      ? { ok, field, message: `the container runs \`${script}\` through ${basename(exe)}, which starts the Pi app in web mode` }
      : { ok, field, message: `the container runs the shell script \`${script}\`, which does not run \`dotnet Pi.Web.dll -m web\`` };
  }
  if (basename(exe) !== 'dotnet') {
    return { ok: false, field, message: `the container runs ${shown}: its executable "${exe}" is not \`dotnet\`, the program that runs the Pi app` };
  }
  const dll = argv[1] ?? '';
  if (basename(dll) !== APP.dll) {
    return { ok: false, field, message: `the container runs ${shown}: \`dotnet\` must be given the app ${APP.dll}, not "${dll}"` };
  }
  const workingDir = typeof container.workingDir === 'string' ? container.workingDir : APP.workingDir;
  if (!dll.startsWith('/') && workingDir.replace(/\/+$/, '') !== APP.workingDir) {
    return { ok: false, field: 'workingDir', message: `the container runs ${shown} from workingDir ${workingDir}, where there is no ${APP.dll} (it is in ${APP.workingDir})` };
  }
  if (dll.startsWith('/') && dll !== `${APP.workingDir}/${APP.dll}`) {
    return { ok: false, field, message: `the container runs ${shown}, but the app is ${APP.workingDir}/${APP.dll}` };
  }
  const mode = modeOf(argv.slice(2));
  if (mode !== 'web') {
    const usesImageDefault = !strings(container.command)?.length && !strings(container.args);
    return {
      ok: false,
      field,
      message: `the container runs ${shown}: the Pi app runs in ${mode ?? 'an unknown'} mode${usesImageDefault ? ' (the image\'s default)' : ''}, which prints pi and exits; \`-m web\` runs the web app`,
    };
  }
  return { ok: true, field, message: `the container runs ${shown}: the Pi app in web mode` };
}

/** The app's mode from its arguments (`-m web`, `-mode=Web`, `-m:web`); console by default. */
export function modeOf(args: readonly string[]): string | undefined {
  let mode: string | undefined = 'console';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const m = /^[-/](m|mode)(?:[=:](.*))?$/i.exec(arg);
    if (!m) continue;
    const value = m[2] ?? args[i + 1];
    mode = value?.toLowerCase();
  }
  return mode;
}

/** The port the app listens on: ASPNETCORE_URLS' port, 80 without it; undefined when it cannot be told. */
export function appPort(container: Record<string, unknown>): number | undefined {
  const env = Array.isArray(container.env) ? container.env : [];
  const urls = env.find((e) => isRecord(e) && e.name === 'ASPNETCORE_URLS');
  if (isRecord(urls)) {
    if (typeof urls.value !== 'string') return undefined;
    const first = urls.value.split(';')[0]?.trim() ?? '';
    const m = /^https?:\/\/[^/]*?(?::(\d+))?(?:\/.*)?$/i.exec(first);
    if (!m) return undefined;
    return m[1] ? Number(m[1]) : first.toLowerCase().startsWith('https') ? 443 : 80;
  }
  if (Array.isArray(container.envFrom) && container.envFrom.length > 0) return undefined;
  return APP.defaultPort;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
}

export function containerPorts(container: Record<string, unknown>): ContainerPort[] {
  const ports = Array.isArray(container.ports) ? container.ports : [];
  return ports
    .filter(isRecord)
    .filter((p) => typeof p.containerPort === 'number')
    .map((p) => ({ containerPort: p.containerPort as number, ...(typeof p.name === 'string' ? { name: p.name } : {}) }));
}

/** A port given by number or by name, as the kubelet (probes) and the EndpointSlice controller resolve it. */
export function resolvePort(container: Record<string, unknown>, port: unknown): { port?: number; words: string } {
  if (typeof port === 'number') return { port, words: `port ${port}` };
  if (typeof port === 'string' && /^\d+$/.test(port)) return { port: Number(port), words: `port ${port}` };
  if (typeof port !== 'string' || port === '') return { words: 'no port' };
  const named = containerPorts(container).find((p) => p.name === port);
  return named ? { port: named.containerPort, words: `port "${port}" (${named.containerPort})` } : { words: `port "${port}", which names no port of the container` };
}

export function describePorts(container: Record<string, unknown>): string {
  const ports = containerPorts(container);
  return ports.length ? ports.map((p) => (p.name ? `${p.name}=${p.containerPort}` : String(p.containerPort))).join(', ') : 'none';
}

/** The paths the Pi app serves (any case, optional trailing slash, any query): /, /pi, /pi/index[/id]. */
export function servesPath(path: string): boolean {
  const bare = path.split('?')[0]?.split('#')[0] ?? '';
  const segs = bare.replace(/^\/+/, '').replace(/\/$/, '').split('/');
  if (segs.length === 1 && segs[0] === '') return true;
  if (segs.some((s) => s === '') || segs.length > 3) return false;
  if (segs[0]?.toLowerCase() !== 'pi') return false;
  return segs.length < 2 || segs[1]?.toLowerCase() === 'index';
}

export interface ProbeProblem {
  probe: 'readinessProbe' | 'livenessProbe' | 'startupProbe';
  field: string;
  message: string;
}

/** What is wrong with the container's probes, judged against the port and paths the app serves. */
export function probeProblems(container: Record<string, unknown>): ProbeProblem[] {
  const listening = appPort(container);
  const out: ProbeProblem[] = [];
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
    const p = container[probe];
    if (!isRecord(p)) continue;
    const handler = isRecord(p.httpGet) ? 'httpGet' : isRecord(p.tcpSocket) ? 'tcpSocket' : isRecord(p.grpc) ? 'grpc' : undefined;
    if (!handler) continue; // exec probes: the live checks decide
    const action = p[handler] as Record<string, unknown>;
    const resolved = resolvePort(container, action.port);
    if (resolved.port === undefined) {
      out.push({ probe, field: `${handler}.port`, message: `the ${probe} asks ${resolved.words}` });
      continue;
    }
    if (listening !== undefined && resolved.port !== listening) {
      out.push({ probe, field: `${handler}.port`, message: `the ${probe} asks ${resolved.words}, but the app listens on port ${listening}` });
      continue;
    }
    if (handler === 'grpc') {
      out.push({ probe, field: 'grpc', message: `the ${probe} is a gRPC probe, but the Pi app serves HTTP` });
      continue;
    }
    if (handler === 'httpGet') {
      const path = typeof action.path === 'string' ? action.path : '/';
      if (typeof action.scheme === 'string' && action.scheme.toUpperCase() === 'HTTPS') {
        out.push({ probe, field: 'httpGet.scheme', message: `the ${probe} uses HTTPS, but the Pi app serves plain HTTP` });
      } else if (!servesPath(path)) {
        out.push({ probe, field: 'httpGet.path', message: `the ${probe} asks path ${path}, which the Pi app does not serve (it answers 404; it serves / and /pi)` });
      }
    }
  }
  return out;
}

/** The probe's period and failure threshold with Kubernetes' defaults. */
export function probeTiming(probe: unknown): { periodSeconds: number; failureThreshold: number; initialDelaySeconds: number } | undefined {
  if (!isRecord(probe)) return undefined;
  const n = (v: unknown, d: number): number => (typeof v === 'number' && v > 0 ? v : d);
  return { periodSeconds: n(probe.periodSeconds, 10), failureThreshold: n(probe.failureThreshold, 3), initialDelaySeconds: typeof probe.initialDelaySeconds === 'number' ? Math.max(0, probe.initialDelaySeconds) : 0 };
}

export function selectorMatches(selector: unknown, labels: unknown): boolean {
  if (!isRecord(selector) || Object.keys(selector).length === 0 || !isRecord(labels)) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function describeLabels(labels: unknown): string {
  return isRecord(labels) && Object.keys(labels).length ? Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`).join(',') : '(none)';
}

export interface ServicePort {
  index: number;
  name?: string;
  port?: number;
  targetPort?: unknown;
  nodePort?: number;
}

export function servicePorts(service: ObjectData): ServicePort[] {
  const ports = getPath(service.body, 'spec.ports');
  if (!Array.isArray(ports)) return [];
  return ports.flatMap((p, index) =>
    isRecord(p)
      ? [{
          index,
          ...(typeof p.name === 'string' ? { name: p.name } : {}),
          ...(typeof p.port === 'number' ? { port: p.port } : {}),
          ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
          ...(typeof p.nodePort === 'number' ? { nodePort: p.nodePort } : {}),
        }]
      : [],
  );
}

/** What a Service port's targetPort reaches in the app container (targetPort defaults to port). */
export function targetPortProblem(container: Record<string, unknown>, port: ServicePort): string | undefined {
  const target = port.targetPort ?? port.port;
  const resolved = resolvePort(container, target);
  const which = `port ${port.port ?? '?'}`;
  if (resolved.port === undefined) return `its ${which} has targetPort ${JSON.stringify(target)}, which names no port of the app container (its ports: ${describePorts(container)})`;
  const listening = appPort(container);
  if (listening !== undefined && resolved.port !== listening) return `its ${which} sends traffic to ${resolved.words} of the Pods, but the app listens on port ${listening}`;
  return undefined;
}
