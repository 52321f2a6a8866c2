// The Service checks, once the app's Pod is Ready: each Service selects it, its targetPort reaches
// the port the app listens on, and the Pi page answers through it on port 8020 (through the API
// server's service proxy: no NodePort needed, traffic only to the run's namespace).
import type * as k8s from '@kubernetes/client-node';
import { CheckFailed } from '../../engine/outcomes.js';
import type { LiveRun } from '../../engine/lab.js';
import { serviceEndpoints } from '../../kube/endpoints.js';
import { proxyRequest } from '../../kube/http.js';
import { getPath, isRecord } from '../../submission/manifest.js';
import { describeLabels, selectorMatches, servicePorts, type AppTarget, type ObjectData } from './app.js';
import { APP, SERVICE_CHECKS, TIMING, type LiveCheckId } from './catalogue.js';

type Run = LiveRun<LiveCheckId>;

export async function serviceChecks(run: Run, app: AppTarget, services: readonly ObjectData[], pod: k8s.V1Pod): Promise<void> {
  const podName = pod.metadata?.name ?? '?';
  // The template's labels, as the learner wrote them (without the pod-template-hash Kubernetes adds).
  const podLabels = Object.fromEntries(Object.entries(pod.metadata?.labels ?? {}).filter(([k]) => k !== 'pod-template-hash'));
  if (services.length === 0) {
    await run.checks.block([...SERVICE_CHECKS], 'failed', 'not tested: the specs create no Service for the app', { hint: `Expose the app with a Service on port ${APP.servicePort} (NodePort ${APP.nodePort}), as the lab's specs do.` });
    return;
  }
  const withEndpoints: ObjectData[] = [];
  await run.checks.run('service.selects-pods', async () => {
    const missing: string[] = [];
    for (const svc of services) {
      const selector = getPath(svc.body, 'spec.selector');
      if (!selectorMatches(selector, podLabels)) {
        missing.push(`Service ${svc.name} selects ${describeLabels(selector)}, but the app's Pods are labelled ${describeLabels(podLabels)}: it has no endpoints`);
        continue;
      }
      try {
        await run.wait(
          async () => {
            const eps = await serviceEndpoints(run.kube, run.namespace, svc.name);
            const ready = eps.filter((e) => e.ready && e.pod === podName);
            return { done: ready.length > 0, observed: eps.length ? eps.map((e) => `${e.pod ?? e.address}${e.ready ? '' : ' (not ready)'}`).join(', ') : 'no endpoints' };
          },
          { description: `Service ${svc.name} lists Pod ${podName} as a ready endpoint`, timeoutMs: TIMING.endpointsMs, intervalsMs: [500, 1000] },
        );
        withEndpoints.push(svc);
      } catch (error) {
        missing.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (missing.length > 0) {
      const first = services.find((s) => !withEndpoints.includes(s));
      const location = first ? run.locate('Service', first.name, 'spec.selector') : undefined;
      throw new CheckFailed(missing.join('; '), { diagnostics: true, ...(location ? { location } : {}) });
    }
    return `${services.map((s) => `Service ${s.name}`).join(' and ')} list${services.length === 1 ? 's' : ''} Pod ${podName} as a ready endpoint`;
  });

  if (withEndpoints.length === 0) {
    await run.checks.block(['service.target-port', 'service.answers'], 'failed', 'not tested: no Service selects the app\'s Pods (see service.selects-pods)');
    return;
  }
  await run.checks.run('service.target-port', async () => {
    const problems: string[] = [];
    const fine: string[] = [];
    let location: ReturnType<Run['locate']>;
    for (const svc of withEndpoints) {
      const slices = await run.api(`list the EndpointSlices of Service ${svc.name}`, () =>
        run.kube.discovery.listNamespacedEndpointSlice({ namespace: run.namespace, labelSelector: `kubernetes.io/service-name=${svc.name}` }),
      );
      for (const port of servicePorts(svc)) {
        const target = port.targetPort ?? port.port;
        const resolved = slices.items.flatMap((s) => (s.endpoints ?? []).some((e) => e.targetRef?.name === podName) ? (s.ports ?? []) : []).find((p) => (p.name ?? '') === (port.name ?? ''));
        if (resolved?.port === undefined) {
          problems.push(`Service ${svc.name} port ${port.port}: targetPort ${JSON.stringify(target)} names no port of the app's container, so the Service has nowhere to send traffic (container ports: ${describeContainerPorts(pod, app)})`);
          location ??= run.locate('Service', svc.name, `spec.ports.${port.index}.targetPort`);
          continue;
        }
        const answer = await run.api(`GET / on port ${resolved.port} of Pod ${podName}`, () =>
          proxyRequest(run.kube, { namespace: run.namespace, kind: 'pods', name: podName, port: resolved.port as number }, '/', { timeoutMs: 10_000, signal: run.signal }),
        );
        if (answer.fromApiServer) {
          problems.push(`Service ${svc.name} port ${port.port} sends traffic to port ${resolved.port} of the Pods (targetPort ${JSON.stringify(target)}), where the app does not answer (${firstLine(answer.body)}); the app listens on port ${listeningPort(app)}`);
          location ??= run.locate('Service', svc.name, `spec.ports.${port.index}.targetPort`);
        } else {
          fine.push(`Service ${svc.name} port ${port.port} → Pod port ${resolved.port}`);
        }
      }
    }
    if (problems.length > 0) throw new CheckFailed(problems.join('; '), { diagnostics: true, ...(location ? { location } : {}) });
    return `${fine.join(', ')}: the app answers there`;
  });

  await run.checks.run('service.answers', async () => {
    const on8020 = withEndpoints.filter((s) => servicePorts(s).some((p) => p.port === APP.servicePort));
    if (on8020.length === 0) {
      const location = run.locate('Service', services[0]?.name ?? '', 'spec.ports');
      throw new CheckFailed(`no Service that selects the app's Pods listens on port ${APP.servicePort} (${services.map((s) => `${s.name}: ${servicePorts(s).map((p) => p.port).join(', ')}`).join('; ')})`, location ? { location } : {});
    }
    const answered: string[] = [];
    // A Service already known to send its traffic nowhere gets a short wait only.
    const quick = run.checks.status('service.target-port') === 'failed';
    for (const svc of on8020) {
      let last = '';
      try {
        await run.wait(
          async (signal) => {
            const r = await proxyRequest(run.kube, { namespace: run.namespace, kind: 'services', name: svc.name, port: APP.servicePort }, '/', { timeoutMs: 10_000, signal });
            last = r.fromApiServer ? `the API server answered ${r.status}: ${firstLine(r.body)}` : `HTTP ${r.status}${isPiPage(r.body) ? ', the Pi page' : `: ${firstLine(r.body) || '(empty body)'}`}`;
            return { done: !r.fromApiServer && r.status === 200 && isPiPage(r.body), observed: last };
          },
          { description: `the Pi page answers through Service ${svc.name} on port ${APP.servicePort}`, timeoutMs: quick ? 5_000 : TIMING.answerMs, intervalsMs: [500, 1000, 2000] },
        );
        answered.push(svc.name);
      } catch (error) {
        throw new CheckFailed(`GET / through Service ${svc.name} on port ${APP.servicePort} did not return the Pi page: ${last || (error instanceof Error ? error.message : String(error))}`, { diagnostics: true });
      }
    }
    return `GET / through ${answered.map((s) => `Service ${s}`).join(' and ')} on port ${APP.servicePort} returns the Pi page (pi to 6 decimal places: 3.141592)`;
  });
}

/** The Pi app's page: "To: 6 d.p." and the value truncated to 6 decimals. */
export function isPiPage(body: string): boolean {
  return /To:\s*6\s*d\.p\./.test(body) && body.includes('3.141592');
}

function listeningPort(app: AppTarget): string {
  const env = Array.isArray(app.container.env) ? app.container.env : [];
  const urls = env.find((e) => isRecord(e) && e.name === 'ASPNETCORE_URLS');
  return isRecord(urls) && typeof urls.value === 'string' ? `of ASPNETCORE_URLS (${urls.value})` : String(APP.defaultPort);
}

function describeContainerPorts(pod: k8s.V1Pod, app: AppTarget): string {
  const c = pod.spec?.containers.find((x) => x.name === app.container.name) ?? pod.spec?.containers[0];
  const ports = c?.ports ?? [];
  return ports.length ? ports.map((p) => (p.name ? `${p.name}=${p.containerPort}` : String(p.containerPort))).join(', ') : 'none';
}

function firstLine(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed.message) return parsed.message;
  } catch {
    // not JSON
  }
  return text.split('\n')[0]?.trim().slice(0, 200) ?? '';
}
