// Memory stays flat with no free(): 2,000 rounds of every list pattern (awaited pages,
// nextPage/previousPage, for await with and without break, an iterator dropped half-way,
// toArray), hooks on and off, and errors thrown in a loop, in a `node --expose-gc` child
// against the sandbox. Heap and RSS after warm-up against the end, each after full
// collections; the wasm memory and the externref table are printed and bounded too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QbitPay } from 'qbitpay';
import { startSandbox } from '../support/sandbox.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = 2000;
const MB = 1024 * 1024;

let sb;
before(async () => {
  sb = await startSandbox({ args: ['--charge-ttl', '100000'] });
  const qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url });
  for (let i = 0; i < 5; i++) {
    await qp.charges.create({ amount: 10 + i, currency: 'USD', externalOrderId: `mem-${i}`,
      cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'https://shop.example/thanks' });
  }
});
after(() => sb?.stop());

function rounds() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(here, 'memory-rounds.mjs'), sb.url, sb.apiKey, String(ROUNDS)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; }); // drained, or a full pipe would block the child
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`memory-rounds exited ${code}: ${err.slice(-2000)}`));
      try { resolve(JSON.parse(out.trim().split('\n').pop())); } catch (e) { reject(new Error(`no result: ${out}\n${err}`)); }
    });
  });
}

test(`${ROUNDS} rounds of lists, hooks and errors keep the heap, RSS, wasm memory and externref table flat`, { timeout: 600_000 }, async () => {
  const r = await rounds();
  const [, half, , end] = r.checkpoints;
  const mb = (n) => (n / MB).toFixed(2);
  const line = `${r.rounds} rounds in ${r.ms} ms: JS heap ${mb(r.before.heap)} → ${mb(end.heap)} MB, ` +
    `RSS ${mb(r.before.rss)} → ${mb(end.rss)} MB, wasm memory ${mb(r.before.wasm)} → ${mb(half.wasm)} (half-way) → ` +
    `${mb(end.wasm)} MB, externref table ${r.before.table ?? 'n/a'} → ${half.table ?? 'n/a'} → ${end.table ?? 'n/a'} slots, ` +
    `${r.before.live ?? 'n/a'} → ${end.live ?? 'n/a'} in use`;
  console.log(line);
  assert.ok(end.heap - r.before.heap < 4 * MB, `JS heap grew: ${line}`);
  assert.ok(end.rss - r.before.rss < 40 * MB, `RSS grew: ${line}`);
  // High-water marks: they may rise while the collector catches up, never through the second half.
  assert.ok(end.wasm - half.wasm <= 64 * 1024, `wasm memory still growing: ${line}`);
  if (end.table !== null) {
    assert.equal(end.table, half.table, `externref table still growing: ${line}`);
    assert.ok(end.live - r.before.live < 100, `externref slots not released: ${line}`);
  }
});
