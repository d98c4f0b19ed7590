// The `qbitpay` facade: the classes are the wasm module's (`QbitPay` and its families, from
// src/wasm; lists and pages from src/wasm/list.js).

/** @param {any} glue the initialised wasm-bindgen module of `qbitpay_client` */
export function clientApi(glue) {
  return { QbitPay: glue.QbitPay };
}
