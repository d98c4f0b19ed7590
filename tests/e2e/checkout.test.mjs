// The sample checkout (www/) end to end in real Chromium against the real sandbox and the
// real merchant backend, all over 127.0.0.1: browse, pay on the hosted page, wait for the
// signed webhook to be acknowledged (the sandbox's waitForWebhook) and see it verified and the
// charge closed, page through recent charges with the in-browser client, see a replayed
// delivery acknowledged once, a triggered dispute and a forged webhook rejected; the API key
// never reaches the browser. Also: the sandbox-down and expired-token states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { QbitPay, signWebhook } from 'qbitpay';
import { connectSandbox } from '../../npm/qbitpay-sandbox/index.mjs';
import { startSandbox } from '../support/sandbox.mjs';
import { ROOT, startShop, withBrowser } from './support.mjs';

const ARTEFACTS = path.join(ROOT, 'target', 'e2e');
const T = { timeout: 15_000 };

/** Every response and request the page sees, checked for the API key in any form. */
function watchForKey(page, apiKey) {
  const forms = [apiKey, Buffer.from(`${apiKey}:`).toString('base64'), encodeURIComponent(apiKey)].map((s) => Buffer.from(s));
  const leaks = [];
  const checked = [];
  const pending = [];
  const skipped = [];
  const hasKey = (buf) => forms.some((f) => buf.includes(f));
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.protocol !== 'about:' && u.protocol !== 'data:' && u.hostname !== '127.0.0.1') leaks.push(`request off the machine: ${req.url()}`);
    pending.push(req.allHeaders().then((h) => {
      if (hasKey(Buffer.from(JSON.stringify(h) + req.url() + (req.postData() || '')))) leaks.push(`request carries the key: ${req.method()} ${req.url()}`);
    }).catch(() => {}));
  });
  page.on('response', (res) => {
    const url = res.url();
    pending.push((async () => {
      const headers = await res.allHeaders();
      if (hasKey(Buffer.from(JSON.stringify(headers)))) leaks.push(`response headers carry the key: ${url}`);
      if ((headers['content-type'] || '').startsWith('text/event-stream')) { skipped.push(url); return; } // checked via CDP below
      if (res.status() >= 300 && res.status() < 400) { skipped.push(url); return; }
      const body = await res.body();
      checked.push(url);
      if (hasKey(body)) leaks.push(`response body carries the key: ${url}`);
    })().catch((e) => skipped.push(`${url} (${e.message.split('\n')[0]})`)));
  });
  return {
    leaks, checked, skipped, hasKey,
    settle: async () => { let n; do { n = pending.length; await Promise.all(pending); } while (n !== pending.length); },
  };
}

const idsOn = (page) => page.$$eval('#recent tbody tr', (rows) => rows.map((r) => r.dataset.id));

