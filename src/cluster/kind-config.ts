// Builds the kind cluster config from the committed kind/cluster.yaml and a profile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { publishedPorts, type Profile } from './settings.js';
import { PROJECT_ROOT } from './versions.js';

export interface ProfileSettings {
  kubeadmConfigPatches: string[];
  metricResolution: string;
  kubeletRequestTimeout?: string;
  metricsServerCpuRequest?: string;
  /** Directory (relative to the project) of kubeadm static Pod patches, mounted into the node. */
  staticPodPatches?: string;
  coreDNSReplicas?: number;
}

/** Where the static Pod patches are mounted in the node (kind/profiles/grading.yaml names it). */
export const STATIC_POD_PATCHES_IN_NODE = '/kind/lab-grader-patches';

export function readProfile(profile: Profile, root = PROJECT_ROOT): ProfileSettings {
  const doc = parse(readFileSync(join(root, 'kind', 'profiles', `${profile}.yaml`), 'utf8')) as {
    kubeadmConfigPatches?: string[];
    metricsServer?: { metricResolution?: string; kubeletRequestTimeout?: string; cpuRequest?: string };
    staticPodPatches?: string;
    coreDNSReplicas?: number;
  };
  return {
    kubeadmConfigPatches: doc.kubeadmConfigPatches ?? [],
    metricResolution: doc.metricsServer?.metricResolution ?? '15s',
    kubeletRequestTimeout: doc.metricsServer?.kubeletRequestTimeout,
    metricsServerCpuRequest: doc.metricsServer?.cpuRequest,
    staticPodPatches: doc.staticPodPatches,
    coreDNSReplicas: doc.coreDNSReplicas,
  };
}

export function kindClusterConfig(name: string, profile: Profile, root = PROJECT_ROOT): string {
  const base = parse(readFileSync(join(root, 'kind', 'cluster.yaml'), 'utf8')) as Record<string, unknown> & {
    networking?: Record<string, unknown>;
    nodes?: Array<Record<string, unknown>>;
  };
  base.name = name;
  const ports = publishedPorts(name);
  const { apiServerPort: _committed, ...networking } = base.networking ?? {};
  void _committed;
  base.networking = { ...networking, apiServerAddress: '127.0.0.1', ...(ports.apiServerPort ? { apiServerPort: ports.apiServerPort } : {}) };
  const mappings = ports.nodePorts.map((p) => ({ containerPort: p, hostPort: p, listenAddress: '127.0.0.1', protocol: 'TCP' }));
  const settings = readProfile(profile, root);
  const mounts = settings.staticPodPatches
    ? [{ hostPath: join(root, settings.staticPodPatches), containerPath: STATIC_POD_PATCHES_IN_NODE, readOnly: true }]
    : [];
  base.nodes = (base.nodes ?? [{ role: 'control-plane' }]).map((n) => ({
    ...n,
    extraPortMappings: mappings,
    ...(mounts.length ? { extraMounts: mounts } : {}),
  }));
  if (settings.kubeadmConfigPatches.length) base.kubeadmConfigPatches = settings.kubeadmConfigPatches;
  return stringify(base);
}

/** The metrics-server manifest with the profile's scrape resolution. */
export function metricsServerManifest(profile: Profile, root = PROJECT_ROOT): string {
  const text = readFileSync(join(root, 'kind', 'addons', 'metrics-server.yaml'), 'utf8');
  const { metricResolution, kubeletRequestTimeout, metricsServerCpuRequest } = readProfile(profile, root);
  const arg = /^(\s+)- --metric-resolution=\S+$/m;
  const match = arg.exec(text);
  if (!match) throw new Error('kind/addons/metrics-server.yaml lacks --metric-resolution');
  const indent = match[1] ?? '';
  const timeout = kubeletRequestTimeout ? `\n${indent}- --kubelet-request-timeout=${kubeletRequestTimeout}` : '';
  let out = text.replace(arg, `${indent}- --metric-resolution=${metricResolution}${timeout}`);
  if (metricsServerCpuRequest) {
    const request = /(requests:\n\s+cpu: )100m/;
    if (!request.test(out)) throw new Error('kind/addons/metrics-server.yaml: cpu request not found');
    out = out.replace(request, `$1${metricsServerCpuRequest}`);
  }
  return out;
}
