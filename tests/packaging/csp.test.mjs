// Both browser entries under a Content-Security-Policy, in Chromium, from the packed tarball:
// pages served from 127.0.0.1 import `qbitpay` and `qbitpay/webhook` unbundled
// (fixtures/csp). Without 'wasm-unsafe-eval' in script-src the browser refuses to compile
// the module: the import must still succeed, and each call that needs the module throws a
// QbitPayError (`wasm_unavailable`) the page can catch, naming the directive to add. With it,
// the verifier and the access-token client work against the sandbox.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startSandbox } from '../support/sandbox.mjs';
import { VECTOR } from '../webhook/ref-signer.mjs';
import { FIXTURES, installTarball, npmPack, seedCharges, serveDir, snapshotPkg, tempDir } from './lib.mjs';

const CHROMIUM = process.env.QBITPAY_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ENTRIES = ['webhook', 'client'];

let tmp;
let proj; // the project the tarball is installed in, served as the site's root
let sb;
let browser;
let cfg; // what the page gets: the sandbox URL, an access token, a charge, a delivery

before(async () => {
  tmp = tempDir('qbitpay-csp-');
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_cache: path.join(tmp.dir, 'npm-cache') };
  const snap = await snapshotPkg(path.join(tmp.dir, 'pkg'), process.env.QBITPAY_PKG_DIR || undefined);
  let packed;
  [packed, sb, browser] = await Promise.all([npmPack(snap, tmp.dir, env), startSandbox(),
    chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 30_000, args: CHROMIUM_ARGS })]);
  proj = path.join(tmp.dir, 'app');
  await installTarball(proj, packed.tarball, env);
  fs.cpSync(path.join(FIXTURES, 'csp'), path.join(proj, 'csp'), { recursive: true });
  const { chargeIds, accessToken } = await seedCharges(sb.url, sb.apiKey, { n: 1, prefix: 'csp' });
  cfg = { baseUrl: sb.url, accessToken, chargeId: chargeIds[0], delivery: VECTOR };
});

after(async () => {
  if (browser) await browser.close();
  if (sb) await sb.stop();
  if (tmp && !process.env.QBITPAY_KEEP_TMP) tmp.remove();
});

const policy = (scriptSrc) => `default-src 'self'; script-src ${scriptSrc}; connect-src 'self' ${sb.url}`;

/**
 * Serve the site with `csp` (and `extra` routes), open the page of `entry`, wait for its
 * script to have run (the import succeeded), and return what window.run() reported, with the
 * page's uncaught errors and the .wasm files it requested.
 */
async function visit(entry, csp, extra = {}) {
  const page_ = `/csp/${entry}.html`;
  const html = `<!doctype html><meta charset="utf-8"><title>qbitpay csp</title><link rel="icon" href="data:,">
<script type="module" src="/csp/${entry}.mjs"></script>\n`;
  const site = await serveDir(proj, { [page_]: { type: 'text/html; charset=utf-8', body: html }, ...extra },
    { headers: { 'content-security-policy': csp } });
  const page = await browser.newPage();
  const uncaught = [];
  const console_ = [];
  page.on('pageerror', (e) => uncaught.push(String(e.stack || e)));
  page.on('console', (m) => console_.push(m.text()));
  try {
    await page.goto(site.url + page_);
    await page.waitForFunction(() => document.title === 'imported', null, { timeout: 15_000 })
      .catch((e) => { throw new Error(`the page's import of the entry failed: ${[...uncaught, ...console_].join('\n') || e.message}`); });
    const report = await page.evaluate((c) => window.run(c), cfg);
    return { report, uncaught, console: console_, wasm: site.requests.filter((p) => p.endsWith('.wasm')) };
  } finally {
    await page.close();
    await site.stop();
  }
}

/** The error every call that needs the module must throw when the browser refused it. */
function assertWasmUnavailable(err, at) {
  assert.ok(err, `${at}: threw`);
  assert.equal(err.name, 'QbitPayError', at);
  assert.equal(err.qbitpay, true, `${at}: instanceof QbitPayError`);
  assert.equal(err.code, 'wasm_unavailable', at);
  assert.match(err.message, /'wasm-unsafe-eval'/, `${at}: the message names the directive to add`);
  assert.match(err.message, /script-src/, `${at}: and where`);
  assert.doesNotMatch(err.message.replaceAll("'wasm-unsafe-eval'", ''), /unsafe-eval/, `${at}: never 'unsafe-eval'`);
  assert.equal(err.cause, 'CompileError', `${at}: the browser's refusal is the cause`);
}

