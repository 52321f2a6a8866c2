// `npm run setup` on the machine the suites run on, where CI has just run it: it must find
// everything present and change nothing; pointed at an empty tool cache it must say what it would
// install (pinned in versions.env) and, with --check, install nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const setup = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync('bash', [path.join(root, 'scripts/setup.sh'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
const empty = mkdtempSync(path.join(tmpdir(), 'lab-grader-setup-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('npm run setup', () => {
  it('finds everything present on a set-up machine: nothing to change', () => {
    // --check: on a machine that is not set up, a test must not install anything.
    const r = setup(['--check']);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^setup: everything is present: .*the grading cluster; nothing to change\n$/);
  });

  it('lists what it would install from versions.env, and with --check installs nothing', () => {
    const pins = Object.fromEntries(
      readFileSync(path.join(root, 'versions.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.split('=') as [string, string]),
    );
    const r = setup(['--check', '--no-cluster'], { LAB_GRADER_CACHE: empty });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(1);
    expect(r.stdout).toContain('setup: will change:');
    expect(r.stdout).toContain(`github.com/rhysd/actionlint/cmd/actionlint@${pins.ACTIONLINT_VERSION}`);
    expect(r.stdout).toContain(`github.com/nektos/act@${pins.ACT_VERSION}`);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('refuses an unknown flag with exit 4', () => {
    const r = setup(['--frobnicate']);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain('unknown flag --frobnicate');
  });
});
