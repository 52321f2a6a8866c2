// The lab's published specs (specs/productionizing/<folder>), read like `kubectl apply -f <folder>`
// does (the folder's files, not its subfolders, in name order) and placed into a namespace.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../../../kube/apply.js';
import { productionizing } from '../catalogue.js';
import { parseManifests } from '../../../submission/load.js';
import { isRecord } from '../../../submission/manifest.js';

export const LAB_SPECS_DIR = productionizing.specsDir;

export interface LabSpecs {
  manifests: Manifest[];
  /** What was changed from the lab's text, for the run's notes. */
  notes: string[];
}

/** Reads `specs/productionizing/<folder>` (e.g. `whoami`, `whoami/update`) into manifests. */
export async function readLabSpecs(folder: string, specsDir = LAB_SPECS_DIR): Promise<Manifest[]> {
  const dir = path.join(specsDir, folder);
  const files = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && /\.(ya?ml|json)$/i.test(e.name))
    .map((e) => e.name)
    .sort();
  if (files.length === 0) throw new Error(`no manifests in ${dir}`);
  const manifests: Manifest[] = [];
  for (const file of files) {
    const rel = `${folder}/${file}`;
    const parsed = parseManifests(rel, await readFile(path.join(dir, file), 'utf8'));
    if (parsed.problems.length > 0) {
      throw new Error(`the lab's ${rel} does not parse: ${parsed.problems.map((p) => `${p.location?.line ?? '?'}: ${p.message}`).join('; ')}`);
    }
    manifests.push(...parsed.objects.map((o) => structuredClone(o.body) as Manifest));
  }
  return manifests;
}

/**
 * Places the lab's objects into `namespace`. Services with a fixed nodePort become ClusterIP:
 * NodePorts are cluster-wide, so two runs (or a grading run) using the lab's 30010–30040 at the
 * same time would collide, and nothing here reaches an app through a node port anyway (traffic
 * goes through the API server's proxy). LoadBalancer Services stay as the lab wrote them.
 */
export function placeInNamespace(manifests: readonly Manifest[], namespace: string): LabSpecs {
  const notes: string[] = [];
  const out = manifests.map((m) => {
    const copy = structuredClone(m) as Manifest;
    const metadata = isRecord(copy.metadata) ? copy.metadata : {};
    copy.metadata = { ...metadata, namespace };
    if (copy.kind === 'Service' && isRecord(copy.spec) && copy.spec.type === 'NodePort') {
      const ports = Array.isArray(copy.spec.ports) ? (copy.spec.ports as unknown[]) : [];
      const fixed = ports.filter((p) => isRecord(p) && p.nodePort !== undefined).map((p) => (p as Record<string, unknown>).nodePort);
      if (fixed.length > 0) {
        copy.spec = {
          ...copy.spec,
          type: 'ClusterIP',
          ports: ports.map((p) => {
            if (!isRecord(p)) return p;
            const { nodePort: _nodePort, ...rest } = p;
            return rest;
          }),
        };
        notes.push(
          `Service ${String(metadata.name)} (NodePort ${fixed.join(', ')} in the lab) was created as ClusterIP: fixed NodePorts are cluster-wide and could collide with other runs; apps are reached through the API server proxy`,
        );
      }
    }
    return copy;
  });
  return { manifests: out, notes };
}

/** The container images the lab's specs in these folders run, in first-seen order. */
export function imagesOf(manifests: readonly Manifest[]): string[] {
  const images: string[] = [];
  for (const m of manifests) {
    const spec = isRecord(m.spec) ? m.spec : undefined;
    const template = spec && isRecord(spec.template) ? spec.template : undefined;
    const podSpec = template && isRecord(template.spec) ? template.spec : m.kind === 'Pod' ? spec : undefined;
    const containers = podSpec && Array.isArray(podSpec.containers) ? podSpec.containers : [];
    for (const c of containers) {
      if (isRecord(c) && typeof c.image === 'string' && !images.includes(c.image)) images.push(c.image);
    }
  }
  return images;
}
