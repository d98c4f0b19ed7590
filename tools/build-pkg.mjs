#!/usr/bin/env node
// Assemble pkg/, the npm package `qbitpay`: two wasm modules, each built by wasm-pack
// (`--target web`), plus the JS facade in pkg-template/src, with one small loader per
// runtime. Run by `make pkg`; pkg/ is generated, never committed.
//
//   wasm/*.wasm            the two modules: qbitpay_webhook_bg.wasm (the verifier, behind
//                          `qbitpay/webhook`, built for speed) and qbitpay_client_bg.wasm (the
//                          client, behind `qbitpay`, built for size). `qbitpay` also exports the
//                          webhook functions: its entries re-export `qbitpay/webhook`'s, so an app
//                          that never verifies a webhook does not load the verifier (a bundler
//                          drops the re-export: `sideEffects: false`; Node requires it on the
//                          first call), and one that does loads it once for both entries
//   esm/<entry>.<rt>.mjs   one bundled, minified file per entry and runtime: the wasm-bindgen
//                          glue, the facades and the loader. Left as imports: the shared
//                          errors.mjs and the .wasm
//     .browser.mjs         browsers, bundlers' browser builds: fetch(new URL('../wasm/x.wasm',
//                          import.meta.url)) and compile, before the first export is used
//                          (top-level await). Vite, webpack and Turbopack emit the URL as an asset.
//     .workerd.mjs         Cloudflare Workers: `import m from '../wasm/x.wasm'` (wrangler's
//                          bundler makes it a WebAssembly.Module; workerd compiles no bytes)
//     .edge.mjs            Vercel Edge, Next.js Edge routes: `import m from '../wasm/x.wasm?module'`
//     .fs.mjs              Deno, Bun: read the .wasm next to the module with node:fs
//   esm/errors.mjs         the error classes, one module for every ESM entry (instanceof holds)
//   esm/delivery.mjs       what createWebhookHandler and the stores run (pkg-template/src/
//   cjs/delivery.cjs       delivery.mjs), loaded on a handler's first delivery or a store's first
//                          call, so that an app that only verifies does not load it: a dynamic
//                          import() in ESM (bundlers follow it to a chunk of their own), require()
//                          in CommonJS (Jest and other CommonJS hosts without ESM run it)
//   cjs/*.cjs              Node's entries, for `import` and `require` alike (one instance and
//                          one set of error classes either way; `import` names what each
//                          entry assigns to `exports`, which Node reads from its source):
//                          readable, the glue and the facade as CommonJS (errors.cjs shared),
//                          and each wasm module as bytes in a module of its own
//                          (x_bg.wasm.cjs), so a bundler that moves the entry (Next.js, server
//                          bundles) moves its bytes with it: no file is looked up next to a
//                          module at run time. (An ES module re-exporting them cost ~4 ms of
//                          start-up: PERFORMANCE.md.)
//
// Every entry imports even when its module cannot be loaded (a Content-Security-Policy without
// 'wasm-unsafe-eval', a .wasm not served, Node's --jitless): its calls then throw QbitPayError
// `wasm_unavailable` (pkg-template/src/wasm-unavailable.mjs; in errors.cjs for CommonJS).
//
// The generated glue is used as wasm-pack wrote it: the entries import it through a module
// that re-exports its named exports (`export *`), which leaves out its default, URL-fetching
// init for the bundler to drop; an import of ./errors.mjs in it (or in the facade) resolves to
// the shared errors module of each format (esbuild plugins below, no text edits).
//
// The facades: webhookApi(glue) and clientApi(glue) in pkg-template/src, each called once
// with the initialised glue; what they return is what the entries export. `qbitpay` exports
// both over its one module (the same names as `qbitpay/webhook`, and QbitPay).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
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
const facades = path.join(template, 'src');
const at = (...p) => path.join(pkg, ...p);

