// How often the session writes its reports: results recorded together share one checkpoint, and
// a run finalized at once (--static-only) writes only its final reports.
import { describe, expect, it, vi } from 'vitest';
import { productionizing } from '../labs/productionizing/catalogue.js';
import { checkResult } from '../lab/types.js';
import type { RunResult } from '../model.js';

const writes: RunResult[] = [];
vi.mock('./write.js', () => ({
  writeReports: async (dir: string, run: RunResult) => {
    writes.push(run);
    return { dir, junit: '', resultJson: '', summary: '', classroom: '' };
  },
}));
const { ReportSession } = await import('./session.js');

const staticDefs = productionizing.checks.filter((c) => c.kind !== 'live');
const recorded = (run: RunResult) => run.checks.filter((c) => !c.message.startsWith('not run yet')).length;

describe('ReportSession checkpoints', () => {
  it('writes results recorded one after another once, with all of them', async () => {
    writes.length = 0;
    const s = new ReportSession({ lab: productionizing, submission: 'specs', outDir: '/nonexistent', env: {} });
    for (const def of staticDefs) s.record(checkResult(def, 'passed', 'ok', 1));
    await s.flush();
    expect(writes).toHaveLength(1);
    expect(recorded(writes[0]!)).toBe(staticDefs.length);
    const live = productionizing.checks.find((c) => c.kind === 'live')!;
    s.record(checkResult(live, 'passed', 'ok', 1));
    await s.flush();
    expect(writes).toHaveLength(2);
  });

  it('writes only the final reports when the run is finalized right away', async () => {
    writes.length = 0;
    const s = new ReportSession({ lab: productionizing, submission: 'specs', outDir: '/nonexistent', env: {} });
    for (const def of staticDefs) s.record(checkResult(def, 'passed', 'ok', 1));
    await s.finalize({ reason: '--static-only' });
    expect(writes).toHaveLength(1);
    expect(writes[0]!.checks.filter((c) => c.status === 'skipped').every((c) => c.message.includes('--static-only'))).toBe(true);
  });
});
