import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

// Debian's chromium (or CHROMIUM_PATH, e.g. Google Chrome on a CI runner), never a downloaded one.
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
  (p): p is string => Boolean(p),
);
export const CHROMIUM = CANDIDATES.find((p) => existsSync(p));
export const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'ui');

/** `describe` when a browser is installed; otherwise skips with the reason (and fails on CI). */
export function describeWithBrowser(name: string, fn: () => void): void {
  if (CHROMIUM) return describe(name, fn);
  const reason = `browser tests need Chromium (Debian package chromium, or CHROMIUM_PATH); tried ${CANDIDATES.join(', ')}`;
  if (process.env.CI) throw new Error(reason);
  process.stdout.write(`Skipped: ${reason}\n`);
  describe.skip(name, fn);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no sandbox; the machine's network is closed, so no background calls.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/** Saves a full-page screenshot as a test artifact (test-artifacts/ui/<name>.png). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Problems the page reported itself: script errors and failed requests other than expected ones. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return errors;
}
