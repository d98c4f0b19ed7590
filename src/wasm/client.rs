//! The client binding (issue 4): the pure core in `crate::client`, exposed as a handful of
//! stateless functions over strings and numbers. The JS facade (`pkg-template/src/client.mjs`)
//! owns `fetch`, timers and `AbortSignal`; every decision (validation, request building,
//! error mapping, retry and backoff, pagination) comes from here.
//!
//! - JSON strings cross the boundary both ways: smaller and faster than serde-wasm-bindgen,
//!   and no serde in the module.
//! - Stateless: the facade keeps the client's configuration as a JSON string and passes it
//!   with each call. Nothing outlives a call, so the module runs std-less on the arena
//!   allocator of `bare.rs`, and concurrent calls from JS can never trip over shared state.
//! - `client` is the JSON array `[options, browser, runtime, runtimeVersion]`, options with
//!   `fetch` replaced by its `typeof`.

use alloc::string::{String, ToString};
use wasm_bindgen::prelude::*;

use crate::client::error::ClientError;
use crate::client::json::Json;
use crate::client::page::{self, Dir, Which};
use crate::client::retry::{self, Outcome};
use crate::client::{resources, Config, Env};

fn error_json(e: &ClientError) -> String {
    crate::cat!("{\"error\":", &e.to_json(), "}")
}

fn parse(s: &str, what: &str) -> Result<Json, ClientError> {
    Json::parse(s).map_err(|_| ClientError::invalid(what, crate::cat!(what, " could not be read")))
}

fn config(client: &str) -> Result<Config, ClientError> {
    let c = parse(client, "options")?;
    let at = |i: usize| match &c {
        Json::Arr(a) => a.get(i).cloned().unwrap_or(Json::Null),
        _ => Json::Null,
    };
    let env = Env {
        browser: at(1).as_bool() == Some(true),
        runtime: at(2).as_str().unwrap_or("").to_string(),
        runtime_version: at(3).as_str().unwrap_or("").to_string(),
    };
    Config::new(&at(0), &env)
}

/// Validates the client options: `""` when they are fine, else the error JSON.
#[wasm_bindgen]
pub fn configure(client: &str) -> String {
    match config(client) {
        Ok(_) => String::new(),
        Err(e) => e.to_json(),
    }
}

/// The request for `resource.op(...args)`: `args` is the JSON array `[id, params, opts]`.
/// Returns the request JSON, or `{"error": ...}`.
#[wasm_bindgen]
pub fn prepare(client: &str, resource: &str, op: &str, args: &str, random: &[u8]) -> String {
    let r = config(client).and_then(|c| {
        parse(args, "params").and_then(|a| c.prepare(resource, op, &a, None, random))
    });
    match r {
        Ok(r) => r.to_json(),
        Err(e) => error_json(&e),
    }
}

/// The request for a neighbour of a list page (`which`: `next`, `prev`, or `walk` for
/// onwards in the page's direction), `null` when there is none.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn page(
    client: &str,
    resource: &str,
    args: &str,
    which: &str,
    dir: &str,
    has_more: bool,
    first_id: Option<String>,
    last_id: Option<String>,
) -> String {
    let dir = Dir::parse(dir);
    let (first, last) = (first_id.as_deref(), last_id.as_deref());
    let cursor = match which {
        "next" => page::neighbour(Which::Next, dir, has_more, first, last),
        "prev" => page::neighbour(Which::Previous, dir, has_more, first, last),
        _ => page::walk_next(dir, has_more, first, last),
    };
    let Some(cursor) = cursor else {
        return "null".to_string();
    };
    let r = config(client).and_then(|c| {
        parse(args, "params").and_then(|a| c.prepare(resource, "list", &a, Some(cursor), &[]))
    });
    match r {
        Ok(r) => r.to_json(),
        Err(e) => error_json(&e),
    }
}

/// The error JSON for an HTTP answer (non-2xx, or 2xx that is not JSON), with the
/// client's credential cut out of anything the server said.
#[wasm_bindgen]
pub fn error(
    client: &str,
    status: u16,
    body: &str,
    request_id: Option<String>,
    retry_after: Option<String>,
) -> String {
    let ra = retry::parse_retry_after(retry_after.as_deref());
    let cfg = config(client).ok();
    let secrets = cfg.as_ref().map(|c| c.secrets());
    ClientError::from_response(
        status,
        body,
        request_id.as_deref(),
        ra,
        secrets.as_ref().map_or(&[][..], |s| &s[..]),
    )
    .to_json()
}

/// After `attempts` attempts, the delay in ms before the next one, or -1 when the outcome is
/// final. `status`: the HTTP status, 0 for a network error, -1 for a timeout.
#[wasm_bindgen]
pub fn delay(
    attempts: u32,
    max_retries: u32,
    status: i32,
    retry_after: Option<String>,
    rand: f64,
) -> f64 {
    let outcome = match status {
        -1 => Outcome::Timeout,
        s if s <= 0 || s > 999 => Outcome::Network,
        s => Outcome::Status(s as u16),
    };
    let ra = retry::parse_retry_after(retry_after.as_deref());
    retry::next_delay_ms(attempts, max_retries, outcome, ra, rand).unwrap_or(-1.0)
}

/// The error JSON for a request that got no answer (`code`: timeout, network, aborted).
#[wasm_bindgen]
pub fn failure(code: &str, timeout_ms: f64) -> String {
    ClientError::connection(code, timeout_ms).to_json()
}

/// Whether more items follow a page (`server`: the page's `has_more`, -1 when absent).
#[wasm_bindgen]
pub fn has_more(limit: u32, count: u32, server: i32) -> bool {
    page::has_more(
        limit,
        count,
        if server < 0 { None } else { Some(server > 0) },
    )
}

/// `toArray(opts)`'s `max` as a JSON number, or `{"error": ...}`.
#[wasm_bindgen]
pub fn to_array_max(opts: &str) -> String {
    match parse(opts, "options").and_then(|o| page::to_array_max(&o)) {
        Ok(n) => crate::client::json::itoa(n as i64),
        Err(e) => error_json(&e),
    }
}

/// The resource table the facade builds `qp.<resource>.<op>` from.
#[wasm_bindgen]
pub fn resources() -> String {
    resources::table_json()
}
