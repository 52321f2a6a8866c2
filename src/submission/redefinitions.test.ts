import { describe, expect, it } from 'vitest';
import { SubmissionError } from '../model.js';
import { parseManifests } from './load.js';
import type { ManifestObject } from './manifest.js';
import { applyPolicy } from './policy.js';
import { splitRedefinitions } from './redefinitions.js';

const deployment = (name: string, version: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  selector:\n    matchLabels: { app: whoami, version: ${version} }\n  template:\n    metadata:\n      labels: { app: whoami, version: ${version} }\n    spec:\n      containers:\n        - name: app\n          image: example/whoami\n`;
const service = (version: string) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: whoami\nspec:\n  selector: { app: whoami, version: ${version} }\n  ports:\n    - port: 80\n`;

/** Objects of several files, given in the (non-lexical) order a reader might meet them. */
function objects(files: Array<[string, string]>): ManifestObject[] {
  return files.flatMap(([file, text]) => parseManifests(file, text).objects);
}
const where = (list: readonly ManifestObject[]) => list.map((o) => `${o.kind}/${o.name}@${o.source.file}`);

describe('splitRedefinitions', () => {
  it("keeps everything as the submission with 'reject' (the policy then says defined twice)", () => {
    const all = objects([['svc-v1.yaml', service('v1')], ['svc-v2.yaml', service('v2')]]);
    const split = splitRedefinitions(all, 'reject');
    expect(split.switches).toEqual([]);
    expect(split.objects).toHaveLength(2);
    expect(() => applyPolicy(split.objects, { namespace: 'ns' })).toThrow(SubmissionError);
    expect(() => applyPolicy(split.objects, { namespace: 'ns' })).toThrow(/Service\/whoami: defined twice \(also at svc-v1\.yaml:1\)/);
  });

  it('takes files in the lexical order of their relative paths: the first definitions are the submission, the later ones the switch', () => {
    const all = objects([
      ['whoami-service-v2.yaml', service('v2')],
      ['whoami-deployments.yaml', `${deployment('whoami-v1', 'v1')}---\n${deployment('whoami-v2', 'v2')}`],
      ['whoami-service-v1.yaml', service('v1')],
    ]);
    const split = splitRedefinitions(all, 'switch');
    expect(where(split.objects)).toEqual(['Deployment/whoami-v1@whoami-deployments.yaml', 'Deployment/whoami-v2@whoami-deployments.yaml', 'Service/whoami@whoami-service-v1.yaml']);
    expect(where(split.switches)).toEqual(['Service/whoami@whoami-service-v2.yaml']);
    expect(applyPolicy(split.objects, { namespace: 'ns' }).objects).toHaveLength(3);
    const switched = applyPolicy(split.switches, { namespace: 'ns', redefinitions: true }).objects;
    expect(switched.map((o) => (o.body.metadata as { namespace: string }).namespace)).toEqual(['ns']);
    expect((switched[0]!.body.spec as { selector: { version: string } }).selector.version).toBe('v2');
  });

  it('works with folders: v1/… before v2/…, several switched objects in file order', () => {
    const all = objects([
      ['v2/service.yaml', service('v2')],
      ['v2/deployment.yaml', deployment('whoami-v1', 'v1')],
      ['v1/service.yaml', service('v1')],
      ['v1/deployment.yaml', deployment('whoami-v1', 'v1')],
    ]);
    const split = splitRedefinitions(all, 'switch');
    expect(where(split.objects)).toEqual(['Service/whoami@v1/service.yaml', 'Deployment/whoami-v1@v1/deployment.yaml']);
    expect(where(split.switches)).toEqual(['Deployment/whoami-v1@v2/deployment.yaml', 'Service/whoami@v2/service.yaml']);
  });

  it('leaves a submission without redefinitions alone (the lab judges a missing switch)', () => {
    const all = objects([['a.yaml', service('v1')], ['b.yaml', deployment('whoami-v1', 'v1')]]);
    expect(splitRedefinitions(all, 'switch')).toEqual({ objects: all, switches: [] });
  });

  it('keeps two definitions in one file an error, even with switch', () => {
    const all = objects([['svc.yaml', `${service('v1')}---\n${service('v2')}`]]);
    const split = splitRedefinitions(all, 'switch');
    expect(split.switches).toEqual([]);
    expect(() => applyPolicy(split.objects, { namespace: 'ns' })).toThrow(/Service\/whoami: defined twice \(also at svc\.yaml:1\)/);
  });
});
