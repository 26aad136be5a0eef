// Shared by the browser tests: where the server is, and a Chromium launch that needs
// nothing from the network (Debian's chromium, fresh profile, no background traffic).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = process.env.GEOALIGN_URL || 'http://127.0.0.1:8080';
export const ALIGNMENT = process.env.GEOALIGN_ALIGNMENT || 'nyc';

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'geoalign-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1024, height: 768 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// One Chromium with as many independent contexts (cookies, storage, pages) as a test
// asks for: two planners on the same alignment.
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
    ],
  });
  return {
    browser,
    newContext: () => browser.newContext({ viewport: { width: 1024, height: 768 } }),
    close: () => browser.close(),
  };
}
