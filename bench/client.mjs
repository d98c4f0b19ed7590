#!/usr/bin/env node
// Client benchmark: the SDK against a hand-written raw `fetch` loop doing the same requests and
// against stripe-node, side by side in one process. Budgets:
//   1. CPU per call without the network (bench/lib/cpu.mjs: the same `fetch` answering at once
//      for the raw loop, the SDK and stripe-node on its fetch client), for `retrieve`, `create`
//      and one page of `list`: ≤ 1.5× the raw loop with a timeout, and below stripe-node
//   2. against one local sandbox (started here, 127.0.0.1 only): 200 sequential
//      charges.retrieve ≤ 1.10× a raw fetch loop that bounds each request by a timeout
//      (AbortController + setTimeout, what `timeoutMs` needs at the least; the bare raw loop
//      is shown too); auto-paging 5,000 charges (limit 100) ≤ 1.15×; memory flat over 3 × 5,000
//   3. gzip of what `qbitpay` loads in a browser and in workerd for an app that never verifies
//      a webhook (the client alone) ≤ 80 KB; stripe-node's worker bundle for scale
//   4. start-up: `import 'qbitpay'` + `new QbitPay` ≤ 1.20× a bare `node` (stripe-node for scale)
// Run after `make pkg`: node --expose-gc bench/client.mjs  [ROUNDS=5 STARTUP_RUNS=21]
//   node bench/client.mjs --no-network   budget 1 alone, no sandbox (about a minute)
// QBITPAY_BEFORE_PKG=<a package directory>: an earlier build's SDK in budgets 1, 2 and 4 too.
// Uses target/sandbox/qbitpay-sandbox (cargo build -p qbitpay-sandbox --profile sandbox)
// when built, else the debug build; QBITPAY_SANDBOX overrides.
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeImport } from './lib/pkg.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { cpuPerCall } = await import('./lib/cpu.mjs');
const before = process.env.QBITPAY_BEFORE_PKG ? path.resolve(process.env.QBITPAY_BEFORE_PKG) : undefined;
const cpu = async () => {
  console.log(`CPU time per call without the network (node ${process.version}), medians of 9 interleaved rounds:`);
  await cpuPerCall({ before });
};
if (process.argv.includes('--no-network')) {
  await cpu();
  process.exit(0);
}
const fast = path.join(root, 'target', 'sandbox', 'qbitpay-sandbox');
if (!process.env.QBITPAY_SANDBOX && existsSync(fast)) process.env.QBITPAY_SANDBOX = fast;
const { startSandbox } = await import('../tests/support/sandbox.mjs');
const { entryGraph } = await import('../tests/packaging/lib.mjs');
const { QbitPay } = await import('qbitpay');
const require = createRequire(import.meta.url);

const ROUNDS = Number(process.env.ROUNDS || 5);
const STARTUP_RUNS = Number(process.env.STARTUP_RUNS || 21);
const verdict = (ok) => (ok ? 'met' : 'missed');
const RETRIEVES = 200;
const CHARGES = 5000;
const LIMIT = 100;

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const mb = (n) => (n / 1048576).toFixed(1);

