// Variations on the hostile servers of hostile.test.mjs: a long error body within
// maxResponseBytes, a list id of megabytes, options JSON cannot hold, a Retry-After that is a
// date or garbage, the credential echoed in part in an encoded form, a key in a call's id seen
// by hooks, a baseUrl with user info. Local stub servers on 127.0.0.1; each test states what
// it must not do.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { QbitPay, QbitPayError, QbitPayInvalidRequestError } from 'qbitpay';
import { stubServers } from '../support/sandbox.mjs';

const KEY = 'sk_test_Zq8HhV3mR7pL2xN9wK4c';
const MIB = 1024 * 1024;
const serve = stubServers(after);

// The wasm instance the package entry initialised (Node caches the glue by its real path).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const glue = createRequire(import.meta.url)(path.join(root, 'pkg', 'cjs', 'qbitpay_client.cjs'));
const wasmBytes = () => glue.initSync({ module: new Uint8Array(0) }).memory.buffer.byteLength;

test('a long error body within maxResponseBytes is quoted in part, not copied into the module: its memory stays flat', async () => {
  // 6 MiB each (under the default 8 MiB): a JSON error whose detail is a long array, text, an array (a
  // 2xx that is not an object too).
  const bodies = {
    json: JSON.stringify({ type: 'api_error', message: `oops ${KEY}`, detail: Array(3 * MIB).fill(0) }),
    text: `<html>${KEY}${'x'.repeat(6 * MIB)}</html>`,
    array: JSON.stringify([KEY, ...Array(3 * MIB).fill(0)]),
  };
  const s = await serve((req, res) => {
    const [which, status] = req.url.split('/').pop().split('-');
    const body = bodies[which] ?? '{"message":"no such charge"}';
    res.writeHead(Number(status) || 404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Request-Id': 'req_long' });
    res.end(body);
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
  await qp.charges.retrieve('warm').catch(() => {});
  const before = wasmBytes();
  for (const which of Object.keys(bodies)) {
    for (const status of which === 'json' ? [500, 400, 429] : [500, 400, 429, 200]) {
      const e = await qp.charges.retrieve(`${which}-${status}`).then(() => null, (x) => x);
      assert.ok(e instanceof QbitPayError, `${which} ${status}: ${e}`);
      assert.equal(e.statusCode, status);
      assert.equal(e.requestId, 'req_long');
      assert.match(e.message, /with a body of more than 65536 characters/, `${which} ${status}`);
      assert.equal(typeof e.raw, 'string');
      assert.ok(e.raw.length <= 203 && e.raw.endsWith('...'), `${which} ${status}: raw of ${e.raw.length}`);
      assert.ok(!util.inspect(e, { depth: 5 }).includes(KEY.slice(0, 12)), `${which} ${status}: the key`);
    }
  }
  const grew = wasmBytes() - before;
  assert.ok(grew < 4 * MIB, `wasm memory grew by ${(grew / MIB).toFixed(1)} MiB`);
});

test('a list page with an id of megabytes at one end is refused (it would be the next cursor), not copied into the module', async () => {
  const long = 'i'.repeat(2 * MIB);
  let requests = 0;
  const s = await serve((req, res) => {
    requests++;
    const q = new URL(req.url, 'http://x').searchParams;
    const which = q.get('externalOrderId');
    const at = q.get('starting_after');
    const data = which === 'first' ? [{ id: long }, { id: 'b' }]
      : which === 'last' ? [{ id: 'a' }, { id: at ? 'z' : long }]
        : [{ id: 'a' }, { id: at ? 'z' : 'i'.repeat(1024) }];
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data, hasMore: !at }));
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
  await qp.charges.list({ externalOrderId: 'bound' }).toArray({ max: 10 });
  const before = wasmBytes();
  for (const which of ['first', 'last']) {
    for (const call of [() => qp.charges.list({ limit: 2, externalOrderId: which }), () => qp.charges.list({ limit: 2, externalOrderId: which }).toArray({ max: 10 })]) {
      const e = await call().then(() => null, (x) => x);
      assert.equal(e?.code, 'invalid_response', `${which}: ${e}`);
      assert.match(e.message, /an item id of 2097152 characters at one end, longer than a cursor can be \(1024\)/);
    }
  }
  const grew = wasmBytes() - before;
  assert.ok(grew < 2 * MIB, `wasm memory grew by ${(grew / MIB).toFixed(1)} MiB`);
  // An id of 1024 characters is a cursor like any other.
  requests = 0;
  assert.deepEqual((await qp.charges.list({ limit: 2, externalOrderId: 'bound' }).toArray({ max: 10 })).map((c) => c.id.length), [1, 1024, 1, 1]);
  assert.equal(requests, 2);
});

test('an option that is NaN or ±Infinity (which JSON.stringify sends as null, i.e. absent) is refused, not replaced by its default; nothing is sent', async () => {
  let requests = 0;
  const s = await serve((req, res) => { requests++; res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"id":"ch_1","object":"charge","data":[]}'); });
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (const option of ['maxResponseBytes', 'timeoutMs', 'maxRetries']) {
      assert.throws(() => new QbitPay({ apiKey: KEY, baseUrl: s.url, [option]: bad }),
        (e) => e instanceof QbitPayInvalidRequestError && e.param === option && /^Invalid \w+: must be an integer from/.test(e.message), `${option}: ${bad}`);
      const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url });
      await assert.rejects(() => qp.charges.retrieve('ch_1', { [option]: bad }), { param: option }, `${option}: ${bad} per call`);
      await assert.rejects(() => qp.charges.list({ limit: 2 }, { [option]: bad }).toArray({ max: 5 }), { param: option }, `${option}: ${bad} in a list`);
    }
  }
  assert.equal(requests, 0);
  // A finite number, or null (absent), is as before.
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxResponseBytes: null, timeoutMs: 5000 });
  assert.equal((await qp.charges.retrieve('ch_1', { maxRetries: null })).id, 'ch_1');
  assert.equal(requests, 1);
});

