// createWebhookHandler from the packed tarball: the README's recipes (fixtures/webhooks) run as
// written, against real sockets, one redis-server and one PostgreSQL of Debian's packages
// (tests/webhook/servers.mjs) and workerd with D1 (miniflare):
//   http.js      Node http, memoryStore            the full set of deliveries an endpoint sees
//   express.js   Express 5, node-redis  } two processes on one redis-server: each event's
//   fastify.js   Fastify 5, ioredis     } effect once across both
//   worker.js    Hono on workerd, d1Store (wrangler's bundle, run by miniflare)
//   postgres.js  a store of your own, on PostgreSQL
// and http.js again with the sandbox as the sender: its retry after a failure, a resend;
// and, in this process, the tarball's handle() face: leases, the window, stores that fail,
// memoryStore's bound, the test helpers. Each effect is a line in ORDERS_LOG (fixtures/webhooks/orders.js).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { Miniflare } from 'miniflare';
import { startSandbox } from '../support/sandbox.mjs';
import { startPostgres, startRedis } from '../webhook/servers.mjs';
import { BIN, fixtureApp, packTarball, repoTempDir, runOk, startServer } from './lib.mjs';

const API_KEY = 'sk_test_webhooks_0f3a9c2e7d41';
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;
let tmp;
let app;
let env;
let redis;
let ordersLog;
let qbitpay; // the tarball's qbitpay/webhook, required
let testing; // the tarball's qbitpay/webhook/testing, required
let appRequire;

before(async () => {
  tmp = repoTempDir('webhooks-');
  env = { ...process.env, npm_config_update_notifier: 'false', npm_config_cache: path.join(tmp.dir, 'npm-cache'), NO_COLOR: '1',
    WRANGLER_HIDE_BANNER: 'true', WRANGLER_SEND_METRICS: 'false', XDG_CONFIG_HOME: path.join(tmp.dir, 'xdg') };
  const [tarball, r] = await Promise.all([packTarball(tmp.dir, env), startRedis()]);
  redis = r;
  app = await fixtureApp('webhooks', path.join(tmp.dir, 'app'), tarball, env);
  ordersLog = path.join(tmp.dir, 'orders.log');
  fs.writeFileSync(ordersLog, '');
  appRequire = createRequire(path.join(app, 'package.json'));
  qbitpay = appRequire('qbitpay/webhook');
  testing = appRequire('qbitpay/webhook/testing');
});

after(async () => {
  if (redis) await redis.stop();
  if (tmp && !process.env.QBITPAY_KEEP_TMP) tmp.remove();
});

const serverEnv = (extra = {}) => ({ ...env, PORT: '0', QBITPAY_API_KEY: API_KEY, ORDERS_LOG: ordersLog, REDIS_URL: redis.url, ...extra });
const start = (file) => startServer(process.execPath, [file], { cwd: app, env: serverEnv(), url: LISTENING });

/** POST a delivery ({ body, headers }); resolves [status, answer, text]. */
async function post(url, { body, headers }) {
  const r = await fetch(url, { method: 'POST', body, headers });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return [r.status, json, text];
}

/** The effects the app ran for `order` (lines of ORDERS_LOG). */
const effects = (order) => fs.readFileSync(ordersLog, 'utf8').split('\n').filter((l) => l.split(' ')[1] === order);
const paid = (order, extra = {}) => testing.webhookDelivery('charge.succeeded', { apiKey: API_KEY, ...extra, data: { externalOrderId: order, ...extra.data } });
const tally = (results) => results.reduce((t, [status, answer]) => ({ ...t, [`${status} ${answer?.outcome}`]: (t[`${status} ${answer?.outcome}`] ?? 0) + 1 }), {});

