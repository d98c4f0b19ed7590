// Errors, validation, retries, Retry-After, timeouts, abort, the browser guard, headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  QbitPay, QbitPayError, QbitPayInvalidRequestError, QbitPayAuthenticationError, QbitPayRateLimitError,
  QbitPayAPIError, QbitPayConnectionError,
} from 'qbitpay';
import { startSandbox, countingFetch, startStubServer } from '../support/sandbox.mjs';

const cjs = createRequire(import.meta.url)('qbitpay');
let sb;
const charge = (i, extra = {}) => ({
  amount: 5, currency: 'USDT', externalOrderId: `e-${i}`,
  cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'http://127.0.0.1:9/back', ...extra,
});
/** The key must appear nowhere in what an error shows. */
function noSecret(e, secret) {
  for (const s of [e.message, e.stack, JSON.stringify(e), String(e)]) assert.ok(!s.includes(secret), s);
}

before(async () => { sb = await startSandbox(); });
after(() => sb.stop());

test('every HTTP error class with its fields; instanceof across ESM and CJS', async () => {
  const qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, maxRetries: 0 });
  // 404 → invalid request, with the server's requestId and param.
  const notFound = await qp.charges.retrieve('ch_missing').catch((e) => e);
  assert.ok(notFound instanceof QbitPayInvalidRequestError && notFound instanceof QbitPayError && notFound instanceof Error);
  assert.ok(notFound instanceof cjs.QbitPayInvalidRequestError && notFound instanceof cjs.QbitPayError);
  assert.equal(cjs.QbitPay, QbitPay);
  assert.equal(notFound.name, 'QbitPayInvalidRequestError');
  assert.equal(notFound.statusCode, 404);
  assert.equal(notFound.type, 'invalid_request_error');
  assert.match(notFound.requestId, /\S/);
  assert.equal(typeof notFound.raw, 'object');
  assert.equal(notFound.raw.message, notFound.message);
  noSecret(notFound, sb.apiKey);

  // 400 from the server (what only the server knows): a cursor that names no charge.
  const bad = await qp.charges.list({ startingAfter: 'ch_nowhere' }).catch((e) => e);
  assert.ok(bad instanceof QbitPayInvalidRequestError, String(bad));
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.param, 'starting_after');
  assert.match(bad.requestId, /\S/);

  // 401 with a wrong key; the wrong key is not echoed anywhere.
  const wrong = 'sk_test_definitely_wrong_key';
  const unauth = await new QbitPay({ apiKey: wrong, baseUrl: sb.url }).charges.list().catch((e) => e);
  assert.ok(unauth instanceof QbitPayAuthenticationError);
  assert.equal(unauth.statusCode, 401);
  assert.equal(unauth.type, 'authentication_error');
  noSecret(unauth, wrong);
});

test('429 → QbitPayRateLimitError with retryAfter; retried after Retry-After when allowed', async (t) => {
  const rl = await startSandbox({ args: ['--rate-limit', '2'] });
  t.after(() => rl.stop());
  const noRetry = new QbitPay({ apiKey: rl.apiKey, baseUrl: rl.url, maxRetries: 0 });
  let limited;
  for (let i = 0; i < 10 && !limited; i++) limited = await noRetry.charges.list({ limit: 1 }).then(() => null, (e) => e);
  assert.ok(limited instanceof QbitPayRateLimitError, String(limited));
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.type, 'rate_limit_error');
  assert.equal(typeof limited.retryAfter, 'number');
  assert.ok(limited.retryAfter > 0);
  assert.equal(JSON.parse(JSON.stringify(limited)).retryAfter, limited.retryAfter);

  // With retries, the same burst all succeeds, waiting as told.
  const fetch = countingFetch();
  const retrying = new QbitPay({ apiKey: rl.apiKey, baseUrl: rl.url, maxRetries: 5, fetch });
  await new Promise((r) => setTimeout(r, 1100));
  const t0 = Date.now();
  for (let i = 0; i < 6; i++) await retrying.charges.list({ limit: 1 });
  assert.ok(fetch.calls.length > 6, 'some requests were retried');
  assert.ok(Date.now() - t0 >= 400, 'the retries waited');
});

