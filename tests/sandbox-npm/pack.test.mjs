// tools/pack-sandbox.mjs over a target directory of several Rust triples (stand-in binaries):
// each becomes the npm platform Node names, with os/cpu (and libc for a glibc build), .exe on
// Windows, musl preferred over glibc; the launcher depends on all of them at one version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const version = /^version\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1];
const work = path.join(root, 'tests', '.tmp', 'pack-sandbox');
const hostTriple = 'x86_64-unknown-linux-gnu';
const skip = !(process.platform === 'linux' && process.arch === 'x64') && 'the stand-in binaries assume a linux-x64 host';

function fake(triple, file, body = 'not a real binary\n') {
  const p = path.join(work, 'target', triple, 'sandbox', file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body, { mode: 0o755 });
}

const pack = (...args) => spawnSync(process.execPath, [path.join(root, 'tools', 'pack-sandbox.mjs'), '--target-dir', path.join(work, 'target'), '--out', path.join(work, 'dist'), ...args], { encoding: 'utf8' });
const manifest = (tgz) => JSON.parse(execFileSync('tar', ['xzOf', path.join(work, 'dist', tgz), 'package/package.json'], { encoding: 'utf8' }));
const files = (tgz) => execFileSync('tar', ['tzf', path.join(work, 'dist', tgz)], { encoding: 'utf8' }).trim().split('\n').sort();

test('every triple found becomes its npm platform package; the launcher lists them', { skip }, () => {
  fs.rmSync(work, { recursive: true, force: true });
  fake('aarch64-apple-darwin', 'qbitpay-sandbox');
  fake('x86_64-pc-windows-msvc', 'qbitpay-sandbox.exe');
  fake('aarch64-unknown-linux-gnu', 'qbitpay-sandbox');
  fake('aarch64-unknown-linux-musl', 'qbitpay-sandbox');
  fake('wasm32-unknown-unknown', 'qbitpay-sandbox');
  // The host's binary is asked its version before it is packed.
  fake(hostTriple, 'qbitpay-sandbox', `#!/bin/sh\necho "qbitpay-sandbox ${version}"\n`);
  const r = pack('--also', 'darwin-x64');
  assert.equal(r.status, 0, r.stderr);
  const tgz = (p) => `qbitpay-sandbox-${p}-${version}.tgz`;
  assert.deepEqual(fs.readdirSync(path.join(work, 'dist')).sort(),
    [`qbitpay-sandbox-${version}.tgz`, tgz('darwin-arm64'), tgz('linux-arm64'), tgz('linux-x64'), tgz('win32-x64')].sort());
  const expect = {
    'darwin-arm64': { os: ['darwin'], cpu: ['arm64'], bin: 'qbitpay-sandbox' },
    'win32-x64': { os: ['win32'], cpu: ['x64'], bin: 'qbitpay-sandbox.exe' },
    'linux-arm64': { os: ['linux'], cpu: ['arm64'], bin: 'qbitpay-sandbox', libc: undefined }, // musl, preferred to the glibc build
    'linux-x64': { os: ['linux'], cpu: ['x64'], bin: 'qbitpay-sandbox', libc: ['glibc'] },
  };
  for (const [platform, e] of Object.entries(expect)) {
    const m = manifest(tgz(platform));
    assert.equal(m.name, `@qbitpay/sandbox-${platform}`);
    assert.equal(m.version, version);
    assert.deepEqual([m.os, m.cpu, m.libc], [e.os, e.cpu, e.libc], platform);
    assert.deepEqual(m.files, [`bin/${e.bin}`]);
    assert.deepEqual(files(tgz(platform)), ['package/LICENSE', 'package/README.md', `package/bin/${e.bin}`, 'package/package.json']);
  }
  const launcher = manifest(`qbitpay-sandbox-${version}.tgz`);
  assert.deepEqual(launcher.optionalDependencies, Object.fromEntries(
    ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64', 'win32-x64'].map((p) => [`@qbitpay/sandbox-${p}`, version])));
});

test('a host binary of another version is not packed', { skip }, () => {
  fs.rmSync(work, { recursive: true, force: true });
  fake(hostTriple, 'qbitpay-sandbox', '#!/bin/sh\necho "qbitpay-sandbox 0.0.1-old"\n');
  const r = pack();
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`--version says "qbitpay-sandbox 0\\.0\\.1-old", packing ${version.replace(/\./g, '\\.')}`));
});