/** 50 identical deliveries at once to `urls` (round robin): the effect runs once, the rest are busy or duplicates. */
async function concurrentOnce(urls, order) {
  const d = paid(order);
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => post(urls[i % urls.length], d)));
  const t = tally(results);
  assert.equal(t['200 processed'], 1, `one delivery ran the effect: ${JSON.stringify(t)}`);
  assert.equal((t['200 processed'] ?? 0) + (t['409 busy'] ?? 0) + (t['200 duplicate'] ?? 0), 50, JSON.stringify(t));
  assert.equal(effects(order).length, 1, 'the effect ran once');
  assert.deepEqual(await post(urls[0], d).then((r) => r.slice(0, 2)), [200, { outcome: 'duplicate' }], 'a later retry');
  assert.equal(effects(order).length, 1);
}

/** A handler that fails, its retry, then a duplicate: the effect once, the 500 without the error's detail. */
async function failThenRetry(urls, order) {
  const d = paid(order);
  const [status, answer, text] = await post(urls[0], d);
  assert.deepEqual([status, answer], [500, { outcome: 'failed' }]);
  assert.doesNotMatch(text, /hunter2|unreachable|postgres:/, 'no detail of the error in the answer');
  assert.equal(effects(order).length, 0);
  assert.deepEqual((await post(urls[1 % urls.length], d)).slice(0, 2), [200, { outcome: 'processed' }], 'the retry runs it');
  assert.deepEqual((await post(urls[2 % urls.length], d)).slice(0, 2), [200, { outcome: 'duplicate' }], 'then it is done');
  assert.equal(effects(order).length, 1);
}

/** Deliveries that are not QbitPay's: refused, nothing run. */
async function forged(url, order) {
  const d = paid(order);
  const other = testing.webhookDelivery(d.event, { apiKey: 'sk_test_someone_else' });
  const cases = [
    [{ body: d.body.replace(`"${order}"`, `"${order}-x"`), headers: d.headers }, 'signature_mismatch', 'a tampered body'],
    [other, 'signature_mismatch', 'signed with another key'],
    [{ body: d.body, headers: { 'content-type': 'application/json' } }, 'missing_signature', 'no signature'],
    [{ body: d.body, headers: { ...d.headers, 'qbitpay-signature': 'not-hex' } }, 'malformed_signature', 'a malformed signature'],
    [{ body: '{"id":', headers: d.headers }, 'invalid_payload', 'not JSON'],
  ];
  for (const [delivery, code, what] of cases) {
    const [status, answer] = await post(url, delivery);
    // Fastify refuses a body that is not JSON itself (400, its own answer).
    if (code === 'invalid_payload' && answer?.outcome === undefined) assert.equal(status, 400, what);
    else assert.deepEqual([status, answer], [400, { outcome: 'rejected', code }], what);
  }
  assert.equal(effects(order).length + effects(`${order}-x`).length, 0, 'nothing ran');
}