// The wasm modules: `entry` is the npm entry's file stem, `facade` its pkg-template/src
// module and `api` the function it exports. `profile`: the module's cargo profile, and
// `wasmOpt`: its key in `[package.metadata.qbitpay.wasm-opt]` (both in Cargo.toml).
const VERIFIER = { facade: 'webhook', api: 'webhookApi' };
// createWebhookHandler and its stores. `shake`: in the ES entries each name is a top-level
// function (not a destructured constant), which a bundler drops when the app does not use it.
const HANDLER = { facade: 'handler', api: 'handlerApi', shake: true };
const WEBHOOK = { glue: 'qbitpay_webhook', features: 'wasm-webhook', entry: 'webhook', facades: [VERIFIER, HANDLER],
  profile: 'wasm-webhook', wasmOpt: 'webhook', ownNames: true };
// The client's module; `reexports`: the module whose entry's names its entry exports too.
const CLIENT = { glue: 'qbitpay_client', features: 'wasm-client', types: true, entry: 'index',
  facades: [{ facade: 'client', api: 'clientApi' }], profile: 'wasm-client', wasmOpt: 'client', reexports: WEBHOOK };
const MODULES = [WEBHOOK, CLIENT];
const WASM_OPT = JSON.parse(execFileSync('cargo', ['metadata', '--no-deps', '--format-version', '1'], { cwd: root, encoding: 'utf8' }))
  .packages.find((p) => p.name === 'qbitpay').metadata.qbitpay['wasm-opt'];

// Panic locations (kept in the module, never shown: a panic traps) name the dependencies'
// files from their crate's folder, not from this machine's cargo home: fewer bytes, and the
// same bytes whoever builds it.
const cargoRegistry = path.join(process.env.CARGO_HOME ?? path.join(os.homedir(), '.cargo'), 'registry', 'src');
const RUSTFLAGS = [process.env.RUSTFLAGS, ...(fs.existsSync(cargoRegistry) ? fs.readdirSync(cargoRegistry) : [])
  .map((index) => `--remap-path-prefix=${path.join(cargoRegistry, index)}/=`)].filter(Boolean).join(' ');

function wasmPack(m) {
  execFileSync('wasm-pack', ['build', '--target', 'web', '--profile', m.profile, '--no-opt', '--no-pack', ...(m.types ? [] : ['--no-typescript']),
    '--out-dir', `target/wasm-pack/${m.glue}`, '--out-name', m.glue, '--',
    '--no-default-features', '--features', m.features], { cwd: root, stdio: 'inherit', env: { ...process.env, RUSTFLAGS } });
}
const glueFile = (m) => path.join(root, 'target', 'wasm-pack', m.glue, `${m.glue}.js`);

// The module's wasm-opt runs, and out with what no runtime needs: the producers and
// target_features custom sections.
function finishWasm(m, file) {
  for (const passes of WASM_OPT[m.wasmOpt]) {
    execFileSync('wasm-opt', [file, '-o', file, ...passes, '--strip-producers', '--strip-target-features', ...WASM_OPT.features],
      { cwd: root, stdio: 'inherit' });
  }
}

// --- how each runtime gets the compiled module ---

// How the entry of `m` gets its compiled module (or its bytes): `imports`, statements at the
// top, and `module`, the expression that evaluates to it, run where a failure is caught.
// The .wasm is named by a literal relative to the entry, which bundlers follow.
const wasmRel = (m) => `../wasm/${m.glue}_bg.wasm`;
const ESM_LOADERS = {
  browser: (m) => ({ imports: [`import { compileFetched } from 'qbitpay:loader';`],
    module: `await compileFetched(new URL('${wasmRel(m)}', import.meta.url))` }),
  workerd: (m) => ({ imports: [`import wasm_${m.glue} from '${wasmRel(m)}';`], module: `wasm_${m.glue}` }),
  edge: (m) => ({ imports: [`import { sameRealm } from 'qbitpay:loader';`, `import module_${m.glue} from '${wasmRel(m)}?module';`],
    module: `sameRealm(module_${m.glue})` }),
  fs: (m) => ({ imports: [`import { readFileSync } from 'node:fs';`], module: `readFileSync(new URL('${wasmRel(m)}', import.meta.url))` }),
};
// A server that does not say application/wasm gets the buffered compile, as wasm-bindgen's
// own loader does (every browser with top-level await has compileStreaming). fetch()'s own
// error names no URL.
const LOADER_MODULE = `export async function compileFetched(url) {
  const res = await fetch(url).catch((e) => {
    throw new Error(\`fetching \${url} failed\`, { cause: e });
  });
  if (!res.ok) throw new Error(\`fetching \${url} failed: HTTP \${res.status}\`);
  return /^application\\/wasm/.test(res.headers.get('content-type'))
    ? WebAssembly.compileStreaming(res) : WebAssembly.compile(await res.arrayBuffer());
}
// Next.js runs Edge code in a realm of its own and compiles the imported .wasm outside it, so
// the glue's \`instanceof WebAssembly.Module\` fails for a good module (WebAssembly.Instance
// reads the module's internal slot, not its prototype).
export function sameRealm(module) {
  return module instanceof WebAssembly.Module ? module : Object.setPrototypeOf(module, WebAssembly.Module.prototype);
}
`;

