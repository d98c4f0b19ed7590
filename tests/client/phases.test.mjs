// A call stopped in each of its phases: a server that hangs after its headers or mid-body, an
// AbortSignal fired while fetch is pending, while the body is read, in a response hook and in
// the backoff, a `fetch` option that ignores its signal; and many calls at once on one client
// and on one list iterator. Each ends in a typed error in bounded time, and nothing keeps
// running after it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { QbitPay, QbitPayAPIError, QbitPayConnectionError } from 'qbitpay';
import { stubServers } from '../support/sandbox.mjs';

const serve = stubServers(after);
const CHARGE = { amount: 10, currency: 'USD', externalOrderId: 'o1', cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'https://shop.example/done' };
const JSON_HEAD = { 'Content-Type': 'application/json' };
/** `p`'s rejection and how long it took. */
async function timed(p) {
  const t0 = Date.now();
  const e = await p.then((v) => assert.fail(`resolved: ${JSON.stringify(v)}`), (x) => x);
  return { e, ms: Date.now() - t0 };
}

test('a server that hangs after its headers, or mid-body, is a timeout within timeoutMs (streamed and with Content-Length)', async () => {
  const s = await serve((req, res) => {
    const sized = req.url.includes('sized');
    res.writeHead(200, sized ? { ...JSON_HEAD, 'Content-Length': '1000' } : JSON_HEAD);
    if (req.url.includes('mid')) res.write('{"id":"ch_1","object":"charge","pad":"');
    // Then nothing more.
  });
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: s.url, timeoutMs: 200, maxRetries: 0 });
  for (const id of ['ch_head', 'ch_mid', 'ch_sized_head', 'ch_sized_mid']) {
    const { e, ms } = await timed(qp.charges.retrieve(id));
    assert.ok(e instanceof QbitPayConnectionError, `${id}: ${e}`);
    assert.equal(e.code, 'timeout', id);
    assert.ok(ms < 2000, `${id}: ${ms} ms`);
  }
});

test('an AbortSignal fired while the body is read ends the call at once with aborted', async () => {
  const s = await serve((req, res) => {
    res.writeHead(200, JSON_HEAD);
    res.write('{"id":"ch_1","object":"charge","pad":"');
  });
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: s.url, timeoutMs: 30_000, maxRetries: 0 });
  const ac = new AbortController();
  // Fired once the answer's head is in (the response hook runs after the body; so a timer).
  setTimeout(() => ac.abort(new Error('user left')), 300);
  const { e, ms } = await timed(qp.charges.retrieve('ch_1', { signal: ac.signal }));
  assert.ok(e instanceof QbitPayConnectionError, String(e));
  assert.equal(e.code, 'aborted');
  assert.equal(e.cause?.message, 'user left');
  assert.ok(ms < 3000, `${ms} ms`);
});

test('an AbortSignal fired by a response hook (the answer in, a backoff next) is not waited out', async () => {
  const s = await serve((req, res) => {
    res.writeHead(503, { ...JSON_HEAD, 'Retry-After': '30' });
    res.end('{"type":"api_error","message":"busy"}');
  });
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: s.url, maxRetries: 2 });
  const ac = new AbortController();
  qp.on('response', () => ac.abort());
  const { e, ms } = await timed(qp.charges.create(CHARGE, { signal: ac.signal }));
  assert.ok(e instanceof QbitPayConnectionError, String(e));
  assert.equal(e.code, 'aborted');
  assert.ok(ms < 3000, `waited ${ms} ms of Retry-After: 30`);
});

test('an AbortSignal fired by a request hook ends the call at once, nothing sent', async () => {
  let hits = 0;
  const s = await serve(() => { hits++; }); // never answers
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: s.url, timeoutMs: 30_000, maxRetries: 0 });
  const ac = new AbortController();
  qp.on('request', () => ac.abort());
  const { e, ms } = await timed(qp.charges.retrieve('ch_1', { signal: ac.signal }));
  assert.ok(e instanceof QbitPayConnectionError, String(e));
  assert.equal(e.code, 'aborted');
  assert.ok(ms < 3000, `${ms} ms`);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(hits, 0);
});

