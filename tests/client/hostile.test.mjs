// What a broken or hostile server gets from the client: an endless or oversized body, a 2xx
// that is not the expected object, redirects to another origin, the credential echoed back
// in every encoding. Local stub servers on 127.0.0.1; each test states what it must not do.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { QbitPay, QbitPayAPIError, QbitPayError } from 'qbitpay';
import { stubServers } from '../support/sandbox.mjs';

const KEY = 'sk_test_Zq8HhV3mR7pL2xN9wK4c';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY2N0XzEifQ.c2lnbmF0dXJlX29mX3Rva2Vu';
const MIB = 1024 * 1024;
const serve = stubServers(after);
const CHARGE = { amount: 10, currency: 'USD', externalOrderId: 'o1', cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'https://shop.example/done' };

test('an endless 200 body is cut at maxResponseBytes: typed error, connection closed, memory bounded', async () => {
  let sent = 0;
  let closed;
  const done = new Promise((r) => { closed = r; });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const s = await serve((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Request-Id': 'req_endless' });
    res.write('{"id":"');
    // At most 64 MiB, whatever happens: the test must not take the machine down if the client reads on.
    const pump = () => {
      while (sent < 64 * MIB) {
        sent += chunk.length;
        if (!res.write(chunk)) return res.once('drain', pump);
      }
      res.end('"}');
    };
    res.on('close', () => closed(sent));
    pump();
  });
  const rss0 = process.memoryUsage().rss;
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
  const t0 = Date.now();
  const err = await qp.charges.retrieve('ch_1').then(() => null, (e) => e);
  const elapsed = Date.now() - t0;
  assert.ok(err instanceof QbitPayAPIError, String(err));
  assert.equal(err.code, 'response_too_large');
  assert.equal(err.statusCode, 200);
  assert.equal(err.requestId, 'req_endless');
  assert.match(err.message, /maxResponseBytes \(8388608 bytes\)/);
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  const total = await done; // the server saw the connection go
  assert.ok(total < 40 * MIB, `the server wrote ${total} bytes before the client hung up`);
  assert.ok(process.memoryUsage().rss - rss0 < 100 * MIB, 'RSS grew by more than 100 MB');
});

test('a Content-Length above maxResponseBytes is refused before reading; the limit is per client and per call', async () => {
  let closedEarly = false;
  const s = await serve((req, res) => {
    if (req.url.startsWith('/api/v1/charges/huge')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(10 * 1024 * MIB) });
      res.write('{"id":"');
      res.on('close', () => { closedEarly = true; }); // never ends: only the client can close it
      return;
    }
    const body = JSON.stringify({ id: 'ch_2', object: 'charge', pad: 'x'.repeat(3000) });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
  const t0 = Date.now();
  const err = await qp.charges.retrieve('huge').then(() => null, (e) => e);
  assert.ok(err instanceof QbitPayAPIError, String(err));
  assert.equal(err.code, 'response_too_large');
  assert.match(err.message, /10737418240 bytes, more than maxResponseBytes \(8388608\)/);
  assert.ok(Date.now() - t0 < 5000);
  for (let i = 0; i < 50 && !closedEarly; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(closedEarly, 'the connection was left open');

  const small = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxResponseBytes: 1024 });
  const e2 = await small.charges.retrieve('ch_2').then(() => null, (e) => e);
  assert.equal(e2?.code, 'response_too_large');
  assert.equal((await small.charges.retrieve('ch_2', { maxResponseBytes: 8192 })).id, 'ch_2');
  await assert.rejects(() => small.charges.retrieve('ch_2', { maxResponseBytes: 0 }), { param: 'maxResponseBytes' });
  assert.throws(() => new QbitPay({ apiKey: KEY, maxResponseBytes: 'big' }), { param: 'maxResponseBytes' });
});

test('a chunked body over the limit is refused too (no Content-Length)', async () => {
  const s = await serve((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(`{"id":"ch_3","pad":"${'y'.repeat(5000)}`);
    res.end('"}');
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxResponseBytes: 4096 });
  await assert.rejects(() => qp.charges.retrieve('ch_3'), { code: 'response_too_large', statusCode: 200 });
  assert.equal((await qp.charges.retrieve('ch_3', { maxResponseBytes: 6000 })).id, 'ch_3');
});