// The ES module entry of `m` for `runtime`; each facade's `names`: what it returns. A module
// that cannot be loaded (a CSP without 'wasm-unsafe-eval', a missing .wasm) fails no import:
// the facades get wasmUnavailable's stand-in, whose calls throw. The facades get the glue's
// exports as a plain object (`m.glueNames`), not `import * as`: a bundled namespace object
// is built with a getter per name (more bytes).
function esmEntry(m, runtime, errorNames) {
  const loader = ESM_LOADERS[runtime](m);
  return [
    `import { initSync, ${m.glueNames.map((n) => `${n} as glue_${n}`).join(', ')} } from 'qbitpay:glue/${m.glue}';`,
    `import { wasmUnavailable } from './wasm-unavailable.mjs';`,
    ...m.facades.map((f) => `import { ${f.api} } from './${f.facade}.mjs';`),
    ...loader.imports,
    `const glue = { ${m.glueNames.map((n) => `${n}: glue_${n}`).join(', ')} };`,
    `let api = glue;`,
    `try { initSync({ module: ${loader.module} }); } catch (e) { api = wasmUnavailable(glue, e); }`,
    `export { ${errorNames.join(', ')} } from './errors.mjs';`,
    ...m.facades.map((f) => (f.shake ? f.names.map((n) => `export function ${n}(...a) { return ${f.api}(api).${n}(...a); }`).join('\n')
      : `export const { ${f.names.join(', ')} } = ${f.api}(api);`)),
    ...(m.reexports ? [`export { ${reexported(m).join(', ')} } from './${m.reexports.entry}.${runtime}.mjs';`] : []),
  ].join('\n') + '\n';
}

// Resolution shared by every bundle, ESM and CJS: the glue as its named exports only, the
// shared errors module of the format, and what stays an import of the output file.
function qbitpayPlugin(format) {
  const errors = format === 'cjs' ? './errors.cjs' : './errors.mjs';
  return {
    name: 'qbitpay',
    setup(b) {
      b.onResolve({ filter: /^qbitpay:glue\/\w+$/ }, (a) => ({ path: a.path.slice('qbitpay:glue/'.length), namespace: 'qbitpay-glue' }));
      b.onLoad({ filter: /.*/, namespace: 'qbitpay-glue' }, (a) => {
        const m = MODULES.find((x) => x.glue === a.path);
        return { contents: `export * from ${JSON.stringify(glueFile(m))};\n`, resolveDir: root, loader: 'js' };
      });
      b.onResolve({ filter: /^qbitpay:loader$/ }, () => ({ path: 'loader', namespace: 'qbitpay-loader' }));
      b.onLoad({ filter: /.*/, namespace: 'qbitpay-loader' }, () => ({ contents: LOADER_MODULE, loader: 'js' }));
      // The per-delivery module, loaded on first use: its own output file of the format.
      b.onResolve({ filter: /^qbitpay:delivery$/ }, () => ({ path: 'delivery', namespace: 'qbitpay-delivery' }));
      b.onLoad({ filter: /.*/, namespace: 'qbitpay-delivery' }, () => ({ contents: format === 'cjs'
        ? `export const loadDelivery = async () => require('./delivery.cjs');\n`
        : `export const loadDelivery = () => import('./delivery.mjs');\n`, loader: 'js' }));
      b.onResolve({ filter: /^\.\/delivery\.[cm]js$/, namespace: 'qbitpay-delivery' }, (a) => ({ path: a.path, external: true }));
      // The error classes: from the facade or (raw_module) from the glue, always the one module.
      b.onResolve({ filter: /^\.\/errors\.mjs$/ }, () => ({ path: errors, external: true }));
      // Another entry's module (what an entry re-exports): the sibling output file.
      b.onResolve({ filter: /^\.\/\w+\.\w+\.mjs$/ }, (a) => ({ path: a.path, external: true }));
      // The handler's CommonJS module shares the verifier's (cjs/webhook.cjs) rather than a copy.
      if (format === 'cjs') b.onResolve({ filter: /^\.\/webhook\.mjs$/ }, (a) => (a.importer.endsWith('handler.mjs') ? { path: './webhook.cjs', external: true } : undefined));
      b.onResolve({ filter: /^node:|\.wasm(\?module)?$/ }, (a) => ({ path: a.path, external: true }));
    },
  };
}

