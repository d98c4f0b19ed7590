// Differential test: generated raw bodies, signed by the independent JS reference signer
// (ref-signer.mjs), must be accepted by verifyWebhook, which must return JSON.parse(rawBody),
// unless the reference finds their signing string readable as another event's
// (refAmbiguity): then verifyWebhook and signWebhook refuse them as invalid_payload.
// Mutated bodies are judged by the same oracle: when the mutation changes the signing string
// they must be refused (signature_mismatch), when it does not they must still verify, when
// it breaks the JSON they must be refused as invalid_payload. Every body also goes through
// the parsed-object path (JSON.parse(raw), as express.json() hands it over: the same object
// is returned) and a key list (key rotation: accepted by the signing key at any position).
//
// Reproduce a failure with the seed it prints: QBITPAY_SEED=<seed> node --test tests/webhook/differential.test.mjs
// More bodies: QBITPAY_BODIES=100000.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWebhook, signWebhook, QbitPaySignatureError } from 'qbitpay/webhook';
import { refSign, refSigningString, refDigest, refAmbiguity } from './ref-signer.mjs';
import { prng, makeGenerator, seedFromEnv } from './gen.mjs';

const SEED = seedFromEnv();
const BODIES = Number(process.env.QBITPAY_BODIES ?? 10_000);
const KEYS = ['T9uTy95uSifOOuTy', 'sk_live_ä€😀', 'k', 'a&key=b', 'x'.repeat(100)];
const ALGS = ['md5', 'hmac-sha256'];

console.log(`# differential seed: QBITPAY_SEED=${SEED} (bodies: ${BODIES})`);

function codeOf(fn) {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof QbitPaySignatureError)) throw e;
    return e.code;
  }
  return 'accepted';
}

/** The input shapes verifyWebhook takes, in rotation. */
function asInput(raw, i) {
  switch (i % 4) {
    case 0: return raw;
    case 1: return Buffer.from(raw, 'utf8');
    case 2: return new TextEncoder().encode(raw);
    default: {
      const bytes = new TextEncoder().encode(raw);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    }
  }
}

function context(seed, i, raw, extra = '') {
  return `seed ${seed}, body #${i}${extra}\nraw: ${JSON.stringify(raw)}\nstringA: ${JSON.stringify(safeStringA(raw))}`;
}

function safeStringA(raw) {
  try {
    return refSigningString(raw);
  } catch (e) {
    return `<${e.message}>`;
  }
}

const utf8Equal = (a, b) => Buffer.from(a, 'utf8').equals(Buffer.from(b, 'utf8'));

/**
 * For a body the reference calls ambiguous: refused as invalid_payload raw, parsed, and by
 * signWebhook, whatever the signature. Returns whether it was such a body.
 */
function refusedIfAmbiguous(raw, sig, apiKey, alg, where) {
  const why = refAmbiguity(JSON.parse(raw));
  if (why === null) return false;
  const ctx = `${where} (ambiguous: ${why})`;
  assert.equal(codeOf(() => verifyWebhook(raw, sig, apiKey, { algorithm: alg })), 'invalid_payload', ctx);
  assert.equal(codeOf(() => verifyWebhook(JSON.parse(raw), sig, apiKey, { algorithm: alg })), 'invalid_payload', ctx);
  assert.equal(codeOf(() => signWebhook(raw, apiKey, { algorithm: alg })), 'invalid_payload', ctx);
  return true;
}

/** Change one letter or digit of the body, keeping its class, at a random place. */
function mutate(raw, rand) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const at = rand.int(raw.length);
    const c = raw[at];
    let repl;
    if (c >= '0' && c <= '9') repl = String.fromCharCode(48 + ((c.charCodeAt(0) - 48 + 1 + rand.int(9)) % 10));
    else if (c >= 'a' && c <= 'z') repl = String.fromCharCode(97 + ((c.charCodeAt(0) - 97 + 1 + rand.int(25)) % 26));
    else if (c >= 'A' && c <= 'Z') repl = String.fromCharCode(65 + ((c.charCodeAt(0) - 65 + 1 + rand.int(25)) % 26));
    else continue;
    return raw.slice(0, at) + repl + raw.slice(at + 1);
  }
  return null;
}

