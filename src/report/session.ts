// Collects results as checks finish and guarantees a complete report: whatever has no result when
// the run ends (finished, failed, crashed or interrupted) is reported as skipped or error.
import { ExitCode, exitCodeFor, type CheckResult, type RunResult } from '../model.js';
import type { CheckDefinition, LabDefinition } from '../lab/types.js';
import { scoreOf } from './groups.js';
import { writeReports, type WriteOptions, type WrittenReports } from './write.js';

export interface ReportSessionOptions extends WriteOptions {
  lab: LabDefinition;
  /** The submission directory as given. */
  submission: string;
  outDir: string;
  mode?: RunResult['mode'];
  /** Rewrite the reports after every recorded result, so even a killed run leaves one. Default true. */
  checkpoint?: boolean;
  /** Called after each result is recorded (progress output). */
  onRecord?: (result: CheckResult) => void;
  /** Clock, for tests. */
  now?: () => number;
}

export interface FinalizeOptions {
  /** The run was stopped (signal, time budget) before every check could finish. */
  interrupted?: boolean;
  /** Why checks without a result did not run, e.g. "--static-only" or the error that stopped the run. */
  reason?: string;
  /** Status of checks that never started: default `skipped`; `error` when the grader failed them. */
  unrun?: 'skipped' | 'error';
  /** Overrides the exit code computed from the results (2 for an ungradable submission…). */
  exitCode?: ExitCode;
}

export interface FinalizeOutcome {
  run: RunResult;
  exitCode: ExitCode;
  reports: WrittenReports;
}

export class ReportSession {
  readonly startedAt: Date;
  private readonly results = new Map<string, CheckResult>();
  private readonly started = new Map<string, number>();
  private readonly notes: string[] = [];
  private readonly definitions: readonly CheckDefinition[];
  private readonly now: () => number;
  private info: Pick<RunResult, 'namespace' | 'cluster' | 'floors'> = {};
  private pendingWrite: Promise<void> = Promise.resolve();
  private checkpointQueued = false;
  private finalized: FinalizeOutcome | undefined;
  /** The last checkpoint write error, if any (checkpoints never stop grading). */
  checkpointError: unknown;
  /** Why the final write failed; set once, rethrown by every later finalize. */
  private finalizeError: unknown;

  /** The final reports could not be written: nothing more can be reported through them. */
  get reportsFailed(): boolean {
    return this.finalizeError !== undefined;
  }

  constructor(private readonly opts: ReportSessionOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = new Date(this.now());
    this.definitions = opts.lab.checks;
  }

  /** Marks a check as running: if the run is interrupted now, it is reported as an error. */
  start(id: string): void {
    if (!this.results.has(id)) this.started.set(id, this.now());
  }

  record(result: CheckResult): void {
    if (this.finalized) return;
    const def = this.definitions.find((d) => d.id === result.id);
    const normalized: CheckResult = def
      ? {
          ...result,
          group: def.group,
          title: def.title,
          maxPoints: def.maxPoints,
          points: Math.min(Math.max(0, result.points), def.maxPoints),
        }
      : result;
    this.results.set(result.id, normalized);
    this.started.delete(result.id);
    this.opts.onRecord?.(normalized);
    if (this.opts.checkpoint ?? true) this.checkpoint();
  }

  has(id: string): boolean {
    return this.results.has(id);
  }

  addNotes(...notes: string[]): void {
    this.notes.push(...notes);
  }

  setInfo(info: Pick<RunResult, 'namespace' | 'cluster' | 'floors'>): void {
    this.info = { ...this.info, ...info };
  }

  /** Recorded results so far, in catalogue order (results for unknown ids last, by id). */
  recorded(): CheckResult[] {
    const known = this.definitions.flatMap((d) => {
      const r = this.results.get(d.id);
      return r ? [r] : [];
    });
    const extra = [...this.results.values()]
      .filter((r) => !this.definitions.some((d) => d.id === r.id))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return [...known, ...extra];
  }

