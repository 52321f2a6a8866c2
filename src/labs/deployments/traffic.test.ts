import { describe, expect, it } from 'vitest';
import { compareAnswers, hostnameOf, type Answer } from './traffic.js';

describe('hostnameOf', () => {
  it('reads the Pod name from whoami output, quiet or full, with or without a Name line', () => {
    expect(hostnameOf('Hostname: whoami-v2-5d8f7c9b4-x2k9q\nIP: 10.244.0.12\n')).toBe('whoami-v2-5d8f7c9b4-x2k9q');
    expect(hostnameOf('Name: blue\nHostname: web-1\nIP: 10.0.0.1\nRemoteAddr: 10.0.0.2:1\nGET / HTTP/1.1\r\n')).toBe('web-1');
    expect(hostnameOf('<html>Hostname: x</html>')).toBeUndefined();
  });
});

describe('compareAnswers', () => {
  const mine = new Set(['v1-a', 'v1-b']);
  const others = new Set(['v2-a', 'v2-b']);
  const ok = (pod: string): Answer => ({ status: 200, fromApiServer: false, pod });

  it('passes only when every request was answered by a Pod of the version', () => {
    const r = compareAnswers([ok('v1-a'), ok('v1-b'), ok('v1-a')], mine, others, 'v1');
    expect(r).toEqual({ ok: true, message: 'all 3 requests answered by v1 Pods: 2× v1-a (v1), 1× v1-b (v1)' });
  });

  it('names answers from the other version, from no Pod and errors', () => {
    const r = compareAnswers(
      [ok('v1-a'), ok('v2-b'), { status: 503, fromApiServer: true }, { status: 0, fromApiServer: false, error: 'socket hang up\nmore' }, ok('stranger')],
      mine, others, 'v1',
    );
    expect(r.ok).toBe(false);
    expect(r.message).toBe('1 of 5 requests answered by v1 Pods; answers: 1× v1-a (v1), 1× v2-b (the other version), 1× 503 from the API server (no Pod answered), 1× error: socket hang up, 1× stranger (neither version)');
  });

  it('fails with no answers at all', () => {
    expect(compareAnswers([], mine, others, 'v2')).toEqual({ ok: false, message: '0 of 0 requests answered by v2 Pods; answers: none' });
  });
});
