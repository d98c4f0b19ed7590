// What verifyWebhook refuses, with which code, and whether the message helps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWebhook, signWebhook, QbitPaySignatureError } from 'qbitpay/webhook';
import { VECTOR, refSign } from './ref-signer.mjs';

const { apiKey, body, signature } = VECTOR;
const CREATED = Date.parse('2019-02-25T16:13:12.278Z');

function rejection(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof QbitPaySignatureError, `a QbitPaySignatureError, got ${e?.name}: ${e?.message}`);
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.length > 10, e.message);
    return e;
  }
  assert.fail('accepted');
}

test('missing signature', () => {
  for (const sig of [undefined, null, '', '   ', '\t\n', []]) {
    const e = rejection(() => verifyWebhook(body, sig, apiKey));
    assert.equal(e.code, 'missing_signature', String(sig));
    assert.match(e.message, /QbitPay-Signature/);
  }
});

test('a header given as an array (as some frameworks do) is joined and judged', () => {
  assert.equal(rejection(() => verifyWebhook(body, [signature, signature], apiKey)).code, 'malformed_signature');
  assert.deepEqual(verifyWebhook(body, [signature], apiKey), JSON.parse(body));
});

test('malformed signatures', () => {
  const bad = ['xyz', signature.slice(0, 31), signature + '0', signature.slice(0, 31) + 'G', `sha256=${signature}`,
    signature.replace('E', ' '), `0x${signature.slice(2)}`, signature.replace('E', 'é'), 'EE53810FF1341779F2FF25989A67DC\u0000C'];
  for (const sig of bad) {
    const e = rejection(() => verifyWebhook(body, sig, apiKey));
    assert.equal(e.code, 'malformed_signature', JSON.stringify(sig));
    assert.match(e.message, /32 hex/);
  }
  const hmac = refSign(body, apiKey, 'hmac-sha256');
  const e = rejection(() => verifyWebhook(body, hmac, apiKey));
  assert.equal(e.code, 'malformed_signature');
  assert.match(e.message, /hmac-sha256/, 'a 64-hex value under md5 hints at the hmac-sha256 option');
  const back = rejection(() => verifyWebhook(body, signature, apiKey, { algorithm: 'hmac-sha256' }));
  assert.equal(back.code, 'malformed_signature');
  assert.match(back.message, /64 hex/);
  assert.match(back.message, /MD5|md5/);
});

test('signature mismatch: other key, other body, flipped digit', () => {
  const flip = (signature[0] === 'E' ? 'F' : 'E') + signature.slice(1);
  for (const [b, s, k] of [[body, flip, apiKey], [body, signature, 'T9uTy95uSifOOuTz'], [body.replace('"5"', '"6"'), signature, apiKey]]) {
    const e = rejection(() => verifyWebhook(b, s, k));
    assert.equal(e.code, 'signature_mismatch');
    assert.match(e.message, /does not match/);
  }
});

test('a parsed event (express.json(), request.json()) verifies and is returned as is', () => {
  const parsed = JSON.parse(body);
  assert.equal(verifyWebhook(parsed, signature, apiKey), parsed);
  assert.equal(signWebhook(parsed, apiKey), signature);
  // Parsed with a reviver that changed a value: a mismatch, never an accept.
  const revived = JSON.parse(body, (k, v) => (k === 'amount' ? String(v) : v));
  assert.equal(rejection(() => verifyWebhook(revived, signature, apiKey)).code, 'signature_mismatch');
  // Changed after parsing, or holding what JSON.parse never returns (a Date): a mismatch.
  assert.equal(rejection(() => verifyWebhook({ ...parsed, livemode: false }, signature, apiKey)).code, 'signature_mismatch');
  // A Date (a reviver's) is no string: refused, saying so.
  const date = rejection(() => verifyWebhook({ ...parsed, createdAt: new Date(parsed.createdAt) }, signature, apiKey));
  assert.deepEqual([date.code, date.message], ['invalid_payload', 'the event\'s "createdAt" must be a string']);
  const mismatch = rejection(() => verifyWebhook({ ...parsed, id: 'other' }, signature, apiKey));
  assert.match(mismatch.message, /parser returned it/);
  // A top-level 1e400 parses to Infinity and is signed as "Infinity": not accepted for the
  // signature of an event without it.
  const inf = '{"id":"e","n":1e400}';
  assert.deepEqual(verifyWebhook(JSON.parse(inf), refSign(inf, apiKey), apiKey), { id: 'e', n: Infinity });
  assert.equal(rejection(() => verifyWebhook(JSON.parse(inf), refSign('{"id":"e"}', apiKey), apiKey)).code, 'signature_mismatch');
  // Top-level undefined/null/"" members: null and "" are dropped by the definition.
  assert.equal(verifyWebhook({ ...parsed, extra: null, other: '' }, signature, apiKey).id, 'fDOuTy95uSiTi');
});

