// Helpers for the packaging tests: pack pkg/ the way `npm publish` would, install the
// tarball offline into a throwaway project, resolve the exports map by hand, run a child
// process with a deadline, serve a directory over 127.0.0.1, and measure what each entry
// loads (gzip). `node tests/packaging/lib.mjs [pkgDir]` prints the size table.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = (name) => path.join(ROOT, 'node_modules', '.bin', name);

/**
 * Run a command; resolves with {code, signal, stdout, stderr} whatever the exit status.
 * Killed (with its process group) after `timeoutMs`.
 */
export function run(cmd, args, { cwd, env, timeoutMs = 60_000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: env || process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.end(input);
  });
}

/** Like run() but throws (with the output) unless the command exits 0. */
export async function runOk(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`})\n` +
      `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r;
}

/** Every file an exports map points at (strings anywhere in it). */
export function exportTargets(exportsMap) {
  const out = new Set();
  const walk = (v) => (typeof v === 'string' ? out.add(v) : v && Object.values(v).forEach(walk));
  walk(exportsMap);
  return [...out];
}

/**
 * Resolve `subpath` ('.' or './webhook') through an exports map the way Node's algorithm
 * does: the first key, in object order, that is one of `conditions` (or 'default').
 */
export function resolveExport(manifest, subpath, conditions) {
  const pick = (v) => {
    if (typeof v === 'string' || v === null) return v;
    for (const [k, sub] of Object.entries(v)) {
      if (k === 'default' || conditions.includes(k)) {
        const r = pick(sub);
        if (r !== undefined) return r;
      }
    }
    return undefined;
  };
  return pick(manifest.exports[subpath]);
}

/**
 * Copy pkg/ (which other builds may be replacing) into `dest`, waiting while it is
 * incomplete: every exports target must exist in the copy.
 */
export async function snapshotPkg(dest, src = path.join(ROOT, 'pkg'), { waitMs = 120_000 } = {}) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    fs.rmSync(dest, { recursive: true, force: true });
    let missing;
    try {
      fs.cpSync(src, dest, { recursive: true, dereference: true });
      const manifest = JSON.parse(fs.readFileSync(path.join(dest, 'package.json'), 'utf8'));
      missing = exportTargets(manifest.exports).filter((t) => !fs.existsSync(path.join(dest, t)));
      if (!fs.existsSync(path.join(dest, 'wasm'))) missing.push('wasm/');
    } catch (e) {
      missing = [String(e.message)];
    }
    if (!missing.length) return dest;
    if (Date.now() > deadline) throw new Error(`pkg/ is incomplete (run make pkg): ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** `npm pack` a package directory; resolves with npm's JSON report and the tarball path. */
export async function npmPack(pkgDir, destDir, env) {
  const { stdout } = await runOk('npm', ['pack', pkgDir, '--json', '--ignore-scripts', '--pack-destination', destDir,
    '--loglevel=error'], { cwd: destDir, env });
  const [report] = JSON.parse(stdout);
  return { report, tarball: path.join(destDir, report.filename) };
}

/** A fresh project in `dir` with the tarball installed from disk (no registry, no network). */
export async function installTarball(dir, tarball, env) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'qbitpay-consumer', private: true, version: '1.0.0' }, null, 2));
  await runOk('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    { cwd: dir, env });
  return path.join(dir, 'node_modules', 'qbitpay');
}

const MIME = { '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript',
  '.cjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.ts': 'text/plain' };

/**
 * A static file server for `root` on 127.0.0.1; `extra` maps URL paths to {type, body, status?};
 * `headers` go on every response (e.g. a Content-Security-Policy).
 */