test('Node http (memoryStore): duplicates, failures, replays, forgeries, stale events', async () => {
  const server = await start('http.js');
  try {
    const url = `${server.url}/webhooks/qbitpay`;
    await concurrentOnce([url], 'http-once');
    await failThenRetry([url], 'fail-once-http');
    await forged(url, 'http-forged');

    // Older than the window (3 days): refused, whether or not it was seen.
    const old = paid('http-old', { createdAt: Date.now() - 3 * 86_400_000 - 60_000 });
    assert.deepEqual((await post(url, old)).slice(0, 2), [400, { outcome: 'too_old' }]);
    assert.equal(effects('http-old').length, 0);

    // Out of order: a dispute closed, then its opening (created earlier) delivered late.
    const charge = testing.webhookEvent('charge.dispute.created').data;
    const at = Date.now() - 60_000;
    const opened = testing.webhookDelivery('charge.dispute.created', { apiKey: API_KEY, createdAt: at, data: { ...charge, externalOrderId: 'http-dispute' } });
    const closed = testing.webhookDelivery('charge.dispute.closed', { apiKey: API_KEY, createdAt: at + 1000, data: { ...charge, externalOrderId: 'http-dispute' } });
    assert.deepEqual((await post(url, closed)).slice(0, 2), [200, { outcome: 'processed' }]);
    assert.deepEqual((await post(url, opened)).slice(0, 2), [200, { outcome: 'processed' }], 'run, with ctx.stale');
    assert.deepEqual(effects('http-dispute').map((l) => l.split(' ')[0]), ['dispute-closed'], 'the stale opening changed nothing');
    const reopened = testing.webhookDelivery('charge.dispute.created', { apiKey: API_KEY, createdAt: at + 2000, data: { ...charge, externalOrderId: 'http-dispute' } });
    await post(url, reopened);
    assert.deepEqual(effects('http-dispute').map((l) => l.split(' ')[0]), ['dispute-closed', 'dispute-opened'], 'a newer one runs');

    // A type without a handler: acknowledged, not stored.
    assert.deepEqual((await post(url, testing.webhookDelivery('payout.paid', { apiKey: API_KEY }))).slice(0, 2), [200, { outcome: 'ignored' }]);

    // A body over maxBytes (1 MiB) is refused after reading one byte past it; the connection closes.
    const big = paid('http-big', { data: { padding: 'x'.repeat(2 << 20) } });
    assert.deepEqual(await rawPost(url, big), { status: 400, answer: { outcome: 'rejected', code: 'payload_too_large' }, closed: true });
    assert.equal(effects('http-big').length, 0);

    const out = server.output();
    assert.match(out, /the handler of charge\.succeeded evt_\w+ threw/, 'the handler\'s error is logged (console.error by default)');
    assert.doesNotMatch(out, new RegExp(API_KEY), 'never the API key');
  } finally {
    await server.stop();
  }
});

test('the sandbox as the sender: a failed delivery retried, a resend answered as a duplicate', async () => {
  const server = await start('http.js');
  let sb;
  try {
    sb = await startSandbox({ apiKeys: [API_KEY], args: ['--webhook-retry-interval', '0.5'] });
    const api = (p, init = {}) => fetch(`${sb.url}${p}`, { ...init, headers: { authorization: `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`,
      'content-type': 'application/json' } }).then(async (r) => { assert.ok(r.ok, `${p}: ${r.status}`); return r.json(); });
    const charge = await api('/api/v1/charges', { method: 'POST', body: JSON.stringify({ amount: 25, currency: 'USD',
      externalOrderId: 'fail-once-sandbox', cbUrl: `${server.url}/webhooks/qbitpay`, redirectUrl: 'https://shop.example/thanks' }) });
    await api(`/sandbox/charges/${charge.id}/confirm`, { method: 'POST' });
    for (const deadline = Date.now() + 20_000; effects('fail-once-sandbox').length === 0;) {
      assert.ok(Date.now() < deadline, 'the retry ran the handler');
      await new Promise((r) => setTimeout(r, 100));
    }
    const control = (p, init) => fetch(`${sb.url}/_sandbox${p}`, init).then((r) => r.json());
    const [account] = (await control('/accounts')).data;
    const event = (await control(`/accounts/${account.id}`)).events.find((e) => e.type === 'charge.succeeded');
    assert.deepEqual(event.attempts.map((a) => a.statusCode), [500, 200], 'failed, then retried');
    const resent = await control(`/accounts/${account.id}/events/${event.id}/resend`, { method: 'POST' });
    assert.equal(resent.attempt.statusCode, 200, 'a resend is acknowledged');
    assert.deepEqual(effects('fail-once-sandbox').map((l) => l.split(' ').slice(0, 3)), [['paid', 'fail-once-sandbox', event.id]], 'once');
  } finally {
    await Promise.all([sb?.stop(), server.stop()]);
  }
});

