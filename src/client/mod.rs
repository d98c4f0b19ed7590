//! The API client core: pure Rust, tested with host `cargo test`. The wasm binding
//! (`src/wasm/`) drives `fetch`; every decision is made here:
//! - [`request`]: client options, URL/query/body/headers of each call, its parameters
//!   checked first by the API's table (`spec::resources`, validated by `spec::schema`, the
//!   code the sandbox runs too);
//! - [`error`]: status + body → error kind/type/message/param, credentials cut out;
//! - [`retry`]: what is retried and the backoff (full jitter, `Retry-After`);
//! - [`page`]: pagination parameters, end of list, cursors for next/previous pages;
//! - `host`: base64, JSON text and percent-encoding, from JavaScript in the wasm module.
//!
//! Values are `serde_json::Value` (with `preserve_order`: members keep the caller's order).

// `ClientError` is returned by value on cold paths only.
#![allow(clippy::result_large_err)]

use crate::checked::{out_of_range, At};

pub mod error;
mod host;
pub mod page;
pub mod request;
pub mod retry;

pub use crate::spec::js_number as fmt_num;
pub use crate::spec::schema::{is_int, num, type_name};
pub use error::{ClientError, ErrorKind};
pub use request::{Auth, Config, Env, Request};
pub use serde_json::{Map, Value as Json};

/// The byte position of the first `pat` (not empty) in `text`, by plain comparison: the
/// patterns are short and the texts bounded, and `str::find`'s two-way searcher is larger in
/// the wasm module (PERFORMANCE.md: sizes).
pub fn find(text: &str, pat: &str) -> Option<usize> {
    let p = pat.as_bytes();
    let Some(&first) = p.first() else { out_of_range() };
    text.as_bytes().windows(p.len()).position(|w| *w.at(0) == first && w == p)
}

#[cfg(test)]
pub(crate) fn parse(s: &str) -> Result<Json, serde_json::Error> {
    serde_json::from_str(s)
}
