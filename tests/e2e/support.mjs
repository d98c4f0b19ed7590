// Helpers of the end-to-end tests: the sample merchant backend (www/server.mjs) as a child
// process, and Debian's chromium through playwright-core. Everything on 127.0.0.1.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `node www/server.mjs` on a free port; resolves once it prints its URL. */
export async function startShop({ apiKey, baseUrl, verbose = !!process.env.QBITPAY_SANDBOX_VERBOSE }) {
  const child = spawn(process.execPath, [path.join(ROOT, 'www', 'server.mjs')], {
    env: { ...process.env, QBITPAY_API_KEY: apiKey, QBITPAY_BASE_URL: baseUrl, PORT: '0' },
    stdio: ['ignore', 'pipe', verbose ? 'inherit' : 'ignore'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the shop did not start within 10 s')), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected first line from the shop: ${line}`));
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the shop exited (${code}) before listening`)); });
  });
  lines.on('line', () => {});
  let stopped;
  return {
    url,
    process: child,
    stop() {
      if (!stopped) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 3000);
        stopped = exited.then(() => clearTimeout(force));
      }
      return stopped;
    },
  };
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
