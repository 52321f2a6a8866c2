// The batch and merge commands on input that never reaches a cluster (the live batch is in
// suites/batch.test.ts).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../cli.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: { CI: 'true' }, isTTY: false });
  return { code, out, err };
}

describe('lab-grader batch without a cluster', () => {
  it('an empty class folder: nothing to grade, exit 2, batch files say so', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'batch-cli-'));
    dirs.push(root);
    await mkdir(path.join(root, 'class'));
    const r = await run(['batch', path.join(root, 'class'), '--out', path.join(root, 'out')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('holds no submission folders: nothing to grade');
    expect(await readFile(path.join(root, 'out', 'summary.md'), 'utf8')).toContain('Nothing was graded: the batch had no submissions.');
    expect((await readFile(path.join(root, 'out', 'results.csv'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('a list of folders that do not exist: each reported as not graded, exit 2', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'batch-cli-'));
    dirs.push(root);
    await writeFile(path.join(root, 'class.csv'), 'path\nann\nbob\n');
    const r = await run(['batch', path.join(root, 'class.csv'), '--out', path.join(root, 'out')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not graded: .*ann: no such folder/);
    const csv = await readFile(path.join(root, 'out', 'results.csv'), 'utf8');
    expect(csv).toMatch(/^bob,,,(not graded,){6}2,0\.0,not graded: .*bob: no such folder$/m);
  });

  it('bad usage: a missing source, a concurrency of 0, merge of a folder that is no batch output', async () => {
    expect((await run(['batch', '/nonexistent/class'])).code).toBe(4);
    const zero = await run(['batch', '.', '--concurrency', '0']);
    expect(zero.code).toBe(4);
    expect(zero.err).toContain('expected a whole number of 1 or more');
    const root = await mkdtemp(path.join(tmpdir(), 'batch-cli-'));
    dirs.push(root);
    const m = await run(['merge', root, '--out', path.join(root, 'merged')]);
    expect(m.code).toBe(4);
    expect(m.err).toMatch(/batch\.json: not a batch output/);
  });
});