// A minified ES module entry. Identifiers are minified too, names kept (`.name` of the
// exported functions and classes, and of the glue's classes, as written): by esbuild's
// keepNames, or (`m.ownNames`: the glue has no classes, the facade's functions are methods)
// by the code itself, without a name-setting call per glue function (fewer bytes).
async function bundleEsm(file, contents, keepNames, sourcefile = file) {
  await esbuild.build({
    stdin: { contents, resolveDir: facades, sourcefile, loader: 'js' },
    outfile: at('esm', file), bundle: true, format: 'esm', platform: 'neutral', target: 'es2022',
    minify: true, keepNames, legalComments: 'none', logLevel: 'error',
    banner: { js: '// Generated by tools/build-pkg.mjs from pkg-template/src and the wasm-bindgen glue (readable: cjs/).' },
    plugins: [qbitpayPlugin('esm')],
  });
}

// A readable CommonJS module of `contents` (an ES module source).
async function bundleCjs(file, contents) {
  await esbuild.build({
    stdin: { contents, resolveDir: facades, sourcefile: file, loader: 'js' },
    outfile: at('cjs', file), bundle: true, format: 'cjs', platform: 'node', target: 'node18', legalComments: 'none', logLevel: 'error',
    banner: { js: '// Generated by tools/build-pkg.mjs.' },
    plugins: [qbitpayPlugin('cjs')],
  });
}

// The names `m`'s entry takes from another entry's.
const reexported = (m) => m.reexports.facades.flatMap((f) => f.names);

// Node's entry of `m`: its module's bytes, glue and facades, each name assigned to `exports`
// (what Node's `import` of CommonJS sees). What it re-exports is required on the first call
// (a function of the same name calls through), so that loading the client compiles no
// verifier.
function cjsEntry(m, errorNames) {
  const borrowed = m.reexports ? [`let other;`,
    `const load = () => (other ??= require('./${m.reexports.entry}.node.cjs'));`] : [];
  return `// Generated by tools/build-pkg.mjs.
'use strict';
const errors = require('./errors.cjs');
const glue = require('./${m.glue}.cjs');
let api = glue;
try { glue.initSync({ module: require('./${m.glue}_bg.wasm.cjs') }); } catch (e) { api = errors.wasmUnavailable(glue, e); }
${m.facades.map((f, i) => `const facade${i} = require('./${f.facade}.cjs').${f.api}(api);`).join('\n')}
${borrowed.join('\n')}
${errorNames.map((n) => `exports.${n} = errors.${n};`).join('\n')}
${m.facades.flatMap((f, i) => f.names.map((n) => `exports.${n} = facade${i}.${n};`)).join('\n')}
${(m.reexports ? reexported(m) : []).map((n) => `exports.${n} = { ${n}(...args) { return load().${n}(...args); } }.${n};`).join('\n')}
`;
}

