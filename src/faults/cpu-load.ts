// CPU load for the HPA, injected honestly: the configurable app is not CPU-bound over HTTP (the
// lab says so), so a bounded busy loop runs inside some of the app's Pods by exec, as the app's
// own user (it needs only BusyBox `sh` and `timeout`, no privilege, no capability). Each loop is
// marked with the run's id so stopping it kills only the grader's processes, and `timeout` ends
// it on its own if the grader cannot (crash, lost cluster). The HPA then measures real usage of
// the Pods' CPU requests through metrics-server, exactly as it would for real load.
import { isNotFound, type Kube } from '../kube/client.js';
import { execInPod, type ExecResult } from '../kube/exec.js';
import { cpuMilli } from '../kube/quantity.js';
import { errorText } from '../util/error-text.js';

/** Millicores. */
export interface PodCpu {
  requestMilli?: number;
  limitMilli?: number;
}

export interface BurnPlan {
  /** How many Pods get a busy loop. */
  pods: number;
  /** The average utilization (percent of request) the plan aims at across all Pods. */
  expectedPercent: number;
  /** CPU one loop can use (its limit, or one core without a limit), millicores. */
  perPodMilli: number;
}

export { cpuMilli };

/** One core: what a busy loop uses when the container has no CPU limit. */
const CORE_MILLI = 1000;
/** Aim at twice the target: the HPA has a 10% tolerance, and on a busy node the loops may get less CPU than their limit. */
const OVERSHOOT = 2;
/** Never burn more than this in all (the grading machine is small and shared). */
export const MAX_TOTAL_BURN_MILLI = 1_000;

/**
 * Fewest Pods to load so the average utilization clearly exceeds the target, within the
 * machine-wide cap. With the lab's 125m request and 250m limit, one loop is 200% of its
 * request: 5 Pods at a 50% target would cross it with 2 loaded Pods (80%); the plan loads 3 (120%).
 */
export function planBurn(replicas: number, cpu: PodCpu, targetPercent: number): BurnPlan {
  const request = cpu.requestMilli ?? cpu.limitMilli;
  if (!request || request <= 0 || replicas <= 0) return { pods: 0, expectedPercent: 0, perPodMilli: 0 };
  const perPodMilli = Math.min(cpu.limitMilli ?? CORE_MILLI, CORE_MILLI);
  const perPodPercent = (perPodMilli / request) * 100;
  const wanted = Math.ceil((OVERSHOOT * targetPercent * replicas) / perPodPercent);
  const capped = Math.max(1, Math.floor(MAX_TOTAL_BURN_MILLI / perPodMilli));
  const pods = Math.max(1, Math.min(replicas, wanted, capped));
  return { pods, expectedPercent: Math.round((pods * perPodPercent) / replicas), perPodMilli };
}

/** `sh -c` script that starts the loop in the background, detached from the exec's streams. */
export function burnCommand(marker: string, seconds: number): string[] {
  // $0 of the inner shell is the marker: it shows in /proc/<pid>/cmdline, so the stop command
  // finds exactly these loops.
  const inner = `timeout ${Math.max(1, Math.round(seconds))} sh -c 'while :; do :; done' ${marker} </dev/null >/dev/null 2>&1 &`;
  return ['sh', '-c', `${inner} echo started $!`];
}

/**
 * Kills the loops carrying `marker` (and their `timeout` parents). BusyBox images may lack pkill,
 * so /proc is read directly. The marker is passed as an argument, so this script's own command
 * line holds the pattern as the text `done $1`, never `done <marker>`, and cannot match itself.
 */
export function stopCommand(marker: string): string[] {
  const script = [
    'n=0',
    'for d in /proc/[0-9]*; do',
    '  p=${d#/proc/}',
    '  [ "$p" = "$$" ] && continue',
    '  c=$(tr "\\000" " " < "$d/cmdline" 2>/dev/null) || continue',
    '  case "$c" in *"do :; done $1"*) kill "$p" 2>/dev/null && n=$((n+1));; esac',
    'done',
    'echo stopped $n',
  ].join('\n');
  return ['sh', '-c', script, 'lab-grader-stop', marker];
}

export interface BurnHandle {
  pod: string;
  marker: string;
}

export async function startBurn(
  kube: Kube,
  target: BurnTarget,
  marker: string,
  seconds: number,
  signal?: AbortSignal,
): Promise<ExecResult> {
  return execIn(kube, target, burnCommand(marker, seconds), signal);
}

export async function stopBurn(kube: Kube, target: BurnTarget, marker: string, signal?: AbortSignal): Promise<ExecResult> {
  return execIn(kube, target, stopCommand(marker), signal);
}

type BurnTarget = { namespace: string; pod: string; container: string };

function execIn(kube: Kube, target: BurnTarget, command: string[], signal?: AbortSignal): Promise<ExecResult> {
  return execInPod(kube, { ...target, command, timeoutMs: 20_000, ...(signal ? { signal } : {}) });
}

/** What stopping the load in one Pod came to. */
export type StopOutcome =
  | { pod: string; kind: 'stopped'; loops: number }
  /** The Pod was deleted (by the HPA scaling down, the ReplicaSet, an eviction): no load is left to stop. */
  | { pod: string; kind: 'gone'; why: string }
  | { pod: string; kind: 'problem'; text: string };

