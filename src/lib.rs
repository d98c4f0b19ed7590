//! QbitPay SDK core. Pure Rust, no JavaScript types: the webhook verifier/signer and the
//! API client logic live here and are tested with host `cargo test`. The `wasm` module maps
//! them onto JavaScript and is compiled only for the npm package (features `wasm-*`).

mod checked;
#[cfg(feature = "client")]
pub mod client;
pub mod spec;
// The client's wasm module does not carry the verifier (`qbitpay` loads the webhook module).
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-client", not(feature = "wasm-webhook"))))]
pub mod webhook;

#[cfg(any(feature = "wasm-webhook", feature = "wasm-client"))]
mod wasm;
