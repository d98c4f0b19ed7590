//! The API client core: pure Rust, tested with host `cargo test`. The wasm binding
//! (`src/wasm/`) drives `fetch`; every decision is made here:
//! - [`request`]: client options, validation, URL/query/body/headers of each call;
//! - [`schema`] + [`resources`]: the API as declarations (one entry per family in one table);
//! - [`error`]: status + body → error kind/type/message/param, credentials cut out;
//! - [`retry`]: what is retried and the backoff (full jitter, `Retry-After`);
//! - [`page`]: pagination parameters, end of list, cursors for next/previous pages.
//!
//! Values are `serde_json::Value` (with `preserve_order`: members keep the caller's order).

// `ClientError` is returned by value on cold paths only.
#![allow(clippy::result_large_err)]

pub mod error;
pub mod page;
pub mod request;
pub mod resources;
pub mod retry;
pub mod schema;

pub use error::{ClientError, ErrorKind};
pub use request::{Auth, Config, Env, Request};
pub use serde_json::{Map, Value as Json};

/// What JavaScript's `typeof` would call a JSON value, for messages.
pub fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// A number as JSON, integral values without a fraction (`10`, not `10.0`).
pub fn num(n: f64) -> Json {
    match crate::spec::safe_int(n) {
        Some(i) => Json::from(i),
        None => Json::from(n),
    }
}

/// An integer JavaScript represents exactly.
pub fn is_int(n: f64) -> bool {
    crate::spec::safe_int(n).is_some()
}

pub use crate::spec::js_number as fmt_num;

#[cfg(test)]
pub(crate) fn parse(s: &str) -> Result<Json, serde_json::Error> {
    serde_json::from_str(s)
}
