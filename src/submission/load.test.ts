import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SubmissionError, UsageError } from '../model.js';
import { loadSubmission, MAX_FILE_BYTES, parseManifests } from './load.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function submission(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lab-grader-load-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

async function loadError(dir: string): Promise<SubmissionError> {
  const err = await loadSubmission(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SubmissionError);
  return err as SubmissionError;
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: sixeyed/configurable:21.04
          readinessProbe:
            httpGet:
              path: /healthz
              port: 80
`;

describe('loadSubmission', () => {
  it('reads multi-document YAML, recursively, in a stable order, with each document\'s line', async () => {
    const dir = await submission({
      'b.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n`,
      'a/deploy.yml': deployment,
      'a.yaml': `# leading comment\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: one\n---\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: two\n`,
    });
    const sub = await loadSubmission(dir);
    // Names sorted per folder, as `kubectl apply -R` walks them.
    expect(sub.files).toEqual(['a/deploy.yml', 'a.yaml', 'b.yaml']);
    expect(sub.objects.map((o) => `${o.kind}/${o.name}@${o.source.file}:${o.source.line}`)).toEqual([
      'Deployment/web@a/deploy.yml:1',
      'Service/one@a.yaml:3',
      'Secret/two@a.yaml:9',
      'ConfigMap/second@b.yaml:1',
    ]);
  });

  it('locates field paths, and falls back to the nearest ancestor when a field is missing', async () => {
    const sub = await loadSubmission(await submission({ 'deploy.yaml': deployment }));
    const dep = sub.objects[0]!;
    expect(dep.locate('spec.template.spec.containers.0.readinessProbe')).toEqual({ file: 'deploy.yaml', line: 11, column: 11 });
    expect(dep.locate('spec.template.spec.containers[0].readinessProbe.httpGet.port').line).toBe(14);
    expect(dep.locate(['spec', 'template', 'spec', 'containers', 0, 'image']).line).toBe(10);
    // livenessProbe is missing: the container item is the closest thing that exists.
    expect(dep.locate('spec.template.spec.containers.0.livenessProbe')).toEqual({ file: 'deploy.yaml', line: 9, column: 11 });
    expect(dep.locate('spec.replicas').line).toBe(5);
    expect(dep.locate([]).line).toBe(1);
  });

  it('flattens kind: List, each item keeping its own line', async () => {
    const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: first
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: second
    data:
      key: value
`;
    const sub = await loadSubmission(await submission({ 'list.yaml': list }));
    expect(sub.objects.map((o) => [o.name, o.source.line])).toEqual([
      ['first', 4],
      ['second', 8],
    ]);
    expect(sub.objects[1]!.locate('data.key').line).toBe(13);
  });

  it('reads JSON manifests and JSON Lists with positions, and skips JSON that is not a Kubernetes object', async () => {
    const json = JSON.stringify(
      { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-json' } }] },
      null,
      '\t',
    );
    const sub = await loadSubmission(await submission({ 'objects.json': json, 'expected.json': '{ "exit": [0] }' }));
    expect(sub.objects.map((o) => o.name)).toEqual(['from-json']);
    expect(sub.objects[0]!.source).toMatchObject({ file: 'objects.json', line: 5 });
    expect(sub.files).toEqual(['objects.json']);
    expect(sub.notes.join('\n')).toContain('expected.json');
  });

  it('reads YAML the way Kubernetes does (YAML 1.1: yes is true, 0644 is octal)', () => {
    const parsed = parseManifests('x.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nimmutable: yes\nmode: 0644\n');
    expect(parsed.objects[0]!.body).toMatchObject({ immutable: true, mode: 420 });
  });

  it('ignores documents that are only `---` or comments', async () => {
    const sub = await loadSubmission(await submission({ 'a.yaml': `---\n# nothing\n---\n${deployment}---\n` }));
    expect(sub.objects).toHaveLength(1);
  });

  it('lists other files and hidden entries as notes', async () => {
    const dir = await submission({
      'deploy.yaml': deployment,
      'README.md': '# notes',
      'notes.txt': 'x',
      '.github/workflows/grade.yml': 'on: push\n',
    });
    const sub = await loadSubmission(dir);
    expect(sub.objects).toHaveLength(1);
    expect(sub.notes).toContain('Ignored 2 files that are not .yaml, .yml or .json: README.md, notes.txt');
    expect(sub.notes).toContain('Ignored hidden entries: .github');
  });

  it('follows symbolic links to files inside the submission only', async () => {
    const outside = await submission({ 'secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: outside\n' });
    const dir = await submission({ 'deploy.yaml': deployment });
    await symlink(path.join(dir, 'deploy.yaml'), path.join(dir, 'link.yaml'));
    await symlink(path.join(outside, 'secret.yaml'), path.join(dir, 'outside.yaml'));
    const sub = await loadSubmission(dir);
    expect(sub.objects.map((o) => `${o.name}@${o.source.file}`)).toEqual(['web@deploy.yaml', 'web@link.yaml']);
    expect(sub.notes.join('\n')).toContain('outside.yaml');
  });

  describe('errors name the file and line', () => {
    it('YAML syntax errors', async () => {
      const bad = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: "unterminated\n';
      const err = await loadError(await submission({ 'ok.yaml': deployment, 'sub/bad.yaml': bad }));
      expect(err.message).toBe('sub/bad.yaml:6:1: YAML syntax error: Missing closing "quote');
      expect(err.location).toMatchObject({ file: 'sub/bad.yaml', line: 6 });
    });

    it('bad indentation, pointing at the misplaced key', async () => {
      const bad = deployment.replace('              port: 80', '             port: 80');
      const err = await loadError(await submission({ 'deploy.yaml': bad }));
      expect(err.message).toBe('deploy.yaml:14:14: YAML syntax error: All mapping items must start at the same column');
    });

    it('tabs used for indentation', async () => {
      const err = await loadError(await submission({ 'tabs.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n' }));
      expect(err.location?.line).toBe(4);
      expect(err.message).toContain('tabs.yaml:4');
    });

    it('an empty directory', async () => {
      const err = await loadError(await submission({}));
      expect(err.message).toMatch(/^no Kubernetes manifests found in .*: expected \.yaml, \.yml or \.json files/);
    });

    it('a directory with only a README', async () => {
      const err = await loadError(await submission({ 'README.md': '# hi' }));
      expect(err.message).toContain('ignored: README.md');
    });

    it('binary files (NUL bytes)', async () => {
      const err = await loadError(await submission({ 'image.yaml': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]) }));
      expect(err.message).toBe('image.yaml:1: binary file (it contains NUL bytes): manifests must be UTF-8 text; UTF-16 files must be saved as UTF-8');
    });

    it('invalid UTF-8', async () => {
      const err = await loadError(await submission({ 'latin1.yaml': Buffer.from('apiVersion: v1\nkind: ConfigMap # caf\xe9\n', 'latin1') }));
      expect(err.message).toBe('latin1.yaml:1: not valid UTF-8 text: save the file as UTF-8');
    });

    it('accepts a UTF-8 byte-order mark', async () => {
      const sub = await loadSubmission(await submission({ 'bom.yaml': `\uFEFF${deployment}` }));
      expect(sub.objects[0]!.source.line).toBe(1);
    });

    it('files over the size limit, with name and size', async () => {
      const big = `${deployment}# ${'x'.repeat(MAX_FILE_BYTES)}\n`;
      const err = await loadError(await submission({ 'big.yaml': big }));
      expect(err.message).toBe('big.yaml:1: file is 1 MiB, larger than the 1 MiB limit for a manifest file');
      const bigger = await loadError(await submission({ 'bigger.yaml': 'x'.repeat(3 * MAX_FILE_BYTES + 200_000) }));
      expect(bigger.message).toContain('bigger.yaml:1: file is 3.2 MiB');
    });

    it('a document that is not a mapping', async () => {
      const err = await loadError(await submission({ 'list.yaml': `${deployment}---\n- a\n- b\n` }));
      expect(err.message).toBe('list.yaml:16:1: document is a list, not a mapping: each YAML document must be one Kubernetes object');
    });

    it('missing apiVersion, kind or metadata.name', async () => {
      const err = await loadError(
        await submission({
          'a.yaml': 'kind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: x-\n',
        }),
      );
      expect(err.message.split('\n')).toEqual([
        'a.yaml:1:1: ConfigMap object has no apiVersion: every object needs apiVersion, kind and metadata.name',
        'a.yaml:5:1: ConfigMap object has no metadata.name: every object needs apiVersion, kind and metadata.name (generateName cannot be applied: give the object a name)',
      ]);
      expect(err.location).toEqual({ file: 'a.yaml', line: 1, column: 1 });
    });

    it('a List item that is not an object', async () => {
      const err = await loadError(await submission({ 'l.yaml': 'apiVersion: v1\nkind: List\nitems:\n  - just text\n' }));
      expect(err.message).toBe('l.yaml:4:5: item is not a mapping: each item must be one Kubernetes object');
    });

    it('a path that is not a directory is a usage error', async () => {
      await expect(loadSubmission('/nonexistent/submission')).rejects.toBeInstanceOf(UsageError);
      const dir = await submission({ 'a.yaml': deployment });
      await expect(loadSubmission(path.join(dir, 'a.yaml'))).rejects.toThrow(/not a directory/);
    });
  });
});
