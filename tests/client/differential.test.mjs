// The client and the sandbox refuse the same parameters. Hundreds of generated variants of
// valid parameters of every operation that takes some (unknown fields, extra destination
// fields, empty and blank strings, long text, wrong types, amounts out of range, bad enums
// and URLs, missing fields...) are sent both ways: through the client (the built package:
// refused before any request, or handed to a `fetch` that records it) and to the sandbox
// over HTTP as the same JSON (for a GET, the query the client builds; and, where text
// carries it without loss, as a form too). Each must be refused by both with the same
// `param` and message, or accepted by both. QBITPAY_DIFF_SEED and QBITPAY_DIFF_ROUNDS run
// other variants.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QbitPay, QbitPayInvalidRequestError } from 'qbitpay';
import { startSandbox, startStubServer } from '../support/sandbox.mjs';

const SEED = Number(process.env.QBITPAY_DIFF_SEED ?? 27);
const ROUNDS = Number(process.env.QBITPAY_DIFF_ROUNDS ?? 1);

let sb, hooks, auth, chargeId;
/** An object of each list, for its cursors. */
const cursors = {};

before(async () => {
  hooks = await startStubServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
  sb = await startSandbox({ args: ['--webhook-url', `${hooks.url}/default`, '--payout-transit-after', '3600'] });
  auth = `Basic ${Buffer.from(`${sb.apiKey}:`).toString('base64')}`;
  const qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url });
  const charge = (n) => qp.charges.create({
    amount: 100, currency: 'USD', externalOrderId: `diff-${n}`, cbUrl: `${hooks.url}/cb`, redirectUrl: 'https://shop.example/done',
  });
  chargeId = (await charge(0)).id;
  const funded = await charge(1);
  const confirmed = await fetch(`${sb.url}/sandbox/charges/${funded.id}/confirm`, { method: 'POST', headers: { authorization: auth } });
  assert.equal(confirmed.status, 200);
  const payout = await qp.payouts.create({ amount: 5, currency: 'USDT', destination: { type: 'wallet', payerName: 'A', addr: 'T1' } });
  cursors['charges.list'] = chargeId;
  cursors['payouts.list'] = payout.id;
  cursors['balanceTransactions.list'] = (await qp.balanceTransactions.list({ limit: 1 })).data[0].id;
});
after(async () => { await sb?.stop(); await hooks?.stop(); });

// ---- a small deterministic generator

function rng(seed) {
  let x = seed >>> 0 || 1;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (a) => a[Math.floor(next() * a.length)],
    chance: (p) => next() < p,
  };
}

const TEXT = ['order-1', 'Ann Lee', 'é', '注文 42', '  padded  ', '0', 'a/b?c=d&e', '😀'];
const LONG = [299, 300, 499, 500, 501, 600].map((n) => 'x'.repeat(n)).concat(['é'.repeat(500), 'é'.repeat(501), '😀'.repeat(500), '😀'.repeat(501)]);
const URLS = ['http://127.0.0.1:9/cb', 'https://shop.example/done?x=1#y', 'HTTP://LOCALHOST/a', 'http://u:p@127.0.0.1:80/h'];
const BAD_URLS = ['', ' ', '/relative', 'ftp://x/y', 'https://', 'http://:80', 'https://a b', 'javascript:alert(1)', 'shop.example', `https://h/${'a'.repeat(2100)}`, 'http:///x'];
const WRONG = [0, 1, -1, 1.5, true, false, null, [], ['x'], {}, { a: 1 }, '', ' ', '100', 'NaN', NaN, Infinity, undefined];
const AMOUNTS = [0, -1, 0.001, 0.0099, 0.01, 0.5, 0.999, 1, 1.005, 999999.99, 1e6, 1e6 + 0.01, 1e9, 1e9 + 1, 1e21, 2 ** 53, -0, 5e-324, NaN, Infinity, '100', '1e3'];
const UNKNOWN = ['unknownField', 'amountt', 'cbUrl', 'swift', 'destination', 'description', 'limit', 'starting_after', 'status', 'type', '0', '__proto__x', 'constructor'];
const DEST_FIELDS = ['payerName', 'bankAccountNum', 'bankName', 'addr', 'swift', 'bankRoutingNum', 'bankDetailName', 'bankAddr', 'city', 'state', 'country', 'postalCode', 'iban', 'accountNum', 'type'];