/** A POST over a raw socket: the status, the answer, and whether the server closed the connection. */
function rawPost(url, { body, headers }) {
  const { port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let data = '';
    socket.on('data', (d) => { data += d; });
    socket.on('error', () => { /* the server closed while we wrote: read what it answered */ });
    socket.on('close', () => {
      const [head, text] = data.split('\r\n\r\n');
      try {
        resolve({ status: Number(head.split(' ')[1]), answer: JSON.parse(text), closed: /connection: close/i.test(head) });
      } catch (e) { reject(new Error(`no answer: ${data.slice(0, 200)} (${e.message})`)); }
    });
    socket.write(`POST ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nQbitPay-Signature: ${headers['qbitpay-signature']}\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    socket.write(body);
  });
}

test('Express (node-redis) and Fastify (ioredis): two processes on one redis-server run each effect once', async () => {
  const [express, fastify] = await Promise.all([start('express.js'), start('fastify.js')]);
  try {
    const urls = [`${express.url}/webhooks/qbitpay`, `${express.url}/webhooks/qbitpay-json`, `${fastify.url}/webhooks/qbitpay`];
    await concurrentOnce(urls, 'redis-once');
    await failThenRetry(urls, 'fail-once-redis');
    for (const url of urls) await forged(url, 'redis-forged');
    for (const s of [express, fastify]) {
      assert.doesNotMatch(s.output(), new RegExp(API_KEY), 'never the API key');
    }
  } finally {
    await Promise.all([express.stop(), fastify.stop()]);
  }
});

test('the README\'s handler test (webhooks.test.js) passes under node --test', async () => {
  // (not as a subtest of this run: without the runner's NODE_TEST_CONTEXT)
  const { NODE_TEST_CONTEXT, ...own } = env;
  const r = await runOk(process.execPath, ['--test', '--test-reporter=tap', 'webhooks.test.js'], { cwd: app, env: own, timeoutMs: 60_000 });
  assert.match(r.stdout, /# pass 1\n/);
});

test('a bundle that imports only verifyWebhook leaves the handler and its stores out', async () => {
  const bundle = async (code, conditions) => (await esbuild.build({
    stdin: { contents: code, resolveDir: app, loader: 'js' }, bundle: true, write: false, minify: true, format: 'esm',
    platform: 'neutral', mainFields: ['module', 'main'], conditions, external: ['*.wasm', '*.wasm?module'], logLevel: 'error',
  })).outputFiles[0].text;
  for (const conditions of [['browser'], ['workerd'], ['edge-light']]) {
    const verifyOnly = await bundle("import { verifyWebhook } from 'qbitpay/webhook'; globalThis.v = verifyWebhook;", conditions);
    const withHandler = await bundle("import { createWebhookHandler, redisStore, d1Store } from 'qbitpay/webhook'; globalThis.h = [createWebhookHandler, redisStore, d1Store];", conditions);
    for (const mark of ['createWebhookHandler:', 'store.claim()', "redis.call('GET'", 'CREATE TABLE IF NOT EXISTS']) {
      assert.ok(withHandler.includes(mark), `${conditions}: the handler's bundle has ${mark}`);
      assert.ok(!verifyOnly.includes(mark), `${conditions}: the verifier's bundle leaves out ${mark}`);
    }
  }
});

// --- the handle() face, in this process ---

/** A clock the test moves. */
function clock(start = Date.now()) {
  let t = start;
  const now = () => t;
  now.advance = (ms) => { t += ms; };
  return now;
}

