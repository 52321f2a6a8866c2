// Recognition: this lab's submissions (even its broken starting specs) and no other lab's.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSubmission } from '../../submission/load.js';
import { recognise } from './recognise.js';

const fixtureDirs = (rel: string): string[] => {
  const root = fileURLToPath(new URL(rel, import.meta.url));
  return readdirSync(root).filter((n) => statSync(path.join(root, n)).isDirectory()).map((n) => path.join(root, n));
};

describe('troubleshooting recognise', () => {
  it('recognises every fixture of the lab and its published specs', async () => {
    for (const dir of [...fixtureDirs('../../../fixtures/labs/troubleshooting/'), fileURLToPath(new URL('../../../specs/troubleshooting/pi-failing/', import.meta.url))]) {
      const sub = await loadSubmission(dir);
      expect(recognise(sub.objects), dir).toBeGreaterThanOrEqual(6);
    }
  });
  it('does not recognise the other labs\' fixtures or specs', async () => {
    const labs = fileURLToPath(new URL('../../../fixtures/labs/', import.meta.url));
    const otherLabs = readdirSync(labs).filter((n) => n !== 'troubleshooting' && statSync(path.join(labs, n)).isDirectory());
    const dirs = [
      ...fixtureDirs('../../../fixtures/submissions/'),
      ...fixtureDirs('../../../specs/productionizing/'),
      ...otherLabs.flatMap((lab) => fixtureDirs(`../../../fixtures/labs/${lab}/`)),
    ];
    expect(dirs.length).toBeGreaterThan(10);
    for (const dir of dirs) {
      const sub = await loadSubmission(dir).catch(() => undefined);
      if (!sub) continue; // malformed or empty fixtures
      expect(recognise(sub.objects), dir).toBe(0);
    }
  });
});
