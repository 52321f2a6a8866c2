// scripts/host/ensure-docker.sh changes nothing on a host where Docker works unless a flag asks
// for it, and what --configure-runtime changes, --restore-host undoes. Runs on the live host
// (the one that runs the cluster): the no-flag case checks the real daemon.json, dockerd's PID and
// the wrapper; configure/restore run against a scratch daemon.json (LAB_GRADER_HOST_* paths) and
// never restart Docker.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/host/ensure-docker.sh');
const DAEMON_JSON = '/etc/docker/daemon.json';
const WRAPPER = '/usr/local/libexec/kube-lab-grader/runc-without-sys-resource';
const STATE = '/var/lib/kube-lab-grader/host';
const RUNTIME = 'runc-without-sys-resource';

/** The bounding set lacks CAP_SYS_RESOURCE (24): the runtime workaround applies on this host. */
function hostNeedsWrapper(): boolean {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:')) ?? '';
  return ((BigInt(`0x${line.split(/\s+/)[1] ?? '0'}`) >> 24n) & 1n) === 0n;
}

function fingerprint(path: string): string {
  if (!existsSync(path)) return 'absent';
  const st = statSync(path);
  return `${createHash('sha256').update(readFileSync(path)).digest('hex')} mode ${st.mode.toString(8)} mtime ${st.mtimeMs}`;
}

async function dockerdPid(): Promise<string> {
  return (await execa('pgrep', ['-x', 'dockerd'], { reject: false })).stdout.trim();
}

async function runningContainers(): Promise<string[]> {
  return (await execa('docker', ['ps', '-q', '--no-trunc'], { reject: false })).stdout.split('\n').filter(Boolean);
}

async function hostState(): Promise<Record<string, string>> {
  return {
    daemonJson: fingerprint(DAEMON_JSON),
    wrapper: fingerprint(WRAPPER),
    state: existsSync(STATE) ? `present ${statSync(STATE).mtimeMs}` : 'absent',
    dockerdPid: await dockerdPid(),
    inotify: readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8').trim(),
  };
}

function run(args: string[], env: Record<string, string> = {}) {
  return execa('bash', [SCRIPT, ...args], { reject: false, all: true, env, timeout: 60_000 });
}

describe('ensure-docker.sh', () => {
  it('without flags changes nothing where Docker works: daemon.json, wrapper, dockerd PID, containers', async () => {
    const before = await hostState();
    const containers = await runningContainers();
    expect(before.dockerdPid, 'dockerd runs on this host').toMatch(/^\d+$/);
    const r = await run([]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toMatch(/docker \S+ is ready/);
    expect(await hostState()).toEqual(before);
    // Others may start containers meanwhile; none of those running before may have stopped.
    const after = await runningContainers();
    expect(containers.filter((c) => !after.includes(c))).toEqual([]);
  });

  it('rejects unknown and contradictory flags with exit 4, changing nothing', async () => {
    const before = await hostState();
    expect((await run(['--restart'])).exitCode).toBe(4);
    expect((await run(['--configure-runtime', '--restore-host'])).exitCode).toBe(4);
    expect(await hostState()).toEqual(before);
  });

  describe('on a scratch daemon.json (Docker itself is neither reconfigured nor restarted)', () => {
    const scratch = () => {
      const dir = mkdtempSync(join(tmpdir(), 'ensure-docker-'));
      const env = {
        LAB_GRADER_HOST_DAEMON_JSON: join(dir, 'etc/daemon.json'),
        LAB_GRADER_HOST_WRAPPER: join(dir, 'libexec/runc-without-sys-resource'),
        LAB_GRADER_HOST_STATE: join(dir, 'state'),
      };
      return { dir, env, daemonJson: env.LAB_GRADER_HOST_DAEMON_JSON };
    };
    // The live dockerd already runs the wrapper as its default runtime on hosts that need it, so
    // configuring the scratch copy asks for no restart.
    const needs = hostNeedsWrapper();

    it('--configure-runtime keeps a backup; --restore-host puts the file back byte for byte', async () => {
      const pid = await dockerdPid();
      const { env, daemonJson, dir } = scratch();
      const original = '{\n  "log-level": "warn",\n  "runtimes": { "other": { "path": "/bin/true" } }\n}\n';
      await execa('mkdir', ['-p', join(dir, 'etc')]);
      writeFileSync(daemonJson, original);
      const configured = await run(['--configure-runtime'], env);
      expect(configured.exitCode, configured.all).toBe(0);
      if (needs) {
        const now = JSON.parse(readFileSync(daemonJson, 'utf8')) as Record<string, unknown> & { runtimes: Record<string, unknown> };
        expect(now['default-runtime']).toBe(RUNTIME);
        expect(now['log-level']).toBe('warn');
        expect(Object.keys(now.runtimes).sort()).toEqual(['other', RUNTIME]);
        expect(readFileSync(join(dir, 'state/daemon.json.before-kube-lab-grader'), 'utf8')).toBe(original);
        expect(configured.all).toMatch(/undo with --restore-host/);
        // A second run changes nothing and keeps the first backup.
        const again = await run(['--configure-runtime'], env);
        expect(again.exitCode, again.all).toBe(0);
        expect(readFileSync(join(dir, 'state/daemon.json.before-kube-lab-grader'), 'utf8')).toBe(original);
      } else {
        expect(readFileSync(daemonJson, 'utf8')).toBe(original);
      }
      const restored = await run(['--restore-host'], env);
      expect(restored.exitCode, restored.all).toBe(0);
      expect(readFileSync(daemonJson, 'utf8')).toBe(original);
      expect(existsSync(join(dir, 'state/daemon.json.before-kube-lab-grader'))).toBe(false);
      expect(await dockerdPid()).toBe(pid);
    });

    it('--restore-host removes a daemon.json that did not exist before', async () => {
      const { env, daemonJson } = scratch();
      const configured = await run(['--configure-runtime'], env);
      expect(configured.exitCode, configured.all).toBe(0);
      expect(existsSync(daemonJson)).toBe(needs);
      const restored = await run(['--restore-host'], env);
      expect(restored.exitCode, restored.all).toBe(0);
      expect(existsSync(daemonJson)).toBe(false);
    });

    it('--restore-host without a backup (older versions kept none) removes exactly the two keys it added', async () => {
      const { env, daemonJson, dir } = scratch();
      await execa('mkdir', ['-p', join(dir, 'etc')]);
      writeFileSync(
        daemonJson,
        JSON.stringify({ 'log-level': 'warn', runtimes: { [RUNTIME]: { path: env.LAB_GRADER_HOST_WRAPPER } }, 'default-runtime': RUNTIME }),
      );
      const restored = await run(['--restore-host'], env);
      expect(restored.exitCode, restored.all).toBe(0);
      expect(JSON.parse(readFileSync(daemonJson, 'utf8'))).toEqual({ 'log-level': 'warn' });
    });

    it('without --configure-runtime it refuses to touch a host that needs the workaround, naming the flag', async () => {
      const { env, daemonJson } = scratch();
      const r = await run([], env);
      if (needs) {
        expect(r.exitCode).toBe(3);
        expect(r.all).toMatch(/CAP_SYS_RESOURCE.*--configure-runtime/);
      } else {
        expect(r.exitCode, r.all).toBe(0);
      }
      expect(existsSync(daemonJson)).toBe(false);
      expect(existsSync(env.LAB_GRADER_HOST_WRAPPER)).toBe(false);
    });
  });
});