  /** The run as it stands, with checks still to come shown as not run yet. */
  snapshot(): RunResult {
    return this.buildRun((def) => this.placeholder(def, 'skipped', 'not run yet: grading is still in progress or stopped unexpectedly'));
  }

  /** Waits for checkpoint writes in flight. */
  async flush(): Promise<void> {
    await this.pendingWrite;
  }

  async finalize(options: FinalizeOptions = {}): Promise<FinalizeOutcome> {
    // A final write that failed (disk full…) fails every later finalize too: the caller must not
    // read the frozen run as reported.
    if (this.finalizeError !== undefined) throw this.finalizeError;
    if (this.finalized) return this.finalized;
    const reason = options.reason ?? (options.interrupted ? 'the run was interrupted' : 'the run ended before this check');
    const run = this.buildRun((def) => {
      if (this.started.has(def.id)) {
        const verb = options.interrupted ? 'interrupted while running' : 'did not finish';
        return this.placeholder(def, 'error', `${verb}: ${reason}`, this.now() - (this.started.get(def.id) ?? this.now()));
      }
      const status = options.interrupted ? 'skipped' : (options.unrun ?? 'skipped');
      return this.placeholder(def, status, `not run: ${reason}`);
    });
    const exitCode: ExitCode = options.exitCode ?? (options.interrupted ? ExitCode.Environment : exitCodeFor(run.checks));
    run.exitCode = exitCode;
    if (options.interrupted) run.interrupted = true;
    // Freeze first so late results (a live check finishing after an interrupt) are ignored.
    this.finalized = { run, exitCode, reports: { dir: this.opts.outDir, junit: '', resultJson: '', summary: '', classroom: '' } };
    await this.pendingWrite;
    let reports: WrittenReports;
    try {
      reports = await writeReports(this.opts.outDir, run, this.writeOptions(true));
    } catch (err) {
      this.finalizeError = err;
      throw err;
    }
    this.finalized = { run, exitCode, reports };
    return this.finalized;
  }

  /**
   * Results recorded together (the static checks, one after another) share one write: a queued
   * checkpoint takes its snapshot when its turn comes, and none is written once finalize began.
   */
  private checkpoint(): void {
    if (this.checkpointQueued) return;
    this.checkpointQueued = true;
    this.pendingWrite = this.pendingWrite
      .then(() => {
        this.checkpointQueued = false;
        if (this.finalized) return undefined;
        return writeReports(this.opts.outDir, this.snapshot(), this.writeOptions(false));
      })
      .then(
        () => undefined,
        (err: unknown) => {
          this.checkpointError = err;
        },
      );
  }

  private writeOptions(final: boolean): WriteOptions {
    return {
      ...(this.opts.env ? { env: this.opts.env } : {}),
      ...(this.opts.stdout ? { stdout: this.opts.stdout } : {}),
      // Only the final write publishes to GitHub, once.
      ...(final ? (this.opts.github !== undefined ? { github: this.opts.github } : {}) : { github: false }),
    };
  }

  private buildRun(fill: (def: CheckDefinition) => CheckResult): RunResult {
    const checks = this.definitions.map((def) => this.results.get(def.id) ?? fill(def));
    const extra = this.recorded().filter((r) => !this.definitions.some((d) => d.id === r.id));
    const all = [...checks, ...extra];
    return {
      lab: this.opts.lab.id,
      submission: this.opts.submission,
      ...scoreOf(all),
      startedAt: this.startedAt.toISOString(),
      durationMs: Math.max(0, Math.round(this.now() - this.startedAt.getTime())),
      checks: all,
      ...(this.opts.mode ? { mode: this.opts.mode } : {}),
      ...this.info,
      ...(this.notes.length > 0 ? { notes: [...this.notes] } : {}),
    };
  }

  private placeholder(def: CheckDefinition, status: 'skipped' | 'error', message: string, durationMs = 0): CheckResult {
    return {
      id: def.id,
      group: def.group,
      title: def.title,
      status,
      points: 0,
      maxPoints: def.maxPoints,
      message,
      durationMs: Math.max(0, Math.round(durationMs)),
    };
  }
}
