#!/usr/bin/env node
// Assemble pkg/, the npm package `qbitpay`: two wasm-pack builds of this crate (the
// webhook verifier, and the client) plus the JS facade in
// pkg-template/, with one small loader per runtime. Run by `make pkg`; pkg/ is generated,
// never committed.
//
//   pkg/wasm/*.wasm          the two modules, shared by every runtime:
//                            qbitpay_webhook_bg.wasm  the verifier alone (`qbitpay/webhook`)
//                            qbitpay_client_bg.wasm   the client (`qbitpay`, which re-exports
//                                                     `qbitpay/webhook`)
//   pkg/esm/*.mjs            one bundled, minified file per entry and runtime (wasm-bindgen glue +
//                            facade + loader; browser, workerd and fs (Deno, Bun)), plus the two
//                            modules every entry shares: errors.mjs (the error classes) and
//                            verifier.mjs (verifyWebhook/signWebhook over whichever loaded module
//                            carries the verifier, the webhook module first)
//   pkg/cjs/*.cjs            the facade and glue as readable CommonJS modules; the Node entries
//                            (`qbitpay` there extends `qbitpay/webhook`: its verifier is the
//                            webhook module's, the one built for speed)
//   pkg/node/*.mjs           Node's `import` entries: re-export the CommonJS ones, so
//                            `import` and `require` share one instance (no dual package)
//
// Whatever an app imports, `qbitpay` and `qbitpay/webhook` export the same verifyWebhook,
// signWebhook and error classes.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// QBITPAY_PKG_OUT: assemble elsewhere than pkg/ (to measure a variant without replacing
// the pkg/ that tests read); node_modules/qbitpay is then left pointing at pkg/.
const pkg = process.env.QBITPAY_PKG_OUT ? path.resolve(process.env.QBITPAY_PKG_OUT) : path.join(root, 'pkg');
const defaultOut = pkg === path.join(root, 'pkg');
const template = path.join(root, 'pkg-template');
const at = (...p) => path.join(pkg, ...p);

// The wasm modules and the names each npm entry exports. `env`: extra environment for the
// module's cargo build (per module: one crate, one profile in Cargo.toml).
// `wasmOpt`: wasm-opt passes run again on wasm-pack's output (which had -Oz), or instead of
// them with `noOpt`.
// The webhook module: wasm-opt -O4 instead of -Oz, for the canonicaliser's and the hashes'
// hot code, at ~0.15 KB more gzip (measured: 33.76 vs 33.61 KB).
const WEBHOOK = { glue: 'qbitpay_webhook', features: 'wasm-webhook', api: 'webhookApi', facade: 'webhook',
  exports: ['verifyWebhook', 'signWebhook', 'verifyWebhookRequest'], env: {}, noOpt: true, wasmOpt: ['-O4'] };
// The module of `qbitpay`: at opt-level z (−3.5 KB gzip against s): request building is not
// hot (one call per HTTP request). wasm-opt again, assuming the lowest 1 KB of memory unused
// (true of Rust's wasm32 layout: the stack's far end, then data from 1 MB), to a fixed point:
// −0.3 KB gzip.
// The client's module no longer carries the verifier: `qbitpay` re-exports `qbitpay/webhook`.
const CLIENT = { glue: 'qbitpay_client', types: true, features: 'wasm-client', api: 'clientApi', facade: 'client',
  exports: ['QbitPay'], env: { CARGO_PROFILE_RELEASE_OPT_LEVEL: 'z' }, wasmOpt: ['-Oz', '--low-memory-unused', '--converge'] };
const ERRORS = ['QbitPayError', 'QbitPayInvalidRequestError', 'QbitPayAuthenticationError',
  'QbitPayRateLimitError', 'QbitPayAPIError', 'QbitPayConnectionError', 'QbitPaySignatureError'];

const hasClient = fs.existsSync(path.join(template, 'src', 'client.mjs'));
const modules = hasClient ? [WEBHOOK, CLIENT] : [WEBHOOK];

function wasmPack(m) {
  execFileSync('wasm-pack', ['build', '--target', 'web', '--release', '--no-pack', ...(m.types ? [] : ['--no-typescript']), ...(m.noOpt ? ['--no-opt'] : []),
    '--out-dir', `target/wasm-pack/${m.glue}`, '--out-name', m.glue, '--',
    '--no-default-features', '--features', m.features], { cwd: root, stdio: 'inherit', env: { ...process.env, ...m.env } });
}

