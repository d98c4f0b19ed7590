// The API families through the built package against the sandbox: accounts, balances,
// balanceTransactions, payouts, markets, events — every call, its server-side errors, the
// client-side validation (nothing sent), access-token scope, idempotent payout retries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  QbitPay, QbitPayInvalidRequestError, QbitPayAuthenticationError, QbitPayAPIError, verifyWebhook,
} from 'qbitpay';
import { startSandbox, countingFetch, startStubServer } from '../support/sandbox.mjs';

let sb, qp;
const WALLET = { type: 'wallet', payerName: 'Ann', addr: 'TWalletAddr1' };
const DESTINATIONS = [
  { type: 'bankAccount', payerName: 'Bo', bankAccountNum: '6222000011112222', bankName: 'Sandbox Bank', swift: 'SANDUS00', city: 'Metro' },
  WALLET,
  { type: 'Alipay', payerName: 'Cy', bankAccountNum: 'cy@example.com' },
  { type: 'PayPal', payerName: 'Di', bankAccountNum: 'di@example.com' },
  { type: 'Coins.ph', payerName: 'Ed', bankAccountNum: '09170000001' },
  { type: 'GCash', payerName: 'Fa', bankAccountNum: '09170000002' },
];
const chargeParams = (i, amount) => ({
  amount, currency: 'USD', externalOrderId: `fund-${i}`,
  cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'https://shop.example/thanks',
});

/** A sandbox-only helper endpoint (`/sandbox/...`), with the API key. */
async function sandboxPost(s, path) {
  const res = await fetch(s.url + path, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${s.apiKey}:`).toString('base64')}` } });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

/** Funds an account: a charge confirmed by the sandbox (credit amount - 1 % fee). */
async function fund(client, s, i, amount) {
  const c = await client.charges.create(chargeParams(i, amount));
  await sandboxPost(s, `/sandbox/charges/${c.id}/confirm`);
  return c;
}

before(async () => {
  sb = await startSandbox({ args: ['--payout-transit-after', '3600'] });
  qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, maxRetries: 0 });
});
after(() => sb.stop());

test('accounts.retrieve: fee rates and limits', async () => {
  const fetch = countingFetch();
  const a = await new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch }).accounts.retrieve();
  assert.equal(fetch.calls.length, 1);
  assert.equal(fetch.calls[0].method, 'GET');
  assert.equal(fetch.calls[0].url, `${sb.url}/api/v1/accounts/show`);
  assert.deepEqual(Object.keys(a.feeRates).sort(), ['pay', 'payout', 'trade', 'withdrawToken']);
  for (const v of Object.values(a.feeRates)) assert.equal(typeof v, 'number');
  assert.equal(a.feeRates.payout, 0.005);
  assert.equal(a.limit.payout.min, 1);
  assert.ok(a.limit.pay.min < a.limit.pay.max);
  assert.equal(typeof a.limit.withdrawToken.currency, 'string');
});