test('a Retry-After that is an HTTP date is counted from the answer\'s Date; one that cannot be read still waits the initial delay', async () => {
  const at = [];
  let header = () => 'garbage';
  const s = await serve((req, res) => {
    at.push(performance.now());
    res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': header(), Date: new Date().toUTCString() });
    res.end('{"type":"rate_limit_error","message":"slow down"}');
  });
  const gaps = () => at.slice(1).map((t, i) => t - at[i]);
  // Dates only as IMF-fixdate, written exactly: looser text a date parser reads anyway
  // ('1 GMT' is 2001) is no date.
  const past = 'Wed, 21 Oct 2015 07:28:00 GMT';
  for (const h of ['garbage', '-1', '2, 3', '1 GMT', 'Tue, 21 Oct 2015 07:28:00 GMT', past]) {
    at.length = 0;
    header = () => h;
    const e = await new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 2 }).charges.retrieve('ch_1').then(() => null, (x) => x);
    assert.equal(e?.statusCode, 429, h);
    assert.equal(at.length, 3, h);
    for (const g of gaps()) assert.ok(g >= 495, `${h}: retried after ${g.toFixed(1)} ms`);
    assert.equal(e.retryAfter, h === past ? 0 : undefined, h);
  }
  // Two seconds after the server's own clock (whole seconds: 1 to 2 s from now).
  at.length = 0;
  header = () => new Date(Math.floor(Date.now() / 1000) * 1000 + 2000).toUTCString();
  const e = await new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 1 }).charges.retrieve('ch_1').then(() => null, (x) => x);
  assert.equal(at.length, 2);
  assert.ok(gaps()[0] >= 990, `retried after ${gaps()[0].toFixed(1)} ms`);
  assert.ok(e.retryAfter >= 1 && e.retryAfter <= 2, String(e.retryAfter));
});

