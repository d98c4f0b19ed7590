// Bad input never crashes or hangs: it gets a typed error (or, when JavaScript accepts it,
// the same verdict as the reference signer), quickly, and the verifier keeps working after.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWebhook, signWebhook, QbitPaySignatureError } from 'qbitpay/webhook';
import { VECTOR, refSign, refSigningString, refAmbiguity } from './ref-signer.mjs';
import { prng, makeGenerator, seedFromEnv } from './gen.mjs';

const { apiKey, body, signature } = VECTOR;
const MiB = 1 << 20;

function codeOf(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof QbitPaySignatureError, `a QbitPaySignatureError, got ${e?.name}: ${e?.message}`);
    return e.code;
  }
  return 'accepted';
}

/** What the reference says verifyWebhook(raw, refSign(raw) or `signature`) must answer. */
function expectedVerdict(raw) {
  try {
    refSigningString(raw);
    return refAmbiguity(JSON.parse(raw)) === null ? 'accepted' : 'invalid_payload';
  } catch {
    return 'invalid_payload';
  }
}

/** Sign with the reference when the body is signable, else use the vector's signature. */
function signatureFor(raw) {
  try {
    return refSign(raw, apiKey);
  } catch {
    return signature;
  }
}

function assertStillWorks() {
  assert.equal(verifyWebhook(body, signature, apiKey).id, 'fDOuTy95uSiTi');
  assert.equal(signWebhook(body, apiKey), signature);
}

function timed(fn) {
  const t0 = process.hrtime.bigint();
  const out = fn();
  return [out, Number(process.hrtime.bigint() - t0) / 1e6];
}

