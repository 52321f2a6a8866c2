// submission.*: reaching the rubric means the files parsed and passed the policy.
import { fail, pass, type StaticCheck } from './context.js';

export const parses: StaticCheck = ({ submission }) => {
  const n = submission.objects.length;
  const files = submission.files.length;
  return n > 0
    ? pass(`${n} object${n === 1 ? '' : 's'} read from ${files} file${files === 1 ? '' : 's'}`)
    : fail('the submission holds no Kubernetes objects');
};

export const allowedObjects: StaticCheck = ({ submission }) => {
  const counts = new Map<string, number>();
  for (const o of submission.objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  const list = [...counts].map(([kind, n]) => `${n} ${kind}${n === 1 ? '' : 's'}`).join(', ');
  return pass(`every object is of an allowed kind: ${list}`);
};
