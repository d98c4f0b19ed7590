// A string body is read as its UTF-8 (TextEncoder's: a lone surrogate becomes U+FFFD, and the
// string is then asked whether it held one), whatever the string: the cases of
// string-cases.mjs get the verdicts the spec gives them, the well-formed ones the same as
// their bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWebhook } from 'qbitpay/webhook';
import { API_KEY, cases, verdicts } from './string-cases.mjs';
import { refSign } from './ref-signer.mjs';

const here = verdicts(verifyWebhook);

test('the cases get the verdicts the spec gives them', () => {
  const byName = new Map(here.map(([name, ...v]) => [name, v]));
  for (const [name] of cases()) {
    const [code, detail] = byName.get(name);
    if (name === 'empty string' || /ending \d+ units/.test(name)) {
      assert.equal(code, 'invalid_payload', name);
    } else if (/lone|reversed/.test(name)) {
      // A lone surrogate anywhere in a string body: what JSON.parse returns is not what signs.
      assert.equal(code, 'invalid_payload', name);
      assert.match(detail, /lone UTF-16 surrogate/, name);
    } else if (/U\+FFFD.* at the top/.test(name)) {
      assert.equal(code, 'invalid_payload', name);
      assert.match(detail, /U\+FFFD/, name);
    } else if (/over maxBytes|than maxBytes/.test(name)) {
      assert.equal(code, 'payload_too_large', name);
    } else {
      assert.deepEqual([code, detail], ['accepted', true], name);
    }
  }
});

test('a well-formed string body reads as its UTF-8 bytes do', () => {
  const asBytes = verdicts((body, ...rest) => verifyWebhook(Buffer.from(body), ...rest));
  cases().forEach(([name, body], i) => {
    if (!body.isWellFormed()) return;
    assert.deepEqual(asBytes[i].slice(0, 2), here[i].slice(0, 2), name);
  });
});

test('a string over maxBytes in UTF-16 units is refused before it is encoded', () => {
  const body = `{"id":"evt_3","type":"t","data":{"s":"${'a'.repeat(5000)}"}}`;
  const original = TextEncoder.prototype.encodeInto;
  let calls = 0;
  TextEncoder.prototype.encodeInto = function (...args) {
    calls++;
    return original.apply(this, args);
  };
  try {
    assert.throws(() => verifyWebhook(body, refSign(body, API_KEY), API_KEY, { maxBytes: 4000 }), (e) => e.code === 'payload_too_large');
    assert.equal(calls, 0);
    assert.equal(verifyWebhook(body, refSign(body, API_KEY), API_KEY, { maxAgeSeconds: null }).id, 'evt_3');
    assert.equal(calls, 1);
  } finally {
    TextEncoder.prototype.encodeInto = original;
  }
});

test('the size in a payload_too_large message: exact for bytes and for a string read whole, "at least" from a string\'s length', () => {
  const body = `{"id":"evt_4","type":"t","data":{"s":"${'é'.repeat(600)}"}}`;
  const bytes = Buffer.byteLength(body);
  const refuse = (b, maxBytes) => {
    try {
      verifyWebhook(b, refSign(body, API_KEY), API_KEY, { maxBytes });
    } catch (e) {
      assert.equal(e.code, 'payload_too_large');
      return e.message;
    }
    assert.fail('accepted');
  };
  // Over maxBytes in UTF-16 units: refused from the string's length, a lower bound of its size.
  assert.match(refuse(body, body.length - 1), new RegExp(`the body is at least ${body.length} bytes, above maxBytes`));
  // Under it in units, over it in UTF-8: refused once encoded, with the exact size.
  assert.match(refuse(body, bytes - 1), new RegExp(`the body is ${bytes} bytes, above maxBytes`));
  // Bytes: exact from the start.
  assert.match(refuse(new TextEncoder().encode(body), body.length - 1), new RegExp(`the body is ${bytes} bytes, above maxBytes`));
});