const DEST = {
  bankAccount: { required: ['payerName', 'bankAccountNum', 'bankName'], optional: ['bankRoutingNum', 'bankDetailName', 'bankAddr', 'city', 'state', 'country', 'postalCode', 'swift'] },
  wallet: { required: ['payerName', 'addr'], optional: [] },
  Alipay: { required: ['payerName', 'bankAccountNum'], optional: [] },
  PayPal: { required: ['payerName', 'bankAccountNum'], optional: [] },
  'Coins.ph': { required: ['payerName', 'bankAccountNum'], optional: [] },
  GCash: { required: ['payerName', 'bankAccountNum'], optional: [] },
};
const PAYMENT_TYPES = { CNY: ['Alipay', 'Yunshanfu', 'bankAccount'], USD: ['PayPal', 'bankAccount'], PHP: ['Coins.ph', 'GCash'] };

// A list's pagination; a cursor that names no object is the sandbox's to refuse (its state),
// so cursors are the id of an object that exists, or not text at all.
const PAGINATION = { limit: 'limit', startingAfter: 'cursor', starting_after: 'cursor', endingBefore: 'cursor', ending_before: 'cursor' };

// Valid parameters of each operation, and what each of their fields is (for mutations).
const OPS = {
  'charges.create': {
    call: (c, p) => c.charges.create(p), method: 'POST', path: () => '/api/v1/charges',
    valid(r) {
      const p = { amount: r.pick([0.01, 1, 12.5, 100, 999999.99, 1e6]), currency: r.pick(['USD', 'USDT']), externalOrderId: r.pick(TEXT), cbUrl: r.pick(URLS), redirectUrl: r.pick(URLS) };
      if (r.chance(0.4)) p.baseCurrency = r.pick(['BTC', 'USDT']);
      if (r.chance(0.5)) { const q = r.pick(['CNY', 'USD', 'PHP']); p.quoteCurrency = q; if (r.chance(0.7)) p.paymentType = r.pick(PAYMENT_TYPES[q]); }
      if (r.chance(0.4)) p.payerName = r.pick(TEXT);
      return p;
    },
    fields: { amount: 'amount', currency: ['USD', 'USDT'], externalOrderId: 'text', cbUrl: 'url', redirectUrl: 'url', baseCurrency: ['BTC', 'USDT'], quoteCurrency: ['CNY', 'USD', 'PHP'], paymentType: ['Alipay', 'Yunshanfu', 'bankAccount', 'PayPal', 'Coins.ph', 'GCash'], payerName: 'text' },
    weight: 30,
  },
  'payouts.create': {
    call: (c, p) => c.payouts.create(p), method: 'POST', path: () => '/api/v1/payouts',
    valid(r) {
      const type = r.pick(Object.keys(DEST));
      const destination = { type };
      for (const f of DEST[type].required) destination[f] = r.pick(TEXT);
      for (const f of DEST[type].optional) if (r.chance(0.3)) destination[f] = r.pick(TEXT);
      const p = { amount: r.pick([1, 5, 10.5, 1e4, 1e9]), currency: r.pick(['USD', 'USDT']), destination };
      if (r.chance(0.4)) p.description = r.pick(TEXT);
      if (r.chance(0.4)) p.externalOrderId = r.pick(TEXT);
      return p;
    },
    fields: { amount: 'amount', currency: ['USD', 'USDT'], destination: 'destination', description: 'text', externalOrderId: 'text' },
    weight: 30,
  },
  'charges.update': {
    call: (c, p) => c.charges.update(chargeId, p), method: 'PUT', path: () => `/api/v1/charges/${chargeId}`,
    valid: () => ({ status: 'buyerPaid' }),
    fields: { status: ['buyerPaid'] },
    weight: 6,
  },
  'charges.list': {
    call: (c, p) => c.charges.list(p), method: 'GET', path: () => '/api/v1/charges',
    valid(r) { const p = {}; if (r.chance(0.5)) p.limit = r.int(100) + 1; if (r.chance(0.5)) p.externalOrderId = r.pick(TEXT); return p; },
    fields: { ...PAGINATION, externalOrderId: 'text' },
    weight: 7,
  },
  'balanceTransactions.list': {
    call: (c, p) => c.balanceTransactions.list(p), method: 'GET', path: () => '/api/v1/balanceTransactions',
    valid(r) {
      const p = {};
      if (r.chance(0.5)) p.type = r.pick(['charge', 'payout', 'payout_cancel', 'payout_failure']);
      if (p.type && r.chance(0.5)) p.source = r.pick(['ch_1', 'po_2']);
      if (r.chance(0.4)) p.status = r.pick(['pending', 'available']);
      if (r.chance(0.3)) p.limit = r.int(100) + 1;
      return p;
    },
    fields: { ...PAGINATION, type: ['charge', 'payout', 'payout_cancel', 'payout_failure'], source: 'text', status: ['pending', 'available'] },
    weight: 7,
  },
  'payouts.list': {
    call: (c, p) => c.payouts.list(p), method: 'GET', path: () => '/api/v1/payouts',
    valid(r) { const p = {}; if (r.chance(0.5)) p.destination = r.pick(['wallet', 'T1']); if (r.chance(0.5)) p.status = r.pick(['pending', 'inTransit', 'paid', 'cancelled', 'failed']); return p; },
    fields: { ...PAGINATION, destination: 'text', status: ['pending', 'inTransit', 'paid', 'cancelled', 'failed'] },
    weight: 6,
  },
  'markets.ticker': {
    call: (c, p) => c.markets.ticker(p), method: 'GET', path: () => '/api/v1/markets/ticker',
    valid: (r) => ({ symbol: `${r.pick(['BTC', 'USDT'])}/${r.pick(['CNY', 'USD', 'PHP'])}`, side: r.pick(['ask', 'bid']) }),
    fields: { symbol: ['USDT/CNY', 'BTC/PHP', 'USDTCNY', 'ETH/CNY', 'USDT/CNY/X', 'usdt/cny', '/'], side: ['ask', 'bid'] },
    weight: 6,
  },
  'events.test': {
    call: (c, p) => c.events.test(p), method: 'GET', path: () => '/api/v1/events/test',
    valid: (r) => (r.chance(0.7) ? { cbUrl: `${hooks.url}/hook${r.int(9)}` } : {}),
    // Deliveries go to this machine only (the sandbox refuses other hosts: its rule, not the API's).
    fields: { cbUrl: 'loopbackUrl' },
    weight: 4,
  },
};