test('the key echoed in part in its base64 or hex form (a Basic header cut short) reaches no error, inspect output or hook', async () => {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const basic = b64(`${KEY}:`);
  const echoes = {
    basicStart: `Basic ${basic.slice(0, 16)}`, basicEnd: basic.slice(12), b64Part: b64(KEY.slice(9, 21)),
    b64Shifted: b64(`x${KEY.slice(4, 16)}`), hexPart: Buffer.from(KEY.slice(0, 8)).toString('hex'),
    hexUpper: Buffer.from(KEY.slice(7, 15)).toString('hex').toUpperCase(),
  };
  const s = await serve((req, res) => {
    const e = echoes[req.url.split('/').pop()];
    res.writeHead(401, { 'Content-Type': 'application/json', 'Request-Id': `req ${e}` });
    res.end(JSON.stringify({ type: 'authentication_error', message: `bad header ${e}`, param: e, detail: { e, [e]: [e] } }));
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
  const events = [];
  qp.on('response', (e) => events.push(JSON.stringify(e)));
  // Any 8 characters of the key, after undoing base64 (at each alignment) or hex.
  const runs = Array.from({ length: KEY.length - 7 }, (_, i) => KEY.slice(i, i + 8).toLowerCase());
  const decoded = (t) => [t,
    ...(t.match(/[0-9a-fA-F]{16,}/g) || []).map((h) => Buffer.from(h, 'hex').toString('latin1')),
    ...(t.match(/[A-Za-z0-9+/]{11,}/g) || []).flatMap((r) => [0, 1, 2, 3].map((c) => Buffer.from(r.slice(c), 'base64').toString('latin1')))];
  const leak = (t) => decoded(String(t)).some((d) => runs.some((r) => d.toLowerCase().includes(r)));
  for (const which of Object.keys(echoes)) {
    assert.ok(leak(echoes[which]), `${which}: the echo holds the key`);
    const e = await qp.charges.retrieve(which).then(() => null, (x) => x);
    assert.ok(e instanceof QbitPayError, `${which}: ${e}`);
    for (const [where, text] of [['message', e.message], ['inspect', util.inspect(e, { depth: 9 })], ['toJSON', JSON.stringify(e)], ['hook', events.at(-1)]]) {
      assert.ok(!leak(text), `${which} in ${where}: ${text}`);
    }
  }
});

test('hook events never hold the key, also when a call passes it as an id or a filter', async () => {
  const s = await serve((req, res) => { res.writeHead(404, { 'Content-Type': 'application/json' }); res.end('{"message":"no such charge"}'); });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
  const events = [];
  qp.on('request', (e) => events.push(e));
  qp.on('response', (e) => events.push(e));
  await qp.charges.retrieve(KEY).catch(() => {});
  await qp.charges.list({ externalOrderId: KEY.toUpperCase() }).catch(() => {});
  await qp.charges.update(`x${KEY.slice(0, 12)}`, { status: 'buyerPaid' }).catch(() => {});
  assert.equal(events.length, 6);
  for (const e of events) {
    assert.ok(!JSON.stringify(e).toLowerCase().includes(KEY.slice(0, 9).toLowerCase()), JSON.stringify(e));
    assert.match(e.path, /^\/api\/v1\/charges.*\[redacted\]/);
  }
});

test('a baseUrl with user info: the user info is never sent nor quoted (not in the error, its cause or inspect output)', async () => {
  for (const creds of ['user:pa55word', `${KEY}:`]) {
    const qp = new QbitPay({ apiKey: KEY, baseUrl: `http://${creds}@127.0.0.1:9/`, maxRetries: 0 });
    const e = await qp.charges.retrieve('ch_1', { timeoutMs: 5000 }).then(() => null, (x) => x);
    assert.equal(e?.code, 'network', String(e));
    assert.match(e.message, /at http:\/\/127\.0\.0\.1:9\/api\/v1\/charges\/ch_1 /);
    const shown = util.inspect(e, { depth: 9 });
    assert.ok(!shown.includes('pa55word') && !shown.includes(KEY.slice(0, 12)), shown);
  }
  // A live server gets the request, with the key in the Authorization header only.
  let auth;
  const s = await serve((req, res) => { auth = req.headers.authorization; res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"id":"ch_1","object":"charge"}'); });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url.replace('http://', 'http://user:pa55word@') });
  assert.equal((await qp.charges.retrieve('ch_1')).id, 'ch_1');
  assert.equal(auth, `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`);
});

test('the key spelt out with spaces or zero-width characters between its characters reaches no error, inspect output or hook', async () => {
  const spelt = (s, sep) => [...s].join(sep);
  const echoes = {
    zwsp: spelt(KEY, '\u200b'), joiners: spelt(KEY, '\u200d'), bom: spelt(KEY, '\ufeff'), shy: spelt(KEY, '\u00ad'),
    spaces: spelt(KEY, ' '), nbsp: spelt(KEY.toUpperCase(), '\u00a0'), groups: KEY.match(/.{1,4}/g).join(' '), part: spelt(KEY.slice(6, 20), '\u2060'),
  };
  const s = await serve((req, res) => {
    const which = req.url.split('/').pop();
    const e = echoes[which];
    // A header holds Latin-1 only: the zero-width forms go in the body.
    res.writeHead(401, { 'Content-Type': 'application/json', 'Request-Id': `req ${/^[\x20-\xff]*$/.test(e) ? e : which}` });
    res.end(JSON.stringify({ type: 'authentication_error', message: `No such key: ${e}`, param: e, detail: { key: e, nested: { error: { message: e } }, [e]: [e] } }));
  });
  const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
  const events = [];
  qp.on('response', (e) => events.push(JSON.stringify(e)));
  // Any 8 characters of the key in a row, in any case, once white space and invisible characters are left out.
  const runs = Array.from({ length: KEY.length - 7 }, (_, i) => KEY.slice(i, i + 8).toLowerCase());
  const seen = (t) => String(t).replace(/[\s\u00ad\u200b-\u200f\u2060-\u2064\ufeff]|\\[tn]/g, '').toLowerCase();
  const leak = (t) => runs.some((r) => seen(t).includes(r));
  for (const which of Object.keys(echoes)) {
    assert.ok(leak(echoes[which]), `${which}: the echo holds the key`);
    const e = await qp.charges.retrieve(which).then(() => null, (x) => x);
    assert.ok(e instanceof QbitPayError, `${which}: ${e}`);
    for (const [where, text] of [['message', e.message], ['stack', e.stack], ['String', String(e)], ['toJSON', JSON.stringify(e)],
      ['inspect', util.inspect(e, { depth: 9 })], ['requestId', e.requestId], ['hook', events.at(-1)]]) {
      assert.ok(!leak(text), `${which} in ${where}: ${text}`);
    }
    assert.match(e.message, /\[redacted\]/, which);
  }
});

// A list server that goes round without ever answering with a cursor exactly as it was
// fetched (the last id's case or white space changed each time), or says more items follow
// on a page that has no id to fetch them after.
function slipperyList(kind) {
  let n = 0;
  const ids = (at) => {
    n++;
    if (at === '') return ['a1', 'abcdefghijklmnop'];
    switch (kind) {
      // Each answer another spelling of the same id: 2^16 of them in case alone.
      case 'case': return ['b1', [...'abcdefghijklmnop'].map((c, i) => ((n >> i) & 1 ? c.toUpperCase() : c)).join('')];
      case 'space': return ['b1', `abcdefghijklmnop${n % 2 ? ' ' : '\u200b'.repeat(n)}`];
      case 'empty': return [];
      case 'noId': return ['b1', null];
      default: throw new Error(kind);
    }
  };
  return (req, res) => {
    const q = new URL(req.url, 'http://x').searchParams;
    const at = q.get('starting_after') ?? q.get('ending_before') ?? '';
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: ids(at).map((id) => (id === null ? { object: 'charge' } : { id, object: 'charge' })), hasMore: true }));
  };
}