test('a 2xx that is not the expected object is a typed error with status, request id and a short redacted excerpt', async () => {
  const bodies = {
    null: 'null', string: '"a string"', number: '42', array: '[{"id":"ch_1"}]', bool: 'true',
    invalid: '{"id": "ch_1",', html: `<html><body>Welcome ${KEY} ${'<p>filler</p>'.repeat(100)}</body></html>`, empty: '',
  };
  const s = await serve((req, res) => {
    const which = new URL(req.url, 'http://x').searchParams.get('externalOrderId') ?? req.url.split('/').pop();
    res.writeHead(200, { 'Content-Type': 'application/json', 'Request-Id': `req_${which}` });
    res.end(which === 'nodata' ? '{"object":"list"}' : which === 'strdata' ? '{"data":"x"}' : bodies[which]);
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url });
  for (const [which, body] of Object.entries(bodies)) {
    const e = await qp.charges.retrieve(which).then(() => null, (x) => x);
    assert.ok(e instanceof QbitPayAPIError, `${which}: ${e}`);
    assert.equal(e.code, 'invalid_response', which);
    assert.equal(e.statusCode, 200, which);
    assert.equal(e.requestId, `req_${which}`, which);
    assert.match(e.message, /HTTP 200 with .* where a JSON object was expected/, which);
    assert.equal(typeof e.raw, 'string', which);
    assert.ok(e.raw.length <= 210, `${which}: excerpt of ${e.raw.length} characters`);
    assert.ok(!JSON.stringify(e).includes(KEY) && !e.raw.includes(KEY), which);
    if (body.length > 0 && body.length < 200) assert.equal(e.raw, body, which);
  }
  for (const which of ['null', 'array', 'nodata', 'strdata']) {
    const e = await qp.charges.list({ externalOrderId: which }).then(() => null, (x) => x);
    assert.equal(e?.code, 'invalid_response', which);
    assert.match(e.message, /where a list object was expected/, which);
    const walked = await (async () => { for await (const c of qp.charges.list({ externalOrderId: which })) void c; })().then(() => null, (x) => x);
    assert.equal(walked?.code, 'invalid_response', which);
  }
});

for (const status of [301, 302, 307, 308]) {
  test(`a ${status} to another origin is not followed: typed error naming the status and origin; nothing reaches it`, async () => {
    const reached = [];
    const other = await serve((req, res) => { reached.push(req.url); res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"id":"ch_evil","object":"charge","data":[]}'); });
    let asked = 0;
    const api = await serve((req, res) => {
      asked++;
      res.writeHead(status, { Location: `${other.url}/steal/path?key=${KEY}` });
      res.end();
    });
    const qp = new QbitPay({ apiKey: KEY, baseUrl: api.url });
    const origin = other.url;
    for (const call of [() => qp.charges.create(CHARGE), () => qp.charges.list(), () => qp.charges.list().toArray({ max: 5 })]) {
      const e = await call().then(() => null, (x) => x);
      assert.ok(e instanceof QbitPayAPIError, String(e));
      assert.equal(e.code, 'redirect');
      assert.equal(e.statusCode, status);
      assert.ok(e.message.includes(`HTTP ${status}`) && e.message.includes(origin), e.message);
      assert.ok(!e.message.includes('/steal') && !JSON.stringify(e).includes(KEY), e.message);
    }
    assert.equal(asked, 3, 'a redirect is not retried');
    assert.deepEqual(reached, []);
  });
}

// Every form the credential can be echoed in.
function forms(secret) {
  const b64 = (s) => Buffer.from(s).toString('base64');
  return {
    raw: secret,
    basic: b64(`${secret}:`),
    bare: b64(secret),
    bareUrl: b64(secret).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    inBase64Json: b64(JSON.stringify({ key: secret })),
    percent: [...secret].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join(''),
    percentLower: [...secret].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''),
    hex: Buffer.from(secret).toString('hex'),
    hexUpper: Buffer.from(secret).toString('hex').toUpperCase(),
    uEscaped: [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  };
}
function leaks(text, secret) {
  const found = [];
  for (const [name, f] of Object.entries(forms(secret))) {
    if (name === 'uEscaped' || name === 'inBase64Json') continue;
    if (text.includes(f)) found.push(name);
  }
  // The same after undoing \u escapes, percent escapes and base64 of any long run.
  const unescaped = text.replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  if (unescaped.includes(secret)) found.push('after \\u decoding');
  try { if (decodeURIComponent(text).includes(secret)) found.push('after percent decoding'); } catch { /* not decodable */ }
  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) || []) {
    for (let cut = 0; cut < 4; cut++) {
      const d = Buffer.from(run.slice(cut), 'base64').toString('latin1');
      if (d.includes(secret)) found.push(`inside base64 ${run}`);
    }
  }
  return found;
}