test('balances, balanceTransactions: a confirmed charge credits amount - fee; retrieve, list, filters, paging', async (t) => {
  const own = await startSandbox();
  t.after(() => own.stop());
  const c = new QbitPay({ apiKey: own.apiKey, baseUrl: own.url });
  const empty = await c.balances.retrieve();
  assert.deepEqual({ ...empty, id: undefined }, { id: undefined, object: 'balance', currency: 'USDT', available: 0, pending: 0 });
  assert.match(empty.id, /^bal_/);
  assert.deepEqual((await c.balanceTransactions.list()).data, []);

  const charges = [];
  for (let i = 0; i < 5; i++) charges.push(await fund(c, own, i, 10 * (i + 1)));
  const bal = await c.balances.retrieve();
  assert.equal(bal.available, (10 + 20 + 30 + 40 + 50) * 0.99);
  assert.equal(bal.pending, 0);

  // Newest first; one `charge` transaction per confirmed charge, net = amount - fee.
  const page = await c.balanceTransactions.list({ limit: 2 });
  assert.equal(page.data.length, 2);
  assert.equal(page.hasMore, true);
  assert.deepEqual(page.data.map((x) => x.source), [charges[4].id, charges[3].id]);
  const all = await c.balanceTransactions.list({ limit: 2 }).toArray({ max: 100 });
  assert.deepEqual(all.map((x) => x.source), charges.map((x) => x.id).reverse());
  for (const [i, txn] of all.reverse().entries()) {
    assert.equal(txn.object, 'balanceTransaction');
    assert.equal(txn.type, 'charge');
    assert.equal(txn.status, 'available');
    assert.equal(txn.amount, 10 * (i + 1));
    assert.equal(txn.fee, (i + 1) / 10);
    assert.ok(Math.abs(txn.net - (txn.amount - txn.fee)) < 1e-9, `${txn.net}`);
    assert.deepEqual(await c.balanceTransactions.retrieve(txn.id), txn);
  }
  const next = await page.nextPage();
  assert.deepEqual(next.data.map((x) => x.source), [charges[2].id, charges[1].id]);
  assert.deepEqual((await next.previousPage()).data.map((x) => x.id), page.data.map((x) => x.id));

  // Filters.
  const bySource = await c.balanceTransactions.list({ type: 'charge', source: charges[2].id });
  assert.deepEqual(bySource.data.map((x) => x.source), [charges[2].id]);
  assert.equal((await c.balanceTransactions.list({ status: 'available', limit: 100 })).data.length, 5);
  assert.deepEqual((await c.balanceTransactions.list({ status: 'pending' })).data, []);
  assert.deepEqual((await c.balanceTransactions.list({ type: 'payout_failure' })).data, []);

  // Server-side errors: an unknown id (404), an unknown cursor (400).
  await assert.rejects(c.balanceTransactions.retrieve('txn_missing'), (e) => {
    assert.ok(e instanceof QbitPayInvalidRequestError);
    assert.equal(e.statusCode, 404);
    assert.match(e.requestId, /^req_/);
    return true;
  });
  await assert.rejects(c.balanceTransactions.list({ startingAfter: 'txn_nowhere' }), (e) => {
    assert.ok(e instanceof QbitPayInvalidRequestError);
    assert.deepEqual([e.statusCode, e.param], [400, 'starting_after']);
    return true;
  });
});

