// Progress lines on stderr. On a terminal, waiting states rewrite one line; in CI (or when not
// a TTY) every distinct state is a plain line, so logs stay readable.
const interactive = Boolean(process.stderr.isTTY) && !process.env.CI;

export interface Progress {
  /** A finished step or an important fact: always its own line. */
  step(text: string): void;
  /** A state while waiting: rewritten in place on a terminal, deduplicated in CI. */
  waiting(text: string): void;
  /** Ends any in-place line. */
  done(): void;
}

export function createProgress(prefix: string, write: (s: string) => void = (s) => process.stderr.write(s)): Progress {
  let open = false;
  let last = '';
  const stamp = () => new Date().toISOString().slice(11, 19);
  return {
    step(text) {
      if (!interactive && text === last) return; // already printed as a waiting line
      if (open) write('\n');
      open = false;
      last = '';
      write(`[${stamp()}] ${prefix}${text}\n`);
    },
    waiting(text) {
      if (text === last) return;
      last = text;
      if (interactive) {
        const cols = process.stderr.columns ?? 120;
        write(`\r\x1b[2K[${stamp()}] ${prefix}${text}`.slice(0, cols + 8));
        open = true;
      } else {
        write(`[${stamp()}] ${prefix}${text}\n`);
      }
    },
    done() {
      if (open) write('\n');
      open = false;
      last = '';
    },
  };
}

export const silentProgress: Progress = { step() {}, waiting() {}, done() {} };
