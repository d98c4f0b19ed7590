// createWebhookHandler: its options, checked when it is called; what runs per delivery
// (delivery.mjs) is loaded on the first call of handle, fetch or node, so that an app that only
// verifies does not load it. The entries export each name as a top-level function, so a
// bundler that sees only verifyWebhook imported leaves all of this out.

import { webhookApi } from './webhook.mjs';
import { memoryStore, redisStore, d1Store, lazily } from './stores.mjs';

// The event types of the API (held to the Rust core's by a host test: src/webhook/handler.rs).
const EVENT_TYPES = ['charge.succeeded', 'charge.expired', 'charge.failed', 'charge.dispute.created', 'charge.dispute.closed', 'payout.pending', 'payout.inTransition', 'payout.paid', 'payout.failed', 'payout.cancelled'];
const DEFAULT_MAX_AGE_SECONDS = 3 * 86400;
const DEFAULT_LEASE_SECONDS = 60;

/** @param {any} glue the initialised webhook wasm-bindgen module (or its stand-in) */
export function handlerApi(glue) {
  return {
    createWebhookHandler(options) {
      return webhookHandler(glue, options);
    },
    memoryStore,
    redisStore,
    d1Store,
  };
}

function webhookHandler(glue, options) {
  const fn = 'createWebhookHandler';
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object ({ apiKey, on, ... })`);
  const {
    apiKey, on, store = memoryStore(), algorithm, maxBytes, staleEvents = 'run', now = Date.now,
    maxAgeSeconds = DEFAULT_MAX_AGE_SECONDS, leaseSeconds = DEFAULT_LEASE_SECONDS, onError,
  } = options;
  const { verifyWebhook } = webhookApi(glue);
  const verifyOptions = { algorithm, maxBytes, maxAgeSeconds };
  // The key and the verifier's options, checked by the verifier itself: a TypeError now, not a 400 per delivery.
  try {
    verifyWebhook('{}', '', apiKey, { ...verifyOptions, now: 0 });
  } catch (e) {
    if (e instanceof TypeError) throw new TypeError(e.message.replace('verifyWebhook', fn));
  }
  if (on === null || typeof on !== 'object') throw new TypeError(`${fn}: options.on must be an object of handlers by event type ({ 'charge.succeeded': (event) => ... })`);
  for (const type of Object.keys(on)) {
    if (!EVENT_TYPES.includes(type)) throw new TypeError(`${fn}: options.on has a handler for "${type}", which is no event type of the API`);
    if (typeof on[type] !== 'function') throw new TypeError(`${fn}: options.on['${type}'] must be a function`);
  }
  for (const m of ['claim', 'done', 'release', 'newest']) {
    if (typeof store?.[m] !== 'function') throw new TypeError(`${fn}: options.store must be a webhook store (claim, done, release, newest): it has no ${m}()`);
  }
  // The window is what closes replays: a number, always (the verifier reads null as "no limit").
  if (!(typeof maxAgeSeconds === 'number' && maxAgeSeconds > 0 && maxAgeSeconds < Infinity)) {
    throw new TypeError(`${fn}: options.maxAgeSeconds must be a number of seconds above 0`);
  }
  if (!(typeof leaseSeconds === 'number' && leaseSeconds > 0 && leaseSeconds <= 86400)) throw new TypeError(`${fn}: options.leaseSeconds must be a number of seconds above 0 (at most a day)`);
  if (staleEvents !== 'run' && staleEvents !== 'acknowledge') throw new TypeError(`${fn}: options.staleEvents must be 'run' or 'acknowledge'`);
  if (typeof now !== 'function') throw new TypeError(`${fn}: options.now must be a function returning milliseconds`);
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError(`${fn}: options.onError must be a function`);
  const settings = { apiKey, on, store, staleEvents, now, maxAgeSeconds, leaseSeconds, onError, verifyOptions, limit: maxBytes ?? 1 << 20 };
  return lazily(['handle', 'fetch', 'node'], (m) => m.deliveries(glue, verifyWebhook, settings));
}
