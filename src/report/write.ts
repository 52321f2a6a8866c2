// Writes junit.xml, result.json, summary.md and classroom.json; each file is replaced atomically, so a reader
// (or a crash) never sees half a report.
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunResult } from '../model.js';
import { classroomResult, renderClassroomJson } from './classroom.js';
import { githubAnnotations } from './github.js';
import { renderJunit } from './junit.js';
import { renderResultJson } from './result-json.js';
import { renderSummary } from './summary-md.js';

export interface WriteOptions {
  /** Defaults to process.env: GITHUB_ACTIONS, GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE. */
  env?: NodeJS.ProcessEnv;
  /** Where workflow commands go; defaults to process.stdout. */
  stdout?: (text: string) => void;
  /** Publish to GitHub (step summary, annotations); default: when GITHUB_ACTIONS is "true". */
  github?: boolean;
}

export interface WrittenReports {
  dir: string;
  junit: string;
  resultJson: string;
  summary: string;
  classroom: string;
}

export async function writeReports(outDir: string, run: RunResult, opts: WriteOptions = {}): Promise<WrittenReports> {
  const env = opts.env ?? process.env;
  await mkdir(outDir, { recursive: true });
  const written: WrittenReports = {
    dir: outDir,
    junit: path.join(outDir, 'junit.xml'),
    resultJson: path.join(outDir, 'result.json'),
    summary: path.join(outDir, 'summary.md'),
    classroom: path.join(outDir, 'classroom.json'),
  };
  const summary = renderSummary(run);
  const onGithub = opts.github ?? env.GITHUB_ACTIONS === 'true';
  const workspace = env.GITHUB_ACTIONS === 'true' && env.GITHUB_WORKSPACE ? env.GITHUB_WORKSPACE : undefined;
  await writeFileAtomic(written.junit, renderJunit(run, workspace ? { workspace } : {}));
  await writeFileAtomic(written.resultJson, renderResultJson(run));
  await writeFileAtomic(written.summary, summary);
  await writeFileAtomic(written.classroom, renderClassroomJson(classroomResult(run, workspace ? { workspace } : {})));

  if (onGithub) {
    if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, `${summary}\n`);
    const print = opts.stdout ?? ((text: string) => process.stdout.write(text));
    const annotations = githubAnnotations(run, {
      submissionDir: run.submission,
      ...(env.GITHUB_WORKSPACE ? { workspace: env.GITHUB_WORKSPACE } : {}),
    });
    for (const line of annotations) print(`${line}\n`);
  }
  return written;
}

/** Write to a temporary file beside the target, then rename over it (atomic on one filesystem). */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
