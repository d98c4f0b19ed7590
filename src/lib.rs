//! QbitPay SDK core. Pure Rust, no JavaScript types: the webhook verifier/signer and the
//! API client logic live here and are tested with host `cargo test`. The `wasm` module maps
//! them onto JavaScript and is compiled only for the npm package (features `wasm-*`).

#[cfg(feature = "client")]
pub mod client;
pub mod webhook;

#[cfg(any(feature = "wasm-webhook", feature = "wasm-client"))]
mod wasm;
