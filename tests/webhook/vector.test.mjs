// The spec's known-answer vector through every Node entry, and the error classes shared by
// them: an error thrown through one entry is an instance of the classes of every other.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as root from 'qbitpay';
import * as esm from 'qbitpay/webhook';
import { VECTOR, refSign } from './ref-signer.mjs';

const require = createRequire(import.meta.url);
const cjs = require('qbitpay/webhook');
const cjsRoot = require('qbitpay');

const ENTRIES = {
  "import 'qbitpay'": root,
  "import 'qbitpay/webhook'": esm,
  "require('qbitpay/webhook')": cjs,
  "require('qbitpay')": cjsRoot,
};
const { apiKey, body, signature } = VECTOR;

test('the reference signer itself reproduces the vector', () => {
  assert.equal(refSign(body, apiKey), signature);
});

for (const [name, api] of Object.entries(ENTRIES)) {
  test(`known-answer vector via ${name}`, () => {
    assert.equal(typeof api.verifyWebhook, 'function');
    assert.equal(typeof api.signWebhook, 'function');
    assert.equal(api.signWebhook(body, apiKey), signature);
    assert.equal(api.signWebhook(JSON.parse(body), apiKey), signature, 'a parsed event signs the same');
    assert.equal(api.signWebhook(new TextEncoder().encode(body), apiKey), signature);
    assert.deepEqual(api.verifyWebhook(body, signature, apiKey), JSON.parse(body));
    assert.deepEqual(api.verifyWebhook(body, signature.toLowerCase(), apiKey), JSON.parse(body));
    assert.deepEqual(api.verifyWebhook(Buffer.from(body), signature, apiKey), JSON.parse(body));
    const bytes = new TextEncoder().encode(body);
    assert.deepEqual(api.verifyWebhook(bytes.buffer, signature, apiKey), JSON.parse(body));
    assert.deepEqual(api.verifyWebhook(body, ` ${signature}\n`, apiKey), JSON.parse(body),
      'surrounding whitespace in the header value is tolerated');
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    assert.deepEqual(api.verifyWebhook(pretty, signature, apiKey), JSON.parse(body));
    const hmac = api.signWebhook(body, apiKey, { algorithm: 'hmac-sha256' });
    assert.equal(hmac, refSign(body, apiKey, 'hmac-sha256'));
    assert.match(hmac, /^[0-9A-F]{64}$/);
    assert.deepEqual(api.verifyWebhook(body, hmac, apiKey, { algorithm: 'hmac-sha256' }), JSON.parse(body));
  });
}

test('error classes: instanceof holds across every entry', () => {
  for (const [thrower, api] of Object.entries(ENTRIES)) {
    let err;
    try {
      api.verifyWebhook(body.replace('1000', '1001'), signature, apiKey);
    } catch (e) {
      err = e;
    }
    assert.ok(err, `${thrower} threw`);
    assert.equal(err.code, 'signature_mismatch');
    assert.equal(err.name, 'QbitPaySignatureError');
    assert.equal(err.type, 'signature_verification_error');
    assert.ok(err instanceof Error);
    for (const [checker, classes] of Object.entries(ENTRIES)) {
      assert.ok(err instanceof classes.QbitPaySignatureError, `${thrower} error instanceof ${checker}.QbitPaySignatureError`);
      assert.ok(err instanceof classes.QbitPayError, `${thrower} error instanceof ${checker}.QbitPayError`);
      assert.ok(!(err instanceof classes.QbitPayAPIError), `${thrower} error is not ${checker}.QbitPayAPIError`);
    }
  }
  assert.equal(root.QbitPaySignatureError, esm.QbitPaySignatureError);
  assert.equal(cjs.QbitPayError, esm.QbitPayError);
  assert.equal(cjsRoot.QbitPayError, cjs.QbitPayError);
});

test('errors serialise without the API key', () => {
  try {
    esm.verifyWebhook(body, signature, ' T9uTy95uSifOOuTy');
    assert.fail('accepted');
  } catch (e) {
    const json = JSON.stringify(e);
    assert.equal(JSON.parse(json).code, 'signature_mismatch');
    assert.ok(!json.includes('T9uTy95uSifOOuTy'), json);
    assert.ok(!e.message.includes('T9uTy95uSifOOuTy'), e.message);
  }
});
