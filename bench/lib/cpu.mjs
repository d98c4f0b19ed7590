// The client's own CPU per call, the network taken out: every contender gets the same
// `fetch`, which answers at once with a prepared body (as a server would: JSON, its
// Content-Length, a Request-Id), so what is timed is what each does around `fetch`.
//   raw      a hand-written loop: fetch with a per-request timeout (AbortController +
//            setTimeout, what `timeoutMs` needs at the least), JSON.parse of the text
//   qbitpay  the SDK (`fetch` option)
//   stripe   stripe-node on `Stripe.createFetchHttpClient(fetch)`
//   before   the SDK of an earlier build (`before`: a package directory, as bench/webhook.mjs's
//            QBITPAY_BEFORE_PKG), when given
// for `retrieve`, `create` and one page of `list` (100 items), in interleaved rounds; the
// ratios are medians of per-round ratios. Timed in CPU time of the process (user + system,
// garbage collection included), which other processes on the machine disturb less than the
// clock. `chunked`: answers without a Content-Length (a chunked body), which the SDK reads as
// a counted stream. Run by `node bench/client.mjs --no-network`.
import { createRequire } from 'node:module';
import Stripe from 'stripe';
import { QbitPay } from 'qbitpay';

const charge = (i) => ({
  id: `ch_${String(i).padStart(24, '0')}`, object: 'charge', amount: 1000 + i, amountRefunded: 0, currency: 'USD',
  status: 'pending', paid: false, createdAt: '2026-01-02T03:04:05.678Z', externalOrderId: `order-${i}`,
  baseCurrency: 'BTC', quoteCurrency: 'CNY', paymentType: 'Alipay',
  paymentPageUrl: `https://pay.example/?zh#/otc/payment?tradeId=T${i}XYZ`, cbUrl: 'https://shop.example/cb',
  redirectUrl: 'https://shop.example/thanks', livemode: false, metadata: {},
});

/** An instant `fetch`: a Response of `body` for every request. */
export function instantFetch(body, { chunked = false } = {}) {
  const bytes = new TextEncoder().encode(body);
  const headers = { 'content-type': 'application/json', 'request-id': 'req_bench' };
  if (!chunked) headers['content-length'] = String(bytes.length);
  return async () => new Response(bytes, { status: 200, headers });
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

export async function cpuPerCall({ rounds = 9, calls = 2000, chunked = false, before, log = console.log } = {}) {
  const Before = before ? createRequire(import.meta.url)(`${before}/cjs/index.node.cjs`).QbitPay : null;
  const one = JSON.stringify(charge(1));
  const page = JSON.stringify({ object: 'list', data: Array.from({ length: 100 }, (_, i) => charge(i)), hasMore: true });
  const params = { amount: 1000, currency: 'USD', externalOrderId: 'order-1', cbUrl: 'https://shop.example/cb',
    redirectUrl: 'https://shop.example/thanks' };
  const stripeParams = { amount: 1000, currency: 'usd', description: 'order-1', metadata: { order: 'order-1' } };
  const base = 'http://127.0.0.1:9';
  const auth = `Basic ${btoa('sk_test_bench:')}`;

  const raw = (f, method, path, body) => async () => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 30000);
    try {
      const headers = { Accept: 'application/json', Authorization: auth };
      const init = { method, headers, signal: ac.signal };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Idempotency-Key'] = crypto.randomUUID();
        init.body = JSON.stringify(body);
      }
      const res = await f(`${base}${path}`, init);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return JSON.parse(await res.text());
    } finally {
      clearTimeout(timer);
    }
  };
  const workloads = [];
  for (const [name, body] of [['retrieve', one], ['create', one], ['list (a page of 100)', page]]) {
    const f = instantFetch(body, { chunked });
    const qp = new QbitPay({ apiKey: 'sk_test_bench', baseUrl: base, fetch: f });
    const old = Before && new Before({ apiKey: 'sk_test_bench', baseUrl: base, fetch: f });
    const stripe = new Stripe('sk_test_bench', { httpClient: Stripe.createFetchHttpClient(f) });
    const runs = {
      retrieve: {
        raw: raw(f, 'GET', '/api/v1/charges/ch_1'),
        qbitpay: () => qp.charges.retrieve('ch_1'),
        stripe: () => stripe.charges.retrieve('ch_1'),
        ...(old && { before: () => old.charges.retrieve('ch_1') }),
      },
      create: {
        raw: raw(f, 'POST', '/api/v1/charges', params),
        qbitpay: () => qp.charges.create(params),
        stripe: () => stripe.charges.create(stripeParams),
        ...(old && { before: () => old.charges.create(params) }),
      },
      'list (a page of 100)': {
        raw: raw(f, 'GET', '/api/v1/charges?limit=100'),
        qbitpay: () => qp.charges.list({ limit: 100 }),
        stripe: () => stripe.charges.list({ limit: 100 }),
        ...(old && { before: () => old.charges.list({ limit: 100 }) }),
      },
    }[name];
    workloads.push([name, runs]);
  }
  const out = [];
  for (const [name, fns] of workloads) {
    const names = Object.keys(fns);
    const n = name.startsWith('list') ? Math.max(100, calls >> 3) : calls;
    const time = async (fn, k) => {
      const t = process.cpuUsage();
      for (let i = 0; i < k; i++) await fn();
      const d = process.cpuUsage(t);
      return (d.user + d.system) / k; // µs of CPU per call
    };
    for (const k of names) await time(fns[k], n); // warm-up
    const per = Object.fromEntries(names.map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < names.length; j++) {
        const k = names[(r + j) % names.length];
        per[k].push(await time(fns[k], n));
      }
    }
    const ratio = (a, b) => median(per[a].map((x, i) => x / per[b][i]));
    const row = { name, raw: median(per.raw), qbitpay: median(per.qbitpay), stripe: median(per.stripe),
      overRaw: ratio('qbitpay', 'raw'), overStripe: ratio('qbitpay', 'stripe'), stripeOverRaw: ratio('stripe', 'raw'),
      ...(fns.before && { before: median(per.before), beforeOverRaw: ratio('before', 'raw') }) };
    out.push(row);
    log(`  ${name.padEnd(21)} raw ${row.raw.toFixed(1).padStart(6)} µs   qbitpay ${row.qbitpay.toFixed(1).padStart(6)} µs   ` +
      `stripe-node ${row.stripe.toFixed(1).padStart(6)} µs   qbitpay/raw ${row.overRaw.toFixed(2)}× (≤ 1.5× ${row.overRaw <= 1.5 ? 'met' : 'missed'})   ` +
      `qbitpay/stripe ${row.overStripe.toFixed(2)}× (< 1× ${row.overStripe < 1 ? 'met' : 'missed'})   stripe/raw ${row.stripeOverRaw.toFixed(2)}×` +
      (fns.before ? `   before ${row.before.toFixed(1)} µs (${row.beforeOverRaw.toFixed(2)}× raw)` : ''));
  }
  return out;
}
