// A string body is read as TextEncoder reads it (a lone surrogate becoming U+FFFD, then asked
// about), whichever way its UTF-16 reaches wasm memory: where the host has
// Buffer.prototype.ucs2Write (Node, Bun, Deno's npm scope) its code units are copied, in
// slices for a long string, and transcoded in wasm; elsewhere (browsers, workerd) TextEncoder
// writes the UTF-8. The cases (string-cases.mjs) get the same verdict either way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { verifyWebhook } from 'qbitpay/webhook';
import { API_KEY, cases, verdicts } from './string-cases.mjs';
import { refSign } from './ref-signer.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const casesUrl = new URL('./string-cases.mjs', import.meta.url).href;

/** The verdicts in a fresh process where `setup` ran before the first verification. */
function verdictsWith(setup) {
  const script = `
import { verifyWebhook } from 'qbitpay/webhook';
import { verdicts } from ${JSON.stringify(casesUrl)};
const calls = { ucs2Write: 0 };
${setup}
const out = verdicts(verifyWebhook);
process.stdout.write(JSON.stringify({ out, calls }));
`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NODE_OPTIONS: '' } }));
}

/** Buffer.prototype.ucs2Write wrapped to count its calls (the count in `calls.ucs2Write`). */
const counting = (then) => `
const original = Buffer.prototype.ucs2Write;
Buffer.prototype.ucs2Write = function (...args) { calls.ucs2Write++; return (${then}).apply(this, args); };`;

const here = verdicts(verifyWebhook);

test('the cases get the verdicts the spec gives them', () => {
  const byName = new Map(here.map(([name, ...v]) => [name, v]));
  const lone = /lone UTF-16 surrogate/;
  for (const [name] of cases()) {
    const [code, detail] = byName.get(name);
    if (name === 'empty string' || /ending \d+ units/.test(name)) {
      assert.equal(code, 'invalid_payload', name);
    } else if (/lone|reversed/.test(name)) {
      // A lone surrogate anywhere in a string body: what JSON.parse returns is not what signs.
      assert.equal(code, 'invalid_payload', name);
      assert.match(detail, lone, name);
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

test('a string body reads the same with ucs2Write as with TextEncoder only', () => {
  const withUcs2 = verdictsWith(counting('original'));
  assert.deepEqual(withUcs2.out, here);
  assert.ok(withUcs2.calls.ucs2Write > 0, "ucs2Write copied the strings");
  // Without it, or where it throws or copies short, TextEncoder reads every string; the host
  // is asked once.
  const without = verdictsWith('delete Buffer.prototype.ucs2Write;');
  assert.deepEqual(without.out, here);
  for (const then of ['function () { throw new TypeError("no"); }', 'function () { return 0; }']) {
    const failing = verdictsWith(counting(then));
    assert.deepEqual(failing.out, here);
    assert.equal(failing.calls.ucs2Write, 1, then);
  }
  const noBuffer = verdictsWith('globalThis.Buffer = undefined;');
  assert.deepEqual(noBuffer.out, here);
});

test('a string over maxBytes in UTF-16 units is refused before it is copied', () => {
  const body = `{"id":"evt_3","type":"t","data":{"s":"${'a'.repeat(5000)}"}}`;
  const original = Buffer.prototype.ucs2Write;
  let calls = 0;
  Buffer.prototype.ucs2Write = function (...args) {
    calls++;
    return original.apply(this, args);
  };
  try {
    assert.throws(() => verifyWebhook(body, refSign(body, API_KEY), API_KEY, { maxBytes: 4000 }), (e) => e.code === 'payload_too_large');
    assert.equal(calls, 0);
    assert.equal(verifyWebhook(body, refSign(body, API_KEY), API_KEY, { maxAgeSeconds: null }).id, 'evt_3');
    assert.equal(calls, 1);
  } finally {
    Buffer.prototype.ucs2Write = original;
  }
});
