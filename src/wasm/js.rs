//! What the client binding needs from JavaScript beyond web-sys and js-sys: the global
//! timers and `fetch`, `JSON`, `Promise.then` with whatever the caller passed, the shared error classes,
//! property names decoded once, and the facts about the runtime.

use crate::client::{ClientError, Env, Json};
use js_sys::{Function, Object, Promise, Reflect};
use serde::Serialize;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// The global `setTimeout` (never `window.setTimeout`): a handle in Node, a number elsewhere.
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);

    /// The global `fetch`, looked up at each call; `catch`: a replaced `fetch` that throws
    /// is a failed attempt, not an exception through the module.
    #[wasm_bindgen(js_name = fetch, catch)]
    pub fn global_fetch(url: &JsValue, init: &Object) -> Result<Promise, JsValue>;

    /// A function's `bind(thisArg, arg)`.
    pub type Bindable;
    #[wasm_bindgen(method, js_name = bind)]
    pub fn bind1(this: &Bindable, this_arg: &JsValue, arg: f64) -> Function;
    /// A Promise's `then`, `catch` and `finally` called with whatever the caller passed.
    pub type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    pub fn then_with(this: &Thenable, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Promise;
    /// `then`, the Promise it makes left in JavaScript; `catch`: the `then` of a value that
    /// is not a native Promise may be missing or throw.
    #[wasm_bindgen(method, js_name = then, catch)]
    pub fn then2(this: &Thenable, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, js_name = catch)]
    pub fn catch_with(this: &Thenable, on_rejected: &JsValue) -> Promise;
    #[wasm_bindgen(method, js_name = finally)]
    pub fn finally_with(this: &Thenable, on_finally: &JsValue) -> Promise;

    /// `headers.get(name)`: the value as the JavaScript string, or `null`.
    type HeaderMap;
    #[wasm_bindgen(method, js_name = get, catch)]
    fn get(this: &HeaderMap, name: &JsValue) -> Result<JsValue, JsValue>;

    /// A WHATWG `ReadableStream` and its default reader (duck-typed: only these methods, each
    /// `catch`: another library's may throw).
    pub type Stream;
    #[wasm_bindgen(method, js_name = getReader, catch)]
    pub fn get_reader(this: &Stream) -> Result<Reader, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn cancel(this: &Stream) -> Result<Promise, JsValue>;
    /// Its reader (`cancel` as the stream's).
    pub type Reader;
    #[wasm_bindgen(method, catch)]
    pub fn read(this: &Reader) -> Result<Promise, JsValue>;

    /// The global `TextDecoder` (UTF-8, invalid bytes replaced).
    pub type TextDecoder;
    #[wasm_bindgen(constructor, catch)]
    pub fn new() -> Result<TextDecoder, JsValue>;
    #[wasm_bindgen(method, js_name = decode)]
    pub fn decode_chunk(this: &TextDecoder, chunk: &JsValue, options: &JsValue) -> js_sys::JsString;
    #[wasm_bindgen(method)]
    pub fn decode(this: &TextDecoder) -> js_sys::JsString;

    /// `JSON.parse` of a JavaScript string, which stays in JavaScript.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
    /// An object of this binding's own (no setter can throw), written as `target[key] =
    /// value`: a store the engine caches, where `Reflect.set` is a call into the runtime.
    type Props;
    #[wasm_bindgen(method, structural, indexing_setter)]
    fn set(this: &Props, key: &JsValue, value: &JsValue);
    /// The global `crypto`, for `randomUUID()` as the JavaScript string it makes.
    type Crypto;
    #[wasm_bindgen(method, js_name = randomUUID)]
    fn random_uuid(this: &Crypto) -> JsValue;
}

#[wasm_bindgen(raw_module = "./errors.mjs")]
extern "C" {
    /// The error class for each `ErrorKind` (as serde names it): `invalid_request` →
    /// `QbitPayInvalidRequestError`, ... One module shared by every entry, so `instanceof`
    /// holds whichever entry threw.
    #[wasm_bindgen(thread_local_v2, js_name = errorClasses)]
    static ERROR_CLASSES: Object;
}

