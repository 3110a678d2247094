// Pause and resume from the web console in headless Chromium (playwright-core, the system's
// /usr/bin/chromium): the source's and the table's buttons post to
// /api/sources/:name/pause|resume with the token typed into the page, and the page shows
// `paused` / `pausedTables` as /api/sources reports them. Screenshots go to
// test-output/console-paused*.png.
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { workspace } from '../../support/bridge.ts';
import { CHROMIUM, HAS_CHROMIUM, openConsoleBrowser, shot } from '../../support/console-browser.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { writeCountersConfig } from '../../support/counters-source.ts';
import { apiSource, httpConfig, startHttpBridge } from '../../support/http.ts';
import { createCounters } from '../../support/pg-load.ts';
import { liveRows, readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

const TOKEN = 'console-pause-token-1';
const TABLE = 'public.counters';

interface SourcePause {
  name: string;
  paused: boolean;
  pausedTables: string[];
}

describe('web console: pause and resume', () => {
  it.skipIf(!HAS_CHROMIUM)(`pauses a source and a table from the page, shows them paused, resumes (skipped where ${CHROMIUM} is missing)`, async () => {
    await using db = await freshDatabase('console_pause');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 20);
    const setup = writeCountersConfig(ws, { id: uniqueName('console_pause'), url: db.url, top: httpConfig(TOKEN) });
    await using bridge = await startHttpBridge(setup.configPath);
    const { base } = bridge;
    const state = async (): Promise<SourcePause> => (await apiSource<SourcePause>(base, 'src'))!;

    const browser = await openConsoleBrowser(join(ws.dir, 'chromium-profile'), { width: 1400, height: 700 });
    try {
      const { page, pageErrors } = browser;

      await page.goto(`${base}/`);
      const row = page.locator('tr[data-source="src"]');
      const sourceButton = row.locator('td.pause button');
      const tableItem = page.locator(`tr[data-source-tables="src"] li[data-table="${TABLE}"]`);
      await row.locator('.state .badge', { hasText: 'online' }).waitFor({ timeout: 15_000 });
      expect(await sourceButton.innerText()).toBe('Pause source');
      expect(await tableItem.locator('.mono').innerText()).toBe(TABLE);
      expect(await tableItem.innerText()).toContain('→ counter');
      expect(await tableItem.locator('button').innerText()).toBe('Pause');

      // Without a token: the page says what is missing and posts nothing.
      await sourceButton.click();
      await page.locator('#notice.error', { hasText: 'Type the token' }).waitFor({ timeout: 5_000 });
      expect(await state()).toMatchObject({ paused: false, pausedTables: [] });

      // With the token: the source is paused, and shown so (it stays online: paused is not a failure).
      await page.fill('#token', TOKEN);
      await page.click('#token-form button');
      await sourceButton.click();
      await page.locator('#notice.ok', { hasText: 'source src paused' }).waitFor({ timeout: 10_000 });
      await row.locator('.state .badge.state-paused', { hasText: 'paused' }).waitFor({ timeout: 10_000 });
      expect(await state()).toMatchObject({ paused: true, pausedTables: [] });
      expect(await sourceButton.innerText()).toBe('Resume source');
      expect(await row.locator('.state .badge').first().innerText()).toBe('online');
      await tableItem.getByText('paused with the source').waitFor({ timeout: 5_000 });
      await shot(page, 'paused');

      // One table of it, on its own.
      await tableItem.locator('button', { hasText: 'Pause' }).click();
      await tableItem.locator('.badge.state-paused').waitFor({ timeout: 10_000 });
      expect(await state()).toMatchObject({ paused: true, pausedTables: [TABLE] });
      expect(await row.locator('.paused-tables').innerText()).toBe(`tables paused: ${TABLE}`);
      expect(await tableItem.locator('button').innerText()).toBe('Resume');
      await shot(page, 'paused-table');

      // Resuming the table leaves the source paused; resuming the source resumes everything.
      await tableItem.locator('button', { hasText: 'Resume' }).click();
      await tableItem.locator('button', { hasText: 'Pause' }).waitFor({ timeout: 10_000 });
      expect(await state()).toMatchObject({ paused: true, pausedTables: [] });
      await tableItem.locator('button').click();
      await tableItem.locator('.badge.state-paused').waitFor({ timeout: 10_000 });
      await sourceButton.click();
      await page.locator('#notice.ok', { hasText: 'source src resumed' }).waitFor({ timeout: 10_000 });
      await sourceButton.getByText('Pause source').waitFor({ timeout: 10_000 });
      expect(await state()).toMatchObject({ paused: false, pausedTables: [] });
      expect(await row.locator('.badge.state-paused').count()).toBe(0);
      expect(await tableItem.locator('.badge.state-paused').count()).toBe(0);
      expect(await page.locator('.paused-tables').count()).toBe(0);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }

    // Capture goes on after the resume.
    await db.query('UPDATE counters SET version = 2 WHERE id = 1');
    await waitFor(async () => liveRows(await readStream(natsUrl, setup.stream), setup.entity).get(`${setup.entity}1`)?.version === 2, {
      what: 'the update after resume in the stream',
      timeoutMs: 30_000,
    });
  }, 120_000);
});