test('handle(): a replay is remembered, then too old; the window and the clock', async () => {
  const now = clock();
  let runs = 0;
  const h = qbitpay.createWebhookHandler({ apiKey: API_KEY, maxAgeSeconds: 3600, now, on: { 'charge.succeeded': () => { runs++; } } });
  const d = paid('window', { createdAt: now() });
  assert.equal((await h.handle(d.body, d.signature)).outcome, 'processed');
  now.advance(3599_000);
  assert.deepEqual(await h.handle(d.body, d.signature).then((r) => [r.status, r.outcome]), [200, 'duplicate']);
  now.advance(2000);
  assert.deepEqual(await h.handle(d.body, d.signature).then((r) => [r.status, r.outcome]), [400, 'too_old'], 'a replay after the window');
  assert.equal(runs, 1);
  // Bytes, a Buffer and the parsed event are the same delivery.
  const e = paid('forms');
  const h2 = qbitpay.createWebhookHandler({ apiKey: [API_KEY, 'sk_test_next'], on: { 'charge.succeeded': () => { runs++; } } });
  assert.equal((await h2.handle(new TextEncoder().encode(e.body), e.signature)).outcome, 'processed');
  assert.equal((await h2.handle(Buffer.from(e.body), e.signature)).outcome, 'duplicate');
  const r = await h2.handle(JSON.parse(e.body), [e.signature]);
  assert.deepEqual([r.outcome, r.event.id, r.event.data.externalOrderId], ['duplicate', e.event.id, 'forms']);
});

test('handle(): busy while a claim is held; a crashed claim is freed by its lease (memory, node-redis, ioredis)', async () => {
  const { createClient } = appRequire('redis');
  const Redis = appRequire('ioredis');
  const nodeRedis = await createClient({ url: redis.url }).connect();
  const ioredis = new Redis(redis.url);
  try {
    for (const [name, store] of [['memory', qbitpay.memoryStore()], ['node-redis', qbitpay.redisStore(nodeRedis, { prefix: 'lease-a:' })],
      ['ioredis', qbitpay.redisStore(ioredis, { prefix: 'lease-b:' })]]) {
      const ran = [];
      // A process that claims the event, then hangs for ever (as if it had crashed).
      const crashed = qbitpay.createWebhookHandler({ apiKey: API_KEY, store, leaseSeconds: 0.4, on: { 'charge.succeeded': () => new Promise(() => {}) } });
      const live = qbitpay.createWebhookHandler({ apiKey: API_KEY, store, leaseSeconds: 5, on: { 'charge.succeeded': (e) => { ran.push(e.id); } } });
      const d = paid(`lease-${name}`);
      crashed.handle(d.body, d.signature);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await live.handle(d.body, d.signature).then((r) => [r.status, r.outcome]), [409, 'busy'], `${name}: held`);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(await live.handle(d.body, d.signature).then((r) => [r.status, r.outcome]), [200, 'processed'], `${name}: lease over`);
      assert.deepEqual(await live.handle(d.body, d.signature).then((r) => [r.status, r.outcome]), [200, 'duplicate'], name);
      assert.deepEqual(ran, [d.event.id]);

      // Stale: an event of the object older than one processed; acknowledged without running.
      const skip = qbitpay.createWebhookHandler({ apiKey: API_KEY, store, staleEvents: 'acknowledge', on: { 'charge.succeeded': (e, ctx) => { ran.push([e.id, ctx.stale]); } } });
      const older = testing.webhookDelivery('charge.succeeded', { apiKey: API_KEY, createdAt: Date.parse(d.event.createdAt) - 1000, data: d.event.data });
      assert.deepEqual(await skip.handle(older.body, older.signature).then((r) => [r.status, r.outcome]), [200, 'stale'], name);
      assert.deepEqual(await skip.handle(older.body, older.signature).then((r) => r.outcome), 'duplicate', name);
      const newer = testing.webhookDelivery('charge.succeeded', { apiKey: API_KEY, createdAt: Date.parse(d.event.createdAt) + 1000, data: d.event.data });
      assert.equal((await skip.handle(newer.body, newer.signature)).outcome, 'processed', name);
      assert.deepEqual(ran.at(-1), [newer.event.id, false], name);
    }
  } finally {
    await nodeRedis.quit();
    ioredis.disconnect();
  }
});

