// The stores createWebhookHandler remembers events in: in this process (memoryStore), in Redis
// (redisStore: node-redis or ioredis, atomic across processes and machines), in Cloudflare D1
// (d1Store). Each function checks its arguments and returns the store at once; its
// implementation (store-impls.mjs) is loaded with the handler's on the store's first call.

import { loadDelivery } from 'qbitpay:delivery';

const positiveInteger = (n) => Number.isSafeInteger(n) && n > 0;

/**
 * An object of async functions `names`, each calling the same-named function of the object
 * `make` returns for the loaded module (made on the first call; tried again after a failed load).
 */
export function lazily(names, make) {
  let made;
  const ready = () => (made ??= loadDelivery().then(make, (e) => {
    made = undefined;
    throw e;
  }));
  return Object.fromEntries(names.map((name) => [name, async (...args) => (await ready())[name](...args)]));
}
const lazyStore = (make) => lazily(['claim', 'done', 'release', 'newest'], make);

/**
 * Events remembered in this process, at most `max` at a time. At the bound a new event's
 * claim throws (the handler answers 503 and the sender retries later, when older events have
 * expired): an id is never forgotten before its time to make room, which would let a replay
 * of it run again.
 */
export function memoryStore({ max = 100_000 } = {}) {
  if (!positiveInteger(max)) throw new TypeError('memoryStore: max must be a positive integer');
  return lazyStore((m) => m.memory(max));
}

/**
 * Events remembered in Redis, shared by every process and machine using it: `client` a
 * connected node-redis (`redis`, v4 or v5) or ioredis client. Keys start with `prefix`.
 */
export function redisStore(client, { prefix = 'qbitpay:webhook:' } = {}) {
  if (typeof client?.call !== 'function' && typeof client?.sendCommand !== 'function') throw new TypeError('redisStore: client must be a connected node-redis (redis) or ioredis client');
  if (typeof prefix !== 'string') throw new TypeError('redisStore: prefix must be a string');
  return lazyStore((m) => m.redis(client, prefix));
}

/**
 * Events remembered in Cloudflare D1 (`db`: the binding), in two tables named from `table`,
 * created on first use. D1 runs each statement alone and in order, so a claim is atomic.
 */
export function d1Store(db, { table = 'qbitpay_webhook' } = {}) {
  if (typeof db?.prepare !== 'function' || typeof db.batch !== 'function') throw new TypeError('d1Store: db must be a D1 database binding');
  if (!/^[A-Za-z_]\w{0,62}$/.test(table)) throw new TypeError('d1Store: table must be a plain SQL name (letters, digits, _)');
  return lazyStore((m) => m.d1(db, table));
}
