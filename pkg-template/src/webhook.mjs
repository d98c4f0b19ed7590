// verifyWebhook / signWebhook / verifyWebhookRequest over the webhook wasm module. This file
// only converts arguments and maps the module's `[code, message]` to error classes: every
// decision (order of checks, messages) is the Rust core's (src/webhook/verify.rs).
// Synchronous except for reading a Request: the loader of each runtime has instantiated the
// module before this runs.

import { QbitPaySignatureError } from './errors.mjs';

/** @param {any} glue the initialised `qbitpay_webhook` wasm-bindgen module */
export function webhookApi(glue) {
  let decoder = null; // made on first use: only byte bodies need it

  /** Call the module; its `[code, message]` becomes the error users catch. */
  function run(fn, call) {
    try {
      return call();
    } catch (e) {
      if (!Array.isArray(e)) throw e;
      const [code, message] = e;
      if (code === 'invalid_argument') throw new TypeError(`${fn}: ${message}`);
      throw new QbitPaySignatureError(message, { code });
    }
  }

  /** The body as the module takes it: a string, a Uint8Array, or the value itself. */
  function bytes(raw) {
    if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
    if (ArrayBuffer.isView(raw) && !(raw instanceof Uint8Array)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    return raw; // bytes, a parsed event, or something the module names in its refusal
  }

  // Methods, so each keeps its name in a bundle minified without esbuild's keepNames.
  const api = {
    verifyWebhook(rawBody, signature, apiKey, options = {}) {
      const keys = keyList(apiKey, 'verifyWebhook');
      if (Array.isArray(signature)) signature = signature.join(',');
      if (signature != null && typeof signature !== 'string') {
        throw new TypeError('verifyWebhook: signature must be the QbitPay-Signature header value (a string)');
      }
      const input = bytes(rawBody);
      const maxAge = number(options.maxAgeSeconds);
      // The clock is read only when an age check needs it.
      const now = options.now === undefined ? (maxAge === undefined ? undefined : Date.now())
        : number(options.now instanceof Date ? options.now.getTime() : options.now);
      run('verifyWebhook', () => glue.verify(input, signature ?? '', keys[0] ?? '', keys.length > 1 ? keys.slice(1) : undefined, text(options.algorithm), maxAge, now,
        number(options.maxBytes)));
      if (typeof rawBody === 'string') return JSON.parse(rawBody);
      return input instanceof Uint8Array ? JSON.parse((decoder ??= new TextDecoder()).decode(input)) : rawBody;
    },

    signWebhook(rawBodyOrEvent, apiKey, options = {}) {
      if (typeof apiKey !== 'string') throw new TypeError('signWebhook: apiKey must be your QbitPay API key (a non-empty string)');
      return run('signWebhook', () => glue.sign(bytes(rawBodyOrEvent), apiKey, text(options.algorithm)));
    },

    async verifyWebhookRequest(request, apiKey, options = {}) {
      if (typeof request?.arrayBuffer !== 'function' || typeof request.headers?.get !== 'function') {
        throw new TypeError('verifyWebhookRequest: request must be a fetch API Request');
      }
      const signature = request.headers.get('qbitpay-signature');
      return api.verifyWebhook(new Uint8Array(await request.arrayBuffer()), signature, apiKey, options);
    },
  };
  return api;
}

/** One API key or several (key rotation), as strings. */
function keyList(apiKey, fn) {
  const keys = Array.isArray(apiKey) ? apiKey : [apiKey];
  if (!keys.every((k) => typeof k === 'string')) {
    throw new TypeError(`${fn}: apiKey must be your QbitPay API key (a non-empty string), or an array of them`);
  }
  return keys;
}

/** An option the module reads as a number: `undefined` when absent, NaN when not a number. */
const number = (v) => (v === undefined || v === null ? undefined : typeof v === 'number' ? v : NaN);
const text = (v) => (v === undefined ? undefined : String(v));
