import { describe, expect, it } from 'vitest';
import {
  commonLabels, compareSource, cpuMilli, podFootprint, distinguishingLabel, exerciseFrom, identifyVersions, imageRepository, readExercise, selects, splitDefinitions, type Obj,
} from './model.js';

const deployment = (name: string, labels: Record<string, string>, file = 'd.yaml', image = 'sixeyed/whoami:21.04'): Obj => ({
  kind: 'Deployment', name, file, line: 1,
  body: { kind: 'Deployment', metadata: { name }, spec: { replicas: 2, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image }] } } } },
});
const service = (name: string, selector: Record<string, string>, file: string, line = 1): Obj => ({
  kind: 'Service', name, file, line, body: { kind: 'Service', metadata: { name }, spec: { selector } },
});

describe('splitDefinitions', () => {
  it('takes files in the lexical order of their relative paths: the first definition is applied first, later ones are the switch', () => {
    const v2 = service('whoami', { version: 'v2' }, 'whoami-service-v2.yaml');
    const v1 = service('whoami', { version: 'v1' }, 'whoami-service-v1.yaml');
    const d = deployment('whoami-v1', { version: 'v1' }, 'whoami-deployments.yaml');
    const { first, later } = splitDefinitions([v2, d, v1]);
    expect(first).toEqual([d, v1]);
    expect(later).toEqual([v2]);
  });

  it('orders folders by path, code point by code point (v1/… before v2/…, "a-b" before "a/b")', () => {
    expect(['v2/a.yaml', 'v1/z.yaml', 'a/b.yaml', 'a-b.yaml'].sort((a, b) => compareSource({ file: a }, { file: b }))).toEqual(['a-b.yaml', 'a/b.yaml', 'v1/z.yaml', 'v2/a.yaml']);
    const later = service('web', { release: 'green' }, 'v2/service.yaml');
    const { first, later: sw } = splitDefinitions([later, service('web', { release: 'blue' }, 'v1/service.yaml')]);
    expect(first[0]?.file).toBe('v1/service.yaml');
    expect(sw).toEqual([later]);
  });

  it('takes later files as switch steps in order; a repeat within the first file is no switch (policy says "defined twice")', () => {
    const a = service('s', { v: '1' }, 'all.yaml', 1);
    const b = service('s', { v: '2' }, 'all.yaml', 20);
    const c = service('s', { v: '3' }, 'b.yaml', 1);
    const d = service('s', { v: '4' }, 'c.yaml', 1);
    expect(splitDefinitions([d, c, b, a])).toEqual({ first: [a, b], later: [c, d] });
    expect(readExercise([d, c, a]).switched[0]).toEqual({ before: a, after: d });
  });
});

describe('images and selectors', () => {
  it('reads the repository of an image reference', () => {
    expect(imageRepository('sixeyed/whoami:21.04')).toBe('sixeyed/whoami');
    expect(imageRepository('docker.io/sixeyed/whoami@sha256:abc')).toBe('sixeyed/whoami');
    expect(imageRepository('localhost:5000/sixeyed/whoami')).toBe('localhost:5000/sixeyed/whoami');
    expect(imageRepository('docker.io/library/nginx:1')).toBe('nginx');
  });

  it('selects Pods carrying every label of the selector; an empty selector selects nothing', () => {
    expect(selects({ app: 'whoami', version: 'v1' }, { app: 'whoami', version: 'v1', extra: 'x' })).toBe(true);
    expect(selects({ app: 'whoami', version: 'v1' }, { app: 'whoami', version: 'v2' })).toBe(false);
    expect(selects({}, { app: 'whoami' })).toBe(false);
  });

  it('finds the label whose value tells two label sets apart, preferring version', () => {
    expect(distinguishingLabel({ app: 'w', tier: 'a', version: 'v1' }, { app: 'w', tier: 'b', version: 'v2' })).toEqual({ key: 'version', a: 'v1', b: 'v2' });
    expect(distinguishingLabel({ app: 'w', release: 'blue' }, { app: 'w', release: 'green' })).toEqual({ key: 'release', a: 'blue', b: 'green' });
    expect(distinguishingLabel({ app: 'w' }, { app: 'w', version: 'v2' })).toBeUndefined();
  });
});

