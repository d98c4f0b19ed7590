// The sandbox as a tester uses it, from the tarballs of dist/ in a fresh project without
// cargo: every recipe of the package's README copied out of it and run by its real runner
// (node:test, Vitest, Jest, Playwright with its webServer and the worker fixture, in
// Chromium, two workers, nothing left running); trigger of every event type with signed
// deliveries, deliveries, waitForWebhook and its timeout, replay; duplicated, reordered and
// delayed deliveries; connectSandbox and the CLI's trigger with their bad inputs; a damaged
// --data file refused at start; the types.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { ROOT, envWithoutCargo, installTarballs } from '../support/tarballs.mjs';

const kit = path.join(ROOT, 'tests', 'sandbox-npm', 'kit');
// Under the repository: the runners (Vitest, Jest, Playwright: dev dependencies) resolve from
// its node_modules as a workspace's hoisted packages do; the project's own node_modules holds
// only what the tarballs installed.
const app = path.join(ROOT, 'tests', '.tmp', 'sandbox-e2e');
const env = envWithoutCargo();
const BIN = (name) => path.join(ROOT, 'node_modules', '.bin', name);
const TYPES = ['charge.succeeded', 'charge.expired', 'charge.failed', 'charge.dispute.created', 'charge.dispute.closed',
  'payout.pending', 'payout.inTransition', 'payout.paid', 'payout.failed', 'payout.cancelled'];

