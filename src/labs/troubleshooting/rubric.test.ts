// The static rubric on the lab's fixtures (each must fail exactly the static checks its
// expected.json lists) and on the pieces it is built from.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSubmission, parseManifests } from '../../submission/load.js';
import { applyPolicy } from '../../submission/policy.js';
import { appPort, commandVerdict, modeOf, probeProblems, servesPath, targetPortProblem } from './app.js';
import { CHECKS, type StaticCheckId } from './catalogue.js';
import { rubric } from './rubric.js';

const root = fileURLToPath(new URL('../../../fixtures/labs/troubleshooting/', import.meta.url));
const fixtures = readdirSync(root).filter((n) => statSync(path.join(root, n)).isDirectory()).sort();
const STATIC_IDS = CHECKS.filter((c) => c.kind === 'static').map((c) => c.id) as StaticCheckId[];

async function staticVerdicts(dir: string) {
  const sub = await loadSubmission(dir);
  const policy = applyPolicy(sub.objects, { namespace: 'lab-grader-fixture' });
  const ctx = rubric.context({ ...sub, objects: policy.objects }, sub.objects);
  return Object.fromEntries(STATIC_IDS.map((id) => [id, rubric.checks[id]?.(ctx)]));
}

describe('troubleshooting static rubric on the fixtures', () => {
  it('has a reference and several failing fixtures', () => {
    expect(fixtures).toContain('reference');
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });
  it('implements every static check of the catalogue', () => {
    for (const id of STATIC_IDS) expect(rubric.checks[id], id).toBeTypeOf('function');
  });
  for (const name of fixtures) {
    it(`${name}: fails exactly the static checks expected.json lists`, async () => {
      const expected = JSON.parse(readFileSync(path.join(root, name, 'expected.json'), 'utf8')) as { lab: string; static: { exit: number; failed: string[] } };
      expect(expected.lab).toBe('troubleshooting');
      const verdicts = await staticVerdicts(path.join(root, name));
      const failed = Object.entries(verdicts).filter(([, v]) => !v?.passed).map(([id]) => id);
      expect(failed, JSON.stringify(verdicts, null, 1)).toEqual(expected.static.failed);
      expect(failed.length > 0 ? 1 : 0).toBe(expected.static.exit);
      for (const [id, v] of Object.entries(verdicts)) if (!v?.passed && id !== 'submission.parses') expect(v?.location, `${id} points at the learner's file`).toBeDefined();
    });
  }
  it('names the lab\'s faults in the starting specs', async () => {
    const v = await staticVerdicts(path.join(root, 'starting-specs'));
    expect(v['pods.image']?.message).toContain('kiamol/ch05-pi-app');
    expect(v['pods.command']?.message).toContain('"donet" is not `dotnet`');
    expect(v['pods.probes-target-app']?.message).toMatch(/readinessProbe asks port 8020, but the app listens on port 80; the livenessProbe asks path \/healthy/);
    expect(v['service.node-port-30020']?.message).toContain('nodePort 8020, outside the range');
    expect(v['service.target-port-matches']?.message).toContain('targetPort "app", which names no port of the app container (its ports: http=80)');
    expect(v['service.target-port-matches']?.location).toMatchObject({ file: 'service.yaml', line: 13 });
  });
});

const container = (yaml: string): Record<string, unknown> => {
  const parsed = parseManifests('c.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {}\nc:\n${yaml.replace(/^/gm, '  ')}`);
  return (parsed.objects[0]?.body as { c: Record<string, unknown> }).c;
};

describe('the Pi app\'s command line', () => {
  it('accepts the lab\'s command and its equivalents', () => {
    expect(commandVerdict({ command: ['dotnet', 'Pi.Web.dll', '-m', 'web'] }).ok).toBe(true);
    expect(commandVerdict({ args: ['-m', 'web'] }).ok).toBe(true);
    expect(commandVerdict({ command: ['/usr/bin/dotnet', '/app/Pi.Web.dll'], args: ['-mode=Web', '-dp', '10'] }).ok).toBe(true);
    expect(commandVerdict({ command: ['sh', '-c', 'exec dotnet Pi.Web.dll -m web'] }).ok).toBe(true);
  });
  it('rejects what does not run the web app', () => {
    expect(commandVerdict({}).message).toContain('console mode (the image\'s default)');
    expect(commandVerdict({ command: ['donet', 'Pi.Web.dll', '-m', 'web'] }).ok).toBe(false);
    expect(commandVerdict({ command: ['dotnet', 'Pi.Web.dll', '-m', 'console'] }).ok).toBe(false);
    expect(commandVerdict({ command: ['dotnet', 'Pi.Web.dll', '-m', 'web'], workingDir: '/tmp' }).field).toBe('workingDir');
    expect(commandVerdict({ command: ['dotnet', 'Pi.dll', '-m', 'web'] }).ok).toBe(false);
    expect(commandVerdict({ command: ['sh', '-c', 'dotnet Pi.Web.dll'] }).ok).toBe(false);
  });
  it('reads the mode as the app does', () => {
    expect(modeOf(['-m', 'web'])).toBe('web');
    expect(modeOf(['-Mode:WEB'])).toBe('web');
    expect(modeOf([])).toBe('console');
  });
});

describe('ports, paths and probes', () => {
  it('finds the port the app listens on', () => {
    expect(appPort({})).toBe(80);
    expect(appPort({ env: [{ name: 'ASPNETCORE_URLS', value: 'http://+:5001' }] })).toBe(5001);
    expect(appPort({ env: [{ name: 'ASPNETCORE_URLS', valueFrom: {} }] })).toBeUndefined();
  });
  it('knows the paths the app serves', () => {
    for (const p of ['/', '/pi', '/PI/Index/', '/pi/index/3?dp=2', '/?dp=10']) expect(servesPath(p), p).toBe(true);
    for (const p of ['/healthy', '/healthz', '/pi/other', '/pi/index/1/2']) expect(servesPath(p), p).toBe(false);
  });
  it('judges probes by number or name', () => {
    const c = container('ports: [{containerPort: 80, name: http}]\nreadinessProbe: {tcpSocket: {port: http}}\nlivenessProbe: {httpGet: {path: /pi, port: 80}}');
    expect(probeProblems(c)).toEqual([]);
    const bad = container('ports: [{containerPort: 80, name: http}]\nreadinessProbe: {tcpSocket: {port: web}}\nlivenessProbe: {httpGet: {path: /, port: 80, scheme: HTTPS}}');
    expect(probeProblems(bad).map((p) => p.field)).toEqual(['tcpSocket.port', 'httpGet.scheme']);
  });
  it('resolves a Service targetPort like the EndpointSlice controller', () => {
    const c = { ports: [{ containerPort: 80, name: 'http' }] };
    expect(targetPortProblem(c, { index: 0, port: 8020, targetPort: 'http' })).toBeUndefined();
    expect(targetPortProblem(c, { index: 0, port: 80 })).toBeUndefined();
    expect(targetPortProblem(c, { index: 0, port: 8020 })).toContain('sends traffic to port 8020 of the Pods, but the app listens on port 80');
    expect(targetPortProblem(c, { index: 0, port: 8020, targetPort: 'app' })).toContain('names no port');
  });
});