/// `value` as a JSON value, the way it would go on the wire: through `JSON.stringify`
/// (which applies `toJSON`, drops functions and `undefined`, and refuses cycles and BigInt
/// with an error instead of recursing). `undefined` and `null` are `null`.
pub fn to_json(value: &JsValue, param: &str) -> Result<Json, ClientError> {
    to_json_text(value, param).map(|(json, _)| json)
}

/// [`to_json`], and the JSON text it was read from, as a string and as the JavaScript string
/// (`None` for `null`, a string, or a value `JSON.stringify` gives no text for).
pub fn to_json_text(value: &JsValue, param: &str) -> Result<(Json, Option<(String, JsValue)>), ClientError> {
    if value.is_undefined() || value.is_null() {
        return Ok((Json::Null, None));
    }
    if let Some(s) = value.as_string() {
        return Ok((Json::String(s), None));
    }
    let unreadable = || ClientError::invalid(param, format!("{param} could not be serialised as JSON"));
    let text = json_stringify(value).map_err(|_| unreadable())?;
    match text.as_string() {
        Some(t) => serde_json::from_str(&t).map(|json| (json, Some((t, text)))).map_err(|_| unreadable()),
        None => Ok((Json::Null, None)),
    }
}

/// [`to_json`] of an object of options: one that is NaN or ±Infinity, which `JSON.stringify`
/// writes as `null` (absent: the default would silently take its place), is kept as the
/// string `"NaN"`, `"Infinity"` or `"-Infinity"` for the validation to refuse.
pub fn options_to_json(value: &JsValue, param: &str) -> Result<Json, ClientError> {
    let mut json = to_json(value, param);
    if let Ok(Json::Object(members)) = &mut json {
        for (k, v) in members.iter_mut().filter(|(_, v)| v.is_null()) {
            let n = Reflect::get(value, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED).as_f64();
            if let Some(n) = n.filter(|n| !n.is_finite()) {
                *v = Json::String(crate::client::fmt_num(n));
            }
        }
    }
    json
}

/// A JSON value as a plain JavaScript value (objects as objects, not `Map`); `undefined` for
/// a number JavaScript cannot hold exactly.
pub fn to_js(value: &Json) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::UNDEFINED)
}

// The error's fields and the hooks' events are set one by one, not serialised from Rust
// structs, without serde-wasm-bindgen's struct serialiser and its cache of field names
// (PERFORMANCE.md: sizes).

/// The JavaScript error for `e`: an instance of the class its kind names, with its fields
/// (`kind`, `type`, `message`, and those it has of `param`, `statusCode`, `requestId`,
/// `retryAfter`, `detail` and `code`), plus `raw` (the server's body, credentials cut out)
/// and `cause` when given.
pub fn error(e: &ClientError, raw: Option<JsValue>, cause: Option<JsValue>) -> JsValue {
    let fields: JsValue = Object::new().into();
    set(&fields, "kind", &e.kind.name().into());
    set(&fields, "type", &e.type_.as_str().into());
    set(&fields, "message", &e.message.as_str().into());
    if let Some(param) = &e.param {
        set(&fields, "param", &param.as_str().into());
    }
    if let Some(status) = e.status {
        set(&fields, "statusCode", &status.into());
    }
    if let Some(id) = &e.request_id {
        set(&fields, "requestId", &id.as_str().into());
    }
    if let Some(seconds) = e.retry_after {
        set(&fields, "retryAfter", &seconds.into());
    }
    if let Some(detail) = &e.detail {
        set(&fields, "detail", &to_js(detail));
    }
    if let Some(code) = e.code {
        set(&fields, "code", &code.into());
    }
    if let Some(raw) = raw {
        set(&fields, "raw", &raw);
    }
    if let Some(cause) = cause {
        set(&fields, "cause", &cause);
    }
    let class = ERROR_CLASSES
        .with(|t| with_key(e.kind.name(), |k| Reflect::get(t, k).ok()))
        .filter(|c| c.is_function());
    let args = js_sys::Array::of2(&JsValue::from_str(&e.message), &fields);
    match class.map(|c| Reflect::construct(c.unchecked_ref::<js_sys::Function>(), &args)) {
        Some(Ok(err)) => err,
        _ => js_sys::Error::new(&e.message).into(),
    }
}

