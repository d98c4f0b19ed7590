//! What the client core takes from the JavaScript host in the wasm module, and from a crate
//! elsewhere (host builds and tests): base64 (`btoa`) and JSON text (`JSON.stringify`), the
//! host's own, which the module then does not carry (PERFORMANCE.md: the `base64` crate's
//! encoder 2.3 KB gzip, serde_json's serialiser with its float printer 2.6 KB).

use super::Json;

/// Standard base64, padded, of `bytes`.
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-client")))]
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `value` as JSON text.
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-client")))]
pub fn json_text(value: &Json) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Standard base64, padded, of `bytes`: `btoa` of the bytes as a binary string (one
/// character per byte, U+0000 to U+00FF, which is what `btoa` takes).
#[cfg(all(target_arch = "wasm32", feature = "wasm-client"))]
pub fn base64(bytes: &[u8]) -> String {
    let binary: String = bytes.iter().map(|&b| char::from(b)).collect();
    js::btoa(&binary)
}

/// `value` as JSON text: `JSON.stringify` of it as a JavaScript value (numbers printed as
/// JavaScript prints them). `None` for a number JavaScript cannot hold exactly (an integer
/// beyond 2^53, which no validated parameter is).
#[cfg(all(target_arch = "wasm32", feature = "wasm-client"))]
pub fn json_text(value: &Json) -> Option<String> {
    use serde::Serialize as _;
    let v = value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).ok()?;
    js::stringify(&v).as_string()
}

#[cfg(all(target_arch = "wasm32", feature = "wasm-client"))]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        pub fn btoa(binary: &str) -> String;
        #[wasm_bindgen(js_namespace = JSON)]
        pub fn stringify(value: &JsValue) -> JsValue;
    }
}
