// The web console in headless Chromium (playwright-core, the system's /usr/bin/chromium): a
// live source row, a webhook subscriber and its delivery, the dead-letter view when empty, an open review report
// whose diff shows both values side by side (markup in legacy data shown as text), and a
// resync from the page with the token typed in. Screenshots go to test-output/console-*.png.
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { workspace } from '../../support/bridge.ts';
import { CHROMIUM, HAS_CHROMIUM, openConsoleBrowser, shot } from '../../support/console-browser.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { writeCountersConfig } from '../../support/counters-source.ts';
import { httpConfig, requestJson, startHttpBridge } from '../../support/http.ts';
import { createCounters } from '../../support/pg-load.ts';
import { reconcile, reportIdIn } from '../../support/reconcile-helpers.ts';
import { waitFor } from '../../support/wait.ts';
import { TAMPERED, makeStreamDrift, updateAfterSnapshot } from '../http/review-drift.ts';
import { webhookReceiver } from '../subscribers/helpers.ts';

const TOKEN = 'console-token-1';

describe('web console', () => {
  it.skipIf(!HAS_CHROMIUM)(`shows sources and a report's diff side by side, and resyncs it (skipped where ${CHROMIUM} is missing)`, async () => {
    await using db = await freshDatabase('console');
    using ws = workspace();
    await using hook = await webhookReceiver();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 300);
    const setup = writeCountersConfig(ws, {
      id: uniqueName('console'),
      url: db.url,
      top: [httpConfig(TOKEN), 'subscribers:', `  - { id: counters-hook, type: webhook, endpoint: "${hook.url}", topics: [counter] }`].join('\n'),
    });
    const { entity } = setup;
    await using bridge = await startHttpBridge(setup.configPath);
    const { base } = bridge;
    await updateAfterSnapshot(db, natsUrl, setup.stream, entity);
    await makeStreamDrift(natsUrl, setup.stream, entity);
    const id = reportIdIn(await reconcile(setup.configPath));

    const browser = await openConsoleBrowser(join(ws.dir, 'chromium-profile'), { width: 1400, height: 900 });
    try {
      const { page, pageErrors } = browser;

      // Sources: the live source, its method and state.
      await page.goto(`${base}/`);
      const row = page.locator('tr[data-source="src"]');
      await row.locator('.state .badge', { hasText: 'online' }).waitFor({ timeout: 15_000 });
      expect(await row.locator('td.method').innerText()).toMatch(/^log/);
      expect(await row.locator('td').nth(2).innerText()).toMatch(/^[0-9A-F]{16}-[0-9A-F]{8}/);
      await shot(page, 'sources');

      // The subscriber, online, and its deliveries (the three updates), with latency.
      await waitFor(() => hook.accepted.length >= 3, { what: 'the webhook to receive the updates', timeoutMs: 30_000 });
      await page.click('nav a[data-view="subscribers"]');
      const subRow = page.locator('tr', { has: page.locator('th', { hasText: 'counters-hook' }) });
      await subRow.locator('.badge', { hasText: 'online' }).waitFor({ timeout: 15_000 });
      expect(await subRow.locator('td').nth(0).innerText()).toBe('webhook');
      const delivered = page.locator('tr', { has: page.locator('td', { hasText: 'counters-hook' }) }).filter({ has: page.locator('.badge', { hasText: 'delivered' }) });
      await delivered.first().waitFor({ timeout: 15_000 });
      expect(await delivered.count()).toBeGreaterThanOrEqual(3);
      expect(await delivered.first().locator('td.num').nth(1).innerText()).toMatch(/^\d[\d,]* ms$/);
      await shot(page, 'subscribers');
      await page.click('nav a[data-view="dead-letters"]');
      await page.getByText('no dead letters').waitFor({ timeout: 10_000 });

      // Review queue: the open report, then its diffs with both values side by side.
      await page.click('nav a[data-view="review"]');
      await page.locator(`tr[data-report="${id}"]`).waitFor({ timeout: 10_000 });
      await page.click(`tr[data-report="${id}"] a`);
      const diffRow = page.locator('#diff-table tr', { has: page.locator('td.field', { hasText: 'payload' }) });
      await diffRow.waitFor({ timeout: 10_000 });
      expect(await diffRow.locator('td.source-value').innerText()).toBe(JSON.stringify(`${'x'.repeat(60)}5`));
      expect(await diffRow.locator('td.target-value').innerText()).toBe(JSON.stringify(TAMPERED));
      // The markup in the legacy value is text, not an element.
      expect(await page.locator('#diff-table img').count()).toBe(0);
      expect(await page.title()).not.toBe('pwned');
      expect(await page.locator('#diff-table td.kind, #diff-table .kind').allInnerTexts()).toEqual(['different', 'missingInTarget', 'missingInTarget']);
      await shot(page, 'review');

      // Resync without a token: the page says what is missing and posts nothing.
      await page.click('#resync-button');
      await page.locator('#notice.error', { hasText: 'Type the token' }).waitFor({ timeout: 5_000 });
      expect((await requestJson(`${base}/api/review/${id}`)).body.status).toBe('open');

      // With the token typed in: resynced, resolved.
      await page.fill('#token', TOKEN);
      await page.click('#token-form button');
      await page.fill('#review-by', 'console tester');
      await page.click('#resync-button');
      await page.locator('#notice.ok', { hasText: 'rows re-emitted as r envelopes' }).waitFor({ timeout: 30_000 });
      await page.locator('.report-head .badge', { hasText: 'resolved' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('.resolution').innerText()).toMatch(/^resynced: 3 rows, 0 tombstones at [0-9A-F]{16}-00000000 by console tester/);
      await shot(page, 'resolved');
      expect((await requestJson(`${base}/api/review/${id}`)).body).toMatchObject({ status: 'resolved', resolution: { action: 'resync', by: 'console tester' } });
      expect(await page.evaluate("sessionStorage.getItem('hms-sync-token')")).toBe(TOKEN);

      await page.click('nav a[data-view="review"]');
      await page.getByText('no open reports').waitFor({ timeout: 10_000 });
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
    expect(await reconcile(setup.configPath)).toMatch(/300 rows in source, 300 in target; clean/);
  }, 120_000);
});
