// Types of the `qbitpay` API client: the classes (`QbitPay`, one per API family) and the
// objects, parameters and options, as the Rust module declares them (wasm-bindgen's
// declarations of its classes and its TypeScript section).
export type * from './types/qbitpay_client';
export { QbitPay } from './types/qbitpay_client';