test('handle(): a store that fails answers 503 and reports it; memoryStore at its bound', async () => {
  const errors = [];
  const onError = (error, info) => errors.push([info.stage, error.message]);
  const broken = { claim: () => Promise.reject(new Error('connection refused')), done() {}, release() {}, newest() {} };
  let runs = 0;
  const h = qbitpay.createWebhookHandler({ apiKey: API_KEY, store: broken, onError, on: { 'charge.succeeded': () => { runs++; } } });
  const d = paid('broken');
  assert.deepEqual(await h.handle(d.body, d.signature).then((r) => [r.status, r.outcome]), [503, 'unavailable']);
  assert.equal(runs, 0);
  assert.deepEqual(errors, [['claim', 'connection refused']]);
  const odd = qbitpay.createWebhookHandler({ apiKey: API_KEY, store: { ...broken, claim: () => true }, onError, on: { 'charge.succeeded': () => { runs++; } } });
  assert.equal((await odd.handle(d.body, d.signature)).status, 503, 'an answer that is not one of the three');
  assert.match(errors.at(-1)[1], /store\.claim\(\) answered true/);

  // At its bound memoryStore refuses new events (503, the sender retries later) and forgets none.
  const store = qbitpay.memoryStore({ max: 2 });
  const m = qbitpay.createWebhookHandler({ apiKey: API_KEY, store, onError, on: { 'charge.succeeded': () => { runs++; } } });
  const [a, b, c] = ['m-a', 'm-b', 'm-c'].map((o) => paid(o));
  for (const x of [a, b]) assert.equal((await m.handle(x.body, x.signature)).outcome, 'processed');
  assert.deepEqual(await m.handle(c.body, c.signature).then((r) => [r.status, r.outcome]), [503, 'unavailable']);
  assert.match(errors.at(-1)[1], /memoryStore: 2 events are remembered/);
  for (const x of [a, b]) assert.equal((await m.handle(x.body, x.signature)).outcome, 'duplicate', 'still remembered');
  assert.equal(runs, 2);
});

test('createWebhookHandler: bad options are TypeErrors naming the option', () => {
  const on = { 'charge.succeeded': () => {} };
  const bad = [
    [{ on }, /apiKey/],
    [{ apiKey: '', on }, /apiKey/],
    [{ apiKey: API_KEY }, /options\.on/],
    [{ apiKey: API_KEY, on: { 'charge.succeded': () => {} } }, /"charge\.succeded", which is no event type/],
    [{ apiKey: API_KEY, on: { 'charge.succeeded': 'ship it' } }, /options\.on\['charge\.succeeded'\] must be a function/],
    [{ apiKey: API_KEY, on, store: {} }, /options\.store .* no claim\(\)/],
    [{ apiKey: API_KEY, on, maxAgeSeconds: -1 }, /maxAgeSeconds/],
    [{ apiKey: API_KEY, on, leaseSeconds: 0 }, /leaseSeconds/],
    [{ apiKey: API_KEY, on, maxAgeSeconds: null }, /maxAgeSeconds/],
    [{ apiKey: API_KEY, on, maxAgeSeconds: '3600' }, /maxAgeSeconds/],
    [{ apiKey: API_KEY, on, leaseSeconds: '60' }, /leaseSeconds/],
    [{ apiKey: API_KEY, on, algorithm: 'sha1' }, /algorithm/],
    [{ apiKey: API_KEY, on, maxBytes: 0 }, /maxBytes/],
    [{ apiKey: API_KEY, on, staleEvents: 'skip' }, /staleEvents/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => qbitpay.createWebhookHandler(options), (e) => e instanceof TypeError && message.test(e.message)
      && !e.message.includes(API_KEY), JSON.stringify(Object.keys(options)));
  }
  assert.throws(() => qbitpay.memoryStore({ max: 0 }), TypeError);
  assert.throws(() => qbitpay.redisStore({}), /node-redis .* or ioredis/);
  assert.throws(() => qbitpay.d1Store({}), /D1/);
});

