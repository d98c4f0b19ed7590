// createWebhookHandler through the built package: both entries export it, and its steps through
// the wasm module (handlerStep) leave the module's memory flat over thousands of deliveries.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as webhook from 'qbitpay/webhook';
import * as index from 'qbitpay';
import { webhookDelivery } from 'qbitpay/webhook/testing';
import { refSign } from './ref-signer.mjs';

const require = createRequire(import.meta.url);
const apiKey = 'sk_test_handler_memory';

test('qbitpay and qbitpay/webhook both export the handler and its stores', async () => {
  for (const api of [webhook, index]) {
    for (const name of ['createWebhookHandler', 'memoryStore', 'redisStore', 'd1Store']) assert.equal(typeof api[name], 'function', name);
    const ran = [];
    const h = api.createWebhookHandler({ apiKey, store: api.memoryStore(), on: { 'payout.paid': (e) => { ran.push(e.data.object); } } });
    const d = webhookDelivery('payout.paid', { apiKey });
    assert.deepEqual(await h.handle(d.body, d.signature).then((r) => [r.status, r.outcome, r.event.id]), [200, 'processed', d.event.id]);
    assert.deepEqual(ran, ['payout']);
  }
});

test('10,000 deliveries through handle() (processed, duplicate, rejected, too old) keep wasm memory flat', async () => {
  const pkgDir = dirname(require.resolve('qbitpay/package.json'));
  const wasm = require(join(pkgDir, 'cjs', 'qbitpay_webhook.cjs')).initSync();
  let runs = 0;
  const h = webhook.createWebhookHandler({ apiKey, store: webhook.memoryStore({ max: 1_000_000 }), on: { 'charge.succeeded': () => { runs++; } } });
  const old = webhookDelivery('charge.succeeded', { apiKey, createdAt: Date.now() - 5 * 86_400_000 });
  const round = async (i) => {
    const d = webhookDelivery('charge.succeeded', { apiKey, data: { externalOrderId: `order-${i}` } });
    assert.equal((await h.handle(d.body, d.signature)).outcome, 'processed');
    assert.equal((await h.handle(d.body, d.signature)).outcome, 'duplicate');
    assert.equal((await h.handle(d.body, 'F'.repeat(32))).outcome, 'rejected');
    assert.equal((await h.handle(old.body, old.signature)).outcome, 'too_old');
  };
  for (let i = 0; i < 200; i++) await round(i);
  const warm = wasm.memory.buffer.byteLength;
  for (let i = 200; i < 2700; i++) await round(i);
  assert.equal(runs, 2700);
  assert.equal(wasm.memory.buffer.byteLength, warm, 'no growth after warm-up');
});

// The signature covers `key=value` pieces joined with `&`, strings written as they are: the
// pieces after `id` can be folded into its value, and `data` written as a string, and the
// signature still matches. Such a body is no event QbitPay sends: the verifier refuses it,
// so the handler never runs it again under a new id.
test('a signed delivery re-split into another id, or with data as a string, is refused (not run again)', async () => {
  const ran = [];
  const h = webhook.createWebhookHandler({ apiKey, on: { 'charge.succeeded': (e) => { ran.push(e.id); } } });
  const d = webhookDelivery('charge.succeeded', { apiKey, data: { paymentPageUrl: 'https://pay.example/?a=1' } });
  assert.equal((await h.handle(d.body, d.signature)).outcome, 'processed');
  const { livemode, object, pendingWebhooks, ...rest } = d.event;
  const resplit = [
    { ...d.event, id: `${d.event.id}&livemode=${livemode}`, livemode: undefined },
    { ...d.event, id: `${d.event.id}&livemode=${livemode}&object=${object}`, livemode: undefined, object: undefined },
    { ...rest, id: `${d.event.id}&livemode=${livemode}&object=${object}&pendingWebhooks=${pendingWebhooks}` },
    { ...d.event, data: JSON.stringify(d.event.data) },
  ];
  for (const event of resplit) {
    const body = JSON.stringify(event);
    assert.equal(refSign(body, apiKey), d.signature, 'the signature matches');
    assert.throws(() => webhook.verifyWebhook(body, d.signature, apiKey),
      { code: 'invalid_payload', message: /^the event's "(id" is a string holding '&'|data" must be an object)/ });
    const r = await h.handle(body, d.signature);
    assert.deepEqual([r.status, r.outcome, r.code], [400, 'rejected', 'invalid_payload'], body.slice(0, 80));
    assert.equal((await h.handle(JSON.parse(body), d.signature)).outcome, 'rejected', 'parsed, too');
  }
  assert.deepEqual(ran, [d.event.id], 'the effect ran once');
});