test('sample checkout: pay on the hosted page, webhook verified, charge closed, paging, forged webhook rejected, no API key in the browser', { timeout: 60_000 }, async () => {
  const sb = await startSandbox({ args: ['--auto-confirm-after', '1', '--webhook-retry-interval', '1'] });
  let shop;
  try {
    // 12 earlier charges for the recent-charges table (pages of 5: 5, 5, 2 before checkout).
    const server = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url });
    for (let i = 0; i < 12; i++) {
      await server.charges.create({ amount: 5 + i, currency: 'USD', externalOrderId: `earlier-${i}`,
        cbUrl: 'http://127.0.0.1:9/unused', redirectUrl: 'http://127.0.0.1:9/unused' });
    }
    const all = (await server.charges.list({ limit: 100 })).data.map((c) => c.id);
    assert.equal(all.length, 12);
    shop = await startShop({ apiKey: sb.apiKey, baseUrl: sb.url });
    const sandbox = connectSandbox({ url: sb.url, apiKey: sb.apiKey });

    await withBrowser(async (browser) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const watch = watchForKey(page, sb.apiKey);
      const problems = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
      // The SSE stream never ends, so its body is read message by message over CDP.
      const sse = [];
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      cdp.on('Network.eventSourceMessageReceived', (e) => sse.push(e.data));

      await page.goto(`${shop.url}/`);
      await page.waitForSelector('#sandbox-state[data-state="up"]', T);
      await page.waitForSelector('#live.on', T);

      // ---- Recent charges, paged by the browser's client -------------------------------
      await page.waitForFunction(() => document.querySelectorAll('#recent tbody tr').length === 5, null, T);
      assert.deepEqual(await idsOn(page), all.slice(0, 5));
      assert.equal(await page.textContent('#page-label'), 'Page 1');
      assert.equal(await page.isDisabled('#prev'), true);
      // Click a paging button, wait for the page label, compare the ids shown.
      const turn = async (button, label, ids) => {
        await page.click(button);
        await page.waitForFunction((l) => document.querySelector('#page-label').textContent === l, label, T);
        assert.deepEqual(await idsOn(page), ids, label);
      };
      await turn('#next', 'Page 2', all.slice(5, 10));
      await turn('#next', 'Page 3', all.slice(10, 12));
      assert.equal(await page.isDisabled('#next'), true, 'a short page is the last one');
      await turn('#prev', 'Page 2', all.slice(5, 10));
      await turn('#prev', 'Page 1', all.slice(0, 5));
      assert.equal(await page.isDisabled('#prev'), true);

      // ---- Cart and checkout -----------------------------------------------------------
      assert.equal(await page.isDisabled('#pay'), true, 'nothing to pay for yet');
      await page.click('.product[data-sku="sencha"] .add');
      await page.click('.product[data-sku="cup"] .add');
      await page.click('.product[data-sku="sencha"] .stepper button[aria-label^="One more"]');
      assert.match(await page.textContent('#cart-total'), /\$55\.00/);
      await page.click('#pay');
      await page.waitForSelector('#pay-modal:not([hidden])', T);
      await page.waitForSelector('#charge:not([hidden])', T);
      assert.match(await page.textContent('#charge-amount'), /\$55\.00/);
      assert.equal(await page.getAttribute('#charge-status', 'data-status'), 'pending');
      assert.match(await page.textContent('#charge-expiry'), /^in \d+:\d\d /);
      const chargeId = await page.textContent('#charge-id');
      const created = await server.charges.retrieve(chargeId);
      assert.equal(created.amount, 55, 'the server priced the cart');
      assert.equal(created.cbUrl, `${shop.url}/webhooks/qbitpay`);
      assert.equal(created.redirectUrl, `${shop.url}/?order=${created.externalOrderId}`);
      assert.equal(await page.textContent('#charge-order'), created.externalOrderId);

      // ---- The hosted payment page (sandbox), in the checkout dialog -------------------
      const frame = page.frameLocator('#pay-frame');
      await frame.locator('#paid').click(T);
      await frame.locator('#status', { hasText: 'buyerPaid' }).waitFor(T);
      await frame.locator('#return').waitFor(T);
      // It sends the payer back to redirectUrl (this page) after 2.5 s: the dialog closes.
      await page.waitForSelector('#pay-modal', { state: 'hidden', timeout: 15_000 });

      // ---- Webhook verified by the shop, status refreshed by the browser client --------
      const delivered = await sandbox.waitForWebhook({ type: 'charge.succeeded', objectId: chargeId }, T);
      assert.deepEqual(delivered.attempts.map((a) => [a.url, a.statusCode]), [[created.cbUrl, 200]], 'acknowledged at once');
      const succeeded = `#timeline li[data-type="charge.succeeded"][data-verified="true"]`;
      await page.waitForSelector(succeeded, T);
      assert.match(await page.textContent(succeeded), /verified/);
      assert.match(await page.textContent(succeeded), new RegExp(`Order ${created.externalOrderId} fulfilled`));
      await page.waitForSelector('#charge-status[data-status="closed"]', T);
      assert.equal(await page.textContent('#charge-status'), 'Complete');
      assert.equal((await server.charges.retrieve(chargeId)).status, 'closed');
      await page.waitForSelector(`#recent tbody tr.current[data-id="${chargeId}"] .status[data-status="closed"]`, T);
      assert.equal(await page.isHidden('#banner-rejected'), true);

      // ---- A forged delivery: rejected (400), shown as rejected ------------------------
      const forged = JSON.stringify({ id: 'evt_forged', type: 'charge.succeeded', object: 'event', createdAt: new Date().toISOString(),
        pendingWebhooks: 0, livemode: false, data: { id: chargeId, object: 'charge', status: 'closed', paid: true, amount: 5500, currency: 'USD' } });
      const r = await fetch(`${shop.url}/webhooks/qbitpay`, {
        method: 'POST', body: forged,
        headers: { 'Content-Type': 'application/json', 'QbitPay-Signature': signWebhook(forged, 'sk_test_somebody_else') },
      });
      assert.equal(r.status, 400);
      assert.equal(await r.text(), 'signature_mismatch');
      const rejected = '#timeline li[data-verified="false"]';
      await page.waitForSelector(rejected, T);
      assert.match(await page.textContent(rejected), /rejected · signature_mismatch/);
      await page.waitForSelector('#banner-rejected:not([hidden])', T);
      assert.equal(await page.locator('#timeline li[data-verified="true"]').count(), 1, 'only the real delivery verified');
      assert.equal(await page.getAttribute('#charge-status', 'data-status'), 'closed');

      // ---- The same delivery again (the sandbox's replay): acknowledged, not applied twice
      const replayed = await sandbox.replay(delivered.event.id);
      assert.equal(replayed.attempt.statusCode, 200);
      await page.waitForSelector(`#timeline li[data-type="charge.succeeded"][data-verified="true"] .tl-note`, T);
      assert.match(await page.textContent('#timeline .tl-note'), /Already processed/);
      assert.equal(await page.locator('#timeline li[data-verified="true"]').count(), 2);

      // ---- A dispute of the paid charge (the sandbox's trigger), delivered and verified
      const { events } = await sandbox.trigger('charge.dispute.created', { charge: chargeId });
      assert.deepEqual(events.map((e) => e.type), ['charge.dispute.created']);
      await sandbox.waitForWebhook({ eventId: events[0].id }, T);
      await page.waitForSelector('#timeline li[data-type="charge.dispute.created"][data-verified="true"]', T);

      await mkdir(ARTEFACTS, { recursive: true });
      assert.equal(await page.textContent('#cart-count'), '0', 'a paid order empties the cart');
      await page.waitForFunction(() => !document.querySelector('#toasts').children.length, null, T);
      await page.waitForTimeout(300); // let the timeline's entry animation finish
      await page.screenshot({ path: path.join(ARTEFACTS, 'checkout.png'), fullPage: true });

      // ---- Nothing the browser received carries the API key ----------------------------
      await context.close();
      await watch.settle();
      assert.deepEqual(watch.leaks, []);
      const seen = (re) => watch.checked.some((u) => re.test(u));
      for (const re of [/\/api\/checkout$/, /\/api\/session$/, /\/api\/config$/, /\/qbitpay\/esm\/index\.browser\.mjs$/,
        /\/qbitpay\/wasm\/qbitpay_client_bg\.wasm$/, /\/api\/v1\/charges\?/, /\/api\/v1\/charges\/ch_/, /\/pay\/ch_/]) {
        assert.ok(seen(re), `no checked response matches ${re} (skipped: ${watch.skipped.join(', ')})`);
      }
      assert.ok(watch.checked.length >= 20, `only ${watch.checked.length} responses checked`);
      assert.ok(sse.length >= 3, 'SSE messages seen');
      assert.ok(!sse.some((m) => watch.hasKey(Buffer.from(m))), 'an SSE message carries the key');
      assert.ok(watch.skipped.every((u) => /\/api\/events/.test(u)), `bodies not checked: ${watch.skipped.join(', ')}`);
      assert.deepEqual(problems, []);
    });
  } finally {
    await shop?.stop();
    await sb.stop();
  }
});

