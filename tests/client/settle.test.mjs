// The request loop's awaits (settle.rs) under a hostile or unlucky caller: a `fetch` (the
// option, or a replaced global one) that answers late, twice, with a value, a thenable, a
// promise whose own `then` throws, something that is not a Response, or never; a body reader
// that throws; stop triggers and backoff timers fired after their call ended; many calls at
// once. Each call ends in its answer or a typed error in bounded time, no exception escapes
// the module, the module stays usable, and nothing a call held stays behind (the externref
// table's live slots come back). Everything is in-process (no server); each loop is capped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { QbitPay, QbitPayError, QbitPayConnectionError } from 'qbitpay';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const glue = createRequire(import.meta.url)(path.join(root, 'pkg', 'cjs', 'qbitpay_client.cjs'));
const exports = glue.initSync({ module: new Uint8Array(0) });
const table = Object.values(exports).find((v) => v instanceof WebAssembly.Table);
/** Live slots of the externref table: wasm-bindgen empties one when Rust drops its value. */
const live = () => {
  let n = 0;
  for (let i = 0; i < table.length; i++) if (table.get(i) != null) n++;
  return n;
};

const JSON_HEAD = { 'Content-Type': 'application/json' };
const ok = (id = 'ch_1') => new Response(JSON.stringify({ id, object: 'charge' }), { status: 200, headers: JSON_HEAD });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const OPTS = { apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9', maxRetries: 0, timeoutMs: 100 };

/** `p`'s outcome within `ms`: ['resolved', id], ['rejected', error] or ['hang']. */
function within(p, ms = 2000) {
  let timer;
  return Promise.race([
    p.then((v) => ['resolved', v?.id], (e) => ['rejected', e]),
    new Promise((r) => { timer = setTimeout(() => r(['hang']), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs `f` with exceptions that escape to the event loop (an uncaught one ends a Node
 * process) collected instead, and the global `fetch` replaced by `fetch` when given. */
async function guarded(f, fetch) {
  const escaped = [];
  const onError = (e) => escaped.push(e);
  const listeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  const original = globalThis.fetch;
  if (fetch) globalThis.fetch = fetch;
  try {
    return { r: await f(), escaped };
  } finally {
    globalThis.fetch = original;
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
    for (const l of listeners) process.on('uncaughtException', l);
  }
}

/** A call on a fresh client that must end in a typed connection error of `code`. */
async function typed(label, opts, code, fetch) {
  const { r: [how, e], escaped } = await guarded(() => within(new QbitPay({ ...OPTS, ...opts }).charges.retrieve('ch_1')), fetch);
  assert.deepEqual(escaped.map(String), [], `${label}: an exception escaped the module`);
  assert.equal(how, 'rejected', `${label}: ${how}`);
  assert.ok(e instanceof QbitPayConnectionError, `${label}: ${e}`);
  assert.equal(e.code, code, `${label}: ${e.code} (${e.cause})`);
  // The module is still usable.
  assert.equal((await new QbitPay({ ...OPTS, fetch: async () => ok() }).charges.retrieve('ch_1')).id, 'ch_1', `${label}: the next call`);
}

test('a replaced global fetch is held to what the fetch option is: a value that is not a Response, not a promise, or never settles is a typed error, and the module stays usable', async () => {
  // A test suite's mock: a partial Response (no headers), a forgotten return.
  await typed('a partial Response', {}, 'network', async () => ({ ok: true, status: 200, json: async () => ({ id: 'ch_1' }) }));
  await typed('undefined, not a promise', {}, 'network', () => undefined);
  await typed('a thenable that throws', {}, 'network', () => ({ then() { throw new TypeError('then'); } }));
  // One that ignores its signal: the timeout still ends the call.
  await typed('never settles', {}, 'timeout', () => new Promise(() => {}));
  await typed('never settles, its text() neither', {}, 'timeout',
    async () => ({ status: 200, headers: new Headers(JSON_HEAD), body: null, text: () => new Promise(() => {}) }));
});

test('a fetch option whose promise has a then of its own that throws, or a body reader that throws, is a typed error, not an exception through the module', async () => {
  const thenThrows = () => {
    const p = Promise.resolve(ok());
    p.then = () => { throw new TypeError('then'); };
    return p;
  };
  // Promise.resolve gives the same promise back, whose then throws again: the attempt's stop
  // ends it (timeoutMs).
  await typed('its then throws', { fetch: thenThrows }, 'timeout');
  const reader = (read, cancel = () => Promise.resolve()) => async () => ({ status: 200, headers: new Headers(JSON_HEAD), body: { getReader: () => ({ read, cancel }) } });
  await typed('read() throws', { fetch: reader(() => { throw new TypeError('read'); }) }, 'network');
  await typed('read() rejects, cancel() throws', { fetch: reader(async () => { throw new TypeError('read'); }, () => { throw new TypeError('cancel'); }) }, 'network');
});

test('a Response whose headers.get throws is a typed error; nothing of the module is left held, no other call stalls', async () => {
  const fetch = async () => ({ status: 200, headers: { get() { throw new TypeError('get'); } }, text: async () => '{}' });
  await typed('headers.get() throws', { fetch }, 'network');
  // A mock whose get throws for the names it was not given (`map[name].trim()`): the request
  // id is found, a later lookup (content-length, retry-after) throws.
  const some = (status, given) => async () => ({ status, headers: { get: (n) => given[n.toLowerCase()].trim() }, text: async () => '{"id":"ch_1"}' });
  await typed('headers.get() throws for content-length', { fetch: some(200, { 'request-id': 'req_1' }) }, 'network');
  await typed('headers.get() throws for retry-after', { fetch: some(503, { 'request-id': 'req_1', 'content-length': '13' }) }, 'network');
  await typed('headers.get() throws for location', { fetch: some(302, { 'request-id': 'req_1' }) }, 'network');
  // Started together with a call that answers: an exception through the module would also
  // stall the calls queued behind it.
  const bad = new QbitPay({ ...OPTS, fetch }).charges.retrieve('ch_1');
  const good = new QbitPay({ ...OPTS, fetch: async () => ok() }).charges.retrieve('ch_1');
  const { r, escaped } = await guarded(() => Promise.all([within(bad), within(good)]));
  assert.deepEqual(escaped.map(String), []);
  assert.deepEqual(r.map(([how]) => how), ['rejected', 'resolved']);
  // Every later call, of any client, still works (nothing of the module was left held).
  assert.equal((await new QbitPay({ ...OPTS, fetch: async () => ok() }).charges.retrieve('ch_1')).id, 'ch_1');
  const e = await new QbitPay({ ...OPTS, fetch: async () => new Response('{"type":"api_error","message":"x"}', { status: 500, headers: JSON_HEAD }) })
    .charges.retrieve('ch_1').catch((x) => x);
  assert.equal(e.statusCode, 500);
});

test('a Response whose headers are this realm\'s Headers with a get of their own (a subclass, an own property) that throws for a later name is a typed error, not an exception through the module', async () => {
  class Throwing extends Headers {
    get(n) { if (n === 'request-id') return 'req_1'; throw new TypeError(`get ${n}`); }
  }
  const own = () => {
    const h = new Headers(JSON_HEAD);
    h.get = (n) => { if (n === 'request-id') return 'req_1'; throw new TypeError(`get ${n}`); };
    return h;
  };
  const answer = (headers, status) => async () => ({ status, headers, text: async () => '{"id":"ch_1"}' });
  await typed('a Headers subclass whose get throws for content-length', { fetch: answer(new Throwing(), 200) }, 'network');
  await typed('a Headers subclass whose get throws for location', { fetch: answer(new Throwing(), 302) }, 'network');
  await typed('a Headers with an own get that throws for retry-after', { fetch: answer(own(), 503) }, 'network');
});

test('awaits ended every way (timeout, the caller\'s signal before, during and after fetch, late, twice, thenables, values, retries) leave no slot or task behind', { timeout: 60_000 }, async () => {
  const JSON_OK = '{"id":"ch_1","object":"charge"}';
  let n = 0;
  /** Fetch options, each a way an await can end. */
  const ways = {
    timeout: () => new Promise(() => {}),
    late: () => new Promise((r) => setTimeout(() => r(ok()), 60)),
    lateReject: () => new Promise((_, j) => setTimeout(() => j(new TypeError('late')), 60)),
    value: () => ok(),
    thenable: () => ({ then(f, r) { f(ok()); r(new Error('second')); f(ok('ch_2')); } }),
    asyncThenable: () => ({ then(f) { setTimeout(() => f(ok()), 5); } }),
    throws: () => { throw new TypeError('sync'); },
    stalledBody: () => new Response(new ReadableStream({ pull: () => new Promise(() => {}) }), { status: 200, headers: JSON_HEAD }),
    retried: () => (n++ % 2 === 0
      ? new Response('{"type":"rate_limit_error","message":"slow"}', { status: 429, headers: { ...JSON_HEAD, 'Retry-After': '0' } })
      : new Response(JSON_OK, { status: 200, headers: JSON_HEAD })),
  };
  const clients = Object.fromEntries(Object.entries(ways).map(([k, fetch]) => [k, new QbitPay({ ...OPTS, timeoutMs: 30, maxRetries: 1, fetch })]));
  const round = async () => {
    const calls = [];
    for (const [k, qp] of Object.entries(clients)) {
      calls.push(qp.charges.retrieve('ch_1').catch((e) => e));
      const before = new AbortController();
      before.abort(new Error('before'));
      calls.push(qp.charges.retrieve('ch_1', { signal: before.signal }).catch((e) => e));
      const during = new AbortController();
      setTimeout(() => during.abort(), k === 'late' ? 10 : 1);
      calls.push(qp.charges.retrieve('ch_1', { signal: during.signal, timeoutMs: 1000 }).catch((e) => e));
      const after = new AbortController();
      calls.push(qp.charges.retrieve('ch_1', { signal: after.signal }).then((v) => { after.abort(); return v; }, (e) => { after.abort(); return e; }));
    }
    const got = await within(Promise.all(calls), 5000);
    assert.equal(got[0], 'resolved', 'a call never ended');
    // Everything late has settled (the 60 ms answers).
    await sleep(80);
  };
  await round();
  const start = live();
  const wasm = exports.memory.buffer.byteLength;
  const ROUNDS = 15; // 15 × 36 calls
  for (let i = 0; i < ROUNDS; i++) await round();
  const grew = live() - start;
  assert.ok(grew < 20, `${grew} externref slots still held after ${ROUNDS} rounds`);
  assert.ok(exports.memory.buffer.byteLength - wasm <= 64 * 1024, 'wasm memory grew');
});

test('a stop trigger or a backoff timer fired after its call ended reaches no later await (slots are reused by generation)', async () => {
  // The module's timers go through the global setTimeout: each handler it armed is kept.
  const handlers = [];
  const original = globalThis.setTimeout;
  globalThis.setTimeout = (f, ms, ...rest) => { if (typeof f === 'function' && !rest.length) handlers.push(f); return original(f, ms, ...rest); };
  let n = 0;
  const retried = () => (n++ % 2 === 0
    ? new Response('{"type":"api_error","message":"busy"}', { status: 503, headers: { ...JSON_HEAD, 'Retry-After': '0' } })
    : ok());
  try {
    const qp = new QbitPay({ ...OPTS, maxRetries: 1, timeoutMs: 5000, fetch: retried });
    for (let i = 0; i < 6; i++) assert.equal((await qp.charges.retrieve('ch_1')).id, 'ch_1');
  } finally {
    globalThis.setTimeout = original;
  }
  assert.ok(handlers.length >= 12, `${handlers.length} handlers`);
  // New calls whose awaits take the same slots; every old handler fired while they wait.
  const slow = () => new Promise((r) => original(() => r(ok('ch_new')), 20));
  const qp = new QbitPay({ ...OPTS, maxRetries: 0, timeoutMs: 5000, fetch: slow });
  const calls = Array.from({ length: 10 }, () => qp.charges.retrieve('ch_new'));
  await sleep(5);
  for (const f of handlers) f(new Error('stale'));
  const got = await Promise.all(calls.map((c) => c.then((v) => v.id, (e) => `${e.code}: ${e.cause}`)));
  assert.deepEqual(got, Array(10).fill('ch_new'));
});

test('errors keep their type: the caller\'s reason and a timeout\'s cause', async () => {
  const qp = new QbitPay({ ...OPTS, timeoutMs: 20, fetch: () => new Promise(() => {}) });
  const ac = new AbortController();
  const reason = new RangeError('mine');
  setTimeout(() => ac.abort(reason), 5);
  const e = await qp.charges.retrieve('ch_1', { signal: ac.signal, timeoutMs: 1000 }).catch((x) => x);
  assert.ok(e instanceof QbitPayError && e.code === 'aborted', String(e));
  assert.equal(e.cause, reason);
  const t = await qp.charges.retrieve('ch_1').catch((x) => x);
  assert.equal(t.code, 'timeout');
  assert.equal(t.cause?.name, 'AbortError', String(t.cause));
});
