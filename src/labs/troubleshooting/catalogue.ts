// "Troubleshooting Apps in Kubernetes" (courselabs/kubernetes labs/troubleshooting): the learner
// gets broken specs for the Pi app and must "make whatever changes you need to get the app
// running, so the Pod is healthy with no restarts", reaching it on port 8020 / NodePort 30020.
// Points: what the cluster does weighs more than what the files say.
import { defineCheck, type GroupDefinition } from '../../lab/types.js';

export const LAB_ID = 'troubleshooting';

/** The Pi app the lab runs, and the ports its goal names. */
export const APP = {
  image: 'kiamol/ch05-pi',
  /** The image's ENTRYPOINT and CMD (docs/lab-apps.md). */
  entrypoint: ['dotnet', 'Pi.Web.dll'],
  cmd: ['-m', 'console', '-dp', '6'],
  workingDir: '/app',
  dll: 'Pi.Web.dll',
  /** Where the app listens without ASPNETCORE_URLS. */
  defaultPort: 80,
  servicePort: 8020,
  nodePort: 30020,
  /** The API server's default NodePort range. */
  nodePortRange: [30000, 32767] as const,
} as const;

export const GROUPS: readonly GroupDefinition[] = [
  { id: 'submission', title: 'Submission' },
  { id: 'pods', title: 'Pods' },
  { id: 'service', title: 'Service' },
];

const check = defineCheck;

export const CHECKS = [
  check('submission.parses', 'static', 1, 'the specs parse as Kubernetes objects',
    'Fix the YAML at the line shown: indent with spaces, quote strings containing ": ", and give every document apiVersion, kind and metadata.name.'),
  check('submission.allowed-objects', 'static', 1, 'the specs contain only objects the lab allows',
    'Submit the app\'s Deployment and its Services (the lab\'s pi-np and pi-lb); the grader creates the namespace itself.'),
  check('submission.applies', 'live', 2, 'the API server accepts every object in the specs',
    '`kubectl apply -f <your folder>` shows which object the API server rejects and why: a Deployment\'s selector must match its Pod template\'s labels, and a nodePort must be in the range 30000-32767.'),

  check('pods.image', 'static', 1, 'the app container runs the lab\'s image kiamol/ch05-pi',
    'Use the image `kiamol/ch05-pi` (the Pi app); `kubectl describe pod` shows "ErrImagePull" when the image name is wrong.'),
  check('pods.command', 'static', 1, 'the app container\'s command starts the Pi app in web mode',
    'The command must run `dotnet Pi.Web.dll -m web`: check the spelling of every word; `kubectl describe pod` shows the error when the executable is not found.'),
  check('pods.probes-target-app', 'static', 1, 'the probes ask the port the app listens on, and HTTP probes ask a path it serves',
    'The Pi app listens on port 80 (the container port named http) and serves / and /pi; probes on another port or path fail: point both probes at port 80 (or http) and path /.'),
  check('pods.created', 'live', 1, 'the Deployment asks for at least one Pod',
    'Set `replicas: 1` (or more) in the Deployment: with 0 replicas no Pod runs.'),
  check('pods.scheduled', 'live', 2, 'a Pod is created and scheduled: its resources fit the node and the namespace\'s quota',
    'The Pod asks for more CPU or memory than a node (or the namespace\'s quota) has: lower resources.requests and resources.limits (the app needs about 125m CPU and 128Mi of memory).'),
  check('pods.image-pulls', 'live', 2, 'the Pod\'s image is pulled',
    'Fix the image name: the Pi app\'s image is `kiamol/ch05-pi`.'),
  check('pods.container-starts', 'live', 2, 'the Pod\'s container starts and keeps running',
    'Fix the container\'s command: it must run `dotnet Pi.Web.dll -m web`; `kubectl describe pod` and `kubectl logs --previous` show why it does not start.'),
  check('pods.ready', 'live', 2, 'the Pod becomes Ready',
    'The readiness probe must reach the app: it listens on port 80 (named http), not on the Service\'s port 8020; `kubectl describe pod` shows the probe failures.'),
  check('pods.no-restarts', 'live', 3, 'the Pod stays Ready with no restarts',
    'The liveness probe must ask a path the app serves (/ or /pi): a path that answers 404 makes the kubelet restart the container; `kubectl describe pod` shows the probe failures.'),

  check('service.port-8020', 'static', 1, 'a Service listens on port 8020',
    'Give the Service `port: 8020`: the lab\'s goal is the Pi app on http://localhost:8020.'),
  check('service.node-port-30020', 'static', 1, 'a NodePort Service declares nodePort 30020',
    'Use `type: NodePort` with `nodePort: 30020`: node ports must be in the range 30000-32767, and the lab\'s goal is http://localhost:30020.'),
  check('service.target-port-matches', 'static', 1, 'every Service\'s targetPort names or numbers the port the app listens on',
    'Set the Service\'s targetPort to the container port the app listens on: 80, or its name `http` (a name must match a containerPort\'s name).'),
  check('service.selects-pods', 'live', 2, 'every Service selects the app\'s Pods (its ready endpoints are not empty)',
    'Make the Service\'s selector match the labels of the Deployment\'s Pod template (`kubectl get endpointslices` shows a Service with no endpoints).'),
  check('service.target-port', 'live', 2, 'every Service sends traffic to the port the app listens on',
    'The Service\'s targetPort must resolve to the port the app listens on (80, named http); a port forward to the Pod (`kubectl port-forward pod/<name> 8080:80`) checks the app directly.'),
  check('service.answers', 'live', 3, 'the Pi page answers through the Service on port 8020',
    'Requests to the Service on port 8020 must reach the Pi app: the Service needs port 8020, a selector matching the Pods and the app\'s targetPort.'),
] as const;

export type CheckId = (typeof CHECKS)[number]['id'];
export type LiveCheckId = Extract<(typeof CHECKS)[number], { kind: 'live' }>['id'];
export type StaticCheckId = Extract<(typeof CHECKS)[number], { kind: 'static' }>['id'];

/** The live checks of each group, in the order the plan decides them. */
export const POD_CHECKS = ['pods.created', 'pods.scheduled', 'pods.image-pulls', 'pods.container-starts', 'pods.ready', 'pods.no-restarts'] as const satisfies readonly LiveCheckId[];
export const SERVICE_CHECKS = ['service.selects-pods', 'service.target-port', 'service.answers'] as const satisfies readonly LiveCheckId[];

/** Bounds of the waits (ms). */
export const TIMING = {
  scheduledMs: 60_000,
  pullMs: 90_000,
  startMs: 60_000,
  /** A container must keep running this long before it counts as started (a process that exits at once does not). */
  runningForMs: 5_000,
  readyFloorMs: 30_000,
  readyCapMs: 150_000,
  /** Shortest and longest no-restart window after Ready. */
  windowFloorMs: 15_000,
  windowCapMs: 150_000,
  endpointsMs: 30_000,
  answerMs: 30_000,
} as const;
