//! What the client core takes from the JavaScript host in the wasm module, and from a crate
//! elsewhere (host builds and tests): base64 (`btoa`), JSON text (`JSON.stringify`) and
//! percent-encoding (`encodeURIComponent`), the host's own: the module then carries neither
//! the `base64` crate's encoder, serde_json's serialiser with its float printer nor
//! `percent-encoding`'s table (PERFORMANCE.md: sizes).

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

/// `s` percent-encoded (its UTF-8 bytes, upper-case hex) but for RFC 3986's unreserved
/// characters (`A-Z a-z 0-9 - _ . ~`), or with `alphanumeric` but for letters and digits.
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-client")))]
pub fn percent_encode(s: &str, alphanumeric: bool) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    utf8_percent_encode(s, if alphanumeric { NON_ALPHANUMERIC } else { UNRESERVED }).collect()
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

/// [`percent_encode`] by the host: `encodeURIComponent`, which leaves `! ' ( ) *` (and the
/// unreserved marks) as they are, then those encoded too. Text that needs no encoding (ids,
/// parameter names) does not cross to JavaScript.
#[cfg(all(target_arch = "wasm32", feature = "wasm-client"))]
pub fn percent_encode(s: &str, alphanumeric: bool) -> String {
    let kept = |c: char| c.is_ascii_alphanumeric() || (!alphanumeric && matches!(c, '-' | '_' | '.' | '~'));
    if s.chars().all(kept) {
        return s.to_string();
    }
    let encoded = js::encode_uri_component(s);
    let mut out = String::with_capacity(encoded.len() + 8);
    for c in encoded.chars() {
        if c == '%' || kept(c) {
            out.push(c);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            let b = c as u8;
            out.extend(['%', char::from(HEX[usize::from(b >> 4)]), char::from(HEX[usize::from(b & 15)])]);
        }
    }
    out
}

#[cfg(all(target_arch = "wasm32", feature = "wasm-client"))]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        pub fn btoa(binary: &str) -> String;
        #[wasm_bindgen(js_name = encodeURIComponent)]
        pub fn encode_uri_component(text: &str) -> String;
        #[wasm_bindgen(js_namespace = JSON)]
        pub fn stringify(value: &JsValue) -> JsValue;
    }
}