thread_local! {
    /// Property names as JavaScript strings, each decoded once (a fresh key string per
    /// `Reflect.set` showed in a profile: PERFORMANCE.md).
    static KEYS: RefCell<Keys> = const { RefCell::new(Keys { list: Vec::new(), by_address: [0; 64] }) };
    /// `{ value, configurable: true }`, reused by `define_hidden`.
    static HIDDEN: Object = {
        let d = Object::new();
        set(&d, "configurable", &JsValue::TRUE);
        d
    };
    /// `{ stream: true }`, the options of each chunk's decoding.
    static STREAM: Object = {
        let o = Object::new();
        set(&o, "stream", &JsValue::TRUE);
        o
    };
}

/// A Promise whose rejection nobody needs: settled either way, never an unhandled rejection.
pub fn ignore(promise: &Promise) {
    let _ = Promise::all_settled(&js_sys::Array::of1(promise));
}

/// `{ stream: true }`.
pub fn stream_option() -> JsValue {
    STREAM.with(|o| o.clone().into())
}

/// The header `name` (lower case) of an answer, `null` without it; `Err` when another
/// library's `get` throws (called outside the cache of names).
pub fn header(headers: &web_sys::Headers, name: &'static str) -> Result<JsValue, JsValue> {
    headers.unchecked_ref::<HeaderMap>().get(&with_key(name, JsValue::clone))
}

thread_local! {
    /// This realm's `Headers.prototype.get` (`undefined` where there is no `Headers`).
    static HEADERS_GET: JsValue = get(&get(&get(&js_sys::global(), "Headers"), "prototype"), "get");
}

/// Whether `f` is this realm's `Headers.prototype.get`, which throws for no header name.
pub fn is_native_headers_get(f: &JsValue) -> bool {
    HEADERS_GET.with(|g| g.is_function() && g == f)
}

/// [`header`] for any name, outside the cache of names: `Err` when `get` throws.
pub fn header_named(headers: &web_sys::Headers, name: &str) -> Result<JsValue, JsValue> {
    headers.unchecked_ref::<HeaderMap>().get(&JsValue::from_str(name))
}

/// What request hooks see (never a credential or a body): `{ method, path, attempt,
/// idempotencyKey }`, the key `null` when the request has none.
pub fn request_event(method: &str, path: &str, attempt: u32, idempotency_key: Option<&str>) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "method", &method.into());
    set(&o, "path", &path.into());
    set(&o, "attempt", &attempt.into());
    set(&o, "idempotencyKey", &idempotency_key.map_or(JsValue::NULL, JsValue::from_str));
    o
}

/// What response hooks see: the request's fields ([`request_event`]), then `statusCode`,
/// `requestId` (`null` without one) and `elapsedMs`.
pub fn response_event(request: JsValue, status: u16, request_id: Option<&str>, elapsed_ms: f64) -> JsValue {
    set(&request, "statusCode", &status.into());
    set(&request, "requestId", &request_id.map_or(JsValue::NULL, JsValue::from_str));
    set(&request, "elapsedMs", &elapsed_ms.into());
    request
}

/// How many `{`, `[` and `,` `text` holds (about the values JSON.parse would make of it),
/// counted up to `max + 1`: 65,536 units at a time copied into the module, stopping once
/// more than `max` are found.
pub fn count_values(text: &js_sys::JsString, max: u64) -> u64 {
    let (len, mut at, mut n) = (text.length(), 0, 0u64);
    while at < len && n <= max {
        let end = at.saturating_add(1 << 16).min(len);
        let part = text.slice(at, end).as_string().unwrap_or_default();
        n += part.bytes().filter(|b| matches!(b, b'{' | b'[' | b',')).count() as u64;
        at = end;
    }
    n
}