// The module's own extra wasm-opt passes, and out with what no runtime needs: the producers
// and target_features custom sections.
function finishWasm(m, file) {
  execFileSync('wasm-opt', [file, '-o', file, ...m.wasmOpt, '--strip-producers', '--strip-target-features', '--enable-bulk-memory',
    '--enable-nontrapping-float-to-int', '--enable-sign-ext', '--enable-mutable-globals', '--enable-reference-types',
    '--enable-multivalue'], { cwd: root, stdio: 'inherit' });
}

// The wasm-bindgen glue without its async, URL-fetching default init (every loader below
// compiles the module itself and calls initSync): once unexported, the bundler drops it.
function trimGlue(src, m) {
  const exportLine = 'export { initSync, __wbg_init as default };';
  if (!src.includes(exportLine)) throw new Error(`${m.glue}.js: wasm-bindgen's export line changed; update trimGlue`);
  return src.replace(exportLine, 'export { initSync };');
}

// The glue + facade sources the entries bundle.
const stage = path.join(root, 'target', defaultOut ? 'pkg-src' : `pkg-src-${path.basename(pkg)}`);
const wasmFile = (m) => `../wasm/${m.glue}_bg.wasm`;
const wasmUrl = (m) => `new URL('${wasmFile(m)}', import.meta.url)`;

// How each runtime gets the compiled module, as the statements of an ES module entry.
const esmLoaders = {
  // Browsers: fetch next to the module and compile while downloading, before the first
  // export is used (top-level await). A server that does not say application/wasm gets
  // the buffered compile, as wasm-bindgen's own loader does.
  browser: (m) => [`import * as ${m.glue} from './${m.glue}.mjs';`,
    `const ${m.glue}_res = await fetch(${wasmUrl(m)});`,
    `if (!${m.glue}_res.ok) throw new Error(\`qbitpay: fetching \${${m.glue}_res.url} failed: HTTP \${${m.glue}_res.status}\`);`,
    `${m.glue}.initSync({ module: await (WebAssembly.compileStreaming && /^application\\/wasm/.test(${m.glue}_res.headers.get('content-type'))`,
    `  ? WebAssembly.compileStreaming(${m.glue}_res) : ${m.glue}_res.arrayBuffer().then((b) => WebAssembly.compile(b))) });`],
  // Cloudflare Workers: wrangler/esbuild bundle a .wasm import as a WebAssembly.Module.
  workerd: (m) => [`import * as ${m.glue} from './${m.glue}.mjs';`,
    `import ${m.glue}_wasm from '${wasmFile(m)}';`,
    `${m.glue}.initSync({ module: ${m.glue}_wasm });`],
  // Deno and Bun: read the file synchronously.
  fs: (m) => [`import * as ${m.glue} from './${m.glue}.mjs';`,
    `import { readFileSync as read_${m.glue} } from 'node:fs';`,
    `${m.glue}.initSync({ module: read_${m.glue}(${wasmUrl(m)}) });`],
};

// An ES module entry for module `m`: load it, hand it to the shared verifier (when it
// carries one), export. Without a verifier in the client's module, `qbitpay` re-exports
// the webhook entry (and so loads both modules).
const clientVerifies = CLIENT.features.split(',').includes('wasm-webhook');
function esmEntry(runtime, m) {
  const lines = [...esmLoaders[runtime](m)];
  if (m === WEBHOOK || clientVerifies) {
    lines.push(`import { useVerifier } from './verifier.mjs';`, `useVerifier(${m.glue}${m === WEBHOOK ? ', true' : ''});`,
      `export { ${WEBHOOK.exports.join(', ')} } from './verifier.mjs';`,
      // The public error classes only (as the Node entries), not the facade's internal table.
      `export { ${ERRORS.join(', ')} } from './errors.mjs';`);
  } else {
    lines.push(`export * from './webhook.${runtime}.mjs';`);
  }
  if (m !== WEBHOOK) {
    lines.push(`import { ${m.api} } from './${m.facade}.mjs';`);
    lines.push(`export const { ${m.exports.join(', ')} } = ${m.api}(${m.glue});`);
    // The names the facade gave them, which the bundle's minified identifiers would lose.
    lines.push(`for (const [n, f] of Object.entries({ ${m.exports.join(', ')} })) Object.defineProperty(f, 'name', { value: n });`);
  }
  return lines.join('\n') + '\n';
}

