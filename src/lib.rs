//! QbitPay SDK core. Pure Rust, no JavaScript types: the webhook verifier/signer and the
//! API client logic live here and are tested with host `cargo test`. The `wasm` module maps
//! them onto JavaScript and is compiled only for the npm package (features `wasm-*`).
//!
//! The webhook module alone (`qbitpay/webhook`) is built without std: `alloc` and an
//! allocator crate, and a panic traps without formatting anything (`wasm::webhook`), which
//! keeps std's panic and formatting machinery out of what every edge function loads.

#![cfg_attr(all(target_arch = "wasm32", feature = "wasm-webhook", not(feature = "client")), no_std)]

extern crate alloc;

/// The names std's prelude gives, from `alloc`, for the code the std-less module carries.
#[allow(unused_imports)]
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

#[cfg(feature = "client")]
pub mod client;
pub mod spec;
// The client's wasm module does not carry the verifier (`qbitpay` loads the webhook module).
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-client", not(feature = "wasm-webhook"))))]
pub mod webhook;

#[cfg(any(feature = "wasm-webhook", feature = "wasm-client"))]
mod wasm;
