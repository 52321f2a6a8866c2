// Readable text for anything thrown or passed to an error callback. Not every error is an Error:
// the WebSocket library hands client-node's exec an ErrorEvent ({ type, message, error }), a
// failed HTTP call may carry a V1Status body, a callback may pass a plain object or a string.
// `String(x)` turns those into "[object Object]"; this never does.

const MAX_LENGTH = 500;

export function errorText(error: unknown): string {
  return clip(describe(error, 0));
}

function describe(error: unknown, depth: number): string {
  if (error === undefined) return 'unknown error (nothing was thrown)';
  if (error === null) return 'unknown error (null)';
  if (typeof error === 'string') return error.trim() || 'unknown error (empty message)';
  if (typeof error === 'number' || typeof error === 'boolean' || typeof error === 'bigint') return String(error);
  if (typeof error === 'symbol') return error.description ?? 'symbol';
  if (typeof error === 'function') return `function ${error.name || '(anonymous)'}`;
  if (error instanceof Error) {
    const text = error.message.trim();
    if (text) return text;
    const cause = depth < 3 && error.cause !== undefined ? describe(error.cause, depth + 1) : '';
    return cause ? `${error.name}: ${cause}` : `${error.name} (no message)`;
  }
  const o = error as Record<string, unknown>;
  // ErrorEvent from `ws`: the useful text is its message, or the Error it wraps.
  if (typeof o.message === 'string' && o.message.trim()) return o.message.trim();
  if (depth < 3 && o.error !== undefined && o.error !== error) {
    const inner = describe(o.error, depth + 1);
    if (!inner.startsWith('unknown error')) return inner;
  }
  // A V1Status or a similar API answer.
  if (typeof o.reason === 'string' && o.reason) return o.reason;
  if (typeof o.status === 'string' && o.status) return `status ${o.status}`;
  if (typeof o.type === 'string' && o.type) return `${o.type} event without a message`;
  try {
    const json = JSON.stringify(error);
    if (json && json !== '{}') return json;
  } catch {
    // circular: fall through
  }
  const name = (error as { constructor?: { name?: string } }).constructor?.name;
  return `unknown error (${name && name !== 'Object' ? `a ${name}` : 'an object'} without a message)`;
}

function clip(text: string): string {
  const one = text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}…` : text;
  return one;
}
