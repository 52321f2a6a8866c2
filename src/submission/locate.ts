// Maps objects (and fields the API server names) back to the learner's files and lines, from the
// submission as loaded once. Objects the grader added (a lab's supplements) have none.
import type { SourceLocation } from '../model.js';
import type { ManifestObject } from './manifest.js';

export type Locator = (kind: string, name: string, field?: string) => SourceLocation | undefined;

export function locatorFor(objects: readonly ManifestObject[]): Locator {
  return (kind, name, field) => {
    const obj = objects.find((o) => o.kind === kind && o.name === name);
    if (!obj) return undefined;
    if (!field) return obj.source;
    return obj.locate(field.replace(/\[(\d+)\]/g, '.$1'));
  };
}
