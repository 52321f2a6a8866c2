import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATIC_CHECKS } from './rubric/index.js';
import { parseManifests } from '../../submission/load.js';
import { getPath, ref } from '../../submission/manifest.js';
import { getLab, LAB_IDS } from '../index.js';
import { identifyApp, imageRepository, labSupplements, productionizing, PRODUCTIONIZING_CHECKS } from './catalogue.js';

const objects = (text: string) => parseManifests('specs.yaml', text).objects;

const GROUPS = ['submission', 'replicas', 'readiness', 'liveness', 'hpa', 'security'];

describe('the productionizing catalogue', () => {
  it('has exactly the agreed check ids, grouped in catalogue order', () => {
    expect(PRODUCTIONIZING_CHECKS.map((c) => `${c.id}:${c.kind}`)).toEqual([
      'submission.parses:static', 'submission.allowed-objects:static', 'submission.applies:live',
      'replicas.spec-five:static', 'replicas.hpa-min-five:static', 'replicas.ready-five:live',
      'readiness.probe-defined:static', 'readiness.removes-failed-pod:live', 'readiness.service-serves-healthy:live',
      'liveness.probe-defined:static', 'liveness.restarts-failed-container:live', 'liveness.returns-to-service:live',
      'hpa.targets-deployment:static', 'hpa.max-ten:static', 'hpa.cpu-fifty:static', 'hpa.cpu-request-set:static',
      'hpa.metrics-flow:live', 'hpa.scales-up:live', 'hpa.scales-down:live', 'hpa.restores-manual-scale:live',
      'security.spec-non-root:static', 'security.spec-no-sa-token:static', 'security.spec-no-privilege-escalation:static',
      'security.spec-capabilities-dropped:static', 'security.spec-resource-limits:static',
      'security.exec-uid-non-root:live', 'security.exec-no-sa-token:live', 'security.exec-chown-refused:live',
    ]);
    expect(productionizing.groups.map((g) => g.id)).toEqual(GROUPS);
    const groupOrder = [...new Set(PRODUCTIONIZING_CHECKS.map((c) => c.group))];
    expect(groupOrder).toEqual(GROUPS);
    for (const c of PRODUCTIONIZING_CHECKS) expect(c.id.startsWith(`${c.group}.`)).toBe(true);
  });

  it('totals 65 points, with live behaviour weighing more than spec text', () => {
    const total = PRODUCTIONIZING_CHECKS.reduce((s, c) => s + c.maxPoints, 0);
    const live = PRODUCTIONIZING_CHECKS.filter((c) => c.kind === 'live').reduce((s, c) => s + c.maxPoints, 0);
    expect(total).toBe(65);
    expect(live).toBe(45);
    for (const c of PRODUCTIONIZING_CHECKS) {
      expect(c.maxPoints).toBeGreaterThan(0);
      expect(c.title).not.toBe('');
      expect(c.hint.length).toBeGreaterThan(10);
    }
  });

  it('implements every static check and nothing else', () => {
    const statics = PRODUCTIONIZING_CHECKS.filter((c) => c.kind === 'static').map((c) => c.id);
    expect(Object.keys(STATIC_CHECKS).sort()).toEqual([...statics].sort());
  });

  it('is found by id, and unknown labs are usage errors', () => {
    expect(LAB_IDS).toContain('productionizing');
    expect(getLab('productionizing').checks).toBe(productionizing.checks);
    expect(() => getLab('networking')).toThrow(/unknown lab "networking"; the labs are: productionizing \(Preparing for Production\)/);
  });

  it('ships every published spec folder of the lab', async () => {
    expect((await readdir(productionizing.specsDir)).sort()).toEqual([
      'ATTRIBUTION.md', 'configurable', 'metrics-server', 'pi', 'pi-secure', 'products-db', 'whoami',
    ]);
    expect(await readdir(path.join(productionizing.specsDir, 'configurable'))).toContain('services.yaml');
  });
});