test('a fetch option that ignores its signal: a stalled streamed body or a refused one is cancelled (timeout, abort, a length above maxResponseBytes)', async () => {
  let cancelled = 0;
  /** A Response whose body sends a first chunk, then stalls. */
  const stalling = (headers) => {
    let pulls = 0;
    return new Response(new ReadableStream({
      pull(c) {
        if (pulls++ === 0) c.enqueue(new TextEncoder().encode('{"id":"ch_1","object":"charge","pad":"'));
        else return new Promise(() => {});
      },
      cancel() { cancelled++; },
    }), { status: 200, headers: { ...JSON_HEAD, ...headers } });
  };
  const lengths = { ch_streamed: undefined, ch_sized: '1000', ch_large: '5000' };
  const fetch = async (url) => {
    const length = lengths[url.split('/').pop()];
    return stalling(length ? { 'Content-Length': length } : {});
  };
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9', fetch, timeoutMs: 200, maxRetries: 0, maxResponseBytes: 2000 });
  const settle = () => new Promise((r) => setTimeout(r, 20));
  // A declared length is read at once with text(), which cannot be cancelled: the call still
  // ends on time.
  const sized = await timed(qp.charges.retrieve('ch_sized'));
  assert.equal(sized.e.code, 'timeout');
  assert.ok(sized.ms < 2000, `${sized.ms} ms`);
  for (const id of ['ch_streamed']) {
    cancelled = 0;
    const { e, ms } = await timed(qp.charges.retrieve(id));
    assert.ok(e instanceof QbitPayConnectionError, `${id}: ${e}`);
    assert.equal(e.code, 'timeout', id);
    assert.ok(ms < 2000, `${id}: ${ms} ms`);
    await settle();
    assert.equal(cancelled, 1, `${id}: the stalled stream was left open`);

    // The caller's signal during the same read: aborted, the stream cancelled too.
    cancelled = 0;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await timed(qp.charges.retrieve(id, { signal: ac.signal, timeoutMs: 30_000 }));
    assert.equal(r.e.code, 'aborted', id);
    await settle();
    assert.equal(cancelled, 1, `${id}: aborted, the stream was left open`);
  }
  // Refused before reading: its body is let go of, not left to the peer.
  cancelled = 0;
  const { e } = await timed(qp.charges.retrieve('ch_large'));
  assert.ok(e instanceof QbitPayAPIError, String(e));
  await settle();
  assert.equal(cancelled, 1, 'the refused body was left open');
});

test('a fetch option that rejects, throws, or never settles ends in a typed error', async () => {
  const boom = new TypeError('socket hang up');
  const cases = [
    ['rejects', () => Promise.reject(boom), 'network'],
    ['throws', () => { throw boom; }, 'network'],
    ['never settles', () => new Promise(() => {}), 'timeout'],
  ];
  for (const [label, fetch, code] of cases) {
    const qp = new QbitPay({ apiKey: 'sk_test_Zq8HhV3mR7pL2xN9wK4c', baseUrl: 'http://127.0.0.1:9', fetch, timeoutMs: 150, maxRetries: 1 });
    const { e, ms } = await timed(qp.charges.retrieve('ch_1'));
    assert.ok(e instanceof QbitPayConnectionError, `${label}: ${e}`);
    assert.equal(e.code, code, label);
    assert.ok(ms < 3000, `${label}: ${ms} ms`);
    for (const t of [e.message, e.stack, JSON.stringify(e)]) assert.ok(!t.includes('Zq8HhV3mR7pL2xN9wK4c'), t);
  }
});

test('a fetch option answering with something other than a Response (a forgotten return, JSON, null) is a typed error, not a crash', async () => {
  const answers = [['undefined', undefined], ['null', null], ['a string', 'ok'], ['a JSON object', { id: 'ch_1', object: 'charge' }],
    ['a status without headers', { status: 200 }], ['headers without get()', { status: 200, headers: {} }]];
  for (const [label, answer] of answers) {
    const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9', fetch: async () => answer, maxRetries: 0 });
    const { e } = await timed(qp.charges.retrieve('ch_1'));
    assert.ok(e instanceof QbitPayConnectionError, `${label}: ${e}`);
    assert.equal(e.code, 'network', label);
    assert.match(String(e.cause), /not a Response/, label);
  }
  // A Response-like answer whose text() gives something other than text, at 2xx and 5xx.
  for (const status of [200, 500]) {
    for (const body of [42, null, { id: 'ch_1' }]) {
      const fetch = async () => ({ status, headers: new Headers(), text: async () => body });
      const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9', fetch, maxRetries: 0 });
      const { e } = await timed(qp.charges.retrieve('ch_1'));
      assert.ok(e instanceof QbitPayConnectionError, `${status} ${JSON.stringify(body)}: ${e}`);
      assert.match(String(e.cause), /not text/);
    }
  }
  // The client still works afterwards.
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9', maxRetries: 0,
    fetch: async () => new Response('{"id":"ch_1","object":"charge"}', { status: 200, headers: JSON_HEAD }) });
  assert.equal((await qp.charges.retrieve('ch_1')).id, 'ch_1');
});