test('a parsed event JSON cannot carry (a cycle, a BigInt, undefined) is invalid_payload', () => {
  const cyclic = JSON.parse(body);
  cyclic.data.self = cyclic.data;
  const top = JSON.parse(body);
  top.self = top;
  for (const [name, event] of [['cycle', cyclic], ['top-level cycle', top], ['BigInt', { ...JSON.parse(body), amount: 10n }],
    ['nested BigInt', { ...JSON.parse(body), data: { amount: 10n } }], ['undefined', { ...JSON.parse(body), x: undefined }],
    ['function', { ...JSON.parse(body), f() {} }], ['array', [JSON.parse(body)]]]) {
    const e = rejection(() => verifyWebhook(event, signature, apiKey));
    assert.equal(e.code, 'invalid_payload', name);
    assert.throws(() => signWebhook(event, apiKey), (x) => x instanceof QbitPaySignatureError && x.code === 'invalid_payload', name);
  }
  assert.match(rejection(() => verifyWebhook([], signature, apiKey)).message, /object/);
  assert.match(rejection(() => verifyWebhook({ a: 1n }, signature, apiKey)).message, /BigInt/);
  assert.match(rejection(() => verifyWebhook(cyclic, signature, apiKey)).message, /"data" cannot be serialised/);
  for (const other of [undefined, null, 42, true]) {
    const e = rejection(() => verifyWebhook(other, signature, apiKey));
    assert.equal(e.code, 'invalid_payload');
    assert.match(e.message, /raw request body/);
  }
});

test('key rotation: any listed key verifies, none is a mismatch', () => {
  assert.equal(verifyWebhook(body, signature, ['old-key', apiKey]).id, 'fDOuTy95uSiTi');
  assert.equal(verifyWebhook(body, signature, [apiKey, 'new-key']).id, 'fDOuTy95uSiTi');
  assert.equal(verifyWebhook(JSON.parse(body), signature, ['a', 'b', apiKey]).id, 'fDOuTy95uSiTi');
  assert.equal(rejection(() => verifyWebhook(body, signature, ['a', 'b'])).code, 'signature_mismatch');
  assert.match(rejection(() => verifyWebhook(body, signature, ['a', ` ${apiKey}`])).message, /whitespace/);
  for (const keys of [[], [''], [apiKey, ''], [apiKey, 42], [null]]) {
    assert.throws(() => verifyWebhook(body, signature, keys), TypeError, JSON.stringify(keys));
  }
});

test('an API key with whitespace around it is named in the message', () => {
  for (const padded of [` ${apiKey}`, `${apiKey}\n`, `\t${apiKey} `, `${apiKey}\r\n`]) {
    const e = rejection(() => verifyWebhook(body, signature, padded));
    assert.equal(e.code, 'signature_mismatch');
    assert.match(e.message, /whitespace/);
  }
  const plain = rejection(() => verifyWebhook(body, signature, 'wrong-key'));
  assert.doesNotMatch(plain.message, /whitespace/);
});

test('the API key and options are checked as arguments (TypeError)', () => {
  for (const key of [undefined, null, '', 42, {}]) {
    assert.throws(() => verifyWebhook(body, signature, key), TypeError);
    assert.throws(() => signWebhook(body, key), TypeError);
  }
  assert.throws(() => verifyWebhook(body, signature, apiKey, { algorithm: 'sha1' }), TypeError);
  assert.throws(() => verifyWebhook(body, signature, apiKey, { algorithm: 'MD5' }), TypeError);
  assert.throws(() => verifyWebhook(body, signature, apiKey, { algorithm: 'toString' }), TypeError);
  assert.throws(() => verifyWebhook(body, signature, apiKey, { maxBytes: 0 }), TypeError);
  assert.throws(() => verifyWebhook(body, signature, apiKey, { maxBytes: -1 }), TypeError);
  assert.throws(() => verifyWebhook(body, signature, apiKey, { maxBytes: 1.5 }), TypeError);
  assert.throws(() => verifyWebhook(body, signature, apiKey, { maxAgeSeconds: -1 }), TypeError);
  assert.throws(() => verifyWebhook(body, signature, apiKey, { maxAgeSeconds: NaN }), TypeError);
  assert.throws(() => verifyWebhook(body, signature, apiKey, { now: 'yesterday' }), TypeError);
  assert.throws(() => verifyWebhook(body, signature, apiKey, { now: new Date(NaN) }), TypeError);
  assert.throws(() => verifyWebhook(body, 42, apiKey), TypeError);
});

