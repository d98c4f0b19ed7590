// The release tarballs of dist/ (make dist) as a user installs them: into a fresh project,
// offline, the client, the sandbox's launcher and this machine's platform package only (the
// other platforms' packages refuse to install here).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VERSION = /^version\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8'))[1];
export const DIST = path.join(ROOT, 'dist');
export const PLATFORM = `${process.platform}-${process.arch}`;

/** What a machine without Rust has: no ~/.cargo/bin, nor this repository's node_modules/.bin. */
export function envWithoutCargo(extra = {}) {
  const PATH = process.env.PATH.split(path.delimiter)
    .filter((p) => !p.includes(`${path.sep}.cargo`) && !p.endsWith(path.join('node_modules', '.bin')))
    .join(path.delimiter);
  const env = { ...process.env, PATH, ...extra };
  delete env.QBITPAY_SANDBOX_BINARY;
  return env;
}

/** The tarballs a user of this platform installs: `{ client, launcher, platform }` (paths). */
export function tarballs() {
  const files = {
    client: `qbitpay-${VERSION}.tgz`,
    launcher: `qbitpay-sandbox-${VERSION}.tgz`,
    platform: `qbitpay-sandbox-${PLATFORM}-${VERSION}.tgz`,
  };
  const out = {};
  for (const [k, f] of Object.entries(files)) {
    const p = path.join(DIST, f);
    if (!fs.existsSync(p)) throw new Error(`dist/${f} is missing: run make dist`);
    out[k] = p;
  }
  return out;
}

/**
 * A fresh project in `dir` (emptied first) with `manifest` as its package.json and the
 * tarballs installed offline: the client (unless `client: false`), the launcher and this
 * platform's binary package (unless `platform: false`: then npm resolves the launcher's
 * optionalDependencies itself, offline). Resolves nothing from a registry.
 */
export function installTarballs(dir, { manifest = {}, client = true, platform = true, flags = [], env = envWithoutCargo() } = {}) {
  const t = tarballs();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), private: true, ...manifest }, null, 2));
  const wanted = [...(client ? [t.client] : []), t.launcher, ...(platform ? [t.platform] : [])];
  execFileSync('npm', ['install', ...wanted, '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...flags],
    { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}