function bigEvent(targetBytes) {
  const items = [];
  let size = 0;
  for (let i = 0; size < targetBytes; i++) {
    const item = { id: `li_${i}`, description: `Item ${i} — 😀 "quoted" \\ \u2028`, quantity: i % 7, unitAmount: i * 1.25,
      tags: ['a', 'b', i], meta: { n: -i, big: 1e21 + i, small: 5e-7 * i } };
    items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  return JSON.stringify({ id: 'evt_big', type: 'charge.succeeded', object: 'event', createdAt: '2019-02-25T16:13:12.278Z',
    pendingWebhooks: 1, livemode: false, data: { object: 'charge', amount: 1000, items } });
}

test('a 10 MB body is refused by the default maxBytes, quickly', () => {
  const raw = bigEvent(10 * MiB);
  assert.ok(raw.length >= 10 * MiB);
  const sig = refSign(raw, apiKey);
  for (const input of [raw, Buffer.from(raw)]) {
    const [code, ms] = timed(() => codeOf(() => verifyWebhook(input, sig, apiKey)));
    assert.equal(code, 'payload_too_large');
    assert.ok(ms < 100, `refused in ${ms.toFixed(1)} ms`);
  }
  // A 10 MB string of non-JSON too.
  const [code, ms] = timed(() => codeOf(() => verifyWebhook('x'.repeat(10 * MiB), signature, apiKey)));
  assert.equal(code, 'payload_too_large');
  assert.ok(ms < 100, `refused in ${ms.toFixed(1)} ms`);
  assertStillWorks();
});

test('a 10 MB body with maxBytes raised to 16 MB verifies, or is rejected, correctly', () => {
  const raw = bigEvent(10 * MiB);
  const opts = { maxBytes: 16 * MiB };
  const sig = refSign(raw, apiKey);
  const [event, ms] = timed(() => verifyWebhook(raw, sig, apiKey, opts));
  assert.deepStrictEqual(event, JSON.parse(raw));
  assert.ok(ms < 5000, `10 MB verified in ${ms.toFixed(0)} ms`);
  assert.deepStrictEqual(verifyWebhook(Buffer.from(raw), sig.toLowerCase(), apiKey, opts), event);
  const hmac = refSign(raw, apiKey, 'hmac-sha256');
  assert.equal(verifyWebhook(raw, hmac, apiKey, { ...opts, algorithm: 'hmac-sha256' }).id, 'evt_big');
  assert.equal(signWebhook(raw, apiKey), sig);
  const tampered = raw.replace('"quantity":3', '"quantity":4');
  assert.notEqual(tampered, raw);
  assert.equal(codeOf(() => verifyWebhook(tampered, sig, apiKey, opts)), 'signature_mismatch');
  assert.equal(codeOf(() => verifyWebhook(raw.slice(0, -1), sig, apiKey, opts)), 'invalid_payload');
  assertStillWorks();
});

test('deep nesting: within 1000 levels verified like JavaScript, 100,000 levels refused', () => {
  const arrays = (n) => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`;
  const objects = (n) => `{"a":${'{"b":'.repeat(n)}1${'}'.repeat(n)}}`;
  const mixed = (n) => `{"a":${'[{"b":'.repeat(n / 2)}1${'}]'.repeat(n / 2)}}`;
  for (const make of [arrays, objects, mixed]) {
    for (const n of [10, 500, 998]) {
      const raw = make(n);
      assert.deepStrictEqual(verifyWebhook(raw, refSign(raw, apiKey), apiKey), JSON.parse(raw), `${make.name}(${n})`);
    }
    for (const n of [2000, 100_000]) {
      const raw = make(n);
      const [code, ms] = timed(() => codeOf(() => verifyWebhook(raw, signatureFor(raw), apiKey)));
      assert.equal(code, 'invalid_payload', `${make.name}(${n})`);
      assert.ok(ms < 1000, `${make.name}(${n}) refused in ${ms.toFixed(0)} ms`);
      assert.equal(codeOf(() => signWebhook(raw, apiKey)), 'invalid_payload');
    }
    // Unclosed, at depth.
    const open = make(100_000).slice(0, -50_000);
    assert.equal(codeOf(() => verifyWebhook(open, signature, apiKey)), 'invalid_payload');
  }
  // 100,000 levels of '[' as bytes, and a 1 MiB run of '[' (the default limit).
  assert.equal(codeOf(() => verifyWebhook(Buffer.from('{"a":' + '['.repeat(100_000)), signature, apiKey)), 'invalid_payload');
  assert.equal(codeOf(() => verifyWebhook('['.repeat(MiB), signature, apiKey)), 'invalid_payload');
  assert.match((() => { try { verifyWebhook(arrays(100_000), signature, apiKey); } catch (e) { return e.message; } })(), /deep|nest/);
  assertStillWorks();
});

test('invalid UTF-8 is refused as invalid_payload', () => {
  const good = Buffer.from('{"id":"evt_1","s":"é😀","n":1}');
  const bad = [
    [0xff], [0xfe], [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
    [0xf0, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98],
    [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xf8, 0x88, 0x80, 0x80, 0x80],
  ];
  for (const seq of bad) {
    const inString = Buffer.concat([Buffer.from('{"id":"evt_1","s":"a'), Buffer.from(seq), Buffer.from('b"}')]);
    const inKey = Buffer.concat([Buffer.from('{"k'), Buffer.from(seq), Buffer.from('":1}')]);
    const outside = Buffer.concat([Buffer.from('{"a":1}'), Buffer.from(seq)]);
    const asWhitespace = Buffer.concat([Buffer.from('{'), Buffer.from(seq), Buffer.from('"a":1}')]);
    for (const raw of [inString, inKey, outside, asWhitespace]) {
      const hex = raw.toString('hex');
      assert.equal(codeOf(() => verifyWebhook(raw, signature, apiKey)), 'invalid_payload', hex);
      assert.equal(codeOf(() => verifyWebhook(new Uint8Array(raw), signature.repeat(2), apiKey, { algorithm: 'hmac-sha256' })),
        'invalid_payload', hex);
      assert.equal(codeOf(() => signWebhook(raw, apiKey)), 'invalid_payload', hex);
    }
  }
  // A UTF-8 BOM is not JSON (JSON.parse refuses U+FEFF before the object).
  assert.equal(codeOf(() => verifyWebhook(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), good]), signature, apiKey)), 'invalid_payload');
  assert.equal(codeOf(() => verifyWebhook('\uFEFF' + good.toString(), signature, apiKey)), 'invalid_payload');
  assert.equal(verifyWebhook(good, refSign(good, apiKey), apiKey).s, 'é😀');
  assertStillWorks();
});

test('every truncation of a valid body is invalid_payload (as a string and as bytes)', () => {
  const bodies = [body, '{"s":"é😀\\u00e9\\ud83d\\ude00\\n","n":-1.5e-7,"a":[true,false,null,{}],"o":{"k":[1,2]}}'];
  let checked = 0;
  for (const raw of bodies) {
    const sig = refSign(raw, apiKey);
    for (let i = 0; i < raw.length; i++) {
      assert.equal(codeOf(() => verifyWebhook(raw.slice(0, i), sig, apiKey)), 'invalid_payload', raw.slice(0, i));
      checked++;
    }
    const bytes = Buffer.from(raw);
    for (let i = 0; i < bytes.length; i++) {
      assert.equal(codeOf(() => verifyWebhook(bytes.subarray(0, i), sig, apiKey)), 'invalid_payload', bytes.subarray(0, i).toString('hex'));
      checked++;
    }
    assert.equal(verifyWebhook(raw, sig, apiKey) !== null, true);
  }
  assert.ok(checked > 1000);
  assertStillWorks();
});

test('huge and long numbers are handled the way JavaScript handles them', () => {
  const raws = [
    '{"n":1e999999}', '{"n":-1e999999}', '{"o":{"n":1e999999}}', '{"n":1e-999999}', '{"o":[1e-999999,-1e-999999]}',
    `{"n":${'9'.repeat(400)}}`, `{"o":[${'9'.repeat(400)},-${'1'.repeat(400)}]}`, `{"n":${'1'.repeat(309)}}`,
    `{"n":${'1'.repeat(308)}}`, `{"o":{"n":0.${'0'.repeat(400)}1}}`, `{"n":1${'0'.repeat(400)}e-400}`,
    `{"n":0.${'0'.repeat(330)}1e330}`, `{"n":${'7'.repeat(100_000)}}`, `{"o":[1.${'0'.repeat(100_000)}1]}`,
    `{"o":[${'1'.repeat(50_000)}e-49990]}`, '{"n":1e99999999999999999999999}', '{"n":1e-99999999999999999999999}',
    '{"n":123456789012345678901234567890e-10}', '{"o":[2.4703282292062327e-324,2.4703282292062328e-324]}',
    '{"o":[1.7976931348623158079e308,1.797693134862315808e308]}', '{"o":[9007199254740993,9007199254740995]}',
  ];
  for (const raw of raws) {
    for (const alg of ['md5', 'hmac-sha256']) {
      const sig = refSign(raw, apiKey, alg);
      let event;
      assert.doesNotThrow(() => { event = verifyWebhook(raw, sig, apiKey, { algorithm: alg }); }, raw.slice(0, 80));
      assert.deepStrictEqual(event, JSON.parse(raw));
    }
  }
  // Malformed numbers are JSON errors.
  for (const raw of ['{"n":01}', '{"n":-}', '{"n":1.}', '{"n":.5}', '{"n":+1}', '{"n":1e}', '{"n":1e+}', '{"n":NaN}',
    '{"n":Infinity}', '{"n":-Infinity}', '{"n":0x10}', '{"n":1_000}', '{"n":--1}', '{"n":1.2.3}', '{"n":1e5.5}', '{"n":-01}']) {
    assert.equal(codeOf(() => verifyWebhook(raw, signature, apiKey)), 'invalid_payload', raw);
  }
  assertStillWorks();
});

test('near-JSON: verdict matches JSON.parse', () => {
  const raws = [
    '{"a":1,}', '{,"a":1}', '{"a":1,,"b":2}', '{"a":[1,]}', '{"a":[,1]}', "{'a':1}", '{a:1}', '{"a" 1}', '{"a"::1}',
    '{"a":1 "b":2}', '{"a":tru}', '{"a":True}', '{"a":nul}', '{"a":undefined}', '{"a":"x\\x41"}', '{"a":"\\u12"}',
    '{"a":"\\u12G4"}', '{"a":"\\U0041"}', '{"a":"\\\'"}', '{"a":"\\a"}', '{"a":"tab\there"}', '{"a":"nl\nhere"}',
    '{"a":"\u0000"}', '{"a":"\u001f"}', '{"a":"del\u007fhere"}', '{"a":"\u0080\u009f"}', '{"a":1}//c', '/*c*/{"a":1}',
    '{"a":1}x', '{"a":1}{}', '{"a":1} ', '\u00a0{"a":1}', '\f{"a":1}', '\v{"a":1}', '{"a":1}\u2028', '{"a":\u00a01}',
    '{"a":"unterminated}', '{"a":"\\"}', '{"a":"\\\\"}', '{"a":[}', '{"a":]}', '{"a":{]}', '{"a":[1}]', '{"a"}',
    '{"a":1,"b"}', '{:1}', '{1:1}', '{null:1}', '{"a":1', '{"a":"', '{"a":"\\u', '{"a":"\\ud800', '{"a":[[[', '{"a":{"b":{',
    '{"":""}', '{"a":"\\/"}', '{"a":"\\uDEAD"}', '{"a":-0.0e-0}', '{"a":0e+0}', '{"a":[0,-0,0.0]}', '{"\\u0000":"\\u0000"}',
    '\t\n\r {"a":1}\t\n\r ', '{}', ' {} ', '{"a":{}}', '{"a":[]}',
  ];
  for (const raw of raws) {
    const expected = expectedVerdict(raw);
    const got = codeOf(() => verifyWebhook(raw, signatureFor(raw), apiKey));
    assert.equal(got, expected, JSON.stringify(raw));
  }
  assertStillWorks();
});

test('random byte mutations of valid bodies: verdict matches the reference (byte-level fuzz)', () => {
  const seed = seedFromEnv('QBITPAY_FUZZ_SEED');
  console.log(`# byte fuzz seed: QBITPAY_FUZZ_SEED=${seed}`);
  const rand = prng(seed);
  const gen = makeGenerator(rand);
  const interesting = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x2d, 0x2e, 0x30, 0x31, 0x3a, 0x5b, 0x5c, 0x5d, 0x65,
    0x75, 0x7b, 0x7d, 0x7f, 0x80, 0xbf, 0xc3, 0xe2, 0xed, 0xf0, 0xff];
  const tally = {};
  for (let i = 0; i < 3000; i++) {
    const raw = Buffer.from(gen.body());
    const sig = refSign(raw, apiKey);
    const bytes = Buffer.from(raw);
    const edits = 1 + rand.int(3);
    for (let e = 0; e < edits; e++) {
      const at = rand.int(bytes.length);
      bytes[at] = rand.chance(0.6) ? rand.pick(interesting) : rand.int(256);
    }
    let expected;
    try {
      const signed = refSign(bytes, apiKey) === sig;
      const ambiguous = refAmbiguity(JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)));
      expected = ambiguous !== null ? 'invalid_payload' : signed ? 'accepted' : 'signature_mismatch';
    } catch {
      expected = 'invalid_payload';
    }
    const got = codeOf(() => verifyWebhook(bytes, sig, apiKey));
    assert.equal(got, expected, `seed ${seed} #${i}: ${bytes.toString('hex')}\n(${JSON.stringify(bytes.toString())})`);
    tally[got] = (tally[got] ?? 0) + 1;
  }
  console.log(`# byte fuzz: ${JSON.stringify(tally)}`);
  assertStillWorks();
});

