//! The wasm-bindgen layer: the pure core mapped onto JavaScript. Each npm entry is its own
//! wasm module, chosen by cargo feature: `wasm-webhook` (the verifier) or `wasm-client`
//! (the API client classes).

// `ClientError` is returned by value on cold paths only.
#![allow(clippy::result_large_err)]

#[cfg(feature = "wasm-client")]
mod client;
#[cfg(feature = "wasm-client")]
mod fetch;
#[cfg(feature = "wasm-webhook")]
mod handler;
#[cfg(feature = "wasm-client")]
mod js;
#[cfg(feature = "wasm-client")]
mod list;
#[cfg(feature = "wasm-client")]
mod resources;
#[cfg(feature = "wasm-client")]
mod settle;
#[cfg(feature = "wasm-client")]
mod types;
#[cfg(feature = "wasm-webhook")]
mod webhook;