test('Retry-After is honoured instead of the backoff (its 60 s cap: host tests)', async (t) => {
  let n = 0;
  const stub = await startStubServer((req, res) => {
    n++;
    if (n === 1) { res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'application/json' }); res.end('{"type":"api_error","message":"busy"}'); return; }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"id":"ch_1","object":"charge"}');
  });
  t.after(() => stub.stop());
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: stub.url });
  const t0 = Date.now();
  assert.equal((await qp.charges.retrieve('ch_1')).id, 'ch_1');
  const waited = Date.now() - t0;
  assert.ok(waited >= 950 && waited < 3000, `waited ${waited} ms`);
  assert.equal(n, 2);
});

test('5xx and dropped connections are retried under --fault-rate without duplicate charges', async (t) => {
  const flaky = await startSandbox({ args: ['--fault-rate', '0.4'] });
  t.after(() => flaky.stop());
  const fetch = countingFetch();
  const qp = new QbitPay({ apiKey: flaky.apiKey, baseUrl: flaky.url, maxRetries: 10, fetch });
  const N = 25;
  const made = [];
  for (let i = 0; i < N; i++) made.push(await qp.charges.create(charge(i, { externalOrderId: `flaky-${i}` })));
  assert.ok(fetch.calls.length > N, `faults happened (${fetch.calls.length} requests for ${N} creates)`);
  // Retries of one call reuse its Idempotency-Key; different calls have different keys.
  const keys = new Map();
  for (const c of fetch.calls.filter((c) => c.method === 'POST')) {
    const body = JSON.parse(c.body);
    const k = c.headers['Idempotency-Key'];
    assert.match(k, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    if (keys.has(body.externalOrderId)) assert.equal(keys.get(body.externalOrderId), k);
    keys.set(body.externalOrderId, k);
  }
  assert.equal(new Set(keys.values()).size, N);
  // Exactly one charge per call on the server.
  const all = await qp.charges.list({ limit: 100 }).toArray({ max: 1000 });
  assert.equal(all.length, N);
  assert.deepEqual(new Set(all.map((c) => c.externalOrderId)), new Set(made.map((c) => c.externalOrderId)));

  // With no retries, a fault surfaces as an APIError (503) or a ConnectionError (dropped).
  const once = new QbitPay({ apiKey: flaky.apiKey, baseUrl: flaky.url, maxRetries: 0 });
  const seen = new Set();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    const e = await once.charges.list({ limit: 1 }).then(() => null, (err) => err);
    if (e instanceof QbitPayAPIError) { assert.equal(e.statusCode, 503); assert.equal(e.type, 'api_error'); seen.add('api'); }
    else if (e instanceof QbitPayConnectionError) { assert.equal(e.code, 'network'); seen.add('conn'); }
    else assert.equal(e, null);
  }
  assert.deepEqual([...seen].sort(), ['api', 'conn']);
});

test("a user's Idempotency-Key wins and is sent on POST and PUT only", async () => {
  const fetch = countingFetch();
  const qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch });
  const a = await qp.charges.create(charge(100), { idempotencyKey: 'my-key-1' });
  const b = await qp.charges.create(charge(100), { idempotencyKey: 'my-key-1' });
  assert.equal(a.id, b.id, 'the server replayed the first answer');
  assert.equal(fetch.calls[0].headers['Idempotency-Key'], 'my-key-1');
  await qp.charges.retrieve(a.id);
  assert.equal(fetch.calls.at(-1).headers['Idempotency-Key'], undefined);
  await qp.charges.update(a.id, { status: 'buyerPaid' });
  assert.match(fetch.calls.at(-1).headers['Idempotency-Key'], /^[0-9a-f-]{36}$/);
});

