// Headless Chromium for the examples' browser tests: Debian's /usr/bin/chromium
// (tests/apt-packages.txt) driven by playwright-core, with a fresh profile,
// nothing fetched from the network by the browser itself, screenshots under
// target/test-logs.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LOGS = path.resolve(__dirname, '..', '..', 'target', 'test-logs');
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/**
 * `promise`, or an error naming `what` after `ms`. Playwright bounds its
 * actions by its own timeouts, but not every call it makes to the browser
 * (opening or closing a page, clearing cookies): a wedged Chromium would
 * hold the test run until CI's limit instead of failing the test.
 */
function bounded(promise, what, ms = 30000) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from Chromium within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Resolves to { context, newPage(), clearCookies(), screenshot(page, name), close() }. */
async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: bash tests/setup.sh installs chromium`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 900, height: 700 },
    timeout: 60000,
  });
  context.setDefaultTimeout(20000);
  context.setDefaultNavigationTimeout(20000);
  fs.mkdirSync(LOGS, { recursive: true });
  return {
    context,
    async newPage() {
      const page = await bounded(context.newPage(), 'opening a page');
      const close = page.close.bind(page);
      // Closing a page is cleanup after a test's assertions: a close that
      // Chromium leaves unanswered (seen once in CI, the next tests' pages
      // worked) is reported, not a failure of the test that already passed.
      // The browser's own close at the end stays bounded and fatal.
      page.close = (options) =>
        bounded(close(options), 'closing a page', 10000).catch((e) => {
          console.error(`warning: ${e.message}; going on`);
        });
      return page;
    },
    clearCookies: () => bounded(context.clearCookies(), 'clearing cookies'),
    async screenshot(page, name) {
      const file = path.join(LOGS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      try {
        await bounded(context.close(), 'closing the browser');
      } finally {
        fs.rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

module.exports = { launchBrowser, bounded, LOGS };