for (const [label, creds, secret] of [['API key', { apiKey: KEY }, KEY], ['access token', { accessToken: TOKEN }, TOKEN]]) {
  test(`the ${label} echoed back in any encoding never reaches an error (message, raw, detail, requestId, toJSON, stack) or lastResponse`, async () => {
    const f = forms(secret);
    const s = await serve((req, res) => {
      const which = req.url.split('/').pop();
      if (which === 'ok') {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Request-Id': `req_${f.basic}` });
        return res.end('{"id":"ch_ok","object":"charge"}');
      }
      const form = f[which];
      const text = `{"type":"invalid_request_error","message":"bad credential ${form}","param":"p ${form}",` +
        `"detail":{"echo":"${form}","nested":["x ${form} y"],"${form}":1}}`;
      res.writeHead(400, { 'Content-Type': 'application/json', 'Request-Id': `req_${form.replace(/\\/g, '')}` });
      res.end(text);
    });
    const qp = new QbitPay({ ...creds, baseUrl: s.url, dangerouslyAllowBrowser: true });
    for (const which of Object.keys(f)) {
      const e = await qp.charges.retrieve(which).then(() => null, (x) => x);
      assert.ok(e instanceof QbitPayError, `${which}: ${e}`);
      assert.equal(e.statusCode, 400);
      for (const [where, text] of [['message', e.message], ['stack', e.stack], ['raw', JSON.stringify(e.raw)],
        ['detail', JSON.stringify(e.detail)], ['requestId', e.requestId], ['param', e.param], ['toJSON', JSON.stringify(e)],
        ['String', String(e)]]) {
        assert.deepEqual(leaks(String(text), secret), [], `${which} in ${where}: ${text}`);
      }
      assert.ok(e.message.includes('[redacted]'), `${which}: ${e.message}`);
    }
    const ok = await qp.charges.retrieve('ok');
    assert.deepEqual(leaks(String(ok.lastResponse.requestId), secret), []);
  });
}

for (const hasMore of [undefined, true]) {
  test(`a list server answering every cursor with the same full page (hasMore ${hasMore}): for await and toArray end with cursor_not_advancing`, async () => {
    let requests = 0;
    const s = await serve((req, res) => {
      requests++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'ch_a', object: 'charge' }, { id: 'ch_b', object: 'charge' }], hasMore }));
    });
    const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
    const seen = [];
    const err = await (async () => { for await (const c of qp.charges.list({ limit: 2 })) { seen.push(c.id); if (seen.length > 100) return null; } return null; })().catch((e) => e);
    assert.ok(err instanceof QbitPayAPIError, String(err));
    assert.equal(err.code, 'cursor_not_advancing');
    assert.match(err.message, /startingAfter ch_b/);
    assert.deepEqual(seen, ['ch_a', 'ch_b'], 'no item is yielded twice');
    assert.equal(requests, 2);
    const e2 = await qp.charges.list({ limit: 2 }).toArray({ max: 10_000 }).then(() => null, (e) => e);
    assert.equal(e2?.code, 'cursor_not_advancing');
    const page = await qp.charges.list({ limit: 2 });
    assert.equal((await page.nextPage().catch((e) => e)).code, 'cursor_not_advancing');
  });
}

// A list server whose cursors run in a circle: the first page [a1, a2], after a2 [b1, b2], after
// b2 the first page again (or, backward, the mirror of it). Without a memory of the cursors a
// walk would fetch a2, b2, a2, b2, ... for ever.
function circularList(calls) {
  const pages = { '': ['a1', 'a2'], a2: ['b1', 'b2'], b2: ['a1', 'a2'], b1: ['a1', 'a2'], a1: ['b1', 'b2'] };
  return (req, res) => {
    const q = new URL(req.url, 'http://x').searchParams;
    const at = q.get('starting_after') ?? q.get('ending_before') ?? '';
    calls.push(at);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: (pages[at] ?? []).map((id) => ({ id, object: 'charge' })), hasMore: true }));
  };
}

