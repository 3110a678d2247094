// Pause and resume from the web console in headless Chromium (playwright-core, the system's
// /usr/bin/chromium): the source's and the table's buttons post to
// /api/sources/:name/pause|resume with the token typed into the page, and the page shows
// `paused` / `pausedTables` as /api/sources reports them. Screenshots go to
// test-output/console-paused*.png.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { httpBaseUrl, requestJson } from '../../support/http.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { liveRows, readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = resolve('test-output');
const TOKEN = 'console-pause-token-1';
const TABLE = 'public.counters';

interface SourcePause {
  name: string;
  paused: boolean;
  pausedTables: string[];
}

async function launch(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 700 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, `console-${name}.png`), fullPage: true });
}

describe('web console: pause and resume', () => {
  it.skipIf(!existsSync(CHROMIUM))(`pauses a source and a table from the page, shows them paused, resumes (skipped where ${CHROMIUM} is missing)`, async () => {
    await using db = await freshDatabase('console_pause');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 20);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('console_pause'),
      source: { name: 'src', url: db.url },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
      top: `http: { host: 127.0.0.1, port: 0, token: ${TOKEN} }`,
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    const base = await httpBaseUrl(bridge);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    const state = async (): Promise<SourcePause> => {
      const { body } = await requestJson<SourcePause[]>(`${base}/api/sources`);
      return body.find((s) => s.name === 'src')!;
    };

    const context = await launch(join(ws.dir, 'chromium-profile'));
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(message.text());
      });

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
      await context.close();
    }

    // Capture goes on after the resume.
    await db.query('UPDATE counters SET version = 2 WHERE id = 1');
    await waitFor(async () => liveRows(await readStream(natsUrl, setup.stream), `${setup.prefix}.src.counter.`).get(`${setup.prefix}.src.counter.1`)?.version === 2, {
      what: 'the update after resume in the stream',
      timeoutMs: 30_000,
    });
  }, 120_000);
});
