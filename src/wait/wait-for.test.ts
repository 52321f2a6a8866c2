import { describe, expect, it } from 'vitest';
import { holdsFor, LookTimeout, waitFor, WaitAbortedError, WaitTimeoutError } from './wait-for.js';

describe('waitFor', () => {
  it('bounds a look that never answers: not a timeout of the claim, an undecided look', async () => {
    const started = Date.now();
    const err = await waitFor(() => new Promise<never>(() => undefined), { description: 'the Pod is Ready', timeoutMs: 50, lookGraceMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LookTimeout);
    expect(err).not.toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toMatch(/could not tell whether the Pod is Ready: the last look did not answer/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('an abort ends a look that hangs', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const err = await waitFor(() => new Promise<never>(() => undefined), { description: 'x', timeoutMs: 60_000, signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitAbortedError);
  });

  it('returns the first observation that is done', async () => {
    let n = 0;
    const obs = await waitFor(async () => ({ done: ++n === 3, observed: `n=${n}`, value: n }), {
      description: 'n reaches 3',
      timeoutMs: 5_000,
      intervalsMs: [1],
    });
    expect(obs.value).toBe(3);
  });

  it('times out naming the expectation and the last observation and error', async () => {
    let n = 0;
    const err = await waitFor(
      async () => {
        n++;
        if (n % 2 === 0) throw new Error('connection refused');
        return { done: false, observed: `replicas=${n}` };
      },
      { description: 'replicas reach 5', timeoutMs: 50, intervalsMs: [5] },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toMatch(/waiting until replicas reach 5; last seen: replicas=\d+/);
  });

  it('stops at once on a fatal error', async () => {
    let calls = 0;
    const fatal = new Error('CrashLoopBackOff');
    await expect(
      waitFor(
        async () => {
          calls++;
          throw fatal;
        },
        { description: 'x', timeoutMs: 5_000, intervalsMs: [1], isFatal: (e) => e === fatal },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(
      waitFor(async () => ({ done: false, observed: 'still waiting' }), {
        description: 'never',
        timeoutMs: 10_000,
        intervalsMs: [5],
        signal: controller.signal,
      }),
    ).rejects.toBeInstanceOf(WaitAbortedError);
  });
});

describe('holdsFor', () => {
  it('fails at the first observation that breaks the claim', async () => {
    let n = 0;
    await expect(
      holdsFor(async () => ({ done: ++n < 3, observed: `status ${n < 3 ? 200 : 503}` }), {
        description: 'the Service answers 200',
        durationMs: 5_000,
        intervalMs: 1,
      }),
    ).rejects.toThrow(/to hold for 5s, but: status 503/);
  });
});
