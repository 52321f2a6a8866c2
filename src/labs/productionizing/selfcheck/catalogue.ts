// The selfcheck's catalogue: the productionizing lab's walkthrough, step by step, as checks.
// A check passes when the cluster (with the lab's own specs and apps) does what the lab text
// says it does; the order here is the order the steps run and the order of every report.
import type { CheckDefinition, LabDefinition } from '../../../lab/types.js';
import { LAB_SPECS_DIR } from './specs.js';

const step = (id: string, title: string, hint: string): CheckDefinition => ({
  id,
  group: id.slice(0, id.indexOf('.')),
  title,
  maxPoints: 1,
  kind: 'live',
  hint,
});

export const SELFCHECK_GROUPS = [
  { id: 'preflight', title: 'Cluster preflight' },
  { id: 'whoami', title: 'Readiness and liveness probes (whoami)' },
  { id: 'pi', title: 'Autoscaling a CPU-bound app (pi)' },
  { id: 'pi-secure', title: 'Pod security (pi-secure)' },
] as const;

export type SelfcheckGroup = (typeof SELFCHECK_GROUPS)[number]['id'];

export const SELFCHECK_CHECKS: readonly CheckDefinition[] = [
  step('preflight.nodes-ready', 'every node of the cluster is Ready',
    'Check `lab-grader cluster status`; `kubectl describe node` shows why a node is not Ready.'),
  step('preflight.metrics-api', 'the metrics API serves Pod metrics',
    'HPAs need metrics-server: `lab-grader cluster up` installs it; check `kubectl get apiservice v1beta1.metrics.k8s.io`.'),
  step('preflight.images-start', 'a Pod starts with each of the lab\'s images',
    'The images must be pullable from the cluster: offline, the local registry mirror serves the look-alikes (`lab-grader cluster up` builds and mirrors them).'),

  step('whoami.two-replicas-ready', 'the lab\'s whoami Deployment runs two Ready replicas behind its Service',
    'Apply specs/productionizing/whoami; `kubectl get pods -l app=whoami` and `kubectl describe pod` show what is missing.'),
  step('whoami.no-probe-keeps-failed-pod', 'without probes, a Pod whose app answers 503 stays in the Service',
    'POST 503 to one Pod\'s /health: the Pod keeps answering 503 and Kubernetes, with no probe, keeps sending it traffic.'),
  step('whoami.readiness-update-ready', 'the readiness update rolls out: both Pods have update=readiness and are Ready',
    'Apply specs/productionizing/whoami/update and wait for the Pods with label update=readiness.'),
  step('whoami.readiness-removes-failed-pod', 'a Pod failing its readiness probe leaves the Service endpoints while its container keeps running',
    'The readiness probe on /health fails after the POST 503; `kubectl get endpoints whoami-np` should list one Pod IP.'),
  step('whoami.service-serves-only-healthy', 'requests through the Service reach only the healthy Pod',
    'With the failed Pod out of the endpoints, every request through the Service should answer 200.'),
  step('whoami.liveness-update-ready', 'the liveness update rolls out: both Pods have update=liveness and are Ready',
    'Apply specs/productionizing/whoami/update2 and wait for the Pods with label update=liveness.'),
  step('whoami.liveness-restarts-container', 'a Pod failing its liveness probe gets its container restarted (same Pod, restart count +1)',
    'The liveness probe on /health fails three times, 10s apart, and the kubelet restarts the container.'),
  step('whoami.restarted-pod-rejoins-service', 'the restarted Pod becomes Ready again and rejoins the Service endpoints',
    'After the restart the app is healthy again (its state is reset), so the readiness probe passes.'),

  step('pi.deploys', 'the lab\'s pi app runs one Ready Pod and serves pi through its Service',
    'Apply specs/productionizing/pi; the Pod runs `dotnet Pi.Web.dll -m web` on port 80.'),
  step('pi.runs-as-root', 'the unhardened pi Pod runs as root, can read its service-account token and may chown',
    '`kubectl exec deploy/pi-web -- whoami` prints root: the image sets no user.'),
  step('pi.hpa-reads-metrics', 'the HPA pi-cpu reads the Pod\'s CPU utilization',
    '`kubectl describe hpa pi-cpu` shows why metrics are missing; the Pod needs a CPU request.'),
  step('pi.hpa-scales-up', 'two concurrent dp=100000 requests make the HPA scale pi-web above 1 replica',
    'The Pod is limited to 250m CPU and the HPA targets 75% of its 125m request: two long requests saturate it.'),
  step('pi.hpa-scales-down', 'after the load stops the HPA scales pi-web back to 1 replica',
    'The HPA waits for its downscale stabilization window (30s in the grading profile) before removing Pods.'),

  step('pi-secure.deploys', 'the pi-secure spec creates a Pod that runs as uid 65534 without capabilities',
    'Apply specs/productionizing/pi-secure; on runtimes that keep port 80 privileged the app fails with "Permission denied".'),
  step('pi-secure.custom-port-runs', 'with ASPNETCORE_URLS on port 5001 the secure Pod is Ready and the app answers on 5001',
    'Apply specs/productionizing/pi-secure/update and wait for the Pod with label update=ports.'),
  step('pi-secure.runs-as-nobody', 'a process in the secure Pod runs as nobody (uid 65534)',
    '`kubectl exec deploy/pi-secure-web -- whoami` prints nobody because of runAsUser: 65534.'),
  step('pi-secure.no-sa-token', 'no service-account token is mounted in the secure Pod',
    '`cat /var/run/secrets/kubernetes.io/serviceaccount/token` fails with "No such file or directory" because of automountServiceAccountToken: false.'),
  step('pi-secure.chown-refused', 'chown is refused in the secure Pod',
    '`chown root:root /app/Pi.Web.dll` fails with "Operation not permitted": non-root and every capability dropped.'),
];

export const selfcheckLab: LabDefinition = {
  id: 'productionizing',
  title: 'Preparing for Production: walkthrough selfcheck',
  groups: SELFCHECK_GROUPS,
  checks: SELFCHECK_CHECKS,
  specsDir: LAB_SPECS_DIR,
};

export function checkDefinition(id: string): CheckDefinition {
  const def = SELFCHECK_CHECKS.find((c) => c.id === id);
  if (!def) throw new Error(`selfcheck has no check ${id}`);
  return def;
}

export function groupChecks(group: string): CheckDefinition[] {
  return SELFCHECK_CHECKS.filter((c) => c.group === group);
}