/// `lastResponse`: `{ statusCode, requestId, headers }` of an answer.
pub fn last_response(status: u16, request_id: &JsValue, headers: &JsValue) -> JsValue {
    let o = Object::new();
    set(&o, "statusCode", &JsValue::from(status));
    set(&o, "requestId", request_id);
    set(&o, "headers", headers);
    o.into()
}

/// A property that `JSON.stringify` and `Object.keys` do not see.
pub fn define_hidden(target: &JsValue, key: &'static str, value: &JsValue) {
    if !target.is_object() {
        return;
    }
    HIDDEN.with(|d| {
        set(d, "value", value);
        with_key(key, |k| {
            let _ = Reflect::define_property(target.unchecked_ref::<Object>(), k, d);
        });
        // Not kept alive by the shared descriptor.
        set(d, "value", &JsValue::UNDEFINED);
    })
}

/// `key` as a JavaScript string, from the cache of property names.
pub fn with_key<R>(key: &'static str, f: impl FnOnce(&JsValue) -> R) -> R {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        let i = key_index(&mut keys, key);
        f(&keys.list[i].1)
    })
}

/// The cache of property names: each name with its JavaScript string, and by the name's
/// address (a static's), the place + 1 of the last name looked up there (0: none), so that
/// a lookup is mostly one comparison rather than a search of the list.
struct Keys {
    list: Vec<(&'static str, JsValue)>,
    by_address: [u8; 64],
}

/// Where `key` is in the cache, added if new. Apart from [`with_key`], which is made once
/// per closure: one copy of the search in the module.
#[inline(never)]
fn key_index(keys: &mut Keys, key: &'static str) -> usize {
    let same = |k: &&str| k.as_ptr() == key.as_ptr() && k.len() == key.len();
    let slot = (key.as_ptr() as usize).wrapping_mul(0x9e37_79b9) >> 26 & 63;
    let hint = keys.by_address[slot] as usize;
    if hint > 0 && same(&keys.list[hint - 1].0) {
        return hint - 1;
    }
    let i = match keys.list.iter().position(|(k, _)| same(k)) {
        Some(i) => i,
        None => {
            keys.list.push((key, JsValue::from_str(key)));
            keys.list.len() - 1
        }
    };
    keys.by_address[slot] = u8::try_from(i + 1).unwrap_or(0);
    i
}

/// `target[key] = value` on an object this binding made.
pub fn set(target: &JsValue, key: &'static str, value: &JsValue) {
    with_key(key, |k| {
        target.unchecked_ref::<Props>().set(k, value);
    })
}

/// `target[key]`; `undefined` on anything but an object or a function (where `Reflect.get`
/// would throw, and each exception caught costs an externref slot that is never released).
pub fn get(target: &JsValue, key: &'static str) -> JsValue {
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    with_key(key, |k| Reflect::get(target, k).unwrap_or(JsValue::UNDEFINED))
}

thread_local! {
    /// The last `Idempotency-Key` made, also as the JavaScript string it came as.
    static LAST_KEY: RefCell<(String, JsValue)> = const { RefCell::new((String::new(), JsValue::UNDEFINED)) };
}

/// A fresh `Idempotency-Key`: `crypto.randomUUID()`, or a version-4 UUID from
/// `crypto.getRandomValues` where `randomUUID` is missing (a page outside a secure context).
pub fn new_idempotency_key() -> String {
    thread_local! {
        /// The global `crypto`, and whether it has `randomUUID` (looked up once).
        static CRYPTO: (JsValue, bool) = {
            let crypto = get(&js_sys::global(), "crypto");
            let has_uuid = get(&crypto, "randomUUID").is_function();
            (crypto, has_uuid)
        };
    }
    CRYPTO.with(|(crypto, has_uuid)| {
        if *has_uuid {
            let js = crypto.unchecked_ref::<Crypto>().random_uuid();
            let key = js.as_string().unwrap_or_default();
            LAST_KEY.with(|k| *k.borrow_mut() = (key.clone(), js));
            return key;
        }
        let mut bytes = [0u8; 16];
        if crypto.is_object() {
            let _ = crypto.unchecked_ref::<web_sys::Crypto>().get_random_values_with_u8_array(&mut bytes);
        }
        // Encoded into a buffer, not through `Display` (the formatter's padding code).
        let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
        uuid.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()).to_owned()
    })
}

