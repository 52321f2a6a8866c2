// Stopping a run: a first SIGINT/SIGTERM, the overall time budget or a caller asks the run to stop
// (its abort signal fires; the live run then undoes its faults and deletes its namespace, and the
// reports are written as interrupted); a second signal exits at once. Used by `grade` and
// `selfcheck --lab` alike.

export interface RunStopOptions {
  /** Said once when the run is asked to stop. */
  onStop?: (reason: string) => void;
  /** A second signal while stopping: the caller exits without cleaning up. */
  onSecondSignal: (signal: NodeJS.Signals) => void;
}

export class RunStop {
  private readonly controller = new AbortController();
  private stopReason: string | undefined;

  constructor(private readonly opts: RunStopOptions) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get reason(): string | undefined {
    return this.stopReason;
  }

  stop(reason: string): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    this.opts.onStop?.(reason);
    this.controller.abort(new Error(reason));
  }

  /** Listens for SIGINT and SIGTERM until the returned function is called; `onFirst` hears the first. */
  handleSignals(onFirst?: (signal: NodeJS.Signals) => void): () => void {
    const on = (signal: NodeJS.Signals): void => {
      if (this.stopReason !== undefined) return this.opts.onSecondSignal(signal);
      onFirst?.(signal);
      this.stop(`interrupted by ${signal}`);
    };
    const onSigint = (): void => on('SIGINT');
    const onSigterm = (): void => on('SIGTERM');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    return () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    };
  }

  /** Stops the run with `reason` after `ms`, unless the returned function is called first. */
  after(ms: number, reason: string): () => void {
    const timer = setTimeout(() => this.stop(reason), ms);
    timer.unref();
    return () => clearTimeout(timer);
  }

  /** Resolves (to undefined) once the run has been stopped for `graceMs`: cleanup may not take longer. */
  stoppedFor(graceMs: number): Promise<undefined> {
    return new Promise((resolve) => {
      const later = (): void => {
        setTimeout(() => resolve(undefined), graceMs).unref();
      };
      if (this.signal.aborted) later();
      else this.signal.addEventListener('abort', later, { once: true });
    });
  }
}