test('payouts: every destination type, retrieve, list filters, server errors (402, 400, 404)', async (t) => {
  const own = await startSandbox({ args: ['--payout-transit-after', '3600'] });
  t.after(() => own.stop());
  const c = new QbitPay({ apiKey: own.apiKey, baseUrl: own.url, maxRetries: 0 });

  // 402: valid parameters, not enough money. Not retried; detail from the server.
  const fetch = countingFetch();
  const counted = new QbitPay({ apiKey: own.apiKey, baseUrl: own.url, fetch, maxRetries: 3 });
  await assert.rejects(counted.payouts.create({ amount: 10, currency: 'USDT', destination: WALLET }), (e) => {
    assert.ok(e instanceof QbitPayAPIError, String(e));
    assert.equal(e.statusCode, 402);
    assert.equal(e.detail.code, 'balance_insufficient');
    assert.equal(e.detail.available, 0);
    return true;
  });
  assert.equal(fetch.calls.length, 1);

  await fund(c, own, 0, 1000); // 990 available
  const made = [];
  for (const [i, destination] of DESTINATIONS.entries()) {
    const p = await c.payouts.create({ amount: 10 + i, currency: i % 2 ? 'USD' : 'USDT', destination, description: `d${i}`, externalOrderId: `po-${i}` });
    assert.match(p.id, /^po_/);
    assert.equal(p.object, 'payout');
    assert.equal(p.status, 'pending');
    assert.equal(p.type, destination.type);
    assert.equal(p.amount, 10 + i);
    assert.equal(p.fee, Math.round((10 + i) * 0.5) / 100);
    assert.equal(p.description, `d${i}`);
    assert.equal(p.externalOrderId, `po-${i}`);
    assert.equal(p.destination.object, 'paymentMethod');
    assert.equal(p.destination.type, destination.type);
    assert.equal(p.destination.payerName, destination.payerName);
    if (destination.bankAccountNum) assert.equal(p.destination.accountNum, destination.bankAccountNum);
    if (destination.addr) assert.equal(p.destination.addr, destination.addr);
    if (destination.bankName) assert.equal(p.destination.bankName, destination.bankName);
    assert.deepEqual(await c.payouts.retrieve(p.id), p);
    made.push(p);
  }
  const debited = made.reduce((s, p) => s + p.amount + p.fee, 0);
  const bal = await c.balances.retrieve();
  assert.ok(Math.abs(bal.available - (990 - debited)) < 1e-9, `${bal.available} vs ${990 - debited}`);

  // Lists: newest first, paged; filters by status and destination (type, account, address).
  const all = await c.payouts.list({ limit: 4 }).toArray({ max: 100 });
  assert.deepEqual(all.map((p) => p.id), made.map((p) => p.id).reverse());
  assert.equal((await c.payouts.list({ status: 'pending', limit: 100 })).data.length, 6);
  assert.deepEqual((await c.payouts.list({ status: 'paid' })).data, []);
  assert.deepEqual((await c.payouts.list({ destination: 'TWalletAddr1' })).data.map((p) => p.id), [made[1].id]);
  assert.deepEqual((await c.payouts.list({ destination: 'GCash' })).data.map((p) => p.id), [made[5].id]);
  assert.deepEqual((await c.payouts.list({ destination: '6222000011112222' })).data.map((p) => p.id), [made[0].id]);
  // Each payout has its pending `payout` transaction: amount -x, net -(x + fee).
  for (const p of made) {
    const { data } = await c.balanceTransactions.list({ type: 'payout', source: p.id });
    assert.equal(data.length, 1);
    assert.deepEqual([data[0].amount, data[0].fee, data[0].status], [-p.amount, p.fee, 'pending']);
    assert.ok(Math.abs(data[0].net + p.amount + p.fee) < 1e-9);
  }

  // The payout minimum is in the API's table: refused before sending (the sandbox refuses it
  // alike, tests/client/differential.test.mjs). What only the server knows: unknown ids (404).
  await assert.rejects(c.payouts.create({ amount: 0.5, currency: 'USDT', destination: WALLET }), (e) => {
    assert.ok(e instanceof QbitPayInvalidRequestError);
    assert.deepEqual([e.statusCode, e.param, e.message], [undefined, 'amount', 'Invalid amount: must be a number from 1 to 1000000000']);
    return true;
  });
  await assert.rejects(c.payouts.retrieve('po_missing'), (e) => e instanceof QbitPayInvalidRequestError && e.statusCode === 404);
  await assert.rejects(c.payouts.list({ endingBefore: 'po_nowhere' }), (e) => e instanceof QbitPayInvalidRequestError && e.param === 'ending_before');
});

test('payouts.create is idempotent across retries: no duplicate payout under --fault-rate', async (t) => {
  const flaky = await startSandbox({ args: ['--fault-rate', '0.4', '--payout-transit-after', '3600'] });
  t.after(() => flaky.stop());
  const fetch = countingFetch();
  const c = new QbitPay({ apiKey: flaky.apiKey, baseUrl: flaky.url, fetch, maxRetries: 10 });
  await fund(c, flaky, 0, 500); // 495
  // At least 8 payouts, and on until some POST was faulted and retried (each attempt is
  // faulted with p = 0.4, so 30 clean creates in a row would take a 1-in-4-million run).
  const postsNow = () => fetch.calls.filter((x) => x.method === 'POST' && x.url.endsWith('/payouts'));
  let N = 0;
  while (N < 8 || (postsNow().length === N && N < 30)) {
    await c.payouts.create({ amount: 10, currency: 'USDT', destination: WALLET, externalOrderId: `x-${N}` });
    N++;
  }
  const posts = postsNow();
  assert.ok(posts.length > N, `faults happened (${posts.length} POSTs for ${N} payouts)`);
  const keyOf = new Map();
  for (const p of posts) {
    const ext = JSON.parse(p.body).externalOrderId;
    if (keyOf.has(ext)) assert.equal(p.headers['Idempotency-Key'], keyOf.get(ext));
    keyOf.set(ext, p.headers['Idempotency-Key']);
  }
  assert.equal(new Set(keyOf.values()).size, N);
  const payouts = await c.payouts.list({ limit: 100 }).toArray({ max: 100 });
  assert.equal(payouts.length, N);
  assert.equal((await c.balanceTransactions.list({ type: 'payout', limit: 100 })).data.length, N);
  const bal = await c.balances.retrieve();
  assert.ok(Math.abs(bal.available - (495 - N * 10.05)) < 1e-9, String(bal.available));
});

