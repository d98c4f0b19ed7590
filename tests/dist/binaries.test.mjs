// The five platform packages of dist/ (make dist), each binary taken out of its tarball and
// proven as far as this machine allows: linux-arm64 under qemu-user and win32-x64 under Wine
// serve, answer charges through the qbitpay client, keep state in a --data file that a second
// sandbox may not open, and exit when their stdin closes (what startSandbox() relies on); the
// macOS ones by format, architecture, minimum macOS version, the libraries they load, and the
// ad-hoc code signature arm64 macOS requires (every page hash checked against the file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { QbitPay } from 'qbitpay';
import { ROOT as root, DIST as dist, VERSION as version } from '../support/tarballs.mjs';

const work = path.join(root, 'tests', '.tmp', 'dist-binaries');
const PLATFORMS = {
  'linux-x64': { bin: 'qbitpay-sandbox', file: /^ELF 64-bit LSB (pie )?executable, x86-64, .*static(-pie)? linked/ },
  'linux-arm64': { bin: 'qbitpay-sandbox', file: /^ELF 64-bit LSB (pie )?executable, ARM aarch64, .*static(-pie)?( linked|ally linked)/ },
  'darwin-x64': { bin: 'qbitpay-sandbox', file: /^Mach-O 64-bit x86_64 executable/ },
  'darwin-arm64': { bin: 'qbitpay-sandbox', file: /^Mach-O 64-bit arm64 executable/ },
  'win32-x64': { bin: 'qbitpay-sandbox.exe', file: /^PE32\+ executable \(console\) x86-64, for MS Windows/ },
};
const MACOS_MIN = '11.0';
const bin = (platform) => path.join(work, platform, 'package', 'bin', PLATFORMS[platform].bin);
const tgz = (platform) => path.join(dist, `qbitpay-sandbox-${platform}-${version}.tgz`);

before(() => {
  fs.rmSync(work, { recursive: true, force: true });
  for (const platform of Object.keys(PLATFORMS)) {
    assert.ok(fs.existsSync(tgz(platform)), `${tgz(platform)} is missing: run make dist`);
    fs.mkdirSync(path.join(work, platform), { recursive: true });
    execFileSync('tar', ['xzf', tgz(platform), '-C', path.join(work, platform)]);
  }
});

test('dist/: the launcher and five platform packages, each with one binary of its format', () => {
  const tarballs = fs.readdirSync(dist).filter((f) => f.startsWith('qbitpay-sandbox-')).sort();
  assert.deepEqual(tarballs, [`qbitpay-sandbox-${version}.tgz`, ...Object.keys(PLATFORMS).map((p) => `qbitpay-sandbox-${p}-${version}.tgz`)].sort());
  const launcher = JSON.parse(execFileSync('tar', ['xzOf', path.join(dist, `qbitpay-sandbox-${version}.tgz`), 'package/package.json'], { encoding: 'utf8' }));
  assert.deepEqual(launcher.optionalDependencies, Object.fromEntries(Object.keys(PLATFORMS).sort().map((p) => [`@qbitpay/sandbox-${p}`, version])));
  for (const [platform, { bin: name, file }] of Object.entries(PLATFORMS)) {
    const m = JSON.parse(fs.readFileSync(path.join(work, platform, 'package', 'package.json'), 'utf8'));
    const [os, cpu] = platform.split('-');
    assert.deepEqual([m.name, m.version, m.os, m.cpu, m.libc, m.files], [`@qbitpay/sandbox-${platform}`, version, [os], [cpu], undefined, [`bin/${name}`]]);
    assert.deepEqual(fs.readdirSync(path.join(work, platform, 'package', 'bin')), [name]);
    assert.ok(fs.statSync(bin(platform)).mode & 0o100, `${platform}: executable`);
    const says = execFileSync('file', ['-b', bin(platform)], { encoding: 'utf8' });
    assert.match(says, file, platform);
    assert.doesNotMatch(says, /not stripped|with debug_info/, platform);
  }
});

// ---------------------------------------------------------------- running them here