test(`${BODIES} generated bodies: reference-signed bodies verify and parse identically`, () => {
  const rand = prng(SEED);
  const gen = makeGenerator(rand);
  const stats = { ambiguous: 0, accepted: 0, parsed: 0, sameAfterMutation: 0, mismatch: 0, invalid: 0, wrongKey: 0, wrongAlg: 0 };
  for (let i = 0; i < BODIES; i++) {
    const raw = gen.body();
    const apiKey = KEYS[i % KEYS.length];
    const alg = ALGS[i % 2];
    const other = ALGS[(i + 1) % 2];
    const stringA = refSigningString(raw);
    const sig = refDigest(stringA, apiKey, alg);
    const opts = alg === 'md5' && i % 4 === 0 ? undefined : { algorithm: alg };
    if (refusedIfAmbiguous(raw, sig, apiKey, alg, context(SEED, i, raw))) {
      stats.ambiguous++;
      continue;
    }

    let event;
    try {
      event = verifyWebhook(asInput(raw, i), rand.chance(0.5) ? sig : sig.toLowerCase(), apiKey, opts);
    } catch (e) {
      assert.fail(`rejected (${e.code}: ${e.message})\n${context(SEED, i, raw)}`);
    }
    assert.deepStrictEqual(event, JSON.parse(raw), context(SEED, i, raw));
    stats.accepted++;

    // The parsed event, as a JSON body parser hands it over, with a key list that holds the
    // signing key somewhere: verified, and returned as the very same object.
    const parsed = JSON.parse(raw);
    const keys = [KEYS[(i + 1) % KEYS.length], KEYS[(i + 2) % KEYS.length]];
    keys.splice(i % 3, 0, apiKey);
    let same;
    try {
      same = verifyWebhook(parsed, sig, keys, { algorithm: alg });
    } catch (e) {
      assert.fail(`parsed object rejected (${e.code}: ${e.message})\n${context(SEED, i, raw)}`);
    }
    assert.equal(same, parsed, context(SEED, i, raw, ' (parsed object returned as is)'));
    assert.equal(signWebhook(parsed, apiKey, { algorithm: alg }), sig, `signWebhook(object) ${alg}: ${context(SEED, i, raw)}`);
    assert.equal(codeOf(() => verifyWebhook(parsed, sig, keys.filter((k) => k !== apiKey).map((k) => k + 'x'), { algorithm: alg })),
      'signature_mismatch', context(SEED, i, raw, ' (parsed object, key list without the key)'));
    stats.parsed++;

    // signWebhook over the raw body agrees with the reference, for both algorithms.
    assert.equal(signWebhook(raw, apiKey, { algorithm: alg }), sig, `signWebhook ${alg}: ${context(SEED, i, raw)}`);
    assert.equal(signWebhook(asInput(raw, i + 1), apiKey, { algorithm: other }), refDigest(stringA, apiKey, other),
      `signWebhook ${other}: ${context(SEED, i, raw)}`);

    // The wrong key.
    assert.equal(codeOf(() => verifyWebhook(raw, sig, apiKey + 'x', { algorithm: alg })), 'signature_mismatch',
      context(SEED, i, raw, ' (wrong key)'));
    stats.wrongKey++;
    // The wrong algorithm: the other digest's length.
    assert.equal(codeOf(() => verifyWebhook(raw, sig, apiKey, { algorithm: other })), 'malformed_signature',
      context(SEED, i, raw, ' (wrong algorithm)'));
    // A signature of the right length for the algorithm but from the other one's key stream.
    const otherKeySig = refDigest(stringA, KEYS[(i + 1) % KEYS.length], alg);
    assert.equal(codeOf(() => verifyWebhook(raw, otherKeySig, apiKey, { algorithm: alg })), 'signature_mismatch',
      context(SEED, i, raw, ' (signature made with another key)'));
    stats.wrongAlg++;

    // One changed letter or digit, judged by the reference.
    const tampered = mutate(raw, rand);
    if (tampered === null) continue;
    let expected;
    try {
      // Compared as the UTF-8 bytes that are hashed: a lone surrogate in a top-level string is
      // written as is by String(v) and hashes as U+FFFD, whichever surrogate it was.
      const same = utf8Equal(refSigningString(tampered), stringA);
      expected = refAmbiguity(JSON.parse(tampered)) !== null ? 'invalid_payload' : same ? 'accepted' : 'signature_mismatch';
    } catch {
      expected = 'invalid_payload';
    }
    const got = codeOf(() => verifyWebhook(asInput(tampered, i), sig, apiKey, { algorithm: alg }));
    assert.equal(got, expected, context(SEED, i, tampered, ` (mutated from ${JSON.stringify(raw)})`));
    if (expected !== 'invalid_payload') {
      // The same verdict for the mutated body parsed first, with a key list.
      assert.equal(codeOf(() => verifyWebhook(JSON.parse(tampered), sig, keys, { algorithm: alg })), expected,
        context(SEED, i, tampered, ` (parsed, mutated from ${JSON.stringify(raw)})`));
    }
    if (expected === 'accepted') stats.sameAfterMutation++;
    else if (expected === 'signature_mismatch') stats.mismatch++;
    else stats.invalid++;
  }
  console.log(`# differential: ${JSON.stringify(stats)}`);
  assert.ok(stats.mismatch > BODIES / 4, 'the mutations mostly changed the signing string');
  assert.ok(stats.ambiguous > 0 && stats.accepted > BODIES / 2, 'mostly signable bodies, some ambiguous ones');
});

