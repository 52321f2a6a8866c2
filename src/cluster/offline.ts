// Offline mode: the artefacts built by scripts/offline/build-all.sh, and the local registry
// container that serves workload images to the node's containerd as a mirror of docker.io and
// registry.k8s.io (so `imagePullPolicy: Always` and untagged images work without a registry).
import { execa } from 'execa';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../model.js';
import type { Progress } from '../util/progress.js';
import { cacheRoot, docker, firstLine, portFree } from './host.js';
import { OWNER_LABEL, REGISTRY_CONTAINER, REGISTRY_HOST_PORT } from './settings.js';
import { parseVersionsEnv, PROJECT_ROOT } from './versions.js';

export interface OfflineArtefacts {
  nodeImage: string;
  registryImage: string;
}

/** Label of images the mirror serves: add-ons and the lab's look-alikes. */
const MIRROR_LABELS = ['io.kube-lab-grader.mirror=true', 'io.kube-lab-grader.lookalike=true'];

export async function ensureOfflineArtefacts(progress: Progress, opts: { quiet?: boolean } = {}): Promise<OfflineArtefacts> {
  progress.step('building or reusing offline artefacts (scripts/offline/build-all.sh)');
  const r = await execa('bash', [join(PROJECT_ROOT, 'scripts/offline/build-all.sh')], {
    reject: false,
    all: true,
    stdout: opts.quiet ? 'pipe' : ['pipe', 'inherit'],
    stderr: opts.quiet ? 'pipe' : ['pipe', 'inherit'],
    timeout: 80 * 60_000,
  });
  if (r.exitCode !== 0) {
    const tail = (r.all ?? '').trim().split('\n').slice(-3).join(' | ');
    throw new EnvironmentError(`the offline build failed: ${tail}`, 'run `bash scripts/offline/build-all.sh` to see the whole log');
  }
  const read = (file: string) => parseVersionsEnv(readFileSync(join(cacheRoot(), file), 'utf8'));
  const nodeImage = read('offline-images.env').NODE_IMAGE;
  const registryImage = read('registry-image.env').REGISTRY_IMAGE;
  if (!nodeImage || !registryImage) throw new EnvironmentError('the offline build wrote no image names', 'run scripts/offline/build-all.sh');
  return { nodeImage, registryImage };
}

/** Repository path inside the mirror: the upstream host is dropped, as containerd asks for it. */
export function mirrorPath(image: string): string {
  const slash = image.indexOf('/');
  const first = slash > 0 ? image.slice(0, slash) : '';
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const rest = hasHost ? image.slice(slash + 1) : image;
  const withTag = /:[^/]+$/.test(rest) ? rest : `${rest}:latest`;
  return withTag.includes('/') ? withTag : `library/${withTag}`;
}

export async function ensureRegistry(artefacts: OfflineArtefacts, progress: Progress): Promise<void> {
  const state = await execa('docker', ['inspect', REGISTRY_CONTAINER, '--format', `{{.State.Running}} {{index .Config.Labels "${OWNER_LABEL}"}}`], {
    reject: false,
  });
  if (state.exitCode === 0) {
    const [running, owner] = state.stdout.trim().split(' ');
    if (owner !== 'lab-grader') {
      throw new EnvironmentError(`a container named ${REGISTRY_CONTAINER} exists and was not made by lab-grader`, 'rename or remove it');
    }
    if (running !== 'true') await docker(['start', REGISTRY_CONTAINER]);
  } else {
    if (!(await portFree(REGISTRY_HOST_PORT))) {
      throw new EnvironmentError(`port ${REGISTRY_HOST_PORT} on 127.0.0.1 is in use; the local registry needs it`, 'stop what listens there');
    }
    const data = join(cacheRoot(), 'registry-data');
    mkdirSync(data, { recursive: true });
    progress.step(`starting the local registry ${REGISTRY_CONTAINER} (127.0.0.1:${REGISTRY_HOST_PORT})`);
    await docker([
      'run', '-d', '--name', REGISTRY_CONTAINER, '--restart', 'unless-stopped',
      '--label', `${OWNER_LABEL}=lab-grader`,
      '-p', `127.0.0.1:${REGISTRY_HOST_PORT}:5000`,
      '-v', `${data}:/var/lib/registry`,
      artefacts.registryImage,
    ]);
  }
  const networks = await docker(['inspect', REGISTRY_CONTAINER, '--format', '{{json .NetworkSettings.Networks}}']);
  if (!networks.includes('"kind"')) await docker(['network', 'connect', 'kind', REGISTRY_CONTAINER]);
  await pushMirrorImages(progress);
}

async function pushMirrorImages(progress: Progress): Promise<void> {
  const images = new Set<string>();
  for (const label of MIRROR_LABELS) {
    const out = await docker(['images', '--filter', `label=${label}`, '--format', '{{.Repository}}:{{.Tag}}']);
    for (const line of out.split('\n')) if (line.trim() && !line.includes('<none>')) images.add(line.trim());
  }
  let pushed = 0;
  for (const image of [...images].sort()) {
    const target = `127.0.0.1:${REGISTRY_HOST_PORT}/${mirrorPath(image)}`;
    // Skip what the registry already serves: a warm `up` (and concurrent `grade` runs that each
    // bring the cluster up) then touch no tags at all.
    if (await registryHasImage(image)) continue;
    pushed++;
    progress.waiting(`mirroring ${image}`);
    await docker(['tag', image, target]);
    const push = await execa('docker', ['push', target], { reject: false, timeout: 5 * 60_000 });
    // The 127.0.0.1:5001/... tag is left in place: removing it could break a concurrent push.
    if (push.exitCode !== 0) throw new EnvironmentError(`pushing ${image} to the local registry failed: ${firstLine(push.stderr)}`);
  }
  progress.step(`local registry serves ${images.size} image(s) (${pushed} pushed now): ${[...images].sort().join(', ')}`);
}

/**
 * Does the registry serve this exact image? For images docker pushed (schema 2 manifests) the
 * manifest's config digest is the local image ID.
 */
async function registryHasImage(image: string): Promise<boolean> {
  const path = mirrorPath(image);
  const colon = path.lastIndexOf(':');
  const url = `http://127.0.0.1:${REGISTRY_HOST_PORT}/v2/${path.slice(0, colon)}/manifests/${path.slice(colon + 1)}`;
  try {
    const res = await fetch(url, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) return false;
    const manifest = (await res.json()) as { config?: { digest?: string } };
    const id = (await docker(['image', 'inspect', '--format', '{{.Id}}', image])).trim();
    return manifest.config?.digest === id;
  } catch {
    return false;
  }
}

export async function removeRegistry(progress: Progress): Promise<void> {
  const owner = await execa('docker', ['inspect', REGISTRY_CONTAINER, '--format', `{{index .Config.Labels "${OWNER_LABEL}"}}`], { reject: false });
  if (owner.exitCode !== 0) return;
  if (owner.stdout.trim() !== 'lab-grader') {
    progress.step(`leaving ${REGISTRY_CONTAINER} alone: not made by lab-grader`);
    return;
  }
  progress.step(`removing the local registry container ${REGISTRY_CONTAINER} (its cache stays in ${join(cacheRoot(), 'registry-data')})`);
  await docker(['rm', '-f', REGISTRY_CONTAINER]);
}
