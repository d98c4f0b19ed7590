// Express 5 from the packed tarball: the README's Express quick start (fixtures/express),
// run with plain `node`. One webhook endpoint takes the raw bytes (express.raw()), the other
// the object express.json() parsed; both verify a signed delivery and refuse a tampered one.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { VECTOR, refSign } from '../webhook/ref-signer.mjs';
import { fixtureApp, packTarball, repoTempDir, startServer } from './lib.mjs';

const API_KEY = 'whsec_express_test_key';
let tmp;
let server;

before(async () => {
  tmp = repoTempDir('express-');
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_cache: path.join(tmp.dir, 'npm-cache') };
  const app = await fixtureApp('express', path.join(tmp.dir, 'app'), await packTarball(tmp.dir, env), env);
  server = await startServer(process.execPath, ['server.js'], {
    cwd: app, env: { ...env, PORT: '0', QBITPAY_API_KEY: API_KEY }, url: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
});

after(async () => {
  if (server) await server.stop();
  if (tmp && !process.env.QBITPAY_KEEP_TMP) tmp.remove();
});

const post = (route, body, signature) => fetch(`${server.url}/webhooks/${route}`, {
  method: 'POST', body, headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'QbitPay-Signature': signature }) },
}).then(async (r) => [r.status, await r.json().catch(() => null)]);

// The same event as sent with other whitespace: the signature covers the event, not the layout.
const PRETTY = JSON.stringify(JSON.parse(VECTOR.body), null, 2);
const TAMPERED = VECTOR.body.replace('"amount":1000', '"amount":1001');

function endpointChecks(route) {
  return async () => {
    const signature = refSign(VECTOR.body, API_KEY);
    assert.deepEqual(await post(route, VECTOR.body, signature), [200, { received: 'fDOuTy95uSiTi' }], 'a signed delivery');
    assert.deepEqual(await post(route, PRETTY, signature), [200, { received: 'fDOuTy95uSiTi' }], 'the same event, pretty-printed');
    assert.deepEqual(await post(route, TAMPERED, signature), [400, { error: 'signature_mismatch' }], 'a tampered delivery');
    assert.deepEqual(await post(route, VECTOR.body, refSign(VECTOR.body, 'another key')), [400, { error: 'signature_mismatch' }],
      'signed with another key');
    assert.deepEqual(await post(route, VECTOR.body), [400, { error: 'missing_signature' }], 'no signature');
  };
}

test('Express 5: a webhook endpoint on express.raw()', endpointChecks('qbitpay'));

test('Express 5: a webhook endpoint on express.json() (the parsed event)', endpointChecks('qbitpay-json'));

test('Express 5: the server logged nothing', () => {
  assert.equal(server.output().replace(/^listening on .*\n/, ''), '');
});
