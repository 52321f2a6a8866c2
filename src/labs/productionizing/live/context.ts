// What every scenario gets: the cluster client, the grading namespace, the app under test, the
// run's signal and budget, the undo stack, progress output, and retried API calls and waits.
import type * as k8s from '@kubernetes/client-node';
import type { ProductionizingId } from '../catalogue.js';
import type { Kube } from '../../../kube/client.js';
import { collectDiagnostics } from '../../../kube/diagnostics.js';
import { listPods } from '../../../kube/pods.js';
import type { UndoStack } from '../../../faults/undo.js';
import type { Condition, Observation } from '../../../wait/wait-for.js';
import type { LiveRun, WaitSpec } from '../../../engine/lab.js';
import { errorText } from '../../../util/error-text.js';

/** The lab's app as deployed: what the scenarios act on. */
export interface AppUnderTest {
  deployment: string;
  /** The container running the lab's image. */
  container: string;
  /** Label selector of the Deployment's Pods. */
  podSelector: string;
  /** Port of the app in the Pod (the container's first port, else 80). */
  podPort: number;
  /** Services selecting the app's Pods, with the port to use through the API server proxy. */
  services: Array<{ name: string; port: number | string }>;
  /** HPAs in the specs that target the app's Deployment. */
  hpas: string[];
  /** Configurable__FailAfterCallCount as written in the Deployment, if it is a plain value. */
  failAfterCallCount?: number;
}

/** The productionizing scenarios' view of a live run: the run plus the app under test. */
export class ScenarioContext {
  readonly kube: Kube;
  readonly namespace: string;
  readonly signal: AbortSignal;
  readonly undo: UndoStack;
  readonly runId: string;

  constructor(
    private readonly run: LiveRun<ProductionizingId>,
    readonly app: AppUnderTest,
  ) {
    this.kube = run.kube;
    this.namespace = run.namespace;
    this.signal = run.signal;
    this.undo = run.undo;
    this.runId = run.runId;
  }

  progress(line: string): void {
    this.run.progress(line);
  }

  /** One API call, retried on transient errors; a cluster that stays away is an EnvironmentError. */
  api<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.run.api(what, fn);
  }

  /**
   * waitFor within the budget. The learner's failures and the environment's stop the wait at
   * once; a wait cut short by the budget throws BudgetExhausted instead of a timeout.
   */
  wait<T>(condition: Condition<T>, spec: WaitSpec): Promise<Observation<T>> {
    return this.run.wait(condition, spec);
  }

  async pods(): Promise<k8s.V1Pod[]> {
    return this.api(`list the Pods of ${this.app.deployment}`, () => listPods(this.kube, this.namespace, this.app.podSelector));
  }

  async deployment(): Promise<k8s.V1Deployment> {
    return this.api(`read Deployment ${this.app.deployment}`, () =>
      this.kube.apps.readNamespacedDeployment({ namespace: this.namespace, name: this.app.deployment }),
    );
  }

  async diagnostics(): Promise<string> {
    try {
      return await collectDiagnostics(this.kube, {
        namespace: this.namespace,
        podSelector: this.app.podSelector,
        deployment: this.app.deployment,
        services: this.app.services.map((s) => s.name),
        hpas: this.app.hpas,
      });
    } catch (error) {
      return `(diagnostics could not be collected: ${errorText(error)})`;
    }
  }
}

/** The app container's status in a Pod. */
export function appContainerStatus(pod: k8s.V1Pod, container: string): k8s.V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === container);
}

export function appContainerSpec(pod: k8s.V1Pod, container: string): k8s.V1Container | undefined {
  return pod.spec?.containers.find((c) => c.name === container);
}
