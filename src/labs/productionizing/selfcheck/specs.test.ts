import { describe, expect, it } from 'vitest';
import { imagesOf, placeInNamespace, readLabSpecs } from './specs.js';

describe('the lab specs as the selfcheck applies them', () => {
  it('reads a folder like kubectl apply -f: its files in name order, not its subfolders', async () => {
    const whoami = await readLabSpecs('whoami');
    expect(whoami.map((m) => `${m.kind}/${m.metadata?.name}`)).toEqual(['Deployment/whoami', 'Service/whoami-np', 'Service/whoami-lb']);
    const update = await readLabSpecs('whoami/update');
    expect(update).toHaveLength(1);
    expect(update[0]?.spec).toMatchObject({ template: { metadata: { labels: { update: 'readiness' } } } });
  });

  it('places every object in the namespace and turns fixed-NodePort Services into ClusterIP, leaving the input alone', async () => {
    const read = await readLabSpecs('pi');
    const before = structuredClone(read);
    const { manifests, notes } = placeInNamespace(read, 'selfcheck-pi-abc123');
    expect(read).toEqual(before);
    expect(manifests.every((m) => m.metadata?.namespace === 'selfcheck-pi-abc123')).toBe(true);
    const np = manifests.find((m) => m.metadata?.name === 'pi-np');
    expect(np?.spec).toEqual({ selector: { app: 'pi-web' }, ports: [{ name: 'http', port: 8020, targetPort: 80 }], type: 'ClusterIP' });
    const lb = manifests.find((m) => m.metadata?.name === 'pi-lb');
    expect(lb?.spec).toMatchObject({ type: 'LoadBalancer' });
    const hpa = manifests.find((m) => m.kind === 'HorizontalPodAutoscaler');
    expect(hpa?.spec).toMatchObject({ minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 75 });
    expect(notes).toEqual([expect.stringContaining('pi-np (NodePort 30020 in the lab) was created as ClusterIP')]);
  });

  it('finds the images the specs run', async () => {
    const images = [...imagesOf(await readLabSpecs('whoami')), ...imagesOf(await readLabSpecs('pi-secure/update'))];
    expect(images).toEqual(['sixeyed/whoami:21.04', 'kiamol/ch05-pi']);
    expect(imagesOf([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x:1' }] } }])).toEqual(['x:1']);
  });
});
