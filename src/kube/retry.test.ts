import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../model.js';
import { withRetry } from './retry.js';

const api = (code: number) => new k8s.ApiException(code, `HTTP ${code}`, JSON.stringify({ kind: 'Status', message: `status ${code}` }), {});
const fast = { minTimeoutMs: 1, maxTimeoutMs: 2 };

describe('withRetry', () => {
  it('retries transient errors and returns the eventual result', async () => {
    let n = 0;
    const value = await withRetry('read pod', async () => {
      n++;
      if (n === 1) throw api(429);
      if (n === 2) throw api(503);
      return 'ok';
    }, fast);
    expect(value).toBe('ok');
    expect(n).toBe(3);
  });

  it('does not retry a rejection of the request (4xx)', async () => {
    let n = 0;
    await expect(
      withRetry('apply', async () => {
        n++;
        throw api(422);
      }, fast),
    ).rejects.toMatchObject({ code: 422 });
    expect(n).toBe(1);
  });

  it('turns a connection error that persists into an EnvironmentError', async () => {
    let n = 0;
    const err = await withRetry('list pods', async () => {
      n++;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6550'), { code: 'ECONNREFUSED' });
    }, { ...fast, retries: 2 }).catch((e: unknown) => e);
    expect(n).toBe(3);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toContain('the cluster stopped answering while the grader tried to list pods');
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(withRetry('x', async () => 1, { signal: controller.signal })).rejects.toBeDefined();
  });

  it('bounds an attempt that never answers: retried, then the cluster is unreachable', async () => {
    let n = 0;
    const started = Date.now();
    const err = await withRetry('read pod', () => {
      n++;
      return new Promise<never>(() => undefined);
    }, { ...fast, retries: 1, attemptTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(n).toBe(2);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toMatch(/stopped answering while the grader tried to read pod: .*no answer within/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
