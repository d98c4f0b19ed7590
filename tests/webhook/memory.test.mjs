// Memory stays bounded: every allocation of a verification is freed as it returns, so after
// warm-up, thousands of verifications (accepted and rejected, small and 300 KB) must not
// grow the wasm linear memory (which never shrinks) nor the JS heap.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { verifyWebhook, signWebhook, QbitPaySignatureError } from 'qbitpay/webhook';
import { VECTOR, refSign } from './ref-signer.mjs';

const require = createRequire(import.meta.url);
const { apiKey, body, signature } = VECTOR;

/** The wasm instance's exports behind `qbitpay/webhook` (the same module instance: same file). */
function webhookWasm() {
  const pkgDir = dirname(require.resolve('qbitpay/package.json'));
  const glue = require(join(pkgDir, 'cjs', 'qbitpay_webhook.cjs'));
  const wasm = glue.initSync(); // already initialised by the entry: returns its exports
  assert.ok(wasm?.memory instanceof WebAssembly.Memory, 'reached the wasm memory');
  return wasm;
}

function event(targetBytes, seed) {
  const items = [];
  let size = 0;
  for (let i = 0; size < targetBytes; i++) {
    const item = { id: `li_${seed}_${i}`, name: `Item ${i} é😀`, qty: i % 5, price: i * 0.01, tags: ['x', i] };
    items.push(item);
    size += JSON.stringify(item).length;
  }
  return JSON.stringify({ id: `evt_${seed}`, type: 'charge.succeeded', object: 'event', createdAt: '2019-02-25T16:13:12.278Z',
    pendingWebhooks: 0, livemode: true, data: { object: 'charge', amount: 1000, items } });
}

// Mostly small bodies; every 64th round one of the 18 KB / 300 KB cases (about 300 of them).
function mixedRound(cases, i) {
  const small = cases.filter((c) => !c.big);
  const big = cases.filter((c) => c.big);
  const c = i % 64 === 0 ? big[(i / 64) % big.length] : small[i % small.length];
  try {
    const out = verifyWebhook(c.raw, c.sig, apiKey, c.opts);
    assert.equal(c.expect, 'accepted', c.name);
    return out;
  } catch (e) {
    if (!(e instanceof QbitPaySignatureError)) throw e;
    assert.equal(e.code, c.expect, c.name);
    return null;
  }
}

test('20,000 verifications (accepted, rejected, up to 300 KB) do not grow wasm memory', () => {
  const wasm = webhookWasm();
  const big = event(300_000, 1);
  const mid = event(18_000, 2);
  const bigSig = refSign(big, apiKey);
  const midHmac = refSign(mid, apiKey, 'hmac-sha256');
  const cases = [
    { name: 'vector', raw: body, sig: signature, expect: 'accepted' },
    { name: '300 KB', big: true, raw: big, sig: bigSig, expect: 'accepted' },
    { name: '300 KB bytes', big: true, raw: Buffer.from(big), sig: bigSig, expect: 'accepted' },
    { name: '300 KB tampered', big: true, raw: big.replace('"qty":3', '"qty":2'), sig: bigSig, expect: 'signature_mismatch' },
    { name: '300 KB truncated', big: true, raw: big.slice(0, -7), sig: bigSig, expect: 'invalid_payload' },
    { name: '18 KB hmac', big: true, raw: mid, sig: midHmac, opts: { algorithm: 'hmac-sha256' }, expect: 'accepted' },
    { name: '18 KB wrong key', big: true, raw: mid, sig: refSign(mid, 'other', 'hmac-sha256'), opts: { algorithm: 'hmac-sha256' }, expect: 'signature_mismatch' },
    { name: 'deep', raw: '{"a":' + '['.repeat(50_000), sig: signature, expect: 'invalid_payload' },
    { name: 'too old', raw: body, sig: signature, opts: { maxAgeSeconds: 1, now: 0 }, expect: 'event_too_old' },
    { name: 'malformed', big: true, raw: big, sig: 'nothex', expect: 'malformed_signature' },
    { name: 'bad utf-8', raw: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), sig: signature, expect: 'invalid_payload' },
  ];
  const N = 20_000;
  const WARMUP = 500;
  for (let i = 0; i < WARMUP; i++) {
    mixedRound(cases, i);
    if (i % 500 === 0) signWebhook(big, apiKey);
  }
  const afterWarmup = wasm.memory.buffer.byteLength;
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const samples = [];
  for (let i = WARMUP; i < N; i++) {
    mixedRound(cases, i);
    if (i % 500 === 0) signWebhook(big, apiKey);
    if (i % 2000 === 0) samples.push(wasm.memory.buffer.byteLength);
  }
  const end = wasm.memory.buffer.byteLength;
  console.log(`# wasm memory: after warm-up ${afterWarmup} B, samples ${samples.join(' ')}, end ${end} B`);
  assert.equal(end, afterWarmup, `wasm memory grew from ${afterWarmup} to ${end} bytes after warm-up`);
  assert.ok(end <= 8 * 1024 * 1024, `wasm memory ${end} B stays small for 300 KB bodies`);
  globalThis.gc?.();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  console.log(`# JS heap growth over ${N - WARMUP} verifications: ${(heapGrowth / 1e6).toFixed(1)} MB`);
  assert.ok(heapGrowth < 64e6, `JS heap grew by ${heapGrowth} bytes`);
});