// verifyWebhook and signWebhook for every ES module entry, over one wasm module: the webhook
// module once loaded (`own`: built for speed), else the client's (the same verifier source,
// at opt-level z). So `qbitpay` and `qbitpay/webhook` export the same functions, and an app
// that imports both verifies with the faster module.
function verifierModule() {
  const names = WEBHOOK.exports;
  return [`import { webhookApi } from './webhook.mjs';`, 'let api;',
    'export const useVerifier = (glue, own) => { if (own || !api) api = webhookApi(glue); };',
    ...names.map((n) => `export const ${n} = (...args) => api.${n}(...args);`),
    `for (const [n, f] of Object.entries({ ${names.join(', ')} })) Object.defineProperty(f, 'name', { value: n });`].join('\n') + '\n';
}

// Bundle an entry with its glue and facade into one minified file. Left as imports: the
// shared modules (./errors.mjs, ./verifier.mjs, the webhook entry), the .wasm (workerd)
// and node: builtins. Identifiers are minified too: no public name depends on them (exports
// keep their names; the error classes, in errors.mjs, are not minified).
async function bundleEntry(file, source) {
  const external = /^node:|\.wasm$|^\.\/(errors|verifier|webhook\.\w+)\.mjs$/;
  await esbuild.build({
    stdin: { contents: source, resolveDir: stage, sourcefile: file, loader: 'js' },
    outfile: at('esm', file), bundle: true, format: 'esm', platform: 'neutral', target: 'es2022',
    minifySyntax: true, minifyWhitespace: true, minifyIdentifiers: true, legalComments: 'none', logLevel: 'error',
    banner: { js: '// Generated by tools/build-pkg.mjs from pkg-template/src and the wasm-bindgen glue (unminified: cjs/).' },
    plugins: [{ name: 'qbitpay-externals', setup(b) { b.onResolve({ filter: external }, (a) => ({ path: a.path, external: true })); } }],
  });
}

// ESM source → CommonJS, with sibling imports pointed at the .cjs twins.
function toCjs(file) {
  const src = fs.readFileSync(path.join(stage, file), 'utf8');
  const { code } = esbuild.transformSync(src, { format: 'cjs', target: 'node18', logLevel: 'error',
    // The glue's default (async, URL-fetching) init is never used from Node.
    define: { 'import.meta.url': 'undefined' } });
  const out = code.replace(/require\("(\.\/[^"]+)\.mjs"\)/g, 'require("$1.cjs")');
  fs.writeFileSync(at('cjs', file.replace(/\.mjs$/, '.cjs')), out);
}

function cjsEntry(entryModules) {
  const m = entryModules[entryModules.length - 1];
  // The index entry extends the webhook entry; the webhook entry exports the public error
  // classes by name (not the facade's internal table), as every ESM entry does.
  const base = entryModules.length > 1 ? `const base = require('./webhook.node.cjs');`
    : `const { ${ERRORS.join(', ')} } = require('./errors.cjs');\nconst base = { ${ERRORS.join(', ')} };`;
  return `// Generated by tools/build-pkg.mjs.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
${base}
const glue = require('./${m.glue}.cjs');
glue.initSync({ module: readFileSync(join(__dirname, '..', 'wasm', '${m.glue}_bg.wasm')) });
module.exports = { ...base, ...require('./${m.facade}.cjs').${m.api}(glue) };
`;
}

function nodeEsmEntry(name, names) {
  return `// Generated by tools/build-pkg.mjs: Node's import entry shares the require entry's instance.
import cjs from '../cjs/${name}.node.cjs';
export const { ${names.join(', ')} } = cjs;
export default cjs;
`;
}