for (const kind of ['case', 'space', 'empty', 'noId']) {
  test(`a list server whose pages cannot be followed (${kind}): for await, toArray, nextPage and a backward walk end with cursor_not_advancing in a few requests`, async () => {
    let requests = 0;
    const handler = slipperyList(kind);
    const s = await serve((req, res) => { requests++; handler(req, res); });
    const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0 });
    const walk = (params) => (async () => {
      let items = 0;
      for await (const c of qp.charges.list(params)) { void c; if (++items > 100) return `${items} items`; }
      return 'the end';
    })().catch((e) => e);
    const nextPages = async () => {
      let p = await qp.charges.list({ limit: 2 });
      for (let i = 0; i < 50 && p.hasMore; i++) p = await p.nextPage();
      return p.hasMore ? 'still more' : 'the end';
    };
    for (const [how, run] of [['for await', () => walk({ limit: 2 })], ['toArray', () => qp.charges.list({ limit: 2 }).toArray({ max: 10_000 })],
      ['nextPage', nextPages], ['backward', () => walk({ limit: 2, endingBefore: 'zz' })]]) {
      requests = 0;
      const e = await run().then((v) => v, (x) => x);
      assert.ok(e instanceof QbitPayError, `${how}: ${e}`);
      assert.equal(e.code, 'cursor_not_advancing', `${how}: ${e.message}`);
      assert.ok(requests <= 3, `${how}: ${requests} requests`);
    }
  });
}