test('memory high-water mark follows the largest body, then stays', () => {
  const wasm = webhookWasm();
  const sizes = [1_000, 50_000, 300_000, 900_000];
  const marks = [];
  for (const size of sizes) {
    const raw = event(size, size);
    const sig = refSign(raw, apiKey);
    for (let i = 0; i < 20; i++) verifyWebhook(raw, sig, apiKey);
    marks.push(wasm.memory.buffer.byteLength);
  }
  // Back to small bodies: no further growth.
  const small = event(1_000, 7);
  const sig = refSign(small, apiKey);
  for (let i = 0; i < 2_000; i++) verifyWebhook(small, sig, apiKey);
  const after = wasm.memory.buffer.byteLength;
  console.log(`# wasm memory high-water marks for ${sizes.join('/')} B bodies: ${marks.join(' ')} B; after 2000 small: ${after} B`);
  assert.equal(after, marks.at(-1));
  // Verifying a ~900 KB body should not need more than a few times its size.
  assert.ok(marks.at(-1) < 16 * 1024 * 1024, `wasm memory ${marks.at(-1)} B`);
});

// Rejections must free what they allocated too (a malformed signature, a body over
// maxBytes only once encoded): a run of bad deliveries must not grow memory.
test('a run of rejections (malformed signature, too large) keeps wasm memory flat', () => {
  const wasm = webhookWasm();
  const big = event(200_000, 3);
  const wide = 'é'.repeat(40_000); // 40 K UTF-16 units, 80 KB of UTF-8
  const wideBody = `{"id":"evt_w","s":"${wide}"}`;
  const run = () => {
    for (let i = 0; i < 200; i++) {
      assert.throws(() => verifyWebhook(big, 'nothex', apiKey), (e) => e.code === 'malformed_signature');
      assert.throws(() => verifyWebhook(big, 'AB'.repeat(32), apiKey), (e) => e.code === 'malformed_signature');
      assert.throws(() => verifyWebhook(wideBody, signature, apiKey, { maxBytes: 50_000 }), (e) => e.code === 'payload_too_large');
    }
  };
  run();
  const before = wasm.memory.buffer.byteLength;
  run();
  run();
  assert.equal(wasm.memory.buffer.byteLength, before, 'wasm memory grew over 1,200 rejected calls');
  assert.deepEqual(verifyWebhook(body, signature, apiKey), JSON.parse(body));
});
