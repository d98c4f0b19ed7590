// lastResponse on objects and pages, request/response hooks, per-call credentials: through
// the built package against the sandbox (two merchants: two API keys).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QbitPay, QbitPayInvalidRequestError, QbitPayAuthenticationError } from 'qbitpay';
import { startSandbox, startStubServer } from '../support/sandbox.mjs';

let sb, qp;
const KEYS = [`sk_test_obs_a_${process.pid}`, `sk_test_obs_b_${process.pid}`];
const charge = (i) => ({
  amount: 10 + i, currency: 'USD', externalOrderId: `obs-${i}`,
  cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'https://shop.example/thanks',
});

before(async () => {
  sb = await startSandbox({ apiKeys: KEYS });
  qp = new QbitPay({ apiKey: KEYS[0], baseUrl: sb.url });
});
after(() => sb.stop());

test('lastResponse: statusCode, requestId and headers on every object and page, hidden from JSON and keys', async () => {
  const c = await qp.charges.create(charge(1));
  const lr = c.lastResponse;
  assert.equal(lr.statusCode, 200);
  assert.match(lr.requestId, /\S/);
  assert.equal(lr.headers.get('request-id'), lr.requestId);
  assert.ok(!Object.keys(c).includes('lastResponse'));
  assert.ok(!JSON.stringify(c).includes('lastResponse'));
  assert.deepEqual(JSON.parse(JSON.stringify(c)), { ...c });
  const again = await qp.charges.retrieve(c.id);
  assert.notEqual(again.lastResponse.requestId, lr.requestId);
  for (const o of [await qp.accounts.retrieve(), await qp.balances.retrieve(), await qp.accessToken.create()]) {
    assert.equal(o.lastResponse.statusCode, 200);
  }
  const page = await qp.charges.list({ limit: 1 });
  assert.equal(page.lastResponse.statusCode, 200);
  assert.match(page.lastResponse.requestId, /\S/);
  assert.ok(!JSON.stringify(page).includes('lastResponse'));
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(page))).sort(), ['data', 'hasMore', 'object']);
});

test('hooks: request and response events per attempt, without credentials or bodies; off() removes', async () => {
  const events = [];
  const onRequest = (e) => events.push(['request', e]);
  const onResponse = (e) => events.push(['response', e]);
  const client = new QbitPay({ apiKey: KEYS[0], baseUrl: sb.url });
  client.on('request', onRequest);
  client.on('response', onResponse);
  client.on('request', () => { throw new Error('a throwing hook does not break the call'); });
  const c = await client.charges.create(charge(2), { idempotencyKey: 'obs-key-2' });
  await client.charges.retrieve(c.id);
  assert.deepEqual(events.map(([k, e]) => [k, e.method, e.path, e.attempt]), [
    ['request', 'POST', '/api/v1/charges', 1], ['response', 'POST', '/api/v1/charges', 1],
    ['request', 'GET', `/api/v1/charges/${c.id}`, 1], ['response', 'GET', `/api/v1/charges/${c.id}`, 1],
  ]);
  const [, req] = events[0];
  const [, res] = events[1];
  assert.equal(req.idempotencyKey, 'obs-key-2');
  assert.equal(events[2][1].idempotencyKey, null);
  assert.equal(res.statusCode, 200);
  assert.equal(res.requestId, c.lastResponse.requestId);
  assert.ok(res.elapsedMs >= 0 && res.elapsedMs < 10_000);
  assert.deepEqual(Object.keys(req).sort(), ['attempt', 'idempotencyKey', 'method', 'path']);
  assert.deepEqual(Object.keys(res).sort(), ['attempt', 'elapsedMs', 'idempotencyKey', 'method', 'path', 'requestId', 'statusCode']);
  for (const [, e] of events) {
    const s = JSON.stringify(e);
    assert.ok(!s.includes(KEYS[0]) && !s.includes('Basic') && !s.includes('obs-2'), s);
  }
  client.off('request', onRequest);
  client.off('response', onResponse);
  await client.charges.retrieve(c.id);
  assert.equal(events.length, 4);
  assert.throws(() => client.on('reply', () => {}), (e) => e instanceof QbitPayInvalidRequestError && e.param === 'name');
});

