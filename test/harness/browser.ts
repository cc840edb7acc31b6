import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (`apt-get install chromium`, which .ci/run does when it
 * is missing), or the one CHROMIUM_PATH names. The real binary first: the
 * /usr/bin/chromium wrapper script prints a harmless shell warning here.
 */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((candidate): candidate is string => candidate !== undefined && existsSync(candidate));
  if (!found) throw new Error('no Chromium found: apt-get install chromium (or set CHROMIUM_PATH to its binary)');
  return found;
}

/**
 * A headless Chromium driven by playwright-core (no bundled browser, no
 * dependencies). Playwright adds --no-sandbox itself, which running as root
 * needs. Close it in an afterAll.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