test('a failed verification leaves the verifier working (interleaved)', () => {
  const bad = ['{"a":' + '['.repeat(5000), '{"a":"\\ud800', Buffer.from([0x7b, 0xff, 0x7d]), body.replace('1000', '1001'), 'x'];
  for (let i = 0; i < 500; i++) {
    codeOf(() => verifyWebhook(bad[i % bad.length], signature, apiKey));
    codeOf(() => signWebhook(bad[i % bad.length], apiKey));
    assertStillWorks();
  }
});

// A JS string body can hold a lone surrogate (a real HTTP body, being bytes, cannot). The
// string reaches wasm through TextEncoder, which turns it into U+FFFD, so what is verified is
// not what JSON.parse(rawBody) returns. Expected: such a string is refused (invalid_payload)
// or judged exactly as the reference does; never accepted for a signature over other content.
test('string bodies with literal lone surrogates are not verified as U+FFFD', () => {
  const lone = String.fromCharCode(0xd800);
  const signed = '{"id":"evt_1","o":{"s":"\uFFFD"}}';
  const forged = `{"id":"evt_1","o":{"s":"${lone}"}}`;
  const code = codeOf(() => verifyWebhook(forged, refSign(signed, apiKey), apiKey));
  assert.notEqual(code, 'accepted', 'a signature over U+FFFD accepted a body whose event holds a lone surrogate');
  // Signed by the reference (JSON.stringify escapes the nested lone surrogate as \ud800).
  const verdict = codeOf(() => verifyWebhook(forged, refSign(forged, apiKey), apiKey));
  assert.ok(verdict === 'accepted' || verdict === 'invalid_payload', verdict);
});

// Numbers JavaScript must print (exponents, over 15 digits) are handed to the facade in
// batches; a body made of them must still be judged, and a number literal longer than the
// call stack allows to spread must be a typed outcome, not a RangeError.
test('bodies of many exotic numbers, and one 300,000-digit number, get a typed verdict', () => {
  const many = `{"id":"evt_n","n":[${Array.from({ length: 40_000 }, (_, i) => `${i % 9 + 1}e${i % 30}`).join(',')}]}`;
  assert.deepEqual(verifyWebhook(many, refSign(many, apiKey), apiKey), JSON.parse(many));
  assert.equal(codeOf(() => verifyWebhook(many, refSign(many.replace('1e0', '2e0'), apiKey), apiKey)), 'signature_mismatch');
  const long = `{"id":"evt_l","n":1${'0'.repeat(300_000)}}`;
  assert.deepEqual(verifyWebhook(long, refSign(long, apiKey), apiKey), JSON.parse(long));
  assert.equal(codeOf(() => verifyWebhook(long, 'AB'.repeat(16), apiKey)), 'signature_mismatch');
});
