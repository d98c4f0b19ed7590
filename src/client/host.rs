//! What the client core takes from the JavaScript host in the wasm module, and from a crate
//! elsewhere (host builds and tests): base64 (`btoa`), JSON text (`JSON.stringify`),
//! percent-encoding (`encodeURIComponent`) and HTTP dates (`Date.parse`), the host's own: the
//! module then carries neither the `base64` crate's encoder, serde_json's serialiser with its
//! float printer, `percent-encoding`'s table nor `httpdate`'s (PERFORMANCE.md: sizes).

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

/// Appends `s` to `out` percent-encoded (its UTF-8 bytes, upper-case hex) but for RFC 3986's
/// unreserved characters (`A-Z a-z 0-9 - _ . ~`), or with `alphanumeric` but for letters and
/// digits.
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-client")))]
pub fn push_percent_encoded(out: &mut String, s: &str, alphanumeric: bool) {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    out.extend(utf8_percent_encode(s, if alphanumeric { NON_ALPHANUMERIC } else { UNRESERVED }));
}

/// Milliseconds since the epoch of an HTTP date in IMF-fixdate, the one form RFC 9110 has
/// servers send (`Mon, 07 Dec 2026 08:00:00 GMT`), exactly as written.
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-client")))]
pub fn http_date_ms(s: &str) -> Option<f64> {
    let t = httpdate::parse_http_date(s).ok().filter(|t| httpdate::fmt_http_date(*t) == s)?;
    let ms = |d: std::time::Duration| d.as_millis() as f64;
    Some(match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => ms(after),
        Err(before) => -ms(before.duration()),
    })
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

/// [`push_percent_encoded`] by the host: `encodeURIComponent`, which leaves `! ' ( ) *` (and the
/// unreserved marks) as they are, then those encoded too. Text that needs no encoding (ids,
/// parameter names) does not cross to JavaScript.
#[cfg(all(target_arch = "wasm32", feature = "wasm-client"))]
pub fn push_percent_encoded(out: &mut String, s: &str, alphanumeric: bool) {
    let kept = |c: char| c.is_ascii_alphanumeric() || (!alphanumeric && matches!(c, '-' | '_' | '.' | '~'));
    if s.chars().all(kept) {
        return out.push_str(s);
    }
    let encoded = js::encode_uri_component(s);
    for c in encoded.chars() {
        if c == '%' || kept(c) {
            out.push(c);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            let b = c as u8;
            out.extend(['%', char::from(HEX[usize::from(b >> 4)]), char::from(HEX[usize::from(b & 15)])]);
        }
    }
}

/// [`http_date_ms`] by the host: JavaScript's `Date.parse` (no date tables in the module),
/// which reads looser forms too, so the time must print as the same text again.
#[cfg(all(target_arch = "wasm32", feature = "wasm-client"))]
pub fn http_date_ms(s: &str) -> Option<f64> {
    let t = js_sys::Date::parse(s);
    let printed = || js_sys::Date::new(&t.into()).to_utc_string().as_string();
    (t.is_finite() && printed().as_deref() == Some(s)).then_some(t)
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