const sb = await startSandbox({ args: ['--charge-ttl', '100000'] });
try {
  const auth = `Basic ${btoa(`${sb.apiKey}:`)}`;
  const headers = { Accept: 'application/json', Authorization: auth };
  const qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url });
  const old = before ? new (require(path.join(before, 'cjs', 'index.node.cjs')).QbitPay)({ apiKey: sb.apiKey, baseUrl: sb.url }) : null;

  // --- setup: 5,000 charges, 8 at a time ---
  const t0 = process.hrtime.bigint();
  const ids = [];
  for (let i = 0; i < CHARGES; i += 8) {
    const batch = [];
    for (let j = i; j < Math.min(i + 8, CHARGES); j++) {
      batch.push(qp.charges.create({ amount: 1 + (j % 50), currency: 'USD', externalOrderId: `bench-${j}`,
        cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'http://127.0.0.1:9/back' }));
    }
    for (const c of await Promise.all(batch)) ids.push(c.id);
  }
  console.log(`sandbox ${path.basename(path.dirname(process.env.QBITPAY_SANDBOX || 'debug/x'))} build; created ${CHARGES} charges in ${ms(t0).toFixed(0)} ms`);

  // --- the two workloads, each as SDK and as raw fetch ---
  const someIds = ids.slice(0, RETRIEVES);
  const retrieveWith = (sdk) => async () => { for (const id of someIds) await sdk.charges.retrieve(id); };
  const retrieveSdk = retrieveWith(qp);
  const retrieveRaw = async () => {
    for (const id of someIds) {
      const res = await fetch(`${sb.url}/api/v1/charges/${encodeURIComponent(id)}`, { headers });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      JSON.parse(await res.text());
    }
  };
  // The least a fetch loop with a per-request timeout does (the SDK's timeoutMs).
  const retrieveRawTimeout = async () => {
    for (const id of someIds) {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 30000);
      try {
        const res = await fetch(`${sb.url}/api/v1/charges/${encodeURIComponent(id)}`, { headers, signal: ac.signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        JSON.parse(await res.text());
      } finally {
        clearTimeout(timer);
      }
    }
  };
  const pageWith = (sdk) => async (onPage) => {
    let n = 0;
    for await (const c of sdk.charges.list({ limit: LIMIT })) { if (c.id) n++; if (onPage && n % LIMIT === 0) onPage(n); }
    return n;
  };
  const pageSdk = pageWith(qp);
  const pageRaw = async () => {
    let n = 0, after = '';
    for (;;) {
      const res = await fetch(`${sb.url}/api/v1/charges?limit=${LIMIT}${after && `&starting_after=${encodeURIComponent(after)}`}`, { headers });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const { data } = JSON.parse(await res.text()); // as the SDK reads bodies: same parse cost
      for (const c of data) if (c.id) n++;
      if (data.length < LIMIT) return n;
      after = data[data.length - 1].id;
    }
  };

  const fns = { retrieveSdk, retrieveRaw, retrieveRawTimeout, pageSdk, pageRaw,
    ...(old && { retrieveBefore: retrieveWith(old), pageBefore: pageWith(old) }) };
  const runs = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  // Warm up (JIT, connection pool), then alternate the order each round.
  for (const f of Object.values(fns)) await f();
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...Object.keys(fns).filter((k) => k.startsWith('retrieve')), ...Object.keys(fns).filter((k) => k.startsWith('page'))];
    if (r % 2) order.reverse();
    for (const k of order) {
      const t = process.hrtime.bigint();
      const out = await fns[k]();
      runs[k].push(ms(t));
      if (k.startsWith('page') && out !== CHARGES) throw new Error(`${k} saw ${out} charges`);
    }
  }
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
  // Also the median of each round's own ratio (both sides measured back to back): steadier
  // when another process shares the cores.
  const paired = (a, b) => median(runs[a].map((x, i) => x / runs[b][i])).toFixed(3);
  const r1 = m.retrieveSdk / m.retrieveRaw;
  const r2 = m.pageSdk / m.pageRaw;
  const r1t = Number(paired('retrieveSdk', 'retrieveRawTimeout'));
  const r2p = Number(paired('pageSdk', 'pageRaw'));
  console.log(`\n${RETRIEVES} sequential retrieves   SDK ${m.retrieveSdk.toFixed(1)} ms   raw fetch with a per-request timeout ${m.retrieveRawTimeout.toFixed(1)} ms   per-round median ratio ${r1t.toFixed(3)}× (≤ 1.10× ${verdict(r1t <= 1.1)})  [medians of ${ROUNDS}: ${(m.retrieveSdk / m.retrieveRawTimeout).toFixed(3)}×]`);
  console.log(`  the bare raw loop (no timeout) ${m.retrieveRaw.toFixed(1)} ms   SDK ratio to it ${r1.toFixed(3)}× (per-round ${paired('retrieveSdk', 'retrieveRaw')}×)`);
  console.log(`auto-paging ${CHARGES} charges    SDK ${m.pageSdk.toFixed(1)} ms   raw fetch ${m.pageRaw.toFixed(1)} ms   per-round median ratio ${r2p.toFixed(3)}× (≤ 1.15× ${verdict(r2p <= 1.15)})  [medians of ${ROUNDS}: ${r2.toFixed(3)}×]`);
  if (old) {
    console.log(`  before: 200 retrieves ${m.retrieveBefore.toFixed(1)} ms, per-round ratio to the raw loop with a timeout ${paired('retrieveBefore', 'retrieveRawTimeout')}×; ` +
      `auto-paging ${m.pageBefore.toFixed(1)} ms, per-round ratio to the raw loop ${paired('pageBefore', 'pageRaw')}×`);
  }

  // --- the SDK's own cost per call, without the network ---
  console.log();
  await cpu();

  // --- memory while paging: JS heap and wasm linear memory, sampled every page ---
  // The same instance the package entry initialised (Node caches modules by real path).
  const glue = require(path.join(root, 'pkg', 'cjs', 'qbitpay_client.cjs'));
  const wasmMem = () => glue.initSync({ module: new Uint8Array(0) }).memory.buffer.byteLength; // already initialised: returns it
  globalThis.gc?.();
  const heap = [];
  const wasm = [];
  const wasm0 = wasmMem();
  for (let r = 0; r < 3; r++) {
    // After a full GC at each page: what stays live while paging (nothing should accumulate).
    await pageSdk(() => { globalThis.gc?.(); heap.push(process.memoryUsage().heapUsed); wasm.push(wasmMem()); });
  }
  const third = Math.floor(heap.length / 3);
  const firstAvg = heap.slice(0, third).reduce((a, b) => a + b, 0) / third;
  const lastAvg = heap.slice(-third).reduce((a, b) => a + b, 0) / third;
  console.log(`memory while paging 3×${CHARGES}: JS heap min ${mb(Math.min(...heap))} / max ${mb(Math.max(...heap))} MB, ` +
    `first-third avg ${mb(firstAvg)} MB vs last-third ${mb(lastAvg)} MB; wasm memory ${mb(wasm0)} → ${mb(Math.max(...wasm))} MB` +
    `${globalThis.gc ? '' : ' (run with --expose-gc for steadier numbers)'}`);

  // --- size of what `qbitpay` loads in a browser and in workerd, and stripe-node's worker bundle ---
  const pkg = path.join(root, 'pkg');
  for (const runtime of ['browser', 'workerd']) {
    // The entry and every file it loads (imports and the wasm it fetches or imports); without
    // the webhook entry it re-exports: what an app that never verifies a webhook loads.
    const entry = `esm/index.${runtime}.mjs`;
    const sum = (files) => files.map((f) => [path.basename(f), gzipSync(readFileSync(path.join(pkg, f)), { level: 9 }).length]);
    const alone = sum(entryGraph(pkg, entry, { stopAt: [`esm/webhook.${runtime}.mjs`] }));
    const all = sum(entryGraph(pkg, entry));
    const total = (parts) => parts.reduce((n, [, b]) => n + b, 0);
    console.log(`gzip size of qbitpay in ${runtime}, an app that never verifies a webhook: ${(total(alone) / 1024).toFixed(1)} KB ` +
      `(≤ 80 KB ${verdict(total(alone) <= 80 * 1024)}): ${alone.map(([f, n]) => `${f} ${(n / 1024).toFixed(1)}`).join(', ')}; ` +
      `with the webhook functions ${(total(all) / 1024).toFixed(1)} KB`);
  }
  const stripe = await esbuild.build({ stdin: { contents: "import Stripe from 'stripe'; export default new Stripe('sk_test_x');", resolveDir: root },
    bundle: true, write: false, format: 'esm', platform: 'neutral', conditions: ['worker', 'import'], mainFields: ['module', 'main'],
    minify: true, logLevel: 'silent', external: ['node:*', 'crypto', 'events', 'http', 'https', 'child_process'] });
  console.log(`  for scale: stripe-node's worker bundle (esbuild, minified) ${(gzipSync(stripe.outputFiles[0].contents, { level: 9 }).length / 1024).toFixed(1)} KB gzip`);
} finally {
  await sb.stop();
}

