//! QbitPay SDK core. Pure Rust, no JavaScript types: the webhook verifier/signer and the
//! API client logic live here and are tested with host `cargo test`. The `wasm` module maps
//! them onto JavaScript and is compiled only for the npm package (features `wasm-*`).

// The client's wasm module is still built without std (src/wasm/bare.rs); the webhook
// module uses std and the default allocator, and the client's module no longer carries it.
#![cfg_attr(all(target_arch = "wasm32", feature = "wasm-client", not(feature = "wasm-webhook")), no_std)]

extern crate alloc;

/// What `std`'s prelude gives, for code that also builds without std.
#[cfg(feature = "client")]
mod prelude {
    pub use alloc::string::String;
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

#[cfg(feature = "client")]
pub mod client;
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-client", not(feature = "wasm-webhook"))))]
pub mod webhook;

#[cfg(any(feature = "wasm-webhook", feature = "wasm-client"))]
mod wasm;
