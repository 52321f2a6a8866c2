import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { queueView, RESERVATION_MS } from './room-queue.js';

const NOW = Date.parse('2026-12-01T13:00:00Z');
const ns = (name: string, created: string, room?: { state: string; milli: number; since?: string }, owner = { host: 'h', pid: '1' }): k8s.V1Namespace => ({
  metadata: {
    name,
    creationTimestamp: new Date(created),
    labels: { 'app.kubernetes.io/managed-by': 'kube-lab-grader' },
    annotations: {
      'io.kube-lab-grader/host': owner.host,
      'io.kube-lab-grader/pid': owner.pid,
      ...(room
        ? { 'io.kube-lab-grader/room': room.state, 'io.kube-lab-grader/room-cpu-milli': String(room.milli), 'io.kube-lab-grader/room-since': room.since ?? '2026-12-01T12:59:50Z' }
        : {}),
    },
  },
});
const pod = (cpu: string): k8s.V1Pod => ({ spec: { containers: [{ name: 'app', resources: { requests: { cpu } } }] } });
const alive = () => true;

describe('gradings waiting for room take turns', () => {
  it('the oldest waiting grading goes first', () => {
    const all = [ns('a', '2026-12-01T12:58:00Z', { state: 'waiting', milli: 625 }), ns('b', '2026-12-01T12:59:00Z', { state: 'waiting', milli: 625 }), ns('me', '2026-12-01T12:59:30Z')];
    expect(queueView('me', all, new Map(), NOW, alive).ahead).toEqual(['a', 'b']);
    expect(queueView('a', all, new Map(), NOW, alive).ahead).toEqual([]);
    expect(queueView('b', all, new Map(), NOW, alive).ahead).toEqual(['a']);
  });

  it('keeps the room of a grading just let in until its Pods exist', () => {
    const all = [ns('a', '2026-12-01T12:58:00Z', { state: 'admitted', milli: 625 }), ns('me', '2026-12-01T12:59:30Z')];
    expect(queueView('me', all, new Map(), NOW, alive).reservedMilli).toBe(625);
    expect(queueView('me', all, new Map([['a', [pod('125m'), pod('125m')]]]), NOW, alive).reservedMilli).toBe(375);
    expect(queueView('me', all, new Map([['a', [1, 2, 3, 4, 5].map(() => pod('125m'))]]), NOW, alive).reservedMilli).toBe(0);
    // Not for ever: the reservation lapses.
    expect(queueView('me', all, new Map(), NOW + RESERVATION_MS + 11_000, alive).reservedMilli).toBe(0);
  });

  it('ignores gradings of dead processes, namespaces being deleted and its own namespace', () => {
    const dead = ns('dead', '2026-12-01T12:50:00Z', { state: 'waiting', milli: 625 }, { host: 'h', pid: '999' });
    const gone = { ...ns('gone', '2026-12-01T12:50:00Z', { state: 'waiting', milli: 625 }), metadata: { ...ns('gone', '2026-12-01T12:50:00Z', { state: 'waiting', milli: 625 }).metadata, deletionTimestamp: new Date(NOW) } };
    const me = ns('me', '2026-12-01T12:59:30Z', { state: 'waiting', milli: 625 });
    const view = queueView('me', [dead, gone, me], new Map(), NOW, (_h, pid) => pid !== 999);
    expect(view).toEqual({ ahead: [], reservedMilli: 0 });
  });
});
