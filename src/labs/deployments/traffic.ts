// Who answered the requests sent through a Service: whoami's first line names its Pod.

export interface Answer {
  status: number;
  fromApiServer: boolean;
  /** The Pod named by the answer's `Hostname:` line. */
  pod?: string | undefined;
  error?: string;
}

/** `Hostname: whoami-v1-6d4f…` → the Pod name (a Pod's host name is its name). */
export function hostnameOf(body: string): string | undefined {
  return /^(?:Name: .*\n)?Hostname: (\S+)/m.exec(body)?.[1];
}

/**
 * Every answer must come from one of `mine` (the Pods of `version`). Answers from the other
 * version's Pods, from no Pod (the API server: no endpoint) or errors fail the check.
 */
export function compareAnswers(
  answers: readonly Answer[],
  mine: ReadonlySet<string>,
  others: ReadonlySet<string>,
  version: string,
): { ok: boolean; message: string } {
  const tally = new Map<string, number>();
  const add = (key: string): void => void tally.set(key, (tally.get(key) ?? 0) + 1);
  let good = 0;
  for (const a of answers) {
    if (a.error !== undefined) add(`error: ${a.error.split('\n')[0] ?? ''}`);
    else if (a.fromApiServer) add(`${a.status} from the API server (no Pod answered)`);
    else if (a.status !== 200) add(`${a.status} from the app`);
    else if (!a.pod) add('200 without a whoami Hostname line');
    else if (mine.has(a.pod)) {
      good++;
      add(`${a.pod} (${version})`);
    } else add(others.has(a.pod) ? `${a.pod} (the other version)` : `${a.pod} (neither version)`);
  }
  const list = [...tally].map(([k, n]) => `${n}× ${k}`).join(', ');
  const ok = answers.length > 0 && good === answers.length;
  return {
    ok,
    message: ok
      ? `all ${answers.length} requests answered by ${version} Pods: ${list}`
      : `${good} of ${answers.length} requests answered by ${version} Pods; answers: ${list || 'none'}`,
  };
}
