// Writes and reads a batch's files in its --out folder:
//   batch.json     the entries (name, folder, state, exit code, duration, reason): what merge and
//                  --resume read back, with each submission's <name>/result.json
//   results.csv, junit.xml, summary.md, report.html
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabDefinition } from '../lab/types.js';
import type { RunResult } from '../model.js';
import { renderBatchJunit, renderBatchSummary, renderResultsCsv, sortEntries, type BatchEntry, type BatchOutcome } from './batch.js';
import { renderReportHtml } from './html.js';
import { writeFileAtomic } from './write.js';
import { errorText } from '../util/error-text.js';

export const BATCH_FILES = ['results.csv', 'junit.xml', 'summary.md', 'report.html'] as const;

interface BatchJson {
  lab: string;
  stopped?: string;
  entries: Array<Omit<BatchEntry, 'run'>>;
}

export async function writeBatchFiles(outDir: string, outcome: BatchOutcome): Promise<Record<(typeof BATCH_FILES)[number], string>> {
  const json: BatchJson = {
    lab: outcome.lab.id,
    ...(outcome.stopped ? { stopped: outcome.stopped } : {}),
    entries: sortEntries(outcome.entries).map(({ run: _run, ...rest }) => rest),
  };
  const files = {
    'results.csv': renderResultsCsv(outcome),
    'junit.xml': renderBatchJunit(outcome),
    'summary.md': renderBatchSummary(outcome),
    'report.html': renderReportHtml(outcome),
  };
  await writeFileAtomic(path.join(outDir, 'batch.json'), `${JSON.stringify(json, null, 2)}\n`);
  const written = {} as Record<(typeof BATCH_FILES)[number], string>;
  for (const name of BATCH_FILES) {
    written[name] = path.join(outDir, name);
    await writeFileAtomic(written[name], files[name]);
  }
  return written;
}

/** A submission's result.json under a batch folder, when it is there and parses. */
export async function readResult(file: string): Promise<RunResult | undefined> {
  try {
    const run = JSON.parse(await readFile(file, 'utf8')) as RunResult;
    return Array.isArray(run.checks) ? run : undefined;
  } catch {
    return undefined;
  }
}

/** A result.json that a finished grading wrote (not a checkpoint, not interrupted, decided). */
export function isComplete(run: RunResult | undefined): boolean {
  return run !== undefined && typeof run.exitCode === 'number' && run.exitCode !== 3 && !run.interrupted;
}

/** Reads a batch's --out folder back: its batch.json and every graded submission's result.json. */
export async function readBatchDir(outDir: string, labFor: (id: string) => LabDefinition): Promise<BatchOutcome> {
  const file = path.join(outDir, 'batch.json');
  let json: BatchJson;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as BatchJson;
  } catch (err) {
    throw new Error(`${file}: not a batch output (${errorText(err)})`);
  }
  if (typeof json.lab !== 'string' || !Array.isArray(json.entries)) throw new Error(`${file}: not a batch output (no lab or entries)`);
  const lab = labFor(json.lab);
  const entries: BatchEntry[] = [];
  for (const e of json.entries) {
    if (e.state !== 'graded') {
      entries.push(e);
      continue;
    }
    const run = await readResult(path.join(outDir, e.name, 'result.json'));
    entries.push(run ? { ...e, run } : { ...e, state: 'not-graded', reason: `${path.join(outDir, e.name, 'result.json')} is missing or unreadable` });
  }
  return { lab, entries, ...(json.stopped ? { stopped: json.stopped } : {}) };
}