// Node gets the bytes from a JavaScript module, not from a path found at run time (a server
// bundle moves modules): base64, decoded by Buffer, as fast as reading the .wasm
// (PERFORMANCE.md: start-up).
const wasmBytesModule = (file) => `// Generated by tools/build-pkg.mjs: ${path.basename(file)} as base64.
module.exports = Buffer.from('${fs.readFileSync(file).toString('base64')}', 'base64');
`;

// What an entry loads: its relative imports and the .wasm files they name, followed (but not
// into `stopAt`); with `lazy`, also what it loads on first use (an `import()`, or a `require()`
// in an async arrow function).
function loads(rel, stopAt = [], lazy = false) {
  const seen = new Set();
  const visit = (f) => {
    if (seen.has(f) || stopAt.includes(f) || !fs.existsSync(at(f))) return;
    seen.add(f);
    if (f.endsWith('.wasm')) return;
    for (const [, later, spec] of fs.readFileSync(at(f), 'utf8').matchAll(/(import\(|async\s*\(\)\s*=>\s*require\()?["'`](\.{1,2}\/[\w./-]+\.(?:mjs|cjs|wasm))(?:\?module)?["'`]/g)) {
      if (later && !lazy) continue;
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
for (const m of MODULES) wasmPack(m);
fs.rmSync(pkg, { recursive: true, force: true });
for (const d of ['esm', 'cjs', 'wasm']) fs.mkdirSync(at(d), { recursive: true });

for (const m of MODULES) {
  fs.copyFileSync(path.join(root, 'target', 'wasm-pack', m.glue, `${m.glue}_bg.wasm`), at('wasm', `${m.glue}_bg.wasm`));
  finishWasm(m, at('wasm', `${m.glue}_bg.wasm`));
}

// The public error classes: what errors.mjs exports that is an Error subclass.
const errorsModule = await import(path.join(facades, 'errors.mjs'));
const errorNames = Object.keys(errorsModule).filter((k) => typeof errorsModule[k] === 'function' && errorsModule[k].prototype instanceof Error);

// CommonJS (Node's require entries) first: the built entries tell the names the facades return.
// errors.cjs also carries wasmUnavailable (in ESM it is bundled into each entry).
await esbuild.build({ stdin: { contents: `export * from './errors.mjs';\nexport { wasmUnavailable } from './wasm-unavailable.mjs';\n`,
  resolveDir: facades, sourcefile: 'errors.cjs', loader: 'js' }, bundle: true, outfile: at('cjs', 'errors.cjs'), format: 'cjs',
  platform: 'node', target: 'node18', legalComments: 'none', logLevel: 'error', banner: { js: '// Generated by tools/build-pkg.mjs.' } });
for (const f of new Set(MODULES.flatMap((m) => m.facades.map((x) => x.facade)))) {
  await bundleCjs(`${f}.cjs`, `export * from './${f}.mjs';\n`);
}
await bundleCjs('delivery.cjs', `export * from './delivery.mjs';\n`);
for (const m of MODULES) {
  await bundleCjs(`${m.glue}.cjs`, `export * from 'qbitpay:glue/${m.glue}';\n`);
  fs.writeFileSync(at('cjs', `${m.glue}_bg.wasm.cjs`), wasmBytesModule(at('wasm', `${m.glue}_bg.wasm`)));
}
// Each facade's names: what its function returns for its module's glue (initialised here),
// then the entry. A module that re-exports comes after the one it takes from.
const require = createRequire(import.meta.url);
for (const m of MODULES) {
  const glue = require(at('cjs', `${m.glue}.cjs`));
  glue.initSync({ module: require(at('cjs', `${m.glue}_bg.wasm.cjs`)) });
  m.glueNames = Object.keys(glue).filter((name) => name !== 'initSync');
  for (const f of m.facades) f.names = Object.keys(require(at('cjs', `${f.facade}.cjs`))[f.api](glue));
  fs.writeFileSync(at('cjs', `${m.entry}.node.cjs`), cjsEntry(m, errorNames));
}

// The ES module entries.
fs.writeFileSync(at('esm', 'errors.mjs'), esbuild.transformSync(fs.readFileSync(path.join(facades, 'errors.mjs'), 'utf8'),
  // Whitespace and syntax minified only, so every name stays as written.
  { format: 'esm', target: 'es2022', minifySyntax: true, minifyWhitespace: true, legalComments: 'none', logLevel: 'error' }).code);
for (const m of MODULES) {
  for (const runtime of Object.keys(ESM_LOADERS)) await bundleEsm(`${m.entry}.${runtime}.mjs`, esmEntry(m, runtime, errorNames), !m.ownNames);
}
// One for every runtime: it takes the module's glue from the entry that loads it. (esbuild
// places stdin at resolveDir/sourcefile: named as the output, it would be the facade itself.)
await bundleEsm('delivery.mjs', `export * from './delivery.mjs';\n`, false, 'delivery.entry.mjs');

// qbitpay/webhook/testing: readable, for test runners; it signs through the package's own
// `qbitpay/webhook` (a self-reference), so every runtime's verifier entry serves it.
for (const [format, dir, ext] of [['esm', 'esm', 'mjs'], ['cjs', 'cjs', 'cjs']]) {
  await esbuild.build({ entryPoints: [path.join(facades, 'testing.mjs')], outfile: at(dir, `testing.${ext}`), bundle: true, format,
    platform: 'neutral', target: 'es2022', external: ['qbitpay/webhook'], legalComments: 'none', logLevel: 'error',
    banner: { js: '// Generated by tools/build-pkg.mjs from pkg-template/src/testing.mjs.' } });
}

const version = /^version\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1];
const manifest = JSON.parse(fs.readFileSync(path.join(template, 'package.json'), 'utf8'));
manifest.version = version;
fs.writeFileSync(at('package.json'), JSON.stringify(manifest, null, 2) + '\n');
for (const f of fs.readdirSync(template)) {
  if (f.endsWith('.d.ts') || f === 'README.md' || f === 'LICENSE') fs.copyFileSync(path.join(template, f), at(f));
}
// The declarations wasm-bindgen wrote for a module's classes and TypeScript section, without
// the loader it declares after them (`initSync`, `InitOutput` and the module's exports,
// `__wbg_init`): the entries instantiate the module themselves and export none of it.
for (const m of MODULES.filter((x) => x.types)) {
  fs.mkdirSync(at('types'), { recursive: true });
  const dts = fs.readFileSync(path.join(root, 'target', 'wasm-pack', m.glue, `${m.glue}.d.ts`), 'utf8');
  const loader = dts.indexOf('\nexport type InitInput =');
  if (loader < 0) throw new Error(`${m.glue}.d.ts: the loader's declarations (InitInput ...) not found`);
  fs.writeFileSync(at('types', `${m.glue}.d.ts`), dts.slice(0, loader).trimEnd() + '\n');
}

// Let tests and tools `import 'qbitpay'` the built package.
if (defaultOut) {
  const link = path.join(root, 'node_modules', 'qbitpay');
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync('../pkg', link, 'dir');
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`${defaultOut ? 'pkg' : pkg}/ assembled (qbitpay ${version}). gzip size of what a browser loads (each file on its own):`);
for (const [label, entry, stopAt] of [['qbitpay/webhook', 'esm/webhook.browser.mjs'],
  ['qbitpay, an app that never verifies', 'esm/index.browser.mjs', ['esm/webhook.browser.mjs']],
  ['qbitpay with the webhook functions', 'esm/index.browser.mjs']]) {
  const n = gzSizes(loads(entry, stopAt));
  console.log(`  ${label.padEnd(36)} ${kb(n.js + n.wasm)} (JS ${kb(n.js)} + wasm ${kb(n.wasm)})`);
}
const eager = loads('esm/webhook.browser.mjs');
const later = gzSizes(loads('esm/webhook.browser.mjs', [], true).filter((f) => !eager.includes(f)));
console.log(`  ${'+ on a handler\'s first delivery'.padEnd(36)} ${kb(later.js + later.wasm)} (JS ${kb(later.js)})`);
