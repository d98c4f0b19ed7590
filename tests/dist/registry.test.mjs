// npm's own choice of platform package. The tarballs of dist/ (make dist) are published to a
// registry on loopback (verdaccio: no uplinks, so nothing leaves the machine; its storage in
// tests/.tmp), then fresh projects run `npm install qbitpay-sandbox` as users do: npm installs
// the launcher and exactly the package of the machine (of this one, and of each other
// platform through npm's --os/--cpu), the lockfile records all five, and `npx qbitpay-sandbox`
// runs the binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { ROOT as root, DIST as dist, VERSION as version, PLATFORM as platform } from '../support/tarballs.mjs';

const work = path.join(root, 'tests', '.tmp', 'registry');
const PLATFORMS = ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64', 'win32-x64'];
const { runServer } = createRequire(import.meta.url)('verdaccio');

let server;
let registry;
// npm as a user's machine runs it: this registry only, a cache of its own, no npm_config_* of
// the make or npm process running the tests. (Asynchronously: the registry answers from this
// process.)
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const run = promisify(execFile);
const npm = async (args, cwd) => (await run('npm', [...args, '--userconfig', path.join(work, 'npmrc'), '--cache', path.join(work, 'cache'), '--registry', registry, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, encoding: 'utf8' })).stdout;

before(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const app = await runServer({
    self_path: work,
    storage: path.join(work, 'storage'),
    auth: { htpasswd: { file: path.join(work, 'htpasswd'), max_users: 1 } },
    uplinks: {},
    packages: { '**': { access: '$all', publish: '$authenticated' } },
    web: { enable: false },
    log: { type: 'stdout', format: 'pretty', level: 'error' },
  });
  server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  registry = `http://127.0.0.1:${server.address().port}/`;
  // A publisher's token, as `npm adduser` gets it.
  const res = await fetch(`${registry}-/user/org.couchdb.user:dist`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'dist', password: 'dist-publisher-1' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const { token } = await res.json();
  fs.writeFileSync(path.join(work, 'npmrc'), `//127.0.0.1:${server.address().port}/:_authToken=${token}\n`);
  for (const p of ['', ...PLATFORMS.map((p) => `-${p}`)]) {
    await npm(['publish', path.join(dist, `qbitpay-sandbox${p}-${version}.tgz`), '--access', 'public'], work);
  }
});

after(() => new Promise((resolve) => (server ? server.close(resolve) : resolve())));

/** A fresh project that ran `npm install qbitpay-sandbox` (with extra npm flags). */
async function project(name, ...flags) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true }));
  await npm(['install', 'qbitpay-sandbox', ...flags], dir);
  return dir;
}
const installed = (dir) => fs.readdirSync(path.join(dir, 'node_modules', '@qbitpay')).sort();

test('npm install qbitpay-sandbox: the launcher and this machine\'s package only; npx qbitpay-sandbox runs it', async () => {
  const app = await project('app');
  assert.deepEqual(installed(app), [`sandbox-${platform}`]);
  const lock = JSON.parse(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8'));
  assert.equal(lock.packages['node_modules/qbitpay-sandbox'].version, version);
  assert.ok(lock.packages['node_modules/qbitpay-sandbox'].resolved.startsWith(registry), 'from the loopback registry');
  for (const p of PLATFORMS) {
    const entry = lock.packages[`node_modules/@qbitpay/sandbox-${p}`];
    assert.ok(entry, `the lockfile records @qbitpay/sandbox-${p}`);
    assert.deepEqual([entry.version, entry.optional, entry.os, entry.cpu], [version, true, [p.split('-')[0]], [p.split('-')[1]]]);
  }

  assert.equal((await run('npx', ['qbitpay-sandbox', '--version'], { cwd: app, env, encoding: 'utf8' })).stdout.trim(), `qbitpay-sandbox ${version}`);
  const child = spawn('npx', ['qbitpay-sandbox', '--port', '0', '--api-key', 'sk_test_registry'], { cwd: app, env, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  try {
    const line = await new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`npx exited (${code})`)));
    });
    const url = /^qbitpay-sandbox listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)?.[1];
    assert.ok(url, line);
    const res = await fetch(`${url}/api/v1/balances/show`, { headers: { authorization: `Basic ${btoa('sk_test_registry:')}` } });
    assert.equal(res.status, 200);
  } finally {
    try { process.kill(-child.pid, 'SIGTERM'); } catch {}
  }
});

test('on each other platform (npm --os/--cpu) npm installs that platform\'s package, and the launcher finds its binary', async () => {
  for (const p of PLATFORMS.filter((p) => p !== platform)) {
    const [os, cpu] = p.split('-');
    const dir = await project(`as-${p}`, '--os', os, '--cpu', cpu);
    assert.deepEqual(installed(dir), [`sandbox-${p}`], p);
    const { packagedBinary } = createRequire(path.join(dir, 'node_modules', 'qbitpay-sandbox', 'package.json'))('./lib/binary.cjs');
    const exe = packagedBinary(os, cpu);
    assert.equal(exe, path.join(dir, 'node_modules', '@qbitpay', `sandbox-${p}`, 'bin', os === 'win32' ? 'qbitpay-sandbox.exe' : 'qbitpay-sandbox'));
    assert.ok(fs.statSync(exe).size > 1_000_000, `${p}: the real binary`);
  }
});