test('a list whose cursor comes back to one already fetched (A -> B -> A) ends with cursor_not_advancing in for await, toArray and nextPage', async () => {
  const calls = [];
  const s = await serve(circularList(calls));
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
  const seen = [];
  const err = await (async () => {
    for await (const c of qp.charges.list({ limit: 2 })) { seen.push(c.id); if (seen.length > 50) return null; }
    return null;
  })().catch((e) => e);
  assert.ok(err instanceof QbitPayAPIError, `the walk ended with ${err} after ${seen.length} items`);
  assert.equal(err.code, 'cursor_not_advancing');
  assert.match(err.message, /startingAfter b2 .* ends at a2/);
  assert.deepEqual(seen, ['a1', 'a2', 'b1', 'b2'], 'no item is yielded twice');
  assert.deepEqual(calls, ['', 'a2', 'b2']);

  calls.length = 0;
  const e2 = await qp.charges.list({ limit: 2 }).toArray({ max: 10_000 }).then((a) => a.length, (e) => e);
  assert.equal(e2?.code, 'cursor_not_advancing', `toArray gave ${e2}`);
  assert.deepEqual(calls, ['', 'a2', 'b2']);

  const p1 = await qp.charges.list({ limit: 2 });
  const p2 = await p1.nextPage();
  assert.deepEqual(p2.data.map((c) => c.id), ['b1', 'b2']);
  const e3 = await p2.nextPage().then((p) => p.data.map((c) => c.id), (e) => e);
  assert.equal(e3?.code, 'cursor_not_advancing', `nextPage gave ${e3}`);
  // Going back and forth is not a circle: each direction keeps its own memory.
  assert.deepEqual((await p1.nextPage()).data.map((c) => c.id), ['b1', 'b2'], 'the same page asked for twice');
  const back = await p2.previousPage();
  assert.deepEqual(back.data.map((c) => c.id), ['a1', 'a2']);
  assert.deepEqual((await back.nextPage()).data.map((c) => c.id), ['b1', 'b2']);

  // Backward: before b1 is [a1, a2], before a1 is [b1, b2] again.
  const seenBack = [];
  const e4 = await (async () => {
    for await (const c of qp.charges.list({ limit: 2, endingBefore: 'b1' })) { seenBack.push(c.id); if (seenBack.length > 50) return null; }
    return null;
  })().catch((e) => e);
  assert.equal(e4?.code, 'cursor_not_advancing', `the backward walk ended with ${e4} after ${seenBack.length} items`);
  assert.ok(seenBack.length <= 4, seenBack.join());
});

test('maxResponseBytes is bounded by what a JavaScript string holds; a gzip bomb under a raised limit is the call\'s typed rejection', async () => {
  for (const bad of [600_000_000, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
    assert.throws(() => new QbitPay({ apiKey: KEY, maxResponseBytes: bad }), (e) => e instanceof QbitPayError && e.param === 'maxResponseBytes', String(bad));
    const qp = new QbitPay({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9' });
    await assert.rejects(() => qp.charges.retrieve('ch_1', { maxResponseBytes: bad }), { param: 'maxResponseBytes' });
  }
  const { gzipSync } = await import('node:zlib');
  // 512 MiB of JSON text in a few hundred KB of gzip: one member of 8 MiB of zeros, sent 64
  // times (gzip members concatenated are one stream).
  const head = gzipSync('{"id":"');
  const zeros = gzipSync(Buffer.alloc(8 * MIB, '0'));
  const bomb = Buffer.concat([head, ...Array(64).fill(zeros)]);
  const s = await serve((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': bomb.length });
    res.end(bomb);
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0, maxResponseBytes: 16 * MIB });
  const rss0 = process.memoryUsage().rss;
  const err = await qp.charges.retrieve('ch_1').then(() => null, (e) => e);
  assert.ok(err instanceof QbitPayAPIError, String(err));
  assert.equal(err.code, 'response_too_large');
  assert.ok(process.memoryUsage().rss - rss0 < 600 * MIB, 'RSS grew by more than 600 MB');

  // Whatever the body read throws (here a RangeError, as an over-long string would), the call
  // rejects with a typed error: nothing escapes the promise.
  const throwing = new QbitPay({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9', maxRetries: 0, fetch: async () => {
    const body = new ReadableStream({ pull() { throw new RangeError('Invalid string length'); } });
    return new Response(body, { status: 200, headers: { 'Content-Type': 'application/json' } });
  } });
  const e2 = await throwing.charges.retrieve('ch_1').then(() => null, (e) => e);
  assert.ok(e2 instanceof QbitPayError, String(e2));
});

test('429 with Retry-After: 0 is retried no faster than the backoff, never sooner than the initial delay', async () => {
  const at = [];
  const s = await serve((req, res) => {
    at.push(performance.now());
    res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': at.length % 2 ? '0' : '0.001' });
    res.end('{"type":"rate_limit_error","message":"slow down"}');
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 2 });
  const err = await qp.charges.retrieve('ch_1').then(() => null, (e) => e);
  assert.equal(err?.statusCode, 429);
  assert.equal(at.length, 3);
  for (let i = 1; i < at.length; i++) assert.ok(at[i] - at[i - 1] >= 495, `retry ${i} after ${(at[i] - at[i - 1]).toFixed(1)} ms`);
});

test('the key echoed in part (cut at either end, in another case) is redacted in message, raw, detail, requestId, stack and toJSON', async () => {
  const echoes = {
    lastCut: KEY.slice(0, -1), firstCut: KEY.slice(1), upper: KEY.toUpperCase(), lower: KEY.toLowerCase(),
    middle: KEY.slice(5, 20), upperCut: KEY.slice(2, -2).toUpperCase(),
  };
  const s = await serve((req, res) => {
    const e = echoes[req.url.split('/').pop()];
    res.writeHead(401, { 'Content-Type': 'application/json', 'Request-Id': `req_${e}` });
    res.end(JSON.stringify({ type: 'authentication_error', message: `No such key: ${e}`, param: `k ${e}`, detail: { key: e, [e]: [`x${e}y`] } }));
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url });
  // Any run of 8 characters of the key, in any case.
  const runs = Array.from({ length: KEY.length - 7 }, (_, i) => KEY.slice(i, i + 8).toLowerCase());
  const leak = (text) => runs.find((r) => String(text).toLowerCase().includes(r));
  for (const which of Object.keys(echoes)) {
    const e = await qp.charges.retrieve(which).then(() => null, (x) => x);
    assert.ok(e instanceof QbitPayError, `${which}: ${e}`);
    for (const [where, text] of [['message', e.message], ['stack', e.stack], ['raw', JSON.stringify(e.raw)], ['detail', JSON.stringify(e.detail)],
      ['requestId', e.requestId], ['param', e.param], ['toJSON', JSON.stringify(e)]]) {
      assert.equal(leak(text), undefined, `${which} in ${where}: ${text}`);
    }
    assert.match(e.message, /^No such key: \[redacted\]$/, which);
  }
  // Text that shares fewer than 8 characters in a row with the key is left alone.
  const said = 'Keys start with sk_test and this one ends in wK4c';
  const s2 = await serve((req, res) => {
    res.writeHead(400, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: said, param: 'apiKey' }));
  });
  const e = await new QbitPay({ apiKey: KEY, baseUrl: s2.url }).charges.retrieve('x').then(() => null, (x) => x);
  assert.equal(e.message, said);
});

