// The `qbitpay` facade: what wasm-bindgen cannot express. The classes (`QbitPay`, its
// families, list requests, pages, the iterator of a walk) are the Rust ones from the wasm
// module; iteration with `for await` needs `Symbol.asyncIterator`, which wasm-bindgen cannot
// name, and a page's `toJSON` reads the page's own properties (its items are properties of
// its JavaScript object, which a Rust method has no access to).

/** @param {any} glue the initialised wasm-bindgen module of `qbitpay_client` */
export function clientApi(glue) {
  glue.ListRequest.prototype[Symbol.asyncIterator] = function () { return this.iterate(); };
  glue.ListIterator.prototype[Symbol.asyncIterator] = function () { return this; };
  glue.Page.prototype.toJSON = function () { return { object: this.object, data: this.data, hasMore: this.hasMore }; };
  return { QbitPay: glue.QbitPay };
}