test('duplicate-heavy bodies: few keys, integer-like and not, repeated at every level', () => {
  const seed = (SEED ^ 0x5bd1e995) >>> 0;
  const rand = prng(seed);
  const gen = makeGenerator(rand, { keys: ['0', '1', '2', '10', '01', 'a', 'b', '\uff5e', '😀', '__proto__'], keyChance: 0.97 });
  for (let i = 0; i < 3000; i++) {
    const raw = gen.body();
    const alg = ALGS[i % 2];
    const sig = refSign(raw, 'dup', alg);
    if (refusedIfAmbiguous(raw, sig, 'dup', alg, context(seed, i, raw))) continue;
    let event;
    try {
      event = verifyWebhook(raw, sig, 'dup', { algorithm: alg });
    } catch (e) {
      assert.fail(`rejected (${e.code}: ${e.message})\n${context(seed, i, raw)}`);
    }
    assert.deepStrictEqual(event, JSON.parse(raw), context(seed, i, raw));
  }
});

// Hand-picked corners that the generator reaches only by chance, each checked against the
// reference signer and JSON.parse.
const CORNERS = [
  // numbers
  '{"n":1.50,"m":-0,"o":{"a":-0,"b":1.50,"c":[1e21,1e20,5e-7,1E+2,0.000001,1e-7]}}',
  '{"big":9007199254740993,"bigger":123456789012345678901234567890,"mant":0.1000000000000000055511151231257827}',
  '{"inf":1e400,"ninf":-1e400,"nested":{"inf":1e400,"arr":[1e400,-1e999999,1e-400,-1e-400]}}',
  '{"n":1e-400,"m":-1e-400}',
  '{"n":5e-324,"m":2.2250738585072014e-308,"x":1.7976931348623157e308,"y":1.7976931348623159e308}',
  `{"n":${'9'.repeat(400)},"m":${'1'.repeat(308)},"o":[${'1'.repeat(309)}],"p":0.${'0'.repeat(400)}1}`,
  `{"n":1${'0'.repeat(20)},"m":1${'0'.repeat(21)},"o":[1${'0'.repeat(20)},1${'0'.repeat(21)}]}`,
  '{"n":1e0000000000000000000000001,"m":[1e-0000000000000000000000001]}',
  `{"n":[0.${'3'.repeat(1000)},1.${'0'.repeat(1000)}1,${'1'.repeat(1000)}e-990]}`,
  // strings
  '{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t","o":{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t"}}',
  '{"s":"\\u0000\\u0001\\u001f\\u001F\\u007f\u007f\\u0080","o":["\\u0000\\u0001\\u001f\\u007f\u007f"]}',
  '{"s":"\u2028\u2029\\u2028","o":["\u2028\u2029\\u2028"]}',
  '{"s":"é中😀\\u00e9\\u4E2D\\ud83d\\ude00","o":["é中😀\\u00e9\\u4E2D\\uD83D\\uDE00"]}',
  // (lone surrogates and U+FFFD nested only: at the top they read more than one way)
  '{"o":{"s":"\\ud800","t":"\\udfff","u":"a\\ud800b","v":"\\udc00\\ud800","w":"\uFFFD"},"p":["\\ud800","\\uDBFF\\uDBFF","\\udc00\\ud800",{"\\ud800":"\\udfff"}]}',
  '{"o":{"\\ud800":1,"\\udbff":2,"\uE000":3,"\uFFFD":4,"\\uD83D\\uDE00":5}}',
  // keys
  '{"o":{"b":1,"a":2,"10":3,"2":4,"01":5,"-1":6,"4294967294":7,"4294967295":8,"1.5":9,"0":10}}',
  '{"4294967294":1,"4294967295":2,"0":3,"42":4,"01":5,"-1":6,"a":7,"A":8,"_":9,"~":10}',
  '{"\uFF5E":1,"😀":2,"\\uff5e":3,"\\ud83d\\ude00":4,"\uFFFF":5,"\u{10000}":6}',
  '{"a":1,"b":2,"a":3,"o":{"x":1,"y":2,"x":3,"1":4,"0":5,"1":6}}',
  '{"a":1,"a":null,"b":null,"b":2,"c":"","d":"","d":0,"e":false}',
  '{"__proto__":{"x":1},"constructor":1,"toString":"s","o":{"__proto__":[1,2],"__proto__":{"y":2}}}',
  '{"":1,"x":"=","k":"key=x"}',
  '{"a":null,"b":"","c":{"n":null,"s":""},"d":[null,""]}',
  '{}',
  ' \t\r\n{ \t\r\n"a" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \t\r\n} \t\r\n] \t\r\n} \t\r\n',
  // top-level primitives written with String()
  '{"t":true,"f":false,"z":0,"nz":-0,"inf":1e400,"ninf":-1e400,"tiny":1e-400,"big":1e21,"s":"a=b=c\\n"}',
  '{"s":"\\u0000","u":"😀","d":["\\ud800\\ufffd"]}',
];

