// The sandbox's dashboard (GET /) in real Chromium against the real sandbox, all over
// 127.0.0.1: a charge created through the package shows up with its webhook delivery
// (a failed attempt and its next retry), a resend from the page is delivered, advancing the
// clock from the page expires another charge, and a reset empties the account. The page
// never receives the API key and makes no request off the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { QbitPay } from 'qbitpay';
import { startSandbox, startStubServer } from '../support/sandbox.mjs';
import { ROOT, withBrowser } from './support.mjs';

const ARTEFACTS = path.join(ROOT, 'target', 'e2e');
const T = { timeout: 15_000 };

test('dashboard: a charge and its webhook delivery, resend, the clock expires a charge, reset', { timeout: 90_000 }, async () => {
  // The merchant's webhook endpoint: the first delivery fails (500), the rest succeed.
  const hits = [];
  const hook = await startStubServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      hits.push({ signature: req.headers['qbitpay-signature'], event: JSON.parse(body) });
      res.writeHead(hits.length === 1 ? 500 : 200);
      res.end();
    });
  });
  const sb = await startSandbox({ args: ['--webhook-retry-interval', '600'] });
  try {
    const qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url });
    const order = { currency: 'USD', cbUrl: `${hook.url}/hook`, redirectUrl: 'http://127.0.0.1:9/done' };
    const paid = await qp.charges.create({ ...order, amount: 42, externalOrderId: 'dash-paid' });

    await withBrowser(async (browser) => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems = [];
      const bodies = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
      page.on('request', (r) => { if (new URL(r.url()).hostname !== '127.0.0.1') problems.push(`request off the machine: ${r.url()}`); });
      page.on('response', (r) => { if (r.status() !== 304) bodies.push(r.body().then((b) => ({ url: r.url(), b })).catch(() => null)); });

      await page.goto(`${sb.url}/`);
      const row = `#charges tbody tr[data-id="${paid.id}"]`;
      await page.waitForSelector(`${row} .status[data-status="pending"]`, T);
      assert.match(await page.textContent(row), /dash-paid/);
      assert.match(await page.textContent('#account-key'), /…/, 'a hint of the key, not the key');

      // Move it on from the page: confirmed (then closed), charge.succeeded delivered, answered 500.
      await page.click(`${row} button[data-action="confirm"]`);
      await page.waitForSelector(`${row} .status[data-status="closed"]`, T);
      const ev = '#events .event[data-type="charge.succeeded"]';
      const failed = `${ev} .attempts tbody tr[data-status-code="500"]`;
      await page.waitForSelector(failed, T);
      assert.match(await page.textContent(failed), new RegExp(`${hook.url}/hook`));
      assert.match(await page.textContent(failed), /HTTP 500/);
      assert.match(await page.textContent(failed), /\d+(\.\d+)? ms/, 'latency');
      assert.match(await page.textContent(failed), /in (9m|10m)/, 'the next retry, 600 s later');
      assert.equal(await page.getAttribute(`${ev} .delivery`, 'data-status'), 'pending');
      assert.match(await page.textContent('#balance-available'), /41\.58 USDT/);
      assert.equal(hits.length, 1);
      assert.equal(hits[0].event.data.id, paid.id);
      await mkdir(ARTEFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTEFACTS, 'dashboard-delivery.png'), fullPage: true });

      // Resend it from the page: one more attempt, answered 200.
      await page.click(`${ev} button[data-action="resend"]`);
      await page.waitForSelector(`${ev} .attempts tbody tr[data-status-code="200"]`, T);
      await page.waitForSelector(`${ev} .delivery[data-status="succeeded"]`, T);
      assert.equal(hits.length, 2);
      assert.equal(hits[1].event.id, hits[0].event.id, 'the same event again');
      assert.equal(hits[1].event.pendingWebhooks, 1, 'after one failed attempt');
      assert.match(hits[1].signature, /^[0-9A-F]{32}$/);

      // Another charge, expired by advancing the clock from the page (the TTL is 1800 s).
      const later = await qp.charges.create({ ...order, amount: 7, externalOrderId: 'dash-later' });
      const laterRow = `#charges tbody tr[data-id="${later.id}"]`;
      await page.waitForSelector(`${laterRow} .status[data-status="pending"]`, T);
      await page.fill('#advance-seconds', '1801');
      await page.click('#advance-btn');
      await page.waitForSelector(`${laterRow} .status[data-status="cancelled"]`, T);
      await page.waitForSelector('#events .event[data-type="charge.expired"] .attempts tbody tr[data-status-code="200"]', T);
      assert.match(await page.textContent('#clock-offset'), /30m 1s ahead/);
      assert.equal((await qp.charges.retrieve(later.id)).status, 'cancelled');
      const expired = hits.find((h) => h.event.type === 'charge.expired');
      assert.equal(expired.event.data.id, later.id);
      assert.equal(expired.event.createdAt, later.expiresAt, 'dated in sandbox time, when it expired');
      await page.waitForFunction(() => !document.querySelector('#toasts').children.length, null, T);
      await page.screenshot({ path: path.join(ARTEFACTS, 'dashboard-clock.png'), fullPage: true });

      // Reset (two clicks): the account is empty.
      await page.click('#reset-btn');
      await page.click('#reset-btn');
      await page.waitForSelector('#charges-empty:not([hidden])', T);
      await page.waitForSelector('#events-empty:not([hidden])', T);
      assert.equal((await qp.charges.list({ limit: 10 })).data.length, 0);

      const all = (await Promise.all(bodies)).filter(Boolean);
      assert.ok(all.some((r) => r.url.endsWith('/_sandbox/assets/dashboard.js')));
      for (const r of all) assert.ok(!r.b.includes(Buffer.from(sb.apiKey)), `the API key reached the page: ${r.url}`);
      assert.deepEqual(problems, []);
    });
  } finally {
    await sb.stop();
    await hook.stop();
  }
});
