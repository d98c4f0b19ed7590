// `make demo`'s launcher (www/demo.mjs): starts the sandbox and the merchant backend, the
// flow completes (checkout, buyerPaid with the access token, auto-confirm, verified
// webhook), and Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or a
// SIGTERM to the launcher alone leaves no process behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { QbitPay } from 'qbitpay';
import { SANDBOX_BIN } from '../support/sandbox.mjs';
import { ROOT } from './support.mjs';

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code !== 'ESRCH'; }
}
const childrenOf = (pid) => execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
  .split('\n').map((s) => Number(s.trim())).filter(Boolean);

async function launch() {
  const demo = spawn(process.execPath, [path.join(ROOT, 'www', 'demo.mjs')], {
    env: { ...process.env, DEMO_PORT: '0', SANDBOX_PORT: '0', QBITPAY_SANDBOX: SANDBOX_BIN, AUTO_CONFIRM_SECS: '0.3' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, like a terminal's foreground job
  });
  const exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));
  let out = '';
  demo.stderr.on('data', (d) => { out += d; });
  const lines = createInterface({ input: demo.stdout });
  const urls = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 15 s:\n${out}`)), 15_000);
    let sandbox;
    lines.on('line', (l) => {
      out += `${l}\n`;
      const s = /QbitPay sandbox\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(l);
      if (s) sandbox = s[1];
      const m = /Merchant backend\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(l);
      if (m) { clearTimeout(timer); resolve({ shop: m[1], sandbox }); }
    });
    demo.once('exit', (code) => { clearTimeout(timer); reject(new Error(`demo exited (${code}):\n${out}`)); });
  });
  assert.match(out, /Open\s+http:\/\/127\.0\.0\.1:\d+\//);
  return { demo, exited, ...urls, kill: () => { try { process.kill(-demo.pid, 'SIGKILL'); } catch { /* gone */ } } };
}

async function refused(url) {
  try { await fetch(url, { signal: AbortSignal.timeout(2000) }); return false; } catch { return true; }
}

async function stopsCleanly(how) {
  const d = await launch();
  try {
    const kids = childrenOf(d.demo.pid);
    assert.equal(kids.length, 2, 'the sandbox and the shop');
    const config = await (await fetch(`${d.shop}/api/config`)).json();
    assert.equal(config.sandboxUrl, d.sandbox);
    assert.equal(config.sandboxUp, true);

    // The flow works through the demo's wiring: checkout, pay with the access token, verified webhook.
    const events = await fetch(`${d.shop}/api/events`);
    const checkout = await (await fetch(`${d.shop}/api/checkout`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ items: [{ sku: 'cup', qty: 2 }] }),
    })).json();
    assert.equal(checkout.charge.amount, 52);
    const browser = new QbitPay({ accessToken: checkout.accessToken, baseUrl: d.sandbox });
    assert.equal((await browser.charges.update(checkout.charge.id, { status: 'buyerPaid' })).status, 'buyerPaid');
    const reader = events.body.pipeThrough(new TextDecoderStream()).getReader();
    let sse = '';
    const deadline = Date.now() + 10_000;
    while (!/"verified":true[^\n]*"type":"charge\.succeeded"/.test(sse) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      sse += value;
    }
    await reader.cancel();
    assert.match(sse, new RegExp(`"verified":true[^\\n]*"type":"charge\\.succeeded"[^\\n]*"chargeId":"${checkout.charge.id}"`));

    how(d.demo.pid);
    const { code, signal } = await d.exited;
    assert.equal(signal, null);
    assert.equal(code, 0);
    for (const pid of kids) {
      const until = Date.now() + 5000;
      while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(pid), false, `process ${pid} left behind`);
    }
    assert.ok(await refused(d.shop), 'the shop still answers');
    assert.ok(await refused(d.sandbox), 'the sandbox still answers');
  } finally {
    d.kill();
  }
}

test('make demo: Ctrl-C (SIGINT to the process group) stops the sandbox and the shop', { timeout: 30_000 }, () =>
  stopsCleanly((pid) => process.kill(-pid, 'SIGINT')));

test('make demo: SIGTERM to the launcher alone stops both', { timeout: 30_000 }, () =>
  stopsCleanly((pid) => process.kill(pid, 'SIGTERM')));
