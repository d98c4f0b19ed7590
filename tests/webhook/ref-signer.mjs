// An independent JavaScript implementation of the spec's webhook signature (section
// Webhooks), written from the spec and nothing else: it is the oracle the tests compare the
// wasm verifier against. JSON.parse, top-level keys without null/"" values sorted by UTF-16
// code units, `key=value` with String(v) for primitives and JSON.stringify(v) for objects
// and arrays, joined by `&`, then `&key=<API key>`, MD5 or HMAC-SHA256 as upper-case hex.

import { createHash, createHmac } from 'node:crypto';

/** stringA for a raw body (throws SyntaxError like JSON.parse, TypeError if not an object). */
export function refSigningString(raw) {
  const text = typeof raw === 'string' ? raw : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  const event = JSON.parse(text);
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new TypeError('the event must be a JSON object');
  }
  return Object.keys(event)
    .filter((k) => event[k] !== null && event[k] !== '')
    .sort()
    .map((k) => {
      const v = event[k];
      return `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
    })
    .join('&');
}

/** The event's own members and the JSON type the API gives each. */
const EVENT_TYPES = {
  id: 'string', type: 'string', object: 'string', createdAt: 'string',
  pendingWebhooks: 'number', livemode: 'boolean', data: 'object',
};

/**
 * Why the verifier refuses an event (as JSON.parse returns it) although its signature may
 * match: its signing string could be another event's. A kept (not null, not "") member whose
 * key holds `&` or `=`, whose string value holds `&`, whose key or string value holds U+FFFD or
 * a lone surrogate, or one of the event's own members
 * (`id`, `livemode`, `data`...) of another type (`data` an array counts as another type).
 * `null` when none.
 */
export function refAmbiguity(event) {
  for (const k of Object.keys(event)) {
    const v = event[k];
    if (v === null || v === '') continue;
    if (k.includes('&') || k.includes('=')) return 'key';
    if (typeof v === 'string' && v.includes('&')) return 'value';
    // Every lone surrogate is U+FFFD in the UTF-8 the signature is computed over.
    if ([k, typeof v === 'string' ? v : ''].some((s) => !s.isWellFormed() || s.includes('\uFFFD'))) return 'U+FFFD';
    const want = Object.hasOwn(EVENT_TYPES, k) ? EVENT_TYPES[k] : undefined;
    if (want !== undefined && (typeof v !== want || Array.isArray(v))) return `type of ${k}`;
  }
  return null;
}

/** The QbitPay-Signature header value for a signing string. */
export function refDigest(stringA, apiKey, algorithm = 'md5') {
  const temp = `${stringA}&key=${apiKey}`;
  const h = algorithm === 'hmac-sha256' ? createHmac('sha256', apiKey) : createHash('md5');
  return h.update(temp, 'utf8').digest('hex').toUpperCase();
}

/** The QbitPay-Signature header value for a raw body. */
export function refSign(raw, apiKey, algorithm = 'md5') {
  return refDigest(refSigningString(raw), apiKey, algorithm);
}

/** The spec's known-answer vector. */
export const VECTOR = {
  apiKey: 'T9uTy95uSifOOuTy',
  body: '{"id":"fDOuTy95uSiTi","type":"charge.succeeded","createdAt":"2019-02-25T16:13:12.278Z","object":"event","pendingWebhooks":0,"livemode":true,"data":{"id":"5","object":"charge","createdAt":"2019-02-25T16:13:12.278Z","paid":false,"status":"pending","amount":1000,"currency":"USD","externalOrderId":"DTSifOuTy95ui","paymentPageUrl":"https://qbitpay.blockscape.co/?zh#/otc/payment?tradeId=DTSifOuTy95ifOuTy95","cbUrl":"https://api.blockscape.co","redirectUrl":"https://qbitpay.blockscape.co"}}',
  signature: 'EE53810FF1341779F2FF25989A67DCFC',
};
