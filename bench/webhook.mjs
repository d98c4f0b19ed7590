// `make bench`: the webhook verifier (verify + parse) measured in one run against
//   - the floor of this scheme: JSON.parse(body) + node:crypto MD5 of the signing string
//     (for a Buffer body also shown with the TextDecoder decode JSON.parse needs);
//   - the build before (QBITPAY_BEFORE_PKG: a package assembled from an earlier commit, e.g.
//       git worktree add /tmp/qp-before <commit> && cd /tmp/qp-before && npm ci &&
//       QBITPAY_PKG_OUT=/tmp/qp-before-pkg node tools/build-pkg.mjs
//     then QBITPAY_BEFORE_PKG=/tmp/qp-before-pkg node bench/webhook.mjs; skipped when unset);
//   - the hand-written JS recipe from the spec;
// then the gzip size of what `qbitpay/webhook` loads in a browser, and the start-up of a Node
// process that imports it and verifies once, against a bare `node`. Prints ratios against
// peers measured in the same run; never fails the build.
//
//   node bench/webhook.mjs            # the full run (about a minute)
//   BENCH_QUICK=1 node bench/webhook.mjs

import { createHash, timingSafeEqual } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { verifyWebhook, signWebhook } from 'qbitpay/webhook';
import { chargeEvent } from './lib/events.mjs';
import { nodeImport } from './lib/pkg.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 3 : 9;
const ROUND_MS = QUICK ? 100 : 200;
const WARMUP_MS = QUICK ? 100 : 300;
const STARTUP_RUNS = QUICK ? 7 : 21;
const API_KEY = 'T9uTy95uSifOOuTy';
const BEFORE = process.env.QBITPAY_BEFORE_PKG ? path.resolve(process.env.QBITPAY_BEFORE_PKG) : null;
const t0 = performance.now();

// --- the contenders -------------------------------------------------------------------------

/** The recipe a merchant writes by hand from the spec. */
function recipeVerify(rawBody, signature, apiKey) {
  const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const event = JSON.parse(text);
  const stringA = Object.keys(event)
    .filter((k) => event[k] !== null && event[k] !== '')
    .sort()
    .map((k) => `${k}=${typeof event[k] === 'object' ? JSON.stringify(event[k]) : String(event[k])}`)
    .join('&');
  const expected = createHash('md5').update(`${stringA}&key=${apiKey}`).digest('hex').toUpperCase();
  const given = String(signature).toUpperCase();
  if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
    throw new Error('signature mismatch');
  }
  return event;
}

const before = BEFORE ? require(path.join(BEFORE, 'cjs', 'webhook.node.cjs')) : null;

// --- timing ---------------------------------------------------------------------------------

let sink = 0;

/** ops/s of fn over about `ms` milliseconds (batches sized so the clock is read rarely). */
function opsPerSecond(fn, ms) {
  let batch = 1;
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) sink += fn().id.length;
    n += batch;
    elapsed = performance.now() - start;
    if (elapsed < ms / 20) batch *= 2;
  }
  return (n / elapsed) * 1000;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Interleaved rounds of every contender. Per contender the median ops/s; per round the ratio
 * of each contender's time to ours, whose median is what the budgets judge (paired rounds
 * share the machine's drift).
 */
function race(contenders) {
  for (const [, fn] of contenders) opsPerSecond(fn, WARMUP_MS);
  const results = new Map(contenders.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const [name, fn] = contenders[(r + k) % contenders.length];
      results.get(name).push(opsPerSecond(fn, ROUND_MS));
    }
  }
  const ours = results.get('ours');
  return new Map([...results].map(([name, xs]) => [name, { ops: median(xs), oursOver: median(xs.map((x, i) => x / ours[i])) }]));
}

// --- output helpers -------------------------------------------------------------------------

const fmtOps = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const fmtKB = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const verdict = (ok) => (ok ? 'PASS' : 'MISS');
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 1) + '-' : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

