// The lab's images, as the cluster serves them (offline: the look-alikes), behave the way the
// lab and docs/lab-apps.md describe: HTTP routes and status codes through the API server's pod
// proxy, and what `kubectl exec` finds inside them, as root and hardened like pi-secure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from '../src/kube/client.js';
import { createNamespace, deleteNamespace } from '../src/kube/workloads.js';
import { TEST_LABEL, testKube } from './support/cluster.js';
import {
  CONFIGURABLE_IMAGE,
  lookalikePod,
  NOBODY,
  PI_IMAGE,
  podExec,
  podHttp,
  SA_TOKEN,
  startPods,
  WHOAMI_IMAGE,
} from './support/lookalikes.js';

const kube: Kube = testKube();
const namespaces: string[] = [];

async function freshNamespace(prefix: string): Promise<string> {
  const ns = await createNamespace(kube, prefix, { [TEST_LABEL]: prefix });
  namespaces.push(ns);
  return ns;
}

afterAll(async () => {
  if (process.env.LAB_GRADER_KEEP_NAMESPACES === '1') return;
  await Promise.all(namespaces.map((ns) => deleteNamespace(kube, ns)));
});

describe('sixeyed/whoami:21.04', () => {
  let ns: string;
  let http: ReturnType<typeof podHttp>;

  beforeAll(async () => {
    ns = await freshNamespace('lookalike-whoami');
    await startPods(kube, [lookalikePod({ name: 'whoami', namespace: ns, image: WHOAMI_IMAGE, env: { WHOAMI_MODE: 'q' }, port: 80 })]);
    http = podHttp(kube, ns, 'whoami', 80);
  });

  it('answers / with its host name while healthy', async () => {
    const r = await http('/');
    expect(r.fromApiServer).toBe(false);
    expect(r.status).toBe(200);
    expect(r.body).toContain('Hostname: whoami');
    expect(r.body).toMatch(/^IP: /m);
    // quiet mode: no request dump
    expect(r.body).not.toContain('RemoteAddr');
  });

  it('fails / with the code POSTed to /health and an empty body, ignores it on /api, and recovers on POST 200', async () => {
    try {
      const set = await http('/health', { method: 'POST', body: '503' });
      expect(set.status).toBe(200);
      expect(set.body).toBe('');

      const failed = await http('/');
      expect(failed.fromApiServer).toBe(false);
      expect(failed.status).toBe(503);
      expect(failed.body).toBe('');

      const health = await http('/health');
      expect(health.status).toBe(503);

      const api = await http('/api');
      expect(api.status).toBe(200);
      expect(JSON.parse(api.body)).toMatchObject({ hostname: 'whoami' });

      const restore = await http('/health', { method: 'POST', body: '200' });
      expect(restore.status).toBe(200);
      const ok = await http('/');
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('Hostname: whoami');
    } finally {
      await http('/health', { method: 'POST', body: '200' }).catch(() => undefined);
    }
  });

  it('rejects a /health body that is not a number', async () => {
    const r = await http('/health', { method: 'POST', body: 'broken' });
    expect(r.status).toBe(400);
    expect((await http('/')).status).toBe(200);
  });

  it('has no shell: exec sh fails because the executable is not found', async () => {
    const r = await podExec(kube, ns, 'whoami')('sh', '-c', 'echo hello');
    expect(r.exitCode).toBeUndefined();
    expect(r.stdout).not.toContain('hello');
    expect(r.startFailure, r.statusMessage).toBe('executable-not-found');
  });
});