// --- start-up: a Node process that imports the client and makes one (no request) ---
{
  const PROCS = [
    ['bare: node --input-type=module -e 0', ['--input-type=module', '-e', '0']],
    ["import 'qbitpay' + new QbitPay", ['--input-type=module', '-e', "import { QbitPay } from 'qbitpay'; new QbitPay({ apiKey: 'sk_test_x' });"]],
    ["require('qbitpay') + new QbitPay", ['-e', "const { QbitPay } = require('qbitpay'); new QbitPay({ apiKey: 'sk_test_x' });"]],
    ["stripe-node: import 'stripe' + new Stripe", ['--input-type=module', '-e', "import Stripe from 'stripe'; new Stripe('sk_test_x');"]],
    ...(before ? [['before: import + new QbitPay', ['--input-type=module', '-e',
      `import { QbitPay } from ${JSON.stringify(nodeImport(before))}; new QbitPay({ apiKey: 'sk_test_x' });`]]] : []),
  ];
  const wall = (argv, env) => {
    const start = process.hrtime.bigint();
    const out = spawnSync(process.execPath, argv, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (out.status !== 0) throw new Error(`${argv.join(' ')} failed: ${out.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  // Node reads NODE_EXTRA_CA_CERTS's bundle at start, which is most of a bare `node` where it
  // is set: the processes run with the environment as it is and, when it is set, without it too.
  const { NODE_EXTRA_CA_CERTS: extraCa, ...withoutCa } = process.env;
  for (const [envLabel, env] of [['', process.env], ...(extraCa ? [[', without NODE_EXTRA_CA_CERTS', withoutCa]] : [])]) {
    for (const [, argv] of PROCS) wall(argv, env); // page cache
    const times = PROCS.map(() => []);
    for (let r = 0; r < STARTUP_RUNS; r++) PROCS.forEach(([, argv], i) => times[i].push(wall(argv, env)));
    const bare = median(times[0]);
    console.log(`\nstart-up${envLabel}, median wall time of ${STARTUP_RUNS} runs each, alternating:`);
    PROCS.forEach(([name], i) => {
      const ratio = median(times[i]) / bare;
      console.log(`  ${name.padEnd(42)} ${median(times[i]).toFixed(1)} ms  ${ratio.toFixed(3)}×${i === 1 ? ` (≤ 1.20× ${verdict(ratio <= 1.2)})` : ''}`);
    });
  }
}
