// Browser apps that Vite, webpack and esbuild build from the packed tarball, run in Chromium:
// one page script (fixtures/browser/src/index.js) uses the access-token client against the
// sandbox and the verifier in the page. Vite builds index.html (`vite build`; its dev server,
// `vite`, serves it too); webpack builds its default entry, src/index.js (`webpack --mode
// production`), and the test writes the HTML that loads dist/main.js; both without config or
// plugin, emitting both .wasm modules as assets. esbuild emits no asset for
// `new URL('../wasm/x.wasm', import.meta.url)`: fixtures/browser/esbuild.sh (the README's
// recipe) bundles and copies the package's wasm/ next to the bundle's directory. The page
// then fetches both .wasm from its own server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startSandbox } from '../support/sandbox.mjs';
import { VECTOR } from '../webhook/ref-signer.mjs';
import { BIN, fixtureApp, packTarball, repoTempDir, runOk, seedCharges, serveDir, startServer } from './lib.mjs';

const CHROMIUM = process.env.QBITPAY_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let tmp;
let tarball;
let env;
let sb;
let browser;
let cfg; // what the page gets: the sandbox URL, an access token, the charges, a delivery

before(async () => {
  tmp = repoTempDir('browser-');
  env = { ...process.env, npm_config_update_notifier: 'false', npm_config_cache: path.join(tmp.dir, 'npm-cache'), NO_COLOR: '1' };
  [tarball, sb, browser] = await Promise.all([packTarball(tmp.dir, env), startSandbox(),
    chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 30_000, args: CHROMIUM_ARGS })]);
  // The merchant's server side, with the API key: three charges and an access token.
  const { chargeIds, accessToken } = await seedCharges(sb.url, sb.apiKey, { amount: 40, prefix: 'page' });
  cfg = { baseUrl: sb.url, accessToken, chargeIds, delivery: { body: VECTOR.body, signature: VECTOR.signature, apiKey: VECTOR.apiKey } };
});

after(async () => {
  if (browser) await browser.close();
  if (sb) await sb.stop();
  if (tmp && !process.env.QBITPAY_KEEP_TMP) tmp.remove();
});

/**
 * Open the app in Chromium, run the checkout, check what it did and what it fetched: the
 * build in `dist` (served on 127.0.0.1), or the page of a running dev server (`devUrl`).
 */
async function runPage({ dist, devUrl }) {
  const site = dist ? await serveDir(dist) : { url: devUrl, requests: [], stop() {} };
  const page = await browser.newPage();
  if (!dist) page.on('request', (r) => site.requests.push(new URL(r.url()).pathname));
  const problems = [];
  const requested = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('request', (r) => requested.push(r.url()));
  try {
    await page.goto(`${site.url}/index.html`);
    await page.waitForFunction(() => document.title === 'qbitpay checkout: ready', null, { timeout: 15_000 })
      .catch((e) => { throw new Error(`the page did not load the package: ${problems.join('\n') || e.message}`); });
    const report = await page.evaluate((c) => window.checkout(c), cfg);
    // The bad-token call is refused by the sandbox: the browser logs that 401 as a console error.
    assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), [], 'no page errors');
    assert.deepEqual(report.retrieved, cfg.chargeIds, 'the access-token client retrieves the charges');
    assert.deepEqual(report.listed, [...cfg.chargeIds].reverse(), 'and lists them, newest first');
    assert.match(report.apiKey, /^QbitPay\w*Error: .*browser/i, 'an API key is refused in a page');
    assert.equal(report.unauthorised, 401, 'a bad token: QbitPayAuthenticationError');
    assert.equal(report.verified, 'fDOuTy95uSiTi', 'the verifier in the page');
    assert.equal(report.tampered, 'signature_mismatch', 'a tampered body is refused');
    assert.equal(report.signed, VECTOR.signature, "signWebhook: the spec's known answer");
    const wasm = site.requests.filter((p) => p.endsWith('.wasm'));
    assert.equal(wasm.length, 2, `both wasm modules fetched once, as emitted assets: ${wasm}`);
    for (const p of wasm) assert.ok(!dist || fs.existsSync(path.join(dist, p)), `${p} is in the build output`);
    const foreign = requested.filter((u) => !u.startsWith(site.url) && !u.startsWith(sb.url) && !u.startsWith('data:'));
    assert.deepEqual(foreign, [], 'the page talks only to its own server and the sandbox');
  } finally {
    await page.close();
    await site.stop();
  }
}

test('Vite: vite build of a page using qbitpay and qbitpay/webhook, in Chromium', async () => {
  const app = await fixtureApp('browser', path.join(tmp.dir, 'vite'), tarball, env);
  await runOk(BIN('vite'), ['build'], { cwd: app, env, timeoutMs: 120_000 });
  await runPage({ dist: path.join(app, 'dist') });
});

test('Vite: the dev server (`vite`) serves the same page, in Chromium', async () => {
  const app = await fixtureApp('browser', path.join(tmp.dir, 'vite-dev'), tarball, env);
  const server = await startServer(BIN('vite'), ['--host', '127.0.0.1', '--port', '0', '--strictPort'], {
    cwd: app, env, url: /Local:\s+(http:\/\/127\.0\.0\.1:\d+)\//,
  });
  try {
    await runPage({ devUrl: server.url });
  } finally {
    await server.stop();
  }
});

test("esbuild: the README's recipe (fixtures/browser/esbuild.sh) for the same page, in Chromium", async () => {
  const app = await fixtureApp('browser', path.join(tmp.dir, 'esbuild'), tarball, env);
  const built = await runOk('sh', ['-e', 'esbuild.sh'], { cwd: app, env: { ...env, PATH: `${path.dirname(BIN('esbuild'))}:${env.PATH}` } });
  assert.doesNotMatch(built.stdout + built.stderr, /warning|error/i, 'esbuild: no warning');
  const dist = path.join(app, 'dist');
  fs.writeFileSync(path.join(dist, 'index.html'), `<!doctype html>
<meta charset="utf-8">
<title>qbitpay checkout</title>
<link rel="icon" href="data:,">
<script type="module" src="assets/index.js"></script>
`);
  await runPage({ dist });
});

test('webpack: webpack --mode production of the same page, in Chromium', async () => {
  const app = await fixtureApp('browser', path.join(tmp.dir, 'webpack'), tarball, env);
  const built = await runOk(BIN('webpack'), ['--mode', 'production'], { cwd: app, env, timeoutMs: 120_000 });
  assert.doesNotMatch(built.stdout + built.stderr, /WARNING|ERROR/, 'webpack: no warning');
  const dist = path.join(app, 'dist');
  fs.writeFileSync(path.join(dist, 'index.html'), `<!doctype html>
<meta charset="utf-8">
<title>qbitpay checkout</title>
<link rel="icon" href="data:,">
<script src="main.js"></script>
`);
  await runPage({ dist });
});
