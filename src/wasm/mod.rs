//! The wasm-bindgen layer: thin functions that map the pure core onto JavaScript.
//! Each npm entry is its own wasm module, chosen by cargo feature.

#[cfg(feature = "wasm-client")]
mod client;
#[cfg(feature = "wasm-webhook")]
mod webhook;
#[cfg(all(target_arch = "wasm32", feature = "wasm-client", not(feature = "wasm-webhook")))]
mod bare;