test('qbitpay/webhook/testing: a realistic event of each type and its signed delivery', async () => {
  const esm = await import(pathToFileURL(path.join(app, 'node_modules', 'qbitpay', 'esm', 'testing.mjs')).href);
  const types = ['charge.succeeded', 'charge.expired', 'charge.failed', 'charge.dispute.created', 'charge.dispute.closed',
    'payout.pending', 'payout.inTransition', 'payout.paid', 'payout.failed', 'payout.cancelled'];
  const status = { 'charge.succeeded': 'sellerConfirmed', 'charge.expired': 'cancelled', 'charge.failed': 'cancelled',
    'charge.dispute.created': 'dispute', 'charge.dispute.closed': 'closed', 'payout.pending': 'pending', 'payout.inTransition': 'inTransit',
    'payout.paid': 'paid', 'payout.failed': 'failed', 'payout.cancelled': 'cancelled' };
  const seen = [];
  const on = Object.fromEntries(types.map((t) => [t, (e) => { seen.push(e.type); }]));
  const h = qbitpay.createWebhookHandler({ apiKey: API_KEY, on });
  for (const [i, type] of types.entries()) {
    const make = i % 2 ? esm : testing;
    const d = make.webhookDelivery(type, { apiKey: API_KEY, data: { amount: 42 } });
    const object = type.split('.')[0];
    assert.match(d.event.id, /^evt_[A-Za-z0-9]{24}$/);
    assert.deepEqual([d.event.type, d.event.object, d.event.livemode, d.event.pendingWebhooks], [type, 'event', false, 0]);
    assert.ok(Math.abs(Date.parse(d.event.createdAt) - Date.now()) < 60_000, 'created now');
    assert.deepEqual([d.event.data.object, d.event.data.status, d.event.data.amount], [object, status[type], 42], type);
    assert.match(d.event.data.id, object === 'charge' ? /^ch_\w{24}$/ : /^po_\w{24}$/);
    assert.equal(d.body, JSON.stringify(d.event));
    assert.deepEqual(d.headers, { 'content-type': 'application/json', 'qbitpay-signature': d.signature });
    assert.deepEqual(qbitpay.verifyWebhook(d.body, d.signature, API_KEY), d.event);
    const res = await h.fetch(d.request());
    assert.deepEqual([res.status, await res.json()], [200, { outcome: 'processed' }], type);
  }
  assert.deepEqual(seen, types);
  const hmac = testing.webhookDelivery('payout.paid', { apiKey: API_KEY, algorithm: 'hmac-sha256', id: 'evt_fixed', createdAt: '2026-01-02T03:04:05.000Z' });
  assert.deepEqual([hmac.event.id, hmac.event.createdAt, hmac.signature.length], ['evt_fixed', '2026-01-02T03:04:05.000Z', 64]);
  assert.throws(() => testing.webhookEvent('charge.succeded'), /event type of the API/);
  assert.throws(() => testing.webhookDelivery('charge.succeeded', {}), /apiKey/);
});