const cpus = os.cpus();
console.log('# qbitpay/webhook benchmark');
console.log(`node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.arch()}, ` +
  `${cpus.length} CPU${cpus.length === 1 ? '' : 's'} (${cpus[0]?.model?.trim() ?? 'unknown'}), ` +
  `load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (os.loadavg()[0] > cpus.length) {
  console.log(`note: the machine is busy (load ${os.loadavg()[0].toFixed(2)} on ${cpus.length} CPUs): expect noisy numbers`);
}
console.log(`before: ${BEFORE ?? '(QBITPAY_BEFORE_PKG not set: no comparison with an earlier build)'}`);
console.log(`method: warm-up ${WARMUP_MS} ms each, then ${ROUNDS} interleaved rounds of ${ROUND_MS} ms; ` +
  'time ratios are medians of per-round ratios (each op = verify the signature and return the parsed event)');

// --- throughput -----------------------------------------------------------------------------

const bytesDecoder = new TextDecoder();
const SIZES = [['1 KB', 1_000], ['18 KB', 18_000], ['300 KB', 300_000]];
const budgets = [];
for (const inputKind of ['string', 'Buffer']) {
  const rows = [];
  for (const [label, target] of SIZES) {
    const text = chargeEvent(target, target);
    const body = inputKind === 'string' ? text : Buffer.from(text);
    const sig = signWebhook(text, API_KEY);
    const expected = JSON.parse(text);
    // The floor: what any verifier of this scheme that returns the parsed event must do.
    const signTemp = Buffer.from(`${Object.keys(expected).filter((k) => expected[k] !== null && expected[k] !== '').sort()
      .map((k) => `${k}=${typeof expected[k] === 'object' ? JSON.stringify(expected[k]) : String(expected[k])}`).join('&')}&key=${API_KEY}`);
    const contenders = [
      ['ours', () => verifyWebhook(body, sig, API_KEY)],
      ['floor', () => {
        const event = JSON.parse(text);
        sink += createHash('md5').update(signTemp).digest()[0];
        return event;
      }],
      // For bytes, also the floor that decodes them: JSON.parse needs a string.
      ...(inputKind === 'Buffer' ? [['floor from bytes', () => {
        const event = JSON.parse(bytesDecoder.decode(body));
        sink += createHash('md5').update(signTemp).digest()[0];
        return event;
      }]] : []),
      ['recipe', () => recipeVerify(body, sig, API_KEY)],
      ...(before ? [['before', () => before.verifyWebhook(body, sig, API_KEY)]] : []),
    ];
    for (const [name, fn] of contenders) assert.deepStrictEqual(fn(), expected, `${name} verifies the ${label} body`);
    assert.equal(createHash('md5').update(signTemp).digest('hex').toUpperCase(), sig, 'the floor hashes the signing string');
    assert.throws(() => verifyWebhook(body, sig, API_KEY + 'x'));
    const r = race(contenders);
    // Our time over theirs: their ops/s over ours.
    const overFloor = r.get('floor').oursOver;
    const overBefore = before ? r.get('before').oursOver : NaN;
    const overRecipe = r.get('recipe').oursOver;
    rows.push([`${label} (${Buffer.byteLength(text).toLocaleString('en-US')} B)`, fmtOps(r.get('ours').ops), fmtOps(r.get('floor').ops),
      fmtOps(r.get('recipe').ops), before ? fmtOps(r.get('before').ops) : '–',
      `${overFloor.toFixed(2)}× ${verdict(overFloor <= 1.3)}`,
      before ? `${overBefore.toFixed(2)}× ${verdict(overBefore <= 1.1)}` : '–',
      `${overRecipe.toFixed(2)}× ${verdict(overRecipe < 1)}`,
      ...(inputKind === 'Buffer' ? [`${r.get('floor from bytes').oursOver.toFixed(2)}×`] : [])]);
    if (inputKind === 'string') budgets.push({ label, overFloor, overBefore, overRecipe });
  }
  console.log();
  console.log(inputKind === 'string'
    ? '## verify + parse, body as a string (`await request.text()`): the budgets'
    : '## verify + parse, body as a Buffer (`express.raw()`): for information, same budgets shown');
  table(['size', 'ours ops/s', 'floor ops/s', 'recipe ops/s', 'before ops/s', 'ours / floor (≤ 1.3×)',
    'ours / before (≤ 1.1×)', 'ours / recipe (< 1×)', ...(inputKind === 'Buffer' ? ['ours / floor from bytes'] : [])], rows);
}

// The other inputs, for information: the event a JSON body parser returned, and a key list.
{
  const text = chargeEvent(18_000, 18_000);
  const sig = signWebhook(text, API_KEY);
  const parsed = JSON.parse(text);
  const r = race([
    ['ours', () => verifyWebhook(text, sig, API_KEY)],
    ['parsed object', () => verifyWebhook(parsed, sig, API_KEY)],
    ['key list of 3 (match last)', () => verifyWebhook(text, sig, ['old-1', 'old-2', API_KEY])],
  ]);
  console.log('\n## other inputs, 18 KB (time relative to a raw string body)');
  table(['input', 'ops/s', 'time vs string body'], [...r].map(([name, x]) => [name, fmtOps(x.ops), `${(1 / x.oursOver).toFixed(2)}×`]));
}

// --- size -----------------------------------------------------------------------------------

/** The files a browser fetches for `qbitpay/webhook`: its `browser` entry, every module it
 * imports statically (relative specifiers), and the .wasm files they name. What it loads on
 * first use (`import('./x.mjs')`: a webhook handler's per-delivery code) is left out. */
function browserClosure(pkgDir) {
  const manifest = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const files = [];
  const visit = (rel) => {
    const file = path.posix.normalize(rel.replace(/^\.\//, ''));
    if (files.includes(file) || !existsSync(path.join(pkgDir, file))) return;
    files.push(file);
    if (file.endsWith('.wasm')) return;
    const src = readFileSync(path.join(pkgDir, file), 'utf8');
    for (const m of src.matchAll(/(?<!import\(\s*)["'`](\.{1,2}\/[\w./-]+\.(?:mjs|js|wasm))["'`]/g)) visit(path.posix.join(path.posix.dirname(file), m[1]));
  };
  visit(manifest.exports['./webhook'].browser);
  return files.map((f) => [f, readFileSync(path.join(pkgDir, f))]);
}
const gz = (files) => files.reduce((n, [, bytes]) => n + gzipSync(bytes, { level: 9 }).length, 0);
const pkgDir = path.dirname(require.resolve('qbitpay/package.json'));
const ours = browserClosure(pkgDir);
const oursGz = gz(ours);
console.log('\n## what `qbitpay/webhook` loads in a browser (each file gzip -9 on its own, as served)');
table(['file', 'raw', 'gzip'], [...ours.map(([f, b]) => [f, fmtKB(b.length), fmtKB(gz([[f, b]]))]),
  ['total', fmtKB(ours.reduce((n, [, b]) => n + b.length, 0)), fmtKB(oursGz)]]);
