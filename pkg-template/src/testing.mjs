// qbitpay/webhook/testing: events of every type as QbitPay sends them and their signed
// deliveries, for testing a webhook handler without a server. Signs with the package's own
// signWebhook (through `qbitpay/webhook`); no production entry imports this.

import { signWebhook } from 'qbitpay/webhook';

// Each event type: its object and the status the object has when the event is sent.
const TYPES = {
  'charge.succeeded': ['charge', 'sellerConfirmed'],
  'charge.expired': ['charge', 'cancelled'],
  'charge.failed': ['charge', 'cancelled'],
  'charge.dispute.created': ['charge', 'dispute'],
  'charge.dispute.closed': ['charge', 'closed'],
  'payout.pending': ['payout', 'pending'],
  'payout.inTransition': ['payout', 'inTransit'],
  'payout.paid': ['payout', 'paid'],
  'payout.failed': ['payout', 'failed'],
  'payout.cancelled': ['payout', 'cancelled'],
};

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** An id as the API makes them: a prefix and 24 random letters and digits. */
const newId = (prefix) => prefix + Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => ALPHABET[b % 62]).join('');
const iso = (t) => new Date(t).toISOString();

function charge(status, createdMs) {
  const id = newId('ch_');
  const paid = status !== 'pending' && status !== 'cancelled';
  return {
    id, object: 'charge', createdAt: iso(createdMs), paid, status, amount: 25, currency: 'USD', price: 289440, fee: 0.25,
    baseAmount: 0.000625, baseCurrency: 'BTC', totalCost: 180.9, quoteCurrency: 'CNY', externalOrderId: `order_${id.slice(3, 11)}`,
    paymentPageUrl: `https://pay.qbitpay.example/pay/${id}?lang=en`, cbUrl: 'https://shop.example/webhooks/qbitpay',
    redirectUrl: 'https://shop.example/thanks',
    paymentMethod: {
      object: 'paymentMethod', type: 'Alipay', currency: 'CNY', status: 'active', typeLabel: { en: 'Alipay', zh: '支付宝' },
      alipayQRCodeUrl: `https://pay.qbitpay.example/pay/${id}/qr.svg`, qrCodeImgUrl: `https://pay.qbitpay.example/pay/${id}/qr.svg`,
      bankDetailName: 'QbitPay Merchant',
    },
    payerName: null, expiresAt: iso(createdMs + 30 * 60_000),
  };
}

function payout(status, createdMs) {
  const id = newId('po_');
  return {
    id, object: 'payout', createdAt: iso(createdMs), amount: 10, fee: 0.05, currency: 'USD', description: 'Supplier invoice',
    status, type: 'bankAccount', arrivalDate: iso(createdMs + 86_400_000), externalOrderId: `payout_${id.slice(3, 11)}`,
    destination: {
      object: 'paymentMethod', type: 'bankAccount', currency: 'USD', status: 'active', typeLabel: { en: 'Bank account', zh: '银行卡' },
      payerName: 'Ada Lovelace', accountNum: '000123456789', bankName: 'Example Bank',
    },
  };
}

const millis = (t, what) => {
  const n = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : t;
  if (!Number.isFinite(n)) throw new TypeError(`${what} must be a Date, an ISO 8601 string or milliseconds`);
  return n;
};

/**
 * An event of `type` as QbitPay sends it: a new id, `createdAt` now (or `options.createdAt`),
 * and `data` a realistic charge or payout in the status the event reports, with
 * `options.data`'s fields over it.
 */
export function webhookEvent(type, options = {}) {
  if (!Object.hasOwn(TYPES, type)) {
    throw new TypeError(`webhookEvent: type must be an event type of the API (${Object.keys(TYPES).join(', ')}), got ${JSON.stringify(type)}`);
  }
  const { data, createdAt = Date.now(), id = newId('evt_'), livemode = false, pendingWebhooks = 0 } = options;
  const created = millis(createdAt, 'webhookEvent: options.createdAt');
  const [object, status] = TYPES[type];
  const base = (object === 'charge' ? charge : payout)(status, created);
  return { id, type, object: 'event', createdAt: iso(created), pendingWebhooks, livemode, data: { ...base, ...data } };
}

/**
 * A signed delivery of an event: `event` an event (from `webhookEvent`, or your own object) or
 * an event type (then `webhookEvent(type, options)`); `options.apiKey` signs it (and
 * `options.algorithm`). Returns `{ event, body, signature, headers }` and `request(url)`, a
 * fetch API Request of it.
 */
export function webhookDelivery(event, options = {}) {
  const { apiKey, algorithm, ...eventOptions } = options;
  if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('webhookDelivery: options.apiKey must be the API key that signs it');
  if (typeof event !== 'string' && (event === null || typeof event !== 'object')) {
    throw new TypeError('webhookDelivery: event must be an event type or an event object');
  }
  const e = typeof event === 'string' ? webhookEvent(event, eventOptions) : event;
  const body = JSON.stringify(e);
  const signature = signWebhook(body, apiKey, algorithm === undefined ? undefined : { algorithm });
  const headers = { 'content-type': 'application/json', 'qbitpay-signature': signature };
  return {
    event: e, body, signature, headers,
    request(url = 'http://localhost/webhooks/qbitpay') {
      return new Request(url, { method: 'POST', body, headers });
    },
  };
}
