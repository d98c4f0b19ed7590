// Helpers of the end-to-end tests: the sample merchant backend (www/server.mjs) as a child
// process, and Debian's chromium through playwright-core. Everything on 127.0.0.1.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from '../support/server-process.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `node www/server.mjs` on a free port; resolves once it prints its URL. */
export async function startShop({ apiKey, baseUrl, verbose = !!process.env.QBITPAY_SANDBOX_VERBOSE }) {
  return startServerProcess({
    command: process.execPath,
    args: [path.join(ROOT, 'www', 'server.mjs')],
    env: { ...process.env, QBITPAY_API_KEY: apiKey, QBITPAY_BASE_URL: baseUrl, PORT: '0' },
    name: 'the shop',
    verbose,
  });
}

/** Run `fn` with a headless chromium; always closes it. */
export async function withBrowser(fn) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}
