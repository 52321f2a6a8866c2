// CPU load for the HPA, injected honestly: the configurable app is not CPU-bound over HTTP (the
// lab says so), so a bounded busy loop runs inside some of the app's Pods by exec, as the app's
// own user (it needs only BusyBox `sh` and `timeout`, no privilege, no capability). Each loop is
// marked with the run's id so stopping it kills only the grader's processes, and `timeout` ends
// it on its own if the grader cannot (crash, lost cluster). The HPA then measures real usage of
// the Pods' CPU requests through metrics-server, exactly as it would for real load.
import type { Kube } from '../kube/client.js';
import { execInPod, type ExecResult } from '../kube/exec.js';
import { cpuMilli } from '../kube/quantity.js';

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
