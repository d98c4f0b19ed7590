//! QbitPay SDK core. Pure Rust, no JavaScript types: the webhook verifier/signer and the
//! API client logic live here and are tested with host `cargo test`. The `wasm` module maps
//! them onto JavaScript and is compiled only for the npm package (features `wasm-*`).

// The webhook-only wasm module is built without std: its panic and formatting machinery
// would otherwise be most of what an edge function downloads (see src/wasm/bare.rs).
#![cfg_attr(all(target_arch = "wasm32", feature = "wasm-webhook", not(feature = "wasm-client")), no_std)]

extern crate alloc;

/// What `std`'s prelude gives, for code that also builds without std.
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::string::String;
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

#[cfg(feature = "client")]
pub mod client;
pub mod text;
pub mod webhook;

#[cfg(any(feature = "wasm-webhook", feature = "wasm-client"))]
mod wasm;
