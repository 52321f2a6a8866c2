// Kubernetes name rules (apimachinery validation), with messages a learner can act on.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export type NameRule = 'dns1123-label' | 'dns1123-subdomain' | 'dns1035-label';

/** Returns why `name` breaks `rule`, or undefined when it is valid. */
export function nameProblem(name: string, rule: NameRule): string | undefined {
  const max = rule === 'dns1123-subdomain' ? 253 : 63;
  if (name.length > max) return `is ${name.length} characters long; the limit is ${max}`;
  const pattern = rule === 'dns1123-subdomain' ? DNS1123_SUBDOMAIN : rule === 'dns1123-label' ? DNS1123_LABEL : DNS1035_LABEL;
  if (pattern.test(name)) return undefined;
  if (/[A-Z]/.test(name)) return 'has upper-case letters; use lower case';
  const allowed = rule === 'dns1123-subdomain' ? /[^a-z0-9.-]/ : /[^a-z0-9-]/;
  const bad = name.match(allowed)?.[0];
  if (bad !== undefined) {
    const what = rule === 'dns1123-subdomain' ? "lower-case letters, digits, '-' and '.'" : "lower-case letters, digits and '-'";
    return `contains ${JSON.stringify(bad)}; use only ${what}`;
  }
  if (rule === 'dns1035-label' && !/^[a-z]/.test(name)) return 'must start with a letter';
  return 'must start and end with a letter or digit';
}

export function isDns1123Label(name: string): boolean {
  return nameProblem(name, 'dns1123-label') === undefined;
}
