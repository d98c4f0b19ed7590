// Next.js 16 from the packed tarball, without any config or plugin: `next build`, then
// `next start`, once with Turbopack (the default) and once with webpack (`--webpack`).
// One App Router app (fixtures/next, the README's Next.js quick start) holds every case:
//   app/api/webhooks/node/route.js   a Node-runtime route handler verifying deliveries
//   app/api/webhooks/edge/route.js   the same on the Edge runtime
//   app/api/webhooks/handler/route.js createWebhookHandler's fetch face (effects: lib/orders.js)
//   app/api/charges/route.js         creates a charge (POST) and lists charges (GET)
//   app/api/edge/charges/route.js    lists charges on the Edge runtime
//   app/charges/[id]/page.js         a Server Component rendering a charge it retrieved
// against the sandbox on 127.0.0.1 (one API key per bundler, which also signs deliveries).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startSandbox } from '../support/sandbox.mjs';
import { VECTOR, refSign } from '../webhook/ref-signer.mjs';
import { BIN, fixtureApp, packTarball, repoTempDir, runOk, startServer } from './lib.mjs';

const BUNDLERS = ['turbopack', 'webpack'];
let tmp;
let tarball;
let sb;
let env;

before(async () => {
  tmp = repoTempDir('next-');
  env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', npm_config_update_notifier: 'false',
    npm_config_cache: path.join(tmp.dir, 'npm-cache'), NO_COLOR: '1' };
  [tarball, sb] = await Promise.all([packTarball(tmp.dir, env),
    startSandbox({ apiKeys: BUNDLERS.map((b) => `sk_test_next_${b}_${Math.random().toString(36).slice(2, 10)}`) })]);
});

after(async () => {
  if (sb) await sb.stop();
  if (tmp && !process.env.QBITPAY_KEEP_TMP) tmp.remove();
});

