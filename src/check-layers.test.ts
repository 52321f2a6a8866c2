// The layer checker (scripts/check-layers.mjs) on small made-up trees.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers } from '../scripts/check-layers.mjs';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'layers-'));
  roots.push(root);
  for (const [rel, text] of Object.entries({ 'labs/index.ts': "import { a } from './alpha/index.js';\n", 'labs/alpha/index.ts': "export const a = { id: 'alpha', images: ['example/alpha-app:1.0'] };\n", ...files })) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

describe('check-layers', () => {
  it('passes the project itself', () => {
    expect(checkLayers(fileURLToPath(new URL('.', import.meta.url)))).toEqual([]);
  });

  it('accepts imports that point down', () => {
    expect(checkLayers(tree({ 'engine/run.ts': "import { k } from '../kube/client.js';\n", 'kube/client.ts': "import { w } from '../wait/wait-for.js';\n", 'wait/wait-for.ts': '' }))).toEqual([]);
  });

  it('reports an import that points up, an unknown folder and a lab named outside its folder', () => {
    const problems = checkLayers(
      tree({
        'kube/client.ts': "import { run } from '../engine/run.js';\n",
        'engine/run.ts': "const id = 'alpha';\nimport { x } from '../labs/alpha/index.js';\n",
        'report/junit.ts': "const image = 'example/alpha-app:2.0';\n",
        'grade/live.ts': '',
      }),
    );
    expect(problems.join('\n')).toMatch(/src\/grade\/live\.ts|src\/grade: a folder the layer rules do not know/);
    expect(problems.some((p) => /kube\/client\.ts:1: src\/kube must not import \.\.\/engine\/run\.js/.test(p))).toBe(true);
    expect(problems.some((p) => /engine\/run\.ts:1: names lab alpha \("alpha"\)/.test(p))).toBe(true);
    expect(problems.some((p) => /engine\/run\.ts:2: only src\/labs\/index\.ts may import a lab/.test(p))).toBe(true);
    expect(problems.some((p) => /report\/junit\.ts:1: names lab alpha's image example\/alpha-app:2\.0/.test(p))).toBe(true);
  });

  it('keeps labs apart', () => {
    const problems = checkLayers(tree({ 'labs/beta/index.ts': "import { a } from '../alpha/index.js';\n" }));
    expect(problems).toEqual([expect.stringMatching(/labs\/beta\/index\.ts:1: lab beta must not import another lab's \.\.\/alpha\/index\.js/)]);
  });
});
