// What a lab plug-in declares (src/labs/<id>/index.ts exports one `Lab`), and what the engine
// hands its live plan. Everything here is lab-agnostic: the engine never names a lab, a lab never
// reaches into another lab, and imports go downwards (labs → engine → kube, faults, wait,
// submission, report, cluster).
import type { Kube } from '../kube/client.js';
import type { Manifest } from '../kube/apply.js';
import type { UndoStack } from '../faults/undo.js';
import type { CheckDefinition, GroupDefinition } from '../lab/types.js';
import type { CheckResult, RunResult, SourceLocation } from '../model.js';
import type { Submission } from '../submission/load.js';
import type { ManifestObject } from '../submission/manifest.js';
import type { Condition, Observation } from '../wait/wait-for.js';

/** A static check's decision; the engine adds id, points and hint from the catalogue. */
export interface Verdict {
  passed: boolean;
  message: string;
  location?: SourceLocation;
  diagnostics?: string;
}

/**
 * The static rubric of a lab: a context built once from the policy-checked submission, and one
 * pure function per static check of the catalogue. A function that throws is reported as `error`
 * for that check alone.
 */
export interface StaticRubric<Id extends string, Ctx> {
  /**
   * `written`: the same objects as the learner wrote them, before policy's rewrites (policy turns
   * NodePort and LoadBalancer Services into ClusterIP ones and drops their nodePorts, which a lab
   * may grade).
   */
  context(submission: Submission, written: readonly ManifestObject[]): Ctx;
  checks: { readonly [K in Id]?: (ctx: Ctx) => Verdict };
}

/** What the engine lets a live check body say when it passes. */
export type CheckBody = () => Promise<string | { message: string }>;

/** The live checks of one run: record, block, ask; ids are the lab's own (typos fail to compile). */
export interface LiveCheckRecorder<Id extends string> {
  /**
   * Runs one check. A body that returns passes; throws CheckFailed → failed (with diagnostics),
   * WaitTimeoutError → failed with what was expected and seen last, CheckInconclusive or another
   * error → error; an EnvironmentError, a stop or the budget running out also end the run.
   */
  run(id: Id, body: CheckBody): Promise<'passed' | 'failed' | 'error' | 'skipped'>;
  /** Records the given (not yet decided) checks as not testable because of `message`. */
  block(ids: readonly Id[], status: 'failed' | 'skipped' | 'error', message: string, extra?: { hint?: string; location?: SourceLocation; diagnostics?: string }): Promise<void>;
  /** Ids of the live checks not decided yet, in catalogue order. */
  pending(): Id[];
  passed(id: Id): boolean;
  status(id: Id): 'passed' | 'failed' | 'error' | 'skipped' | undefined;
  /** The recorded result of a check (its message and diagnostics), once decided. */
  result(id: Id): CheckResult | undefined;
}

export interface WaitSpec {
  description: string;
  timeoutMs: number;
  intervalsMs?: readonly number[];
  onProgress?: (observed: string) => void;
  isFatal?: (error: unknown) => boolean;
}

/** One object the API server refused, located in the learner's files where possible. */
export interface Rejection {
  kind: string;
  name: string;
  message: string;
  location?: SourceLocation;
}

export interface ApplyResult {
  applied: number;
  rejections: Rejection[];
  /** ms waited for other gradings to free room on the cluster first. */
  waitedForRoomMs: number;
}

