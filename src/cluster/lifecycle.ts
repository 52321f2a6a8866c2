// `lab-grader cluster up | down | status`.
//
// up:     preflight (Docker, ports, disk) → node image (official, or built offline) → kind create
//         (or reuse) → node and kube-system Ready → offline registry mirror → metrics-server →
//         pod metrics served. Idempotent: a healthy cluster is reused and only re-verified.
// down:   removes what `up` made (cluster, registry container, the kind network if it made it);
//         refuses a cluster it did not create unless --force.
// status: reports and exits 0 when the cluster is ready for grading, 3 otherwise.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError, ExitCode } from '../model.js';
import { createProgress, type Progress } from '../util/progress.js';
import type { ClusterAction, ClusterCommandOptions } from './commands.js';
import { cacheRoot, docker, dockerAvailable, findKind, requireDiskSpace, requirePortsFree } from './host.js';
import { kindClusterConfig } from './kind-config.js';
import { ensureOfflineArtefacts, ensureRegistry, removeRegistry, removeUpstreamTagsOfOurImages, type OfflineArtefacts } from './offline.js';
import { applyProfileToCluster, installMetricsServer, verifyClusterReady, waitForApiServer, type ReadinessReport } from './readiness.js';
import { withRetry } from '../kube/retry.js';
import { DEFAULT_CLUSTER_NAME, kindContext, MIN_FREE_DISK_BYTES, publishedPorts, type Profile } from './settings.js';
import { PROJECT_ROOT, versions } from './versions.js';
import { errorText } from '../util/error-text.js';

export interface ClusterMarker {
  name: string;
  createdAt: string;
  profile: Profile;
  mode: 'online' | 'offline';
  nodeImage: string;
  kindNetworkCreated: boolean;
  /** Digest of the kind configuration and profile the cluster was created from (absent on old markers). */
  configDigest?: string;
}

/**
 * What a cluster created now would be made of: the rendered kind configuration (kubelet
 * settings), the kubeadm patches and the profile file. A cluster created from another digest runs settings
 * this version of lab-grader no longer grades with (e.g. a shorter HPA window, a Pod PID limit).
 */
