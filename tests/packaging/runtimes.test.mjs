// One package, every runtime, proven from the packed tarball.
//
// pkg/ is copied, `npm pack`-ed, and the tarball installed offline into one throwaway
// project; then the same smoke scenario (fixtures/smoke.js: the spec's known-answer
// webhook vector through `qbitpay/webhook`, then a client against the sandbox that
// creates charges and auto-pages the list) runs in each runtime as its own test: Node ESM,
// Node CJS, Node bundled by esbuild (CommonJS and ESM output), Deno, Bun, workerd (miniflare, worker bundled by esbuild as wrangler does),
// Chromium (playwright-core, access-token client) and a strict TypeScript consumer.
// Every runtime gets its own sandbox account (API key), so a list holds exactly the
// charges that runtime created. Nothing leaves 127.0.0.1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { Miniflare } from 'miniflare';
import { chromium } from 'playwright-core';
import { startSandbox } from '../support/sandbox.mjs';
import { VECTOR } from '../webhook/ref-signer.mjs';
import {
  BIN, exportTargets, installTarball, npmPack, resolveExport, run, runOk, seedCharges, serveDir, sizeTable, snapshotPkg, tempDir,
} from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SMOKE = fs.readFileSync(path.join(HERE, 'fixtures', 'smoke.js'), 'utf8');
const RUNTIMES = ['node-esm', 'node-cjs', 'esbuild-cjs', 'esbuild-esm', 'deno', 'bun', 'workerd', 'browser'];
const CHROMIUM = process.env.QBITPAY_CHROMIUM || '/usr/bin/chromium';

let tmp; // {dir, remove}
let proj; // the throwaway project with the tarball installed
let installed; // proj/node_modules/qbitpay
let manifest; // its package.json
let pack; // npm pack's report
let sb; // the sandbox, one API key per runtime
let env; // child environment: offline, no update checks, caches inside tmp
const keyOf = (runtime) => sb.apiKeys[RUNTIMES.indexOf(runtime)];

before(async () => {
  tmp = tempDir('qbitpay-packaging-');
  env = {
    ...process.env,
    npm_config_cache: path.join(tmp.dir, 'npm-cache'),
    npm_config_update_notifier: 'false',
    DENO_DIR: path.join(tmp.dir, 'deno-dir'),
    DENO_NO_UPDATE_CHECK: '1',
    DENO_NO_PROMPT: '1',
    DO_NOT_TRACK: '1', // Bun: no telemetry or crash upload
    BUN_INSTALL_CACHE_DIR: path.join(tmp.dir, 'bun-cache'),
    NO_COLOR: '1',
  };
  // QBITPAY_PKG_DIR: test another assembled package directory than pkg/.
  const snap = await snapshotPkg(path.join(tmp.dir, 'pkg'), process.env.QBITPAY_PKG_DIR || undefined);
  const [packed, sandbox] = await Promise.all([
    npmPack(snap, tmp.dir, env),
    startSandbox({ apiKeys: RUNTIMES.map((r) => `sk_test_${r.replace('-', '_')}_${Math.random().toString(36).slice(2, 10)}`) }),
  ]);
  sb = sandbox;
  pack = packed.report;
  proj = path.join(tmp.dir, 'app');
  installed = await installTarball(proj, packed.tarball, env);
  manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
});

after(async () => {
  if (sb) await sb.stop();
  if (tmp && !process.env.QBITPAY_KEEP_TMP) tmp.remove();
});

// --- the smoke report every runtime produces ---

const ERRORS = ['QbitPayAPIError', 'QbitPayAuthenticationError', 'QbitPayConnectionError', 'QbitPayError',
  'QbitPayInvalidRequestError', 'QbitPayRateLimitError', 'QbitPaySignatureError'];
// What `qbitpay/webhook` exports: the values its types declare (webhook.d.ts and the error
// classes it re-exports), at least these; `qbitpay` adds QbitPay.
const declaredValues = (file) => [...fs.readFileSync(path.join(installed, file), 'utf8')
  .matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm)].map((m) => m[1]);