describe('podFootprint', () => {
  it('counts the replicas and the most CPU one Pod requests, defaulting like the LimitRange', () => {
    expect(['125m', '0.5', 1, '2x', undefined].map(cpuMilli)).toEqual([125, 500, 1000, undefined, undefined]);
    const withLimit = deployment('b', {});
    (withLimit.body.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers[0]!.resources = { limits: { cpu: '300m' } };
    expect(podFootprint([deployment('a', {}), withLimit], 125)).toEqual({ pods: 4, cpuMilli: 300 });
    expect(podFootprint([], 125)).toEqual({ pods: 0, cpuMilli: 0 });
  });
});

describe('commonLabels', () => {
  it('keeps the labels all Pods share with one value, without pod-template-hash', () => {
    expect(commonLabels([{ app: 'w', version: 'v1', 'pod-template-hash': 'a' }, { app: 'w', version: 'v1', 'pod-template-hash': 'b', x: '1' }])).toEqual({ app: 'w', version: 'v1' });
    expect(commonLabels([{ app: 'w' }, undefined])).toEqual({});
    expect(commonLabels([])).toEqual({});
  });
});

describe('identifyVersions', () => {
  const a = deployment('whoami-a', { app: 'whoami', color: 'a' });
  const b = deployment('whoami-b', { app: 'whoami', color: 'b' });

  it('reads v1/v2 and blue/green from names and labels, whatever the order', () => {
    const v2 = deployment('whoami-v2', { app: 'whoami', version: 'v2' });
    const v1 = deployment('whoami-v1', { app: 'whoami', version: 'v1' });
    expect(identifyVersions([v2, v1], [], [])).toMatchObject({ v1, v2 });
    const green = deployment('web-green', { release: 'green' });
    const blue = deployment('web-blue', { release: 'blue' });
    expect(identifyVersions([green, blue], [], [])).toMatchObject({ v1: blue, v2: green });
  });

  it('else takes v1 as the one the Service selects before the switch, then the one the switch does not select', () => {
    expect(identifyVersions([a, b], [service('s', { color: 'b' }, 'x')], [])).toMatchObject({ v1: b, v2: a });
    expect(identifyVersions([a, b], [service('s', { app: 'whoami' }, 'x')], [service('s', { color: 'a' }, 'y')])).toMatchObject({ v1: b, v2: a });
    expect(identifyVersions([a, b], [], [])).toMatchObject({ v1: a, v2: b, basis: 'the order they are written in' });
  });

  it('needs exactly two Deployments', () => {
    expect(identifyVersions([a], [], [])).toBeUndefined();
    expect(identifyVersions([a, b, deployment('c', {})], [], [])).toBeUndefined();
  });
});

describe('exerciseFrom', () => {
  it('checks the switched Services, or without a switch every Service selecting whoami Pods', () => {
    const v1 = deployment('whoami-v1', { app: 'whoami', version: 'v1' });
    const v2 = deployment('whoami-v2', { app: 'whoami', version: 'v2' });
    const other = service('other', { app: 'nginx' }, 'b.yaml');
    const s1 = service('whoami', { app: 'whoami', version: 'v1' }, 'c.yaml');
    const s2 = service('whoami', { app: 'whoami', version: 'v2' }, 'd.yaml');
    const ex = exerciseFrom([v1, v2, other, s1], [s2]);
    expect(ex.services).toEqual([s1]);
    expect(ex.switched).toEqual([{ before: s1, after: s2 }]);
    const none = exerciseFrom([v1, v2, other, s1], []);
    expect(none.services).toEqual([s1]);
    expect(none.switched).toEqual([]);
    expect(none.files).toEqual(['b.yaml', 'c.yaml', 'd.yaml']);
  });

  it('leaves out Deployments of other images', () => {
    const ex = exerciseFrom([deployment('whoami-v1', { version: 'v1' }), deployment('web', { app: 'web' }, 'd.yaml', 'nginx:1'), deployment('whoami-v2', { version: 'v2' })], []);
    expect(ex.whoami.map((d) => d.name)).toEqual(['whoami-v1', 'whoami-v2']);
  });
});
