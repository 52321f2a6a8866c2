import { describe, expect, it } from 'vitest';
import { errorText } from './error-text.js';

describe('errorText', () => {
  it('keeps an Error message as it is', () => {
    expect(errorText(new Error('pods "x" not found'))).toBe('pods "x" not found');
  });

  it("reads a ws ErrorEvent (what client-node's exec rejects with when the handshake fails)", () => {
    // The shape `ws` passes to onerror: { type, message, error, target }.
    const event = { type: 'error', message: 'Unexpected server response: 404', error: new Error('Unexpected server response: 404'), target: {} };
    expect(errorText(event)).toBe('Unexpected server response: 404');
  });

  it('reads the wrapped Error of an event without a message', () => {
    expect(errorText({ type: 'error', error: new Error('socket hang up') })).toBe('socket hang up');
  });

  it('reads a V1Status-like answer', () => {
    expect(errorText({ kind: 'Status', status: 'Failure', message: 'container not found ("app")', reason: 'NotFound' })).toBe('container not found ("app")');
    expect(errorText({ kind: 'Status', status: 'Failure', reason: 'NotFound' })).toBe('NotFound');
  });

  it('falls back to JSON for plain objects and names anything else', () => {
    expect(errorText({ code: 7 })).toBe('{"code":7}');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(errorText(circular)).toBe('unknown error (an object without a message)');
    expect(errorText(undefined)).toBe('unknown error (nothing was thrown)');
    expect(errorText(null)).toBe('unknown error (null)');
    expect(errorText('  ')).toBe('unknown error (empty message)');
    expect(errorText(42)).toBe('42');
  });

  it('uses the cause of an Error without a message', () => {
    expect(errorText(new Error('', { cause: { message: 'ECONNRESET' } }))).toBe('Error: ECONNRESET');
  });

  it('never answers [object Object]', () => {
    const samples: unknown[] = [{}, { type: 'error' }, { error: {} }, Object.create(null), new (class Weird {})(), [], { message: '' }];
    for (const s of samples) expect(errorText(s)).not.toContain('[object');
  });

  it('clips very long texts', () => {
    expect(errorText('x'.repeat(2000)).length).toBeLessThanOrEqual(501);
  });
});