/** What the engine hands a lab's live plan (grading or selfcheck). */
export interface LiveRun<Id extends string> {
  readonly kube: Kube;
  /** The run's own namespace: created by the engine, deleted by it at the end. */
  readonly namespace: string;
  readonly runId: string;
  /** Aborted on interrupt, on the budget running out and on a lost cluster. */
  readonly signal: AbortSignal;
  readonly undo: UndoStack;
  readonly checks: LiveCheckRecorder<Id>;
  /** The submission's objects after policy, each already in `namespace` (selfcheck: the lab's specs). */
  readonly manifests: readonly Manifest[];
  /**
   * Labs with `redefinitions: 'switch'`: the later definitions of objects defined more than once,
   * after policy and in `namespace`, in file order; the plan applies them as its switch step.
   * Empty otherwise.
   */
  readonly switchManifests: readonly Manifest[];
  /**
   * The submission's objects as the learner wrote them, before policy's rewrites (e.g. a Service's
   * type and nodePort, which policy drops so gradings side by side do not collide). For checks
   * about those fields only: apply `manifests`.
   */
  readonly written: readonly ManifestObject[];
  /** Where an object (or one of its fields) was written in the learner's files. */
  locate(kind: string, name: string, field?: string): SourceLocation | undefined;
  progress(line: string): void;
  /** One API call, retried on transient errors; a cluster that stays away is an EnvironmentError. */
  api<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** waitFor within the run's budget (a wait cut short by the budget stops the run). */
  wait<T>(condition: Condition<T>, spec: WaitSpec): Promise<Observation<T>>;
  /**
   * Server-side applies `objects` (default: `manifests`) into the namespace, in dependency order.
   * Waits for room on the cluster first when `pods` says how many Pods and how much CPU each the
   * objects will start (other gradings may hold the node); 4xx answers become rejections.
   */
  apply(objects?: readonly Manifest[], opts?: { dryRun?: boolean; pods?: { count: number; cpuMilli: number } }): Promise<ApplyResult>;
  /** What a failed check shows under "diagnostics" from now on (Pods, events, logs…). */
  diagnoseWith(collect: () => Promise<string>): void;
  /** The least time each live group can take on this cluster (summary.md shows them); optional for a lab. */
  setFloors(floors: NonNullable<RunResult['floors']>): void;
}

/** A lab's selfcheck: its walkthrough with the lab's own specs, as checks with their own catalogue. */
export interface SelfcheckPlan<Id extends string = string> {
  readonly groups: readonly GroupDefinition[];
  readonly checks: readonly CheckDefinition[];
  /** The lab's published specs it applies (relative to the lab's specsDir), for reports. */
  readonly specs: string;
  run(run: LiveRun<Id>): Promise<void>;
}

export interface Lab<Id extends string = string, Ctx = unknown> {
  readonly id: string;
  readonly title: string;
  /** One line for `lab-grader labs`. */
  readonly summary: string;
  readonly groups: readonly GroupDefinition[];
  /** Catalogue order is the order of every report. */
  readonly checks: readonly (CheckDefinition & { id: Id })[];
  /** Absolute path of the lab's published specs shipped with the package. */
  readonly specsDir: string;
  /** Upstream names of the images the lab's apps run (served by look-alikes when offline). */
  readonly images: readonly string[];
  /**
   * How the same object (kind and name) in more than one file is read: 'reject' (default) says
   * "defined twice"; 'switch' applies the first definitions, and the later ones as a switch step
   * the live plan triggers (files taken in the lexical order of their relative paths).
   */
  readonly redefinitions?: 'reject' | 'switch';
  /**
   * How strongly the objects look like this lab's (its images, kinds and names): 0 = not this
   * lab. `grade` without --lab picks the single lab with the highest score above 0.
   */
  recognise(objects: readonly ManifestObject[]): number;
  /** The live plan creates HPAs: the engine checks the metrics API first (exit 3 without it). */
  readonly needsMetrics?: boolean;
  /**
   * Pods the submission's workloads will start and the CPU each requests (`defaultCpuMilli` for
   * containers without a request), for `batch` to pace gradings; undefined = none to run.
   */
  footprint?(objects: readonly ManifestObject[], defaultCpuMilli: number): Promise<{ pods: number; cpuMilli: number } | undefined>;
  /** Objects the lab hands learners that a submission may leave out (e.g. its Services). */
  supplements?(objects: readonly ManifestObject[]): Promise<{ objects: ManifestObject[]; notes: string[] }>;
  readonly rubric: StaticRubric<Id, Ctx>;
  /** The live plan: `submission.applies` first, then the lab's scenarios, all through `run.checks`. */
  live(run: LiveRun<Id>): Promise<void>;
  readonly selfcheck?: SelfcheckPlan;
  /**
   * A lab whose walkthrough has a runner of its own instead of a `selfcheck` plan (it writes its
   * reports and returns the exit code).
   */
  runOwnSelfcheck?(opts: { out?: string; context?: string }): Promise<number>;
}

/**
 * Any lab, as the registry and the engine hold it. `any` because each lab has its own rubric
 * context type, which the engine only hands back to the same lab's checks.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyLab = Lab<string, any>;