/**
 * Decides one Pod's stop outcome from the exec result and, when the exec could not run, from
 * whether the Pod still exists (same UID) with a running container. Pure, for unit tests.
 */
export function stopOutcome(
  pod: string,
  exec: { result?: ExecResult; error?: unknown },
  now: { exists: boolean; sameUid: boolean; terminating: boolean; running: boolean } | undefined,
): StopOutcome {
  const r = exec.result;
  if (r && r.exitCode === 0) return { pod, kind: 'stopped', loops: Number(/stopped (\d+)/.exec(r.stdout)?.[1] ?? 0) };
  if (now && (!now.exists || !now.sameUid)) return { pod, kind: 'gone', why: 'the Pod was deleted' };
  if (now?.terminating) return { pod, kind: 'gone', why: 'the Pod is being deleted' };
  if (now && !now.running) return { pod, kind: 'gone', why: 'its container is not running (the loop went with it)' };
  if (r?.startFailure === 'pod-not-found') return { pod, kind: 'gone', why: 'the Pod was deleted' };
  if (r) return { pod, kind: 'problem', text: `exit ${r.exitCode ?? 'none'}: ${(r.stderr.trim() || r.statusMessage || 'no output').slice(0, 200)}` };
  return { pod, kind: 'problem', text: errorText(exec.error) };
}

/**
 * Busy loops in a set of the Deployment's Pods, by Pod name and UID. Pods are loaded only when
 * asked (`load`); a Pod deleted meanwhile simply has no load left (`stopAll` counts it as done).
 */
export class CpuLoad {
  private readonly loaded = new Map<string, string>();

  constructor(
    private readonly kube: Kube,
    private readonly target: { namespace: string; container: string; marker: string; seconds: number },
  ) {}

  /** Names of the Pods the load was started in and not yet found gone. */
  pods(): string[] {
    return [...this.loaded.keys()];
  }

  /** Starts a loop in one Pod; recorded before the exec so an undo covers a half-started loop. */
  async load(pod: { name: string; uid: string }, signal?: AbortSignal): Promise<ExecResult> {
    this.loaded.set(pod.name, pod.uid);
    return startBurn(this.kube, { namespace: this.target.namespace, pod: pod.name, container: this.target.container }, this.target.marker, this.target.seconds, signal);
  }

  /** Forgets loaded Pods that are not among `current` (deleted); returns their names. */
  forgetGone(current: ReadonlyArray<{ name: string; uid: string }>): string[] {
    const alive = new Map(current.map((p) => [p.name, p.uid]));
    const gone: string[] = [];
    for (const [name, uid] of this.loaded) {
      if (alive.get(name) !== uid) {
        gone.push(name);
        this.loaded.delete(name);
      }
    }
    return gone;
  }

  /** Stops every loop; Pods deleted meanwhile count as stopped. Never throws. */
  async stopAll(signal?: AbortSignal): Promise<StopOutcome[]> {
    const outcomes = await Promise.all(
      [...this.loaded].map(async ([pod, uid]) => {
        const exec = await stopBurn(this.kube, { namespace: this.target.namespace, pod, container: this.target.container }, this.target.marker, signal).then(
          (result): { result?: ExecResult; error?: unknown } => ({ result }),
          (error: unknown): { result?: ExecResult; error?: unknown } => ({ error }),
        );
        if (exec.result?.exitCode === 0) return stopOutcome(pod, exec, undefined);
        const now = await this.kube.core.readNamespacedPod({ namespace: this.target.namespace, name: pod }).then(
          (p) => ({
            exists: true,
            sameUid: p.metadata?.uid === uid,
            terminating: Boolean(p.metadata?.deletionTimestamp),
            running: Boolean(p.status?.containerStatuses?.find((c) => c.name === this.target.container)?.state?.running),
          }),
          (error: unknown) => (isNotFound(error) ? { exists: false, sameUid: false, terminating: false, running: false } : undefined),
        );
        return stopOutcome(pod, exec, now);
      }),
    );
    for (const o of outcomes) if (o.kind !== 'problem') this.loaded.delete(o.pod);
    return outcomes;
  }
}

/** "stopped in 2 Pods; 1 Pod was deleted meanwhile (x: the Pod was deleted)" */
export function describeStops(outcomes: readonly StopOutcome[]): string {
  const stopped = outcomes.filter((o) => o.kind === 'stopped').length;
  const gone = outcomes.filter((o): o is Extract<StopOutcome, { kind: 'gone' }> => o.kind === 'gone');
  const problems = outcomes.filter((o): o is Extract<StopOutcome, { kind: 'problem' }> => o.kind === 'problem');
  const parts = [`stopped in ${stopped} Pod${stopped === 1 ? '' : 's'}`];
  if (gone.length) parts.push(`${gone.length} loaded Pod${gone.length === 1 ? ' was' : 's were'} gone already (${gone.map((g) => `${g.pod}: ${g.why}`).join('; ')})`);
  if (problems.length) parts.push(`could not stop it in ${problems.map((p) => `Pod ${p.pod} (${p.text})`).join(', ')}`);
  return parts.join('; ');
}
