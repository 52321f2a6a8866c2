// readiness.probe-defined and liveness.probe-defined: a probe exists; the live checks decide
// whether it notices the app failing.
import { isRecord } from '../../../submission/manifest.js';
import { containerLabel, fail, locateInContainer, noApp, pass, type RubricContext, type StaticCheck, type Verdict } from './context.js';

const HANDLERS = ['httpGet', 'tcpSocket', 'exec', 'grpc'] as const;

function probeDefined(ctx: RubricContext, field: 'readinessProbe' | 'livenessProbe'): Verdict {
  const container = ctx.container;
  if (!container) return noApp(ctx);
  const probe = container.data[field];
  if (!isRecord(probe)) return fail(`${containerLabel(ctx)} has no ${field}`, locateInContainer(ctx, []));
  const handlers = HANDLERS.filter((h) => probe[h] !== undefined);
  const handler = handlers[0];
  if (!handler) {
    return fail(
      `the ${field} of ${containerLabel(ctx)} has no handler (httpGet, tcpSocket, exec or grpc)`,
      locateInContainer(ctx, [field]),
    );
  }
  return pass(`${containerLabel(ctx)} has a ${field}: ${describeProbe(probe, handler, container.data)}`, locateInContainer(ctx, [field]));
}

export function describeProbe(probe: Record<string, unknown>, handler: (typeof HANDLERS)[number], container: Record<string, unknown>): string {
  const action = probe[handler];
  let what: string = handler;
  if (isRecord(action)) {
    if (handler === 'httpGet') what = `httpGet ${typeof action.path === 'string' ? action.path : '/'} on port ${String(action.port)}`;
    else if (handler === 'tcpSocket' || handler === 'grpc') what = `${handler} on port ${String(action.port)}`;
    else if (handler === 'exec' && Array.isArray(action.command)) what = `exec ${action.command.map(String).join(' ')}`;
    const port = action.port;
    if (typeof port === 'string' && !declaresPort(container, port)) {
      what += ` (the container declares no port named "${port}")`;
    }
  }
  const period = typeof probe.periodSeconds === 'number' ? probe.periodSeconds : 10;
  const threshold = typeof probe.failureThreshold === 'number' ? probe.failureThreshold : 3;
  return `${what}, every ${period}s, failure threshold ${threshold}`;
}

function declaresPort(container: Record<string, unknown>, name: string): boolean {
  return Array.isArray(container.ports) && container.ports.some((p) => isRecord(p) && p.name === name);
}

export const readinessProbeDefined: StaticCheck = (ctx) => probeDefined(ctx, 'readinessProbe');
export const livenessProbeDefined: StaticCheck = (ctx) => probeDefined(ctx, 'livenessProbe');
