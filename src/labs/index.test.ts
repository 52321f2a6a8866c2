import { describe, expect, it } from 'vitest';
import type { AnyLab } from '../engine/lab.js';
import { UsageError } from '../model.js';
import { parseManifests } from '../submission/load.js';
import { getLab, LAB_IDS, LABS, labsNamingImages, recogniseLab } from './index.js';

const objects = (text: string) => parseManifests('a.yaml', text).objects;
const deployment = (image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels: { app: x }\n  template:\n    metadata:\n      labels: { app: x }\n    spec:\n      containers:\n        - name: app\n          image: ${image}\n`;

/** A stand-in lab recognising one image. */
function fakeLab(id: string, image: string): AnyLab {
  const base = LABS[0]!;
  return { ...base, id, title: `Lab ${id}`, images: [image], recognise: (objs) => objs.filter((o) => JSON.stringify(o.body).includes(image)).length };
}

describe('the lab registry', () => {
  it('lists every lab once, by id', () => {
    expect(new Set(LAB_IDS).size).toBe(LAB_IDS.length);
    expect(LAB_IDS).toContain('productionizing');
    for (const lab of LABS) expect(getLab(lab.id)).toBe(lab);
  });

  it('an unknown id is a usage error listing the labs', () => {
    expect(() => getLab('networking')).toThrow(UsageError);
    expect(() => getLab('networking')).toThrow(/unknown lab "networking"; the labs are: .*productionizing \(Preparing for Production\)/);
  });

  it('recognises the productionizing lab from its app image', () => {
    expect(recogniseLab(objects(deployment('sixeyed/configurable:21.04'))).id).toBe('productionizing');
  });

  it('picks the single best score; none or a tie is a usage error naming the labs', () => {
    const labs = [fakeLab('alpha', 'example/alpha'), fakeLab('beta', 'example/beta')];
    expect(recogniseLab(objects(deployment('example/beta:1')), labs).id).toBe('beta');
    expect(() => recogniseLab(objects(deployment('example/gamma:1')), labs)).toThrow(/matches none of the labs: no object looks like alpha \(its images example\/alpha\); beta \(its images example\/beta\)/);
    const both = objects(`${deployment('example/alpha:1')}---\n${deployment('example/beta:1').replace('name: app', 'name: app2')}`);
    expect(() => recogniseLab(both, labs)).toThrow(/looks like several labs equally \(alpha, beta\)/);
  });

  it('tells unparsable text by the image names it holds', () => {
    const labs = [fakeLab('alpha', 'example/alpha:1.0'), fakeLab('beta', 'example/beta')];
    expect(labsNamingImages('image: example/alpha:2.0\n  bad: [', labs).map((l) => l.id)).toEqual(['alpha']);
    expect(labsNamingImages('nothing here', labs)).toEqual([]);
  });
});
