// Hono from the packed tarball: one app (fixtures/hono/src/app.js, the README's Hono quick
// start) verifying deliveries with verifyWebhookRequest(c.req.raw, key), run
//   - on workerd: bundled by wrangler (`wrangler deploy --dry-run --outdir`, what a deploy
//     uploads) and run by miniflare, no compatibility flags;
//   - on Node: @hono/node-server (fixtures/hono/src/node.js).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { VECTOR, refSign } from '../webhook/ref-signer.mjs';
import { BIN, fixtureApp, packTarball, repoTempDir, runOk, startServer } from './lib.mjs';

const API_KEY = 'whsec_hono_test_key';
let tmp;
let app;
let env;

before(async () => {
  tmp = repoTempDir('hono-');
  env = {
    ...process.env, npm_config_update_notifier: 'false', npm_config_cache: path.join(tmp.dir, 'npm-cache'), NO_COLOR: '1',
    // wrangler: no banner (its update check asks the registry), no metrics, its files in tmp
    WRANGLER_HIDE_BANNER: 'true', WRANGLER_SEND_METRICS: 'false', XDG_CONFIG_HOME: path.join(tmp.dir, 'xdg'),
  };
  app = await fixtureApp('hono', path.join(tmp.dir, 'app'), await packTarball(tmp.dir, env), env);
});

after(() => {
  if (tmp && !process.env.QBITPAY_KEEP_TMP) tmp.remove();
});

const TAMPERED = VECTOR.body.replace('"amount":1000', '"amount":1001');

/** The deliveries every runtime gets; `send(body, signature)` resolves [status, json]. */
async function webhookChecks(send) {
  const signature = refSign(VECTOR.body, API_KEY);
  assert.deepEqual(await send(VECTOR.body, signature), [200, { received: 'fDOuTy95uSiTi' }], 'a signed delivery');
  assert.deepEqual(await send(JSON.stringify(JSON.parse(VECTOR.body), null, 2), signature), [200, { received: 'fDOuTy95uSiTi' }],
    'the same event, pretty-printed');
  assert.deepEqual(await send(TAMPERED, signature), [400, { error: 'signature_mismatch' }], 'a tampered delivery');
  assert.deepEqual(await send(VECTOR.body, refSign(VECTOR.body, 'another key')), [400, { error: 'signature_mismatch' }],
    'signed with another key');
  assert.deepEqual(await send(VECTOR.body), [400, { error: 'missing_signature' }], 'no signature');
}
const init = (body, signature) => ({
  method: 'POST', body, headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'QbitPay-Signature': signature }) },
});

test('Hono on workerd (wrangler bundle, miniflare): verifyWebhookRequest', async () => {
  const outdir = path.join(app, 'dist');
  await runOk(BIN('wrangler'), ['deploy', '--dry-run', '--outdir', outdir], { cwd: app, env, timeoutMs: 120_000 });
  const bundle = fs.readFileSync(path.join(outdir, 'app.js'), 'utf8');
  assert.match(bundle, /^import \w+ from "\.\/\w+-qbitpay_webhook_bg\.wasm";$/m, 'the verifier imported as a wasm module');
  assert.doesNotMatch(bundle, /from\s+"node:/, 'no node: builtins');
  const mf = new Miniflare({
    modules: true, scriptPath: path.join(outdir, 'app.js'), modulesRoot: outdir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-09-01', cf: false, bindings: { QBITPAY_API_KEY: API_KEY },
  });
  try {
    await webhookChecks((body, signature) => mf.dispatchFetch('http://worker.test/webhooks/qbitpay', init(body, signature))
      .then(async (r) => [r.status, await r.json().catch(() => null)]));
  } finally {
    await mf.dispose();
  }
});

test('Hono on Node (@hono/node-server): verifyWebhookRequest', async () => {
  const server = await startServer(process.execPath, ['src/node.js'], {
    cwd: app, env: { ...env, PORT: '0', QBITPAY_API_KEY: API_KEY }, url: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
  try {
    await webhookChecks((body, signature) => fetch(`${server.url}/webhooks/qbitpay`, init(body, signature))
      .then(async (r) => [r.status, await r.json().catch(() => null)]));
    assert.equal(server.output().replace(/^listening on .*\n/, ''), '', 'the server logged nothing');
  } finally {
    await server.stop();
  }
});
