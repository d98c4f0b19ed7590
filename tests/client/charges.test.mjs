// The client through the built package against the sandbox: CRUD, access tokens, paging
// both ways over 250 charges, laziness, concurrent iteration, toArray.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QbitPay, QbitPayInvalidRequestError, QbitPayAuthenticationError } from 'qbitpay';
import { startSandbox, countingFetch } from '../support/sandbox.mjs';

let sb, qp;
const charge = (i, extra = {}) => ({
  amount: 10 + i, currency: 'USD', externalOrderId: `order-${i}`,
  cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'https://shop.example/thanks', ...extra,
});

before(async () => {
  sb = await startSandbox();
  qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url });
});
after(() => sb.stop());

test('create, retrieve, update, list by externalOrderId', async () => {
  const c = await qp.charges.create(charge(0, { quoteCurrency: 'USD', paymentType: 'PayPal', payerName: 'Ann' }));
  assert.equal(c.object, 'charge');
  assert.equal(c.status, 'pending');
  assert.equal(c.amount, 10);
  assert.equal(c.currency, 'USD');
  assert.equal(c.quoteCurrency, 'USD');
  assert.equal(c.paymentMethod.type, 'PayPal');
  const again = await qp.charges.retrieve(c.id);
  assert.deepEqual(again, c);
  const paid = await qp.charges.update(c.id, { status: 'buyerPaid' });
  assert.equal(paid.status, 'buyerPaid');
  const page = await qp.charges.list({ externalOrderId: 'order-0' });
  assert.deepEqual(page.data.map((x) => x.id), [c.id]);
  assert.equal(page.hasMore, false);
});

test('access token: created with the key, reads and marks buyerPaid, nothing else', async () => {
  const { accessToken } = await qp.accessToken.create();
  assert.equal(typeof accessToken, 'string');
  const c = await qp.charges.create(charge(1));
  const browser = new QbitPay({ accessToken, baseUrl: sb.url });
  assert.equal((await browser.charges.retrieve(c.id)).id, c.id);
  assert.ok((await browser.charges.list({ limit: 5 })).data.length >= 1);
  assert.equal((await browser.charges.update(c.id, { status: 'buyerPaid' })).status, 'buyerPaid');
  await assert.rejects(browser.charges.create(charge(2)), (e) => {
    assert.ok(e instanceof QbitPayAuthenticationError);
    assert.equal(e.statusCode, 403);
    assert.equal(e.type, 'authentication_error');
    assert.ok(!e.message.includes(accessToken) && !e.stack.includes(accessToken) && !JSON.stringify(e).includes(accessToken));
    return true;
  });
  await assert.rejects(browser.accessToken.create(), QbitPayAuthenticationError);
});

