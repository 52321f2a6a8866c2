// Headless Chromium from the distribution's package (/usr/bin/chromium, `apt-get install chromium`),
// driven by playwright-core: no browser download. A fresh profile per launch, and every network
// feature Chromium has off, so a page can only see what its file:// URL holds.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.LAB_GRADER_CHROMIUM ?? '/usr/bin/chromium';

export async function withBrowser<T>(fn: (context: BrowserContext) => Promise<T>): Promise<T> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
  const profile = mkdtempSync(path.join(tmpdir(), 'lab-grader-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 900 },
    timeout: 60_000,
  });
  try {
    // Nothing but file:// may load: a request anywhere else fails the page.
    await context.route(/^(?!file:)/, (route) => route.abort());
    return await fn(context);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
