// verifyWebhookRequest: a fetch API Request (Workers, Deno.serve, Bun.serve, Next.js route
// handlers, Hono) verified in one call; and a trap inside the module leaves it working.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { verifyWebhook, verifyWebhookRequest, QbitPaySignatureError } from 'qbitpay/webhook';
import * as index from 'qbitpay';
import { VECTOR, refSign } from './ref-signer.mjs';

const { apiKey, body, signature } = VECTOR;
const delivery = (raw, headers = { 'QbitPay-Signature': signature }) =>
  new Request('http://127.0.0.1/webhooks', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: raw });

async function codeOf(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof QbitPaySignatureError, `${e?.name}: ${e?.message}`);
    return e.code;
  }
  return 'accepted';
}

test('a Request: body read once as bytes, signature from the QbitPay-Signature header', async () => {
  assert.deepEqual(await verifyWebhookRequest(delivery(body), apiKey), JSON.parse(body));
  assert.deepEqual(await verifyWebhookRequest(delivery(body, { 'qbitpay-signature': signature.toLowerCase() }), apiKey), JSON.parse(body));
  assert.equal((await verifyWebhookRequest(delivery(body), ['old', apiKey])).id, 'fDOuTy95uSiTi');
  assert.equal(await codeOf(verifyWebhookRequest(delivery(body, {}), apiKey)), 'missing_signature');
  assert.equal(await codeOf(verifyWebhookRequest(delivery(body.replace('1000', '1001')), apiKey)), 'signature_mismatch');
  assert.equal(await codeOf(verifyWebhookRequest(delivery(body), 'other')), 'signature_mismatch');
  assert.equal(await codeOf(verifyWebhookRequest(delivery('{"a":'), apiKey)), 'invalid_payload');
  assert.equal(await codeOf(verifyWebhookRequest(delivery(body), apiKey, { maxBytes: 100 })), 'payload_too_large');
  const hmac = refSign(body, apiKey, 'hmac-sha256');
  assert.equal((await verifyWebhookRequest(delivery(body, { 'QbitPay-Signature': hmac }), apiKey, { algorithm: 'hmac-sha256' })).id,
    'fDOuTy95uSiTi');
  // Bytes as sent, not decoded and re-encoded: invalid UTF-8 stays invalid.
  const bad = new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]);
  assert.equal(await codeOf(verifyWebhookRequest(delivery(bad), apiKey)), 'invalid_payload');
  // The same verdicts from `qbitpay` (its own module: the client and the verifier).
  assert.equal((await index.verifyWebhookRequest(delivery(body), apiKey)).id, 'fDOuTy95uSiTi');
  assert.equal(await codeOf(index.verifyWebhookRequest(delivery(bad), apiKey)), 'invalid_payload');
});

test('verifyWebhookRequest refuses what is not a Request, and a body already read', async () => {
  await assert.rejects(verifyWebhookRequest({ body }, apiKey), TypeError);
  await assert.rejects(verifyWebhookRequest(null, apiKey), TypeError);
  await assert.rejects(verifyWebhookRequest(delivery(body), ''), TypeError);
  const used = delivery(body);
  await used.text();
  await assert.rejects(verifyWebhookRequest(used, apiKey), TypeError);
});

test('a trap inside the module (what a panic ends in) ends that call only: the next calls verify as before', () => {
  const pkgDir = dirname(createRequire(import.meta.url).resolve('qbitpay/package.json'));
  const glue = createRequire(import.meta.url)(join(pkgDir, 'cjs', 'qbitpay_webhook.cjs'));
  assert.deepEqual(verifyWebhook(body, signature, apiKey), JSON.parse(body));
  // The shipped instance's exports (initSync returns them once initialised). wasm-bindgen's
  // allocator traps (`unreachable`, as the module's panics do) on a layout no allocator can
  // meet: alignment 3.
  const instance = glue.initSync();
  for (let i = 0; i < 3; i++) {
    assert.throws(() => instance.__wbindgen_malloc(8, 3), WebAssembly.RuntimeError);
    assert.deepEqual(verifyWebhook(body, signature, apiKey), JSON.parse(body));
    assert.throws(() => verifyWebhook(body, signature, 'x'), (e) => e instanceof QbitPaySignatureError && e.code === 'signature_mismatch');
  }
});
