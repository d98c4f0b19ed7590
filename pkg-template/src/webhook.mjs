// verifyWebhook / signWebhook over the webhook wasm module. Synchronous everywhere: the
// loader of each runtime has instantiated the module before this runs.

import { QbitPaySignatureError } from './errors.mjs';

const ALGORITHMS = { md5: 0, 'hmac-sha256': 1 };
const DEFAULT_MAX_BYTES = 1 << 20;

/** @param {any} glue the initialised `qbitpay_webhook` wasm-bindgen module */
export function webhookApi(glue) {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();

  function verifyWebhook(rawBody, signature, apiKey, options = {}) {
    requireKey(apiKey, 'verifyWebhook');
    const alg = algorithmCode(options.algorithm);
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new TypeError('verifyWebhook: options.maxBytes must be a positive integer');
    }
    const maxAge = options.maxAgeSeconds ?? NaN;
    if (options.maxAgeSeconds !== undefined && !(maxAge >= 0 && maxAge < Infinity)) {
      throw new TypeError('verifyWebhook: options.maxAgeSeconds must be a non-negative number of seconds');
    }
    const now = toMillis(options.now);
    if (Array.isArray(signature)) signature = signature.join(',');
    if (signature != null && typeof signature !== 'string') {
      throw new TypeError('verifyWebhook: signature must be the QbitPay-Signature header value (a string)');
    }
    const body = asBody(rawBody, 'verifyWebhook');
    // Refused before it is copied into wasm memory (which never shrinks). A string of more
    // UTF-16 units than maxBytes has at least that many UTF-8 bytes.
    if (body.length > maxBytes) {
      throw new QbitPaySignatureError(
        `the body is at least ${body.length} bytes, above maxBytes (${maxBytes})`,
        { code: 'payload_too_large' });
    }
    // A real HTTP body is bytes; only a JS string can hold a lone surrogate, which would reach
    // wasm as U+FFFD and so be checked against other content than JSON.parse returns.
    if (typeof body === 'string' && !isWellFormed(body)) throw illFormed();
    const verdict = typeof body === 'string'
      ? glue.verifyString(body, signature ?? '', apiKey, alg, maxAge, now, maxBytes)
      : glue.verifyBytes(body, signature ?? '', apiKey, alg, maxAge, now, maxBytes);
    if (verdict !== '') throw rejection(verdict);
    return JSON.parse(typeof body === 'string' ? body : decoder.decode(body));
  }

  function signWebhook(rawBodyOrEvent, apiKey, options = {}) {
    requireKey(apiKey, 'signWebhook');
    const alg = algorithmCode(options.algorithm);
    let body = rawBodyOrEvent;
    if (body !== null && typeof body === 'object' && !ArrayBuffer.isView(body) && !(body instanceof ArrayBuffer)) {
      body = JSON.stringify(body);
    } else {
      body = asBody(body, 'signWebhook');
      if (typeof body === 'string' && !isWellFormed(body)) throw illFormed();
    }
    const out = glue.sign(typeof body === 'string' ? encoder.encode(body) : body, apiKey, alg);
    if (out.includes('\t')) throw rejection(out);
    return out;
  }

  return { verifyWebhook, signWebhook };
}

function rejection(verdict) {
  const tab = verdict.indexOf('\t');
  return new QbitPaySignatureError(verdict.slice(tab + 1), { code: verdict.slice(0, tab) });
}

function asBody(raw, fn) {
  if (typeof raw === 'string' || raw instanceof Uint8Array) return raw;
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
  if (ArrayBuffer.isView(raw)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const what = raw === null ? 'null' : typeof raw;
  const hint = raw !== null && typeof raw === 'object'
    ? ' It looks already parsed: the signature covers the exact bytes received, so pass the raw body'
      + " (in Express: express.raw({ type: 'application/json' }); with fetch-style requests: await request.text())."
    : '';
  throw new QbitPaySignatureError(`${fn} needs the raw request body as a string or Uint8Array, got ${what}.${hint}`,
    { code: 'invalid_payload' });
}

function requireKey(apiKey, fn) {
  if (typeof apiKey !== 'string' || apiKey === '') {
    throw new TypeError(`${fn}: apiKey must be your QbitPay API key (a non-empty string)`);
  }
}

function algorithmCode(name = 'md5') {
  const code = Object.hasOwn(ALGORITHMS, name) ? ALGORITHMS[name] : undefined;
  if (code === undefined) {
    throw new TypeError(`options.algorithm must be 'md5' or 'hmac-sha256', got ${JSON.stringify(String(name))}`);
  }
  return code;
}

function toMillis(now) {
  if (now === undefined) return Date.now();
  const ms = now instanceof Date ? now.getTime() : now;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new TypeError('options.now must be a Date or a number of milliseconds');
  }
  return ms;
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed = typeof String.prototype.isWellFormed === 'function'
  ? (s) => s.isWellFormed()
  : (s) => !loneSurrogate.test(s);

function illFormed() {
  return new QbitPaySignatureError(
    'the body string holds a lone UTF-16 surrogate, which no UTF-8 HTTP body can carry; pass the raw body bytes',
    { code: 'invalid_payload' });
}
