#!/usr/bin/env node
// Pack the sandbox for npm: one `@qbitpay/sandbox-<os>-<cpu>` package per binary found, and
// the `qbitpay-sandbox` launcher (npm/qbitpay-sandbox) whose optionalDependencies are those
// packages, all at the version of the root Cargo.toml. Run by `make dist`.
//
//   node tools/pack-sandbox.mjs [--out dist] [--profile sandbox] [--target-dir target]... [--also linux-arm64,darwin-arm64] [--require linux-x64,...]
//
// It looks for <target-dir>/<triple>/<profile>/qbitpay-sandbox[.exe] for every Rust target triple
// built (cargo build -p qbitpay-sandbox --profile sandbox --target <triple>) in each target
// directory given (`make dist`: target/ and target/cross/; for one platform, the last directory
// that has it wins); a release matrix may as well build each triple on its own runner, gather
// their target/<triple>/ directories and run this once.
// `--also` lists platforms packed elsewhere at the same version, for the launcher's
// optionalDependencies; `--require` fails unless each platform listed was found. A static musl
// binary is preferred to a glibc one for the same platform (it runs on any Linux); a glibc one
// is packed with `libc: ["glibc"]`. Each binary must be an executable of its platform's format
// and architecture (ELF, Mach-O, PE) before it is packed.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const launcherDir = path.join(root, 'npm', 'qbitpay-sandbox');
const { platformPackage, binaryFile, currentPlatform } = createRequire(import.meta.url)(path.join(launcherDir, 'lib', 'binary.cjs'));

const { values: opts } = parseArgs({
  options: {
    out: { type: 'string', default: 'dist' },
    profile: { type: 'string', default: 'sandbox' },
    'target-dir': { type: 'string', multiple: true, default: ['target'] },
    also: { type: 'string', default: '' },
    require: { type: 'string', default: '' },
  },
});
const out = path.resolve(root, opts.out);
const version = /^version\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1];
const template = JSON.parse(fs.readFileSync(path.join(launcherDir, 'package.json'), 'utf8'));

// Rust's architecture and OS names → Node's (process.arch, process.platform).
const CPUS = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', i586: 'ia32', armv7: 'arm', arm: 'arm', riscv64gc: 'riscv64', powerpc64le: 'ppc64', s390x: 's390x', loongarch64: 'loong64' };
const OSES = [[/-linux-/, 'linux'], [/-apple-darwin$/, 'darwin'], [/-windows-/, 'win32'], [/-freebsd$/, 'freebsd'], [/-linux-android/, 'android']];

/** `x86_64-unknown-linux-musl` → `{ os: 'linux', cpu: 'x64', libc: 'musl' }`; null if unknown. */
function npmPlatform(triple) {
  const cpu = CPUS[triple.split('-')[0]];
  const os = OSES.findLast(([re]) => re.test(triple))?.[1];
  if (!cpu || !os) return null;
  const libc = os === 'linux' ? (/-musl/.test(triple) ? 'musl' : /-gnu/.test(triple) ? 'glibc' : null) : null;
  return { os, cpu, libc, platform: `${os}-${cpu}` };
}

