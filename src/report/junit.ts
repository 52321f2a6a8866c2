// junit.xml: one testsuite per group, one testcase per check, points as suite properties
// (junit-10.xsd allows no properties inside a testcase).
import * as junitModule from 'junit-report-builder';
import type { Builder } from 'junit-report-builder';
import type { CheckResult, RunResult } from '../model.js';
import { formatLocation, groupChecks } from './groups.js';

// The package is CommonJS (`module.exports = builder`) while its types declare an ES default
// export, so the compiler expects one `default` more than Node provides; accept either shape.
const loaded = junitModule.default as unknown as Builder | { default: Builder };
const junitBuilder: Builder = 'newBuilder' in loaded ? loaded : loaded.default;

export function renderJunit(run: RunResult): string {
  const builder = junitBuilder.newBuilder();
  builder.name(`lab-grader ${run.lab}`);
  for (const group of groupChecks(run.checks)) {
    const suite = builder
      .testSuite()
      .name(`${run.lab}.${group.group}`)
      .timestamp(run.startedAt)
      .time(seconds(group.durationMs));
    suite.property('score', `${group.points}/${group.maxPoints}`);
    for (const c of group.checks) suite.property(`points:${c.id}`, `${c.points}/${c.maxPoints}`);
    for (const c of group.checks) {
      const tc = suite.testCase().className(`${run.lab}.${c.group}`).name(xmlText(c.title)).time(seconds(c.durationMs));
      const headline = xmlText(firstLine(c.message));
      if (c.status === 'failed') tc.failure(headline, 'failed');
      else if (c.status === 'error') tc.error(headline, 'error');
      else if (c.status === 'skipped') tc.skipped();
      tc.standardOutput(xmlText(systemOut(c)));
    }
  }
  // The builder writes `skipped` on <testsuites>, which junit-10.xsd does not allow there.
  return builder.build().replace(/^(<testsuites\b[^>]*?) skipped="\d+"/m, '$1');
}

function systemOut(c: CheckResult): string {
  const lines = [`${c.id}: ${c.status} (${c.points}/${c.maxPoints} points)`, c.message];
  if (c.hint && c.status !== 'passed') lines.push(`Hint: ${c.hint}`);
  if (c.location) lines.push(`At: ${formatLocation(c.location)}`);
  if (c.diagnostics) lines.push('', 'Diagnostics:', c.diagnostics);
  return lines.join('\n');
}

function seconds(ms: number): number {
  return Math.round(Math.max(0, ms)) / 1000;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/**
 * Text safe for XML 1.0: characters XML cannot carry are dropped, and `]]>` is broken up because
 * the builder's CDATA escaping handles only its first occurrence.
 */
export function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/]]>/g, ']] >');
}
