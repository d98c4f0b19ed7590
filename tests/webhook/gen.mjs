// Random raw JSON bodies for the differential tests: generated as text (not through
// JSON.stringify) so the formatting, number spellings and escapes vary the way senders,
// proxies and hand-written fixtures vary them. Deterministic for a seed.

/** A small, fast, seedable PRNG (mulberry32). */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (arr) => arr[int(arr.length)];
  const chance = (p) => next() < p;
  return { next, int, pick, chance };
}

export function seedFromEnv(name = 'QBITPAY_SEED') {
  const env = process.env[name];
  return env !== undefined && env !== '' ? Number(env) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

const hex4 = (n, upper) => {
  const s = n.toString(16).padStart(4, '0');
  return upper ? s.toUpperCase() : s;
};

// Numbers as a sender or a proxy might spell them.
const NUMBER_CORNERS = [
  '0', '-0', '0.0', '-0.0', '0e0', '-0E-0', '1', '-1', '1.0', '1.50', '-2.500', '100', '1e2', '1E+2', '1e-2',
  '1e21', '1e20', '123456789012345678901', '1e-7', '5e-7', '0.000001', '0.0000001', '1.5e300', '-1.5e-300',
  '9007199254740991', '9007199254740992', '9007199254740993', '18446744073709551615', '-9223372036854775808',
  '12345678901234567890123', '0.1', '0.2', '0.30000000000000004', '3.141592653589793238462643383279',
  '1.7976931348623157e308', '1.7976931348623158e308', '1.7976931348623159e308', '5e-324', '2e-324', '3e-324',
  '2.2250738585072014e-308', '4.9406564584124654e-324', '1e400', '-1e400', '1E+400', '1e-400', '-1e-400',
  '1e999999', '0.000000000000000000000000000000000000000000001', '123.456e-789', '99999999999999999999e-20',
  '1.00000000000000011102230246251565404236316680908203125', '1.000000000000000111022302462515654042363166809082031250001',
  '9007199254740993.0000000000000000001', '4294967295', '4294967296', '-4294967296', '1000000', '123e+0',
  '0.5e1', '25e-1', '100e-2', '1e0', '7e-10', '12345678.9', '1234567890123456789e-9',
];

// Pieces of string content: [raw JSON text]. Escaped and literal variants of each corner.
const STRING_PIECES = [
  'a', 'b', 'Z', ' ', 'hello', 'charge', 'USD', '0', '42', '-', '/', '\\/', '\\"', '\\\\', '\\b', '\\f', '\\n', '\\r',
  '\\t', '\\u0000', '\\u001f', '\\u001F', '\\u0007', '\\u000b', '\\u007f', '\\u007F', '\x7f', '\\u0020', '\\u0041',
  '\\u00e9', '\\u00E9', 'é', 'ü', '中文', '\\u4e2d', '\u2028', '\u2029', '\\u2028', '\\u2029', '😀', '\\ud83d\\ude00',
  '\\uD83D\\uDE00', '\\uD83D\\ude00', '\\ud800', '\\uDBFF', '\\udc00', '\\uDFFF', '\\ud800a', '\\udc00\\ud800',
  '\\ud800\\ud800', '\\ud83d\\u0041', '\uFF5E', '\\uff5e', '\\ufeff', '\uFEFF', '\\uffff', '\uFFFD', '&', '=',
  '&key=', 'ä\u0301', '\u{10FFFF}', '\\udbff\\udfff', 'https://qbitpay.example/?a=1&b=2#x',
];

const LONE = /\\u[dD][89a-fA-F]|\uFFFD|\\u[fF]{2}[fF][dD]/;
const WELL_FORMED_PIECES = STRING_PIECES.filter((p) => !LONE.test(p) || p === '\\ud83d\\ude00' || p === '\\uD83D\\uDE00' || p === '\\uD83D\\ude00' || p === '\\udbff\\udfff');

const KEY_POOL = [
  'id', 'type', 'object', 'data', 'amount', 'a', 'A', 'b', 'aa', 'a b', '0', '1', '2', '10', '42', '007', '01', '-1',
  '1.5', '1e3', '4294967294', '4294967295', '4294967296', '9007199254740993', '__proto__', 'constructor',
  'toString', '', ' ', 'é', 'e\\u0301', '\uFF5E', '\\uff5e', '😀', '\\ud83d\\ude00', '\\ud800', 'key', 'key=',
  'x&y', '\\u0000', '\\n', 'Z', 'zz',
];

const WELL_FORMED_KEYS = KEY_POOL.filter((k) => !LONE.test(k) || k === '\\ud83d\\ude00');

const EVENT_KEYS = ['id', 'type', 'object', 'createdAt', 'pendingWebhooks', 'livemode', 'data'];

/** `keys`: the pool keys are drawn from (a small pool makes duplicate keys frequent). */
export function makeGenerator(rand, { keys = KEY_POOL, keyChance = 0.75 } = {}) {
  const { int, pick, chance } = rand;
  let ws = () => '';

  function setFormatting() {
    const mode = int(4);
    if (mode === 0) ws = () => '';
    else if (mode === 1) ws = () => (chance(0.5) ? ' ' : '');
    else if (mode === 2) ws = () => pick(['', ' ', '\t', '\n', '\r', '\r\n', '  ', '\n\t', ' \r\n  ']);
    else ws = () => (chance(0.7) ? '' : pick([' ', '\t', '\n', '\r']).repeat(1 + int(3)));
  }

  function number() {
    if (chance(0.45)) return pick(NUMBER_CORNERS);
    let s = chance(0.3) ? '-' : '';
    const intDigits = chance(0.3) ? 1 : 1 + int(chance(0.2) ? 30 : 10);
    s += intDigits === 1 ? String(int(10)) : String(1 + int(9)) + digits(intDigits - 1);
    if (chance(0.4)) s += '.' + digits(1 + int(chance(0.2) ? 25 : 6));
    if (chance(0.25)) {
      s += pick(['e', 'E']) + pick(['', '+', '-']) + String(int(chance(0.1) ? 400 : 30));
    }
    return s;
  }

  function digits(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += String(int(10));
    return s;
  }

  /** `wellFormed`: no lone surrogate and no U+FFFD (which, at the top, read more than one way). */
  function stringContent(maxPieces = 6, wellFormed = false) {
    let s = '';
    const n = int(maxPieces + 1);
    for (let i = 0; i < n; i++) {
      if (chance(0.1)) {
        const c = int(0x20);
        s += '\\u' + hex4(c, chance(0.5));
      } else if (wellFormed) {
        s += pick(WELL_FORMED_PIECES);
      } else if (chance(0.05)) {
        s += '\\u' + hex4(0xd800 + int(0x800), chance(0.5)); // lone surrogate (or accidental pair)
      } else if (chance(0.05)) {
        s += String.fromCodePoint(0x80 + int(0x2000));
      } else {
        s += pick(STRING_PIECES);
      }
    }
    return s;
  }

  const string = () => `"${stringContent()}"`;
  const key = () => `"${chance(keyChance) ? pick(keys) : stringContent(2)}"`;
  // At the top: mostly well-formed (else refused as reading more than one way).
  const clean = () => !chance(0.05);
  const topString = () => `"${stringContent(6, clean())}"`;
  const topKey = () => {
    const wellFormed = clean();
    if (!chance(keyChance)) return `"${stringContent(2, wellFormed)}"`;
    const k = pick(keys);
    return `"${wellFormed && LONE.test(k) && !WELL_FORMED_KEYS.includes(k) ? 'k' : k}"`;
  };

  function value(depth) {
    const r = int(100);
    if (depth > 0 && r < 15) return object(depth - 1);
    if (depth > 0 && r < 27) return array(depth - 1);
    if (r < 55) return number();
    if (r < 85) return string();
    return pick(['true', 'false', 'null']);
  }

  function object(depth) {
    const n = int(chance(0.2) ? 0 : 6) + (chance(0.1) ? 6 : 0);
    if (n === 0) return '{' + ws() + '}';
    const members = [];
    for (let i = 0; i < n; i++) members.push(ws() + key() + ws() + ':' + ws() + value(depth) + ws());
    return '{' + members.join(',') + '}';
  }

  function array(depth) {
    const n = int(chance(0.2) ? 0 : 6);
    if (n === 0) return '[' + ws() + ']';
    const items = [];
    for (let i = 0; i < n; i++) items.push(ws() + value(depth) + ws());
    return '[' + items.join(',') + ']';
  }

  function topValue(depth) {
    const r = int(100);
    if (r < 8) return 'null';
    if (r < 14) return '""';
    if (r < 20) return pick(['1e400', '-1e400', '1e999999', '-0', '0', '-0.0', '1e-400', 'true', 'false']);
    const v = value(depth);
    return v.startsWith('"') ? topString() : v;
  }

  /** A value of the type the API gives the event's member `k` (mostly), or null or "". */
  function eventValue(k, maxDepth) {
    if (chance(0.1)) return pick(['null', '""']);
    if (chance(0.05)) return topValue(0); // any type: refused unless it happens to fit
    if (k === 'data') return object(Math.max(maxDepth - 1, 0));
    if (k === 'pendingWebhooks') return pick(['0', '1', '5', '-0', '1e400']);
    if (k === 'livemode') return pick(['true', 'false']);
    return chance(0.05) ? string() : topString().replaceAll('&', '+'); // '&': refused, now and then
  }

  /** A random event body (raw text). */
  function body() {
    setFormatting();
    const maxDepth = int(9);
    const members = [];
    if (chance(0.6)) {
      for (const k of EVENT_KEYS) {
        if (chance(0.8)) members.push([`"${k}"`, eventValue(k, maxDepth)]);
      }
    }
    const extra = int(8);
    for (let i = 0; i < extra; i++) members.push([topKey(), topValue(maxDepth)]);
    if (chance(0.15) && members.length > 0) members.push([pick(members)[0], topValue(maxDepth)]); // duplicate
    for (let i = members.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [members[i], members[j]] = [members[j], members[i]];
    }
    const inner = members.map(([k, v]) => ws() + k + ws() + ':' + ws() + v + ws()).join(',');
    return ws() + '{' + (inner || ws()) + '}' + ws();
  }

  return { body, value, number, string, key };
}
