// Offline mode: the artefacts built by scripts/offline/build-all.sh, and the local registry
// container that serves workload images to the node's containerd as a mirror of docker.io and
// registry.k8s.io (so `imagePullPolicy: Always` and untagged images work without a registry).
// Look-alikes and add-ons are tagged on the host only as kube-lab-grader/lookalike/<upstream
// name>; the registry serves them under the upstream name to the kind node alone.
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
/** Every image the offline build makes carries one of these. */
const OUR_LABELS = [...MIRROR_LABELS, 'io.kube-lab-grader.offline-build=true'];
/** The only name our look-alikes and add-ons have on the host. */
export const LOCAL_IMAGE_PREFIX = 'kube-lab-grader/lookalike/';
const ORIGINAL_LABEL = 'io.kube-lab-grader.original';
/**
 * Images younger than this may belong to an offline build in progress (the node image's build
 * tags its control-plane images upstream-style until it has preloaded them): leave their tags.
 */
const BUILD_IN_PROGRESS_MS = 60 * 60_000;

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

/** The upstream name the registry serves a local kube-lab-grader/lookalike/… image under. */
export function servedName(localName: string, originalLabel: string | undefined): string {
  return originalLabel || localName.slice(LOCAL_IMAGE_PREFIX.length);
}

async function pushMirrorImages(progress: Progress): Promise<void> {
  const images = new Map<string, string>(); // local name -> upstream name served
  for (const label of MIRROR_LABELS) {
    const out = await docker(['images', '--filter', `label=${label}`, '--format', `{{.Repository}}:{{.Tag}}`]);
    for (const line of out.split('\n').map((l) => l.trim())) {
      if (!line.startsWith(LOCAL_IMAGE_PREFIX) || line.includes('<none>')) continue;
      const original = (await docker(['image', 'inspect', '--format', `{{index .Config.Labels "${ORIGINAL_LABEL}"}}`, line])).trim();
      images.set(line, servedName(line, original));
    }
  }
  let pushed = 0;
  for (const [local, served] of [...images].sort()) {
    const target = `127.0.0.1:${REGISTRY_HOST_PORT}/${mirrorPath(served)}`;
    // Skip what the registry already serves: a warm `up` (and concurrent `grade` runs that each
    // bring the cluster up) then touch no tags at all.
    if (await registryHasImage(local, served)) continue;
    pushed++;
    progress.waiting(`mirroring ${local} as ${served}`);
    await docker(['tag', local, target]);
    const push = await execa('docker', ['push', target], { reject: false, timeout: 5 * 60_000 });
    // The 127.0.0.1:5001/... tag is left in place: removing it could break a concurrent push.
    if (push.exitCode !== 0) throw new EnvironmentError(`pushing ${local} to the local registry failed: ${firstLine(push.stderr)}`);
  }
  const names = [...images.values()].sort();
  progress.step(`local registry serves ${names.length} image(s) to the node (${pushed} pushed now): ${names.join(', ')}`);
}

/**
 * Earlier versions tagged look-alikes, add-ons and control-plane images on the host under their
 * upstream names (a look-alike under the name of the image it imitates), so `docker run` of
 * those names ran ours. Removes such tags from images the offline build made; returns them.
 */
export async function removeUpstreamTagsOfOurImages(progress: Progress, now = Date.now()): Promise<string[]> {
  const tags = new Map<string, string>(); // tag -> created ('' when no build can be making it)
  for (const label of OUR_LABELS) {
    const buildOnly = !MIRROR_LABELS.includes(label);
    const r = await execa('docker', ['images', '--filter', `label=${label}`, '--format', '{{.Repository}}:{{.Tag}}\t{{.CreatedAt}}'], {
      reject: false,
      timeout: 60_000,
    });
    for (const line of r.stdout.split('\n')) {
      const [tag, created] = line.split('\t');
      // Look-alikes and add-ons are never built under upstream names any more: no age guard.
      if (tag && created && !(buildOnly && tags.has(tag))) tags.set(tag, buildOnly ? created : '');
    }
  }
  const removed: string[] = [];
  for (const [tag, created] of tags) {
    if (!isUpstreamStyleTag(tag)) continue;
    if (created) {
      const createdMs = parseDockerTime(created);
      if (!Number.isFinite(createdMs) || now - createdMs < BUILD_IN_PROGRESS_MS) continue;
    }
    const r = await execa('docker', ['image', 'rm', tag], { reject: false, timeout: 60_000 });
    if (r.exitCode === 0) removed.push(tag);
  }
  if (removed.length) progress.step(`removed upstream-named tags of look-alike and offline-built images from this host: ${removed.join(', ')}`);
  return removed;
}

/** `docker images` CreatedAt, e.g. "2026-12-01 12:31:55 +0000 UTC", in ms (NaN when unreadable). */
export function parseDockerTime(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{4})/.exec(text.trim());
  return m ? Date.parse(`${m[1]}T${m[2]}${m[3]}`) : NaN;
}

/** A tag under someone else's name: not ours, not the local registry's, not dangling. */
export function isUpstreamStyleTag(tag: string): boolean {
  return !tag.startsWith('kube-lab-grader/') && !tag.startsWith('127.0.0.1:') && !tag.startsWith('localhost:') && !tag.includes('<none>');
}

/**
 * Does the registry serve this exact image under `served`? For images docker pushed (schema 2
 * manifests) the manifest's config digest is the local image ID.
 */
async function registryHasImage(image: string, served: string): Promise<boolean> {
  const path = mirrorPath(served);
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