test('markets.ticker: ask and bid, symbol encoded in the query', async () => {
  const fetch = countingFetch();
  const c = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch });
  const before = Date.now();
  const ask = await c.markets.ticker({ symbol: 'USDT/CNY', side: 'ask' });
  assert.equal(fetch.calls[0].url, `${sb.url}/api/v1/markets/ticker?symbol=USDT%2FCNY&side=ask`);
  assert.equal(ask.symbol, 'USDT/CNY');
  assert.equal(typeof ask.ask, 'number');
  assert.equal(ask.bid, undefined);
  assert.ok(ask.timestamp >= before - 1000 && ask.timestamp <= Date.now() + 1000, String(ask.timestamp));
  const bid = await c.markets.ticker({ symbol: 'USDT/CNY', side: 'bid' });
  assert.equal(typeof bid.bid, 'number');
  assert.ok(bid.bid < ask.ask, `bid ${bid.bid} < ask ${ask.ask}`);
  const btc = await c.markets.ticker({ symbol: 'BTC/PHP', side: 'ask' });
  assert.ok(btc.ask > ask.ask);
});

/** A local webhook receiver: records raw bodies and signatures. */
async function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ path: req.url, body: Buffer.concat(chunks), signature: req.headers['qbitpay-signature'] });
      res.end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, got, stop: () => new Promise((r) => server.close(r)) };
}

test('events.test: one signed test webhook to cbUrl, verified with verifyWebhook; server errors', async (t) => {
  const rx = await receiver();
  t.after(() => rx.stop());
  const ev = await qp.events.test({ cbUrl: `${rx.url}/hook?x=1` });
  assert.equal(ev.object, 'event');
  assert.equal(ev.livemode, false);
  assert.equal(rx.got.length, 1, 'delivered once, before the answer');
  assert.equal(rx.got[0].path, '/hook?x=1');
  const delivered = verifyWebhook(rx.got[0].body, rx.got[0].signature, sb.apiKey);
  assert.equal(delivered.id, ev.id);
  assert.equal(delivered.type, ev.type);
  assert.equal(delivered.livemode, false);
  assert.throws(() => verifyWebhook(rx.got[0].body, rx.got[0].signature, 'sk_test_other'), { code: 'signature_mismatch' });

  // No cbUrl and no configured URL: 400 naming cbUrl. A non-local URL: refused by the sandbox (nothing leaves).
  await assert.rejects(qp.events.test(), (e) => e instanceof QbitPayInvalidRequestError && e.statusCode === 400 && e.param === 'cbUrl');
  await assert.rejects(qp.events.test({ cbUrl: 'https://example.com/hook' }), (e) => e instanceof QbitPayInvalidRequestError && e.statusCode === 400 && e.param === 'cbUrl');
  assert.equal(rx.got.length, 1);

  // With --webhook-url, events.test() goes there.
  const withUrl = await startSandbox({ args: ['--webhook-url', `${rx.url}/configured`] });
  t.after(() => withUrl.stop());
  const ev2 = await new QbitPay({ apiKey: withUrl.apiKey, baseUrl: withUrl.url }).events.test();
  assert.equal(rx.got.length, 2);
  assert.equal(rx.got[1].path, '/configured');
  assert.equal(verifyWebhook(rx.got[1].body, rx.got[1].signature, withUrl.apiKey).id, ev2.id);
});

