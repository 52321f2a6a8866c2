#!/usr/bin/env node
// The composite action's grading step (action.yml): checks the inputs, runs `lab-grader grade`
// (which writes the reports, the step summary and the annotations under GITHUB_ACTIONS), and sets
// the outputs score, max-score, exit-code, result (base64 of classroom.json) and headline.
// Whatever goes wrong, it leaves reports in the output folder, a classroom.json with status
// "error" and zero points when nothing was graded, and one clear line in the log and the step
// summary. It always exits 0: the action's last step fails the job from `exit-code`, after the
// reports are uploaded.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = process.env;
const input = (name) => (env[`INPUT_${name}`] ?? '').trim();
const outDir = path.resolve(input('OUT') || 'lab-grader-reports');

function log(line) {
  process.stdout.write(`${line}\n`);
}

function setOutputs(values) {
  const lines = Object.entries(values).map(([k, v]) => `${k}=${String(v).replace(/[\r\n]+/g, ' ')}`);
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `${lines.join('\n')}\n`);
  else for (const l of lines) log(`output ${l}`);
}

function stepSummary(markdown) {
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
}

/** Workflow-command escaping (toCommandValue): %, CR, LF. */
function escapeData(text) {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** One clear line in the log (as an error annotation) and in the step summary. */
function announce(line) {
  log(`::error title=lab-grader::${escapeData(line)}`);
  stepSummary(`**lab-grader:** ${line.replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))}`);
}

/** classroom.json with status "error" and zero points, written without the grader's modules. */
function bareClassroomError(message, maxScore = 0) {
  return {
    version: 1,
    status: 'error',
    max_score: maxScore,
    tests: [{ name: 'lab-grader', status: 'error', score: 0, message, test_code: '', filename: '', line_no: 0, duration: 0 }],
  };
}

/** Reports for a run that never started: every check of the lab an error, zero points. */
async function writeUngraded(reason, exitCode, labId) {
  mkdirSync(outDir, { recursive: true });
  try {
    const { getLab, LAB_IDS } = await import(path.join(root, 'dist/labs/index.js'));
    const { ReportSession, writeReports } = await import(path.join(root, 'dist/report/index.js'));
    const submission = input('PATH') || '(empty)';
    const id = labId || LAB_IDS[0];
    if (LAB_IDS.includes(id)) {
      const session = new ReportSession({ lab: getLab(id), submission, outDir, checkpoint: false, env, github: false });
      await session.finalize({ reason, unrun: 'error', exitCode });
    } else {
      const run = { lab: id, submission, score: 0, maxScore: 0, startedAt: new Date().toISOString(), durationMs: 0, checks: [], exitCode, notes: [reason] };
      await writeReports(outDir, run, { env, github: false });
    }
  } catch (err) {
    // The grader itself is unusable (install failed): classroom.json is all that can be written.
    log(`lab-grader: could not load the grader to write full reports: ${err instanceof Error ? err.message : String(err)}`);
    writeFileSync(path.join(outDir, 'classroom.json'), `${JSON.stringify(bareClassroomError(`${reason}; no points awarded`), null, 2)}\n`);
  }
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function dockerUsable() {
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return { ok: false, why: 'the docker command is not installed' };
  if (r.status !== 0) return { ok: false, why: (r.stderr || 'docker info failed').trim().split('\n').pop() };
  return { ok: true };
}

/** Checks the inputs and the runner; returns [reason, exitCode] for the first problem. */
async function precheck() {
  if (env.INSTALL_OUTCOME && env.INSTALL_OUTCOME !== 'success') {
    return [`the grader could not be installed from ${root} (see the step "Install the grader")`, 3];
  }
  const dir = input('PATH');
  if (!dir) return ['the input `path` is empty: set it to the folder with the Kubernetes manifests, relative to the repository root', 4];
  let info;
  try {
    info = statSync(dir);
  } catch {
    return [`the input \`path\` names ${JSON.stringify(dir)}, which does not exist (paths are relative to the repository root)`, 4];
  }
  if (!info.isDirectory()) return [`the input \`path\` names ${JSON.stringify(dir)}, which is not a folder`, 4];
  const lab = input('LAB');
  if (lab) {
    const { LAB_IDS } = await import(path.join(root, 'dist/labs/index.js'));
    if (!LAB_IDS.includes(lab)) return [`the input \`lab\` is ${JSON.stringify(lab)}, which is not a known lab; known labs: ${LAB_IDS.join(', ')}`, 4];
  }
  if (!input('CONTEXT') && input('STATIC_ONLY') !== 'true') {
    const docker = dockerUsable();
    if (!docker.ok) {
      return [`Docker is not usable on this runner (${docker.why}): the action needs it to run kind; use a runner with Docker (GitHub's ubuntu runners have it) or set the input \`context\``, 3];
    }
  }
  return undefined;
}

function headlineOf(result, exitCode) {
  if (!result) return `no result.json was written in ${outDir}`;
  const counts = { failed: 0, error: 0, skipped: 0 };
  for (const c of result.checks ?? []) if (c.status in counts) counts[c.status]++;
  const firstError = (result.checks ?? []).find((c) => c.status === 'error');
  if (exitCode === 3 || exitCode === 4) {
    const cause = firstError?.message?.split('\n')[0] ?? result.notes?.[0] ?? 'see the log above';
    return `${result.submission} could not be graded: ${cause}`;
  }
  const parts = [`${result.score}/${result.maxScore} points`];
  if (counts.failed) parts.push(`${counts.failed} check${counts.failed > 1 ? 's' : ''} failed`);
  if (exitCode === 2) parts.push('the submission could not be graded');
  return `${result.lab}: ${parts.join(', ')}`;
}

async function main() {
  let exitCode;
  const problem = await precheck().catch((err) => [`the action failed before grading: ${err instanceof Error ? err.message : String(err)}`, 3]);
  if (problem) {
    const [reason, code] = problem;
    announce(reason);
    await writeUngraded(reason, code, input('LAB'));
    exitCode = code;
  } else {
    const args = [path.join(root, 'bin/lab-grader.js'), 'grade', input('PATH'), '--out', outDir];
    if (input('LAB')) args.push('--lab', input('LAB'));
    if (input('CONTEXT')) args.push('--context', input('CONTEXT'));
    if (input('BUDGET')) args.push('--budget', input('BUDGET'));
    if (input('STATIC_ONLY') === 'true') args.push('--static-only');
    log(`lab-grader: node ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
    const ran = spawnSync(process.execPath, args, { stdio: 'inherit', env });
    exitCode = ran.status ?? 3;
    if (!existsSync(path.join(outDir, 'classroom.json'))) {
      const reason = `the grader stopped (exit ${ran.status ?? ran.signal}) without writing reports to ${outDir}`;
      await writeUngraded(reason, exitCode === 4 ? 4 : 3, input('LAB'));
    }
  }

  const result = readJson(path.join(outDir, 'result.json'));
  const classroom = readJson(path.join(outDir, 'classroom.json')) ?? bareClassroomError(`no classroom.json in ${outDir}`);
  const headline = problem ? problem[0] : headlineOf(result, exitCode);
  const announced = Boolean(problem) || exitCode === 3 || exitCode === 4 || !result;
  if (announced && !problem) announce(headline);
  setOutputs({
    score: result?.score ?? 0,
    'max-score': result?.maxScore ?? 0,
    'exit-code': exitCode,
    result: Buffer.from(JSON.stringify(classroom), 'utf8').toString('base64'),
    headline,
    announced,
  });
  log(`lab-grader: ${headline} (exit ${exitCode}); reports in ${outDir}`);
}

await main();