/// `key` as a JavaScript string: the one it was made from when [`new_idempotency_key`] just
/// made it.
pub fn idempotency_key(key: &str) -> JsValue {
    LAST_KEY.with(|k| {
        let k = k.borrow();
        if k.0 == key {
            k.1.clone()
        } else {
            JsValue::from_str(key)
        }
    })
}

/// Which runtime this is (for the client user-agent header) and whether it is a browser
/// (a global `document`).
pub fn env() -> Env {
    let g = js_sys::global();
    let s = |v: JsValue| v.as_string().unwrap_or_default();
    let (runtime, version) = if get(&get(&g, "Deno"), "version").is_object() {
        ("deno", s(get(&get(&get(&g, "Deno"), "version"), "deno")))
    } else if get(&g, "Bun").is_object() {
        ("bun", s(get(&get(&g, "Bun"), "version")))
    } else if s(get(&get(&g, "navigator"), "userAgent")) == "Cloudflare-Workers" {
        ("workerd", String::new())
    } else if get(&get(&get(&g, "process"), "versions"), "node").is_string() {
        ("node", s(get(&get(&get(&g, "process"), "versions"), "node")))
    } else if !get(&g, "document").is_undefined() {
        ("browser", s(get(&get(&g, "navigator"), "userAgent")))
    } else {
        ("unknown", String::new())
    };
    Env { browser: !get(&g, "document").is_undefined(), runtime: runtime.into(), runtime_version: version }
}

/// A future of the binding's, boxed: every call site shares one instantiation of
/// wasm-bindgen-futures' functions (PERFORMANCE.md: sizes).
type Task<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

/// A Promise of `f`'s result (`future_to_promise`).
pub fn promise(f: impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    let task: Task<Result<JsValue, JsValue>> = Box::pin(f);
    wasm_bindgen_futures::future_to_promise(task)
}

/// Runs `f` to its end (`spawn_local`).
pub fn spawn(f: impl std::future::Future<Output = ()> + 'static) {
    let task: Task<()> = Box::pin(f);
    wasm_bindgen_futures::spawn_local(task)
}

/// Milliseconds since the epoch, from JavaScript (`SystemTime` is not available on wasm32).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Two ways values could cross the boundary, side by side for `bench/boundary.mjs` (built
/// with `--features bench-boundary`, never shipped): `JSON.parse`/`JSON.stringify` in
/// JavaScript around serde_json, against serde-wasm-bindgen walking the JavaScript values.
#[cfg(feature = "bench-boundary")]
mod boundary {
    use super::*;

    /// A response body to a JavaScript value: `JSON.parse` of the JavaScript string.
    #[wasm_bindgen(js_name = benchParseJson)]
    pub fn parse_json(text: &JsValue) -> JsValue {
        json_parse(text).unwrap_or(JsValue::NULL)
    }

    /// The same through Rust: the text copied in, serde_json, serde-wasm-bindgen out.
    #[wasm_bindgen(js_name = benchParseSerde)]
    pub fn parse_serde(text: &str) -> JsValue {
        serde_json::from_str::<Json>(text).map(|v| to_js(&v)).unwrap_or(JsValue::NULL)
    }

    /// Parameters into the core: `JSON.stringify` then serde_json (what the client does).
    #[wasm_bindgen(js_name = benchParamsJson)]
    pub fn params_json(v: &JsValue) -> usize {
        to_json(v, "params").map(|j| j.as_object().map_or(0, |m| m.len())).unwrap_or(0)
    }

    /// The same through serde-wasm-bindgen's deserializer.
    #[wasm_bindgen(js_name = benchParamsSerde)]
    pub fn params_serde(v: JsValue) -> usize {
        serde_wasm_bindgen::from_value::<Json>(v).map(|j| j.as_object().map_or(0, |m| m.len())).unwrap_or(0)
    }
}
