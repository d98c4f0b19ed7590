// The non-Node entries of `qbitpay/webhook`, loaded in Node as their runtimes would load
// them: the browser entry (fetches the wasm from a URL next to it) and the Deno/Bun entry
// (reads it from disk). Each is its own wasm instance with the ESM error classes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { VECTOR, refSign } from './ref-signer.mjs';

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('qbitpay/package.json'));
const entry = (f) => pathToFileURL(join(pkgDir, f)).href;
const { apiKey, body, signature } = VECTOR;

// What a browser does for `fetch(new URL('../wasm/…', import.meta.url))`: only the package's
// own file: URLs are served, with the wasm MIME type.
const realFetch = globalThis.fetch;
const fetched = [];
globalThis.fetch = async (input) => {
  const url = input instanceof URL ? input : new URL(String(input));
  assert.equal(url.protocol, 'file:', `the browser entry fetches only its own files, not ${url}`);
  fetched.push(url.href);
  const bytes = await readFile(fileURLToPath(url));
  return new Response(bytes, { headers: { 'content-type': 'application/wasm' } });
};

function check(api, name) {
  assert.equal(api.signWebhook(body, apiKey), signature, name);
  assert.deepEqual(api.verifyWebhook(body, signature, apiKey), JSON.parse(body), name);
  assert.deepEqual(api.verifyWebhook(new TextEncoder().encode(body), signature.toLowerCase(), apiKey), JSON.parse(body), name);
  const hmac = refSign(body, apiKey, 'hmac-sha256');
  assert.equal(api.verifyWebhook(body, hmac, apiKey, { algorithm: 'hmac-sha256' }).id, 'fDOuTy95uSiTi', name);
  for (const [raw, sig, code] of [[body.replace('1000', '1001'), signature, 'signature_mismatch'], ['[]', signature, 'invalid_payload'],
    [body, '', 'missing_signature'], [body, 'zz', 'malformed_signature']]) {
    assert.throws(() => api.verifyWebhook(raw, sig, apiKey), (e) => e instanceof api.QbitPaySignatureError
      && e instanceof api.QbitPayError && e.code === code, `${name}: ${code}`);
  }
}

test('browser entry (esm/webhook.browser.mjs) loads its wasm by URL and verifies', async () => {
  try {
    const api = await import(entry('esm/webhook.browser.mjs'));
    check(api, 'browser');
    assert.equal(fetched.length, 1);
    assert.match(fetched[0], /qbitpay_webhook_bg\.wasm$/);
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('Deno/Bun entry (esm/webhook.fs.mjs) verifies', async () => {
  check(await import(entry('esm/webhook.fs.mjs')), 'fs');
});

test('the package exports map sends each runtime to an entry that exists', async () => {
  const manifest = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'));
  const targets = new Set();
  const walk = (v) => (typeof v === 'string' ? targets.add(v) : Object.values(v).forEach(walk));
  walk(manifest.exports);
  for (const t of targets) await readFile(join(pkgDir, t)); // throws if missing
  assert.ok(targets.has('./esm/webhook.browser.mjs'));
});
