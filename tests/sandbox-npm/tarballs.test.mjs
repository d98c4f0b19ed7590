// The sandbox as npm users get it: a fresh project installs the tarballs of dist/ (make dist)
// for this machine (tests/support/tarballs.mjs) offline and with no cargo on PATH, then runs `npx qbitpay-sandbox` and startSandbox() (ESM
// and CommonJS; the README's recipes run in e2e-tools.test.mjs); a second project installs it
// with --omit=optional and gets the launcher's message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { ROOT as root, VERSION as version, PLATFORM as platform, envWithoutCargo, installTarballs } from '../support/tarballs.mjs';

const work = path.join(root, 'tests', '.tmp', 'sandbox-npm');
const app = path.join(work, 'app');
const omitted = path.join(work, 'omit-optional');
const DEMO_KEY = 'sk_test_qbitpay_demo';

const env = envWithoutCargo();
delete process.env.QBITPAY_SANDBOX_BINARY;

let api; // the installed package, through its ESM entry
let cjs; // ... and its CommonJS one
let QbitPay;
const started = [];

/** A process's first stdout line (stdout drained afterwards). */
function firstLine(child) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    lines.on('line', () => {});
    child.once('exit', (code) => reject(new Error(`exited (${code}) before a line`)));
  });
}

/** Alive and not a zombie (an orphan's reaper may be slow). */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return true;
  }
}