test('a store of your own: PostgreSQL (the README\'s postgres.js)', async () => {
  const pg = await startPostgres();
  const { Pool } = appRequire('pg');
  const pool = new Pool({ connectionString: pg.url, max: 10 });
  // An idle client's error (the server going away); the server's shutdown at the end reaches
  // clients whose sockets pool.end() is still closing.
  const idleErrors = [];
  let ending = false;
  pool.on('error', (e) => { if (!ending) idleErrors.push(e); });
  try {
    const { postgresStore } = await import(pathToFileURL(path.join(app, 'postgres.js')).href);
    const store = await postgresStore(pool);
    let runs = 0;
    let failures = 0;
    const on = { 'charge.succeeded': async (e) => {
      await new Promise((r) => setTimeout(r, 30));
      if (e.data.externalOrderId === 'pg-fail' && failures++ === 0) throw new Error('down');
      runs++;
    } };
    const handlers = [0, 1].map(() => qbitpay.createWebhookHandler({ apiKey: API_KEY, store, on, onError: () => {} }));
    const d = paid('pg-once');
    const t = tally(await Promise.all(Array.from({ length: 50 }, (_, i) => handlers[i % 2].handle(d.body, d.signature)
      .then((r) => [r.status, { outcome: r.outcome }]))));
    assert.equal(t['200 processed'], 1, JSON.stringify(t));
    assert.equal(runs, 1);
    const f = paid('pg-fail');
    assert.deepEqual(await handlers[0].handle(f.body, f.signature).then((r) => [r.status, r.outcome]), [500, 'failed']);
    assert.deepEqual(await handlers[1].handle(f.body, f.signature).then((r) => [r.status, r.outcome]), [200, 'processed']);
    assert.deepEqual(await handlers[0].handle(f.body, f.signature).then((r) => [r.status, r.outcome]), [200, 'duplicate']);
    assert.equal(runs, 2);
    // Stale: the object's newest createdAt is kept.
    const seen = [];
    const h = qbitpay.createWebhookHandler({ apiKey: API_KEY, store, on: { 'charge.succeeded': (e, ctx) => { seen.push(ctx.stale); } } });
    const later = testing.webhookDelivery('charge.succeeded', { apiKey: API_KEY, data: d.event.data, createdAt: Date.parse(d.event.createdAt) - 5000 });
    await h.handle(later.body, later.signature);
    assert.deepEqual(seen, [true]);
  } finally {
    ending = true;
    await pool.end();
    await pg.stop();
    assert.deepEqual(idleErrors, []);
  }
});

test('Hono on workerd (wrangler bundle, miniflare) with d1Store: each effect once', async () => {
  const outdir = path.join(app, 'dist');
  await runOk(BIN('wrangler'), ['deploy', '--dry-run', '--outdir', outdir], { cwd: app, env, timeoutMs: 120_000 });
  const bundle = fs.readFileSync(path.join(outdir, 'worker.js'), 'utf8');
  assert.match(bundle, /^import \w+ from "\.\/\w+-qbitpay_webhook_bg\.wasm";$/m, 'the webhook module, compiled at deploy');
  const mf = new Miniflare({
    modules: true, scriptPath: path.join(outdir, 'worker.js'), modulesRoot: outdir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }], compatibilityDate: '2025-09-01', cf: false,
    bindings: { QBITPAY_API_KEY: API_KEY }, d1Databases: { DB: 'webhooks' }, d1Persist: false,
  });
  try {
    const db = await mf.getD1Database('DB');
    await db.exec('CREATE TABLE paid_orders (order_id TEXT NOT NULL, event_id TEXT NOT NULL)');
    const send = (d) => mf.dispatchFetch('http://worker.test/webhooks/qbitpay', { method: 'POST', body: d.body, headers: d.headers })
      .then(async (r) => [r.status, await r.json()]);
    const rows = async (order) => (await db.prepare('SELECT event_id FROM paid_orders WHERE order_id = ?1').bind(order).all()).results;
    const d = paid('worker-once');
    const t = tally(await Promise.all(Array.from({ length: 50 }, () => send(d))));
    assert.equal(t['200 processed'], 1, JSON.stringify(t));
    assert.equal((t['409 busy'] ?? 0) + (t['200 duplicate'] ?? 0), 49, JSON.stringify(t));
    assert.deepEqual(await rows('worker-once'), [{ event_id: d.event.id }]);
    assert.deepEqual(await send(d), [200, { outcome: 'duplicate' }]);
    assert.deepEqual(await send({ body: d.body.replace('worker-once', 'worker-twice'), headers: d.headers }),
      [400, { outcome: 'rejected', code: 'signature_mismatch' }]);
    assert.deepEqual(await send(paid('worker-old', { createdAt: Date.now() - 4 * 86_400_000 })), [400, { outcome: 'too_old' }]);
    assert.deepEqual(await rows('worker-twice'), []);
  } finally {
    await mf.dispose();
  }
});
