// Number corners in depth: random doubles over the whole range (subnormals included),
// spelled the ways a sender could (String(x), toExponential, toPrecision, padded with
// zeros), and the decimal strings that are hardest to round: exact midpoints between two
// adjacent doubles (ties go to even) and a hair above and below them, hundreds of digits
// long. Each is checked at the top level (String(v)) and nested (JSON.stringify) against
// the reference signer. Seeded like the differential test: QBITPAY_SEED=<seed>.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWebhook } from 'qbitpay/webhook';
import { refSigningString, refDigest } from './ref-signer.mjs';
import { prng, seedFromEnv } from './gen.mjs';

const SEED = seedFromEnv();
const DOUBLES = Number(process.env.QBITPAY_DOUBLES ?? 4000);
const KEY = 'numbers-key';
console.log(`# numbers seed: QBITPAY_SEED=${SEED} (doubles: ${DOUBLES})`);

const view = new DataView(new ArrayBuffer(8));

function randomDouble(rand) {
  const r = rand.int(10);
  if (r < 5) {
    // Any finite bit pattern.
    for (;;) {
      view.setUint32(0, rand.int(2 ** 32) >>> 0);
      view.setUint32(4, rand.int(2 ** 32) >>> 0);
      const x = view.getFloat64(0);
      if (Number.isFinite(x)) return x;
    }
  }
  if (r === 5) return (rand.int(2 ** 20) + 1) * 2 ** -1074; // subnormal
  if (r === 6) return (rand.int(2 ** 30) - 2 ** 29) / 10 ** rand.int(12); // short decimals
  if (r === 7) return 10 ** (rand.int(600) - 300) * (1 + rand.int(9)); // around powers of ten
  if (r === 8) return (2 ** 53 + rand.int(2 ** 20)) * 2 ** (rand.int(40) - 20); // around 2^53
  return Number.MAX_VALUE / 2 ** rand.int(4);
}

/** x = mant * 2^exp exactly, for a positive finite x. */
function decompose(x) {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return [mant, -1074];
  mant |= 1n << 52n;
  return [mant, biased - 1075];
}

/** The exact decimal value of m * 2^e as a JSON number "<digits>e<exp>". */
function exactDecimal(m, e) {
  if (e >= 0) return [m << BigInt(e), 0];
  return [m * 5n ** BigInt(-e), e];
}

/** Decimal spellings that sit exactly on, just above and just below the midpoint to the next double. */
function midpoints(x) {
  if (!(x > 0) || x >= Number.MAX_VALUE) return [];
  const [m, e] = decompose(x);
  const [digits, exp10] = exactDecimal(2n * m + 1n, e - 1);
  return [
    `${digits}e${exp10}`,
    `${digits}00000000000000000000001e${exp10 - 23}`,
    `${digits * 10n ** 23n - 1n}e${exp10 - 23}`,
  ];
}

function spellings(x, rand) {
  const out = [String(x)];
  out.push(x.toExponential(rand.int(21)));
  out.push(x.toPrecision(1 + rand.int(100)));
  const s = String(x);
  if (/e/.test(s)) out.push(s.replace('e', rand.pick(['e', 'E'])).replace('e+', rand.pick(['e+', 'e'])));
  else if (s.includes('.')) out.push(s + '0'.repeat(1 + rand.int(30)));
  else out.push(`${s}.${'0'.repeat(1 + rand.int(5))}e${rand.pick(['', '+', '-'])}0`);
  out.push(...midpoints(Math.abs(x)).filter(() => rand.chance(0.5)));
  // JSON has no leading '+', no leading '.', no trailing '.': toExponential/toPrecision never make those.
  return out.map((n) => (x < 0 && !n.startsWith('-') ? `-${n}` : n));
}

test(`${DOUBLES} random doubles in every spelling, top level and nested`, () => {
  const rand = prng(SEED);
  let bodies = 0;
  for (let i = 0; i < DOUBLES; i++) {
    const x = randomDouble(rand);
    for (const num of spellings(x, rand)) {
      const raw = `{"n":${num},"o":{"v":[${num},{"w":${num}}]},"id":"${i}"}`;
      const alg = bodies % 2 ? 'hmac-sha256' : 'md5';
      const sig = refDigest(refSigningString(raw), KEY, alg);
      let event;
      try {
        event = verifyWebhook(raw, sig, KEY, { algorithm: alg });
      } catch (e) {
        assert.fail(`seed ${SEED}, double #${i} (${x}): ${num} → ${e.code}: ${e.message}\nstringA: ${refSigningString(raw)}`);
      }
      assert.ok(Object.is(event.n, JSON.parse(num)));
      bodies++;
    }
  }
  console.log(`# numbers: ${bodies} bodies`);
  // The midpoint spellings do straddle two doubles (the test is only as good as that).
  let straddles = 0;
  for (const x of [1, 0.1, 123.456, 5e-324, 1e300, 2 ** 53, Number.MIN_VALUE * 3]) {
    const [, above, below] = midpoints(x);
    if (JSON.parse(above) !== JSON.parse(below)) straddles++;
  }
  assert.equal(straddles, 7);
});