// What an entry loads: its relative imports and the .wasm files they name, followed.
function loads(rel) {
  const seen = new Set();
  const visit = (f) => {
    if (seen.has(f) || !fs.existsSync(at(f))) return;
    seen.add(f);
    if (f.endsWith('.wasm')) return;
    for (const [, spec] of fs.readFileSync(at(f), 'utf8').matchAll(/["'`](\.{1,2}\/[\w./-]+\.(?:mjs|wasm))["'`]/g)) {
      visit(path.posix.normalize(path.posix.join(path.posix.dirname(f), spec)));
    }
  };
  visit(rel);
  return [...seen];
}

function gzSizes(files) {
  const n = { js: 0, wasm: 0 };
  for (const f of files) n[f.endsWith('.wasm') ? 'wasm' : 'js'] += gzipSync(fs.readFileSync(at(f)), { level: 9 }).length;
  return n;
}

// --- build ---
for (const m of modules) wasmPack(m);
fs.rmSync(pkg, { recursive: true, force: true });
fs.rmSync(stage, { recursive: true, force: true });
for (const d of ['esm', 'cjs', 'node', 'wasm']) fs.mkdirSync(at(d), { recursive: true });
fs.mkdirSync(stage, { recursive: true });

for (const m of modules) {
  const out = path.join(root, 'target', 'wasm-pack', m.glue);
  fs.copyFileSync(path.join(out, `${m.glue}_bg.wasm`), at('wasm', `${m.glue}_bg.wasm`));
  finishWasm(m, at('wasm', `${m.glue}_bg.wasm`));
  fs.writeFileSync(path.join(stage, `${m.glue}.mjs`), trimGlue(fs.readFileSync(path.join(out, `${m.glue}.js`), 'utf8'), m));
}
for (const f of fs.readdirSync(path.join(template, 'src'))) {
  if (f.endsWith('.mjs')) fs.copyFileSync(path.join(template, 'src', f), path.join(stage, f));
}
for (const f of fs.readdirSync(stage)) toCjs(f);
// The error classes: whitespace and syntax minified only, so every name stays as written.
fs.writeFileSync(at('esm', 'errors.mjs'), esbuild.transformSync(fs.readFileSync(path.join(stage, 'errors.mjs'), 'utf8'),
  { format: 'esm', target: 'es2022', minifySyntax: true, minifyWhitespace: true, legalComments: 'none', logLevel: 'error' }).code);

await bundleEntry('verifier.mjs', verifierModule());
const entries = { webhook: [WEBHOOK], index: modules };
for (const [name, mods] of Object.entries(entries)) {
  for (const runtime of Object.keys(esmLoaders)) {
    const m = mods[mods.length - 1];
    // Without a client, `qbitpay` is the webhook entry.
    const source = name === 'index' && m === WEBHOOK ? `export * from './webhook.${runtime}.mjs';\n` : esmEntry(runtime, m);
    await bundleEntry(`${name}.${runtime}.mjs`, source);
  }
  fs.writeFileSync(at('cjs', `${name}.node.cjs`), cjsEntry(mods));
  const names = [...ERRORS, ...mods.flatMap((m) => m.exports)];
  fs.writeFileSync(at('node', `${name}.mjs`), nodeEsmEntry(name, names));
}

const version = /^version\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1];
const manifest = JSON.parse(fs.readFileSync(path.join(template, 'package.json'), 'utf8'));
manifest.version = version;
fs.writeFileSync(at('package.json'), JSON.stringify(manifest, null, 2) + '\n');
for (const f of fs.readdirSync(template)) {
  if (f.endsWith('.d.ts') || f === 'README.md' || f === 'LICENSE') fs.copyFileSync(path.join(template, f), at(f));
}
// The declarations wasm-bindgen wrote for a module's classes and custom sections, as they are.
for (const m of modules.filter((x) => x.types)) {
  fs.mkdirSync(at('types'), { recursive: true });
  fs.copyFileSync(path.join(root, 'target', 'wasm-pack', m.glue, `${m.glue}.d.ts`), at('types', `${m.glue}.d.ts`));
}
if (!hasClient) fs.writeFileSync(at('index.d.ts'), "export * from './webhook';\n");

// Let tests and tools `import 'qbitpay'` the built package.
if (defaultOut) {
  const link = path.join(root, 'node_modules', 'qbitpay');
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync('../pkg', link, 'dir');
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`${defaultOut ? 'pkg' : pkg}/ assembled (qbitpay ${version}). gzip size of what a browser loads (each file on its own):`);
for (const [label, entry] of [['qbitpay/webhook', 'esm/webhook.browser.mjs'], ...(hasClient ? [['qbitpay', 'esm/index.browser.mjs']] : [])]) {
  const n = gzSizes(loads(entry));
  console.log(`  ${label.padEnd(16)} ${kb(n.js + n.wasm)} (JS ${kb(n.js)} + wasm ${kb(n.wasm)})`);
}