export function clusterConfigDigest(name: string, profile: Profile, root = PROJECT_ROOT): string {
  const profileFile = join(root, 'kind', 'profiles', `${profile}.yaml`);
  const profileText = existsSync(profileFile) ? readFileSync(profileFile, 'utf8') : '';
  // The rendered config names the checkout's own path (mounts): leave it out, so that every clone
  // of the same version agrees.
  const config = kindClusterConfig(name, profile, root).split(root.replace(/\/+$/, '')).join('<project>');
  const hash = createHash('sha256').update(config).update('\0').update(profileText);
  // The kubeadm patches reach the node as a mounted folder: the rendered config names only its path.
  const patches = join(root, 'kind', 'patches');
  if (existsSync(patches)) {
    for (const file of readdirSync(patches).sort()) hash.update(`\0${file}\0`).update(readFileSync(join(patches, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

function markerPath(name: string): string {
  return join(cacheRoot(), 'clusters', `${name}.json`);
}

/**
 * The name of the kind cluster a kubeconfig context points at, when lab-grader created that
 * cluster on this host (`kind-<name>` with a marker): such a cluster may be brought back up.
 */
export function ownClusterOfContext(context: string): { name: string; profile: Profile } | undefined {
  const name = /^kind-(.+)$/.exec(context)?.[1];
  const marker = name ? readMarker(name) : undefined;
  return name && marker ? { name, profile: marker.profile } : undefined;
}

export function readMarker(name: string): ClusterMarker | undefined {
  try {
    return JSON.parse(readFileSync(markerPath(name), 'utf8')) as ClusterMarker;
  } catch {
    return undefined;
  }
}

function writeMarker(marker: ClusterMarker): void {
  mkdirSync(join(cacheRoot(), 'clusters'), { recursive: true });
  writeFileSync(markerPath(marker.name), JSON.stringify(marker, null, 2) + '\n');
}

export async function runClusterCommand(action: ClusterAction, opts: ClusterCommandOptions): Promise<number> {
  const name = opts.name ?? DEFAULT_CLUSTER_NAME;
  const progress = createProgress(`cluster ${action}: `);
  try {
    switch (action) {
      case 'up':
        await clusterUp({ name, profile: opts.profile ?? 'grading', offline: opts.offline ?? 'auto', progress, recreateIfStale: true });
        return ExitCode.Passed;
      case 'down':
        await clusterDown({ name, force: opts.force ?? false, progress });
        if (opts.restoreHost) await restoreHost(progress);
        return ExitCode.Passed;
      case 'status':
        return await clusterStatus(name, progress);
    }
  } catch (error) {
    progress.done();
    if (error instanceof EnvironmentError) {
      process.stderr.write(`lab-grader: ${error.message}${error.advice ? `; ${error.advice}` : ''}\n`);
      return ExitCode.Environment;
    }
    throw error;
  }
}

async function kindOrBuild(progress: Progress): Promise<string> {
  const found = await findKind();
  if (found) return found;
  progress.step(`kind ${versions().KIND_VERSION} not found: building it from the Go module proxy`);
  const r = await execa('bash', [join(PROJECT_ROOT, 'scripts/offline/build-components.sh')], { reject: false, stdio: 'inherit' });
  const built = await findKind();
  if (r.exitCode !== 0 || !built) {
    throw new EnvironmentError('kind is not installed and could not be built', 'install kind ' + versions().KIND_VERSION + ' or Go, then retry');
  }
  return built;
}

async function kindClusters(kind: string): Promise<string[]> {
  const r = await execa(kind, ['get', 'clusters'], { reject: false, timeout: 30_000 });
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

async function networkExists(name: string): Promise<boolean> {
  const r = await execa('docker', ['network', 'inspect', name], { reject: false, timeout: 20_000 });
  return r.exitCode === 0;
}

export interface UpOptions {
  name: string;
  profile: Profile;
  offline: 'auto' | 'always' | 'never';
  progress: Progress;
  /**
   * Recreate a cluster lab-grader created from an older configuration (`cluster up` does; a
   * grade that brings the cluster up only warns, since other runs may be grading on it).
   */
  recreateIfStale?: boolean;
}

export async function clusterUp(opts: UpOptions): Promise<{ context: string; report: ReadinessReport }> {
  const { name, profile, progress } = opts;
  const started = Date.now();
  await dockerAvailable();
  await removeUpstreamTagsOfOurImages(progress);
  const kind = await kindOrBuild(progress);
  const context = kindContext(name);
  const existing = (await kindClusters(kind)).includes(name);
  const marker = readMarker(name);

  if (existing) {
    const health = await quickHealth(name, context, progress);
    const digest = clusterConfigDigest(name, profile);
    const stale = health.ok && marker !== undefined && marker.profile === profile && marker.configDigest !== digest;
    if (stale && opts.recreateIfStale) {
      progress.step(`cluster "${name}" was created from an older configuration of profile "${profile}"; recreating it (lab-grader created it)`);
      await clusterDown({ name, force: false, progress, keepNetwork: true });
    } else if (health.ok) {
      if (stale) progress.step(`cluster "${name}" was created from an older configuration of profile "${profile}"; run \`lab-grader cluster up\` to recreate it`);
      if (marker && marker.profile !== profile) {
        progress.step(`cluster "${name}" exists with profile "${marker.profile}"; run \`lab-grader cluster down\` first to switch to "${profile}"`);
      }
      progress.step(`reusing cluster "${name}" (${marker ? `${marker.mode}, profile ${marker.profile}` : 'not created by lab-grader'})`);
      const artefacts = marker?.mode === 'offline' ? await ensureOfflineArtefacts(progress, { quiet: true }) : undefined;
      if (artefacts) await ensureRegistry(artefacts, progress);
      await installMetricsServer(context, marker?.profile ?? profile, progress, { skipIfCurrent: true });
      const report = await verifyOrRepair(name, context, progress);
      await cleanUpDeadRuns(context, progress);
      progress.step(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      return { context, report };
    }
    if (!marker) {
      throw new EnvironmentError(
        `a kind cluster named "${name}" exists but is not healthy (${health.reason}), and lab-grader did not create it`,
        `delete it yourself (\`kind delete cluster --name ${name}\`) or run \`lab-grader cluster down --force\``,
      );
    }
    if (!stale) {
      progress.step(`cluster "${name}" is broken (${health.reason}); recreating it (lab-grader created it)`);
      await clusterDown({ name, force: false, progress, keepNetwork: true });
    }
  }

  const ports = publishedPorts(name);
  await requirePortsFree([...(ports.apiServerPort ? [ports.apiServerPort] : []), ...ports.nodePorts]);
  const dockerRoot = (await docker(['info', '--format', '{{.DockerRootDir}}'])).trim();
  await requireDiskSpace(dockerRoot || '/var/lib/docker', MIN_FREE_DISK_BYTES);

  const { mode, nodeImage, artefacts } = await chooseNodeImage(opts);
  const kindNetworkCreated = !(await networkExists('kind'));
  const configPath = join(cacheRoot(), 'clusters', `${name}.kind.yaml`);
  mkdirSync(join(cacheRoot(), 'clusters'), { recursive: true });
  writeFileSync(configPath, kindClusterConfig(name, profile));
  // Write the marker before creating: a half-created cluster is still ours to clean up.
  writeMarker({ name, createdAt: new Date().toISOString(), profile, mode, nodeImage, kindNetworkCreated, configDigest: clusterConfigDigest(name, profile) });

  progress.step(`creating kind cluster "${name}" (${mode}, node image ${nodeImage}, profile ${profile})`);
  const create = await execa(kind, ['create', 'cluster', '--name', name, '--image', nodeImage, '--config', configPath, '--wait', '0s'], {
    reject: false,
    all: true,
    timeout: 15 * 60_000,
  });
  if (create.exitCode !== 0) {
    const logs = await exportKindLogs(kind, name);
    throw new EnvironmentError(
      `kind create cluster failed: ${lastLines(create.all ?? '', 6)}`,
      `node logs exported to ${logs}; run \`lab-grader cluster down\` and retry`,
    );
  }
  if (artefacts) await ensureRegistry(artefacts, progress);
  await waitForApiServer(context, progress, API_SERVER_BOOT_MS);
  await withRetry('apply the profile to kube-system', () => applyProfileToCluster(context, profile, progress), { retries: 6 });
  await withRetry('install metrics-server', () => installMetricsServer(context, profile, progress), { retries: 6 });
  const report = await verifyOrRepair(name, context, progress);
  progress.step(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s (${report.nodes.join(', ')})`);
  return { context, report };
}

/** How long pod metrics may take once kube-system is Ready before `up` repairs the API server. */
const METRICS_BEFORE_REPAIR_MS = 90_000;

/**
 * verifyClusterReady, with one repair: after the node restarted (dockerd restarted it), the API
 * server's aggregator can keep failing the metrics APIService's discovery ("FailedDiscoveryCheck
 * … 404") although metrics-server is Ready, until the API server itself restarts. Restarting its
 * container (the kubelet starts it again at once) is what brings the metrics API back.
 */
async function verifyOrRepair(name: string, context: string, progress: Progress): Promise<ReadinessReport> {
  try {
    return await verifyClusterReady(context, progress, { metricsTimeoutMs: METRICS_BEFORE_REPAIR_MS });
  } catch (error) {
    if (!(error instanceof EnvironmentError) || !/FailedDiscoveryCheck/.test(error.message)) throw error;
    progress.step('the metrics APIService still fails its discovery check although metrics-server is Ready: restarting the API server');
    const node = `${name}-control-plane`;
    const r = await execa('docker', ['exec', node, 'sh', '-c', 'crictl ps --name kube-apiserver -q | xargs -r crictl stop'], { reject: false, all: true, timeout: 60_000 });
    if (r.exitCode !== 0) throw new EnvironmentError(`could not restart the API server in ${node}: ${lastLines(r.all ?? '', 2)}`, 'run `lab-grader cluster down` and `cluster up` to recreate the cluster');
    await waitForApiServer(context, progress, API_SERVER_BOOT_MS);
    return verifyClusterReady(context, progress);
  }
}

/** Namespaces of grading runs on this host whose process died without cleaning up. */
async function cleanUpDeadRuns(context: string, progress: Progress): Promise<void> {
  try {
    const { loadKube } = await import('../kube/client.js');
    const { deleteNamespacesOfDeadRuns } = await import('../kube/namespace.js');
    const deleted = await deleteNamespacesOfDeadRuns(loadKube(context));
    if (deleted.length) progress.step(`deleting namespaces of grading runs that died on this host: ${deleted.join(', ')}`);
  } catch (error) {
    progress.step(`could not look for namespaces of dead runs: ${errorText(error).split('\n')[0]}`);
  }
}

async function chooseNodeImage(opts: UpOptions): Promise<{ mode: 'online' | 'offline'; nodeImage: string; artefacts?: OfflineArtefacts }> {
  const official = versions().KIND_NODE_IMAGE;
  const forced = process.env.LAB_GRADER_OFFLINE;
  const offline = opts.offline === 'always' || forced === '1' || forced === 'true';
  const online = opts.offline === 'never' || forced === '0' || forced === 'false';
  if (!offline) {
    const local = await execa('docker', ['image', 'inspect', official], { reject: false, timeout: 20_000 });
    if (local.exitCode === 0) return { mode: 'online', nodeImage: official };
    opts.progress.step(`pulling kind's node image ${official.split('@')[0]}`);
    const pull = await execa('docker', ['pull', official], { reject: false, timeout: 10 * 60_000 });
    if (pull.exitCode === 0) return { mode: 'online', nodeImage: official };
    if (online) throw new EnvironmentError(`cannot pull ${official}: ${lastLines(pull.stderr, 1)}`, 'check the network or drop --online');
    opts.progress.step('no image registry reachable: building the cluster offline from Debian packages and the Go module proxy');
  }
  const artefacts = await ensureOfflineArtefacts(opts.progress);
  return { mode: 'offline', nodeImage: artefacts.nodeImage, artefacts };
}

/**
 * How long a node container that runs gets for its API server to answer before the cluster counts
 * as broken: after dockerd (re)starts, kind's node container boots the control plane again.
 */
const API_SERVER_BOOT_MS = 2 * 60_000;

async function quickHealth(name: string, context: string, progress: Progress): Promise<{ ok: boolean; reason: string }> {
  const node = `${name}-control-plane`;
  const state = await execa('docker', ['inspect', '--format', '{{.State.Status}}', node], { reject: false, timeout: 20_000 });
  if (state.exitCode !== 0) return { ok: false, reason: `node container ${node} not found` };
  if (state.stdout.trim() !== 'running') return { ok: false, reason: `node container ${node} is ${state.stdout.trim()}` };
  try {
    await waitForApiServer(context, progress, API_SERVER_BOOT_MS);
    return { ok: true, reason: '' };
  } catch (error) {
    return { ok: false, reason: errorText(error).split('\n')[0] ?? 'API server not answering' };
  }
}

export async function exportKindLogs(kind: string, name: string): Promise<string> {
  const dir = join(PROJECT_ROOT, 'reports', 'kind-logs', `${name}-${Date.now()}`);
  await execa(kind, ['export', 'logs', dir, '--name', name], { reject: false, timeout: 5 * 60_000 });
  return dir;
}

export interface DownOptions {
  name: string;
  force: boolean;
  progress: Progress;
  keepNetwork?: boolean;
}

export async function clusterDown(opts: DownOptions): Promise<void> {
  const { name, force, progress } = opts;
  await dockerAvailable();
  await removeUpstreamTagsOfOurImages(progress);
  const marker = readMarker(name);
  const kind = await findKind();
  const exists = kind ? (await kindClusters(kind)).includes(name) : false;
  if (exists && !marker && !force) {
    throw new EnvironmentError(`kind cluster "${name}" was not created by lab-grader; leaving it alone`, 'pass --force to delete it anyway');
  }
  if (exists && kind) {
    progress.step(`deleting kind cluster "${name}"`);
    // A node that ran thousands of processes can take longer to die than docker waits for a
    // kill ("did not receive an exit event"): try again before giving up.
    let r = await execa(kind, ['delete', 'cluster', '--name', name], { reject: false, all: true, timeout: 5 * 60_000 });
    for (let attempt = 2; r.exitCode !== 0 && attempt <= 4; attempt++) {
      progress.step(`kind delete cluster failed (${lastLines(r.all ?? '', 1)}); trying again in 15s (attempt ${attempt} of 4)`);
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      r = await execa(kind, ['delete', 'cluster', '--name', name], { reject: false, all: true, timeout: 5 * 60_000 });
    }
    if (r.exitCode !== 0) throw new EnvironmentError(`kind delete cluster failed: ${lastLines(r.all ?? '', 3)}`);
  } else {
    progress.step(`no kind cluster "${name}"`);
  }
  // The registry and the network are shared by every cluster on this host (a comparison cluster
  // may run beside the default one): they go only with the last cluster.
  const others = kind ? (await kindClusters(kind)).filter((c) => c !== name) : [];
  if (others.length > 0 && !opts.keepNetwork) {
    progress.step(`keeping the local registry and the docker network "kind": still used by cluster ${others.join(', ')}`);
  } else if (!opts.keepNetwork) {
    await removeRegistry(progress);
    if (marker?.kindNetworkCreated && (await networkExists('kind'))) {
      const attached = await docker(['network', 'inspect', 'kind', '--format', '{{len .Containers}}']);
      if (attached.trim() === '0') {
        progress.step('removing the docker network "kind" (created by lab-grader, now empty)');
        await docker(['network', 'rm', 'kind']);
      }
    }
  }
  if (existsSync(markerPath(name))) rmSync(markerPath(name));
  progress.done();
}

/** Undoes what scripts/host/ensure-docker.sh changed on this host; it says what it did. */
async function restoreHost(progress: Progress): Promise<void> {
  progress.step('restoring the host (scripts/host/ensure-docker.sh --restore-host)');
  const r = await execa('bash', [join(PROJECT_ROOT, 'scripts/host/ensure-docker.sh'), '--restore-host'], {
    reject: false,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 5 * 60_000,
  });
  if (r.exitCode !== 0) {
    throw new EnvironmentError(
      `restoring the host failed (exit ${r.exitCode})`,
      'run `sudo bash scripts/host/ensure-docker.sh --restore-host` to see why',
    );
  }
}

async function clusterStatus(name: string, progress: Progress): Promise<number> {
  await dockerAvailable();
  const kind = await findKind();
  const marker = readMarker(name);
  const exists = kind ? (await kindClusters(kind)).includes(name) : false;
  const out = (k: string, v: string) => process.stdout.write(`${k.padEnd(16)} ${v}\n`);
  out('cluster', exists ? `${name} (context ${kindContext(name)})` : `${name}: not found`);
  out('created by', marker ? `lab-grader at ${marker.createdAt}` : exists ? 'someone else' : '-');
  if (marker) {
    out('mode', marker.mode);
    out('profile', marker.profile);
    out('node image', marker.nodeImage);
  }
  if (!exists) return ExitCode.Environment;
  const stale = marker !== undefined && marker.configDigest !== clusterConfigDigest(name, marker.profile);
  if (stale) {
    out('configuration', 'older than this version of lab-grader (kind config, profile or kubeadm patches)');
    out('ready', 'no: run `lab-grader cluster up` to recreate it');
    return ExitCode.Environment;
  }
  try {
    const report = await verifyClusterReady(kindContext(name), progress, { timeoutMs: 15_000 });
    progress.done();
    out('kubernetes', report.kubernetesVersion);
    out('nodes', report.nodes.join(', '));
    out('metrics API', `serving (${report.podMetrics} pod metrics)`);
    out('ready', 'yes');
    return ExitCode.Passed;
  } catch (error) {
    progress.done();
    out('ready', `no: ${errorText(error)}`);
    return ExitCode.Environment;
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
