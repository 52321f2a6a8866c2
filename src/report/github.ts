// GitHub Actions workflow commands: annotations on the learner's lines.
import path from 'node:path';
import type { RunResult } from '../model.js';

/** Escaping for a command's message (docs: "workflow commands", toCommandValue/escapeData). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escaping for a command's property values: also ':' and ','. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export interface AnnotationOptions {
  /** The submission directory as given on the command line. */
  submissionDir: string;
  /** The repository checkout ($GITHUB_WORKSPACE); absolute paths inside it are made relative to it. */
  workspace?: string;
}

/**
 * `::error` for failed checks that point at a line, `::warning` for checks the grader could not
 * decide (with the line when known). Undecided checks without a line that share one message (all
 * the checks a broken environment kept from running) make a single warning, not one per check.
 */
export function githubAnnotations(run: RunResult, opts: AnnotationOptions): string[] {
  const lines: string[] = [];
  const shared = new Map<string, number>();
  for (const c of run.checks) if (c.status === 'error' && !c.location) shared.set(c.message, (shared.get(c.message) ?? 0) + 1);
  const warned = new Set<string>();
  for (const c of run.checks) {
    if (c.status !== 'failed' && c.status !== 'error') continue;
    if (c.status === 'failed' && !c.location) continue;
    const count = c.status === 'error' && !c.location ? (shared.get(c.message) ?? 1) : 1;
    if (count > 1) {
      if (!warned.has(c.message)) lines.push(`::warning title=${escapeProperty(`${count} checks could not be graded`)}::${escapeData(c.message)}`);
      warned.add(c.message);
      continue;
    }
    const props: string[] = [];
    if (c.location) {
      props.push(`file=${escapeProperty(annotationPath(opts, c.location.file))}`, `line=${c.location.line}`);
      if (c.location.column) props.push(`col=${c.location.column}`);
    }
    props.push(`title=${escapeProperty(c.title)}`);
    const hint = c.hint ? `\n${c.hint}` : '';
    const command = c.status === 'failed' ? 'error' : 'warning';
    lines.push(`::${command} ${props.join(',')}::${escapeData(`${c.message}${hint}`)}`);
  }
  return lines;
}

export function annotationPath(opts: AnnotationOptions, file: string): string {
  let dir = opts.submissionDir;
  if (path.isAbsolute(dir) && opts.workspace) {
    const rel = path.relative(opts.workspace, dir);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) dir = rel;
  }
  return path.posix.normalize(path.posix.join(dir.split(path.sep).join('/'), file));
}
