import { describe, expect, it, vi } from 'vitest';
import { RunStop } from './stop.js';

describe('RunStop', () => {
  it('stops once, with the first reason, and aborts its signal', () => {
    const said: string[] = [];
    const stop = new RunStop({ onStop: (r) => said.push(r), onSecondSignal: () => undefined });
    stop.stop('first');
    stop.stop('second');
    expect(stop.reason).toBe('first');
    expect(stop.signal.aborted).toBe(true);
    expect(said).toEqual(['first']);
  });

  it('stops after a time unless cleared, and says when the grace after a stop is over', async () => {
    vi.useFakeTimers();
    try {
      const stop = new RunStop({ onSecondSignal: () => undefined });
      const clear = stop.after(1000, 'budget');
      stop.after(5000, 'later budget');
      clear();
      await vi.advanceTimersByTimeAsync(1500);
      expect(stop.signal.aborted).toBe(false);
      const over = stop.stoppedFor(2000);
      let done = false;
      void over.then(() => (done = true));
      await vi.advanceTimersByTimeAsync(4000);
      expect(stop.reason).toBe('later budget');
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(2000);
      expect(done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a first signal stops the run, a second is the caller\'s to handle; listeners are removed', () => {
    const seconds: string[] = [];
    const firsts: string[] = [];
    const stop = new RunStop({ onSecondSignal: (s) => seconds.push(s) });
    const before = process.listenerCount('SIGTERM');
    const off = stop.handleSignals((s) => firsts.push(s));
    process.emit('SIGTERM');
    process.emit('SIGTERM');
    off();
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(stop.reason).toBe('interrupted by SIGTERM');
    expect(firsts).toEqual(['SIGTERM']);
    expect(seconds).toEqual(['SIGTERM']);
  });
});
