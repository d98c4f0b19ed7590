#!/usr/bin/env node
// Instructions per call, deterministic: `calls` sequential charges.retrieve or charges.create
// of a package (or of the raw fetch loop of bench/lib/cpu.mjs) on a `fetch` option answering
// at once, for callgrind. Instructions per call over calls 1,000–3,000 are the difference of
// two runs divided by 2,000:
//   for n in 1000 3000; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//     node --no-liftoff --single-threaded bench/calls.mjs <pkg dir | raw> retrieve $n 2>&1 | grep Collected; done
// (`--no-liftoff`: no tier-up compilation inside the window; `--single-threaded`: no
// concurrent marking, compilation or sweeping; PERFORMANCE.md: method).
import { createRequire } from 'node:module';
import path from 'node:path';
const [dir, op, n] = process.argv.slice(2);
const charge = { id: 'ch_000000000000000000000001', object: 'charge', amount: 1001, amountRefunded: 0, currency: 'USD',
  status: 'pending', paid: false, createdAt: '2026-01-02T03:04:05.678Z', externalOrderId: 'order-1',
  baseCurrency: 'BTC', quoteCurrency: 'CNY', paymentType: 'Alipay',
  paymentPageUrl: 'https://pay.example/?zh#/otc/payment?tradeId=T1XYZ', cbUrl: 'https://shop.example/cb',
  redirectUrl: 'https://shop.example/thanks', livemode: false, metadata: {} };
const bytes = new TextEncoder().encode(JSON.stringify(charge));
const headers = { 'content-type': 'application/json', 'request-id': 'req_bench', 'content-length': String(bytes.length) };
const f = async () => new Response(bytes, { status: 200, headers });
const params = { amount: 1000, currency: 'USD', externalOrderId: 'order-1', cbUrl: 'https://shop.example/cb', redirectUrl: 'https://shop.example/thanks' };
const base = 'http://127.0.0.1:9';
let call;
if (dir === 'raw') {
  const auth = `Basic ${btoa('sk_test_bench:')}`;
  const raw = (method, path, body) => async () => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 30000);
    try {
      const headers = { Accept: 'application/json', Authorization: auth };
      const init = { method, headers, signal: ac.signal };
      if (body !== undefined) { headers['Content-Type'] = 'application/json'; headers['Idempotency-Key'] = crypto.randomUUID(); init.body = JSON.stringify(body); }
      const res = await f(`${base}${path}`, init);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return JSON.parse(await res.text());
    } finally { clearTimeout(timer); }
  };
  call = op === 'create' ? raw('POST', '/api/v1/charges', params) : raw('GET', '/api/v1/charges/ch_1');
} else {
  const { QbitPay } = createRequire(import.meta.url)(path.resolve(dir, 'cjs', 'index.node.cjs'));
  const qp = new QbitPay({ apiKey: 'sk_test_bench', baseUrl: base, fetch: f });
  call = op === 'create' ? () => qp.charges.create(params) : () => qp.charges.retrieve('ch_1');
}
for (let i = 0; i < Number(n); i++) await call();
