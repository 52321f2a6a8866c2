// What every scenario gets: the cluster client, the grading namespace, the app under test, the
// run's signal and budget, the undo stack, progress output, and retried API calls and waits.
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from '../../../kube/client.js';
import { collectDiagnostics } from '../../../kube/diagnostics.js';
import { listPods } from '../../../kube/pods.js';
import { withRetry } from '../../../kube/retry.js';
import type { UndoStack } from '../../../faults/undo.js';
import { EnvironmentError } from '../../../model.js';
import { waitFor, WaitTimeoutError, type Condition, type Observation } from '../../../wait/wait-for.js';
import type { Budget } from '../../../engine/budget.js';
import { BudgetExhausted, CheckFailed } from '../../../engine/outcomes.js';
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

export interface WaitSpec {
  description: string;
  timeoutMs: number;
  intervalsMs?: readonly number[];
  onProgress?: (observed: string) => void;
  isFatal?: (error: unknown) => boolean;
}

export class ScenarioContext {
  constructor(
    readonly kube: Kube,
    readonly namespace: string,
    readonly app: AppUnderTest,
    readonly signal: AbortSignal,
    readonly budget: Budget,
    readonly undo: UndoStack,
    readonly runId: string,
    private readonly progressLine: (line: string) => void,
  ) {}

  progress(line: string): void {
    this.progressLine(line);
  }

  /** One API call, retried on transient errors; a cluster that stays away is an EnvironmentError. */
  api<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(what, fn, { signal: this.signal });
  }

  /**
   * waitFor within the budget. The learner's failures and the environment's stop the wait at
   * once; a wait cut short by the budget throws BudgetExhausted instead of a timeout.
   */
  async wait<T>(condition: Condition<T>, spec: WaitSpec): Promise<Observation<T>> {
    const { timeoutMs, truncated } = this.budget.bound(spec.timeoutMs);
    try {
      return await waitFor(condition, {
        description: spec.description,
        timeoutMs,
        signal: this.signal,
        ...(spec.intervalsMs ? { intervalsMs: spec.intervalsMs } : {}),
        ...(spec.onProgress ? { onProgress: spec.onProgress } : {}),
        isFatal: (e) => e instanceof EnvironmentError || e instanceof CheckFailed || (spec.isFatal?.(e) ?? false),
      });
    } catch (error) {
      if (error instanceof WaitTimeoutError && truncated) throw new BudgetExhausted(this.budget.budgetMs);
      throw error;
    }
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
