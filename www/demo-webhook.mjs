// `make demo` (until the sample checkout lands): what a merchant's webhook endpoint does
// with a delivery. Signs a sample charge.succeeded event as QbitPay would, verifies it,
// then shows what a tampered body, a wrong key, a parsed body, a key list and a Request get.

import { signWebhook, verifyWebhook, verifyWebhookRequest, QbitPaySignatureError } from 'qbitpay/webhook';

const apiKey = 'sk_test_qbitpay_demo';
const body = JSON.stringify({
  id: 'evt_demo_1',
  type: 'charge.succeeded',
  object: 'event',
  createdAt: new Date().toISOString(),
  pendingWebhooks: 0,
  livemode: false,
  data: { id: 'ch_demo_1', object: 'charge', status: 'closed', paid: true, amount: 25.5, currency: 'USD',
    externalOrderId: 'order-1001' },
}, null, 2);

const signature = signWebhook(body, apiKey);
console.log(`QbitPay-Signature: ${signature}\n`);

async function attempt(label, run) {
  try {
    const event = await run();
    console.log(`✔ ${label}: verified ${event.type} for ${event.data.id} (${event.data.amount} ${event.data.currency})`);
  } catch (err) {
    if (!(err instanceof QbitPaySignatureError)) throw err;
    console.log(`✘ ${label}: ${err.code}: ${err.message}`);
  }
}

await attempt('the delivery as sent', () => verifyWebhook(body, signature, apiKey));
await attempt('the same event, signed with HMAC-SHA256', () =>
  verifyWebhook(body, signWebhook(body, apiKey, { algorithm: 'hmac-sha256' }), apiKey, { algorithm: 'hmac-sha256' }));
await attempt('amount changed in transit', () => verifyWebhook(body.replace('25.5', '2550'), signature, apiKey));
await attempt('wrong API key', () => verifyWebhook(body, signature, 'sk_test_someone_else'));
await attempt('API key pasted with a newline', () => verifyWebhook(body, signature, apiKey + '\n'));
await attempt('the event as express.json() parsed it', () => verifyWebhook(JSON.parse(body), signature, apiKey));
await attempt('the event parsed, then changed', () => verifyWebhook({ ...JSON.parse(body), livemode: true }, signature, apiKey));
await attempt('keys being rotated: [new key, old key]', () => verifyWebhook(body, signature, ['sk_test_rotated', apiKey]));
await attempt('a fetch API Request (Workers, Deno.serve, Next.js)', () => verifyWebhookRequest(
  new Request('http://127.0.0.1/webhooks', { method: 'POST', body, headers: { 'QbitPay-Signature': signature } }), apiKey));
await attempt('no signature header', () => verifyWebhook(body, undefined, apiKey));
await attempt('an hour-old event with maxAgeSeconds: 300', () =>
  verifyWebhook(body, signature, apiKey, { maxAgeSeconds: 300, now: Date.now() + 3600_000 }));
