// The launcher's platform resolution (npm/qbitpay-sandbox/lib/binary.cjs) for every value of
// process.platform/process.arch a package is released for, and for others: an install tree as
// npm lays it out (the launcher, its five optionalDependencies, one or no platform package), the
// binary's path (.exe on Windows), and the message when there is none to run.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT as root, VERSION as version } from '../support/tarballs.mjs';

const work = path.join(root, 'tests', '.tmp', 'platforms');
const RELEASED = {
  // process.platform, process.arch → the package and the file in its bin/
  'linux-x64': ['linux', 'x64', 'qbitpay-sandbox'],
  'linux-arm64': ['linux', 'arm64', 'qbitpay-sandbox'],
  'darwin-x64': ['darwin', 'x64', 'qbitpay-sandbox'],
  'darwin-arm64': ['darwin', 'arm64', 'qbitpay-sandbox'],
  'win32-x64': ['win32', 'x64', 'qbitpay-sandbox.exe'],
};

/**
 * An install tree in its own directory (Node caches resolutions per tree): the launcher, and
 * the platform packages given ({ platform: { v, file } }); its lib/binary.cjs as loaded there.
 */
function install(name, packages = {}) {
  const modules = path.join(work, name, 'node_modules');
  fs.rmSync(path.dirname(modules), { recursive: true, force: true });
  const launcher = path.join(modules, 'qbitpay-sandbox');
  fs.mkdirSync(path.join(launcher, 'lib'), { recursive: true });
  fs.copyFileSync(path.join(root, 'npm', 'qbitpay-sandbox', 'lib', 'binary.cjs'), path.join(launcher, 'lib', 'binary.cjs'));
  const template = JSON.parse(fs.readFileSync(path.join(root, 'npm', 'qbitpay-sandbox', 'package.json'), 'utf8'));
  const optionalDependencies = Object.fromEntries(Object.keys(RELEASED).sort().map((p) => [`@qbitpay/sandbox-${p}`, version])); // as packed
  fs.writeFileSync(path.join(launcher, 'package.json'), JSON.stringify({ ...template, version, optionalDependencies }));
  const dirs = {};
  for (const [platform, { v = version, file = RELEASED[platform]?.[2] } = {}] of Object.entries(packages)) {
    const dir = (dirs[platform] = path.join(modules, '@qbitpay', `sandbox-${platform}`));
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `@qbitpay/sandbox-${platform}`, version: v }));
    if (file) fs.writeFileSync(path.join(dir, 'bin', file), '', { mode: 0o755 });
  }
  return { lib: createRequire(path.join(launcher, 'package.json'))('./lib/binary.cjs'), dirs };
}

before(() => fs.rmSync(work, { recursive: true, force: true }));

test('each released platform: its package, the binary in its bin/ (.exe on Windows)', () => {
  for (const [platform, [os, cpu, file]] of Object.entries(RELEASED)) {
    const { lib, dirs: { [platform]: dir } } = install(platform, { [platform]: {} });
    assert.equal(lib.platformPackage(platform), `@qbitpay/sandbox-${platform}`);
    assert.equal(lib.binaryFile(os), file);
    assert.equal(lib.packagedBinary(os, cpu), path.join(dir, 'bin', file), platform);
    // npm installs one platform package: every other platform finds none.
    for (const [other, [os2, cpu2]] of Object.entries(RELEASED)) {
      if (other !== platform) assert.throws(() => lib.packagedBinary(os2, cpu2), { code: 'QBITPAY_SANDBOX_NO_BINARY' }, `${other} on a ${platform} install`);
    }
  }
  assert.equal(install('current').lib.currentPlatform(), `${process.platform}-${process.arch}`);
});

test('a released platform without its package (--omit=optional): how to install it, or build it', () => {
  const { lib } = install('omitted');
  for (const [platform, [os, cpu]] of Object.entries(RELEASED)) {
    assert.throws(() => lib.packagedBinary(os, cpu), (e) => {
      assert.ok(e instanceof lib.SandboxBinaryError);
      assert.equal(e.code, 'QBITPAY_SANDBOX_NO_BINARY');
      for (const s of [`(${platform})`, `npm install @qbitpay/sandbox-${platform}@${version}`, '--omit=optional', 'cargo build -p qbitpay-sandbox', 'QBITPAY_SANDBOX_BINARY=']) {
        assert.ok(e.message.includes(s), `${platform}: the message names ${s}:\n${e.message}`);
      }
      return true;
    });
  }
});

test('any other platform (process.platform, process.arch as Node names them): the released ones, and building from source', () => {
  const { lib } = install('all', Object.fromEntries(Object.keys(RELEASED).map((p) => [p, {}])));
  for (const [os, cpu] of [['linux', 'ia32'], ['linux', 'arm'], ['linux', 'riscv64'], ['linux', 'ppc64'], ['linux', 's390x'], ['freebsd', 'x64'], ['openbsd', 'x64'], ['android', 'arm64'], ['win32', 'arm64'], ['win32', 'ia32'], ['aix', 'ppc64'], ['sunos', 'x64']]) {
    assert.throws(() => lib.packagedBinary(os, cpu), (e) => {
      assert.equal(e.code, 'QBITPAY_SANDBOX_NO_BINARY');
      assert.ok(e.message.includes(`no sandbox binary for this platform (${os}-${cpu})`), e.message);
      assert.ok(e.message.includes(`comes with binaries for darwin-arm64, darwin-x64, linux-arm64, linux-x64, win32-x64, not for ${os}-${cpu}`), e.message);
      assert.ok(!e.message.includes('npm install @qbitpay'), 'no package to install');
      const exe = os === 'win32' ? 'qbitpay-sandbox.exe' : 'qbitpay-sandbox';
      assert.ok(e.message.includes(`\nBuild it from source (Rust 1.81+)`) && e.message.includes(`cargo build -p qbitpay-sandbox --profile sandbox`) && e.message.includes(`QBITPAY_SANDBOX_BINARY=/path/to/qbitpay/target/sandbox/${exe}`), e.message);
      return true;
    }, `${os}-${cpu}`);
  }
});

test('a platform package of another version, or without its binary, is refused by name', () => {
  let { lib } = install('old', { 'win32-x64': { v: '0.0.1' } });
  assert.throws(() => lib.packagedBinary('win32', 'x64'), new RegExp(`@qbitpay/sandbox-win32-x64 is 0\\.0\\.1 but qbitpay-sandbox is ${version.replaceAll('.', '\\.')}`));
  // A Windows package holding a binary without .exe is not a Windows package.
  ({ lib } = install('no-exe', { 'win32-x64': { file: 'qbitpay-sandbox' } }));
  assert.throws(() => lib.packagedBinary('win32', 'x64'), /@qbitpay\/sandbox-win32-x64 has no .*qbitpay-sandbox\.exe; reinstall it/);
  ({ lib } = install('no-binary', { 'darwin-arm64': { file: null } }));
  assert.throws(() => lib.packagedBinary('darwin', 'arm64'), /@qbitpay\/sandbox-darwin-arm64 has no .*bin\/qbitpay-sandbox; reinstall it/);
});
