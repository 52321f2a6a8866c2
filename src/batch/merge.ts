// `lab-grader merge <out-dirs…>`: joins batch outputs graded in shards (different runners or
// clusters) into one: the submissions' folders are copied under --out and the batch files are
// rebuilt from all of them, the same as one batch of every submission would have written.
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { getLab } from '../labs/index.js';
import { UsageError } from '../model.js';
import { batchExitCode, type BatchEntry, type BatchOutcome } from '../report/batch.js';
import { readBatchDir, writeBatchFiles } from '../report/batch-files.js';
import { errorText } from '../util/error-text.js';

export interface MergeOptions {
  dirs: string[];
  out: string;
  io: { stdout: (t: string) => void; stderr: (t: string) => void };
}

export async function runMerge(opts: MergeOptions): Promise<number> {
  if (opts.dirs.length === 0) throw new UsageError('merge needs at least one batch output folder');
  const shards: Array<{ dir: string; outcome: BatchOutcome }> = [];
  for (const dir of opts.dirs) {
    try {
      shards.push({ dir, outcome: await readBatchDir(dir, getLab) });
    } catch (err) {
      throw new UsageError(errorText(err));
    }
  }
  const lab = shards[0]?.outcome.lab;
  if (!lab) throw new UsageError('merge needs at least one batch output folder');
  const other = shards.find((s) => s.outcome.lab.id !== lab.id);
  if (other) throw new UsageError(`${other.dir} was graded for lab ${other.outcome.lab.id}, ${shards[0]?.dir} for ${lab.id}: merge only one lab at a time`);

  await mkdir(opts.out, { recursive: true });
  const entries: BatchEntry[] = [];
  const from = new Map<string, string>();
  const stops: string[] = [];
  for (const { dir, outcome } of shards) {
    if (outcome.stopped) stops.push(`${dir}: ${outcome.stopped}`);
    for (const e of outcome.entries) {
      const first = from.get(e.name);
      if (first !== undefined) {
        opts.io.stderr(`merge: warning: ${e.name} is in ${first} and in ${dir}: kept the one from ${first}\n`);
        continue;
      }
      from.set(e.name, dir);
      entries.push(e);
      if (e.state === 'graded' && path.resolve(dir) !== path.resolve(opts.out)) {
        await cp(path.join(dir, e.name), path.join(opts.out, e.name), { recursive: true, force: true });
      }
    }
  }
  const merged: BatchOutcome = { lab, entries, ...(stops.length ? { stopped: stops.join('; ') } : {}) };
  const files = await writeBatchFiles(opts.out, merged);
  const graded = entries.filter((e) => e.run).length;
  opts.io.stdout(
    `merge ${lab.id}: ${shards.length} shard${shards.length === 1 ? '' : 's'}, ${entries.length} submissions, ${graded} graded (exit ${batchExitCode(merged)})\nBatch files: ${Object.values(files).join(', ')}\n`,
  );
  return batchExitCode(merged);
}
