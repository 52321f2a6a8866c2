// The result model shared by the rubric, the scenarios and the reporters.
// result.json is this model serialised (see docs/contract.md: extend it, never break it).

export type CheckStatus = 'passed' | 'failed' | 'error' | 'skipped';

/** Where in the learner's files a finding points. */
export interface SourceLocation {
  file: string; // path relative to the submission directory
  line: number; // 1-based
  column?: number;
}

export interface CheckResult {
  id: string; // `<group>.<name>`
  group: string;
  title: string;
  status: CheckStatus;
  points: number;
  maxPoints: number;
  message: string;
  durationMs: number;
  /** A hint in the learner's terms, shown when the check did not pass. */
  hint?: string;
  /** Where the learner should look. */
  location?: SourceLocation;
  /** Events, Pod status, logs, EndpointSlices, HPA conditions: plain text for JUnit system-out. */
  diagnostics?: string;
}

export interface RunResult {
  lab: string;
  submission: string;
  score: number;
  maxScore: number;
  startedAt: string; // ISO 8601
  durationMs: number;
  checks: CheckResult[];
  /** Extensions beyond the contract's fields. */
  exitCode?: ExitCode;
  mode?: 'full' | 'static-only' | 'selfcheck';
  cluster?: { context: string; kubernetesVersion?: string };
  namespace?: string;
  notes?: string[];
  interrupted?: boolean;
  /** The least time each live group can take with these specs on this cluster (see scenarios/floor.ts). */
  floors?: { timings: string; groups: GroupFloor[] };
}

/** A live group's floor: the least time Kubernetes needs for what the group observes. */
export interface GroupFloor {
  group: string;
  floorMs: number;
  /** How it adds up, e.g. `readiness probe 1s × 1`. */
  basis: string;
}

export const ExitCode = {
  Passed: 0,
  Failed: 1,
  Ungradable: 2,
  Environment: 3,
  Usage: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Thrown when the submission itself cannot be graded (exit 2). */
export class SubmissionError extends Error {
  constructor(message: string, readonly location?: SourceLocation) {
    super(message);
    this.name = 'SubmissionError';
  }
}

/** Thrown when the environment (Docker, cluster, metrics API) is unusable (exit 3). */
export class EnvironmentError extends Error {
  constructor(message: string, readonly advice?: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/** Thrown for bad command-line usage (exit 4). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function exitCodeFor(checks: readonly CheckResult[]): ExitCode {
  if (checks.some((c) => c.status === 'error')) return ExitCode.Environment;
  if (checks.some((c) => c.status === 'failed')) return ExitCode.Failed;
  return ExitCode.Passed;
}
