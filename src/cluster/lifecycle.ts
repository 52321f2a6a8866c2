import type { ClusterAction, ClusterCommandOptions } from './commands.js';
export async function runClusterCommand(action: ClusterAction, _opts: ClusterCommandOptions): Promise<number> {
  throw new Error(`cluster ${action}: not written yet`);
}
