// security.exec-*: the hardened Pod proven by exec probes in a running app container. A probe
// that must fail only counts when it fails for the right reason (EPERM, ENOENT); a probe that
// could not run at all (no shell, executable not found, container gone) is an error, never a pass.
import type * as k8s from '@kubernetes/client-node';
import type { ProductionizingId } from '../catalogue.js';
import { execInPod, type ExecResult } from '../../../kube/exec.js';
import { isPodReady } from '../../../kube/pods.js';
import { CheckFailed, CheckInconclusive } from '../../../engine/outcomes.js';
import type { LiveCheckRecorder } from '../../../engine/lab.js';
import { appContainerStatus, type ScenarioContext } from './context.js';

export const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';
/** A file of the app the image ships, owned by root (the look-alike has it too). */
export const APP_FILE = '/app/configurable.web.dll';

export type ProbeVerdict = { verdict: 'pass' | 'fail' | 'inconclusive'; message: string };

function shown(r: ExecResult): string {
  const text = `${r.stderr.trim()} ${r.stdout.trim()}`.trim().split('\n')[0] ?? '';
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

function notRun(what: string, r: ExecResult): ProbeVerdict | undefined {
  if (r.exitCode !== undefined) return undefined;
  const why = r.startFailure === 'executable-not-found' ? 'the executable is not in the image' : r.statusMessage || 'no exit status';
  return { verdict: 'inconclusive', message: `\`${what}\` could not run in the container (${why}), so the grader cannot tell` };
}

export function judgeUid(r: ExecResult): ProbeVerdict {
  const skipped = notRun('id -u', r);
  if (skipped) return skipped;
  const out = r.stdout.trim();
  if (r.exitCode !== 0 || !/^\d+$/.test(out)) {
    return { verdict: 'inconclusive', message: `\`id -u\` exited ${r.exitCode} and printed ${JSON.stringify(shown(r))}, not a UID` };
  }
  if (out === '0') return { verdict: 'fail', message: 'expected a non-zero UID; `id -u` printed 0: the app runs as root' };
  return { verdict: 'pass', message: `\`id -u\` printed ${out}: the app runs as a non-root user` };
}

export function judgeToken(r: ExecResult): ProbeVerdict {
  const skipped = notRun(`cat ${TOKEN_PATH}`, r);
  if (skipped) return skipped;
  const err = shown(r);
  if (r.exitCode === 0) {
    // Never print the token itself.
    const len = r.stdout.trim().length;
    return { verdict: 'fail', message: `expected no token; \`cat ${TOKEN_PATH}\` succeeded and printed a ${len}-character token: the Pod mounts its service account token` };
  }
  if (/no such file or directory/i.test(err)) return { verdict: 'pass', message: `\`cat ${TOKEN_PATH}\` failed with "No such file or directory": no token is mounted` };
  if (/permission denied/i.test(err)) {
    return { verdict: 'fail', message: `expected no token file; \`cat\` said ${JSON.stringify(err)}: a token is mounted, only unreadable for this user` };
  }
  return { verdict: 'inconclusive', message: `\`cat ${TOKEN_PATH}\` exited ${r.exitCode} for another reason: ${JSON.stringify(err)}` };
}

export function judgeChown(r: ExecResult, file = APP_FILE): ProbeVerdict {
  const skipped = notRun(`chown root:root ${file}`, r);
  if (skipped) return skipped;
  const err = shown(r);
  if (r.exitCode === 0) return { verdict: 'fail', message: `expected chown to be refused; \`chown root:root ${file}\` succeeded: the app may change who owns its files (it runs as root, which owns them, or keeps CAP_CHOWN)` };
  if (/operation not permitted/i.test(err)) return { verdict: 'pass', message: `\`chown root:root ${file}\` failed with "Operation not permitted"` };
  return { verdict: 'inconclusive', message: `\`chown root:root ${file}\` exited ${r.exitCode} for another reason: ${JSON.stringify(err)}` };
}

/** A running app Pod to probe: a ready one if there is one. */
export async function pickRunningPod(ctx: ScenarioContext): Promise<k8s.V1Pod | undefined> {
  const pods = await ctx.pods();
  const running = pods.filter((p) => appContainerStatus(p, ctx.app.container)?.state?.running);
  return running.find(isPodReady) ?? running[0];
}

export const SECURITY_CHECKS = ['security.exec-uid-non-root', 'security.exec-no-sa-token', 'security.exec-chown-refused'] as const;

export async function securityScenario(ctx: ScenarioContext, checks: LiveCheckRecorder<ProductionizingId>): Promise<void> {
  const pod = await pickRunningPod(ctx);
  if (!pod?.metadata?.name) {
    await checks.block(SECURITY_CHECKS, 'failed', `not tested: no container of Deployment ${ctx.app.deployment} is running to exec into`, {
      diagnostics: await ctx.diagnostics(),
    });
    return;
  }
  let name = pod.metadata.name;
  const probe = async (command: string[], judge: (r: ExecResult) => ProbeVerdict): Promise<string> => {
    const run = () => execInPod(ctx.kube, { namespace: ctx.namespace, pod: name, container: ctx.app.container, command, timeoutMs: 20_000, signal: ctx.signal });
    let r = await run();
    if (r.startFailure === 'pod-not-found' || r.startFailure === 'container-not-running') {
      // The Pod went away (an HPA scaling down, the ReplicaSet replacing it): probe another one.
      const other = (await ctx.pods()).filter((p) => p.metadata?.name !== name && appContainerStatus(p, ctx.app.container)?.state?.running);
      const next = other.find(isPodReady) ?? other[0];
      if (next?.metadata?.name) {
        ctx.progress(`security: Pod ${name} is gone (${r.statusMessage}); probing Pod ${next.metadata.name} instead`);
        name = next.metadata.name;
        r = await run();
      }
    }
    const v = judge(r);
    const message = `in Pod ${name}: ${v.message}`;
    if (v.verdict === 'fail') throw new CheckFailed(message);
    if (v.verdict === 'inconclusive') throw new CheckInconclusive(message);
    return message;
  };
  ctx.progress(`security: exec probes in Pod ${name}`);
  await checks.run('security.exec-uid-non-root', () => probe(['id', '-u'], judgeUid));
  await checks.run('security.exec-no-sa-token', () => probe(['cat', TOKEN_PATH], judgeToken));
  await checks.run('security.exec-chown-refused', () => probe(['chown', 'root:root', APP_FILE], (r) => judgeChown(r)));
}