for (const bundler of BUNDLERS) {
  test(`Next.js 16 (${bundler}): next build, next start: webhooks on Node and Edge, the client in a route and a Server Component`,
    { timeout: 300_000 }, async () => {
      const apiKey = sb.apiKeys[BUNDLERS.indexOf(bundler)];
      const app = await fixtureApp('next', path.join(tmp.dir, bundler), tarball, env);
      const built = await runOk(BIN('next'), ['build', ...(bundler === 'webpack' ? ['--webpack'] : [])],
        { cwd: app, env, timeoutMs: 240_000 });
      assert.match(built.stdout, bundler === 'webpack' ? /Next\.js 16\.\S+ \(webpack\)/ : /Next\.js 16\.\S+ \(Turbopack\)/);
      const edge = JSON.parse(fs.readFileSync(path.join(app, '.next', 'server', 'middleware-manifest.json'), 'utf8')).functions;
      assert.deepEqual(Object.keys(edge).sort(), ['/api/edge/charges/route', '/api/webhooks/edge/route'], 'the Edge routes are Edge functions');
      // The Edge runtime compiles no wasm from bytes: each module is a binding of the function.
      assert.equal(edge['/api/webhooks/edge/route'].wasm.length, 1, 'one wasm binding (the verifier)');
      // The client's, and the verifier's it re-exports unless the bundler leaves it out as
      // unused (Turbopack does: "sideEffects": false).
      assert.ok([1, 2].includes(edge['/api/edge/charges/route'].wasm.length), 'the client as a wasm binding');

      const ordersLog = path.join(tmp.dir, `${bundler}-orders.log`);
      fs.writeFileSync(ordersLog, '');
      const server = await startServer(BIN('next'), ['start', '-H', '127.0.0.1', '-p', '0'], {
        cwd: app, env: { ...env, QBITPAY_API_KEY: apiKey, QBITPAY_BASE_URL: sb.url, ORDERS_LOG: ordersLog },
        url: /Local:\s+(http:\/\/127\.0\.0\.1:\d+)/,
      });
      try {
        const signature = refSign(VECTOR.body, apiKey);
        const deliver = (route, body, sig) => fetch(`${server.url}/api/webhooks/${route}`, {
          method: 'POST', body, headers: { 'content-type': 'application/json', ...(sig === undefined ? {} : { 'QbitPay-Signature': sig }) },
        }).then(async (r) => [r.status, await r.json().catch(() => null)]);
        for (const route of ['node', 'edge']) {
          assert.deepEqual(await deliver(route, VECTOR.body, signature), [200, { received: 'fDOuTy95uSiTi' }], `${route}: a signed delivery`);
          assert.deepEqual(await deliver(route, VECTOR.body.replace('"amount":1000', '"amount":1001'), signature),
            [400, { error: 'signature_mismatch' }], `${route}: a tampered delivery`);
          assert.deepEqual(await deliver(route, VECTOR.body), [400, { error: 'missing_signature' }], `${route}: no signature`);
          assert.deepEqual(await deliver(route, VECTOR.body, refSign(VECTOR.body, 'another key')),
            [400, { error: 'signature_mismatch' }], `${route}: signed with another key`);
        }

        // createWebhookHandler in a route handler: 20 identical deliveries at once run the effect once.
        const { webhookDelivery } = createRequire(path.join(app, 'package.json'))('qbitpay/webhook/testing');
        const d = webhookDelivery('charge.succeeded', { apiKey, data: { externalOrderId: `next-${bundler}-paid` } });
        const results = await Promise.all(Array.from({ length: 20 }, () => deliver('handler', d.body, d.signature)));
        const processed = results.filter(([status, answer]) => status === 200 && answer.outcome === 'processed');
        assert.equal(processed.length, 1, JSON.stringify(results));
        assert.ok(results.every(([status, answer]) => (status === 200 && /processed|duplicate/.test(answer.outcome)) || status === 409));
        assert.deepEqual(await deliver('handler', d.body, d.signature), [200, { outcome: 'duplicate' }]);
        assert.deepEqual(await deliver('handler', d.body.replace('-paid', '-forged'), d.signature),
          [400, { outcome: 'rejected', code: 'signature_mismatch' }]);
        assert.deepEqual(fs.readFileSync(ordersLog, 'utf8'), `paid next-${bundler}-paid ${d.event.id}\n`, 'the effect ran once');

        // The client in a Node route handler: three charges created, then listed (two a page).
        const created = [];
        for (let i = 0; i < 3; i++) {
          const r = await fetch(`${server.url}/api/charges`, {
            method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ amount: 30 + i, currency: 'USD', externalOrderId: `next-${bundler}-${i}`,
              cbUrl: 'http://127.0.0.1:9/cb', redirectUrl: 'https://shop.example/thanks' }),
          });
          const text = await r.text();
          assert.equal(r.status, 200, text);
          const charge = JSON.parse(text);
          assert.equal(charge.amount, 30 + i);
          created.push(charge.id);
        }
        const listed = await fetch(`${server.url}/api/charges`);
        assert.equal(listed.status, 200);
        assert.deepEqual((await listed.json()).ids, [...created].reverse(), 'every charge, newest first');
        const onEdge = await fetch(`${server.url}/api/edge/charges`);
        assert.equal(onEdge.status, 200);
        assert.deepEqual((await onEdge.json()).ids, [...created].reverse(), 'the same list from an Edge route handler');

        // A Server Component reads a charge with the client and renders it.
        const page = await fetch(`${server.url}/charges/${created[1]}`);
        const html = (await page.text()).replaceAll('<!-- -->', '');
        assert.equal(page.status, 200, html);
        assert.match(html, new RegExp(`<h1>Charge ${created[1]}</h1>`));
        assert.match(html, /<p id="amount">31 USD<\/p>/);
        assert.match(html, /<p id="status">pending<\/p>/);
        assert.doesNotMatch(server.output(), /⨯|Error:/, 'next start logged no error');
      } finally {
        await server.stop();
      }
    });
}