const beforeGz = BEFORE ? gz(browserClosure(BEFORE)) : NaN;
console.log(`gzip total ${fmtKB(oursGz)}: budget ≤ 25 KB ${verdict(oursGz <= 25 * 1024)}, ceiling 35 KB ${verdict(oursGz <= 35 * 1024)}` +
  (BEFORE ? `; before ${fmtKB(beforeGz)}` : ''));

// --- start-up -------------------------------------------------------------------------------

const V = { body: '{"id":"fDOuTy95uSiTi","type":"charge.succeeded","createdAt":"2019-02-25T16:13:12.278Z","object":"event","pendingWebhooks":0,"livemode":true,"data":{"id":"5","object":"charge","createdAt":"2019-02-25T16:13:12.278Z","paid":false,"status":"pending","amount":1000,"currency":"USD","externalOrderId":"DTSifOuTy95ui","paymentPageUrl":"https://qbitpay.blockscape.co/?zh#/otc/payment?tradeId=DTSifOuTy95ifOuTy95","cbUrl":"https://api.blockscape.co","redirectUrl":"https://qbitpay.blockscape.co"}}',
  sig: 'EE53810FF1341779F2FF25989A67DCFC' };
const args = `${JSON.stringify(V.body)}, ${JSON.stringify(V.sig)}, ${JSON.stringify(API_KEY)}`;
const importAndVerify = (spec) => ['--input-type=module', '-e',
  `import { verifyWebhook } from ${JSON.stringify(spec)}; if (verifyWebhook(${args}).id !== 'fDOuTy95uSiTi') process.exit(3)`];
