// The pinned versions from versions.env (one file for the shell scripts and the CLI).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Versions {
  KIND_VERSION: string;
  KUBERNETES_VERSION: string;
  KIND_NODE_IMAGE: string;
  METRICS_SERVER_VERSION: string;
  [key: string]: string;
}

export function parseVersionsEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m?.[1]) out[m[1]] = (m[2] ?? '').replace(/^["']|["']$/g, '');
  }
  return out;
}

let cached: Versions | undefined;
export function versions(): Versions {
  if (!cached) {
    const parsed = parseVersionsEnv(readFileSync(new URL('../../versions.env', import.meta.url), 'utf8'));
    for (const key of ['KIND_VERSION', 'KUBERNETES_VERSION', 'KIND_NODE_IMAGE', 'METRICS_SERVER_VERSION']) {
      if (!parsed[key]) throw new Error(`versions.env lacks ${key}`);
    }
    cached = parsed as Versions;
  }
  return cached;
}