test('validation happens before anything is sent', async () => {
  const fetch = countingFetch();
  const qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch });
  const cases = [
    [() => qp.charges.create({ ...charge(0), amount: 0 }), 'amount'],
    [() => qp.charges.create({ ...charge(0), amount: -3 }), 'amount'],
    [() => qp.charges.create({ ...charge(0), amount: NaN }), 'amount'],
    [() => qp.charges.create({ ...charge(0), amount: Infinity }), 'amount'],
    [() => qp.charges.create({ ...charge(0), amount: '10' }), 'amount'],
    [() => qp.charges.create({ ...charge(0), amount: undefined }), 'amount'],
    [() => qp.charges.create({ ...charge(0), currency: 'EUR' }), 'currency'],
    [() => qp.charges.create({ ...charge(0), externalOrderId: '' }), 'externalOrderId'],
    [() => qp.charges.create({ ...charge(0), cbUrl: 'not a url' }), 'cbUrl'],
    [() => qp.charges.create({ ...charge(0), cbUrl: '/relative' }), 'cbUrl'],
    [() => qp.charges.create({ ...charge(0), redirectUrl: 'ftp://x.example/' }), 'redirectUrl'],
    [() => qp.charges.create({ ...charge(0), quoteCurrency: 'PHP', paymentType: 'Alipay' }), 'paymentType'],
    [() => qp.charges.create({ ...charge(0), colour: 'red' }), 'colour'],
    [() => qp.charges.create('amount=5'), 'params'],
    [() => qp.charges.create(), 'amount'],
    [() => qp.charges.create(charge(0), { idempotencyKey: '' }), 'idempotencyKey'],
    [() => qp.charges.create(charge(0), { maxRetries: -1 }), 'maxRetries'],
    [() => qp.charges.create(charge(0), { timeoutMs: 0 }), 'timeoutMs'],
    [() => qp.charges.retrieve(''), 'id'],
    [() => qp.charges.retrieve(42), 'id'],
    [() => qp.charges.update('ch_1', { status: 'closed' }), 'status'],
    [() => qp.charges.list({ limit: 0 }), 'limit'],
    [() => qp.charges.list({ limit: 101 }), 'limit'],
    [() => qp.charges.list({ startingAfter: 'a', endingBefore: 'b' }), 'endingBefore'],
    [() => qp.charges.list({ startingAfter: 'a', starting_after: 'b' }), 'starting_after'],
    [() => qp.charges.list({ externalOrderId: 5 }), 'externalOrderId'],
  ];
  for (const [call, param] of cases) {
    await assert.rejects(call(), (e) => {
      assert.ok(e instanceof QbitPayInvalidRequestError, `${param}: ${e}`);
      assert.equal(e.param, param);
      assert.equal(e.statusCode, undefined);
      return true;
    });
  }
  // Iterating an invalid list rejects too.
  await assert.rejects(async () => { for await (const x of qp.charges.list({ limit: -1 })) void x; }, QbitPayInvalidRequestError);
  assert.equal(fetch.calls.length, 0);
});