describe('kiamol/ch05-pi', () => {
  let ns: string;
  const webCommand = ['dotnet', 'Pi.Web.dll', '-m', 'web'];

  beforeAll(async () => {
    ns = await freshNamespace('lookalike-pi');
    await startPods(kube, [
      lookalikePod({ name: 'pi', namespace: ns, image: PI_IMAGE, command: webCommand, port: 80 }),
      lookalikePod({
        name: 'pi-secure',
        namespace: ns,
        image: PI_IMAGE,
        command: webCommand,
        env: { ASPNETCORE_URLS: 'http://+:5001' },
        port: 5001,
        hardened: true,
      }),
    ]);
  });

  it('serves pi truncated to dp decimals', async () => {
    const r = await podHttp(kube, ns, 'pi', 80)('/?dp=6');
    expect(r.status).toBe(200);
    expect(r.body).toContain('3.141592');
    expect(r.body).not.toContain('3.1415926');
    expect(r.body).toContain('To: 6 d.p.');
    expect(r.body).toContain('from: pi');
  });

  it('answers 404 for a path it does not serve', async () => {
    const r = await podHttp(kube, ns, 'pi', 80)('/no-such-page');
    expect(r.fromApiServer).toBe(false);
    expect(r.status).toBe(404);
  });

  it('listens on the port in ASPNETCORE_URLS (5001) and not on 80', async () => {
    const r = await podHttp(kube, ns, 'pi-secure', 5001)('/pi?dp=6');
    expect(r.status).toBe(200);
    expect(r.body).toContain('3.141592');
    const on80 = await podHttp(kube, ns, 'pi-secure', 80)('/');
    expect(on80.status).not.toBe(200);
    expect(on80.fromApiServer).toBe(true);
  });

  it('runs as root by default: whoami, id -u and chown of an /app file succeed', async () => {
    const exec = podExec(kube, ns, 'pi');
    const who = await exec('whoami');
    expect(who.exitCode).toBe(0);
    expect(who.stdout.trim()).toBe('root');
    const uid = await exec('id', '-u');
    expect(uid.stdout.trim()).toBe('0');
    const chown = await exec('chown', 'root:root', '/app/Pi.Web.dll');
    expect(chown.exitCode, chown.stderr).toBe(0);
  });

  it('mounts a service-account token by default', async () => {
    const r = await podExec(kube, ns, 'pi')('cat', SA_TOKEN);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^eyJ/);
  });

  it('hardened (uid 65534, no capabilities, no token): nobody, no token file, chown not permitted', async () => {
    const exec = podExec(kube, ns, 'pi-secure');
    const uid = await exec('id', '-u');
    expect(uid.exitCode).toBe(0);
    expect(uid.stdout.trim()).toBe(String(NOBODY));
    const who = await exec('whoami');
    expect(who.stdout.trim()).toBe('nobody');

    const token = await exec('cat', SA_TOKEN);
    expect(token.startFailure).toBeUndefined();
    expect(token.exitCode).toBe(1);
    expect(token.stderr).toContain('No such file or directory');
    expect(token.stdout).toBe('');

    const chown = await exec('chown', 'root:root', '/app/Pi.Web.dll');
    expect(chown.startFailure).toBeUndefined();
    expect(chown.exitCode).toBe(1);
    expect(chown.stderr).toContain('Operation not permitted');
  });
});

describe('sixeyed/configurable:21.04', () => {
  let ns: string;

  beforeAll(async () => {
    ns = await freshNamespace('lookalike-configurable');
    await startPods(kube, [
      lookalikePod({
        name: 'configurable',
        namespace: ns,
        image: CONFIGURABLE_IMAGE,
        env: { Configurable__FailAfterCallCount: '2' },
        port: 80,
      }),
      lookalikePod({
        name: 'configurable-secure',
        namespace: ns,
        image: CONFIGURABLE_IMAGE,
        env: { ASPNETCORE_URLS: 'http://+:8080' },
        port: 8080,
        hardened: true,
      }),
    ]);
  });

  it('serves two calls of / and then fails with 500, /healthz too, and never recovers', async () => {
    const http = podHttp(kube, ns, 'configurable', 80);
    expect((await http('/healthz')).status).toBe(200);
    const first = await http('/');
    expect(first.status).toBe(200);
    expect(first.body).toContain('FailAfterCallCount');
    expect((await http('/')).status).toBe(200);
    // /healthz is not a call: still healthy after two page loads
    expect((await http('/healthz')).status).toBe(200);
    const third = await http('/');
    expect(third.fromApiServer).toBe(false);
    expect(third.status).toBe(500);
    expect((await http('/healthz')).status).toBe(500);
    expect((await http('/')).status).toBe(500);
  });

  it('answers 404 on /health, which it does not serve', async () => {
    const r = await podHttp(kube, ns, 'configurable', 80)('/health');
    expect(r.fromApiServer).toBe(false);
    expect(r.status).toBe(404);
  });

  it('runs as root by default: whoami, id -u and chown of an /app file succeed', async () => {
    const exec = podExec(kube, ns, 'configurable');
    expect((await exec('whoami')).stdout.trim()).toBe('root');
    const uid = await exec('id', '-u');
    expect(uid.exitCode).toBe(0);
    expect(uid.stdout.trim()).toBe('0');
    const chown = await exec('chown', 'root:root', '/app/configurable.web.dll');
    expect(chown.exitCode, chown.stderr).toBe(0);
  });

  it('hardened (uid 65534, no capabilities, no token): nobody, no token file, chown not permitted', async () => {
    const exec = podExec(kube, ns, 'configurable-secure');
    const uid = await exec('id', '-u');
    expect(uid.stdout.trim()).toBe(String(NOBODY));
    expect((await exec('whoami')).stdout.trim()).toBe('nobody');

    const token = await exec('cat', SA_TOKEN);
    expect(token.exitCode).toBe(1);
    expect(token.stderr).toContain('No such file or directory');

    const chown = await exec('chown', 'root:root', '/app/configurable.web.dll');
    expect(chown.exitCode).toBe(1);
    expect(chown.stderr).toContain('Operation not permitted');
  });
});
