// The undo stack: every change the grader makes to the cluster (namespace, fault, load, manual
// scale) registers how to take it back BEFORE it is made, so a half-made change is still undone.
// Undos run last-in first-out, each with its own time limit; NotFound counts as already undone;
// every entry runs even when an earlier one fails, and the first failure is reported.
import { isNotFound } from '../kube/client.js';
import { errorText } from '../util/error-text.js';

export interface UndoEntry {
  /** What is undone, for messages: "delete namespace x", "stop CPU load in Pod y". */
  readonly description: string;
  /** Runs this entry now (once) and removes it from the stack; rejects with its failure. */
  runNow(): Promise<void>;
  /** Drops the entry without running it (the change turned out not to be needed or was undone otherwise). */
  discard(): void;
}

export type UndoAction = (signal: AbortSignal) => Promise<void>;

export interface UndoFailure {
  description: string;
  error: unknown;
}

export interface UndoOptions {
  /** Limit for this entry; default the stack's. */
  timeoutMs?: number;
}

export class UndoTimeoutError extends Error {
  constructor(description: string, timeoutMs: number) {
    super(`${description}: not finished within ${Math.round(timeoutMs / 1000)}s`);
    this.name = 'UndoTimeoutError';
  }
}

interface Item {
  description: string;
  action: UndoAction;
  timeoutMs: number;
  state: 'pending' | 'running' | 'done';
  result?: Promise<void>;
}

export class UndoStack {
  private readonly items: Item[] = [];

  constructor(private readonly defaultTimeoutMs = 30_000) {}

  /** Registers an undo; call it before making the change it undoes. */
  push(description: string, action: UndoAction, opts: UndoOptions = {}): UndoEntry {
    const item: Item = { description, action, timeoutMs: opts.timeoutMs ?? this.defaultTimeoutMs, state: 'pending' };
    this.items.push(item);
    return {
      description,
      runNow: async () => {
        this.remove(item);
        const failure = await this.runItem(item);
        if (failure) throw failure.error;
      },
      discard: () => {
        if (item.state === 'pending') item.state = 'done';
        this.remove(item);
      },
    };
  }

  /** Entries still to run, newest first. */
  pending(): string[] {
    return this.items.filter((i) => i.state === 'pending').map((i) => i.description).reverse();
  }

  /** Runs every pending entry, newest first; returns all failures (the first is the one to report). */
  async runAll(): Promise<UndoFailure[]> {
    const failures: UndoFailure[] = [];
    while (this.items.length > 0) {
      const item = this.items.pop() as Item;
      const failure = await this.runItem(item);
      if (failure) failures.push(failure);
    }
    return failures;
  }

  private remove(item: Item): void {
    const at = this.items.indexOf(item);
    if (at >= 0) this.items.splice(at, 1);
  }

  private async runItem(item: Item): Promise<UndoFailure | undefined> {
    if (item.state === 'done') return undefined;
    if (item.state === 'running' && item.result) {
      await item.result.catch(() => undefined);
      return undefined;
    }
    item.state = 'running';
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new UndoTimeoutError(item.description, item.timeoutMs));
      }, item.timeoutMs);
    });
    const run = Promise.resolve().then(() => item.action(controller.signal));
    item.result = run;
    try {
      await Promise.race([run, timeout]);
      return undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined; // already gone: nothing to undo
      return { description: item.description, error };
    } finally {
      clearTimeout(timer);
      run.catch(() => undefined); // a timed-out action may still reject later
      item.state = 'done';
    }
  }
}

export function describeUndoFailure(f: UndoFailure): string {
  const message = errorText(f.error);
  return `${f.description}: ${message}`;
}