test('hooks see every attempt of a retried call, with the same idempotency key', async (t) => {
  let hits = 0;
  const stub = await startStubServer((req, res) => {
    hits++;
    if (hits < 3) { res.writeHead(503, { 'Retry-After': '0' }); res.end('{}'); return; }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Request-Id': 'req_ok' });
    res.end('{"id":"ch_1","object":"charge"}');
  });
  t.after(() => stub.stop());
  const client = new QbitPay({ apiKey: 'sk_test_stub', baseUrl: stub.url, maxRetries: 3 });
  const seen = [];
  client.on('response', (e) => seen.push([e.attempt, e.statusCode, e.idempotencyKey]));
  const c = await client.charges.create(charge(3));
  assert.equal(c.lastResponse.requestId, 'req_ok');
  assert.deepEqual(seen.map(([a, s]) => [a, s]), [[1, 503], [2, 503], [3, 200]]);
  assert.equal(new Set(seen.map(([, , k]) => k)).size, 1);
  assert.match(seen[0][2], /^[0-9a-f-]{36}$/);
});

test('per-call apiKey or accessToken: a platform acting for several merchants', async () => {
  const a = await qp.charges.create(charge(4));
  // The same client, the other merchant's key for one call: that merchant's account.
  const b = await qp.charges.create(charge(5), { apiKey: KEYS[1] });
  await assert.rejects(qp.charges.retrieve(b.id), (e) => e.statusCode === 404);
  assert.equal((await qp.charges.retrieve(b.id, { apiKey: KEYS[1] })).id, b.id);
  assert.equal((await qp.charges.retrieve(a.id)).id, a.id);
  // A token per call: its scope applies (and the 403 says so); the key is not used.
  const { accessToken } = await qp.accessToken.create({ apiKey: KEYS[1] });
  assert.equal((await qp.charges.retrieve(b.id, { accessToken })).id, b.id);
  await assert.rejects(qp.balances.retrieve({ accessToken }), (e) => {
    assert.ok(e instanceof QbitPayAuthenticationError);
    assert.equal(e.statusCode, 403);
    assert.match(e.message, /access token/);
    return true;
  });
  // A token client may act with a key per call only where keys are allowed (not in a browser).
  const tokenClient = new QbitPay({ accessToken, baseUrl: sb.url });
  assert.equal((await tokenClient.balances.retrieve({ apiKey: KEYS[1] })).object, 'balance');
  await assert.rejects(qp.charges.retrieve(a.id, { apiKey: KEYS[0], accessToken }), (e) => e.param === 'accessToken');
  await assert.rejects(qp.charges.retrieve(a.id, { apiKey: '' }), (e) => e.param === 'apiKey');
  globalThis.document = {};
  try {
    const browser = new QbitPay({ accessToken, baseUrl: sb.url });
    await assert.rejects(browser.charges.retrieve(b.id, { apiKey: KEYS[1] }), (e) => {
      assert.ok(e instanceof QbitPayInvalidRequestError);
      assert.equal(e.param, 'apiKey');
      assert.ok(!e.message.includes(KEYS[1]));
      return true;
    });
  } finally {
    delete globalThis.document;
  }
  // A per-call key is cut out of errors like the client's own.
  const e = await qp.charges.retrieve('missing', { apiKey: KEYS[1] }).catch((x) => x);
  assert.ok(!JSON.stringify(e).includes(KEYS[1]) && !JSON.stringify(e.raw).includes(KEYS[1]));
});

test('a fetch option answering with a Response of another library (duck-typed) works', async () => {
  const body = '{"id":"ch_duck","object":"charge"}';
  const headers = { get: (n) => (n.toLowerCase() === 'request-id' ? 'req_duck' : null) };
  const fetch = async () => ({ status: 200, headers, text: async () => body });
  const c = await new QbitPay({ apiKey: 'sk_test_duck', baseUrl: 'http://127.0.0.1:9', fetch }).charges.retrieve('ch_duck');
  assert.equal(c.id, 'ch_duck');
  assert.equal(c.lastResponse.requestId, 'req_duck');
});
