// Live grading: apply into a fresh namespace and run the scenarios. Written in src/scenarios/.
import type { CheckResult } from '../model.js';
export interface LiveGradeOptions {
  submissionDir: string;
  /** Objects after policy, as plain manifests (namespace rewritten by the caller or here). */
  manifests: Array<Record<string, unknown>>;
  context?: string;
  budgetMs: number;
  keepNamespace: boolean;
  signal: AbortSignal;
  /** Called as each check finishes, so reports can be written incrementally. */
  onCheck: (result: CheckResult) => void;
  /** Progress lines for the terminal. */
  onProgress: (line: string) => void;
}
export async function gradeLive(_opts: LiveGradeOptions): Promise<CheckResult[]> {
  throw new Error('live grading: not written yet');
}