test('paging over 250 charges: forward, backward, nextPage/previousPage, laziness', async (t) => {
  const own = await startSandbox();
  t.after(() => own.stop());
  const fetch = countingFetch();
  const client = new QbitPay({ apiKey: own.apiKey, baseUrl: own.url, fetch });
  const created = [];
  for (let i = 0; i < 250; i++) created.push((await client.charges.create(charge(i))).id);
  const newestFirst = created.slice().reverse();
  fetch.calls.length = 0;

  // Nothing is sent until the list is used.
  const list = client.charges.list({ limit: 100 });
  assert.equal(fetch.calls.length, 0);

  // Forward: every item once, newest first; 100 + 100 + 50 (short page ends the walk).
  const seen = [];
  for await (const c of list) seen.push(c.id);
  assert.deepEqual(seen, newestFirst);
  assert.equal(fetch.calls.length, 3);
  assert.match(fetch.calls[1].url, /starting_after=/);

  // Pages by hand, both ways.
  const p1 = await client.charges.list({ limit: 100 });
  assert.equal(p1.hasMore, true);
  const p2 = await p1.nextPage();
  const p3 = await p2.nextPage();
  assert.deepEqual([p1, p2, p3].map((p) => p.data.length), [100, 100, 50]);
  assert.equal(p3.hasMore, false);
  const n = fetch.calls.length;
  const end = await p3.nextPage(); // known empty: no request
  assert.deepEqual([end.data.length, end.hasMore, fetch.calls.length], [0, false, n]);
  const back = await p3.previousPage();
  assert.deepEqual(back.data.map((c) => c.id), p2.data.map((c) => c.id));
  assert.equal(back.hasMore, true);
  assert.match(fetch.calls.at(-1).url, /ending_before=/);

  // Backward walk from the oldest: the 249 newer ones, moving away from the cursor.
  const oldest = created[0];
  const up = [];
  for await (const c of client.charges.list({ limit: 100, endingBefore: oldest })) up.push(c.id);
  assert.deepEqual(up, created.slice(1));
  // Wire spelling works too.
  const wire = await client.charges.list({ limit: 3, starting_after: newestFirst[0] });
  assert.deepEqual(wire.data.map((c) => c.id), newestFirst.slice(1, 4));

  // Laziness: breaking early fetches only what was consumed.
  fetch.calls.length = 0;
  let k = 0;
  for await (const c of client.charges.list({ limit: 100 })) { void c; if (++k === 5) break; }
  assert.equal(fetch.calls.length, 1);
  fetch.calls.length = 0;
  k = 0;
  for await (const c of client.charges.list({ limit: 100 })) { void c; if (++k === 101) break; }
  assert.equal(fetch.calls.length, 2);

  // toArray: max required and capped; stops fetching at max.
  fetch.calls.length = 0;
  const arr = await client.charges.list({ limit: 50 }).toArray({ max: 120 });
  assert.deepEqual(arr.map((c) => c.id), newestFirst.slice(0, 120));
  assert.equal(fetch.calls.length, 3);
  assert.equal((await client.charges.list({ limit: 100 }).toArray({ max: 10_000 })).length, 250);
  for (const bad of [undefined, {}, { max: 10_001 }, { max: 0 }, { max: '5' }]) {
    await assert.rejects(client.charges.list().toArray(bad), (e) => e instanceof QbitPayInvalidRequestError && e.param === 'max');
  }

  // Two concurrent next() calls (and twenty) never break the walk: distinct items, in order.
  fetch.calls.length = 0;
  const it = client.charges.list({ limit: 7 })[Symbol.asyncIterator]();
  const results = await Promise.all(Array.from({ length: 20 }, () => it.next()));
  assert.deepEqual(results.map((r) => r.value.id), newestFirst.slice(0, 20));
  assert.equal(fetch.calls.length, 3);

  // A walk ended (return(), also while a page is awaited, or its last item) stays ended.
  fetch.calls.length = 0;
  const early = client.charges.list({ limit: 7 })[Symbol.asyncIterator]();
  assert.equal((await early.next()).value.id, newestFirst[0]);
  assert.deepEqual(await early.return(), { done: true, value: undefined });
  assert.deepEqual(await early.next(), { done: true, value: undefined });
  const midway = client.charges.list({ limit: 2 })[Symbol.asyncIterator]();
  const pending = midway.next();
  await midway.return();
  assert.deepEqual([await pending, await midway.next()], [{ done: true, value: undefined }, { done: true, value: undefined }]);
  const short = client.charges.list({ limit: 100, startingAfter: newestFirst[247] })[Symbol.asyncIterator]();
  assert.deepEqual([(await short.next()).value.id, (await short.next()).value.id], newestFirst.slice(248, 250));
  assert.deepEqual([await short.next(), await short.next()], [{ done: true, value: undefined }, { done: true, value: undefined }]);
});

test('a short first page ends the walk with one request; has_more from a server wins', async () => {
  const fetch = countingFetch();
  const client = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch });
  const items = [];
  for await (const c of client.charges.list({ limit: 100 })) items.push(c);
  assert.ok(items.length < 100);
  assert.equal(fetch.calls.length, 1);

  // A server that does send has_more: honoured both ways.
  const fake = (body) => async () => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  const full = [{ id: 'a' }, { id: 'b' }];
  const saysNo = new QbitPay({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9', fetch: fake({ object: 'list', data: full, has_more: false }) });
  assert.equal((await saysNo.charges.list({ limit: 2 })).hasMore, false);
  const saysYes = new QbitPay({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9', fetch: fake({ object: 'list', data: [{ id: 'a' }], has_more: true }) });
  assert.equal((await saysYes.charges.list({ limit: 2 })).hasMore, true);
});
