// `lab-grader cluster up | down | status`: implemented in lifecycle.ts.
export type ClusterAction = 'up' | 'down' | 'status';
export interface ClusterCommandOptions {
  name?: string;
  profile?: 'grading' | 'default';
  force?: boolean;
  /** down: also run `scripts/host/ensure-docker.sh --restore-host`. */
  restoreHost?: boolean;
  offline?: 'auto' | 'always' | 'never';
}
export async function clusterCommand(action: ClusterAction, opts: ClusterCommandOptions): Promise<number> {
  const { runClusterCommand } = await import('./lifecycle.js');
  return runClusterCommand(action, opts);
}
