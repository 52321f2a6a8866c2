import { describe, expect, it } from 'vitest';
import { SubmissionError } from '../model.js';
import { parseManifests } from './load.js';
import { getPath } from './manifest.js';
import { ALLOWED_KINDS, applyPolicy, makeNamespaceName } from './policy.js';

const NS = 'lab-grader-test-abcde';

function objects(text: string, file = 'specs.yaml') {
  const parsed = parseManifests(file, text);
  expect(parsed.problems).toEqual([]);
  return parsed.objects;
}

function rejection(text: string): SubmissionError {
  try {
    applyPolicy(objects(text), { namespace: NS });
  } catch (err) {
    expect(err).toBeInstanceOf(SubmissionError);
    return err as SubmissionError;
  }
  throw new Error('expected the policy to reject the objects');
}

function podTemplate(extra: { pod?: string; container?: string; annotations?: string }): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
${extra.annotations ?? ''}    spec:
${extra.pod ?? ''}      containers:
        - name: app
          image: sixeyed/configurable:21.04
${extra.container ?? ''}`;
}

describe('applyPolicy', () => {
  it('accepts the allowed kinds and moves them into the grading namespace', () => {
    const text = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: kube-system
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: pdb
  namespace: ${NS}
spec:
  minAvailable: 1
`;
    const result = applyPolicy(objects(text), { namespace: NS });
    expect(result.objects.map((o) => getPath(o.body, 'metadata.namespace'))).toEqual([NS, NS, NS]);
    expect(result.notes).toEqual([`ConfigMap/settings: metadata.namespace kube-system replaced by ${NS}`]);
  });

  it('never mutates the loaded objects', () => {
    const input = objects('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: other\n');
    applyPolicy(input, { namespace: NS });
    expect(getPath(input[0]!.body, 'metadata.namespace')).toBe('other');
  });

  it('rewrites NodePort and LoadBalancer Services to ClusterIP, with a note', () => {
    const text = `apiVersion: v1
kind: Service
metadata:
  name: configurable-np
spec:
  selector:
    app: configurable
  ports:
    - name: http
      port: 80
      targetPort: 80
      nodePort: 30040
  type: NodePort
  externalTrafficPolicy: Local
---
apiVersion: v1
kind: Service
metadata:
  name: configurable-lb
spec:
  selector:
    app: configurable
  ports:
    - port: 8040
      targetPort: 80
  type: LoadBalancer
  clusterIP: 10.96.0.40
  externalIPs: [1.2.3.4]
`;
    const result = applyPolicy(objects(text), { namespace: NS });
    const [np, lb] = result.objects;
    expect(np!.body.spec).toEqual({ selector: { app: 'configurable' }, ports: [{ name: 'http', port: 80, targetPort: 80 }], type: 'ClusterIP' });
    expect(lb!.body.spec).toEqual({ selector: { app: 'configurable' }, ports: [{ port: 8040, targetPort: 80 }], type: 'ClusterIP' });
    expect(result.notes).toEqual([
      'Service/configurable-np: type NodePort changed to ClusterIP (nodePort 30040 dropped); the grader reaches Services through the API server',
      'Service/configurable-lb: type LoadBalancer changed to ClusterIP; the grader reaches Services through the API server',
      'Service/configurable-lb: externalIPs removed',
      'Service/configurable-lb: fixed clusterIP 10.96.0.40 removed; Kubernetes assigns one',
    ]);
  });

  it('keeps headless Services headless', () => {
    const result = applyPolicy(objects('apiVersion: v1\nkind: Service\nmetadata:\n  name: h\nspec:\n  clusterIP: None\n'), { namespace: NS });
    expect(getPath(result.objects[0]!.body, 'spec.clusterIP')).toBe('None');
    expect(result.notes).toEqual([]);
  });

  it('drops fields the API server sets (from `kubectl get -o yaml`)', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  resourceVersion: "123"\n  uid: abc\nstatus: {}\n';
    const result = applyPolicy(objects(text), { namespace: NS });
    expect(result.objects[0]!.body).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: NS } });
    expect(result.notes).toEqual(['ConfigMap/c: removed fields the API server sets (metadata.uid, metadata.resourceVersion, status)']);
  });

  it.each([
    ['ClusterRoleBinding', 'rbac.authorization.k8s.io/v1', 'ClusterRoleBinding is cluster-scoped and not allowed'],
    ['ClusterRole', 'rbac.authorization.k8s.io/v1', 'ClusterRole is cluster-scoped'],
    ['Role', 'rbac.authorization.k8s.io/v1', 'Role objects (RBAC) are not allowed'],
    ['RoleBinding', 'rbac.authorization.k8s.io/v1', 'RoleBinding objects (RBAC) are not allowed'],
    ['ValidatingWebhookConfiguration', 'admissionregistration.k8s.io/v1', 'cluster-scoped'],
    ['CustomResourceDefinition', 'apiextensions.k8s.io/v1', 'cluster-scoped'],
    ['Namespace', 'v1', 'the grader creates a namespace for each run'],
    ['Pod', 'v1', 'bare Pods are not allowed: run the app from a Deployment'],
    ['ServiceAccount', 'v1', 'automountServiceAccountToken: false'],
    ['Widget', 'example.com/v1', 'kind Widget is not allowed'],
  ])('rejects %s, naming Kind/name and file:line', (kind, apiVersion, reason) => {
    const err = rejection(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: thing\n`);
    expect(err.message).toMatch(new RegExp(`^specs\\.yaml:6:1: ${kind}/thing: .*${reason.replace(/[()]/g, '\\$&')}`));
    expect(err.message).toContain('allowed kinds: Deployment, Service, HorizontalPodAutoscaler, ConfigMap, Secret, PodDisruptionBudget');
    expect(err.location).toEqual({ file: 'specs.yaml', line: 6, column: 1 });
  });

  it('rejects API versions current Kubernetes does not serve', () => {
    const err = rejection('apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: h\n');
    expect(err.message).toBe(
      'specs.yaml:1:1: HorizontalPodAutoscaler/h: apiVersion autoscaling/v2beta2 is not served for HorizontalPodAutoscaler by current Kubernetes; use autoscaling/v2 or autoscaling/v1',
    );
  });

  it('validates object names (DNS-1123 subdomain; DNS-1035 label for Services)', () => {
    expect(rejection('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: My_Config\n').message).toBe(
      'specs.yaml:4:3: ConfigMap/My_Config: metadata.name "My_Config" is not a valid ConfigMap name: it has upper-case letters; use lower case',
    );
    expect(rejection('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: my_config\n').message).toContain(
      'it contains "_"; use only lower-case letters, digits, \'-\' and \'.\'',
    );
    expect(rejection('apiVersion: v1\nkind: Service\nmetadata:\n  name: 8040-lb\n').message).toContain('not a valid Service name: it must start with a letter');
    expect(rejection('apiVersion: v1\nkind: Service\nmetadata:\n  name: web.lb\n').message).toContain('contains "."');
    expect(rejection(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${'a'.repeat(254)}\n`).message).toContain('is 254 characters long; the limit is 253');
    expect(rejection('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-\n').message).toContain('must start and end with a letter or digit');
    expect(() => applyPolicy(objects('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app.settings-1\n'), { namespace: NS })).not.toThrow();
  });

  it('rejects an object defined twice', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n';
    expect(rejection(text).message).toBe('specs.yaml:6:1: ConfigMap/c: defined twice (also at specs.yaml:1); keep one definition of each object');
  });

  it('lists every problem in reading order, pointing at the first', () => {
    const err = rejection(
      podTemplate({
        pod: '      hostNetwork: true\n      volumes:\n        - name: logs\n          hostPath:\n            path: /var/log\n',
        container: '          securityContext:\n            privileged: true\n',
      }),
    );
    expect(err.message.split('\n')).toEqual([
      'specs.yaml:14:7: Deployment/web: spec.template.spec.hostNetwork: hostNetwork: true shares the node\'s namespaces with the Pod; not allowed by the Pod Security Standard "baseline"',
      'specs.yaml:17:11: Deployment/web: spec.template.spec.volumes[0].hostPath: hostPath volume "logs" mounts the node\'s filesystem; not allowed by the Pod Security Standard "baseline"',
      'specs.yaml:23:13: Deployment/web: spec.template.spec.containers[0].securityContext.privileged: privileged: true gives the container full access to the node (container "app"); not allowed by the Pod Security Standard "baseline"',
    ]);
    expect(err.location).toEqual({ file: 'specs.yaml', line: 14, column: 7 });
  });

  describe('Pod Security Standard baseline', () => {
    const cases: Array<[string, Parameters<typeof podTemplate>[0], string]> = [
      ['hostPID', { pod: '      hostPID: true\n' }, 'spec.template.spec.hostPID: hostPID: true'],
      ['hostIPC', { pod: '      hostIPC: true\n' }, 'spec.template.spec.hostIPC: hostIPC: true'],
      ['hostPort', { container: '          ports:\n            - containerPort: 80\n              hostPort: 8080\n' }, 'containers[0].ports[0].hostPort: hostPort 8080 binds a port on the node'],
      ['added capability', { container: '          securityContext:\n            capabilities:\n              add: ["NET_ADMIN"]\n' }, 'containers[0].securityContext.capabilities.add[0]: capability NET_ADMIN is not in the baseline set'],
      ['SYS_ADMIN', { container: '          securityContext:\n            capabilities:\n              add: ["CAP_SYS_ADMIN"]\n' }, 'capability CAP_SYS_ADMIN'],
      ['procMount', { container: '          securityContext:\n            procMount: Unmasked\n' }, 'procMount: Unmasked unmasks /proc'],
      ['unsafe sysctl', { pod: '      securityContext:\n        sysctls:\n          - name: kernel.msgmax\n            value: "1"\n' }, 'securityContext.sysctls[0].name: sysctl kernel.msgmax is not in the safe set'],
      ['seLinux type', { pod: '      securityContext:\n        seLinuxOptions:\n          type: spc_t\n' }, 'seLinuxOptions.type spc_t is not a container type'],
      ['seLinux user', { container: '          securityContext:\n            seLinuxOptions:\n              user: system_u\n' }, 'seLinuxOptions.user may not be set'],
      ['AppArmor field', { container: '          securityContext:\n            appArmorProfile:\n              type: Unconfined\n' }, 'appArmorProfile type Unconfined'],
      ['AppArmor annotation', { annotations: '      annotations:\n        container.apparmor.security.beta.kubernetes.io/app: unconfined\n' }, 'spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/app: AppArmor annotation'],
      ['seccomp', { pod: '      securityContext:\n        seccompProfile:\n          type: Unconfined\n' }, 'seccompProfile type Unconfined'],
      ['Windows hostProcess', { container: '          securityContext:\n            windowsOptions:\n              hostProcess: true\n' }, 'Windows hostProcess containers'],
      ['privileged init container', { pod: '      initContainers:\n        - name: setup\n          image: busybox\n          securityContext:\n            privileged: true\n' }, 'initContainers[0].securityContext.privileged: privileged: true gives the container full access to the node (container "setup")'],
    ];
    it.each(cases)('rejects %s, naming the field', (_name, extra, text) => {
      const err = rejection(podTemplate(extra));
      expect(err.message).toContain('Deployment/web: ');
      expect(err.message).toContain(text);
      expect(err.message).toContain('not allowed by the Pod Security Standard "baseline"');
      expect(err.location?.file).toBe('specs.yaml');
      expect(err.location?.line).toBeGreaterThan(12);
    });

    it('accepts what baseline allows (and the lab\'s hardening)', () => {
      const ok = podTemplate({
        annotations: '      annotations:\n        container.apparmor.security.beta.kubernetes.io/app: runtime/default\n',
        pod: '      automountServiceAccountToken: false\n      securityContext:\n        runAsUser: 65534\n        seccompProfile:\n          type: RuntimeDefault\n        sysctls:\n          - name: net.ipv4.ip_unprivileged_port_start\n            value: "0"\n',
        container:
          '          ports:\n            - containerPort: 80\n              hostPort: 0\n          securityContext:\n            privileged: false\n            allowPrivilegeEscalation: false\n            procMount: Default\n            capabilities:\n              drop: ["ALL"]\n              add: ["NET_BIND_SERVICE", "chown"]\n            seLinuxOptions:\n              type: container_t\n',
      });
      expect(() => applyPolicy(objects(ok), { namespace: NS })).not.toThrow();
    });
  });

  it('refuses an invalid grading namespace (a grader bug, not the learner\'s)', () => {
    expect(() => applyPolicy([], { namespace: 'Bad_NS' })).toThrow(/invalid grading namespace/);
  });

  it('allows exactly the lab\'s kinds', () => {
    expect(Object.keys(ALLOWED_KINDS)).toEqual(['Deployment', 'Service', 'HorizontalPodAutoscaler', 'ConfigMap', 'Secret', 'PodDisruptionBudget']);
  });
});

describe('makeNamespaceName', () => {
  it('makes a valid namespace name from the submission folder', () => {
    expect(makeNamespaceName('fixtures/submissions/no-readiness', 'abcde')).toBe('lab-grader-no-readiness-abcde');
    expect(makeNamespaceName('/tmp/My Specs_v2/', 'abcde')).toBe('lab-grader-my-specs-v2-abcde');
    const long = makeNamespaceName(`/x/${'a'.repeat(100)}`, 'abcde');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^lab-grader-a+-abcde$/);
    expect(makeNamespaceName('/', 'abcde')).toBe('lab-grader-abcde');
    expect(makeNamespaceName('specs')).toMatch(/^lab-grader-specs-[0-9a-f]{5}$/);
  });
});
