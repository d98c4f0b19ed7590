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
  const grew = (k) => r.after[k] - r.before[k];
  const line = `${r.rounds} rounds in ${r.ms} ms: JS heap ${(r.before.heap / MB).toFixed(1)} → ${(r.after.heap / MB).toFixed(1)} MB, ` +
    `RSS ${(r.before.rss / MB).toFixed(1)} → ${(r.after.rss / MB).toFixed(1)} MB, wasm memory ${(r.before.wasm / MB).toFixed(2)} → ` +
    `${(r.after.wasm / MB).toFixed(2)} MB, externref table ${r.before.table ?? 'n/a'} → ${r.after.table ?? 'n/a'} slots`;
  console.log(line);
  assert.ok(grew('heap') < 4 * MB, `JS heap grew ${(grew('heap') / MB).toFixed(1)} MB: ${line}`);
  assert.ok(grew('rss') < 40 * MB, `RSS grew ${(grew('rss') / MB).toFixed(1)} MB: ${line}`);
  assert.ok(grew('wasm') <= 1 * MB, `wasm memory grew ${(grew('wasm') / MB).toFixed(2)} MB: ${line}`);
  if (r.before.table !== null) assert.ok(grew('table') <= 512, `externref table grew ${grew('table')} slots: ${line}`);
});
