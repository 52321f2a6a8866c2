// Checks a batch's report.html in a real browser: the matrix has a row per submission, the
// failed-only filter hides the rows that passed everything, a click on a failed cell opens its
// details (message, hint, location, diagnostics). Leaves a screenshot.
import { pathToFileURL } from 'node:url';
import { withBrowser } from './browser.js';

export interface ReportCheck {
  /** Row names of the matrix, in page order. */
  rows: string[];
  /** Row names left by "failed only". */
  failedRows: string[];
  /** After "failed only" then a group filter. */
  groupFiltered: { group: string; rows: string[]; columns: string[] };
  /** The details panel after clicking a failed cell. */
  details: { submission: string; check: string; title: string; status: string; message: string; hint: string | null; location: string | null; diagnostics: string | null };
  /** Per-group pass rate rows as shown. */
  rates: Array<{ group: string; passed: string }>;
  /** Rows after clicking the score header twice (descending). */
  sortedByScoreDesc: string[];
  consoleErrors: string[];
  failedRequests: string[];
}

export async function checkReportInBrowser(reportHtml: string, screenshot: string, failing: { submission: string; check?: string }): Promise<ReportCheck> {
  return withBrowser(async (context) => {
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    const failedRequests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('requestfailed', (r) => failedRequests.push(r.url()));
    await page.goto(pathToFileURL(reportHtml).href, { waitUntil: 'load' });
    const rowNames = (): Promise<string[]> => page.locator('#matrix tr[data-submission]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-submission') ?? ''));
    await page.locator('#matrix tr[data-submission]').first().waitFor({ timeout: 10_000 });
    const rows = await rowNames();
    const rates = await page.locator('#rates tr[data-group]').evaluateAll((trs) =>
      trs.map((tr) => ({ group: tr.getAttribute('data-group') ?? '', passed: tr.children[1]?.textContent ?? '' })),
    );

    await page.locator('#matrix th[data-sort="score"]').click();
    await page.locator('#matrix th[data-sort="score"]').click();
    const sortedByScoreDesc = await rowNames();
    await page.locator('#matrix th[data-sort="name"]').click();

    await page.locator('#failed-only').check();
    const failedRows = await rowNames();

    const row = page.locator(`#matrix tr[data-submission="${failing.submission}"]`);
    const cell = failing.check ? row.locator(`td[data-check="${failing.check}"]`) : row.locator('td[data-status="failed"]').first();
    const check = (await cell.getAttribute('data-check')) ?? '';
    await cell.click();
    await page.locator('#details').waitFor({ state: 'visible', timeout: 5_000 });
    const shown = async (id: string): Promise<string | null> => ((await page.locator(`#${id}-box`).isVisible()) ? await page.locator(`#${id}`).textContent() : null);
    const status = (await page.locator('#d-status').textContent()) ?? '';
    const details = {
      submission: failing.submission,
      check,
      title: (await page.locator('#d-title').textContent()) ?? '',
      status,
      message: (await page.locator('#d-message').textContent()) ?? '',
      hint: await shown('d-hint'),
      location: await shown('d-loc'),
      diagnostics: await shown('d-diag'),
    };
    await page.screenshot({ path: screenshot, fullPage: false });

    const group = check.split('.')[0] ?? '';
    await page.locator('#close').click();
    await page.locator('#group').selectOption(group);
    const groupRows = await rowNames();
    const columns = await page.locator('#matrix th.check').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-sort') ?? ''));
    return { rows, failedRows, groupFiltered: { group, rows: groupRows, columns }, details, rates, sortedByScoreDesc, consoleErrors, failedRequests };
  });
}