test('a 2xx body within maxResponseBytes that holds more values than a parse may make (a gzip or brotli bomb of empty objects) is refused unparsed: typed error naming the limit, memory bounded', async () => {
  const zlib = await import('node:zlib');
  // Empty objects: JSON.parse makes ~70 bytes of each 3 characters. 7 MiB of them (under the
  // default limit) and 48 MiB (under the largest) compress to a few KB.
  const page = (mib) => Buffer.concat([Buffer.from('{"object":"list","data":['), Buffer.alloc(Math.floor(mib * MIB / 3) * 3, '{},'), Buffer.from('{}]}')]);
  const bombs = { small: zlib.gzipSync(page(7)), large: zlib.brotliCompressSync(page(48)) };
  const long = JSON.stringify({ id: 'ch_long', object: 'charge', data: [], pad: 'x'.repeat(3 * MIB) });
  const s = await serve((req, res) => {
    const which = new URL(req.url, 'http://x').searchParams.get('externalOrderId') ?? req.url.split('/').pop();
    if (which === 'long') { res.writeHead(200, { 'Content-Type': 'application/json' }); return res.end(long); }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': which === 'large' ? 'br' : 'gzip', 'Request-Id': `req_${which}` });
    res.end(bombs[which]);
  });
  const rss0 = process.memoryUsage().rss;
  for (const [which, limit] of [['small', undefined], ['large', 2 ** 28]]) {
    const qp = new QbitPay({ apiKey: KEY, baseUrl: s.url, maxRetries: 0, maxResponseBytes: limit });
    for (const call of [() => qp.charges.retrieve(which), () => qp.charges.list({ externalOrderId: which }), () => qp.charges.list({ externalOrderId: which }).toArray({ max: 10 })]) {
      const e = await call().then(() => null, (x) => x);
      assert.ok(e instanceof QbitPayError, `${which}: ${e}`);
      assert.equal(e.code, 'response_too_large', `${which}: ${e.message}`);
      assert.equal(e.statusCode, 200);
      assert.equal(e.requestId, `req_${which}`);
      assert.match(e.message, new RegExp(`holds more than \\d+ JSON values, more than maxResponseBytes \\(${limit ?? 8 * MIB}\\) lets it parse`));
    }
  }
  const grew = process.memoryUsage().rss - rss0;
  assert.ok(grew < 400 * MIB, `RSS grew by ${(grew / MIB).toFixed(0)} MiB`);
  // A long body of few values is read as before.
  assert.equal((await new QbitPay({ apiKey: KEY, baseUrl: s.url }).charges.retrieve('long')).pad.length, 3 * MIB);
});
