// verifyWebhook / signWebhook over the webhook wasm module. Synchronous everywhere: the
// loader of each runtime has instantiated the module before this runs.

import { QbitPaySignatureError } from './errors.mjs';

const ALGORITHMS = { md5: 0, 'hmac-sha256': 1 };
const NAMES = ['md5', 'hmac-sha256'];
const DEFAULT_MAX_BYTES = 1 << 20;

// What the module reports about a body it cannot read (kinds as in src/wasm/webhook.rs).
const PAYLOAD_ERRORS = [
  (at) => `the body is not complete JSON (it ends at byte ${at})`,
  (at, b) => `invalid JSON: unexpected ${b > 32 && b < 127 ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`} at byte ${at}`,
  (at) => `the body is not valid UTF-8 (byte ${at})`,
  (at) => `invalid JSON: bad escape sequence at byte ${at}`,
  (at) => `invalid JSON: unescaped control character in a string at byte ${at}`,
  (at) => `invalid JSON: malformed number at byte ${at}`,
  () => 'the event must be a JSON object',
  () => 'the event is nested deeper than 1000 levels',
];
// ASCII whitespace, as the header may carry it (the signature is trimmed, the key is not).
const SPACE = /^[ \t\n\f\r]+|[ \t\n\f\r]+$/g;

/** @param {any} glue the initialised `qbitpay_webhook` wasm-bindgen module */
export function webhookApi(glue) {
  let decoder = null; // made on first use (~0.1 ms at start-up): only byte bodies need it
  const encoder = new TextEncoder();
  // Only numbers cross into wasm: the strings are written straight into its memory here.
  const memory = glue.initSync().memory; // already instantiated by the loader: its exports
  const result = glue.result();
  let view = new Uint8Array(0);
  let numbers = new Float64Array(0);
  const bytes = () => (view.byteLength ? view : (view = new Uint8Array(memory.buffer))); // new after growth
  const area = () => (numbers.byteLength ? numbers : (numbers = new Float64Array(memory.buffer, result, 7)));
  let written = 0;
  let lastKey = '';
  let keyBytes = new Uint8Array(0);

  /** Copy a string (as UTF-8) or bytes into wasm memory: its address; its length in `written`. */
  function put(data) {
    // Up to 64 K UTF-16 units, room for the worst case (3 bytes each) at once; beyond, room
    // for ASCII first (the arena only bumps a pointer: unused room costs nothing).
    let cap = typeof data === 'string' && data.length <= 65536 ? data.length * 3 : data.length;
    let at = glue.alloc(cap);
    if (typeof data !== 'string') {
      bytes().set(data, at);
      written = cap;
      return at;
    }
    const first = encoder.encodeInto(data, bytes().subarray(at, at + cap));
    written = first.written;
    if (first.read < data.length) {
      // Not all ASCII: room for 3 bytes per UTF-16 unit left (4 per surrogate pair).
      const grown = written + (data.length - first.read) * 3;
      at = glue.realloc(at, cap, grown);
      cap = grown;
      written += encoder.encodeInto(data.slice(first.read), bytes().subarray(at + written, at + cap)).written;
    }
    return at;
  }

  /** The signature (ASCII hex, checked) and then the key (encoded once per distinct key). */
  function putSignatureAndKey(sig, apiKey) {
    if (apiKey !== lastKey) {
      keyBytes = encoder.encode(apiKey);
      lastKey = apiKey;
    }
    const at = glue.alloc(sig.length + keyBytes.length);
    const mem = bytes();
    for (let i = 0; i < sig.length; i++) mem[at + i] = sig.charCodeAt(i);
    mem.set(keyBytes, at + sig.length);
    return at;
  }

  /**
   * `call` writes the inputs and calls the module. The module asks JavaScript to print the
   * numbers its fast path cannot (more than 15 digits, far exponents): `String(Number(text))`
   * for each, which is what the sender's JSON.stringify wrote. Then `call` is made again
   * with every answer so far, which the module takes in order (up to 16384 new per round).
   */
  function withNumbers(body, call) {
    try {
      return callWithNumbers(body, call);
    } catch (e) {
      glue.release(); // a check that threw after `alloc`: free this call's inputs
      throw e;
    }
  }

  function callWithNumbers(body, call) {
    let status = call();
    const answers = [];
    let source = null;
    while (status === 4) {
      const [count, list] = area().subarray(5, 7);
      if (!count) throw new Error('qbitpay/webhook: internal error (no numbers listed)');
      const pairs = new Uint32Array(memory.buffer, list, count * 2).slice();
      source ??= typeof body === 'string' ? encoder.encode(body) : body;
      for (let i = 0; i < pairs.length; i += 2) {
        let literal = ''; // no spread: a literal can be longer than the call stack allows
        for (let j = pairs[i], end = j + pairs[i + 1]; j < end; j++) literal += String.fromCharCode(source[j]);
        const text = String(Number(literal));
        answers.push(text.length, ...Array.from(text, (c) => c.charCodeAt(0)));
      }
      const at = glue.alloc(answers.length);
      bytes().set(answers, at);
      glue.answers(at, answers.length);
      status = call();
    }
    return status;
  }

  function payloadError() {
    const [kind, at, byte] = area();
    return new QbitPaySignatureError(PAYLOAD_ERRORS[kind](at, byte), { code: 'invalid_payload' });
  }

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
    // The clock is read only for an age check (a given options.now is still validated).
    const now = maxAge === maxAge || options.now !== undefined ? toMillis(options.now) : 0;
    if (Array.isArray(signature)) signature = signature.join(',');
    if (signature != null && typeof signature !== 'string') {
      throw new TypeError('verifyWebhook: signature must be the QbitPay-Signature header value (a string)');
    }
    const body = asBody(rawBody, 'verifyWebhook');
    // Refused before it is copied into wasm memory (which never shrinks). A string of more
    // UTF-16 units than maxBytes has at least that many UTF-8 bytes.
    if (body.length > maxBytes) throw tooLarge(`at least ${body.length}`, maxBytes);
    let sig = signature ?? '';
    if (sig.charCodeAt(0) <= 32 || sig.charCodeAt(sig.length - 1) <= 32) sig = sig.replace(SPACE, '');
    if (sig === '') {
      throw new QbitPaySignatureError('no signature: pass the value of the QbitPay-Signature request header',
        { code: 'missing_signature' });
    }
    const hexLength = alg ? 64 : 32;
    const hex = /^[0-9a-fA-F]*$/.test(sig);
    const malformed = () => {
      const hint = !hex ? ''
        : sig.length === 64 && !alg ? " (it looks like HMAC-SHA256: pass { algorithm: 'hmac-sha256' })"
        : sig.length === 32 && alg ? ' (it looks like MD5, the default algorithm)' : '';
      return new QbitPaySignatureError(`the signature must be ${hexLength} hex characters for ${NAMES[alg]}${hint}`,
        { code: 'malformed_signature' });
    };
    const status = withNumbers(body, () => {
      const at = put(body);
      const length = written;
      if (length > maxBytes) throw tooLarge(length, maxBytes);
      if (!hex || sig.length !== hexLength) throw malformed(); // after the size check, as before
      const sigAt = putSignatureAndKey(sig, apiKey);
      return glue.verify(at, length, sigAt, hexLength, sigAt + hexLength, keyBytes.length, alg, maxAge === maxAge);
    });
    // A real HTTP body is bytes; only a JS string can hold a lone surrogate, which reached
    // wasm as U+FFFD and so was checked against other content than JSON.parse returns. The
    // module says whether the body holds a U+FFFD at all: only then is the string scanned.
    if (typeof body === 'string' && (status === 2 || area()[4]) && !isWellFormed(body)) throw illFormed();
    if (status === 2) throw payloadError();
    if (status !== 0) {
      const hint = apiKey.replace(SPACE, '') !== apiKey ? ' The API key has whitespace at its start or end: trim it.'
        : ' Check the API key, pass the raw request body exactly as received, and that the algorithm matches.';
      throw new QbitPaySignatureError(`the signature does not match the body.${hint}`, { code: 'signature_mismatch' });
    }
    if (maxAge === maxAge) {
      const created = area()[3];
      if (created !== created) {
        throw new QbitPaySignatureError('maxAgeSeconds is set but the event has no valid createdAt', { code: 'invalid_payload' });
      }
      const age = (now - created) / 1000;
      if (!(Math.abs(age) <= maxAge)) {
        throw new QbitPaySignatureError(`the event's createdAt is ${Math.trunc(Math.abs(age))} s ${age < 0 ? 'in the future' : 'old'}, ` +
          `beyond maxAgeSeconds (${Math.trunc(maxAge)})`, { code: 'event_too_old' });
      }
    }
    return JSON.parse(typeof body === 'string' ? body : (decoder ??= new TextDecoder()).decode(body));
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
    const status = withNumbers(body, () => {
      const at = put(body);
      const length = written;
      const keyAt = put(apiKey);
      return glue.sign(at, length, keyAt, written, alg);
    });
    if (status !== 0) throw payloadError();
    return String.fromCharCode(...bytes().subarray(result + 32, result + (alg ? 96 : 64)));
  }

  return { verifyWebhook, signWebhook };
}

function tooLarge(size, maxBytes) {
  return new QbitPaySignatureError(`the body is ${size} bytes, above maxBytes (${maxBytes})`, { code: 'payload_too_large' });
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
