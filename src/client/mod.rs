//! The API client core (issue 4): pure Rust, no JavaScript types. The JS facade drives
//! `fetch`; every decision is made here:
//! - [`request`]: client options, validation, URL/query/body/headers of each call;
//! - [`schema`] + [`resources`]: the API as declarations (one `Resource` per family);
//! - [`error`]: status + body → error kind/type/message/param, credentials cut out;
//! - [`retry`]: what is retried and the backoff (full jitter, `Retry-After`);
//! - [`page`]: pagination parameters, end of list, cursors for next/previous pages.

// Deliberate: `Json::parse` has one failure (not JSON); `Json::to_string` avoids `Display`
// (core::fmt would be a large share of the wasm module); `ClientError` is returned by value
// on cold paths only.
#![allow(clippy::result_unit_err, clippy::inherent_to_string, clippy::result_large_err)]

pub mod error;
pub mod json;
pub mod page;
pub mod request;
pub mod resources;
pub mod retry;
pub mod schema;

pub use error::{ClientError, ErrorKind};
pub use json::Json;
pub use request::{Config, Env, Request};
