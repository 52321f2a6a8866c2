// `lab-grader --help` and `grade --static-only` must not load the cluster client or process
// runners: follow cli.ts's static imports (type-only and dynamic `import()` excluded, as the
// compiler emits them) and list every package reached.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.dirname(fileURLToPath(import.meta.url));

/** Static runtime imports of one source file: `import x from`, `export … from`, not `import type`. */
function staticImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    if (m[1]) continue;
    const clause = m[0];
    // `import { type A, type B } from` is elided too when every name is a type.
    const names = /^import\s+\{([^}]*)\}/.exec(clause)?.[1];
    if (names && names.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    out.push(m[2] as string);
  }
  return out;
}

function reachedPackages(entry: string): { packages: Set<string>; files: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
    }
  };
  visit(entry);
  return { packages, files };
}

describe('what the CLI loads before it knows the command', () => {
  it('parses import clauses the way the compiler emits them', () => {
    const text = [
      "import type * as k8s from '@kubernetes/client-node';",
      "import { type A, type B } from './types.js';",
      "import { parse, type Doc } from 'yaml';",
      "export { x } from './x.js';",
      "const later = await import('./live.js');",
    ].join('\n');
    expect(staticImports(text)).toEqual(['yaml', './x.js']);
  });

  it('reaches no cluster client, process runner or load generator from cli.ts', () => {
    const { packages, files } = reachedPackages(path.join(SRC, 'cli.ts'));
    const heavy = [...packages].filter((p) => ['@kubernetes/client-node', 'execa', 'autocannon', 'p-retry'].includes(p));
    expect(heavy).toEqual([]);
    const clusterModules = [...files].map((f) => path.relative(SRC, f)).filter((f) => /^(kube|cluster|faults|selfcheck|labs\/[^/]+\/live)\/|^engine\/(run|checks|apply|sources)\.ts$/.test(f));
    expect(clusterModules).toEqual([]);
  });
});