function pack(dir) {
  const [info] = JSON.parse(execFileSync('npm', ['pack', dir, '--pack-destination', out, '--json', '--loglevel=error'], { encoding: 'utf8' }));
  return info;
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

// An executable's format and machine, from its header: ELF e_machine, Mach-O cputype, PE Machine.
const MACHINES = {
  elf: { 0x3e: 'x64', 0xb7: 'arm64', 0x03: 'ia32', 0x28: 'arm', 0xf3: 'riscv64', 0x15: 'ppc64', 0x16: 's390x', 0x102: 'loong64' },
  macho: { 0x01000007: 'x64', 0x0100000c: 'arm64' },
  pe: { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'ia32' },
};
function executableOf(file) {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(512);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const h = head.subarray(0, n);
  if (n >= 20 && h.readUInt32BE(0) === 0x7f454c46) {
    const le = h[5] === 1;
    const type = le ? h.readUInt16LE(16) : h.readUInt16BE(16);
    if (type === 2 || type === 3) return { os: 'linux', cpu: MACHINES.elf[le ? h.readUInt16LE(18) : h.readUInt16BE(18)], format: 'ELF' };
  }
  if (n >= 16 && h.readUInt32LE(0) === 0xfeedfacf && h.readUInt32LE(12) === 2) {
    return { os: 'darwin', cpu: MACHINES.macho[h.readUInt32LE(4)], format: 'Mach-O' };
  }
  if (n >= 64 && h.toString('latin1', 0, 2) === 'MZ') {
    const pe = h.readUInt32LE(60);
    if (pe + 6 <= n && h.readUInt32BE(pe) === 0x50450000) return { os: 'win32', cpu: MACHINES.pe[h.readUInt16LE(pe + 4)], format: 'PE' };
  }
  return null;
}
const common = Object.fromEntries(['license', 'repository', 'homepage', 'bugs', 'engines'].map((k) => [k, template[k]]));

// The binaries, one per npm platform.
const found = new Map();
const targetDirs = opts['target-dir'].map((d) => path.resolve(root, d));
for (const targetDir of targetDirs) {
  for (const triple of fs.existsSync(targetDir) ? fs.readdirSync(targetDir).sort() : []) {
    const p = npmPlatform(triple);
    if (!p) continue;
    const file = path.join(targetDir, triple, opts.profile, binaryFile(p.os));
    if (!fs.existsSync(file)) continue;
    // A later target directory's build replaces an earlier one's, unless that is musl and this is not.
    const have = found.get(p.platform);
    if (have && have.libc === 'musl' && p.libc !== 'musl') continue;
    found.set(p.platform, { ...p, triple, file });
  }
}
const where = `${targetDirs.join(', ')} (<triple>/${opts.profile}/)`;
if (found.size === 0) {
  console.error(`pack-sandbox: no binary in ${where} (cargo build -p qbitpay-sandbox --profile ${opts.profile} --target <triple>)`);
  process.exit(1);
}
const absent = list(opts.require).filter((p) => !found.has(p));
if (absent.length) {
  console.error(`pack-sandbox: no binary for ${absent.join(', ')} in ${where}`);
  process.exit(1);
}
for (const p of found.values()) {
  const exe = executableOf(p.file);
  if (!exe || exe.os !== p.os || exe.cpu !== p.cpu) {
    const is = exe ? `${exe.format} for ${exe.cpu ?? 'another machine'}` : 'no executable (ELF, Mach-O or PE)';
    console.error(`pack-sandbox: ${p.file}: ${is}, not for ${p.platform}`);
    process.exit(1);
  }
  p.format = exe.format;
}

fs.mkdirSync(out, { recursive: true });
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'qbitpay-sandbox-pack-'));
const packed = [];
for (const p of [...found.values()].sort((a, b) => a.platform.localeCompare(b.platform))) {
  if (p.platform === currentPlatform()) {
    // The binary must be the version it is packed as (both come from Cargo.toml).
    const v = execFileSync(p.file, ['--version'], { encoding: 'utf8' }).trim();
    if (v !== `qbitpay-sandbox ${version}`) throw new Error(`${p.file} --version says "${v}", packing ${version}`);
  }
  const name = platformPackage(p.platform);
  const dir = path.join(stage, name);
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.copyFileSync(p.file, path.join(dir, 'bin', binaryFile(p.os)));
  fs.chmodSync(path.join(dir, 'bin', binaryFile(p.os)), 0o755);
  fs.copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'));
  const built = p.libc === 'musl' ? 'statically linked (musl): it runs on any Linux, glibc or musl (Alpine)'
    : p.libc === 'glibc' ? 'linked against glibc' : `built for ${p.triple}`;
  fs.writeFileSync(path.join(dir, 'README.md'),
    `# ${name}\n\nThe \`qbitpay-sandbox\` binary for ${p.platform} (Rust target \`${p.triple}\`), ${built}.\n\n` +
    `Install [\`qbitpay-sandbox\`](https://www.npmjs.com/package/qbitpay-sandbox) instead: it lists this package as an ` +
    `optional dependency, npm installs it on ${p.platform} only, and \`npx qbitpay-sandbox\` and \`startSandbox()\` run it.\n`);
  const manifest = {
    name,
    version,
    description: `The qbitpay-sandbox binary for ${p.platform}`,
    ...common,
    os: [p.os],
    cpu: [p.cpu],
    ...(p.libc === 'glibc' ? { libc: ['glibc'] } : {}),
    files: [`bin/${binaryFile(p.os)}`],
    preferUnplugged: true,
  };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  packed.push({ ...pack(dir), from: `${p.format} ${p.cpu}, ${p.triple}` });
}

// The launcher, depending on every platform package of this version.
const platforms = [...new Set([...found.keys(), ...list(opts.also)])].sort();
const launcher = path.join(stage, 'qbitpay-sandbox');
fs.mkdirSync(launcher, { recursive: true });
for (const f of template.files) {
  fs.mkdirSync(path.dirname(path.join(launcher, f)), { recursive: true });
  fs.copyFileSync(path.join(launcherDir, f), path.join(launcher, f));
}
fs.copyFileSync(path.join(launcherDir, 'README.md'), path.join(launcher, 'README.md'));
fs.copyFileSync(path.join(root, 'LICENSE'), path.join(launcher, 'LICENSE'));
const manifest = { ...template, version, optionalDependencies: Object.fromEntries(platforms.map((p) => [platformPackage(p), version])) };
fs.writeFileSync(path.join(launcher, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
packed.push({ ...pack(launcher), from: 'npm/qbitpay-sandbox' });
fs.rmSync(stage, { recursive: true, force: true });

console.log(`qbitpay-sandbox ${version}: optionalDependencies for ${platforms.join(', ')}`);
for (const p of packed) console.log(`  ${path.relative(root, path.join(out, p.filename))}  packed ${kb(p.size)}, unpacked ${kb(p.unpackedSize)}, ${p.entryCount} files (${p.from})`);
