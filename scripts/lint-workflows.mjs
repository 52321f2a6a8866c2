#!/usr/bin/env node
// actionlint on every workflow and action file of the project:
//  - .github/workflows/*.yml (actionlint also checks the inputs of the local action `uses: ./`
//    against action.yml);
//  - examples/workflows/*.yml (the templates instructors copy);
//  - action.yml itself: actionlint reads action metadata only through a workflow that uses it, so
//    its composite steps are linted as the steps of a generated reusable workflow whose inputs are
//    the action's inputs (expressions, contexts, step keys, shell scripts via shellcheck if
//    installed).
// The binary comes from `npm run setup` (go install, pinned in versions.env).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(process.env.LAB_GRADER_CACHE ?? path.join(homedir(), '.cache', 'kube-lab-grader'), 'tools', 'bin', 'actionlint');
if (!existsSync(bin)) {
  console.error(`lint:workflows: actionlint is not installed at ${bin}: run \`npm run setup\``);
  process.exit(3);
}

const ymls = (dir) => (existsSync(path.join(root, dir)) ? readdirSync(path.join(root, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f)) : []);
const files = [...ymls('.github/workflows'), ...ymls('examples/workflows')];

/** action.yml's composite steps as a `workflow_call` workflow. */
function actionAsWorkflow() {
  const action = YAML.parse(readFileSync(path.join(root, 'action.yml'), 'utf8'));
  const inputs = Object.fromEntries(
    Object.entries(action.inputs ?? {}).map(([name, def]) => [name, { type: 'string', required: Boolean(def.required), ...(def.default !== undefined ? { default: String(def.default) } : {}) }]),
  );
  return {
    name: 'action.yml (composite steps)',
    on: { workflow_call: { inputs } },
    jobs: { action: { 'runs-on': 'ubuntu-latest', steps: action.runs.steps } },
  };
}

let failed = false;
const lint = (args, label) => {
  const r = spawnSync(bin, ['-no-color', ...args], { cwd: root, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`.trim();
  if (r.status !== 0) {
    failed = true;
    console.error(`actionlint: ${label}\n${out}`);
  }
};
lint(files, files.join(', '));

const scratch = mkdtempSync(path.join(tmpdir(), 'lint-action-'));
try {
  mkdirSync(path.join(scratch, '.github', 'workflows'), { recursive: true });
  // A repository of its own so that actionlint's project detection does not pick up ours.
  execFileSync('git', ['init', '-q', scratch]);
  const generated = path.join(scratch, '.github', 'workflows', 'action.yml');
  writeFileSync(generated, YAML.stringify(actionAsWorkflow()));
  const r = spawnSync(bin, ['-no-color', generated], { cwd: scratch, encoding: 'utf8' });
  if (r.status !== 0) {
    failed = true;
    // Point at the generated file's content; its steps are action.yml's, in order.
    console.error(`actionlint: action.yml (linted as ${generated}):\n${`${r.stdout}${r.stderr}`.trim()}\n--- generated:\n${readFileSync(generated, 'utf8')}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (!failed) console.log(`actionlint ok: ${[...files, 'action.yml'].join(', ')}`);
process.exit(failed ? 1 : 0);
