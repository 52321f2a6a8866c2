import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { describeUndoFailure, UndoStack, UndoTimeoutError } from './undo.js';

describe('UndoStack', () => {
  it('runs entries newest first, all of them, and reports every failure in that order', async () => {
    const order: string[] = [];
    const stack = new UndoStack(1_000);
    stack.push('delete namespace', async () => {
      order.push('namespace');
    });
    stack.push('stop load', async () => {
      order.push('load');
      throw new Error('exec failed');
    });
    stack.push('restore replicas', async () => {
      order.push('replicas');
      throw new Error('conflict');
    });
    const failures = await stack.runAll();
    expect(order).toEqual(['replicas', 'load', 'namespace']);
    expect(failures.map(describeUndoFailure)).toEqual(['restore replicas: conflict', 'stop load: exec failed']);
    expect(stack.pending()).toEqual([]);
  });

  it('counts NotFound as already undone', async () => {
    const stack = new UndoStack(1_000);
    stack.push('delete pod', async () => {
      throw new k8s.ApiException(404, 'Not Found', '{"kind":"Status","reason":"NotFound"}', {});
    });
    expect(await stack.runAll()).toEqual([]);
  });

  it('gives each entry its own time limit and aborts its signal', async () => {
    const stack = new UndoStack(1_000);
    let aborted = false;
    stack.push('slow', (signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => ((aborted = true), resolve()))), {
      timeoutMs: 20,
    });
    let ran = false;
    stack.push('fast', async () => {
      ran = true;
    });
    const failures = await stack.runAll();
    expect(ran).toBe(true);
    expect(aborted).toBe(true);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.error).toBeInstanceOf(UndoTimeoutError);
  });

  it('runNow runs one entry once and removes it; discard drops it', async () => {
    const stack = new UndoStack(1_000);
    const runs: string[] = [];
    stack.push('a', async () => void runs.push('a'));
    const b = stack.push('b', async () => void runs.push('b'));
    const c = stack.push('c', async () => void runs.push('c'));
    await b.runNow();
    await b.runNow();
    c.discard();
    expect(stack.pending()).toEqual(['a']);
    await stack.runAll();
    expect(runs).toEqual(['b', 'a']);
  });

  it('runNow rejects with the entry failure', async () => {
    const stack = new UndoStack(1_000);
    const e = stack.push('x', async () => {
      throw new Error('nope');
    });
    await expect(e.runNow()).rejects.toThrow('nope');
  });
});