/** The sandbox started through `runner` ({command, args, env}): its URL, log, and how it ended. */
function start(runner, args, { stdin = 'ignore' } = {}) {
  const child = spawn(runner.command, [...runner.args, ...args], { env: { ...process.env, ...runner.env }, stdio: [stdin, 'pipe', 'pipe'] });
  const log = [];
  createInterface({ input: child.stderr }).on('line', (l) => log.push(l));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, log: log.join('\n') })));
  const lines = createInterface({ input: child.stdout });
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no first line within 60 s:\n${log.join('\n')}`)), 60_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^qbitpay-sandbox listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line.trimEnd());
      if (m) resolve(m[1]);
      else reject(new Error(`first line: ${line}`));
    });
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`exited (${code}) before listening:\n${log.join('\n')}`)); });
  });
  lines.on('line', () => {});
  return { child, url, exited, log };
}

const charge = (i) => ({ amount: 10 + i, currency: 'USD', externalOrderId: `order-${i}`, cbUrl: 'http://127.0.0.1:9/hook', redirectUrl: 'https://shop.example/thanks' });

/** What every platform's binary must do here; `dataPath` is the --data file as the binary names it. */
async function exercise(runner, dataPath, label) {
  const stdout = spawnSync(runner.command, [...runner.args, '--version'], { env: { ...process.env, ...runner.env }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(stdout.stdout.trim(), `qbitpay-sandbox ${version}`, `${label}: --version\n${stdout.stderr}`);

  const apiKey = 'sk_test_cross';
  const a = start(runner, ['--port', '0', '--api-key', apiKey, '--data', dataPath, '--exit-on-stdin-close'], { stdin: 'pipe' });
  const url = await a.url;
  const qp = new QbitPay({ apiKey, baseUrl: url });
  const balance = await qp.balances.retrieve();
  assert.equal(balance.object, 'balance');
  const created = await qp.charges.create(charge(1));
  assert.equal(created.status, 'pending');
  assert.match(created.paymentPageUrl, new RegExp(`^${url}/pay/${created.id}`));
  assert.deepEqual(await qp.charges.retrieve(created.id), created);
  assert.equal((await fetch(`${url}/api/v1/balances/show`)).status, 401, `${label}: no key, no answer`);

  // A second sandbox on the same state file stops with the binary's message.
  const b = start(runner, ['--port', '0', '--data', dataPath]);
  b.url.catch(() => {});
  const second = await b.exited;
  assert.equal(second.code, 1, second.log);
  assert.match(second.log, /in use by another qbitpay-sandbox/);

  // Its stdin closed, the first one shuts down by itself; the next one finds the charge.
  a.child.stdin.end();
  const first = await a.exited;
  assert.equal(first.code, 0, first.log);
  assert.match(first.log, /stdin closed/);
  const c = start(runner, ['--port', '0', '--api-key', apiKey, '--data', dataPath]);
  try {
    const again = new QbitPay({ apiKey, baseUrl: await c.url });
    assert.equal((await again.charges.retrieve(created.id)).externalOrderId, 'order-1');
    assert.equal((await again.charges.create(charge(2))).status, 'pending');
  } finally {
    c.child.kill('SIGKILL');
    await c.exited;
  }
}

test('linux-arm64 under qemu-aarch64-static: serves, charges, keeps its --data file, exits on stdin close', async () => {
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).stdout.trim();
  assert.ok(qemu, 'qemu-aarch64-static is missing: tools/bootstrap.sh emulators');
  // The binary is static: qemu needs no aarch64 libraries (no -L).
  await exercise({ command: qemu, args: [bin('linux-arm64')], env: {} }, path.join(work, 'arm64.db'), 'linux-arm64');
});

// Wine 8.0 (Debian 12) lacks bcryptprimitives.dll, where Windows 10+ has the ProcessPrng that
// Rust's std (1.78+) takes its random seeds from: without it the binary cannot start under
// this Wine ("Library bcryptprimitives.dll ... not found", status c0000135). The prefix gets a
// stand-in for that one system DLL (ProcessPrng over Wine's own BCryptGenRandom), compiled
// here with zig; everything else the binary uses is Wine's.
const PROCESS_PRNG = `typedef int BOOL;
__declspec(dllimport) long __stdcall BCryptGenRandom(void *alg, unsigned char *buf, unsigned long len, unsigned long flags);
__declspec(dllexport) BOOL __stdcall ProcessPrng(unsigned char *data, unsigned long long len) {
  return BCryptGenRandom(0, data, (unsigned long)len, 2 /* BCRYPT_USE_SYSTEM_PREFERRED_RNG */) == 0;
}
BOOL __stdcall DllMainCRTStartup(void *dll, unsigned long reason, void *reserved) { return 1; }
`;
const WINE = '/usr/lib/wine/wine64';
const wineEnv = { WINEPREFIX: path.join(root, 'tests', '.tmp', 'wine'), WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };

after(() => {
  if (fs.existsSync(path.join(wineEnv.WINEPREFIX, 'system.reg'))) spawnSync('/usr/lib/wine/wineserver', ['-k'], { env: { ...process.env, ...wineEnv } });
});

test('win32-x64 under Wine: serves, charges, keeps its --data file, exits on stdin close', async () => {
  assert.ok(fs.existsSync(WINE), 'wine64 is missing: tools/bootstrap.sh emulators');
  const env = { ...process.env, ...wineEnv };
  if (!fs.existsSync(path.join(wineEnv.WINEPREFIX, 'system.reg'))) {
    const boot = spawnSync(WINE, ['wineboot', '--init'], { env, encoding: 'utf8', timeout: 180_000 });
    assert.ok(fs.existsSync(path.join(wineEnv.WINEPREFIX, 'drive_c', 'windows', 'system32')), `wineboot: ${boot.stderr}`);
  }
  const dll = path.join(wineEnv.WINEPREFIX, 'drive_c', 'windows', 'system32', 'bcryptprimitives.dll');
  if (!fs.existsSync(dll)) {
    const src = path.join(work, 'processprng.c');
    fs.writeFileSync(src, PROCESS_PRNG);
    execFileSync(path.join(root, '.tools', 'venv', 'bin', 'python3'), ['-m', 'ziglang', 'cc', '-target', 'x86_64-windows-gnu', '-shared', '-nostdlib', '-O2', '-o', dll, src, '-lbcrypt'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const data = path.join(work, 'win32.db');
  // The --data path as a Windows program names it: Wine maps Z: to /.
  await exercise({ command: WINE, args: [bin('win32-x64')], env: wineEnv }, `Z:${data.replaceAll('/', '\\')}`, 'win32-x64');
  assert.ok(fs.existsSync(data), 'the state file is where the Windows path said');
});

// ---------------------------------------------------------------- macOS, by inspection

/** llvm-objdump's view of a Mach-O file's load commands: [{cmd, ...fields}]. */
function loadCommands(file) {
  const out = execFileSync('llvm-objdump', ['--macho', '--private-headers', file], { encoding: 'utf8', maxBuffer: 16 << 20 });
  return out.split(/^Load command \d+$/m).slice(1).map((block) => {
    const fields = {};
    for (const line of block.split('\n')) {
      const m = /^\s*(\S+) (.+)$/.exec(line);
      if (m && !(m[1] in fields)) fields[m[1]] = m[2].trim();
    }
    return fields;
  });
}

/**
 * The ad-hoc code signature at `dataoff` (LC_CODE_SIGNATURE) as the kernel checks it: a
 * SuperBlob whose CodeDirectory hashes every page of the file before the signature. (No
 * library here reads these; the layout is Apple's cs_blobs.h.)
 */
function codeSignature(buf, dataoff, datasize) {
  const sb = buf.subarray(dataoff, dataoff + datasize);
  assert.equal(sb.readUInt32BE(0), 0xfade0cc0, 'an embedded signature SuperBlob');
  const blobs = Array.from({ length: sb.readUInt32BE(8) }, (_, i) => sb.readUInt32BE(16 + 8 * i));
  const cdOff = blobs.find((o) => sb.readUInt32BE(o) === 0xfade0c02);
  assert.ok(cdOff !== undefined, 'a CodeDirectory');
  const cd = sb.subarray(cdOff);
  const s = {
    flags: cd.readUInt32BE(12), hashOffset: cd.readUInt32BE(16), identOffset: cd.readUInt32BE(20),
    nCodeSlots: cd.readUInt32BE(28), codeLimit: cd.readUInt32BE(32), hashSize: cd[36], hashType: cd[37], pageSize: 1 << cd[39],
  };
  s.identifier = cd.toString('latin1', s.identOffset, cd.indexOf(0, s.identOffset));
  s.badPages = [];
  for (let i = 0; i < s.nCodeSlots; i++) {
    const page = buf.subarray(i * s.pageSize, Math.min((i + 1) * s.pageSize, s.codeLimit));
    const want = cd.subarray(s.hashOffset + i * s.hashSize, s.hashOffset + (i + 1) * s.hashSize);
    if (!createHash('sha256').update(page).digest().equals(want)) s.badPages.push(i);
  }
  return s;
}

for (const platform of ['darwin-arm64', 'darwin-x64']) {
  test(`${platform}: macOS ${MACOS_MIN}+, system libraries only${platform === 'darwin-arm64' ? ', ad-hoc signed, every page hash right' : ''}`, () => {
    const file = bin(platform);
    const cmds = loadCommands(file);
    const build = cmds.find((c) => c.cmd === 'LC_BUILD_VERSION');
    assert.ok(build, 'LC_BUILD_VERSION');
    assert.deepEqual([build.platform, build.minos], ['macos', MACOS_MIN]);
    assert.ok(cmds.some((c) => c.cmd === 'LC_MAIN'), 'an executable with an entry point');
    // What it loads is on every Mac: /usr/lib's libSystem and libiconv, nothing of the build machine.
    const dylibs = cmds.filter((c) => c.cmd === 'LC_LOAD_DYLIB').map((c) => c.name.replace(/ \(offset \d+\)$/, ''));
    assert.ok(dylibs.includes('/usr/lib/libSystem.B.dylib'), dylibs.join(', '));
    for (const d of dylibs) assert.match(d, /^\/usr\/lib\/lib[\w.]+\.dylib$|^\/System\/Library\/Frameworks\//);
    const sig = cmds.find((c) => c.cmd === 'LC_CODE_SIGNATURE');
    if (platform === 'darwin-x64' && !sig) return; // Intel Macs run unsigned binaries (Apple's linker signs arm64 only)
    assert.ok(sig, 'LC_CODE_SIGNATURE: arm64 macOS kills an unsigned binary');
    const buf = fs.readFileSync(file);
    const [dataoff, datasize] = [Number(sig.dataoff), Number(sig.datasize)];
    assert.ok(dataoff + datasize <= buf.length && dataoff + datasize > buf.length - 16, 'the signature ends the file');
    const s = codeSignature(buf, dataoff, datasize);
    assert.equal(s.flags & 0x2, 0x2, 'CS_ADHOC');
    assert.equal(s.flags & 0x20000, 0x20000, 'CS_LINKER_SIGNED');
    assert.deepEqual([s.hashType, s.hashSize], [2, 32], 'SHA-256 page hashes');
    assert.equal(s.codeLimit, dataoff, 'every byte before the signature is covered');
    assert.equal(s.nCodeSlots, Math.ceil(s.codeLimit / s.pageSize));
    assert.deepEqual(s.badPages, [], 'pages whose hash does not match');
    assert.match(s.identifier, /^qbitpay[-_]sandbox/);
  });
}

// ---------------------------------------------------------------- the docs

test('the platform tables of README.md and the npm README: each package, its sizes as packed now (within 10%)', () => {
  const mb = (n) => n / 1e6;
  for (const readme of ['README.md', 'npm/qbitpay-sandbox/README.md']) {
    const text = fs.readFileSync(path.join(root, readme), 'utf8');
    for (const platform of Object.keys(PLATFORMS)) {
      const row = text.split('\n').find((l) => l.startsWith('|') && l.includes(`\`@qbitpay/sandbox-${platform}\``));
      assert.ok(row, `${readme}: a row for @qbitpay/sandbox-${platform}`);
      const m = /(\d+\.\d) MB \/ (\d+\.\d) MB/.exec(row);
      assert.ok(m, `${readme}: ${platform}'s sizes, packed / unpacked: ${row}`);
      const packed = fs.statSync(tgz(platform)).size;
      const unpacked = fs.statSync(bin(platform)).size;
      for (const [said, is, what] of [[Number(m[1]), mb(packed), 'packed'], [Number(m[2]), mb(unpacked), 'binary']]) {
        assert.ok(Math.abs(said - is) / is < 0.1, `${readme}: ${platform} ${what} ${said} MB, now ${is.toFixed(1)} MB`);
      }
    }
  }
});
