//! The `qbitpay/webhook` module: verify and sign, nothing else, so an edge function loads
//! only this. Ordinary wasm-bindgen arguments; this layer only converts JavaScript values
//! into the core's inputs ([`JsDelivery`]) and its errors into `[code, message]`, which the
//! facade (pkg-template/src/webhook.mjs) throws as `QbitPaySignatureError` (or `TypeError`
//! for `invalid_argument`). Every decision is `crate::webhook::verify`'s.

use crate::webhook::canonical::{decode_string, Canonical};
use crate::webhook::verify::{parse_algorithm, read_raw, Delivery, NotAnEvent};
use crate::webhook::{self, ParsedEvent, SignatureError, Value, VerifyOptions};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

// The few JavaScript built-ins this layer reads, declared here rather than through js-sys,
// which brings closure and JSPI task machinery (PERFORMANCE.md: sizes).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Uint8Array)]
    type Uint8Array;
    /// Anything with a `length`: a string (UTF-16 units) or a Uint8Array (bytes), one import.
    type Length;
    #[wasm_bindgen(method, getter)]
    fn length(this: &Length) -> u32;
    /// `Uint8Array.prototype.set.call(target, source)`: copies the bytes into wasm memory.
    #[wasm_bindgen(js_namespace = ["Uint8Array", "prototype", "set"], js_name = call)]
    fn copy_into(target: &mut [u8], source: &Uint8Array);
    #[wasm_bindgen(js_namespace = Array, js_name = isArray)]
    fn is_array(value: &JsValue) -> bool;
    #[wasm_bindgen(js_namespace = Object)]
    fn keys(object: &JsValue) -> Vec<JsValue>;
    #[wasm_bindgen(catch, js_namespace = Reflect)]
    fn get(object: &JsValue, key: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = JSON)]
    fn stringify(value: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = String)]
    type Text;
    #[wasm_bindgen(method, js_name = isWellFormed)]
    fn is_well_formed(this: &Text) -> bool;
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &TextEncoder, source: &Text, dest: &mut [u8]) -> EncodeResult;
    type EncodeResult;
    #[wasm_bindgen(method, getter)]
    fn written(this: &EncodeResult) -> u32;
    #[wasm_bindgen(js_name = Error)]
    type JsError;
    #[wasm_bindgen(method, getter)]
    fn message(this: &JsError) -> String;
}

/// The body as JavaScript passed it.
enum JsDelivery {
    /// Raw bytes: the size is known at once, the bytes are copied into wasm memory only when
    /// read, so a body over `maxBytes` is never copied.
    Bytes(Uint8Array),
    /// A string: its length is a lower bound of its UTF-8 size; encoded into wasm memory
    /// only when read (a lone surrogate becoming U+FFFD, and the string asked about it).
    Text(Text),
    /// A parsed event, its top-level values read from the object.
    Parsed(ParsedEvent),
    /// Anything else: its `typeof`.
    Other(String),
}

impl JsDelivery {
    fn new(body: JsValue) -> JsDelivery {
        if body.is_string() {
            return JsDelivery::Text(body.unchecked_into());
        }
        match body.dyn_into::<Uint8Array>() {
            Ok(bytes) => JsDelivery::Bytes(bytes),
            Err(body) if body.is_object() => JsDelivery::Parsed(parsed(&body)),
            Err(body) => JsDelivery::Other(body.js_typeof().as_string().unwrap_or_default()),
        }
    }
}

impl Delivery for JsDelivery {
    fn size(&self) -> Option<usize> {
        match self {
            JsDelivery::Bytes(bytes) => Some(length(bytes)),
            JsDelivery::Text(text) => Some(length(text)),
            JsDelivery::Parsed(p) => p.size(),
            JsDelivery::Other(_) => None,
        }
    }

    fn size_is_lower_bound(&self) -> bool {
        // A string's length in UTF-16 units: its UTF-8 bytes are at least as many.
        matches!(self, JsDelivery::Text(_))
    }

    fn read(&mut self) -> Result<Canonical, SignatureError> {
        match self {
            JsDelivery::Bytes(bytes) => {
                let mut copy = vec![0; length(bytes)];
                copy_into(&mut copy, bytes);
                read_raw(&copy, || false)
            }
            JsDelivery::Text(text) => {
                // One encodeInto with room for the worst case (3 bytes per UTF-16 unit): faster
                // than wasm-bindgen's string passing, which copies ASCII in a JS loop and
                // reallocates twice (PERFORMANCE.md: verification).
                let mut utf8 = vec![0; length(text) * 3];
                // A TextEncoder per string body rather than one in a thread_local, whose lazy
                // state and access-error panic add to the module (PERFORMANCE.md: sizes).
                let written = TextEncoder::new().encode_into(text, &mut utf8).written() as usize;
                utf8.truncate(written);
                read_raw(&utf8, || !text.is_well_formed())
            }
            JsDelivery::Parsed(p) => (&*p).read(),
            JsDelivery::Other(what) => NotAnEvent(what).read(),
        }
    }

