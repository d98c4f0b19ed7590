#!/usr/bin/env node
// How values cross between JavaScript and the client's wasm module, measured both ways the
// binding could do it (the client uses the faster; see src/wasm/js.rs):
//   responses   JSON.parse of the body in JavaScript  vs  the text copied into Rust, serde_json,
//               serde-wasm-bindgen back out
//   parameters  JSON.stringify + serde_json           vs  serde-wasm-bindgen's deserializer
// Builds the client module once with `--features bench-boundary` into target/bench-boundary
// (not shipped). Run: node bench/boundary.mjs   (make bench runs it)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'target', 'bench-boundary');
// The client module's own profile (Cargo.toml: [profile.wasm-client]).
execFileSync('wasm-pack', ['build', '--target', 'web', '--profile', 'wasm-client', '--no-pack', '--no-typescript', '--no-opt', '--out-dir', out,
  '--out-name', 'boundary', '--', '--no-default-features', '--features', 'bench-boundary'],
{ cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
// The glue imports the shared error classes from './errors.mjs', as in the package.
execFileSync('cp', [path.join(root, 'pkg-template', 'src', 'errors.mjs'), out]);
writeFileSync(path.join(out, 'package.json'), '{ "type": "module" }\n');
const glue = await import(pathToFileURL(path.join(out, 'boundary.js')).href);
glue.initSync({ module: readFileSync(path.join(out, 'boundary_bg.wasm')) });

const time = (f, n) => {
  for (let i = 0; i < n / 10; i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t) / 1e3 / n;
};
const charge = (i) => ({ id: `ch_${i}`, object: 'charge', createdAt: '2026-12-01T10:00:00.000Z', paid: false, status: 'pending',
  amount: 10.5 + i, currency: 'USD', price: 7.1, fee: 0.05, baseAmount: 0.0001, baseCurrency: 'BTC', totalCost: 75.2,
  quoteCurrency: 'CNY', externalOrderId: `order-${i}`, paymentPageUrl: `http://127.0.0.1:4010/pay/ch_${i}`,
  cbUrl: 'https://shop.example/webhooks', redirectUrl: 'https://shop.example/thanks',
  paymentMethod: { object: 'paymentMethod', type: 'Alipay', typeLabel: { en: 'Alipay', zh: '支付宝' } }, payerName: null,
  expiresAt: '2026-12-01T10:30:00.000Z' });
const bodies = {
  'one charge (0.6 KB)': JSON.stringify(charge(1)),
  'a page of 100 charges (60 KB)': JSON.stringify({ object: 'list', url: '/api/v1/charges', data: Array.from({ length: 100 }, (_, i) => charge(i)) }),
};
console.log('response body → JavaScript value (µs per call)');
for (const [name, text] of Object.entries(bodies)) {
  const n = text.length > 10_000 ? 500 : 20_000;
  const a = time(() => glue.benchParseJson(text), n);
  const b = time(() => glue.benchParseSerde(text), n);
  console.log(`  ${name.padEnd(30)} JSON.parse ${a.toFixed(1)}   serde_json + serde-wasm-bindgen ${b.toFixed(1)}   ratio ${(b / a).toFixed(2)}×`);
}
const params = { amount: 25, currency: 'USD', externalOrderId: 'order-1042', cbUrl: 'https://shop.example/webhooks/qbitpay',
  redirectUrl: 'https://shop.example/thanks', quoteCurrency: 'USD', paymentType: 'PayPal', payerName: 'Ann' };
const a = time(() => glue.benchParamsJson(params), 50_000);
const b = time(() => glue.benchParamsSerde(params), 50_000);
console.log('parameters → the core\'s JSON value (µs per call)');
console.log(`  ${'charges.create params'.padEnd(30)} JSON.stringify + serde_json ${a.toFixed(2)}   serde-wasm-bindgen ${b.toFixed(2)}   ratio ${(b / a).toFixed(2)}×`);
