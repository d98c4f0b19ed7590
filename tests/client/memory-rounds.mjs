// Run by memory.test.mjs as `node --expose-gc memory-rounds.mjs <sandbox url> <api key>`:
// rounds of every way a user holds lists, hooks and errors, with no free() anywhere; prints
// one JSON line of the JS heap, RSS, wasm memory and externref table after warm-up and at
// the end (each after full collections).
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { QbitPay, QbitPayInvalidRequestError } from 'qbitpay';

const [url, apiKey, roundsArg, warmArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg || 2000);
const WARM = Number(warmArg || 300);
if (!globalThis.gc) throw new Error('run with node --expose-gc');

// The wasm instance the package entry initialised (Node caches the glue by its real path).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const glue = createRequire(import.meta.url)(path.join(root, 'pkg', 'cjs', 'qbitpay_client.cjs'));
const exports = glue.initSync({ module: new Uint8Array(0) });
const table = Object.values(exports).find((v) => v instanceof WebAssembly.Table);

// One client for the process, as the README's Next.js route makes it.
const qp = new QbitPay({ apiKey, baseUrl: url });
const hook = () => {};

async function round(i) {
  // The README's GET route: every item, limit 2.
  const ids = [];
  for await (const charge of qp.charges.list({ limit: 2 })) ids.push(charge.id);
  if (ids.length < 5) throw new Error(`walked ${ids.length} charges`);
  // An awaited page, then its neighbours.
  const page = await qp.charges.list({ limit: 2 });
  const next = await page.nextPage();
  const back = await next.previousPage();
  if (back.data[0].id !== page.data[0].id) throw new Error('previousPage did not come back');
  // A walk left early, an iterator dropped half-way, toArray.
  for await (const c of qp.charges.list({ limit: 3 })) if (c.id) break;
  const it = qp.charges.list({ limit: 2 })[Symbol.asyncIterator]();
  await it.next();
  if ((await qp.charges.list({ limit: 2 }).toArray({ max: 3 })).length !== 3) throw new Error('toArray');
  // Hooks on and off.
  qp.on('request', hook);
  qp.on('response', hook);
  await qp.charges.retrieve(ids[i % ids.length]);
  qp.off('request', hook);
  qp.off('response', hook);
  // Errors thrown in a loop: refused before sending, and answered 404.
  try { await qp.charges.list({ limit: 0 }); throw new Error('no error'); } catch (e) { if (!(e instanceof QbitPayInvalidRequestError)) throw e; }
  try { for await (const c of qp.charges.list({ limit: -1 })) void c; throw new Error('no error'); } catch (e) { if (!(e instanceof QbitPayInvalidRequestError)) throw e; }
  try { await qp.charges.retrieve('ch_missing'); throw new Error('no error'); } catch (e) { if (e.statusCode !== 404) throw e; }
}

async function settle() {
  // Collections, with turns of the event loop between them for FinalizationRegistry callbacks.
  for (let k = 0; k < 6; k++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Slots of the table in use: wasm-bindgen empties a slot when Rust drops its value.
const live = () => {
  let n = 0;
  for (let i = 0; i < table.length; i++) if (table.get(i) != null) n++;
  return n;
};
const sample = () => ({
  heap: process.memoryUsage().heapUsed,
  rss: process.memoryUsage().rss,
  wasm: exports.memory.buffer.byteLength,
  table: table ? table.length : null,
  live: table ? live() : null,
});

for (let i = 0; i < WARM; i++) {
  await round(i);
  if ((i + 1) % 20 === 0) globalThis.gc();
}
await settle();
const before = sample();
const t0 = Date.now();
// Checkpoints every quarter: wasm memory and the table's length only grow (high-water marks
// of what was alive between collections), so the test looks at whether they still grow late
// in the run; the table's live slots must come back to where they were.
const checkpoints = [];
for (let i = 0; i < ROUNDS; i++) {
  await round(i);
  // A collection every few rounds bounds what is alive between collections, so the high-water
  // marks do not depend on when a loaded machine gets round to collecting; a leak still adds up.
  if ((i + 1) % 20 === 0) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
  if ((i + 1) % (ROUNDS / 4) === 0) {
    await settle();
    checkpoints.push(sample());
  }
}
const after = checkpoints[checkpoints.length - 1];
console.log(JSON.stringify({ rounds: ROUNDS, ms: Date.now() - t0, before, checkpoints, after }));
