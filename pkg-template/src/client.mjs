// The `qbitpay` facade: what wasm-bindgen cannot express. The classes (`QbitPay`, its
// resources, list requests, pages) are the Rust ones from the wasm module; iteration with
// `for await` needs `Symbol.asyncIterator`, which wasm-bindgen cannot name.

/** @param {any} glue the initialised wasm-bindgen module of `qbitpay_client` */
export function clientApi(glue) {
  glue.ListRequest.prototype[Symbol.asyncIterator] = function () { return this.iterate(); };
  glue.ListIterator.prototype[Symbol.asyncIterator] = function () { return this; };
  return { QbitPay: glue.QbitPay };
}
