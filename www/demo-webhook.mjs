// `make demo` (until the sample checkout lands): what a merchant's webhook endpoint does
// with a delivery. Signs a sample charge.succeeded event as QbitPay would, verifies it,
// then shows what a tampered body, a wrong key and a pre-parsed body get.

import { signWebhook, verifyWebhook, QbitPaySignatureError } from 'qbitpay/webhook';

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

function attempt(label, run) {
  try {
    const event = run();
    console.log(`✔ ${label}: verified ${event.type} for ${event.data.id} (${event.data.amount} ${event.data.currency})`);
  } catch (err) {
    if (!(err instanceof QbitPaySignatureError)) throw err;
    console.log(`✘ ${label}: ${err.code}: ${err.message}`);
  }
}

attempt('the delivery as sent', () => verifyWebhook(body, signature, apiKey));
attempt('the same event, signed with HMAC-SHA256', () =>
  verifyWebhook(body, signWebhook(body, apiKey, { algorithm: 'hmac-sha256' }), apiKey, { algorithm: 'hmac-sha256' }));
attempt('amount changed in transit', () => verifyWebhook(body.replace('25.5', '2550'), signature, apiKey));
attempt('wrong API key', () => verifyWebhook(body, signature, 'sk_test_someone_else'));
attempt('API key pasted with a newline', () => verifyWebhook(body, signature, apiKey + '\n'));
attempt('body already parsed by a framework', () => verifyWebhook(JSON.parse(body), signature, apiKey));
attempt('no signature header', () => verifyWebhook(body, undefined, apiKey));
attempt('an hour-old event with maxAgeSeconds: 300', () =>
  verifyWebhook(body, signature, apiKey, { maxAgeSeconds: 300, now: Date.now() + 3600_000 }));
