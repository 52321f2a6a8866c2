// Progress across a batch on stderr. On a terminal: one status line (done/running/queued, ETA)
// rewritten in place under the lines of finished submissions. In CI or a pipe: plain lines only.
import type { BatchEntry } from '../report/batch.js';
import { formatDuration } from '../report/groups.js';

export interface ProgressIo {
  stderr: (t: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

export class BatchProgress {
  private readonly fancy: boolean;
  private total = 0;
  private done = 0;
  private running = 0;
  private queued = 0;
  private concurrency = 1;
  private started = Date.now();
  private readonly durations: number[] = [];
  private statusShown = false;
  private lastWaiting = '';
  private lastWaitingAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly io: ProgressIo) {
    this.fancy = io.isTTY && io.env.CI !== 'true' && io.env.NO_COLOR === undefined;
  }

  start(total: number, done: number, queued: number, concurrency: number): void {
    Object.assign(this, { total, done, queued, concurrency, started: Date.now() });
    if (this.fancy) {
      this.timer = setInterval(() => this.status(), 1000);
      this.timer.unref();
    }
  }

  line(text: string): void {
    this.clear();
    this.io.stderr(`${text}\n`);
    this.status();
  }

  /** A state while waiting: a line when it changes, then at most one every 30 s. */
  waiting(key: string, detail: string): void {
    const now = Date.now();
    if (key === this.lastWaiting && now - this.lastWaitingAt < 30_000) return;
    this.lastWaiting = key;
    this.lastWaitingAt = now;
    this.line(`batch: ${key}: ${detail}`);
  }

  update(running: number, queued: number): void {
    this.running = running;
    this.queued = queued;
    this.status();
  }

  finished(e: BatchEntry, running: number, queued: number): void {
    this.done++;
    this.running = running;
    this.queued = queued;
    this.lastWaiting = '';
    if (e.run) this.durations.push(e.durationMs);
    const score = e.run ? `${e.run.score}/${e.run.maxScore}` : 'not graded';
    const note = e.reason ? ` (${e.reason})` : '';
    this.line(`batch: finished ${e.name}: ${score}, exit ${e.exitCode}, ${formatDuration(e.durationMs)}${note}; ${this.counts()}`);
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  /** Remaining time: the mean grading time so far × the submissions left, spread over the slots. */
  eta(): number | undefined {
    if (this.durations.length === 0) return undefined;
    const mean = this.durations.reduce((a, b) => a + b, 0) / this.durations.length;
    return (mean * (this.queued + this.running)) / Math.max(1, Math.min(this.concurrency, this.queued + this.running));
  }

  private counts(): string {
    const eta = this.eta();
    return `${this.done}/${this.total} done, ${this.running} running, ${this.queued} queued${eta !== undefined && this.queued + this.running > 0 ? `, ETA ${formatDuration(eta)}` : ''}`;
  }

  private status(): void {
    if (!this.fancy || this.total === 0) return;
    const elapsed = formatDuration(Date.now() - this.started);
    this.io.stderr(`\r\u001b[2K\u001b[1mbatch\u001b[0m ${this.counts()} \u001b[2m(${elapsed})\u001b[0m`);
    this.statusShown = true;
  }

  private clear(): void {
    if (this.statusShown) this.io.stderr('\r\u001b[2K');
    this.statusShown = false;
  }
}
