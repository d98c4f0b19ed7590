#!/usr/bin/env node
// Pack the sandbox for npm: one `@qbitpay/sandbox-<os>-<cpu>` package per binary found, and
// the `qbitpay-sandbox` launcher (npm/qbitpay-sandbox) whose optionalDependencies are those
// packages, all at the version of the root Cargo.toml. Run by `make dist`.
//
//   node tools/pack-sandbox.mjs [--out dist] [--profile sandbox] [--target-dir target] [--also linux-arm64,darwin-arm64]
//
// It looks for <target-dir>/<triple>/<profile>/qbitpay-sandbox[.exe] for every Rust target triple
// built (cargo build -p qbitpay-sandbox --profile sandbox --target <triple>): a release matrix
// builds each triple on its own runner, gathers their target/<triple>/ directories and runs this
// once. `--also` lists platforms packed elsewhere at the same version, for the launcher's
// optionalDependencies. A static musl binary is preferred to a glibc one for the same platform
// (it runs on any Linux); a glibc one is packed with `libc: ["glibc"]`.

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
    'target-dir': { type: 'string', default: 'target' },
    also: { type: 'string', default: '' },
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
const common = Object.fromEntries(['license', 'repository', 'homepage', 'bugs', 'engines'].map((k) => [k, template[k]]));

// The binaries, one per npm platform.
const found = new Map();
const targetDir = path.resolve(root, opts['target-dir']);
for (const triple of fs.readdirSync(targetDir).sort()) {
  const p = npmPlatform(triple);
  if (!p) continue;
  const file = path.join(targetDir, triple, opts.profile, binaryFile(p.os));
  if (!fs.existsSync(file)) continue;
  const have = found.get(p.platform);
  if (have && have.libc === 'musl') continue;
  found.set(p.platform, { ...p, triple, file });
}
if (found.size === 0) {
  console.error(`pack-sandbox: no binary in ${targetDir}/<triple>/${opts.profile}/ (cargo build -p qbitpay-sandbox --profile ${opts.profile} --target <triple>)`);
  process.exit(1);
}

fs.mkdirSync(out, { recursive: true });
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'qbitpay-sandbox-pack-'));
const packed = [];
for (const p of found.values()) {
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
  packed.push({ ...pack(dir), from: p.triple });
}

// The launcher, depending on every platform package of this version.
const platforms = [...new Set([...found.keys(), ...opts.also.split(',').map((s) => s.trim()).filter(Boolean)])].sort();
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
