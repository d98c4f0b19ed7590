// What an attacker holding one genuinely signed delivery (its body and signature, not the key)
// tries against the shipped package, and what a peer without even that tries: each attack is
// refused, or costs the handler no more than an ordinary delivery.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWebhook, signWebhook, createWebhookHandler, memoryStore } from 'qbitpay/webhook';
import { webhookEvent } from 'qbitpay/webhook/testing';
import { refDigest, refSigningString } from './ref-signer.mjs';

const apiKey = 'sk_test_attacks';

test('an event whose id holds U+FFFD cannot be replayed under the ids of lone surrogates (all sign as U+FFFD)', async () => {
  const event = webhookEvent('charge.succeeded', { id: 'evt_\uFFFDx' });
  const body = JSON.stringify(event);
  // Signed by the definition (what the sender computes); the package refuses to sign it.
  const signature = refDigest(refSigningString(body), apiKey);
  assert.throws(() => signWebhook(body, apiKey), { code: 'invalid_payload' });
  const replays = ['\\ud800', '\\udbff', '\\udc00', '\\udfff'].map((s) => body.replace('\uFFFD', s));
  // Other JavaScript strings (other ids), the same UTF-8 signed: the genuine signature fits each.
  for (const replay of replays) {
    assert.notEqual(JSON.parse(replay).id, event.id);
    assert.equal(refDigest(refSigningString(replay), apiKey), signature);
  }
  const runs = [];
  const h = createWebhookHandler({ apiKey, store: memoryStore(), on: { 'charge.succeeded': (e) => { runs.push(e.id); } } });
  for (const delivery of [body, ...replays]) {
    for (const raw of [delivery, new TextEncoder().encode(delivery), JSON.parse(delivery)]) {
      assert.throws(() => verifyWebhook(raw, signature, apiKey), (e) => e.code === 'invalid_payload' && /U\+FFFD or a lone surrogate/.test(e.message));
      const r = await h.handle(raw, signature);
      assert.deepEqual([r.status, r.outcome, r.code], [400, 'rejected', 'invalid_payload']);
    }
  }
  assert.deepEqual(runs, []);
  // Inside data a lone surrogate is escaped by JSON.stringify: it reads one way and verifies.
  const nested = JSON.stringify(webhookEvent('charge.succeeded', { data: { externalOrderId: 'o\uD800\uFFFD' } }));
  assert.equal(verifyWebhook(nested, refDigest(refSigningString(nested), apiKey), apiKey).data.externalOrderId, 'o\uD800\uFFFD');
});

test('a forged 1 MB body of 100,000 distinct keys is refused as fast as any other 1 MB body', () => {
  // Keys alike in their first and last bytes: every key with the same hash.
  const keys = Array.from({ length: 40_000 }, (_, i) => `"aaaaaaaa${String(i).padStart(5, '0')}bbbbbbbb":0`);
  const wide = `{"id":"evt_1","data":{${keys.join(',')}}}`;
  const many = `{"id":"evt_1","data":{${Array.from({ length: 100_000 }, (_, i) => `"k${i.toString(36)}":0`).join(',')}}}`;
  for (const body of [wide, many]) {
    assert.ok(body.length <= 1 << 20);
    const started = performance.now();
    assert.throws(() => verifyWebhook(body, 'A'.repeat(32), apiKey), { code: 'signature_mismatch' });
    const ms = performance.now() - started;
    // Read in one sort: tens of ms (a comparison of each key with those before it took 3-6 s).
    assert.ok(ms < 1500, `${ms.toFixed(0)} ms`);
  }
  // And read right: the same body signed verifies as JSON.parse reads it.
  assert.deepEqual(verifyWebhook(wide, refDigest(refSigningString(wide), apiKey), apiKey), JSON.parse(wide));
});