test('maxAgeSeconds judged against now', () => {
  const at = (ms, maxAgeSeconds = 300) => verifyWebhook(body, signature, apiKey, { maxAgeSeconds, now: ms });
  assert.equal(at(CREATED).id, 'fDOuTy95uSiTi');
  assert.equal(at(CREATED + 299_000).id, 'fDOuTy95uSiTi');
  assert.equal(at(CREATED + 300_000).id, 'fDOuTy95uSiTi', 'exactly maxAgeSeconds old is accepted');
  assert.equal(at(new Date(CREATED + 10_000)).id, 'fDOuTy95uSiTi', 'now as a Date');
  const old = rejection(() => at(CREATED + 301_000));
  assert.equal(old.code, 'event_too_old');
  assert.match(old.message, /301 s/);
  assert.match(old.message, /maxAgeSeconds \(300\)/);
  const future = rejection(() => at(CREATED - 3_600_000));
  assert.equal(future.code, 'event_too_old');
  assert.match(future.message, /future/);
  assert.equal(rejection(() => at(Date.now())).code, 'event_too_old', 'now defaults to the clock');
  assert.equal(verifyWebhook(body, signature, apiKey, { now: CREATED + 1e12 }).id, 'fDOuTy95uSiTi', 'off by default');
  assert.equal(rejection(() => at(CREATED + 1_000, 0)).code, 'event_too_old');
  assert.equal(at(CREATED, 0).id, 'fDOuTy95uSiTi');
  // The signature is checked first: a stale forgery is a mismatch, not "too old".
  assert.equal(rejection(() => verifyWebhook(body, signature, 'x', { maxAgeSeconds: 1, now: CREATED + 1e9 })).code,
    'signature_mismatch');
  // Without a usable createdAt, maxAgeSeconds cannot be honoured.
  for (const raw of ['{"id":"e"}', '{"id":"e","createdAt":"yesterday"}', '{"id":"e","createdAt":""}',
    '{"id":"e","createdAt":null}', '{"id":"e","createdAt":{"at":1}}', '{"id":"e","createdAt":"2019-13-45T99:99:99Z"}']) {
    const e = rejection(() => verifyWebhook(raw, refSign(raw, apiKey), apiKey, { maxAgeSeconds: 60, now: CREATED }));
    assert.equal(e.code, 'invalid_payload', raw);
    assert.match(e.message, /createdAt/);
  }
  // A createdAt that is not a string is refused, whatever the window: the API sends a string.
  const numeric = `{"id":"e","createdAt":${CREATED}}`;
  assert.match(rejection(() => verifyWebhook(numeric, refSign(numeric, apiKey), apiKey)).message,
    /^the event's "createdAt" must be a string$/);
  // A createdAt in milliseconds as digits is honoured.
  for (const raw of [`{"id":"e","createdAt":"${CREATED}"}`,
    '{"id":"e","createdAt":"2019-02-25T17:13:12.278+01:00"}']) {
    const sig = refSign(raw, apiKey);
    assert.equal(verifyWebhook(raw, sig, apiKey, { maxAgeSeconds: 60, now: CREATED + 59_000 }).id, 'e', raw);
    assert.equal(rejection(() => verifyWebhook(raw, sig, apiKey, { maxAgeSeconds: 60, now: CREATED + 61_000 })).code,
      'event_too_old', raw);
  }
});

test('maxBytes', () => {
  const size = Buffer.byteLength(body);
  assert.equal(verifyWebhook(body, signature, apiKey, { maxBytes: size }).id, 'fDOuTy95uSiTi');
  for (const input of [body, Buffer.from(body)]) {
    const e = rejection(() => verifyWebhook(input, signature, apiKey, { maxBytes: size - 1 }));
    assert.equal(e.code, 'payload_too_large');
    assert.match(e.message, new RegExp(`maxBytes \\(${size - 1}\\)`));
  }
  // A string under maxBytes in UTF-16 units but above it in UTF-8 bytes.
  const wide = `{"s":"${'é'.repeat(600)}"}`;
  assert.ok(wide.length <= 1000 && Buffer.byteLength(wide) > 1000);
  const e = rejection(() => verifyWebhook(wide, refSign(wide, apiKey), apiKey, { maxBytes: 1000 }));
  assert.equal(e.code, 'payload_too_large');
  assert.equal(verifyWebhook(wide, refSign(wide, apiKey), apiKey, { maxBytes: 2000 }).s.length, 600);
});

test('invalid payloads: not JSON, not an object', () => {
  for (const raw of ['', ' ', 'null', 'true', '42', '"event"', '[]', '[{"id":1}]', '{', '{"a":1', '{"a":1}}', 'id=1&type=x']) {
    const e = rejection(() => verifyWebhook(raw, signature, apiKey));
    assert.equal(e.code, 'invalid_payload', JSON.stringify(raw));
  }
  assert.match(rejection(() => verifyWebhook('[]', signature, apiKey)).message, /object/);
  assert.match(rejection(() => verifyWebhook('{"a":1', signature, apiKey)).message, /not complete JSON/);
});

test('signWebhook refuses what cannot be an event', () => {
  for (const raw of ['', '[]', '{', 'null']) {
    assert.throws(() => signWebhook(raw, apiKey), (e) => e instanceof QbitPaySignatureError && e.code === 'invalid_payload');
  }
  assert.throws(() => signWebhook(undefined, apiKey), (e) => e instanceof QbitPaySignatureError && e.code === 'invalid_payload');
  assert.throws(() => signWebhook(body, apiKey, { algorithm: 'sha1' }), TypeError);
});