test('access-token clients get a clear 403 QbitPayAuthenticationError on every family', async () => {
  const { accessToken } = await qp.accessToken.create();
  const fetch = countingFetch();
  const browser = new QbitPay({ accessToken, baseUrl: sb.url, fetch });
  const calls = {
    'accounts.retrieve': () => browser.accounts.retrieve(),
    'balances.retrieve': () => browser.balances.retrieve(),
    'balanceTransactions.retrieve': () => browser.balanceTransactions.retrieve('txn_1'),
    'balanceTransactions.list': () => browser.balanceTransactions.list({ limit: 5 }),
    'balanceTransactions.list (iterated)': async () => { for await (const x of browser.balanceTransactions.list()) void x; },
    'payouts.create': () => browser.payouts.create({ amount: 5, currency: 'USDT', destination: WALLET }),
    'payouts.retrieve': () => browser.payouts.retrieve('po_1'),
    'payouts.list': () => browser.payouts.list(),
    'markets.ticker': () => browser.markets.ticker({ symbol: 'USDT/CNY', side: 'ask' }),
    'events.test': () => browser.events.test({ cbUrl: 'http://127.0.0.1:9/h' }),
  };
  for (const [name, call] of Object.entries(calls)) {
    const n = fetch.calls.length;
    await assert.rejects(call(), (e) => {
      assert.ok(e instanceof QbitPayAuthenticationError, `${name}: ${e}`);
      assert.equal(e.statusCode, 403, name);
      assert.equal(e.type, 'authentication_error');
      assert.match(e.message, /access token/i, name);
      assert.match(e.message, /API key/, name);
      for (const s of [e.message, e.stack, JSON.stringify(e)]) assert.ok(!s.includes(accessToken), name);
      return true;
    });
    assert.equal(fetch.calls.length, n + 1, `${name}: one request, a 403 is not retried`);
  }
});

test("a server's terse 403 to an access-token client gets the scope explained; an API-key client's does not", async (t) => {
  const stub = await startStubServer((req, res) => {
    res.writeHead(403, { 'content-type': 'application/json', 'request-id': 'req_stub' });
    res.end(JSON.stringify({ type: 'authentication_error', message: 'Forbidden.' }));
  });
  t.after(() => stub.stop());
  const tokenErr = await new QbitPay({ accessToken: 'tok_abc123', baseUrl: stub.url }).balances.retrieve().catch((e) => e);
  assert.ok(tokenErr instanceof QbitPayAuthenticationError);
  assert.equal(tokenErr.statusCode, 403);
  assert.equal(tokenErr.requestId, 'req_stub');
  assert.match(tokenErr.message, /^Forbidden\. This client uses an access token, which may only retrieve and list charges/);
  const keyErr = await new QbitPay({ apiKey: 'sk_test_k', baseUrl: stub.url }).balances.retrieve().catch((e) => e);
  assert.ok(keyErr instanceof QbitPayAuthenticationError);
  assert.equal(keyErr.message, 'Forbidden.');
});

