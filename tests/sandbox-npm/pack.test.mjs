// tools/pack-sandbox.mjs over target directories of several Rust triples (stand-in binaries:
// an executable's header only, and the real host build): each becomes the npm platform Node
// names, with os/cpu (and libc for a glibc build), .exe on Windows, musl preferred over glibc;
// the launcher depends on all of them at one version. A binary of the wrong format or machine
// is refused, and so is a missing platform that --require names.
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
// The real host build (make dist): the host's binary is asked its version before it is packed.
const hostBinary = path.join(root, 'target', 'x86_64-unknown-linux-musl', 'sandbox', 'qbitpay-sandbox');
const skip = !(process.platform === 'linux' && process.arch === 'x64') && 'the stand-in binaries assume a linux-x64 host';

/** The first bytes of an executable: ELF (e_machine), Mach-O (cputype) or PE (Machine). */
function header(format, machine) {
  const h = Buffer.alloc(256);
  if (format === 'elf') {
    h.writeUInt32BE(0x7f454c46, 0);
    h[4] = 2; h[5] = 1; h[6] = 1; // 64-bit, little-endian
    h.writeUInt16LE(2, 16); // ET_EXEC
    h.writeUInt16LE(machine, 18);
  } else if (format === 'macho') {
    h.writeUInt32LE(0xfeedfacf, 0);
    h.writeUInt32LE(machine, 4);
    h.writeUInt32LE(2, 12); // MH_EXECUTE
  } else {
    h.write('MZ', 0, 'latin1');
    h.writeUInt32LE(64, 60);
    h.writeUInt32BE(0x50450000, 64);
    h.writeUInt16LE(machine, 68);
  }
  return h;
}
const ELF_ARM64 = header('elf', 0xb7);
const MACHO_ARM64 = header('macho', 0x0100000c);
const MACHO_X64 = header('macho', 0x01000007);
const PE_X64 = header('pe', 0x8664);

function fake(triple, file, body, dir = 'target') {
  const p = path.join(work, dir, triple, 'sandbox', file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body, { mode: 0o755 });
}

const pack = (...args) => spawnSync(process.execPath, [path.join(root, 'tools', 'pack-sandbox.mjs'), '--target-dir', path.join(work, 'target'), '--out', path.join(work, 'dist'), ...args], { encoding: 'utf8' });
const manifest = (tgz) => JSON.parse(execFileSync('tar', ['xzOf', path.join(work, 'dist', tgz), 'package/package.json'], { encoding: 'utf8' }));
const files = (tgz) => execFileSync('tar', ['tzf', path.join(work, 'dist', tgz)], { encoding: 'utf8' }).trim().split('\n').sort();

test('every triple found becomes its npm platform package; the launcher lists them', { skip }, () => {
  fs.rmSync(work, { recursive: true, force: true });
  fake('aarch64-apple-darwin', 'qbitpay-sandbox', MACHO_ARM64);
  fake('x86_64-pc-windows-msvc', 'qbitpay-sandbox.exe', PE_X64, 'cross'); // a second target directory
  fake('aarch64-unknown-linux-gnu', 'qbitpay-sandbox', ELF_ARM64);
  fake('aarch64-unknown-linux-musl', 'qbitpay-sandbox', ELF_ARM64, 'cross');
  fake('wasm32-unknown-unknown', 'qbitpay-sandbox', 'not a platform\n');
  assert.ok(fs.existsSync(hostBinary), `${hostBinary} is missing: run make dist`);
  fake(hostTriple, 'qbitpay-sandbox', fs.readFileSync(hostBinary));
  const r = pack('--target-dir', path.join(work, 'cross'), '--also', 'darwin-x64', '--require', 'linux-x64,linux-arm64,darwin-arm64,win32-x64');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /qbitpay-sandbox-linux-arm64-[^ ]+\.tgz .*\(ELF arm64, aarch64-unknown-linux-musl\)/);
  assert.match(r.stdout, /qbitpay-sandbox-win32-x64-[^ ]+\.tgz .*\(PE x64, x86_64-pc-windows-msvc\)/);
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

test('a host binary that is not this version is not packed', { skip }, () => {
  fs.rmSync(work, { recursive: true, force: true });
  fake(hostTriple, 'qbitpay-sandbox', fs.readFileSync('/bin/true'));
  const r = pack();
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`--version says "(?!qbitpay-sandbox)[^"]*", packing ${version.replace(/\./g, '\\.')}`));
  assert.deepEqual(fs.existsSync(path.join(work, 'dist')) ? fs.readdirSync(path.join(work, 'dist')) : [], []);
});

test('a binary of another format or machine than its triple says, or a required platform missing, packs nothing', { skip }, () => {
  for (const [triple, file, body, says] of [
    ['aarch64-apple-darwin', 'qbitpay-sandbox', MACHO_X64, /aarch64-apple-darwin\/sandbox\/qbitpay-sandbox: Mach-O for x64, not for darwin-arm64/],
    ['aarch64-unknown-linux-musl', 'qbitpay-sandbox', MACHO_ARM64, /: Mach-O for arm64, not for linux-arm64/],
    ['x86_64-pc-windows-gnu', 'qbitpay-sandbox.exe', ELF_ARM64, /qbitpay-sandbox\.exe: ELF for arm64, not for win32-x64/],
    ['x86_64-apple-darwin', 'qbitpay-sandbox', '#!/bin/sh\n', /: no executable \(ELF, Mach-O or PE\), not for darwin-x64/],
  ]) {
    fs.rmSync(work, { recursive: true, force: true });
    fake(triple, file, body);
    const r = pack();
    assert.equal(r.status, 1, triple);
    assert.match(r.stderr, says);
    assert.ok(!fs.existsSync(path.join(work, 'dist')), 'nothing packed');
  }
  fs.rmSync(work, { recursive: true, force: true });
  fake('aarch64-apple-darwin', 'qbitpay-sandbox', MACHO_ARM64);
  const r = pack('--require', 'darwin-arm64,win32-x64,linux-arm64');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no binary for win32-x64, linux-arm64 in /);
});
