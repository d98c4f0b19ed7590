// Nested values that are JSON.stringify text, or nearly: the verifier copies the first kind
// whole after checking it and rewrites the rest, and both must give the reference's signing
// string. Each body below is signed by the reference (ref-signer.mjs) and must verify
// (string and bytes), or be refused exactly when JSON.parse refuses it. Deterministic and
// small: depth around the check's limit, objects around its 64-member scan, keys that share
// a hash (same length, first 16 and last 8 bytes), array-index keys, number and escape
// spellings, whitespace at each place, and single edits of a sender's own text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWebhook } from 'qbitpay/webhook';
import { refSign, refAmbiguity } from './ref-signer.mjs';
import { prng } from './gen.mjs';

const apiKey = 'sk_test_corners';
const wrap = (data) => `{"id":"evt_1","type":"charge.succeeded","data":${data}}`;

/** Verified with the reference's signature exactly when JSON.parse takes it; same event back. */
function agrees(raw) {
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch {
    for (const input of [raw, Buffer.from(raw)]) {
      assert.throws(() => verifyWebhook(input, '0'.repeat(32), apiKey), { code: 'invalid_payload' }, raw);
    }
    return 'invalid';
  }
  if (refAmbiguity(parsed) !== null) return 'ambiguous';
  const sig = refSign(raw, apiKey);
  for (const input of [raw, Buffer.from(raw)]) {
    assert.deepStrictEqual(verifyWebhook(input, sig, apiKey), parsed, raw.length > 400 ? `${raw.slice(0, 400)}…` : raw);
  }
  return 'accepted';
}

function nest(depth, inner, array) {
  let s = inner;
  for (let i = 0; i < depth; i++) s = array ? `[${s}]` : `{"a":${s}}`;
  return s;
}

test('depth around the check\'s limit, with a non-canonical innermost value', () => {
  const inners = ['1', '1.0', '-0', ' 1', '{"b":1,"b":2}', '{"1":1,"0":2}', '"\\u0061"', '{}', '[]', '"\\/"'];
  for (const depth of [30, 31, 32, 33, 34, 64]) {
    for (const array of [true, false]) {
      for (const inner of inners) assert.equal(agrees(wrap(`{"x":${nest(depth, inner, array)}}`)), 'accepted');
    }
  }
});

test('a repeated key around the 64-member scan, written the same way or escaped', () => {
  for (const n of [63, 64, 65, 66, 100]) {
    const members = Array.from({ length: n }, (_, i) => `"k${i}":${i}`);
    for (const late of ['"k0":"L"', '"k5":"L"', `"k${n - 1}":"L"`, '"\\u006b0":"L"', '"0":1', '"__proto__":1']) {
      assert.equal(agrees(wrap(`{${[...members, late].join(',')}}`)), 'accepted');
      assert.equal(agrees(wrap(`{"o":{${[...members, late].join(',')}}}`)), 'accepted');
    }
  }
});

test('keys that share a hash bucket: equal length, first 16 and last 8 bytes', () => {
  const key = (c) => `${'x'.repeat(16)}${c}${'y'.repeat(8)}`;
  const bodies = [
    `{"o":{"${key('a')}":1,"${key('b')}":2,"${key('a')}":3}}`,
    `{"o":{"${key('a')}":1,"${key('b')}":2}}`,
    `{"o":{${Array.from({ length: 70 }, (_, i) => `"${key(String(i).padStart(2, '0'))}":${i}`).join(',')},"${key('05')}":"L"}}`,
  ];
  for (const len of [14, 15, 16, 17]) bodies.push(`{"o":{"${'x'.repeat(len)}":1,"${'x'.repeat(len)}":2}}`);
  for (const k of ['a\\"', 'a\\n', 'a\\\\']) bodies.push(`{"o":{"${k}":1,"b":0,"${k}":2}}`);
  for (const b of bodies) assert.equal(agrees(wrap(b)), 'accepted');
});

test('array-index keys and look-alikes come where JavaScript puts them', () => {
  for (const k of ['0', '01', '00', '9', '10', '-0', '1e3', '1.0', '4294967294', '4294967295', '4294967296', '42949672950']) {
    assert.equal(agrees(wrap(`{"o":{"z":1,"${k}":2,"1":3}}`)), 'accepted');
    assert.equal(agrees(wrap(`{"o":{"${k}":2}}`)), 'accepted');
  }
});

test('number spellings inside arrays and objects', () => {
  const numbers = ['1.0', '1e21', '1E21', '-0', '0.1e1', '9007199254740993', '1e-7', '1e400', '-1e400', '-0.0',
    '0.0000001', '0.000001', '-0.000001', '0.0000010', '123456789012345', '1234567890123456', '12345678901234.5',
    '123456789012345.6', '9.99999999999999', '1.00', '100', '0.10', '-1e-400', '5e-324', '1.5e300', '01', '1.', '-'];
  for (const n of numbers) {
    agrees(wrap(`{"o":[${n}]}`));
    agrees(wrap(`{"o":{"n":${n}}}`));
    agrees(wrap(`{"o":[${n},1]}`));
  }
});

test('escapes and raw characters in nested strings and keys', () => {
  const texts = ['\\/', '\\u00e9', '\\u001f', '\\u001F', '\\ud800', '\\udc00x', '\\ud83d\\ude00', '\u007f', '\\u007f',
    '\u2028', '\\b\\f\\n\\r\\t', '\\"', 'é😀', '\\x', '\\u12'];
  for (const t of texts) {
    agrees(wrap(`{"o":["${t}"]}`));
    agrees(wrap(`{"o":{"${t}":1}}`));
  }
});

test('whitespace at each place inside a nested value, and truncations', () => {
  for (const ws of [' ', '\t', '\r', '\n']) {
    for (const b of [`{"o":[1,${ws}2]}`, `{"o":{"a"${ws}:1}}`, `{"o":{"a":1}${ws}}`, `${ws}{"o":1}`, `{"o":[${ws}]}`, `{"o":{${ws}}}`]) {
      assert.equal(agrees(wrap(b)), 'accepted');
    }
  }
  const full = wrap('{"o":[1,{"b":"c"}],"p":{"q":[true,null]}}');
  for (let cut = 1; cut < full.length; cut++) assert.equal(agrees(full.slice(0, cut)), 'invalid');
});

test('single edits of a sender\'s JSON.stringify text', () => {
  const rand = prng(20261207);
  const edits = [' ', '\t', '"', '\\', ',', ':', '{', '}', '[', ']', '0', '1', '.', 'e', '-', 'u', '/', '\\u0061', '\\/', '"a":1,', '"k0":', '"0":', '1.0'];
  const source = JSON.stringify({
    id: 'evt_1', data: { a: [1, 1.5, 'x', { k0: true, k1: null, '\n': 'é' }], ['__proto__']: [], b: { c: { d: [[], {}] } }, n: 1e21 },
  });
  const counts = { accepted: 0, invalid: 0, ambiguous: 0 };
  for (let i = 0; i < 1500; i++) {
    const at = 20 + rand.int(source.length - 21);
    const edit = rand.pick(edits);
    const raw = [
      source.slice(0, at) + edit + source.slice(at),
      source.slice(0, at) + source.slice(at + 1),
      source.slice(0, at) + edit + source.slice(at + 1),
    ][rand.int(3)];
    counts[agrees(raw)]++;
  }
  assert.ok(counts.accepted > 100, JSON.stringify(counts));
});
