// The static checks: what the files already show before anything runs. Each one judges the same
// thing its live counterpart proves (image, command, probe ports and paths, Service ports), so a
// static verdict never contradicts the live one.
import type { StaticRubric, Verdict } from '../../engine/lab.js';
import type { Submission } from '../../submission/load.js';
import { getPath, ref, type ManifestObject } from '../../submission/manifest.js';
import { commandVerdict, findApp, imageRepository, imageTag, probeProblems, servicePorts, targetPortProblem, type AppTarget } from './app.js';
import { APP, type StaticCheckId } from './catalogue.js';

export interface RubricContext {
  submission: Submission;
  /** The app's Deployment and container among the policy-checked objects. */
  app?: AppTarget<ManifestObject>;
  /** Services as the learner wrote them (type and nodePort intact). */
  writtenServices: ManifestObject[];
  services: ManifestObject[];
}

const pass = (message: string): Verdict => ({ passed: true, message });
const fail = (message: string, location?: Verdict['location']): Verdict => ({ passed: false, message, ...(location ? { location } : {}) });

const NO_APP = `no Deployment in the specs runs the Pi app (image ${APP.image})`;

export const rubric: StaticRubric<StaticCheckId, RubricContext> = {
  context(submission, written) {
    const app = findApp(submission.objects);
    return {
      submission,
      ...(app ? { app } : {}),
      writtenServices: written.filter((o) => o.kind === 'Service'),
      services: submission.objects.filter((o) => o.kind === 'Service'),
    };
  },
  checks: {
    'submission.parses': ({ submission }) => {
      const n = submission.objects.length;
      const files = submission.files.length;
      return n > 0 ? pass(`${n} object${n === 1 ? '' : 's'} read from ${files} file${files === 1 ? '' : 's'}`) : fail('the submission holds no Kubernetes objects');
    },
    'submission.allowed-objects': ({ submission }) => {
      const counts = new Map<string, number>();
      for (const o of submission.objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
      return pass(`every object is of an allowed kind: ${[...counts].map(([kind, n]) => `${n} ${kind}${n === 1 ? '' : 's'}`).join(', ')}`);
    },

    'pods.image': ({ app }) => {
      if (!app) return fail(NO_APP);
      const image = app.container.image;
      const at = app.deployment.locate([...app.containerPath, 'image']);
      if (typeof image !== 'string' || image.trim() === '') return fail(`the container of ${ref(app.deployment)} has no image`, at);
      const repo = imageRepository(image);
      if (repo !== APP.image) return fail(`${ref(app.deployment)} runs the image "${image}", which is not the Pi app's image ${APP.image}: Kubernetes cannot pull an image of that name`, at);
      const tag = imageTag(image);
      if (tag !== undefined && tag !== 'latest') return fail(`${ref(app.deployment)} runs "${image}": the lab runs ${APP.image} (tag latest), not the tag ${tag}`, at);
      return pass(`${ref(app.deployment)} runs the image ${image}`);
    },
    'pods.command': ({ app }) => {
      if (!app) return fail(NO_APP);
      const v = commandVerdict(app.container);
      const at = app.deployment.locate([...app.containerPath, v.field]);
      return v.ok ? pass(v.message) : fail(v.message, at);
    },
    'pods.probes-target-app': ({ app }) => {
      if (!app) return fail(NO_APP);
      const problems = probeProblems(app.container);
      const first = problems[0];
      if (!first) {
        const probes = ['readinessProbe', 'livenessProbe', 'startupProbe'].filter((p) => app.container[p] !== undefined);
        return pass(probes.length ? `the ${probes.join(' and ')} ask the app's port and paths it serves` : 'the container has no probes (none is required)');
      }
      return fail(problems.map((p) => p.message).join('; '), app.deployment.locate([...app.containerPath, first.probe, ...first.field.split('.')]));
    },

    'service.port-8020': ({ services }) => {
      if (services.length === 0) return fail('the specs have no Service');
      const with8020 = services.filter((s) => servicePorts(s).some((p) => p.port === APP.servicePort));
      if (with8020.length > 0) return pass(`${with8020.map(ref).join(' and ')} listen${with8020.length === 1 ? 's' : ''} on port ${APP.servicePort}`);
      const first = services[0] as ManifestObject;
      return fail(`no Service listens on port ${APP.servicePort} (${services.map((s) => `${ref(s)}: ${servicePorts(s).map((p) => p.port ?? '?').join(', ') || 'no ports'}`).join('; ')})`, first.locate('spec.ports'));
    },
    'service.node-port-30020': ({ writtenServices }) => {
      if (writtenServices.length === 0) return fail('the specs have no Service');
      const nodePortServices = writtenServices.filter((s) => ['NodePort', 'LoadBalancer'].includes(String(getPath(s.body, 'spec.type'))));
      const declared = nodePortServices.filter((s) => servicePorts(s).some((p) => p.nodePort === APP.nodePort));
      if (declared.length > 0) return pass(`${declared.map(ref).join(' and ')} declare${declared.length === 1 ? 's' : ''} nodePort ${APP.nodePort}`);
      const [low, high] = APP.nodePortRange;
      for (const s of nodePortServices) {
        const wrong = servicePorts(s).find((p) => p.nodePort !== undefined);
        if (!wrong) continue;
        const outside = (wrong.nodePort as number) < low || (wrong.nodePort as number) > high;
        return fail(
          `${ref(s)} declares nodePort ${wrong.nodePort}${outside ? `, outside the range node ports must be in (${low}-${high}): the API server rejects it` : ''}; the lab's goal is nodePort ${APP.nodePort}`,
          s.locate(['spec', 'ports', wrong.index, 'nodePort']),
        );
      }
      const first = nodePortServices[0] ?? writtenServices[0] as ManifestObject;
      return fail(
        nodePortServices.length ? `${nodePortServices.map(ref).join(' and ')} declare${nodePortServices.length === 1 ? 's' : ''} no nodePort (Kubernetes picks a random one); the lab's goal is nodePort ${APP.nodePort}` : `no Service is of type NodePort (${writtenServices.map((s) => `${ref(s)}: ${String(getPath(s.body, 'spec.type') ?? 'ClusterIP')}`).join(', ')})`,
        first.locate(nodePortServices.length ? 'spec.ports' : 'spec'),
      );
    },
    'service.target-port-matches': ({ app, services }) => {
      if (!app) return fail(NO_APP);
      if (services.length === 0) return fail('the specs have no Service');
      for (const s of services) {
        for (const p of servicePorts(s)) {
          const problem = targetPortProblem(app.container, p);
          if (problem) return fail(`${ref(s)}: ${problem}`, s.locate(['spec', 'ports', p.index, p.targetPort !== undefined ? 'targetPort' : 'port']));
        }
      }
      return pass(`the targetPort of ${services.map(ref).join(' and ')} reaches the port the app listens on`);
    },
  },
};
