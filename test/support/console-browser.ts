// The web console in headless Chromium (playwright-core, the system's /usr/bin/chromium), for
// the console tests. Screenshots go to test-output/console-<name>.png.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** The console tests are skipped where the system has no Chromium. */
export const HAS_CHROMIUM = existsSync(CHROMIUM);
const OUTPUT = resolve('test-output');

export interface ConsoleBrowser {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console.error messages, in order. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Chromium with its profile in `userDataDir`, its first page collecting page errors. */
export async function openConsoleBrowser(userDataDir: string, viewport: { width: number; height: number }): Promise<ConsoleBrowser> {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    return {
      context,
      page,
      pageErrors,
      close: () => context.close(),
    };
  } catch (error) {
    await context.close();
    throw error;
  }
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, `console-${name}.png`), fullPage: true });
}
