'use strict';
// Where the sandbox binary is: $QBITPAY_SANDBOX_BINARY, or the one in this platform's package
// (@qbitpay/sandbox-<os>-<cpu>, an optional dependency: npm installs only the one whose
// `os`/`cpu` match). Nothing is downloaded at install or run time.

const fs = require('node:fs');
const path = require('node:path');
const { version, optionalDependencies = {} } = require('../package.json');

const SOURCE = 'https://github.com/qbitpay/qbitpay';

/**
 * `linux-x64`, `linux-arm64`, `darwin-x64`, `darwin-arm64`, `win32-x64`…: Node's names for a
 * machine (`process.platform`, `process.arch`), as in the packages' `os`/`cpu`.
 */
const platformName = (os, cpu) => `${os}-${cpu}`;
const currentPlatform = () => platformName(process.platform, process.arch);

/** The npm package holding the binary for a platform. */
const platformPackage = (platform) => `@qbitpay/sandbox-${platform}`;

/** The binary's file name inside its package (`bin/…`). */
const binaryFile = (os) => (os === 'win32' ? 'qbitpay-sandbox.exe' : 'qbitpay-sandbox');

class SandboxBinaryError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SandboxBinaryError';
    this.code = 'QBITPAY_SANDBOX_NO_BINARY';
  }
}

function fromSource(platform, lead = 'Or build') {
  const exe = binaryFile(platform.split('-')[0]);
  return (
    `${lead} it from source (Rust 1.81+): in a clone of ${SOURCE},\n` +
    `  cargo build -p qbitpay-sandbox --profile sandbox\n` +
    `and point QBITPAY_SANDBOX_BINARY at it:\n` +
    `  QBITPAY_SANDBOX_BINARY=/path/to/qbitpay/target/sandbox/${exe}`
  );
}

function missing(platform, pkg) {
  const released = Object.keys(optionalDependencies)
    .filter((name) => name.startsWith(platformPackage('')))
    .map((name) => name.slice(platformPackage('').length));
  const head = `qbitpay-sandbox: no sandbox binary for this platform (${platform}): ${pkg} is not installed.`;
  if (!released.includes(platform)) {
    return (
      `${head}\nqbitpay-sandbox ${version} comes with binaries for ${released.join(', ') || 'no platform'}, ` +
      `not for ${platform}.\n${fromSource(platform, 'Build')}`
    );
  }
  return (
    `${head}\nIt is an optional dependency of qbitpay-sandbox, left out when npm installs with ` +
    `--omit=optional (or --no-optional, or a lockfile made on another platform).\n` +
    `Install it:\n  npm install ${pkg}@${version}\n${fromSource(platform)}`
  );
}

/**
 * The path of the sandbox binary to run. Throws SandboxBinaryError (code
 * `QBITPAY_SANDBOX_NO_BINARY`) with what to do when there is none.
 */
function sandboxBinary() {
  const override = process.env.QBITPAY_SANDBOX_BINARY;
  if (override) {
    const file = path.resolve(override);
    if (!fs.existsSync(file)) {
      throw new SandboxBinaryError(`qbitpay-sandbox: QBITPAY_SANDBOX_BINARY is ${override}, which does not exist.`);
    }
    return file;
  }
  return packagedBinary(process.platform, process.arch);
}

/** The binary of the platform package for `os` (`process.platform`) and `cpu` (`process.arch`). */
function packagedBinary(os, cpu) {
  const platform = platformName(os, cpu);
  const pkg = platformPackage(platform);
  let manifest;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND') throw new SandboxBinaryError(missing(platform, pkg));
    throw e;
  }
  const found = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
  if (found !== version) {
    throw new SandboxBinaryError(
      `qbitpay-sandbox: ${pkg} is ${found} but qbitpay-sandbox is ${version}; they must be the same version:\n` +
        `  npm install ${pkg}@${version}`,
    );
  }
  const file = path.join(path.dirname(manifest), 'bin', binaryFile(os));
  if (!fs.existsSync(file)) throw new SandboxBinaryError(`qbitpay-sandbox: ${pkg} has no ${file}; reinstall it.`);
  return file;
}

module.exports = { sandboxBinary, packagedBinary, currentPlatform, platformPackage, binaryFile, SandboxBinaryError };