test('an onError that rejects (async) does not end the process with an unhandled rejection', async () => {
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const h = createWebhookHandler({
      apiKey, store: memoryStore(),
      on: { 'charge.succeeded': () => { throw new Error('handler failed'); } },
      onError: async () => { throw new Error('the log service is down'); },
    });
    const event = webhookEvent('charge.succeeded');
    const body = JSON.stringify(event);
    const r = await h.handle(body, signWebhook(body, apiKey));
    assert.equal(r.outcome, 'failed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a store whose done() fails once: tried again (5 tries at most), so a replay after the lease is a duplicate, not a second run', async () => {
  const memory = memoryStore();
  let failures = 1;
  const stages = [];
  const store = { ...memory, async done(...args) { if (failures-- > 0) throw new Error('connection reset'); return memory.done(...args); } };
  let runs = 0;
  const h = createWebhookHandler({ apiKey, store, leaseSeconds: 0.2, onError: (e, { stage }) => { stages.push(stage); }, on: { 'charge.succeeded': () => { runs++; } } });
  const body = JSON.stringify(webhookEvent('charge.succeeded'));
  const signature = signWebhook(body, apiKey);
  assert.equal((await h.handle(body, signature)).outcome, 'processed');
  assert.deepEqual(stages, ['done'], 'the failure is reported');
  await new Promise((resolve) => setTimeout(resolve, 300)); // past the lease
  assert.equal((await h.handle(body, signature)).outcome, 'duplicate');
  assert.equal(runs, 1);
  // A store that keeps failing: a few tries, within half the lease, then the answer stands.
  const down = { ...memoryStore(), async done() { throw new Error('down'); } };
  const tries = [];
  const h2 = createWebhookHandler({ apiKey, store: down, onError: (e, { stage }) => { tries.push(stage); }, on: { 'charge.succeeded': () => {} } });
  const started = performance.now();
  assert.equal((await h2.handle(body, signature)).outcome, 'processed');
  assert.deepEqual(tries, ['done', 'done', 'done', 'done', 'done']);
  assert.ok(performance.now() - started < 5000);
});

test('no error names the API key or the signature, whatever slot they were passed in', () => {
  const secret = 'sk_live_SECRET0123456789';
  const body = JSON.stringify(webhookEvent('charge.succeeded'));
  const signature = signWebhook(body, secret);
  const messages = [];
  const attempt = (f) => { try { f(); } catch (e) { messages.push(`${e.message} ${JSON.stringify(e)}`); } };
  attempt(() => verifyWebhook(body, signature, ` ${secret}`));
  attempt(() => verifyWebhook(body, signature, 'other'));
  attempt(() => verifyWebhook(body, secret, signature)); // the two swapped
  attempt(() => verifyWebhook(body, signature, secret, { algorithm: secret }));
  attempt(() => signWebhook(body, signature, { algorithm: secret }));
  attempt(() => createWebhookHandler({ apiKey: secret, on: {}, algorithm: secret }));
  attempt(() => verifyWebhook(body.replace('"livemode":false', `"livemode":"${secret}"`), signature, secret));
  assert.equal(messages.length, 7);
  for (const m of messages) {
    assert.ok(!m.includes('SECRET') && !m.includes(signature), m);
  }
});

test('a handler slower than its lease: a replay meanwhile claims the event (the lease is the bound), and onError is told', async () => {
  const stages = [];
  let runs = 0;
  const h = createWebhookHandler({
    apiKey, store: memoryStore(), leaseSeconds: 0.3, onError: (e, { stage }) => { stages.push(stage); },
    on: { 'charge.succeeded': async () => { runs++; await new Promise((resolve) => setTimeout(resolve, 750)); } },
  });
  const body = JSON.stringify(webhookEvent('charge.succeeded'));
  const signature = signWebhook(body, apiKey);
  const first = h.handle(body, signature); // claims at once (before any timer)
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal((await h.handle(body, signature)).outcome, 'busy', 'within the lease');
  await new Promise((resolve) => setTimeout(resolve, 350));
  const second = h.handle(body, signature); // past the lease, the first still running
  assert.deepEqual([(await first).outcome, (await second).outcome], ['processed', 'processed']);
  assert.equal(runs, 2);
  assert.deepEqual(stages, ['lease', 'lease']);
  assert.equal((await h.handle(body, signature)).outcome, 'duplicate');
});