/** A value for a field of `kind`: valid or not. */
function value(r, kind, name) {
  if (Array.isArray(kind)) {
    return r.chance(0.5) ? r.pick(kind) : r.pick(['', 'EUR', kind[0].toLowerCase(), kind[0].toUpperCase(), ` ${kind[0]}`, ...WRONG]);
  }
  switch (kind) {
    case 'amount': return r.pick(AMOUNTS);
    case 'text': return r.pick([...TEXT, ...LONG, ...WRONG]);
    case 'url': return r.pick([...URLS, ...BAD_URLS, ...WRONG]);
    case 'loopbackUrl': return r.pick([`${hooks.url}/x`, ...BAD_URLS, ...WRONG]);
    case 'limit': return r.pick([1, 10, 100, 0, 101, -1, 1.5, 1e3, '10', 'abc', '', null, true]);
    case 'cursor': return r.chance(0.6) ? cursors[name] : r.pick(['', 5, null, [], {}]);
    case 'destination': return r.pick(['wallet', '', null, [], 7, {}, { type: 'moon' }, { type: null }, { type: 'Yunshanfu', payerName: 'A', bankAccountNum: '1' }, { payerName: 'A', addr: 'T' }]);
    default: throw new Error(kind);
  }
}

/** One to three mutations of valid parameters. */
function mutate(r, name, op, p) {
  const names = Object.keys(op.fields);
  for (let n = 1 + r.int(3); n > 0; n--) {
    const m = r.int(10);
    if (m === 0) p[r.pick(UNKNOWN.filter((u) => !(u in op.fields)))] = r.pick(WRONG.concat(TEXT));
    else if (m === 1 && typeof p.destination === 'object' && p.destination) {
      p.destination = { ...p.destination, [r.pick(DEST_FIELDS)]: r.pick(['', ' ', 'X', 'GB29NWBK', 7, null, ...LONG.slice(2, 5)]) };
    } else if (m === 2) delete p[r.pick(Object.keys(p).concat(names))];
    else if (m === 3 && r.chance(0.2)) return r.pick(['x', 7, [], null, [p], true]);
    else if (m === 4 && typeof p.destination === 'object' && p.destination) {
      const d = { ...p.destination };
      delete d[r.pick(Object.keys(d))];
      p.destination = d;
    } else {
      const field = r.pick(names);
      p[field] = value(r, op.fields[field], name);
    }
  }
  return p;
}