test('validation names the parameter and sends nothing', async () => {
  const fetch = countingFetch();
  const c = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch });
  const payout = (extra) => c.payouts.create({ amount: 5, currency: 'USDT', destination: WALLET, ...extra });
  const dest = (d) => payout({ destination: d });
  const cases = [
    [() => c.accounts.retrieve({ foo: 1 }), 'foo'],
    [() => c.balances.retrieve({ timeoutMs: -1 }), 'timeoutMs'],
    [() => c.balanceTransactions.retrieve(''), 'id'],
    [() => c.balanceTransactions.retrieve(7), 'id'],
    [() => c.balanceTransactions.list({ type: 'refund' }), 'type'],
    [() => c.balanceTransactions.list({ status: 'done' }), 'status'],
    [() => c.balanceTransactions.list({ source: 'ch_1' }), 'type'],
    [() => c.balanceTransactions.list({ type: 'charge', source: '' }), 'source'],
    [() => c.balanceTransactions.list({ limit: 1000 }), 'limit'],
    [() => payout({ amount: 0 }), 'amount'],
    [() => payout({ amount: '5' }), 'amount'],
    [() => payout({ currency: 'CNY' }), 'currency'],
    [() => payout({ destination: undefined }), 'destination'],
    [() => payout({ description: 5 }), 'description'],
    [() => payout({ externalOrderId: '' }), 'externalOrderId'],
    [() => payout({ cbUrl: 'http://127.0.0.1:9/h' }), 'cbUrl'],
    [() => dest('wallet'), 'destination'],
    [() => dest({ payerName: 'A', addr: 'T' }), 'destination.type'],
    [() => dest({ type: 'moon', payerName: 'A' }), 'destination.type'],
    [() => dest({ type: 'Yunshanfu', payerName: 'A', bankAccountNum: '1' }), 'destination.type'],
    [() => dest({ type: 'wallet', payerName: 'A' }), 'destination.addr'],
    [() => dest({ type: 'wallet', addr: 'T' }), 'destination.payerName'],
    [() => dest({ type: 'wallet', payerName: 'A', addr: 42 }), 'destination.addr'],
    [() => dest({ type: 'bankAccount', payerName: 'A', bankAccountNum: '1' }), 'destination.bankName'],
    [() => dest({ type: 'bankAccount', payerName: 'A', bankName: 'B' }), 'destination.bankAccountNum'],
    [() => dest({ type: 'bankAccount', payerName: 'A', bankAccountNum: '1', bankName: 'B', iban: 'x' }), 'destination.iban'],
    [() => dest({ type: 'Alipay', payerName: 'A' }), 'destination.bankAccountNum'],
    [() => dest({ type: 'PayPal', bankAccountNum: 'a@b' }), 'destination.payerName'],
    [() => dest({ type: 'Coins.ph', payerName: 'A', bankAccountNum: '1', addr: 'T' }), 'destination.addr'],
    [() => dest({ type: 'GCash', payerName: '', bankAccountNum: '1' }), 'destination.payerName'],
    [() => c.payouts.retrieve(null), 'id'],
    [() => c.payouts.list({ status: 'sent' }), 'status'],
    [() => c.payouts.list({ destination: WALLET }), 'destination'],
    [() => c.markets.ticker(), 'symbol'],
    [() => c.markets.ticker({ symbol: 'USDT/CNY' }), 'side'],
    [() => c.markets.ticker({ symbol: 'USDT/CNY', side: 'buy' }), 'side'],
    [() => c.markets.ticker({ symbol: 'USDTCNY', side: 'ask' }), 'symbol'],
    [() => c.markets.ticker({ symbol: 'ETH/USD', side: 'ask' }), 'symbol'],
    [() => c.events.test({ cbUrl: 'not a url' }), 'cbUrl'],
    [() => c.events.test({ url: 'http://127.0.0.1/' }), 'url'],
  ];
  for (const [call, param] of cases) {
    await assert.rejects(call(), (e) => {
      assert.ok(e instanceof QbitPayInvalidRequestError, `${param}: ${e}`);
      assert.equal(e.param, param);
      assert.ok(e.message.includes(param), `${param}: ${e.message}`);
      assert.equal(e.statusCode, undefined);
      return true;
    });
  }
  assert.equal(fetch.calls.length, 0);
  // Exactly the spec's methods: each family is a class whose methods are on its prototype
  // (besides wasm-bindgen's own `free` and `__`-named ones).
  const own = (o) => Object.getOwnPropertyNames(Object.getPrototypeOf(o)).filter((n) => n !== 'constructor' && n !== 'free' && !n.startsWith('__'));
  const methods = Object.fromEntries(['accounts', 'balances', 'balanceTransactions', 'payouts', 'markets', 'events'].map((r) => [r, own(c[r]).sort()]));
  assert.deepEqual(methods, {
    accounts: ['retrieve'], balances: ['retrieve'], balanceTransactions: ['list', 'retrieve'],
    payouts: ['create', 'list', 'retrieve'], markets: ['ticker'], events: ['test'],
  });
});