    fn is_parsed(&self) -> bool {
        matches!(self, JsDelivery::Parsed(_))
    }
}

/// A parsed event's own enumerable top-level members, each value as JavaScript holds it
/// (objects and arrays through JSON.stringify).
fn parsed(object: &JsValue) -> ParsedEvent {
    if is_array(object) {
        return ParsedEvent { array: true, members: Vec::new() };
    }
    let members = keys(object)
        .into_iter()
        .map(|key| {
            let value = get(object, &key).map_or_else(|e| Value::Unserialisable(message(&e)), value);
            (key_text(&key), value)
        })
        .collect();
    ParsedEvent { array: false, members }
}

/// A key as WTF-8: the string, or (when it holds U+FFFD, which a lone surrogate also
/// becomes on the way in) decoded from its JSON.stringify text, which escapes lone surrogates.
fn key_text(key: &JsValue) -> Vec<u8> {
    let text = key.as_string().unwrap_or_default();
    if !text.as_bytes().windows(3).any(|w| w == "\u{FFFD}".as_bytes()) {
        return text.into_bytes();
    }
    let literal = stringify(key).ok().and_then(|t| t.as_string()).unwrap_or_default();
    decode_string(literal.as_bytes()).unwrap_or_else(|| text.into_bytes())
}

fn value(v: JsValue) -> Value {
    if let Some(s) = v.as_string() {
        Value::String(s)
    } else if let Some(n) = v.as_f64() {
        Value::Number(n)
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if v.is_null() {
        Value::Null
    } else if v.is_object() {
        match stringify(&v) {
            Ok(text) => {
                text.as_string().map_or(Value::NotJson("an object whose toJSON gives undefined"), Value::Json)
            }
            Err(e) => Value::Unserialisable(message(&e)),
        }
    } else {
        // The rest by their typeof: one import rather than a test of each kind.
        Value::NotJson(match v.js_typeof().as_string().as_deref() {
            Some("bigint") => "a BigInt",
            Some("function") => "a function",
            Some("symbol") => "a symbol",
            _ => "undefined",
        })
    }
}

fn length(value: &JsValue) -> usize {
    value.unchecked_ref::<Length>().length() as usize
}

fn message(e: &JsValue) -> String {
    e.dyn_ref::<JsError>().map_or_else(|| "it threw".to_owned(), JsError::message)
}

fn rejection(e: SignatureError) -> JsValue {
    JsValue::from(vec![JsValue::from_str(e.code.as_str()), JsValue::from_str(&e.message)])
}

/// Check a delivery (`body`: a string, bytes or a parsed event; the API key, and any more
/// while keys rotate); the index of the key that signed it, or throws `[code, message]`.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn verify(
    body: JsValue,
    signature: &str,
    key: &str,
    more_keys: Option<Vec<JsValue>>,
    algorithm: Option<String>,
    max_age_seconds: Option<f64>,
    now_millis: Option<f64>,
    max_bytes: Option<f64>,
) -> Result<u32, JsValue> {
    let opts = VerifyOptions::from_js(algorithm.as_deref(), max_age_seconds, now_millis, max_bytes)
        .map_err(rejection)?;
    let mut keys = vec![key];
    let more_keys: Vec<String> =
        more_keys.iter().flatten().map(|k| k.as_string().unwrap_or_default()).collect();
    keys.extend(more_keys.iter().map(String::as_str));
    let delivery = JsDelivery::new(body);
    webhook::verify(delivery, signature, &keys, &opts).map(|v| v.key as u32).map_err(rejection)
}

/// The `QbitPay-Signature` value for a body or parsed event, or throws `[code, message]`.
#[wasm_bindgen]
pub fn sign(body: JsValue, api_key: &str, algorithm: Option<String>) -> Result<String, JsValue> {
    let algorithm = parse_algorithm(algorithm.as_deref()).map_err(rejection)?;
    webhook::sign(JsDelivery::new(body), api_key, algorithm).map_err(rejection)
}

// A panic (a bug) traps the call that hit it (`panic = "abort"`) and nothing else: the
// verifier keeps no state between calls, so the next call runs as if it had not happened.
// The test traps the shipped module through wasm-bindgen's own allocator export, not an
// export of ours.