async function gone(pid, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** The server at url stops answering within ms. */
async function closed(url, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      await fetch(`${url}/_sandbox/info`);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

const get = (url, apiKey) => fetch(url, { headers: apiKey ? { authorization: `Basic ${btoa(`${apiKey}:`)}` } : {} });
const charge = (i) => ({ amount: 10 + i, currency: 'USD', externalOrderId: `order-${i}`, cbUrl: 'http://127.0.0.1:9/hook', redirectUrl: 'https://shop.example/thanks' });

before(async () => {
  assert.notEqual(spawnSync('sh', ['-c', 'command -v cargo'], { env }).status, 0, 'cargo is still on PATH');
  installTarballs(app, { manifest: { type: 'module' }, env });
  installTarballs(omitted, { manifest: { type: 'module' }, client: false, platform: false, flags: ['--omit=optional'], env });
  fs.writeFileSync(path.join(app, 'entry.mjs'), "export * from 'qbitpay-sandbox';\nexport { QbitPay } from 'qbitpay';\n");
  api = await import(pathToFileURL(path.join(app, 'entry.mjs')).href);
  cjs = createRequire(path.join(app, 'package.json'))('qbitpay-sandbox');
  QbitPay = api.QbitPay;
});

after(async () => {
  await Promise.all(started.map((sb) => sb.stop()));
});

test('the packages: one version, metadata, the platform package holds one executable', () => {
  const manifest = (dir) => JSON.parse(fs.readFileSync(path.join(app, 'node_modules', dir, 'package.json'), 'utf8'));
  const launcher = manifest('qbitpay-sandbox');
  const bin = manifest(`@qbitpay/sandbox-${platform}`);
  const client = manifest('qbitpay');
  for (const m of [launcher, bin, client]) {
    assert.equal(m.version, version, m.name);
    assert.equal(m.repository.url, 'git+https://github.com/qbitpay/qbitpay.git', m.name);
    for (const k of ['homepage', 'bugs', 'license', 'engines', 'files']) assert.ok(m[k], `${m.name} has ${k}`);
  }
  assert.deepEqual(launcher.optionalDependencies[`@qbitpay/sandbox-${platform}`], version);
  assert.deepEqual([bin.os, bin.cpu], [[process.platform], [process.arch]]);
  const exe = path.join(app, 'node_modules', '@qbitpay', `sandbox-${platform}`, 'bin', 'qbitpay-sandbox');
  assert.equal(execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim(), `qbitpay-sandbox ${version}`);
  assert.equal(api.sandboxBinary(), exe);
  assert.equal(cjs.startSandbox, api.startSandbox, 'import and require share one implementation');
  // Static: runs on any Linux, glibc or musl.
  assert.match(execFileSync('file', ['-L', exe], { encoding: 'utf8' }), /static(-pie)? linked|statically linked/);
});

test('npx qbitpay-sandbox: the same flags and first stdout line as the binary, serves, stops on SIGTERM', async () => {
  const exe = api.sandboxBinary();
  const help = execFileSync('npx', ['qbitpay-sandbox', '--help'], { cwd: app, env, encoding: 'utf8' });
  assert.equal(help, execFileSync(exe, ['--help'], { encoding: 'utf8' }));
  assert.match(help, /--exit-on-stdin-close/);
  const child = spawn('npx', ['qbitpay-sandbox', '--port', '0', '--api-key', 'sk_test_npx'], { cwd: app, env, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  try {
    const line = await firstLine(child);
    const m = /^qbitpay-sandbox listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    assert.ok(m, line);
    assert.equal((await get(`${m[1]}/api/v1/balances/show`, 'sk_test_npx')).status, 200);
    assert.equal((await get(`${m[1]}/api/v1/balances/show`, DEMO_KEY)).status, 401);
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGTERM'); // npx → the launcher → the binary: each passes it on
    await exited;
    assert.ok(await closed(m[1]), 'the sandbox stopped with npx');
  } finally {
    try { process.kill(-child.pid, 'SIGKILL'); } catch {}
  }
});

test('the launcher passes on the exit status and signals of the binary', async () => {
  const launcher = path.join(app, 'node_modules', '.bin', 'qbitpay-sandbox');
  const bad = spawnSync(launcher, ['--no-such-flag'], { cwd: app, env, encoding: 'utf8' });
  const direct = spawnSync(api.sandboxBinary(), ['--no-such-flag'], { encoding: 'utf8' });
  assert.deepEqual([bad.status, bad.stdout, bad.stderr], [direct.status, direct.stdout, direct.stderr]);
  assert.equal(bad.status, 2);
  const child = spawn(launcher, ['--port', '0'], { cwd: app, env, stdio: ['ignore', 'pipe', 'ignore'] });
  const url = /listening on (\S+)$/.exec(await firstLine(child))[1];
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null }, 'the sandbox stopped cleanly and the launcher exited as it did');
  await assert.rejects(get(`${url}/_sandbox/info`));
});

test('startSandbox() twice at once: own ports, a key given and the default, advanceClock expires a pending charge, reset, stop', async () => {
  const [a, b] = await Promise.all([api.startSandbox({ apiKeys: ['sk_test_given'], chargeTtl: 600 }), api.startSandbox()]);
  started.push(a, b);
  assert.notEqual(a.url, b.url);
  assert.equal(a.apiKey, 'sk_test_given');
  assert.deepEqual(a.apiKeys, ['sk_test_given']);
  assert.equal(b.apiKey, DEMO_KEY);
  assert.equal(b.apiKey, api.DEFAULT_API_KEY);
  assert.equal(a.dashboardUrl, `${a.url}/`);
  assert.match(await (await fetch(a.dashboardUrl)).text(), /<html/i);
  assert.equal((await get(`${a.url}/api/v1/balances/show`, a.apiKey)).status, 200);
  assert.equal((await get(`${b.url}/api/v1/balances/show`, b.apiKey)).status, 200);
  assert.equal((await get(`${b.url}/api/v1/balances/show`, a.apiKey)).status, 401);

  const qa = new QbitPay({ apiKey: a.apiKey, baseUrl: a.url });
  const qb = new QbitPay({ apiKey: b.apiKey, baseUrl: b.url });
  const [ca, cb] = await Promise.all([qa.charges.create(charge(1)), qb.charges.create(charge(2))]);
  assert.equal(ca.status, 'pending');
  const clock = await a.advanceClock(601);
  assert.equal(clock.object, 'clock');
  assert.ok(clock.offsetSeconds > 600, String(clock.offsetSeconds));
  assert.ok(clock.ran.some((r) => r.job === 'charge.expire' && r.target === ca.id), JSON.stringify(clock.ran));
  assert.equal((await qa.charges.retrieve(ca.id)).status, 'cancelled');
  assert.equal((await qb.charges.retrieve(cb.id)).status, 'pending', 'the other sandbox keeps its own clock');
  await assert.rejects(a.advanceClock(-1), /400 .*seconds/);

  await a.reset();
  assert.equal((await qa.charges.list()).data.length, 0);
  assert.equal((await qb.charges.list()).data.length, 1);

  assert.equal(a[Symbol.asyncDispose], a.stop);
  await Promise.all([a.stop(), b.stop()]);
  assert.ok(!alive(a.pid) && !alive(b.pid));
  await assert.rejects(get(`${a.url}/_sandbox/info`));
  await a.stop(); // twice: still fine
});

test('startSandbox() through require, with flags in camelCase; a failed start rejects with the binary\'s message', async () => {
  const data = path.join(work, 'state.db');
  fs.rmSync(data, { force: true });
  const sb = await cjs.startSandbox({ data, apiKeys: 'sk_test_cjs', rateLimit: 50, webhookAlgorithm: 'hmac-sha256', allowRemoteWebhooks: false });
  started.push(sb);
  const info = await (await fetch(`${sb.url}/_sandbox/info`)).json();
  assert.equal(info.data, data);
  await assert.rejects(cjs.startSandbox({ data, apiKeys: 'sk_test_cjs' }), (e) => {
    assert.match(e.message, /^qbitpay-sandbox: .*in use by another qbitpay-sandbox/);
    assert.equal(e.exitCode, 1);
    return true;
  });
  await assert.rejects(cjs.startSandbox({ port: Number(new URL(sb.url).port) }), /^Error: qbitpay-sandbox: cannot listen on 127\.0\.0\.1:\d+/);
  await assert.rejects(cjs.startSandbox({ noSuchFlag: 1 }), /unexpected argument '--no-such-flag'/);
  await assert.rejects(cjs.startSandbox({ chargeTtl: -5 }), /--charge-ttl must be a number of seconds from 0 to /);
  await sb.stop();
});

test('a parent that exits without stop() leaves nothing running', async () => {
  const script = (rest) => `import { startSandbox } from 'qbitpay-sandbox';
const sb = await startSandbox();
console.log(JSON.stringify({ pid: sb.pid, url: sb.url }));
${rest}`;
  // Killed: SIGKILL, no handler runs.
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script('setInterval(() => {}, 1000);')], { cwd: app, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const { pid, url } = JSON.parse(await firstLine(parent));
  assert.equal((await fetch(`${url}/_sandbox/info`)).status, 200);
  parent.kill('SIGKILL');
  assert.ok(await gone(pid), `sandbox ${pid} still running 5 s after its parent was killed`);
  await assert.rejects(get(`${url}/_sandbox/info`));

  // Forgotten: the script ends with the sandbox still started; the sandbox keeps it from exiting
  // no longer than it takes, and goes with it.
  const t0 = Date.now();
  const forgetful = spawn(process.execPath, ['--input-type=module', '-e', script('')], { cwd: app, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => forgetful.once('exit', r));
  const second = JSON.parse(await firstLine(forgetful));
  assert.equal(await exited, 0);
  assert.ok(Date.now() - t0 < 15_000);
  assert.ok(await gone(second.pid), `sandbox ${second.pid} outlived the script that started it`);
});

test('--omit=optional: the launcher and startSandbox() name the platform, the package and the other ways', async () => {
  assert.ok(!fs.existsSync(path.join(omitted, 'node_modules', '@qbitpay')));
  const r = spawnSync('npx', ['qbitpay-sandbox', '--port', '0'], { cwd: omitted, env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  for (const s of [`(${platform})`, `@qbitpay/sandbox-${platform}`, `npm install @qbitpay/sandbox-${platform}@${version}`, '--omit=optional', 'cargo build -p qbitpay-sandbox', 'QBITPAY_SANDBOX_BINARY=']) {
    assert.ok(r.stderr.includes(s), `the message names ${s}:\n${r.stderr}`);
  }
  const { startSandbox } = createRequire(path.join(omitted, 'package.json'))('qbitpay-sandbox');
  await assert.rejects(startSandbox(), (e) => e.code === 'QBITPAY_SANDBOX_NO_BINARY' && e.message === r.stderr.trim());

  // QBITPAY_SANDBOX_BINARY: a binary from elsewhere (here: the first project's).
  const child = spawn('npx', ['qbitpay-sandbox', '--port', '0'], { cwd: omitted, env: { ...env, QBITPAY_SANDBOX_BINARY: api.sandboxBinary() }, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  try {
    assert.match(await firstLine(child), /^qbitpay-sandbox listening on http:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    process.kill(-child.pid, 'SIGTERM');
  }
  const missing = spawnSync('npx', ['qbitpay-sandbox'], { cwd: omitted, env: { ...env, QBITPAY_SANDBOX_BINARY: path.join(work, 'nothing-here') }, encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /QBITPAY_SANDBOX_BINARY is .*nothing-here, which does not exist/);
});

test('types: the .d.ts describes both entries (tsc --strict, nodenext)', () => {
  const ts = `import { startSandbox, DEFAULT_API_KEY, type Sandbox, type SandboxClock } from 'qbitpay-sandbox';
const sb: Sandbox = await startSandbox({ apiKeys: ['sk_test_a'], autoConfirmAfter: 2, webhookAlgorithm: 'hmac-sha256', stderr: (line: string) => void line });
const clock: SandboxClock = await sb.advanceClock(60);
const key: 'sk_test_qbitpay_demo' = DEFAULT_API_KEY;
clock.ran.map((r) => r.job).concat(sb.url, sb.apiKey, sb.dashboardUrl, key);
await sb.reset();
await sb[Symbol.asyncDispose]();
// @ts-expect-error not a webhook algorithm
void startSandbox({ webhookAlgorithm: 'sha1' });
`;
  const cts = `import sandbox = require('qbitpay-sandbox');
export const started: Promise<sandbox.Sandbox> = sandbox.startSandbox({ chargeTtl: 60 });
`;
  fs.writeFileSync(path.join(app, 'types.ts'), ts);
  fs.writeFileSync(path.join(app, 'types.cts'), cts);
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,esnext.disposable', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types'), 'types.ts', 'types.cts'], { cwd: app, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("the qbitpay README's signWebhook example runs as printed, from the installed package", () => {
  const readme = fs.readFileSync(path.join(app, 'node_modules', 'qbitpay', 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  const example = blocks.find((b) => b.includes("from 'qbitpay/webhook'") && b.includes('signWebhook('));
  assert.ok(example, 'the README shows signWebhook');
  assert.ok(blocks.some((b) => b.includes("from 'qbitpay-sandbox'")), 'the README shows the sandbox');
  fs.writeFileSync(path.join(app, 'sign-example.mjs'), `${example}\nconsole.log(verifyWebhook(body, signature, 'sk_test_123').id);\n`);
  const r = spawnSync(process.execPath, ['sign-example.mjs'], { cwd: app, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'evt_test_1');
});