describe('identifyApp', () => {
  const app = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: pi-web
spec:
  template:
    metadata:
      labels: { app: pi-web }
    spec:
      containers: [{ name: web, image: kiamol/ch05-pi }]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-app
spec:
  template:
    metadata:
      labels: { app: configurable, tier: web }
    spec:
      containers:
        - name: sidecar
          image: busybox
        - name: main
          image: docker.io/sixeyed/configurable:21.04@sha256:abc
---
apiVersion: v1
kind: Service
metadata: { name: svc }
spec:
  selector: { app: configurable }
---
apiVersion: v1
kind: Service
metadata: { name: other }
spec:
  selector: { app: pi-web }
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: hpa }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: my-app }
`;

  it('finds the Deployment running sixeyed/configurable, its container, Services and HPA', () => {
    const found = identifyApp(objects(app));
    expect(found.deployment?.name).toBe('my-app');
    expect(found.containerIndex).toBe(1);
    expect(found.services.map(ref)).toEqual(['Service/svc']);
    expect(found.hpas.map(ref)).toEqual(['HorizontalPodAutoscaler/hpa']);
  });

  it('finds nothing when no Deployment runs the app', () => {
    const found = identifyApp(objects(app.split('---')[0]!));
    expect(found.deployment).toBeUndefined();
    expect(found.services).toEqual([]);
  });

  it('reads image references in every form', () => {
    expect(imageRepository('sixeyed/configurable')).toBe('sixeyed/configurable');
    expect(imageRepository('sixeyed/configurable:21.04')).toBe('sixeyed/configurable');
    expect(imageRepository('docker.io/sixeyed/configurable:latest')).toBe('sixeyed/configurable');
    expect(imageRepository('index.docker.io/sixeyed/configurable@sha256:00')).toBe('sixeyed/configurable');
    expect(imageRepository('localhost:5000/sixeyed/configurable:1')).toBe('localhost:5000/sixeyed/configurable');
    expect(imageRepository('sixeyed/configurable-web:1')).toBe('sixeyed/configurable-web');
  });
});

describe('labSupplements', () => {
  const deployment = (labels: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: configurable
spec:
  selector:
    matchLabels: ${labels}
  template:
    metadata:
      labels: ${labels}
    spec:
      containers: [{ name: app, image: sixeyed/configurable:21.04 }]
`;

  it('adds the lab\'s Services when none selects the app', async () => {
    const added = await labSupplements(objects(deployment('{ app: configurable }')));
    expect(added.objects.map(ref)).toEqual(['Service/configurable-np', 'Service/configurable-lb']);
    expect(getPath(added.objects[0]!.body, 'spec.selector')).toEqual({ app: 'configurable' });
    expect(added.notes).toEqual([
      "No Service selects the Pods of Deployment/configurable, so the lab's Service/configurable-np and Service/configurable-lb were added",
    ]);
  });

  it('points the lab\'s Services at the app when the learner changed its labels', async () => {
    const added = await labSupplements(objects(deployment('{ component: config-viewer }')));
    expect(added.objects.map((o) => getPath(o.body, 'spec.selector'))).toEqual([
      { component: 'config-viewer' },
      { component: 'config-viewer' },
    ]);
  });

  it('adds nothing when the submission has a Service for the app, or no app', async () => {
    const svc = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: mine\nspec:\n  selector: { app: configurable }\n';
    expect((await labSupplements(objects(`${deployment('{ app: configurable }')}---\n${svc}`))).objects).toEqual([]);
    expect((await labSupplements(objects(svc))).objects).toEqual([]);
  });

  it('does not add a Service whose name the submission already uses', async () => {
    const clash = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: configurable-np\nspec:\n  selector: { app: other }\n';
    const added = await labSupplements(objects(`${deployment('{ app: configurable }')}---\n${clash}`));
    expect(added.objects.map(ref)).toEqual(['Service/configurable-lb']);
    expect(added.notes[0]).toBe("The lab's Service/configurable-np was not added: the submission has an object of that name");
  });
});
