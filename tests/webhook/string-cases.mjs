// String bodies whose UTF-16 is awkward to turn into UTF-8: lone surrogates where the body
// starts, ends and in between, surrogate pairs across every power-of-two offset from 1 Ki to
// 64 Ki code units (wherever a copy in pieces would cut), U+FFFD written as is, characters of
// every UTF-8 length, bodies exactly at maxBytes (judged by string-body.test.mjs).

import { refSign } from './ref-signer.mjs';

export const API_KEY = 'T9uTy95uSifOOuTy';

const HI = '\uD83D';
const LO = '\uDE00';
const PAIR = HI + LO; // U+1F600

/** An event whose `data.s` (nested) and `note` (top level) hold `nested` and `top`. */
const event = (nested, top = 'x') => `{"id":"evt_1","type":"charge.succeeded","data":{"s":"${nested}"},"note":"${top}"}`;

/** A body of `units` UTF-16 code units or more whose character at `at` is `c`, in `data.s`. */
function at(units, atUnit, c) {
  const head = '{"id":"evt_2","type":"charge.succeeded","data":{"s":"';
  const filler = Math.max(0, atUnit - head.length);
  const tail = 'a'.repeat(Math.max(8, units - head.length - filler - c.length));
  return `${head}${'a'.repeat(filler)}${c}${tail}"},"note":"end"}`;
}

/** [name, body, options] of each case. */
export function cases() {
  const out = [
    ['empty string', ''],
    ['a lone high surrogate first', `${HI}${event('a')}`],
    ['a lone low surrogate first', `${LO}${event('a')}`],
    ['a lone high surrogate last', `${event('a')}${HI}`],
    ['a lone low surrogate last', `${event('a')}${LO}`],
    ['a lone high surrogate nested', event(`a${HI}b`)],
    ['a lone low surrogate nested', event(`a${LO}b`)],
    ['a lone high surrogate at a nested value end', event(`ab${HI}`)],
    ['a lone low surrogate at a nested value start', event(`${LO}ab`)],
    ['a reversed pair nested', event(`${LO}${HI}`)],
    ['a lone high surrogate at the top', event('a', `a${HI}b`)],
    ['a lone low surrogate at the top', event('a', `a${LO}b`)],
    ['a pair nested', event(PAIR)],
    ['a pair at the top', event('a', PAIR)],
    ['U+FFFD nested', event('\uFFFD')],
    ['U+FFFD at the top', event('a', '\uFFFD')],
    ['U+FFFD as the escape \\ufffd at the top', event('a', '\\ufffd')],
    ['every UTF-8 length', event('\u007F\u0080\u07FF\u0800\uD7FF\uE000\uFFFF\uD800\uDC00\uDBFF\uDFFF', 'Zoë 山田 😀')],
    ['only non-ASCII', event('山田太郎'.repeat(5000), 'é'.repeat(3000))],
  ];
  for (let k = 1024; k <= 65536; k *= 2) {
    for (let d = -2; d <= 1; d++) {
      const p = k + d;
      out.push([`a pair at unit ${p}`, at(k + 64, p, PAIR)]);
      out.push([`a lone high surrogate at unit ${p}`, at(k + 64, p, HI)]);
      out.push([`a lone low surrogate at unit ${p}`, at(k + 64, p, LO)]);
    }
    // The pair's first unit the last of the body's first k units, and of the string.
    out.push([`a lone high surrogate ending ${k} units`, `${at(k - 1, k - 1, HI)}`.slice(0, k)]);
  }
  // Exactly maxBytes of UTF-8 in fewer UTF-16 units, and a byte over.
  const wide = event('é'.repeat(700), '山田');
  const bytes = Buffer.byteLength(wide);
  out.push(['exactly maxBytes in UTF-8', wide, { maxBytes: bytes }]);
  out.push(['a byte over maxBytes in UTF-8', wide, { maxBytes: bytes - 1 }]);
  out.push(['more UTF-16 units than maxBytes', wide, { maxBytes: wide.length - 1 }]);
  return out;
}

/** How verifyWebhook judges each case, signed by the reference where it can sign it. */
export function verdicts(verifyWebhook) {
  return cases().map(([name, body, options]) => {
    let signature = 'AB'.repeat(16);
    try {
      signature = refSign(body, API_KEY);
    } catch {}
    try {
      const parsed = verifyWebhook(body, signature, API_KEY, { maxAgeSeconds: null, ...options });
      return [name, 'accepted', JSON.stringify(parsed) === JSON.stringify(JSON.parse(body))];
    } catch (e) {
      return [name, e.code ?? e.name, e.message];
    }
  });
}
