//! The client binding (issue 4): the pure core in `crate::client` behind ONE exported
//! function, `call(json) -> json`. The JS facade (`pkg-template/src/client.mjs`) owns
//! `fetch`, timers and `AbortSignal`; every decision (validation, request building, error
//! mapping, retry and backoff, pagination) comes from here.
//!
//! - One JSON string in, one out: `["name", ...args]` → a JSON value. A single export keeps
//!   the wasm-bindgen glue small (each export costs its own JS wrapper), needs no serde, and
//!   a JSON string crosses the boundary faster than serde-wasm-bindgen's object walking.
//! - Stateless: the facade keeps the client's configuration (`client`: the array
//!   `[options, browser, runtime, runtimeVersion]`, options with `fetch` replaced by its
//!   `typeof`) and passes it with each call. Nothing outlives a call, so the module runs
//!   std-less on the arena allocator of `bare.rs`, and concurrent calls from JS cannot trip
//!   over shared state.
//!
//! Calls (errors come back as `{"error": {kind, type, message, param?, ...}}`):
//! - `["configure", client]` → `null` or `{"error"}`
//! - `["prepare", client, resource, op, [id, params, opts], [16 random bytes]]` → the request
//!   `{method, url, headers, body?, timeoutMs, maxRetries, limit?, dir?, idAt?}` or
//!   `{"error"}`. `idAt: [idLength, restLength, plainId]`, only for a `GET` without
//!   parameters or options: the method's other calls without options differ in the URL's
//!   `/{id}` only (its last `idLength + restLength` characters minus the `restLength` after
//!   it), and an id matching the pattern `plainId` goes there as it is; so the facade keeps
//!   the request and sends calls with such ids without asking again (any other id: `prepare`)
//! - `["page", client, resource, [id, params, opts], which, dir, hasMore, firstId, lastId]`
//!   (`which`: next, prev, walk) → the neighbour page's request, `null`, or `{"error"}`
//! - `["error", client, status, body, requestId, retryAfter]` → the error fields (a 403 to
//!   an access-token client says what the token's scope allows)
//! - `["delay", attempts, maxRetries, status, retryAfter, rand]` → ms, or -1: final
//!   (`status` 0: network error, -1: timeout)
//! - `["failure", code, timeoutMs]` → the error fields of a request without an answer
//! - `["hasMore", limit, count, serverHasMore]` → boolean (`serverHasMore` null when absent)
//! - `["toArrayMax", opts]` → the number or `{"error"}`
//! - `["resources"]` → `{"charges": {"create": ["params", "POST"], ...}, "accounts":
//!   {"retrieve": ["none", "GET"]}, ...}` (every family of `client::resources`)

use crate::client::error::ClientError;
use crate::client::json::{fmt_num, Json};
use crate::client::page::{self, Dir, Which};
use crate::client::retry::{self, Outcome};
use crate::client::{resources, Config, Env};
use crate::prelude::*;
use wasm_bindgen::prelude::*;

/// The one entry point: `["name", ...args]` as JSON → the answer as JSON.
#[wasm_bindgen]
pub fn call(input: &str) -> String {
    match Json::parse(input) {
        Ok(Json::Arr(a)) => dispatch(&a),
        _ => error_json(&ClientError::invalid("params", "the call could not be read")),
    }
}

fn error_json(e: &ClientError) -> String {
    crate::cat!("{\"error\":", &e.to_json(), "}")
}

fn config(client: &Json) -> Result<Config, ClientError> {
    let at = |i: usize| arg(client, i);
    let env = Env {
        browser: at(1).as_bool() == Some(true),
        runtime: at(2).as_str().unwrap_or("").into(),
        runtime_version: at(3).as_str().unwrap_or("").into(),
    };
    Config::new(at(0), &env)
}

fn arg(v: &Json, i: usize) -> &Json {
    match v {
        Json::Arr(a) => a.get(i).unwrap_or(&Json::Null),
        _ => &Json::Null,
    }
}

fn num(v: &Json) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn request(r: Result<crate::client::Request, ClientError>) -> String {
    match r {
        Ok(r) => r.to_json(),
        Err(e) => error_json(&e),
    }
}

fn dispatch(a: &[Json]) -> String {
    let at = |i: usize| a.get(i).unwrap_or(&Json::Null);
    let s = |i: usize| at(i).as_str().unwrap_or("");
    let opt = |i: usize| at(i).as_str();
    match s(0) {
        "configure" => match config(at(1)) {
            Ok(_) => "null".into(),
            Err(e) => error_json(&e),
        },
        "prepare" => {
            let mut random = [0u8; 16];
            if let Json::Arr(bytes) = at(5) {
                for (d, b) in random.iter_mut().zip(bytes) {
                    *d = num(b) as u8;
                }
            }
            request(config(at(1)).and_then(|c| c.prepare(s(2), s(3), at(4), None, &random)))
        }
        "page" => {
            let (dir, more) = (Dir::parse(s(5)), at(6).as_bool() == Some(true));
            let cursor = match s(4) {
                "next" => page::neighbour(Which::Next, dir, more, opt(7), opt(8)),
                "prev" => page::neighbour(Which::Previous, dir, more, opt(7), opt(8)),
                _ => page::walk_next(dir, more, opt(7), opt(8)),
            };
            match cursor {
                None => "null".into(),
                Some(c) => request(config(at(1)).and_then(|cfg| cfg.prepare(s(2), "list", at(3), Some(c), &[]))),
            }
        }
        "error" => {
            let cfg = config(at(1)).ok();
            let secrets = cfg.as_ref().map(|c| c.secrets());
            let ra = retry::parse_retry_after(opt(5));
            let secrets: &[&str] = secrets.as_ref().map_or(&[], |x| &x[..]);
            let e = ClientError::from_response(num(at(2)) as u16, s(3), opt(4), ra, secrets);
            let token = cfg.as_ref().is_some_and(|c| c.uses_access_token());
            (if token { e.with_token_scope_hint() } else { e }).to_json()
        }
        "delay" => {
            let outcome = match num(at(3)) as i32 {
                -1 => Outcome::Timeout,
                st if !(1..=999).contains(&st) => Outcome::Network,
                st => Outcome::Status(st as u16),
            };
            let ra = retry::parse_retry_after(opt(4));
            fmt_num(retry::next_delay_ms(num(at(1)) as u32, num(at(2)) as u32, outcome, ra, num(at(5))).unwrap_or(-1.0))
        }
        "failure" => ClientError::connection(s(1), num(at(2))).to_json(),
        "hasMore" => {
            let more = page::has_more(num(at(1)) as u32, num(at(2)) as u32, at(3).as_bool());
            String::from(if more { "true" } else { "false" })
        }
        "toArrayMax" => match page::to_array_max(at(1)) {
            Ok(n) => crate::client::json::itoa(n as i64),
            Err(e) => error_json(&e),
        },
        "resources" => resources::table_json(),
        _ => error_json(&ClientError::invalid("method", "unknown core call")),
    }
}
