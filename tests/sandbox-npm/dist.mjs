// The tarballs of dist/ (make dist) as a project on this machine gets them: npm installs the
// launcher and only the platform package that matches the machine. Named on npm's command line,
// the other platforms' packages fail the install (EBADPLATFORM), so every test that installs
// from dist/ takes its list from here: qbitpay, the launcher and this platform's package.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = path.join(root, 'dist');
export const version = /^version\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1];
/** This machine's platform, in Node's names (`linux-x64`). */
export const platform = `${process.platform}-${process.arch}`;

/** dist/'s tarballs for this machine, by role; fails naming the one missing. */
export function distTarballs() {
  const files = {
    client: `qbitpay-${version}.tgz`,
    launcher: `qbitpay-sandbox-${version}.tgz`,
    binary: `qbitpay-sandbox-${platform}-${version}.tgz`,
  };
  for (const f of Object.values(files)) assert.ok(fs.existsSync(path.join(dist, f)), `dist/${f} is missing: run make dist`);
  return Object.fromEntries(Object.entries(files).map(([k, f]) => [k, path.join(dist, f)]));
}

/**
 * A fresh project in `dir` (removed first) with `tarballs` installed from dist/ (default: all
 * three of this machine), offline: anything that would need a registry fails instead.
 */
export function installFromDist(dir, { tarballs = Object.values(distTarballs()), flags = [], env = process.env } = {}) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), private: true, type: 'module' }));
  execFileSync('npm', ['install', ...tarballs, '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...flags], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
}