test('repeated reads (reused request) send what the first did, validate each id, keep options', async (t) => {
  const fetch = countingFetch();
  const qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch });
  const a = await qp.charges.create(charge(200));
  // A fetch wrapper adding a header must not leak it into later calls.
  let extra = 1;
  const wrapped = (url, init) => { if (extra) init.headers['X-Extra'] = String(extra--); return fetch(url, init); };
  const qw = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch: wrapped });
  for (let i = 0; i < 3; i++) {
    assert.equal((await qp.charges.retrieve(a.id)).id, a.id);
    assert.equal((await qw.charges.retrieve(a.id)).id, a.id);
    assert.equal((await qp.accounts.retrieve()).feeRates.payout, 0.005);
  }
  const reads = fetch.calls.slice(1).filter((c) => c.url.endsWith(`/charges/${a.id}`));
  assert.equal(reads.length, 6);
  assert.equal(reads.filter((c) => c.headers['X-Extra']).length, 1);
  for (const c of reads) {
    assert.equal(c.method, 'GET');
    assert.deepEqual(Object.keys(c.headers).filter((h) => h !== 'X-Extra').sort(), ['Accept', 'Authorization', 'X-QbitPay-Client-User-Agent']);
  }
  const accounts = fetch.calls.filter((c) => c.url === `${sb.url}/api/v1/accounts/show`);
  assert.equal(accounts.length, 3);
  assert.deepEqual(accounts[2].headers, accounts[0].headers);
  const n = fetch.calls.length;
  for (const [id, param] of [['', 'id'], [42, 'id'], [null, 'id'], ['..', 'id'], ['.', 'id']]) {
    await assert.rejects(qp.charges.retrieve(id), (e) => e instanceof QbitPayInvalidRequestError && e.param === param);
  }
  await assert.rejects(qp.charges.retrieve(a.id, { timeoutMs: 0 }), (e) => e.param === 'timeoutMs');
  await assert.rejects(qp.accounts.retrieve({ colour: 1 }), (e) => e.param === 'colour');
  assert.equal(fetch.calls.length, n, 'nothing sent');
  // Ids are encoded; a missing one is a 404 from the server, not another URL.
  await assert.rejects(qp.charges.retrieve("a/b?c=d é!*'()-_.~"), (e) => e.statusCode === 404);
  assert.ok(fetch.calls.at(-1).url.endsWith('/api/v1/charges/a%2Fb%3Fc%3Dd%20%C3%A9%21%2A%27%28%29-_.~'), fetch.calls.at(-1).url);
  // A reused request gets an id into its URL exactly as a first call (prepare) does.
  const answer = countingFetch(async () => new Response('{}', { status: 200 }));
  const warm = new QbitPay({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9', fetch: answer });
  await warm.charges.retrieve('ch_1');
  for (let c = 0; c < 128; c++) {
    const id = `a${String.fromCharCode(c)}z`;
    const first = countingFetch(async () => new Response('{}', { status: 200 }));
    await new QbitPay({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9', fetch: first }).charges.retrieve(id);
    await warm.charges.retrieve(id);
    assert.equal(answer.calls.at(-1).url, first.calls[0].url, `char ${c}`);
  }
  // Per-call options still apply after the request was reused.
  const hang = await startStubServer(() => {});
  t.after(() => hang.stop());
  const qh = new QbitPay({ apiKey: 'sk_test_x', baseUrl: hang.url, timeoutMs: 100, maxRetries: 0 });
  for (let i = 0; i < 2; i++) assert.equal((await qh.charges.retrieve('ch_1').catch((x) => x)).code, 'timeout');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  assert.equal((await qh.charges.retrieve('ch_1', { signal: ac.signal, timeoutMs: 5000 }).catch((x) => x)).code, 'aborted');
});

test('client options are validated; an API key in a browser needs dangerouslyAllowBrowser', () => {
  for (const [opts, param] of [
    [{}, 'apiKey'], [undefined, 'apiKey'], [{ apiKey: 'k', accessToken: 't' }, 'accessToken'],
    [{ apiKey: 'k', baseUrl: 'localhost:3000' }, 'baseUrl'], [{ apiKey: 'k', timeoutMs: -1 }, 'timeoutMs'],
    [{ apiKey: 'k', maxRetries: 1.5 }, 'maxRetries'], [{ apiKey: 'k', fetch: 'nope' }, 'fetch'], [{ apikey: 'k' }, 'apikey'],
  ]) {
    assert.throws(() => new QbitPay(opts), (e) => e instanceof QbitPayInvalidRequestError && e.param === param, param);
  }
  globalThis.document = {};
  try {
    const secret = 'sk_live_do_not_leak';
    assert.throws(() => new QbitPay({ apiKey: secret }), (e) => {
      assert.ok(e instanceof QbitPayInvalidRequestError);
      assert.match(e.message, /accessToken/);
      assert.match(e.message, /dangerouslyAllowBrowser/);
      noSecret(e, secret);
      return true;
    });
    assert.ok(new QbitPay({ apiKey: secret, dangerouslyAllowBrowser: true }));
    assert.ok(new QbitPay({ accessToken: 'tok' }));
  } finally {
    delete globalThis.document;
  }
  // The credential is not a visible property of the client.
  const qp = new QbitPay({ apiKey: 'sk_test_hidden' });
  assert.ok(!JSON.stringify(qp).includes('sk_test_hidden'));
  for (const k of Object.getOwnPropertyNames(qp)) assert.ok(!String(qp[k]).includes('sk_test_hidden'), k);
  // The families are the class's properties (getters of the Rust class), one object each.
  for (const k of ['accessToken', 'accounts', 'balanceTransactions', 'balances', 'charges', 'events', 'markets', 'payouts']) {
    assert.ok(k in qp && qp[k] === qp[k], k);
  }
});

test('timeoutMs bounds each attempt; timeouts are retried', async (t) => {
  let hits = 0;
  const stub = await startStubServer(() => { hits++; }); // never answers
  t.after(() => stub.stop());
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: stub.url, timeoutMs: 150, maxRetries: 0 });
  const t0 = Date.now();
  const e = await qp.charges.retrieve('ch_1').catch((x) => x);
  assert.ok(e instanceof QbitPayConnectionError, String(e));
  assert.equal(e.code, 'timeout');
  assert.match(e.message, /150 ms/);
  assert.ok(Date.now() - t0 < 1000);
  hits = 0;
  const e2 = await qp.charges.retrieve('ch_1', { maxRetries: 1, timeoutMs: 100 }).catch((x) => x);
  assert.equal(e2.code, 'timeout');
  assert.equal(hits, 2);
});