// ---- the two sides

const LIST = JSON.stringify({ object: 'list', url: '/api/v1/x', data: [] });

/** What the client does with `params`: refused before any request, or sent. */
async function throughClient(op, params) {
  let sent = 0;
  const fetch = async () => { sent++; return new Response(LIST, { status: 200, headers: { 'content-type': 'application/json' } }); };
  const c = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url, fetch, maxRetries: 0 });
  try {
    await op.call(c, params);
  } catch (e) {
    if (sent === 0) {
      assert.ok(e instanceof QbitPayInvalidRequestError && e.statusCode === undefined, `client: ${e.stack}`);
      return { refused: true, param: e.param, message: e.message };
    }
    throw e;
  }
  assert.equal(sent, 1, 'the client sent one request');
  return { refused: false };
}

/** A GET's query as the client writes one (strings as they are, other values as JSON, nulls left out). */
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === null || v === undefined) continue;
    q.append(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A GET query carries the variant when text loses nothing the client judges: no value of another type where text goes, no digits in text where a number goes. */
function queryCarries(op, params) {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return false;
  return Object.entries(params).every(([k, v]) => {
    const kind = op.fields[k];
    if (v === undefined) return true;
    // `null` is absent where the parameter is declared, and refused where it is not.
    if (v === null) return kind !== undefined;
    if (kind === undefined) return JSON.stringify(v) !== undefined; // unknown: refused by name either way
    if (kind === 'limit') return typeof v === 'number' ? Number.isFinite(v) : typeof v === 'string' && !/^\s*-?\d/.test(v);
    return typeof v === 'string';
  });
}

/**
 * A form carries the variant when every value is text where text goes, a finite number where
 * one goes, and a destination a non-empty object of text (a form has no `null`, no types, no
 * empty object).
 */
function form(op, params) {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return null;
  const f = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    const kind = op.fields[k];
    if (kind === 'amount' && typeof v === 'number' && Number.isFinite(v)) f.append(k, String(v));
    else if (kind === 'destination' && v && typeof v === 'object' && !Array.isArray(v)) {
      const members = Object.entries(v).filter(([, dv]) => dv !== undefined);
      if (members.length === 0 || members.some(([, dv]) => typeof dv !== 'string')) return null;
      for (const [dk, dv] of members) f.append(`${k}[${dk}]`, dv);
    } else if (typeof v === 'string' && kind !== 'amount' && kind !== 'destination') f.append(k, v);
    else return null;
  }
  return f.toString();
}

async function throughSandbox(op, params, body) {
  const init = { method: op.method, headers: { authorization: auth } };
  let url = sb.url + op.path();
  if (op.method === 'GET') url += query(params);
  else if (body === undefined) {
    init.headers['content-type'] = 'application/json';
    const json = JSON.stringify(params);
    if (json !== undefined) init.body = json;
  } else {
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = body;
  }
  const res = await fetch(url, init);
  const text = await res.text();
  assert.ok([200, 400, 402].includes(res.status), `sandbox: HTTP ${res.status} ${text}`);
  if (res.status !== 400) return { refused: false };
  const e = JSON.parse(text);
  assert.equal(e.type, 'invalid_request_error', text);
  return { refused: true, param: e.param, message: e.message };
}

// ---- the comparison

const show = (v) => { try { return JSON.stringify(v, (_, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x === undefined ? '<undefined>' : x))?.slice(0, 300); } catch { return String(v); } };