test('a network error names the URL it tried (origin and path, never credentials), also the default one when baseUrl was forgotten', async () => {
  const qp = new QbitPay({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9', maxRetries: 0 });
  const e = await qp.charges.retrieve('ch_1', { timeoutMs: 5000 }).then(() => null, (x) => x);
  assert.equal(e?.code, 'network', String(e));
  assert.match(e.message, /http:\/\/127\.0\.0\.1:9\/api\/v1\/charges\/ch_1/);
  const listed = await qp.charges.list({ limit: 3, externalOrderId: KEY }).then(() => null, (x) => x);
  assert.match(listed.message, /http:\/\/127\.0\.0\.1:9\/api\/v1\/charges[^?]/);
  assert.ok(!JSON.stringify(listed).includes(KEY) && !listed.message.includes('?'), listed.message);
  // No baseUrl: the default address, said to be the default (a fetch that cannot connect, so nothing leaves this machine).
  const offline = new QbitPay({ apiKey: KEY, maxRetries: 0, fetch: async () => { throw new TypeError('fetch failed'); } });
  const e2 = await offline.charges.retrieve('ch_1').then(() => null, (x) => x);
  assert.equal(e2?.code, 'network');
  assert.match(e2.message, /https:\/\/matrix-content-s\.ailingual\.cn\/api\/v1\/charges\/ch_1/);
  assert.match(e2.message, /baseUrl/);
  assert.ok(e2.cause instanceof TypeError);
});

test('free() and [Symbol.dispose]() of a list and a page release them early and break nothing else', async () => {
  const calls = [];
  const s = await serve(circularList(calls));
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url });
  const list = qp.charges.list({ limit: 2 });
  const page = await list;
  page.free();
  page[Symbol.dispose]();
  await assert.rejects(() => page.nextPage(), TypeError, 'a freed page has no cursors');
  assert.deepEqual(page.data.map((c) => c.id), ['a1', 'a2'], 'its items stay');
  // The walk of a list whose first page was freed fetches that page again.
  const seen = [];
  const walked = await (async () => { for await (const c of list) seen.push(c.id); })().catch((e) => e);
  assert.equal(walked?.code, 'cursor_not_advancing');
  assert.deepEqual(seen, ['a1', 'a2', 'b1', 'b2']);
  list.free();
  list[Symbol.dispose]();
  assert.deepEqual((await list).data.map((c) => c.id), ['a1', 'a2'], 'a freed list fetches its first page again');
});