test('AbortSignal cancels an in-flight request and a pending backoff at once', async (t) => {
  const hang = await startStubServer(() => {});
  const busy = await startStubServer((req, res) => {
    res.writeHead(503, { 'Retry-After': '30', 'Content-Type': 'application/json' });
    res.end('{"type":"api_error","message":"busy"}');
  });
  t.after(() => Promise.all([hang.stop(), busy.stop()]));

  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: hang.url });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  let t0 = Date.now();
  const e = await qp.charges.retrieve('ch_1', { signal: ac.signal }).catch((x) => x);
  assert.ok(e instanceof QbitPayConnectionError, String(e));
  assert.equal(e.code, 'aborted');
  assert.ok(Date.now() - t0 < 1000);

  const qp2 = new QbitPay({ apiKey: 'sk_test_x', baseUrl: busy.url });
  const ac2 = new AbortController();
  setTimeout(() => ac2.abort(), 200);
  t0 = Date.now();
  const e2 = await qp2.charges.create(charge(1), { signal: ac2.signal }).catch((x) => x);
  assert.equal(e2.code, 'aborted');
  assert.ok(Date.now() - t0 < 1000, 'did not wait out Retry-After: 30');

  // Already aborted: nothing is sent.
  const fetch = countingFetch();
  const qp3 = new QbitPay({ apiKey: 'sk_test_x', baseUrl: hang.url, fetch });
  await assert.rejects(qp3.charges.list({}, { signal: AbortSignal.abort() }), QbitPayConnectionError);
  assert.equal(fetch.calls.length, 0);
});

test('a refused connection is a QbitPayConnectionError after the retries', async () => {
  const stub = await startStubServer();
  const url = stub.url;
  await stub.stop(); // the port is now closed
  const fetch = countingFetch();
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: url, maxRetries: 1, fetch });
  const e = await qp.charges.retrieve('ch_1').catch((x) => x);
  assert.ok(e instanceof QbitPayConnectionError);
  assert.equal(e.code, 'network');
  assert.ok(e.cause);
  assert.equal(fetch.calls.length, 2);
});

test('headers: Basic key, Bearer token, client user agent; fetch looked up at call time', async () => {
  const fetch = countingFetch();
  await new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch }).charges.list();
  const h = fetch.calls[0].headers;
  assert.equal(h.Authorization, `Basic ${Buffer.from(`${sb.apiKey}:`).toString('base64')}`);
  const ua = JSON.parse(h['X-QbitPay-Client-User-Agent']);
  assert.equal(ua.lang, 'js');
  assert.equal(ua.runtime, 'node');
  assert.equal(ua.runtime_version, process.versions.node);
  assert.match(ua.bindings_version, /^\d+\.\d+\.\d+/);

  const original = globalThis.fetch;
  const qp = new QbitPay({ accessToken: 'tok_abc', baseUrl: sb.url });
  const seen = [];
  globalThis.fetch = (input, init) => { seen.push(new Request(input, init).headers.get('Authorization')); return original(input, init); };
  try {
    await qp.charges.list().catch(() => {});
  } finally {
    globalThis.fetch = original;
  }
  assert.deepEqual(seen, ['Bearer tok_abc']);
});

test('a 2xx answer that is not JSON is an API error; a non-JSON error body keeps its text', async (t) => {
  const stub = await startStubServer((req, res) => {
    if (req.url.includes('ok')) { res.writeHead(200); res.end('<html>hi</html>'); return; }
    res.writeHead(502, { 'Request-Id': 'req_stub' }); res.end('Bad Gateway');
  });
  t.after(() => stub.stop());
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: stub.url, maxRetries: 0 });
  const e = await qp.charges.retrieve('ok').catch((x) => x);
  assert.ok(e instanceof QbitPayAPIError);
  assert.equal(e.statusCode, 200);
  const e2 = await qp.charges.retrieve('bad').catch((x) => x);
  assert.ok(e2 instanceof QbitPayAPIError);
  assert.deepEqual([e2.statusCode, e2.requestId, e2.raw], [502, 'req_stub', 'Bad Gateway']);
});