const PROCS = [
  ['bare: node --input-type=module -e 0', ['--input-type=module', '-e', '0']],
  ["import 'qbitpay/webhook' + verify", importAndVerify('qbitpay/webhook')],
  ...(BEFORE ? [['before: import + verify', importAndVerify(nodeImport(BEFORE, './webhook'))]] : []),
];
function wall(argv, env) {
  const start = process.hrtime.bigint();
  const out = spawnSync(process.execPath, argv, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (out.status !== 0) throw new Error(`${argv.join(' ')} failed: ${out.stderr}`);
  return ms;
}
// Node reads NODE_EXTRA_CA_CERTS's bundle at start, which is most of a bare `node` where it is
// set: the processes run with the environment as it is and, when it is set, without it too.
const { NODE_EXTRA_CA_CERTS: extraCa, ...withoutCa } = process.env;
const ENVS = [['', process.env], ...(extraCa ? [[', without NODE_EXTRA_CA_CERTS', withoutCa]] : [])];
let startRatio = 0;
for (const [envLabel, env] of ENVS) {
  for (const [, argv] of PROCS) wall(argv, env); // page cache
  const times = PROCS.map(() => []);
  for (let r = 0; r < STARTUP_RUNS; r++) PROCS.forEach(([, argv], i) => times[i].push(wall(argv, env)));
  const bare = median(times[0]);
  const ratio = median(times[1]) / bare;
  startRatio = Math.max(startRatio, ratio);
  console.log(`\n## start-up${envLabel}: median wall time of ${STARTUP_RUNS} runs each, alternating (a Node process that imports and verifies once)`);
  table(['process', 'median', 'vs bare'], PROCS.map(([name], i) => [name, `${median(times[i]).toFixed(1)} ms`,
    `${(median(times[i]) / bare).toFixed(3)}×${i === 1 ? ` (≤ 1.15× ${verdict(ratio <= 1.15)})` : ''}`]));
}

// --- summary --------------------------------------------------------------------------------

console.log('\n## budgets');
const rows = [];
for (const b of budgets) {
  rows.push([`${b.label}: time vs the floor ≤ 1.3×`, `${b.overFloor.toFixed(2)}×`, verdict(b.overFloor <= 1.3)]);
  if (BEFORE) rows.push([`${b.label}: time vs before ≤ 1.1×`, `${b.overBefore.toFixed(2)}×`, verdict(b.overBefore <= 1.1)]);
  rows.push([`${b.label}: faster than the recipe`, `${b.overRecipe.toFixed(2)}×`, verdict(b.overRecipe < 1)]);
}
rows.push(['browser gzip ≤ 25 KB (ceiling 35 KB)', fmtKB(oursGz), `${verdict(oursGz <= 25 * 1024)} (ceiling ${verdict(oursGz <= 35 * 1024)})`]);
rows.push([`start-up import 'qbitpay/webhook' + verify ≤ 1.15× bare${ENVS.length > 1 ? ' (the higher of the two)' : ''}`, `${startRatio.toFixed(3)}×`, verdict(startRatio <= 1.15)]);
table(['budget', 'measured', ''], rows);
console.log(`\n(benchmark ran ${((performance.now() - t0) / 1000).toFixed(1)} s; load average now ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})`);
if (sink === 0) console.log('(no work measured?)');