test('sample checkout: an expired access token and a sandbox that is down are shown as such', { timeout: 60_000 }, async () => {
  const sb = await startSandbox({ args: ['--access-token-ttl', '3'] });
  let shop;
  try {
    shop = await startShop({ apiKey: sb.apiKey, baseUrl: sb.url });
    await withBrowser(async (browser) => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${shop.url}/`);
      await page.waitForSelector('#sandbox-state[data-state="up"]', T);
      await page.waitForSelector('#recent-empty:not([hidden])', T);
      assert.equal(await page.isHidden('#banner-down'), true);
      assert.equal(await page.isHidden('#banner-expired'), true);

      // A checkout hands the page a 3-second token; the status poll then meets a 401.
      await page.click('.product[data-sku="kettle"] .add');
      await page.click('#pay');
      await page.waitForSelector('#charge:not([hidden])', T);
      await page.click('#close-modal');
      await page.waitForSelector('#banner-expired:not([hidden])', T);
      assert.equal(await page.isHidden('#banner-down'), true, 'an expired token is not an outage');
      await mkdir(ARTEFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTEFACTS, 'expired-token.png') });
      // A new token: the banner goes and the charge is read again (a new "read at" time).
      const lastRead = await page.textContent('#charge-checked');
      await page.click('#renew-token');
      await page.waitForSelector('#banner-expired', { state: 'hidden', timeout: 2000 });
      await page.waitForFunction((t) => document.querySelector('#charge-checked').textContent !== t, lastRead, { timeout: 2000 });
      assert.equal(await page.isHidden('#banner-expired'), true);

      // The sandbox goes away: the page says so (pushed by the shop, seen by the client).
      await sb.stop();
      await page.waitForSelector('#banner-down:not([hidden])', T);
      await page.waitForSelector('#sandbox-state[data-state="down"]', T);
      assert.equal(await page.textContent('#down-url'), sb.url);
      await page.click('#pay');
      await page.waitForSelector('#pay-error:not([hidden])', T);
      assert.match(await page.textContent('#pay-error'), /could not reach QbitPay/);
      await page.screenshot({ path: path.join(ARTEFACTS, 'sandbox-down.png') });

      // A fresh visit while it is down says so at once.
      await page.reload();
      await page.waitForSelector('#banner-down:not([hidden])', T);
      assert.equal(await page.isHidden('#banner-expired'), true);
    });
  } finally {
    await shop?.stop();
    await sb.stop();
  }
});