// Signing strings that read more than one way: refused whatever the signature.
const AMBIGUOUS = [
  '{"=":"&","&key=":"=","k":"&key=x"}',
  '{"s":"a&b=c\\n"}',
  '{"a&b":1}',
  '{"k=v":1}',
  '{"data":"{}"}',
  '{"data":[]}',
  '{"data":1}',
  '{"data":{},"data":"x"}',
  '{"s":"\\ud800","t":"\\udfff","u":"a\\ud800b","v":"\\udc00\\ud800"}',
  '{"t":"\uFFFD"}',
  '{"\\ud800":1,"\\udbff":2,"\uE000":3,"\uFFFD":4,"\\uD83D\\uDE00":5}',
];

test('hand-picked corners agree with the reference', () => {
  for (const raw of AMBIGUOUS) {
    assert.notEqual(refAmbiguity(JSON.parse(raw)), null, raw);
    for (const alg of ALGS) assert.ok(refusedIfAmbiguous(raw, refSign(raw, 'k', alg), 'k', alg, raw));
  }
  // Dropped members (null, "") are not in the signing string: nothing to read two ways.
  for (const raw of ['{"a&b":null,"s":"","data":null}', '{"data":{"s":"a&b=c","k&":1}}']) {
    assert.equal(refAmbiguity(JSON.parse(raw)), null, raw);
    assert.deepStrictEqual(verifyWebhook(raw, refSign(raw, 'k'), 'k'), JSON.parse(raw), raw);
  }
  for (const raw of CORNERS) {
    for (const alg of ALGS) {
      for (const apiKey of KEYS) {
        const sig = refSign(raw, apiKey, alg);
        const event = verifyWebhook(raw, sig, apiKey, { algorithm: alg });
        assert.deepStrictEqual(event, JSON.parse(raw), raw);
        assert.equal(signWebhook(raw, apiKey, { algorithm: alg }), sig, `${alg} ${raw}`);
        // The parsed event signs and verifies by the definition (a top-level 1e400 is
        // Infinity, written "Infinity"), as the reference does over JSON.parse(raw).
        assert.equal(signWebhook(JSON.parse(raw), apiKey, { algorithm: alg }), sig, `event object, ${alg} ${raw}`);
        const parsed = JSON.parse(raw);
        assert.equal(verifyWebhook(parsed, sig, ['other', apiKey], { algorithm: alg }), parsed, `event object, ${alg} ${raw}`);
      }
    }
  }
});