function publicNames() {
  const webhook = [...new Set([...declaredValues('errors.d.ts'), ...declaredValues('webhook.d.ts')])].sort();
  for (const n of [...ERRORS, 'signWebhook', 'verifyWebhook']) assert.ok(webhook.includes(n), `webhook.d.ts declares ${n}`);
  return { webhook, client: [...webhook, 'QbitPay'].sort() };
}

function checkReport(report, { runtime, client = true, browser = false }) {
  const at = `[${runtime}]`;
  assert.deepEqual(report.exports, publicNames(), `${at} the same public names in every runtime, the ones the types declare`);
  assert.equal(VECTOR.signature, 'EE53810FF1341779F2FF25989A67DCFC', 'the spec known answer');
  assert.equal(report.signed, VECTOR.signature, `${at} signWebhook reproduces the spec's known answer`);
  assert.deepEqual(report.event, { id: 'fDOuTy95uSiTi', type: 'charge.succeeded', amount: 1000 }, `${at} verified event`);
  assert.equal(report.bytesOk, true, `${at} Uint8Array body, lower-case signature`);
  assert.equal(report.hmacOk, true, `${at} HMAC-SHA256`);
  assert.equal(report.tampered, 'signature_mismatch', `${at} a tampered body is refused`);
  assert.equal(report.tamperedClasses, true, `${at} the error is a QbitPaySignatureError of both entries`);
  assert.deepEqual(report.webhookInputs, { object: true, keyList: true, keyListMiss: 'signature_mismatch', request: true },
    `${at} a parsed event, a key list and a Request verify`);
  assert.equal(report.sameErrorClasses, true, `${at} qbitpay and qbitpay/webhook share their error classes`);
  assert.equal(report.sameVerify, true, `${at} qbitpay's verifyWebhook and verifyWebhookRequest give qbitpay/webhook's verdicts`);
  if (browser) assert.match(report.apiKeyClient, /^QbitPay\w*Error: .*browser/i, `${at} an API key is refused in a browser`);
  else assert.equal(report.apiKeyClient, 'constructed', `${at} an API key client outside browsers`);
  if (!client) return;
  const expected = browser ? report.retrieved : report.created;
  assert.equal(expected.length, 3, `${at} three charges`);
  if (!browser) assert.deepEqual(report.retrieved, report.created, `${at} each created charge retrieved`);
  assert.equal(new Set(report.listed).size, report.listed.length, `${at} no charge listed twice`);
  assert.deepEqual([...report.listed].sort(), [...expected].sort(), `${at} the list auto-paged over exactly the account's charges`);
  assert.equal(report.listRequests, 2, `${at} limit 2 over 3 charges is two list requests (full page, short page)`);
}