let api; // the installed qbitpay-sandbox (ESM entry) and the client
let recipes; // { node: [...], vitest: [...], jest: [...], playwright: [...] } of { heading, file }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The README's recipes: each ```js block under "## Recipes" whose first line is `// <path>`, by runner. */
function extractRecipes(readme) {
  const start = readme.indexOf('\n## Recipes\n');
  assert.ok(start > 0, 'the README has a Recipes section');
  const end = readme.indexOf('\n## ', start + 5);
  const out = { node: [], vitest: [], jest: [], playwright: [] };
  for (const part of readme.slice(start, end).split('\n### ').slice(1)) {
    const heading = part.split('\n')[0];
    const runner = /node:test/.test(heading) ? 'node' : /^Vitest/.test(heading) ? 'vitest'
      : /^Jest/.test(heading) ? 'jest' : /^Playwright/.test(heading) ? 'playwright' : null;
    const blocks = [...part.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(blocks.length, `${heading}: no code`);
    for (const code of blocks) {
      const file = /^\/\/ (\S+)/.exec(code)?.[1];
      assert.ok(file, `${heading}: a recipe block names its file on its first line:\n${code}`);
      assert.ok(runner, `${heading}: which runner runs it?`);
      out[runner].push({ heading, file, code });
    }
  }
  return out;
}

function write(dir, { file, code }) {
  const p = path.join(app, dir, file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, code);
}

/** Runs a command to its end (killed with its group after `timeout` ms). */
function run(cmd, args, { cwd, env: e = env, timeout = 120_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: e, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, timeout);
    child.once('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/** Processes running the sandbox binary of this project. */
function sandboxesOfTheProject() {
  const pids = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`).startsWith(path.join(app, 'node_modules'))) pids.push(Number(pid));
    } catch {}
  }
  return pids;
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** A webhook endpoint on loopback that records every delivery and answers 200. */
async function receiver() {
  const hits = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      hits.push({ body, signature: req.headers['qbitpay-signature'], type: JSON.parse(body).type });
      res.end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, hits, close: () => server.close() };
}

async function until(what, f, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await f())) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await sleep(25);
  }
}

before(async () => {
  installTarballs(app, { manifest: { scripts: { start: 'node shop.js' } } });
  fs.writeFileSync(path.join(app, 'entry.mjs'),
    "export * from 'qbitpay-sandbox';\nexport { QbitPay } from 'qbitpay';\nexport { verifyWebhook } from 'qbitpay/webhook';\n");
  api = await import(pathToFileURL(path.join(app, 'entry.mjs')).href);
  recipes = extractRecipes(fs.readFileSync(path.join(app, 'node_modules', 'qbitpay-sandbox', 'README.md'), 'utf8'));
  // What the recipes take for granted in a project: an app for `npm start` (Playwright's
  // webServer), ES modules for Vitest's config.
  fs.copyFileSync(path.join(kit, 'shop.js'), path.join(app, 'shop.js'));
  fs.mkdirSync(path.join(app, 'vitest'), { recursive: true });
  fs.writeFileSync(path.join(app, 'vitest', 'package.json'), '{ "type": "module" }\n');
});

after(() => {
  assert.deepEqual(sandboxesOfTheProject(), [], 'a sandbox of this project is still running');
});

test('the README: every recipe names its file and its runner', () => {
  const headings = Object.values(recipes).flat().map((r) => r.heading);
  for (const h of ['node:test', 'Vitest (`globalSetup`)', 'Jest (`globalSetup`)', 'Playwright (`webServer`)']) {
    assert.ok(headings.includes(h), `a recipe ${h}`);
  }
  assert.ok(headings.some((h) => h.includes('qbitpay-sandbox/playwright')), 'the Playwright fixture recipe');
  assert.ok(headings.some((h) => h.includes('qbitpay-sandbox/vitest')), 'the Vitest fixture recipe');
  assert.ok(recipes.node.length >= 2 && recipes.vitest.length >= 4 && recipes.jest.length === 4 && recipes.playwright.length === 3,
    JSON.stringify(Object.fromEntries(Object.entries(recipes).map(([k, v]) => [k, v.map((r) => r.file)]))));
});

test('node:test recipes, as printed', async () => {
  for (const r of recipes.node) write('node-test', r);
  const cmd = /run: (.*)$/m.exec(recipes.node[0].code)[1];
  assert.equal(cmd, 'node --test test/');
  const own = { ...env };
  delete own.NODE_TEST_CONTEXT; // set for this file by the runner running it
  const r = await run(process.execPath, ['--test', 'test/'], { cwd: path.join(app, 'node-test'), env: own });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`# pass ${recipes.node.length}\\b`));
  assert.match(r.stdout, /# fail 0\b/);
});

test('Vitest recipes (globalSetup with connectSandbox, the file fixture), as printed', async () => {
  for (const r of recipes.vitest) write('vitest', r);
  const r = await run(BIN('vitest'), ['run', '--reporter=verbose'], { cwd: path.join(app, 'vitest'), env: { ...env, CI: '1', NO_COLOR: '1' } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const files = recipes.vitest.filter((x) => x.file.endsWith('.test.js')).length;
  assert.match(r.stdout, new RegExp(`Test Files +${files} passed`), r.stdout);
});

test('Jest recipe (globalSetup with connectSandbox), as printed', async () => {
  for (const r of recipes.jest) write('jest', r);
  const r = await run(BIN('jest'), ['--ci'], { cwd: path.join(app, 'jest') });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /Tests: +1 passed, 1 total/, r.stderr);
});

test('Playwright recipes in Chromium: webServer, and the fixture with a sandbox per worker (two workers); nothing left running',
  { timeout: 180_000 }, async () => {
    const dir = path.join(app, 'playwright');
    for (const r of recipes.playwright) write('playwright', r);
    fs.copyFileSync(path.join(kit, 'playwright.ci.config.js'), path.join(dir, 'playwright.ci.config.js'));
    fs.cpSync(path.join(kit, 'e2e'), path.join(dir, 'e2e'), { recursive: true });
    const report = path.join(dir, 'report.json');
    const barrier = path.join(dir, 'barrier');
    fs.rmSync(barrier, { recursive: true, force: true });
    fs.mkdirSync(barrier);
    const ports = { SANDBOX_PORT: String(await freePort()), PORT: String(await freePort()) };
    const r = await run(BIN('playwright'), ['test', '-c', 'playwright.ci.config.js'],
      { cwd: dir, env: { ...env, ...ports, CI: '1', REPORT: report, BARRIER: barrier }, timeout: 170_000 });
    assert.ok(fs.existsSync(report), r.stdout + r.stderr);
    const json = JSON.parse(fs.readFileSync(report, 'utf8'));
    const results = [];
    const walk = (s) => {
      for (const spec of s.specs || []) for (const t of spec.tests) for (const res of t.results) results.push({ title: spec.title, file: spec.file, res, t });
      for (const c of s.suites || []) walk(c);
    };
    json.suites.forEach(walk);
    const failed = results.filter((x) => x.res.status !== 'passed').map((x) => `${x.title}: ${x.res.error?.message}`);
    assert.deepEqual(failed, [], r.stdout + r.stderr);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(results.some((x) => /\.02 is declined/.test(x.title)), 'the decline, paid in Chromium');
    assert.ok(results.some((x) => x.file.endsWith('checkout.spec.js')), 'the webServer recipe');
    // One sandbox per worker: each worker's tests saw one sandbox, no two workers the same one.
    const seen = results.flatMap((x) => x.t.annotations.filter((a) => a.type === 'sandbox').map((a) => JSON.parse(a.description)));
    assert.equal(seen.length, 2);
    const workers = new Set(results.map((x) => x.res.workerIndex));
    assert.ok(workers.size >= 2, `two workers ran (${[...workers]})`);
    assert.notEqual(seen[0].worker, seen[1].worker, 'the two parallel tests ran in two workers');
    assert.notEqual(seen[0].pid, seen[1].pid, 'each worker its own sandbox');
    assert.notEqual(seen[0].url, seen[1].url);
    // Stopped with their workers (and the webServer's with the run): nothing of this project runs.
    await until('the sandboxes of the run to exit', () => sandboxesOfTheProject().length === 0, 5000);
    for (const { pid } of seen) assert.throws(() => process.kill(pid, 0), /ESRCH/);
    for (const port of Object.values(ports)) {
      await assert.rejects(fetch(`http://127.0.0.1:${port}/`), 'the webServer commands stopped');
    }
  });

test('startSandbox(): trigger makes each of the ten event types, delivered and signed; deliveries, waitForWebhook, replay', async () => {
  const rx = await receiver();
  const sb = await api.startSandbox({ apiKeys: ['sk_test_e2e_tools'] });
  try {
    const made = [];
    for (const type of TYPES) {
      const r = await sb.trigger(type, { cbUrl: rx.url });
      const object = r.charge || r.payout;
      assert.equal(object.object, type.split('.')[0]);
      assert.equal(r.events.at(-1).type, type);
      assert.equal(r.events.at(-1).data.id, object.id);
      made.push(...r.events);
    }
    await until('every delivery', () => rx.hits.length >= made.length);
    for (const h of rx.hits) assert.equal(api.verifyWebhook(h.body, h.signature, 'sk_test_e2e_tools').object, 'event');
    assert.deepEqual(rx.hits.map((h) => JSON.parse(h.body).id).sort(), made.map((e) => e.id).sort(), 'each event once');
    assert.deepEqual([...new Set(rx.hits.map((h) => h.type))].sort(), [...TYPES].sort());

    // A named object moves on: the charge of the first trigger, disputed.
    const charge = made[0].data;
    const dispute = await sb.trigger('charge.dispute.created', { charge });
    assert.deepEqual(dispute.events.map((e) => e.type), ['charge.dispute.created']);
    const waited = await sb.waitForWebhook({ type: 'charge.dispute.created', objectId: charge });
    assert.equal(waited.event.id, dispute.events[0].id);
    assert.equal(waited.attempts[0].statusCode, 200);
    assert.equal(waited.attempts[0].url, rx.url);
    assert.equal(waited.webhook.status, 'succeeded');
    const ofCharge = await sb.deliveries({ objectId: charge.id });
    assert.deepEqual(ofCharge.map((d) => d.event.type), ['charge.succeeded', 'charge.dispute.created'], 'oldest first');
    assert.equal((await sb.deliveries('payout.paid')).length, 1);

    // Replay: the same id, body and signature, once.
    const n = rx.hits.length;
    const first = rx.hits.find((h) => JSON.parse(h.body).id === dispute.events[0].id);
    const replayed = await sb.replay(dispute.events[0].id);
    assert.equal(replayed.attempt.statusCode, 200);
    assert.equal(replayed.attempt.manual, true);
    assert.equal(rx.hits.length, n + 1);
    assert.equal(rx.hits.at(-1).body, first.body);
    assert.equal(rx.hits.at(-1).signature, first.signature);

    // The timeout says what it saw.
    await assert.rejects(sb.waitForWebhook({ type: 'charge.expired', objectId: 'ch_none' }, { timeout: 200 }), (e) => {
      assert.equal(e.name, 'SandboxError');
      assert.match(e.message, /no charge\.expired of ch_none was sent within 200 ms/);
      assert.match(e.message, /No event matches; the account's latest:\n {2}evt_\w+ /);
      return true;
    });
    // A cbUrl the sandbox does not call: the attempt and its reason, in deliveries and in the timeout.
    const qp = new api.QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url });
    const remote = await qp.charges.create({ amount: 10.02, currency: 'USD', externalOrderId: 'remote',
      cbUrl: 'http://shop.example/webhooks', redirectUrl: 'http://shop.example/thanks' });
    assert.equal((await qp.charges.update(remote.id, { status: 'buyerPaid' })).status, 'cancelled', 'a .02 amount is declined');
    await assert.rejects(sb.waitForWebhook({ objectId: remote.id }, { timeout: 500 }), (e) => {
      assert.match(e.message, /charge\.failed \(ch_\w+\) → not sent: 'shop\.example' is not a loopback address/);
      assert.equal(e.seen[0].webhook.status, 'undeliverable');
      return true;
    });

    // Refused: nothing made, nothing sent.
    const before = (await sb.deliveries()).length;
    await assert.rejects(sb.trigger('charge.refunded', { cbUrl: rx.url }), (e) => e.name === 'SandboxError' && e.status === 400 && e.param === 'type');
    await assert.rejects(sb.trigger('charge.succeeded', { charge: 'ch_nope' }), (e) => e.status === 404 && /No such charge: 'ch_nope'/.test(e.message));
    await assert.rejects(sb.trigger('charge.succeeded', { charge: remote.id }), (e) => e.status === 402);
    await assert.rejects(sb.trigger('payout.paid', { cbUrl: 'http://shop.example/hook' }), (e) => e.param === 'cbUrl');
    await assert.rejects(sb.replay('evt_nope'), (e) => e.status === 404);
    await assert.rejects(sb.deliveries({ kind: 'charge' }), TypeError);
    await assert.rejects(sb.waitForWebhook('charge.succeeded', { timeout: -1 }), TypeError);
    assert.equal((await sb.deliveries()).length, before);
  } finally {
    rx.close();
    await sb.stop();
  }
});

test('startSandbox({ webhookDuplicates, webhookReorder, webhookDelay }): deliveries as production may make them', async () => {
  const rx = await receiver();
  const sb = await api.startSandbox({ webhookDuplicates: 2, webhookReorder: true, webhookDelay: 30 });
  try {
    const { events } = await sb.trigger('charge.dispute.closed', { cbUrl: rx.url });
    assert.deepEqual(events.map((e) => e.type), ['charge.succeeded', 'charge.dispute.created', 'charge.dispute.closed']);
    await sleep(300);
    assert.equal(rx.hits.length, 0, 'held 30 s of sandbox time');
    const d = await sb.deliveries({ eventId: events[0].id });
    assert.equal(d[0].webhook.status, 'pending');
    assert.ok(d[0].webhook.nextAttemptAt);
    await sb.advanceClock(31);
    assert.deepEqual(rx.hits.map((h) => h.type),
      ['charge.dispute.closed', 'charge.dispute.closed', 'charge.dispute.created', 'charge.dispute.created', 'charge.succeeded', 'charge.succeeded']);
    for (let i = 0; i < 6; i += 2) assert.deepEqual(rx.hits[i], rx.hits[i + 1], 'a duplicate is the same body and signature');
    const [succeeded] = await sb.deliveries({ eventId: events[0].id });
    assert.deepEqual(succeeded.attempts.map((a) => a.statusCode), [200, 200]);
  } finally {
    rx.close();
    await sb.stop();
  }
  await assert.rejects(api.startSandbox({ webhookDuplicates: 11 }), (e) => e.exitCode === 2 && /--webhook-duplicates must be from 1 to 10/.test(e.message));
  await assert.rejects(api.startSandbox({ webhookDelay: -1 }), (e) => e.exitCode === 2 && /--webhook-delay must be a number of seconds/.test(e.message));
  // A misspelt option is named as it was spelt, with the one meant.
  await assert.rejects(api.startSandbox({ webhookDuplicate: 3 }), (e) => e.exitCode === 2
    && /^qbitpay-sandbox: startSandbox\(\) has no option webhookDuplicate \(did you mean webhookDuplicates\?\)/.test(e.message));
});

test('connectSandbox() and `npx qbitpay-sandbox trigger` on a sandbox started by npx', async () => {
  const rx = await receiver();
  const child = spawn('npx', ['qbitpay-sandbox', '--port', '0', '--api-key', 'sk_test_cli', '--api-key', 'sk_test_cli_2'],
    { cwd: app, env, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  try {
    const url = await new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (l) => resolve(/listening on (\S+)$/.exec(l)[1]));
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const sb = api.connectSandbox({ url, apiKey: 'sk_test_cli' });
    const other = api.connectSandbox({ url, apiKey: 'sk_test_cli_2' });
    assert.equal(sb.url, url);
    assert.equal(sb.dashboardUrl, `${url}/`);
    // The launcher as npx runs it (npx itself once: it costs a second a call).
    const launcher = path.join(app, 'node_modules', '.bin', 'qbitpay-sandbox');
    const cli = (...args) => run(launcher, ['trigger', ...args], { cwd: app, timeout: 30_000 }).then((r) => ({ ...r, status: r.code }));
    const npx = (...args) => run('npx', ['qbitpay-sandbox', 'trigger', ...args], { cwd: app, timeout: 30_000 }).then((r) => ({ ...r, status: r.code }));
    const key = ['--url', url, '--api-key', 'sk_test_cli'];

    const ok = await npx('charge.succeeded', ...key, '--cb-url', rx.url);
    assert.equal(ok.status, 0, ok.stderr);
    const [id] = ok.stdout.trim().split('\n');
    assert.match(id, /^evt_\w{24}$/);
    const { event, attempts } = await sb.waitForWebhook({ eventId: id });
    assert.equal(attempts[0].statusCode, 200);
    assert.equal(api.verifyWebhook(rx.hits[0].body, rx.hits[0].signature, 'sk_test_cli').id, id);
    const again = await cli('charge.dispute.created', ...key, '--charge', event.data.id);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout.trim().split('\n').length, 1);
    const bare = await cli('charge.expired', ...key);
    assert.equal(bare.status, 0, bare.stderr);
    assert.match(bare.stdout, /^evt_\w{24}\n$/);
    assert.match(bare.stderr, /made, not delivered: no --cb-url, and the sandbox has no --webhook-url/);
    const json = await cli('payout.paid', ...key, '--cb-url', rx.url, '--amount', '30', '--json');
    assert.equal(json.status, 0, json.stderr);
    const result = JSON.parse(json.stdout);
    assert.equal(result.payout.status, 'paid');
    assert.equal(result.payout.amount, 30);
    assert.deepEqual(result.events.slice(-3).map((e) => e.type), ['payout.pending', 'payout.inTransition', 'payout.paid']);

    // Refusals: exit 1 with the sandbox's reason, nothing changed; usage errors exit 2.
    const count = (await sb.deliveries()).length;
    const closed = await freePort();
    for (const [args, says] of [
      [['charge.refunded', ...key, '--cb-url', rx.url], /Unknown event type 'charge\.refunded'/],
      [['charge.succeeded', ...key, '--charge', 'ch_nope'], /No such charge: 'ch_nope' \(HTTP 404\)/],
      [['payout.paid', ...key, '--payout', 'po_nope'], /No such payout: 'po_nope'/],
      [['charge.succeeded', ...key, '--charge', event.data.id], /The charge ch_\w+ is dispute: charge\.succeeded needs/],
      [['charge.succeeded', '--url', url, '--api-key', 'sk_wrong', '--cb-url', rx.url], /Invalid API key/],
      [['charge.succeeded', '--url', `http://127.0.0.1:${closed}`, '--api-key', 'k', '--cb-url', rx.url], /cannot reach the sandbox at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/],
    ]) {
      const r = await cli(...args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^qbitpay-sandbox trigger: /);
      assert.match(r.stderr, says);
    }
    for (const [args, says] of [
      [[...key], /which event type\?/],
      [['charge.succeeded', '--api-key', 'k'], /--url is required/],
      [['charge.succeeded', '--url', url], /--api-key is required/],
      [['charge.succeeded', ...key, '--amount', 'ten'], /--amount must be a number/],
      [['charge.succeeded', ...key, '--colour', 'red'], /Unknown option '--colour'/],
      [['charge.succeeded', '--url', 'not-a-url', '--api-key', 'k'], /--url must be/],
    ]) {
      const r = await cli(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, says);
      assert.match(r.stderr, /Usage: qbitpay-sandbox trigger <type>/);
    }
    const help = await cli('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: qbitpay-sandbox trigger <type> --url URL --api-key KEY/);
    assert.equal((await sb.deliveries()).length, count, 'nothing made by the refused triggers');

    // The other control methods; reset() is the key's account only.
    await other.trigger('charge.expired', { cbUrl: rx.url });
    const clock = await sb.advanceClock(60);
    assert.equal(clock.object, 'clock');
    await sb.reset();
    assert.deepEqual(await sb.deliveries(), []);
    assert.equal((await other.deliveries()).length, 1);
    assert.equal((await sb.deliveries()).length, 0);
    assert.throws(() => api.connectSandbox({ url: 'nope', apiKey: 'k' }), TypeError);
    assert.throws(() => api.connectSandbox({ url }), /apiKey/);
    for (const u of ['http://localhost:1', 'http://app.localhost:1', 'http://127.1.2.3:1', 'http://[::1]:1', 'http://2130706433:1']) {
      api.connectSandbox({ url: u, apiKey: 'k' }); // this machine, however spelled
    }
  } finally {
    rx.close();
    try { process.kill(-child.pid, 'SIGTERM'); } catch {}
  }
  await until('the npx sandbox to exit', () => sandboxesOfTheProject().length === 0);
});

test('connectSandbox() and the CLI\'s trigger send the API key to this machine only', async () => {
  // A listener on an address of this machine that is not loopback, when it has one: nothing may reach it.
  const external = Object.values(os.networkInterfaces()).flat().find((i) => i.family === 'IPv4' && !i.internal)?.address;
  const heard = [];
  const trap = http.createServer((req, res) => { heard.push(req.headers.authorization); res.end('{}'); });
  if (external) await new Promise((r) => trap.listen(0, external, r));
  const targets = ['http://192.0.2.1:4010', 'https://sandbox.example.com', 'http://0.0.0.0:4010', 'http://[::ffff:127.0.0.1]:4010',
    'http://127.0.0.1.example.com:4010', ...(external ? [`http://${external}:${trap.address().port}`] : [])];
  try {
    for (const u of targets) {
      assert.throws(() => api.connectSandbox({ url: u, apiKey: 'sk_test_secret' }),
        (e) => e instanceof TypeError && /loopback/.test(e.message) && !e.message.includes('sk_test_secret'), u);
      const t0 = Date.now();
      const r = await run(path.join(app, 'node_modules', '.bin', 'qbitpay-sandbox'),
        ['trigger', 'charge.succeeded', '--url', u, '--api-key', 'sk_test_secret'], { cwd: app, timeout: 30_000 });
      assert.equal(r.code, 2, `${u}: ${r.stderr}`);
      assert.match(r.stderr, /--url must be .*loopback/, u);
      assert.doesNotMatch(r.stderr, /sk_test_secret/);
      assert.ok(Date.now() - t0 < 10_000, `${u}: refused at once, not after a connection attempt`);
    }
    assert.deepEqual(heard, [], 'no request reached the address');
  } finally {
    trap.close();
  }
});

test('a damaged --data file: startSandbox() rejects, naming the file and what to do', async () => {
  const data = path.join(app, 'damaged.db');
  fs.rmSync(data, { force: true });
  const sb = await api.startSandbox({ data });
  const qp = new api.QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url });
  for (let i = 0; i < 40; i++) {
    await qp.charges.create({ amount: 10, currency: 'USD', externalOrderId: `o-${i}`, cbUrl: 'http://127.0.0.1:9/h', redirectUrl: 'http://127.0.0.1:9/r' });
  }
  await sb.stop();
  // Four pages overwritten (SQLite's pages are 4096 bytes here; the first holds the header).
  const fd = fs.openSync(data, 'r+');
  for (let page = 1; page <= 4; page++) fs.writeSync(fd, Buffer.alloc(4096, 0x5a + page), 0, 4096, page * 4096);
  fs.closeSync(fd);
  await assert.rejects(api.startSandbox({ data }), (e) => {
    assert.equal(e.exitCode, 1);
    assert.match(e.message, new RegExp(`^qbitpay-sandbox: --data ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged`));
    assert.match(e.message, /Move it aside .* or put back a copy you trust/s);
    return true;
  });
});

test('types: connectSandbox, trigger, deliveries and waitForWebhook typed by the filter (the client\'s field types), the Playwright and Vitest fixtures (tsc --strict, nodenext)', () => {
  const ts = `import { startSandbox, connectSandbox, SandboxError, type Sandbox, type SandboxControl, type Delivery,
  type SandboxCharge, type SandboxPayout } from 'qbitpay-sandbox';
import type { Charge, Payout } from 'qbitpay';
const sb: Sandbox = await startSandbox({ webhookDuplicates: 2, webhookReorder: true, webhookDelay: 1 });
const c: SandboxControl = connectSandbox({ url: sb.url, apiKey: sb.apiKey });
const t = await c.trigger('charge.dispute.created', { cbUrl: 'http://127.0.0.1:3000/hook' });
const chargeId: string = t.charge.id;
const p = await sb.trigger('payout.paid', { amount: 25 });
const payoutStatus: string = p.payout.status;
const all: Delivery[] = await c.deliveries({ type: 'charge.succeeded', objectId: t.charge });
const { event, attempts } = await c.waitForWebhook('payout.paid', { timeout: 5000 });
const code: number | null = attempts[0].statusCode;
const replayed = await c.replay(event.id);
const kinds: ('charge.failed' | 'payout.failed')[] = ['charge.failed', 'payout.failed'];
for (const kind of kinds) {
  const r = await sb.trigger(kind, { cbUrl: 'http://127.0.0.1:3000/hook' });
  void ('charge' in r ? r.charge.id : r.payout.id);
}
void [chargeId, payoutStatus, all, code, replayed.attempt.latencyMs, SandboxError];
// @ts-expect-error not an event type
void c.trigger('charge.refunded');
// @ts-expect-error a misspelt option
void startSandbox({ webhookDuplicate: 3 });
void startSandbox({ apiKey: 'sk_test_1', apiKeys: ['sk_test_2'] as const, headerTimeout: 5, maxConnections: 64, stderr: 'inherit' });
// @ts-expect-error a charge event names a charge, not a payout
void c.trigger('charge.succeeded', { payout: 'po_1' });

// A filter's type types the events found: a charge's fields as a shop reads them.
const paid = await c.waitForWebhook({ type: 'charge.succeeded', objectId: t.charge });
const orderId: string = paid.event.data.externalOrderId;
const payoutPaid: 'paid' | 'pending' | 'inTransit' | 'failed' | 'cancelled' = event.data.status;
for (const d of await c.deliveries({ objectId: chargeId })) {
  if (d.event.type === 'test') void (d.event.data.message satisfies string);
  else if (d.event.data.object === 'payout') void (d.event.data.externalOrderId satisfies string | null);
  else void (d.event.data.paymentPageUrl satisfies string);
}
// @ts-expect-error the data of a charge event is a charge
const notPayout: SandboxPayout = paid.event.data;
// @ts-expect-error a payout's externalOrderId may be null
const maybe: string = event.data.externalOrderId;
void [orderId, payoutPaid, notPayout, maybe];
// The fields the sandbox's types declare are the client's, typed alike.
type Declared<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const chargeFields: Same<Declared<SandboxCharge>, Pick<Charge, keyof Declared<SandboxCharge>>> = true;
const payoutFields: Same<Declared<SandboxPayout>, Pick<Payout, keyof Declared<SandboxPayout>>> = true;
void [chargeFields, payoutFields];
`;
  const pw = `import { test, expect } from 'qbitpay-sandbox/playwright';
test.use({ sandboxOptions: { autoConfirmAfter: 1 } });
test('t', async ({ page, sandbox }) => {
  await page.goto(sandbox.dashboardUrl);
  const { charge } = await sandbox.trigger('charge.failed', { cbUrl: 'http://127.0.0.1:9/h' });
  expect(charge.status).toBe('cancelled');
});
`;
  const vt = `import { test, expect } from 'qbitpay-sandbox/vitest';
test.override({ sandboxOptions: { chargeTtl: 60 } });
test('t', async ({ sandbox }) => {
  expect((await sandbox.deliveries()).length).toBe(0);
});
`;
  const dir = path.join(app, 'types');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(dir, 'control.ts'), ts);
  fs.writeFileSync(path.join(dir, 'pw.ts'), pw);
  fs.writeFileSync(path.join(dir, 'vt.ts'), vt);
  const r = spawnSync(BIN('tsc'), ['--strict', '--noEmit', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
    '--lib', 'es2022,dom,esnext.disposable', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'),
    'control.ts', 'pw.ts', 'vt.ts'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