export async function serveDir(root, extra = {}, { headers = {} } = {}) {
  const requests = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://127.0.0.1');
    requests.push(pathname);
    if (extra[pathname]) {
      res.writeHead(extra[pathname].status ?? 200, { ...headers, 'content-type': extra[pathname].type, 'cache-control': 'no-store' });
      res.end(extra[pathname].body);
      return;
    }
    const file = path.join(root, decodeURIComponent(pathname));
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': MIME[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    stop() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

// --- framework apps ---

export const FIXTURES = path.join(ROOT, 'tests', 'packaging', 'fixtures');

/**
 * A temp dir under tests/.tmp, inside the repository: an app there resolves the frameworks
 * (next, express, hono, vite, webpack: root devDependencies) from the repository's
 * node_modules, as a workspace app resolves hoisted packages, and its own node_modules
 * holds only the installed tarball.
 */
export function repoTempDir(prefix) {
  const base = path.join(ROOT, 'tests', '.tmp');
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** pkg/ snapshotted and `npm pack`-ed into `dir`: the tarball's path. */
export async function packTarball(dir, env) {
  const snap = await snapshotPkg(path.join(dir, 'pkg'), process.env.QBITPAY_PKG_DIR || undefined);
  return (await npmPack(snap, dir, env)).tarball;
}

/** The fixture app `name` copied to `dest`, with the tarball installed offline (no lock file). */
export async function fixtureApp(name, dest, tarball, env) {
  fs.cpSync(path.join(FIXTURES, name), dest, { recursive: true });
  await runOk('npm', ['install', tarball, '--offline', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts',
    '--loglevel=error'], { cwd: dest, env });
  return dest;
}

/**
 * A server as a child process (its own process group): resolves once a line of its output
 * matches `url` (the first group is the URL), with `output()` (everything it printed, both
 * streams drained) and `stop()` (SIGTERM to the group, SIGKILL after 3 s).
 */
export function startServer(cmd, args, { cwd, env, url, timeoutMs = 30_000 }) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const kill = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
  const server = {
    output: () => out,
    stop() {
      kill('SIGTERM');
      const force = setTimeout(() => kill('SIGKILL'), 3000);
      return exited.then(() => clearTimeout(force));
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { server.stop(); reject(new Error(`${path.basename(cmd)} did not start within ${timeoutMs} ms:\n${out}`)); }, timeoutMs);
    const onData = (d) => {
      out += d;
      const m = url.exec(out);
      if (m && !server.url) {
        clearTimeout(timer);
        server.url = m[1];
        resolve(server);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('exit', (code) => { clearTimeout(timer); if (!server.url) reject(new Error(`${path.basename(cmd)} exited (${code}):\n${out}`)); });
  });
}

/** A temp dir removed by the returned function. */
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

// --- sizes ---

/**
 * The files an entry loads, following relative `.mjs`/`.cjs` specifiers and the `.wasm`
 * files it names (by relative path, with or without `?module`, or by file name). `stopAt`:
 * files not followed (another entry's, which this one re-exports). `lazy`: also what it loads
 * on first use (an `import()`, or a `require()` in an async arrow function).
 */
export function entryGraph(pkgDir, entry, { stopAt = [], lazy = false } = {}) {
  const seen = new Set();
  const visit = (rel) => {
    if (seen.has(rel) || stopAt.includes(rel)) return;
    seen.add(rel);
    if (rel.endsWith('.wasm')) return;
    const src = fs.readFileSync(path.join(pkgDir, rel), 'utf8');
    for (const [, later, spec] of src.matchAll(/(import\(|async\s*\(\)\s*=>\s*require\()?['"`]((?:\.{1,2}\/)?[\w./-]+\.(?:mjs|cjs|wasm))(?:\?module)?['"`]/g)) {
      if (later && !lazy) continue;
      let target;
      if (spec.startsWith('.')) target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec));
      else if (spec.endsWith('.wasm')) target = `wasm/${path.posix.basename(spec)}`;
      else continue;
      if (fs.existsSync(path.join(pkgDir, target))) visit(target);
    }
  };
  visit(entry.replace(/^\.\//, ''));
  return [...seen].sort();
}

const gz = (file) => gzipSync(fs.readFileSync(file), { level: 9 }).length;

/** JS and wasm gzip bytes of `files` (each compressed alone). */
function gzSplit(pkgDir, files) {
  let js = 0;
  let wasm = 0;
  for (const f of files) {
    const n = gz(path.join(pkgDir, f));
    // Node's require entries carry each module as base64 in a .wasm.cjs module.
    if (f.endsWith('.wasm') || f.endsWith('.wasm.cjs')) wasm += n;
    else js += n;
  }
  return { js, wasm };
}

/**
 * Per export target: {subpath, conditions, target, files, js, wasm} gzip bytes (each file
 * compressed alone), and `alone`: the same without what the entry takes from another entry
 * (`qbitpay`'s webhook functions, from `qbitpay/webhook`'s files): what an app that never
 * uses those loads (a bundler drops the re-export; Node requires it on the first call);
 * `later`: what it loads on first use only (createWebhookHandler's per-delivery module).
 */
export function entrySizes(pkgDir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const targetsOf = (subpath) => exportTargets({ [subpath]: manifest.exports[subpath] }).map((t) => t.replace(/^\.\//, ''));
  const rows = [];
  for (const [subpath, map] of Object.entries(manifest.exports)) {
    if (typeof map === 'string') continue;
    const byTarget = new Map();
    const walk = (v, conds) => {
      if (typeof v === 'string') {
        if (!byTarget.has(v)) byTarget.set(v, []);
        byTarget.get(v).push(conds.join('+'));
      } else for (const [k, sub] of Object.entries(v)) walk(sub, [...conds, k]);
    };
    walk(map, []);
    const others = Object.keys(manifest.exports).filter((k) => k !== subpath && typeof manifest.exports[k] !== 'string')
      .flatMap(targetsOf);
    for (const [target, conds] of byTarget) {
      if (target.endsWith('.d.ts')) continue;
      const files = entryGraph(pkgDir, target);
      const own = entryGraph(pkgDir, target, { stopAt: others });
      const alone = own.length < files.length ? gzSplit(pkgDir, own) : null;
      const later = entryGraph(pkgDir, target, { lazy: true }).filter((f) => !files.includes(f));
      rows.push({ subpath, conditions: conds, target, files, ...gzSplit(pkgDir, files), alone, later: later.length ? gzSplit(pkgDir, later) : null });
    }
  }
  return rows;
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

/** A markdown table of entrySizes() (and the tarball, when given npm pack's report). */
export function sizeTable(pkgDir, packReport) {
  const lines = [];
  if (packReport) {
    lines.push(`\`npm pack\`: ${packReport.filename} ${kb(packReport.size)} (${packReport.files.length} files, ${kb(packReport.unpackedSize)} unpacked)`, '');
  }
  lines.push('| import | runtime (conditions) | file | JS gz | wasm gz | total gz | without another entry\'s functions | loaded on first use |',
    '|---|---|---|---:|---:|---:|---:|---:|');
  for (const r of entrySizes(pkgDir)) {
    const name = r.subpath === '.' ? 'qbitpay' : `qbitpay/${r.subpath.slice(2)}`;
    const alone = r.alone ? `${kb(r.alone.js + r.alone.wasm)} (JS ${kb(r.alone.js)} + wasm ${kb(r.alone.wasm)})` : '–';
    const later = r.later ? `JS ${kb(r.later.js)}` : '–';
    lines.push(`| \`${name}\` | ${r.conditions.join(', ')} | ${r.target.slice(2)} | ${kb(r.js)} | ${kb(r.wasm)} | ${kb(r.js + r.wasm)} | ${alone} | ${later} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const pkgDir = path.resolve(process.argv[2] || path.join(ROOT, 'pkg'));
  const t = tempDir('qbitpay-sizes-');
  try {
    const snap = await snapshotPkg(path.join(t.dir, 'pkg'), pkgDir);
    const { report } = await npmPack(snap, t.dir);
    console.log(sizeTable(snap, report));
  } finally {
    t.remove();
  }
}

/**
 * The merchant's server side of a browser test, with the API key over plain HTTP: `n`
 * charges (amounts from `amount`, orders `${prefix}-i`) and an access token for the page.
 */
export async function seedCharges(baseUrl, apiKey, { n = 3, amount = 20, prefix = 'browser' } = {}) {
  const auth = { authorization: `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}` };
  const chargeIds = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${baseUrl}/api/v1/charges`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: amount + i, currency: 'USD', externalOrderId: `${prefix}-${i}`,
        cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'https://shop.example/thanks' }),
    });
    if (r.status !== 200) throw new Error(`creating a charge: HTTP ${r.status} ${await r.text()}`);
    chargeIds.push((await r.json()).id);
  }
  const tokenRes = await fetch(`${baseUrl}/api/v1/accessToken`, { headers: auth });
  if (tokenRes.status !== 200) throw new Error(`creating an access token: HTTP ${tokenRes.status}`);
  const { accessToken } = await tokenRes.json();
  return { chargeIds, accessToken };
}