function parseReport(r, runtime) {
  const line = r.stdout.split('\n').find((l) => l.startsWith('SMOKE '));
  assert.ok(r.code === 0 && line, `[${runtime}] exited ${r.timedOut ? '(timed out)' : r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return JSON.parse(line.slice(6));
}

const rel = (fileOrUrl) => path.relative(installed, fileOrUrl.startsWith('file:') ? fileURLToPath(fileOrUrl) : fileOrUrl);

// An ES module program for Node, Deno and Bun: config as the first argument, the report on stdout.
function esmProgram({ requireCheck = false, prefix = '' } = {}) {
  return `import * as webhook from '${prefix}qbitpay/webhook';
import * as client from 'qbitpay';
${requireCheck ? "import { createRequire } from 'node:module';" : ''}
const cfg = JSON.parse((globalThis.Deno ? Deno.args : process.argv.slice(2))[0]);
const report = await smoke(webhook, client, cfg);
report.resolved = [import.meta.resolve('qbitpay'), import.meta.resolve('${prefix}qbitpay/webhook')];
${requireCheck ? `const require = createRequire(import.meta.url);
report.oneInstance = require('qbitpay').QbitPayError === client.QbitPayError
  && require('qbitpay/webhook').verifyWebhook === webhook.verifyWebhook && require('qbitpay').QbitPay === client.QbitPay;` : ''}
console.log('SMOKE ' + JSON.stringify(report));
${SMOKE}`;
}

const clientCfg = (runtime) => JSON.stringify({ vector: VECTOR, baseUrl: sb.url, apiKey: keyOf(runtime) });

// --- the tarball ---

test('tarball: manifest, contents and sizes', (t) => {
  const files = pack.files.map((f) => f.path).sort();
  for (const target of exportTargets(manifest.exports)) {
    assert.ok(files.includes(target.replace(/^\.\//, '')), `exports target ${target} is in the tarball`);
  }
  for (const f of ['package.json', 'README.md', 'LICENSE', 'index.d.ts', 'webhook.d.ts', 'wasm/qbitpay_webhook_bg.wasm', 'wasm/qbitpay_client_bg.wasm']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  const stray = files.filter((f) => !/^(package\.json|README\.md|LICENSE|(types\/)?[\w-]+\.d\.ts|(esm|node)\/[\w.-]+\.mjs|cjs\/[\w.-]+\.cjs|wasm\/[\w-]+\.wasm)$/.test(f));
  assert.deepEqual(stray, [], 'nothing but the package files (no maps, no sources, no tests)');
  assert.equal(manifest.name, 'qbitpay');
  assert.match(manifest.version, /^\d+\.\d+\.\d+/);
  assert.equal(manifest.license, 'MIT');
  assert.equal(manifest.sideEffects, false);
  assert.ok(manifest.engines && manifest.engines.node, 'engines.node');
  assert.equal(manifest.dependencies, undefined, 'no dependencies');
  assert.equal(manifest.type, undefined, 'no "type": every file says .mjs or .cjs');
  assert.ok(fs.readFileSync(path.join(installed, 'README.md'), 'utf8').includes('qbitpay/webhook'), 'the npm README');
  for (const sub of ['.', './webhook']) {
    const m = manifest.exports[sub];
    assert.equal(Object.keys(m)[0], 'types', `${sub}: types first`);
    assert.equal(Object.keys(m).at(-1), 'default', `${sub}: default last`);
    const name = sub === '.' ? 'index' : 'webhook';
    const want = {
      'workerd,worker,browser,import': `./esm/${name}.workerd.mjs`,
      // Next.js and Vercel Edge: the .wasm imported with ?module
      'edge-light,worker,browser,import': `./esm/${name}.edge.mjs`,
      // A browser's Web Worker (webpack's webworker target): the browser loader
      'worker,browser,import': `./esm/${name}.browser.mjs`,
      'deno,node,import': `./esm/${name}.fs.mjs`,
      'bun,node,import': `./esm/${name}.fs.mjs`,
      'browser,import': `./esm/${name}.browser.mjs`,
      'node,import': `./cjs/${name}.node.cjs`,
      'node,require': `./cjs/${name}.node.cjs`,
      'import': `./esm/${name}.browser.mjs`,
    };
    for (const [conds, file] of Object.entries(want)) {
      assert.equal(resolveExport(manifest, sub, conds.split(',')), file, `${sub} with conditions ${conds}`);
    }
  }
  for (const line of sizeTable(installed, pack).split('\n')) t.diagnostic(line);
});

// --- Node ---

test('Node ESM (import)', async () => {
  fs.writeFileSync(path.join(proj, 'smoke.mjs'), esmProgram({ requireCheck: true }));
  const report = parseReport(await run(process.execPath, ['smoke.mjs', clientCfg('node-esm')], { cwd: proj, env }), 'node-esm');
  checkReport(report, { runtime: 'node-esm' });
  assert.deepEqual(report.resolved.map(rel), ['cjs/index.node.cjs', 'cjs/webhook.node.cjs']);
  assert.equal(report.oneInstance, true, 'import and require share one instance');
});

test('Node CJS (require)', async () => {
  fs.writeFileSync(path.join(proj, 'smoke.cjs'), `'use strict';
const webhook = require('qbitpay/webhook');
const client = require('qbitpay');
(async () => {
  const report = await smoke(webhook, client, JSON.parse(process.argv[2]));
  report.resolved = [require.resolve('qbitpay'), require.resolve('qbitpay/webhook')];
  const esm = await import('qbitpay');
  report.oneInstance = require('qbitpay').QbitPayError === esm.QbitPayError && esm.QbitPay === client.QbitPay
    && (await import('qbitpay/webhook')).verifyWebhook === webhook.verifyWebhook;
  console.log('SMOKE ' + JSON.stringify(report));
})().catch((e) => { console.error(e); process.exit(1); });
${SMOKE}`);
  const report = parseReport(await run(process.execPath, ['smoke.cjs', clientCfg('node-cjs')], { cwd: proj, env }), 'node-cjs');
  checkReport(report, { runtime: 'node-cjs' });
  assert.deepEqual(report.resolved.map(rel), ['cjs/index.node.cjs', 'cjs/webhook.node.cjs']);
  assert.equal(report.oneInstance, true, "require('qbitpay').QbitPayError === (await import('qbitpay')).QbitPayError");
});

// A Node server bundled by esbuild (`--bundle --platform=node`, CommonJS by default, or
// `--format=esm`): the bundle, run from a directory without node_modules, carries both wasm
// modules (Node's entries hold them as JavaScript) and no other runtime's entry.
for (const format of ['cjs', 'esm']) {
  test(`Node, bundled by esbuild (--bundle --platform=node${format === 'esm' ? ' --format=esm' : ''})`, async () => {
    const runtime = `esbuild-${format}`;
    fs.writeFileSync(path.join(proj, `${runtime}.mjs`), `import * as webhook from 'qbitpay/webhook';
import * as client from 'qbitpay';
smoke(webhook, client, JSON.parse(process.argv[2]))
  .then((report) => console.log('SMOKE ' + JSON.stringify(report)), (e) => { console.error(e); process.exit(1); });
${SMOKE}`);
    const out = path.join(tmp.dir, runtime, `server.${format === 'esm' ? 'mjs' : 'js'}`);
    const meta = path.join(tmp.dir, `${runtime}.json`);
    await runOk(BIN('esbuild'), [`${runtime}.mjs`, '--bundle', '--platform=node', ...(format === 'esm' ? ['--format=esm'] : []),
      `--outfile=${out}`, `--metafile=${meta}`, '--log-level=warning'], { cwd: proj, env });
    const inputs = Object.keys(JSON.parse(fs.readFileSync(meta, 'utf8')).inputs).filter((f) => f.includes('qbitpay/'))
      .map((f) => f.replace(/^.*qbitpay\//, ''));
    assert.ok(inputs.includes('cjs/index.node.cjs') && inputs.includes('cjs/qbitpay_client_bg.wasm.cjs'), `Node's entries bundled: ${inputs}`);
    assert.ok(!inputs.some((f) => /^esm\//.test(f)), `no other runtime's entry: ${inputs}`);
    assert.deepEqual(fs.readdirSync(path.dirname(out)), [path.basename(out)], 'one file, no .wasm beside it');
    const report = parseReport(await run(process.execPath, [out, clientCfg(runtime)], { cwd: path.dirname(out), env }), runtime);
    checkReport(report, { runtime });
  });
}

// --- Deno, Bun ---

// Deno reads the wasm with node:fs, so it needs read access to the package (node_modules
// here); `npm:qbitpay/webhook` and bare 'qbitpay' (package.json) both resolve into node_modules.
test('Deno (npm package in node_modules, offline)', async () => {
  fs.writeFileSync(path.join(proj, 'smoke.deno.mjs'), esmProgram({ prefix: 'npm:' }));
  const r = await run(BIN('deno'), ['run', '--node-modules-dir=manual', '--cached-only', '--no-lock', '--no-prompt',
    '--allow-read=node_modules', '--allow-net=127.0.0.1', 'smoke.deno.mjs', clientCfg('deno')], { cwd: proj, env });
  const report = parseReport(r, 'deno');
  checkReport(report, { runtime: 'deno' });
  assert.deepEqual(report.resolved.map(rel), ['esm/index.fs.mjs', 'esm/webhook.fs.mjs']);
});

test('Deno without --allow-read: the import succeeds; a call throws wasm_unavailable naming the flag', async () => {
  fs.writeFileSync(path.join(proj, 'no-read.deno.mjs'), `import { verifyWebhook, QbitPayError } from 'npm:qbitpay/webhook';
try {
  verifyWebhook('{}', 'AB', 'key');
  console.log('SMOKE ' + JSON.stringify('verified'));
} catch (e) {
  console.log('SMOKE ' + JSON.stringify({ qbitpay: e instanceof QbitPayError, code: e.code, message: e.message }));
}
`);
  const r = await run(BIN('deno'), ['run', '--node-modules-dir=manual', '--cached-only', '--no-lock', '--no-prompt', 'no-read.deno.mjs'],
    { cwd: proj, env });
  const report = parseReport(r, 'deno');
  assert.equal(report.qbitpay, true, JSON.stringify(report));
  assert.equal(report.code, 'wasm_unavailable');
  assert.match(report.message, /qbitpay_webhook_bg\.wasm.*--allow-read/, "Deno's own message: the file and the flag");
});

test('Bun', async () => {
  fs.writeFileSync(path.join(proj, 'smoke.bun.mjs'), esmProgram());
  const r = await run(BIN('bun'), ['--no-install', 'smoke.bun.mjs', clientCfg('bun')], { cwd: proj, env });
  const report = parseReport(r, 'bun');
  checkReport(report, { runtime: 'bun' });
  assert.deepEqual(report.resolved.map(rel), ['esm/index.fs.mjs', 'esm/webhook.fs.mjs']);
});

// --- Cloudflare Workers (workerd) ---

// What wrangler does with `import wasm from './x.wasm'`: the file stays a separate module
// of the upload (a CompiledWasm module: the import is a WebAssembly.Module), not inlined.
const wasmAsModule = (outdir) => ({
  name: 'wasm-as-module',
  setup(b) {
    b.onResolve({ filter: /\.wasm$/ }, (a) => {
      const src = path.resolve(a.resolveDir, a.path);
      fs.copyFileSync(src, path.join(outdir, path.basename(src)));
      return { path: `./${path.basename(src)}`, external: true };
    });
  },
});

test('Cloudflare Workers (workerd via miniflare, esbuild bundle)', async () => {
  const outdir = path.join(proj, 'worker-dist');
  fs.mkdirSync(outdir, { recursive: true });
  fs.writeFileSync(path.join(proj, 'worker.mjs'), `import * as webhook from 'qbitpay/webhook';
import * as client from 'qbitpay';
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'POST' && url.pathname === '/webhooks/qbitpay') {
      try {
        const event = webhook.verifyWebhook(await request.text(), request.headers.get('QbitPay-Signature'), env.QBITPAY_API_KEY);
        return Response.json({ received: event.id });
      } catch (e) {
        if (!(e instanceof webhook.QbitPaySignatureError)) throw e;
        return Response.json({ error: e.code }, { status: 400 });
      }
    }
    if (request.method === 'POST' && url.pathname === '/smoke') {
      return Response.json(await smoke(webhook, client, await request.json()));
    }
    return new Response('not found', { status: 404 });
  },
};
${SMOKE}`);
  const built = await esbuild.build({
    absWorkingDir: proj, entryPoints: ['worker.mjs'], outfile: path.join(outdir, 'worker.mjs'), bundle: true,
    format: 'esm', platform: 'neutral', target: 'es2022', conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'], plugins: [wasmAsModule(outdir)], metafile: true, logLevel: 'silent',
  });
  const inputs = Object.keys(built.metafile.inputs).filter((f) => f.includes('qbitpay/')).map((f) => f.replace(/^.*qbitpay\//, ''));
  assert.ok(inputs.includes('esm/index.workerd.mjs') && inputs.includes('esm/webhook.workerd.mjs'), `workerd entries bundled: ${inputs}`);
  assert.ok(!inputs.some((f) => /browser|\.fs\.|cjs|node\//.test(f)), `no other runtime's entry bundled: ${inputs}`);
  const bundle = fs.readFileSync(path.join(outdir, 'worker.mjs'), 'utf8');
  assert.ok(!/from\s+["']node:/.test(bundle), 'the worker imports no node: builtins');
  const wasmImports = [...bundle.matchAll(/^import \w+ from "\.\/([\w-]+\.wasm)";$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(wasmImports, ['qbitpay_client_bg.wasm', 'qbitpay_webhook_bg.wasm'], 'wasm imported as modules');

  const mf = new Miniflare({
    modules: true, scriptPath: path.join(outdir, 'worker.mjs'), modulesRoot: outdir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-09-01', cf: false, bindings: { QBITPAY_API_KEY: VECTOR.apiKey },
  });
  try {
    const post = (body, signature) => mf.dispatchFetch('http://worker.test/webhooks/qbitpay', {
      method: 'POST', body, headers: signature === undefined ? {} : { 'QbitPay-Signature': signature },
    }).then(async (r) => [r.status, await r.json()]);
    assert.deepEqual(await post(VECTOR.body, VECTOR.signature), [200, { received: 'fDOuTy95uSiTi' }], 'a good delivery: 200');
    assert.deepEqual(await post(VECTOR.body.replace('"amount":1000', '"amount":1001'), VECTOR.signature),
      [400, { error: 'signature_mismatch' }], 'a tampered delivery: 400');
    assert.deepEqual(await post(VECTOR.body), [400, { error: 'missing_signature' }], 'no signature: 400');

    // The client, through workerd's outbound fetch to the sandbox on 127.0.0.1.
    const res = await mf.dispatchFetch('http://worker.test/smoke', { method: 'POST', body: clientCfg('workerd') });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    checkReport(JSON.parse(text), { runtime: 'workerd' });
  } finally {
    await mf.dispose();
  }
});

// --- Chromium ---

test('Chromium (ES module page, access-token client)', async () => {
  // Server side, with the API key: three charges and an access token for the browser.
  const { chargeIds, accessToken } = await seedCharges(sb.url, keyOf('browser'));

  // The page imports the package as ES modules: bare specifiers mapped (import map) to the
  // files the exports map gives the `browser` condition, under the installed node_modules.
  const imports = {};
  for (const [spec, sub] of [['qbitpay', '.'], ['qbitpay/webhook', './webhook']]) {
    imports[spec] = `/node_modules/qbitpay/${resolveExport(manifest, sub, ['browser', 'import']).slice(2)}`;
  }
  const html = `<!doctype html><meta charset="utf-8"><title>qbitpay smoke</title>
<link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify({ imports })}</script>
<script type="module">
import * as webhook from 'qbitpay/webhook';
import * as client from 'qbitpay';
window.runSmoke = (cfg) => smoke(webhook, client, cfg);
${SMOKE}
</script>`;
  const site = await serveDir(proj, { '/': { type: 'text/html; charset=utf-8', body: html } });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, timeout: 30_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    const problems = [];
    const requested = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => typeof window.runSmoke === 'function', null, { timeout: 15_000 })
      .catch((e) => { throw new Error(`the page did not load the package: ${problems.join('\n') || e.message}`); });
    const report = await page.evaluate((cfg) => window.runSmoke(cfg),
      { vector: VECTOR, baseUrl: sb.url, accessToken, chargeIds });
    assert.deepEqual(problems, [], 'no page errors');
    checkReport(report, { runtime: 'browser', browser: true });
    assert.deepEqual(report.created, [], 'an access-token client creates nothing');
    assert.deepEqual(report.retrieved, chargeIds, 'the access-token client retrieves the charges');
    // Each wasm fetched once, by URL next to the module, from the package itself.
    const wasm = site.requests.filter((p) => p.endsWith('.wasm')).sort();
    assert.deepEqual(wasm, ['/node_modules/qbitpay/wasm/qbitpay_client_bg.wasm', '/node_modules/qbitpay/wasm/qbitpay_webhook_bg.wasm']);
    const foreign = requested.filter((u) => !u.startsWith(site.url) && !u.startsWith(sb.url) && !u.startsWith('data:'));
    assert.deepEqual(foreign, [], 'the page talks only to its own server and the sandbox');
  } finally {
    if (browser) await browser.close();
    await site.stop();
  }
});

// --- TypeScript ---

test('TypeScript consumer (tsc --strict) of both entries', async () => {
  const dir = path.join(proj, 'ts');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022',
      lib: ['es2022', 'dom', 'dom.asynciterable'], types: [], skipLibCheck: false },
    files: ['esm.mts', 'cjs.cts'],
  }, null, 2));
  fs.writeFileSync(path.join(dir, 'esm.mts'), `import { QbitPay, QbitPayError, QbitPayAuthenticationError, type Charge } from 'qbitpay';
import { verifyWebhook, signWebhook, QbitPaySignatureError, type WebhookEvent } from 'qbitpay/webhook';

const qp = new QbitPay({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9', timeoutMs: 5000 });
export async function amounts(): Promise<number[]> {
  const out: number[] = [];
  for await (const c of qp.charges.list({ limit: 2 })) out.push(c.amount);
  const created: Charge = await qp.charges.create({ amount: 1, currency: 'USD', externalOrderId: 'o', cbUrl: 'https://x/cb', redirectUrl: 'https://x/r' });
  out.push(created.amount);
  return out;
}
export function handle(body: string, sig: string | null): string {
  try {
    const event: WebhookEvent = verifyWebhook(body, sig ?? '', 'key', { algorithm: 'hmac-sha256', maxAgeSeconds: 300 });
    return event.type;
  } catch (e) {
    if (e instanceof QbitPaySignatureError) return e.code;
    if (e instanceof QbitPayError && e.code === 'wasm_unavailable') return String(e.cause);
    if (e instanceof QbitPayAuthenticationError || e instanceof QbitPayError) return e.type;
    throw e;
  }
}
export const header: string = signWebhook({ id: 'evt' }, 'key');
// @ts-expect-error a number is not a webhook body
verifyWebhook(42, 'AB', 'key');
// @ts-expect-error no such algorithm
signWebhook('{}', 'key', { algorithm: 'sha1' });
// @ts-expect-error amount is a number
qp.charges.create({ amount: '1', currency: 'USD', externalOrderId: 'o', cbUrl: 'https://x/cb', redirectUrl: 'https://x/r' });
`);
  fs.writeFileSync(path.join(dir, 'cjs.cts'), `import qbitpay = require('qbitpay');
import webhook = require('qbitpay/webhook');
const qp = new qbitpay.QbitPay({ accessToken: 'tok' });
export const same: boolean = qbitpay.verifyWebhook === webhook.verifyWebhook && qp instanceof qbitpay.QbitPay;
export const id: string = webhook.verifyWebhook('{}', 'AB', 'k').id;
`);
  const r = await run(BIN('tsc'), ['-p', 'tsconfig.json', '--listFiles'], { cwd: dir, env });
  assert.equal(r.code, 0, `tsc --strict failed:\n${r.stdout}${r.stderr}`);
  const used = r.stdout.split('\n').filter((f) => f.includes('qbitpay')).map((f) => path.relative(installed, path.resolve(dir, f)));
  for (const d of ['index.d.ts', 'webhook.d.ts', 'client.d.ts', 'errors.d.ts']) {
    assert.ok(used.includes(d), `${d} from the installed tarball is used (${used})`);
  }
});