/** A random JavaScript value of the kinds events carry, with the corners of its JSON text. */
function randomValue(rand, depth) {
  const STRINGS = ['', 'a', 'é', '"', '\\', '/', '\n', '\u0001', '\u001f', '\u007f', '\u2028', '😀', '\ud800', '\ufffd', 'abcdefghijklmnop', '山田'];
  const KEYS = ['a', 'b', 'id', '0', '1', '01', '10', '-1', '4294967294', '4294967295', '1.5', 'é', 'key of more than sixteen', '', 'a"b', '\n'];
  const NUMBERS = [0, -0, 1, -1, 1.5, 0.1, 1e21, 1e-7, 123456789012345, 1234567890123456, 2 ** 53 + 2, 5e-324, 0.000001, 19.5, 46.09];
  switch (depth > 5 ? rand.int(3) : rand.int(6)) {
    case 0: return rand.pick(STRINGS) + rand.pick(STRINGS);
    case 1: return rand.pick(NUMBERS) * rand.pick([1, -1]);
    case 2: return rand.pick([true, false, null]);
    case 3: case 4: {
      const o = {};
      for (let i = rand.int(8); i > 0; i--) o[rand.chance(0.4) ? rand.pick(KEYS) : `k${rand.int(20)}`] = randomValue(rand, depth + 1);
      return o;
    }
    default: return Array.from({ length: rand.int(5) }, () => randomValue(rand, depth + 1));
  }
}

test('JSON.stringify bodies (the sender\'s own text), and the same with a repeated key or a space inside data', () => {
  const rand = prng(SEED);
  const count = Math.min(BODIES, 5_000);
  for (let i = 0; i < count; i++) {
    const event = { id: `evt_${i}`, type: 'charge.succeeded', object: 'event', livemode: false, data: { object: randomValue(rand, 0), list: [randomValue(rand, 1)] } };
    const text = JSON.stringify(event);
    const at = text.indexOf('"data":{') + 8;
    const variants = [text, `${text.slice(0, at)}"k":1,"k":[2],${text.slice(at)}`, `${text.slice(0, text.length - 2)} }}`];
    for (const raw of variants) {
      const sig = refSign(raw, 'key');
      assert.deepEqual(verifyWebhook(Buffer.from(raw), sig, 'key'), JSON.parse(raw), context(SEED, i, raw));
    }
  }
});