test("script-src 'self' (no 'wasm-unsafe-eval'): qbitpay/webhook imports; each call throws wasm_unavailable", async () => {
  const { report, uncaught, wasm } = await visit('webhook', policy("'self'"));
  assert.deepEqual(uncaught, [], 'no uncaught error: the import succeeded');
  assert.deepEqual(wasm, ['/node_modules/qbitpay/wasm/qbitpay_webhook_bg.wasm'], 'the module was fetched, then refused');
  assertWasmUnavailable(report.verify.thrown, 'verifyWebhook (thrown synchronously)');
  assertWasmUnavailable(report.tampered.thrown, 'verifyWebhook of a tampered body');
  assertWasmUnavailable(report.sign.thrown, 'signWebhook');
  assertWasmUnavailable(report.request.rejected, 'verifyWebhookRequest (rejects)');
});

test("script-src 'self' (no 'wasm-unsafe-eval'): qbitpay imports; new QbitPay and verifyWebhook throw wasm_unavailable", async () => {
  const { report, uncaught } = await visit('client', policy("'self'"));
  assert.deepEqual(uncaught, [], 'no uncaught error: the import succeeded');
  assertWasmUnavailable(report.construct.thrown, 'new QbitPay');
  assertWasmUnavailable(report.retrieve.thrown, 'new QbitPay(...).charges.retrieve');
  assertWasmUnavailable(report.verify.thrown, 'verifyWebhook');
  assert.equal(report.foreignInstance, false, 'instanceof QbitPay still answers');
});

test("script-src 'self' 'wasm-unsafe-eval': both entries work (verifier, access-token client against the sandbox)", async () => {
  const csp = policy("'self' 'wasm-unsafe-eval'");
  const hook = await visit('webhook', csp);
  assert.deepEqual(hook.uncaught, []);
  assert.deepEqual(hook.report.verify, { value: 'fDOuTy95uSiTi' }, 'verifyWebhook returns the event synchronously');
  assert.equal(hook.report.tampered.thrown?.code, 'signature_mismatch', 'a tampered body is refused');
  assert.deepEqual(hook.report.sign, { value: VECTOR.signature }, "signWebhook: the spec's known answer");
  assert.deepEqual(hook.report.request, { resolved: 'fDOuTy95uSiTi' }, 'verifyWebhookRequest');

  const client = await visit('client', csp);
  assert.deepEqual(client.uncaught, []);
  assert.deepEqual(client.report.construct, { value: true }, 'new QbitPay is an instance of the exported class');
  assert.deepEqual(client.report.retrieve, { resolved: cfg.chargeId }, 'a charge retrieved from the sandbox (connect-src)');
  assert.deepEqual(client.report.verify, { value: 'fDOuTy95uSiTi' });
  assert.equal(client.report.foreignInstance, false);
  // `qbitpay` re-exports `qbitpay/webhook`'s functions: a page that imports it unbundled
  // fetches both modules (a bundler drops the verifier's when the app never uses it).
  assert.deepEqual(client.wasm.toSorted(), ['/node_modules/qbitpay/wasm/qbitpay_client_bg.wasm', '/node_modules/qbitpay/wasm/qbitpay_webhook_bg.wasm']);
});

test('a .wasm that is not there (HTTP 404): both entries import; calls throw wasm_unavailable naming the fetch', async () => {
  const missing = { type: 'text/plain', body: 'not found', status: 404 };
  for (const entry of ENTRIES) {
    const file = `/node_modules/qbitpay/wasm/qbitpay_${entry}_bg.wasm`;
    const { report, uncaught } = await visit(entry, policy("'self' 'wasm-unsafe-eval'"), { [file]: missing });
    assert.deepEqual(uncaught, [], `${entry}: the import succeeded`);
    // What the missing module serves: the verifier, or the client.
    const err = (entry === 'webhook' ? report.verify : report.construct).thrown;
    assert.equal(err?.code, 'wasm_unavailable', `${entry}: ${JSON.stringify(report.verify)}`);
    assert.equal(err.qbitpay, true);
    assert.match(err.message, new RegExp(`${file.replaceAll('.', '\\.')} failed: HTTP 404`), `${entry}: the message names the URL and status`);
    assert.doesNotMatch(err.message, /Content-Security-Policy|unsafe-eval/, `${entry}: no CSP advice for a missing file`);
  }
});
