import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../model.js';
import { compactRanges, dockerAvailable, requireDiskSpace, requirePortsFree } from './host.js';

describe('host preflight', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('names a taken port and says what to do', async () => {
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const err = await requirePortsFree([port]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).message).toBe(`port ${port} on 127.0.0.1 is already in use, and the grading cluster needs it`);
    expect((err as EnvironmentError).advice).toContain(`${port}`);
  });

  it('reports too little disk space with the numbers', async () => {
    const err = await requireDiskSpace('/', Number.MAX_SAFE_INTEGER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toMatch(/^only [\d.]+ GiB free under \/; the grading cluster needs at least \d+ GiB$/);
  });

  it('says Docker is missing when there is no docker on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const err = await dockerAvailable().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as Error).message).toMatch(/Docker is not installed|Docker daemon is not reachable/);
    } finally {
      process.env.PATH = path;
    }
  });

  it('compacts port lists into ranges', () => {
    expect(compactRanges([30012, 30010, 30011, 30020, 6550])).toBe('6550, 30010-30012, 30020');
  });
});