test('the client and the sandbox refuse the same parameters alike, and accept the same', async () => {
  const r = rng(SEED);
  const names = Object.keys(OPS);
  const weights = names.flatMap((n) => Array(OPS[n].weight).fill(n));
  const tally = Object.fromEntries(names.map((n) => [n, { refused: 0, accepted: 0, forms: 0 }]));
  const disagreements = [];
  const total = 700 * ROUNDS;
  for (let i = 0; i < total; i++) {
    const name = weights[r.int(weights.length)];
    const op = OPS[name];
    const params = r.chance(0.1) ? op.valid(r) : mutate(r, name, op, op.valid(r));
    const client = await throughClient(op, structuredClone(params));
    if (op.method === 'GET' && !queryCarries(op, params)) continue;
    const sandbox = await throughSandbox(op, params);
    if (!client.refused && !sandbox.refused) tally[name].accepted++;
    else tally[name].refused++;
    if (JSON.stringify(client) !== JSON.stringify(sandbox)) disagreements.push({ name, params: show(params), client, sandbox });
    const body = op.method === 'GET' ? null : form(op, params);
    if (body) {
      tally[name].forms++;
      const asForm = await throughSandbox(op, params, body);
      if (JSON.stringify(asForm) !== JSON.stringify(sandbox)) disagreements.push({ name, form: body.slice(0, 300), json: sandbox, asForm });
    }
  }
  if (process.env.QBITPAY_DIFF_VERBOSE) console.log(tally);
  assert.deepEqual(disagreements.slice(0, 10), [], `${disagreements.length} disagreements`);
  // Not vacuous: each operation was refused and accepted many times, creates as forms too.
  for (const [name, t] of Object.entries(tally)) {
    assert.ok(t.refused >= 10 && t.accepted >= 3, `${name}: ${JSON.stringify(t)}`);
    if (OPS[name].method !== 'GET') assert.ok(t.forms >= 3, `${name}: ${JSON.stringify(t)}`);
  }
  const compared = Object.values(tally).reduce((n, t) => n + t.refused + t.accepted, 0);
  assert.ok(compared >= 600 * ROUNDS, `only ${compared} compared`);
});

test('the cases that once disagreed: unknown fields, extra destination fields, long text', async () => {
  const wallet = { type: 'wallet', payerName: 'Ann', addr: 'T1' };
  const payout = (extra, destination = wallet) => ({ amount: 5, currency: 'USDT', destination, ...extra });
  const charge = (extra) => ({ amount: 5, currency: 'USD', externalOrderId: 'o', cbUrl: URLS[0], redirectUrl: URLS[1], ...extra });
  for (const [name, params, param, message] of [
    ['charges.create', charge({ unknownField: 0 }), 'unknownField', 'Unknown parameter: unknownField'],
    ['payouts.create', payout({ unknownField: 0 }), 'unknownField', 'Unknown parameter: unknownField'],
    ['payouts.create', payout({}, { type: 'Alipay', payerName: 'A', bankAccountNum: '1', swift: 'S' }), 'destination.swift', 'Unknown parameter: destination.swift'],
    ['payouts.create', payout({}, { type: 'GCash', payerName: 'A', bankAccountNum: '1', bankRoutingNum: 'R' }), 'destination.bankRoutingNum', 'Unknown parameter: destination.bankRoutingNum'],
    ['payouts.create', payout({}, { ...wallet, country: '' }), 'destination.country', 'Unknown parameter: destination.country'],
    ['payouts.create', payout({}, { type: 'bankAccount', payerName: 'A', bankAccountNum: '1', bankName: 'B', country: '' }), 'destination.country', 'Invalid destination.country: must be a non-empty string'],
    ['payouts.create', payout({ description: 'd'.repeat(501) }), 'description', 'Invalid description: must be at most 500 characters'],
    ['payouts.create', payout({ cbUrl: 'http://127.0.0.1:9/h' }), 'cbUrl', 'Unknown parameter: cbUrl'],
    ['charges.create', charge({ amount: 1e6 + 1 }), 'amount', 'Invalid amount: must be a number from 0.01 to 1000000'],
  ]) {
    const op = OPS[name];
    const expected = { refused: true, param, message };
    assert.deepEqual(await throughClient(op, params), expected, `client: ${name} ${show(params)}`);
    assert.deepEqual(await throughSandbox(op, params), expected, `sandbox: ${name} ${show(params)}`);
  }
  // 300 characters of text are accepted by both.
  const long = payout({ description: 'é'.repeat(300) });
  assert.deepEqual(await throughClient(OPS['payouts.create'], long), { refused: false });
  assert.deepEqual(await throughSandbox(OPS['payouts.create'], long), { refused: false });
});