test('an async hook that rejects neither changes the call nor becomes an unhandled rejection', async () => {
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9', maxRetries: 0,
      fetch: async () => new Response('{"id":"ch_1","object":"charge"}', { status: 200, headers: JSON_HEAD }) });
    qp.on('request', async () => { throw new Error('request hook'); });
    qp.on('response', () => Promise.reject(new Error('response hook')));
    assert.equal((await qp.charges.retrieve('ch_1')).id, 'ch_1');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled.map(String), []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test("one AbortSignal shared by many calls (answered, retried, timed out, listed) is left with no listener of the client's", async () => {
  let n = 0;
  const s = await serve((req, res) => {
    const which = n++ % 4;
    if (which === 3) return; // hangs: a timeout
    if (which === 2) {
      res.writeHead(503, { ...JSON_HEAD, 'Retry-After': '0' });
      return res.end('{"type":"api_error","message":"busy"}');
    }
    res.writeHead(200, JSON_HEAD);
    res.end(req.url.includes('?') ? '{"object":"list","data":[{"id":"ch_1","object":"charge"}],"hasMore":false}' : '{"id":"ch_1","object":"charge"}');
  });
  const { getEventListeners } = await import('node:events');
  const ac = new AbortController();
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: s.url, timeoutMs: 100, maxRetries: 1 });
  const calls = [];
  for (let i = 0; i < 20; i++) {
    calls.push(qp.charges.retrieve(`ch_${i}`, { signal: ac.signal }).catch((e) => e));
    calls.push(qp.charges.list({ limit: 1 }, { signal: ac.signal }).toArray({ max: 5 }).catch((e) => e));
  }
  await Promise.all(calls);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
});

test('50 concurrent calls on one client each get their own answer', async () => {
  const s = await serve((req, res) => {
    const id = req.url.split('/').pop();
    setTimeout(() => {
      res.writeHead(200, JSON_HEAD);
      res.end(JSON.stringify({ id, object: 'charge' }));
    }, Math.random() * 30);
  });
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: s.url });
  const ids = Array.from({ length: 50 }, (_, i) => `ch_${i}`);
  const got = await Promise.all(ids.map((id) => qp.charges.retrieve(id)));
  assert.deepEqual(got.map((c) => c.id), ids);
  assert.ok(got.every((c) => c.lastResponse.statusCode === 200));
});

test('50 concurrent next() on one list iterator each get their own item, in order, then the end; 50 awaits of one list share a fetch', async () => {
  const N = 45;
  let fetches = 0;
  const s = await serve((req, res) => {
    fetches++;
    const u = new URL(req.url, 'http://x');
    const after = u.searchParams.get('startingAfter') ?? u.searchParams.get('starting_after');
    const start = after ? Number(after.slice(3)) + 1 : 0;
    const limit = Number(u.searchParams.get('limit') ?? 10);
    const data = [];
    for (let i = start; i < Math.min(start + limit, N); i++) data.push({ id: `ch_${i}`, object: 'charge' });
    setTimeout(() => {
      res.writeHead(200, JSON_HEAD);
      res.end(JSON.stringify({ object: 'list', data, hasMore: start + limit < N }));
    }, 5);
  });
  const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: s.url });
  const it = qp.charges.list({ limit: 10 })[Symbol.asyncIterator]();
  const results = await Promise.all(Array.from({ length: 50 }, () => it.next()));
  assert.deepEqual(results.slice(0, N).map((r) => r.value?.id), Array.from({ length: N }, (_, i) => `ch_${i}`));
  assert.ok(results.slice(N).every((r) => r.done === true && r.value === undefined));
  assert.equal(fetches, 5);
  // 50 awaits of one list request share its first page: one fetch.
  const list = qp.charges.list({ limit: 10 });
  const pages = await Promise.all(Array.from({ length: 50 }, () => list.then((p) => p)));
  assert.ok(pages.every((p) => p === pages[0] && p.data.length === 10));
  assert.equal(fetches, 6);
});
