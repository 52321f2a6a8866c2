import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverSubmissions, parseList, safeName } from './inputs.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'batch-inputs-'));
  for (const [dir, file] of [
    ['class/alice', 'app.yaml'],
    ['class/bob', 'nested/deploy.yml'],
    ['class/notes', 'README.md'],
    ['other/alice', 'app.json'],
  ] as const) {
    await mkdir(path.dirname(path.join(root, dir, file)), { recursive: true });
    await writeFile(path.join(root, dir, file), 'x');
  }
  await mkdir(path.join(root, 'class/.git'), { recursive: true });
  await writeFile(path.join(root, 'class/loose.yaml'), 'x');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('batch inputs', () => {
  it('a folder: every visible subfolder, sorted; a folder without manifests is flagged but kept', async () => {
    const { inputs } = await discoverSubmissions(path.join(root, 'class'));
    expect(inputs.map((i) => i.name)).toEqual(['alice', 'bob', 'notes']);
    expect(inputs[2]?.warning).toMatch(/notes: no \.yaml, \.yml or \.json file/);
    expect(inputs.every((i) => !i.problem)).toBe(true);
  });

  it('a list: relative to the list, duplicates renamed or dropped, missing folders reported', async () => {
    const list = path.join(root, 'list.csv');
    await writeFile(list, ['path,student', 'class/alice,Alice', 'other/alice,Alice B', './class/alice', '"class/bob",Bob', '# comment', 'class/gone', ''].join('\n'));
    const { inputs, notes } = await discoverSubmissions(list);
    expect(inputs.map((i) => i.name)).toEqual(['alice', 'alice-2', 'bob', 'gone']);
    expect(inputs[1]?.warning).toContain('another submission is also named "alice": reports go to alice-2/');
    expect(notes).toEqual([expect.stringMatching(/class\/alice: listed twice/)]);
    expect(inputs[3]?.problem).toMatch(/class\/gone: no such folder/);
  });

  it('an empty folder has no submissions; a missing source is a usage error', async () => {
    await mkdir(path.join(root, 'empty'));
    expect((await discoverSubmissions(path.join(root, 'empty'))).inputs).toEqual([]);
    await expect(discoverSubmissions(path.join(root, 'nope'))).rejects.toThrow(/batch source not found/);
  });

  it('names are safe path segments', () => {
    expect(safeName('Ann Lee (2)')).toBe('Ann-Lee-2-');
    expect(safeName('..')).toBe('submission');
    expect(parseList('a\n/abs/b,x\n', '/lists/l.csv')).toEqual(['/lists/a', '/abs/b']);
  });
});
