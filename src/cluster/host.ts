// Facts about the grading host: Docker, kind, free ports and disk. Every problem becomes an
// EnvironmentError with one line of advice (exit 3).
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError } from '../model.js';
import { versions } from './versions.js';

export function cacheRoot(): string {
  return process.env.LAB_GRADER_CACHE ?? join(homedir(), '.cache', 'kube-lab-grader');
}

export async function dockerAvailable(): Promise<void> {
  const cli = await execa('docker', ['version', '--format', '{{.Client.Version}}'], { reject: false, timeout: 15_000 });
  if (cli.failed && /ENOENT/.test(String(cli.message))) {
    throw new EnvironmentError('Docker is not installed (no `docker` on PATH)', 'install Docker (e.g. `apt-get install docker.io`) and start it');
  }
  const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 20_000 });
  if (info.exitCode !== 0 || !info.stdout.trim()) {
    throw new EnvironmentError(
      `the Docker daemon is not reachable: ${firstLine(info.stderr) || 'no answer'}`,
      'start it (`sudo systemctl start docker`; `sudo bash scripts/host/ensure-docker.sh` says what else is missing)',
    );
  }
}

export async function docker(args: string[], opts: { timeout?: number } = {}): Promise<string> {
  const r = await execa('docker', args, { reject: false, timeout: opts.timeout ?? 120_000 });
  if (r.exitCode !== 0) throw new Error(`docker ${args[0]} failed: ${firstLine(r.stderr) || r.stdout}`);
  return r.stdout;
}

/** The kind CLI: on PATH at the pinned version, or the one the offline scripts built. */
export async function findKind(): Promise<string | undefined> {
  const want = versions().KIND_VERSION;
  const built = join(cacheRoot(), 'components', 'bin', `kind-${want}`);
  const onPath = await execa('kind', ['version'], { reject: false, timeout: 10_000 });
  if (onPath.exitCode === 0 && onPath.stdout.includes(want)) return 'kind';
  if (existsSync(built)) return built;
  if (onPath.exitCode === 0) return 'kind'; // another version: usable, reported by `status`
  return undefined;
}

export async function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function requirePortsFree(ports: readonly number[]): Promise<void> {
  const taken: number[] = [];
  for (const p of ports) if (!(await portFree(p))) taken.push(p);
  if (taken.length) {
    throw new EnvironmentError(
      `port${taken.length > 1 ? 's' : ''} ${compactRanges(taken)} on 127.0.0.1 ${taken.length > 1 ? 'are' : 'is'} already in use, and the grading cluster needs ${taken.length > 1 ? 'them' : 'it'}`,
      `stop what listens there (\`ss -ltnp | grep -E ':(${taken.join('|')})\\b'\`)`,
    );
  }
}

export async function requireDiskSpace(path: string, minBytes: number): Promise<void> {
  let free: number;
  try {
    const s = await statfs(path);
    free = s.bavail * s.bsize;
  } catch {
    return; // cannot tell: do not block
  }
  if (free < minBytes) {
    throw new EnvironmentError(
      `only ${(free / 2 ** 30).toFixed(1)} GiB free under ${path}; the grading cluster needs at least ${(minBytes / 2 ** 30).toFixed(0)} GiB`,
      'free disk space (e.g. `docker system prune`) and try again',
    );
  }
}

export function compactRanges(ports: readonly number[]): string {
  const sorted = [...ports].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
}
