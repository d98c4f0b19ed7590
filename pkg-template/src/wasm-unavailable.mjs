// What an entry's facades get instead of its wasm-bindgen module when the module could not be
// loaded: importing the entry still succeeds, so the app's own error handling sees the failure.

import { QbitPayError } from './errors.mjs';

/**
 * A stand-in for `glue`: the same names, each a function that throws a `QbitPayError` with
 * code `wasm_unavailable` when called or constructed; `cause` is the load error.
 */
export function wasmUnavailable(glue, cause) {
  // A browser refuses WebAssembly under a Content-Security-Policy without 'wasm-unsafe-eval'
  // with a CompileError (our module is valid), or an EvalError, whose message suggests
  // 'unsafe-eval' (which would allow eval()) or says nothing of the CSP: the message names the
  // directive, the browser's error stays in `cause`. Other causes say what failed (the
  // loaders name the file).
  const message = /^(CompileError|EvalError)|CSP|unsafe-eval/.test(cause)
    ? "qbitpay: the page's Content-Security-Policy needs 'wasm-unsafe-eval' in script-src"
    : `qbitpay: ${cause?.message ?? cause}`;
  const standIn = {};
  for (const name of Object.keys(glue)) {
    // A function expression, not a method: `new QbitPay()` must reach the throw.
    standIn[name] = { [name]: function () { throw new QbitPayError(message, { code: 'wasm_unavailable', cause }); } }[name];
  }
  return standIn;
}
