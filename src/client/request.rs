//! From a configured client and a call (`resource`, `op`, id, params, options) to the exact
//! HTTP request to send, with validation before anything leaves.

use super::error::{ClientError, Redactor};
use super::host::{json_text, push_percent_encoded};
use super::page::{Cursor, ListParams};
use super::{type_name, Json};
use crate::checked::{At, AtStr};
use crate::spec::schema::{validate, CallShape, Field, Op, Resource, Ty};
use std::rc::Rc;

pub const DEFAULT_BASE_URL: &str = "https://matrix-content-s.ailingual.cn";
pub const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;
/// `setTimeout`'s largest delay.
pub const MAX_TIMEOUT_MS: i32 = i32::MAX;
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The largest `maxRetries` accepted.
pub const MAX_RETRIES_LIMIT: u32 = 10;
/// The default `maxResponseBytes`: far above the largest answer of the API (a page of 100
/// charges is ~100 KB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u32 = 8 << 20;
/// The largest `maxResponseBytes` (256 MiB): a body is read into one JavaScript string, and
/// that many bytes of UTF-8 are at most that many UTF-16 units, within every engine's string
/// length (V8's is 2^29 - 24 units).
pub const MAX_RESPONSE_BYTES_LIMIT: i32 = 1 << 28;

/// Facts about the JavaScript runtime, gathered by the binding.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// A global `document` exists.
    pub browser: bool,
    pub runtime: String,
    pub runtime_version: String,
}

/// The credential a request is sent with.
#[derive(Clone, Debug, PartialEq)]
pub enum Auth {
    /// HTTP Basic, the key as user name (servers only).
    ApiKey(String),
    /// `Bearer`: the short-lived token a browser holds (narrow scope).
    AccessToken(String),
}

impl Auth {
    pub fn header(&self) -> String {
        match self {
            Auth::ApiKey(k) => {
                format!("Basic {}", super::host::base64(format!("{k}:").as_bytes()))
            }
            Auth::AccessToken(t) => format!("Bearer {t}"),
        }
    }
    /// The credential, to cut out of anything that could reach an error.
    pub fn secret(&self) -> &str {
        match self {
            Auth::ApiKey(s) | Auth::AccessToken(s) => s,
        }
    }
    pub fn is_token(&self) -> bool {
        matches!(self, Auth::AccessToken(_))
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    auth: Rc<Auth>,
    redactor: Rc<Redactor>,
    /// `auth.header()`, made once (base64 and two formats per call otherwise).
    auth_header: Rc<str>,
    /// An API key may be used here (not a browser, or `dangerouslyAllowBrowser`).
    keys_allowed: bool,
    pub base_url: String,
    /// No `baseUrl` option: [`DEFAULT_BASE_URL`].
    default_address: bool,
    pub timeout_ms: f64,
    pub max_retries: u32,
    pub max_response_bytes: u64,
    user_agent: Rc<str>,
    /// "application/json", shared by every request's headers.
    json: Rc<str>,
}

const CLIENT_OPTIONS: &[Field] = &[
    Field::opt("apiKey", Ty::Token),
    Field::opt("accessToken", Ty::Token),
    Field::opt("baseUrl", Ty::Url),
    Field::opt("timeoutMs", Ty::Int(1, MAX_TIMEOUT_MS)),
    Field::opt("maxRetries", Ty::Int(0, MAX_RETRIES_LIMIT as i32)),
    Field::opt("maxResponseBytes", Ty::Int(1, MAX_RESPONSE_BYTES_LIMIT)),
    // The binding replaces a function by the string "function".
    Field::opt("fetch", Ty::Enum(&["function"])),
    Field::opt("dangerouslyAllowBrowser", Ty::Bool),
];

const CALL_OPTIONS: &[Field] = &[
    Field::opt("idempotencyKey", Ty::Token),
    Field::opt("timeoutMs", Ty::Int(1, MAX_TIMEOUT_MS)),
    Field::opt("maxRetries", Ty::Int(0, MAX_RETRIES_LIMIT as i32)),
    Field::opt("maxResponseBytes", Ty::Int(1, MAX_RESPONSE_BYTES_LIMIT)),
    // The binding replaces an AbortSignal by `true`.
    Field::opt("signal", Ty::Bool),
    // Per-call credentials: a platform acting for several merchants.
    Field::opt("apiKey", Ty::Token),
    Field::opt("accessToken", Ty::Token),
];

const BROWSER_KEY: &str = "An API key must never reach a browser: it would let anyone use your account. \
    Create an access token on your server (qp.accessToken.create()) and use \
    new QbitPay({ accessToken }) in the browser. If this is not a browser, or you \
    accept the risk, pass dangerouslyAllowBrowser: true.";

/// One call as JavaScript made it: the id (for `retrieve(id)`), the parameters and the
/// per-call options, each `null` when absent. `params_text`: the parameters' JSON text as
/// the binding received them, sent as the body when validation leaves them as they are (no
/// second serialisation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Call {
    pub id: Json,
    pub params: Json,
    pub opts: Json,
    pub params_text: Option<String>,
}

/// One HTTP request, ready for `fetch`.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    /// `url` without the base URL: what request hooks see.
    pub path: String,
    /// Values shared with the client's (the credential's header, the user agent), not copied.
    pub headers: Vec<(&'static str, Rc<str>)>,
    pub body: Option<String>,
    pub timeout_ms: f64,
    pub max_retries: u32,
    /// The largest body read from an answer.
    pub max_response_bytes: u64,
    /// For lists: the effective limit and the cursor of this page (`None`: the first page).
    pub page: Option<(u32, Option<Cursor>)>,
    /// The `Idempotency-Key` of a POST or PUT (the same for every attempt of the call).
    pub idempotency_key: Option<String>,
    /// The credential it is sent with (the client's, or the call's own).
    pub auth: Rc<Auth>,
    /// What cuts that credential out of text, made once per credential.
    pub redactor: Rc<Redactor>,
    /// No `baseUrl` was given: `url` is on [`DEFAULT_BASE_URL`].
    pub default_address: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| &**v)
    }

    /// `s` (e.g. a request id) with this request's credential cut out.
    pub fn redact(&self, s: &str) -> String {
        self.redactor.redact(s)
    }
}

/// Exactly one of `apiKey` and `accessToken` in `o` (an object of validated options).
fn auth_of(o: &serde_json::Map<String, Json>, keys_allowed: bool) -> Result<Option<Auth>, ClientError> {
    let key = o.get("apiKey").and_then(Json::as_str);
    let token = o.get("accessToken").and_then(Json::as_str);
    match (key, token) {
        (Some(_), Some(_)) => {
            Err(ClientError::invalid("accessToken", "Pass either apiKey or accessToken, not both"))
        }
        (None, None) => Ok(None),
        (Some(_), None) if !keys_allowed => Err(ClientError::invalid("apiKey", BROWSER_KEY)),
        (Some(k), None) => Ok(Some(Auth::ApiKey(k.to_string()))),
        (None, Some(t)) => Ok(Some(Auth::AccessToken(t.to_string()))),
    }
}

impl Config {
    /// Validates the client options. Exactly one of `apiKey` and `accessToken`; an API key
    /// in a browser needs `dangerouslyAllowBrowser: true`.
    pub fn new(opts: &Json, env: &Env) -> Result<Config, ClientError> {
        let o = validate(opts, CLIENT_OPTIONS, "")?;
        let keys_allowed =
            !env.browser || o.get("dangerouslyAllowBrowser").and_then(Json::as_bool) == Some(true);
        let auth = auth_of(&o, keys_allowed)?.ok_or_else(|| {
            ClientError::invalid(
                "apiKey",
                "QbitPay needs an apiKey (on a server) or an accessToken (in a browser): new QbitPay({ apiKey })",
            )
        })?;
        let base_url = without_user_info(
            o.get("baseUrl").and_then(Json::as_str).unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/'),
        );
        let mut ua = serde_json::Map::new();
        ua.insert("bindings_version".into(), VERSION.into());
        ua.insert("lang".into(), "js".into());
        ua.insert("publisher".into(), "qbitpay".into());
        if !env.runtime.is_empty() {
            ua.insert("runtime".into(), env.runtime.as_str().into());
        }
        if !env.runtime_version.is_empty() {
            ua.insert("runtime_version".into(), env.runtime_version.as_str().into());
        }
        Ok(Config {
            auth_header: auth.header().into(),
            redactor: Rc::new(Redactor::new(&[auth.secret()])),
            auth: Rc::new(auth),
            keys_allowed,
            default_address: o.get("baseUrl").is_none(),
            base_url,
            timeout_ms: o.get("timeoutMs").and_then(Json::as_f64).unwrap_or(DEFAULT_TIMEOUT_MS),
            max_retries: o.get("maxRetries").and_then(Json::as_f64).map_or(DEFAULT_MAX_RETRIES, |n| n as u32),
            max_response_bytes: o
                .get("maxResponseBytes")
                .and_then(Json::as_f64)
                .map_or(DEFAULT_MAX_RESPONSE_BYTES.into(), |n| n as u64),
            user_agent: json_text(&Json::Object(ua)).unwrap_or_default().into(),
            json: "application/json".into(),
        })
    }

    /// Builds the request for `res.op(...)`. `cursor` replaces a list's cursor (page
    /// navigation). `new_key` makes the `Idempotency-Key` of a POST or PUT without one of
    /// the caller's (called at most once).
    pub fn prepare(
        &self,
        res: &Resource,
        op: &Op,
        call: &Call,
        cursor: Option<Cursor>,
        new_key: impl FnOnce() -> String,
    ) -> Result<Request, ClientError> {
        let opts = validate(&call.opts, CALL_OPTIONS, "")?;
        let (auth, auth_header, redactor) = match auth_of(&opts, self.keys_allowed)? {
            Some(a) => {
                let (h, r) = (a.header().into(), Rc::new(Redactor::new(&[a.secret()])));
                (Rc::new(a), h, r)
            }
            None => (self.auth.clone(), self.auth_header.clone(), self.redactor.clone()),
        };

        let mut url = String::with_capacity(self.base_url.len() + 64);
        url.push_str(&self.base_url);
        let path_start = url.len();
        url.push_str(res.path);
        if op.shape.has_id() && !push_id(&mut url, &call.id) {
            let got = if call.id.is_string() { "a string it cannot be" } else { type_name(&call.id) };
            return Err(ClientError::invalid(
                "id",
                format!(
                    "{}.{}: id must be a non-empty string other than '.' and '..', got {got}",
                    res.name, op.name
                ),
            ));
        }
        url.push_str(op.suffix);

        // The parameters, checked as the API's table declares them (the sandbox runs the
        // same check on what it receives).
        let params = res.check_params(op, &call.params)?;
        let mut page = None;
        let mut body = None;
        match op.shape {
            CallShape::None | CallShape::Id => {}
            CallShape::List => {
                let mut lp = ListParams::from_checked(params);
                if cursor.is_some() {
                    lp.cursor = cursor;
                }
                page = Some((lp.limit, lp.cursor.clone()));
                push_query(&mut url, &lp.query());
            }
            CallShape::Params | CallShape::IdParams if op.method.has_body() => {
                let v = Json::Object(params);
                body = match &call.params_text {
                    // The caller's own text when nothing changed (the usual case).
                    Some(text) if unchanged(&v, &call.params) => Some(text.clone()),
                    // Never `None` for validated parameters (no number beyond 2^53 passes).
                    _ => Some(json_text(&v).ok_or_else(|| {
                        ClientError::invalid("params", "params could not be serialised as JSON")
                    })?),
                };
            }
            CallShape::Params | CallShape::IdParams => push_query(&mut url, &params),
        }
        if op.method.has_body() && body.is_none() {
            body = Some("{}".to_string());
        }

        let mut headers = vec![("Accept", self.json.clone()), ("Authorization", auth_header)];
        let mut idempotency_key = None;
        if body.is_some() {
            headers.push(("Content-Type", self.json.clone()));
            let key = match opts.get("idempotencyKey").and_then(Json::as_str) {
                Some(k) => k.to_string(),
                None => new_key(),
            };
            headers.push(("Idempotency-Key", key.as_str().into()));
            idempotency_key = Some(key);
        }
        headers.push(("X-QbitPay-Client-User-Agent", self.user_agent.clone()));
        Ok(Request {
            method: op.method.as_str(),
            path: url.at(path_start..).to_string(),
            url,
            headers,
            body,
            timeout_ms: opts.get("timeoutMs").and_then(Json::as_f64).unwrap_or(self.timeout_ms),
            max_retries: opts.get("maxRetries").and_then(Json::as_f64).map_or(self.max_retries, |n| n as u32),
            max_response_bytes: opts
                .get("maxResponseBytes")
                .and_then(Json::as_f64)
                .map_or(self.max_response_bytes, |n| n as u64),
            page,
            idempotency_key,
            auth,
            redactor,
            default_address: self.default_address,
        })
    }
}

/// `checked == given` (as JSON values: members in any order). The checked members keep the
/// given ones' order, so the usual case is settled member by member, without a hash lookup
/// per member.
fn unchanged(checked: &Json, given: &Json) -> bool {
    let same_order = match (checked, given) {
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && va == vb)
        }
        _ => false,
    };
    same_order || checked == given
}

/// `url` (an absolute http(s) URL) without its user info (`user:password@`): no `fetch` sends
/// one (each refuses such a URL, and its error would quote the password), and the API's
/// credential is the `Authorization` header.
fn without_user_info(url: &str) -> String {
    match authority(url) {
        Some((at, host, _)) => [url.at(..at + 3), url.at(host..)].concat(),
        None => url.to_string(),
    }
}

/// In `url`, the byte positions of its `://`, of its host (after any user info) and of the
/// end of its authority (the first `/`, `?`, `#` or `\` after the `://`, which WHATWG URLs
/// read as the path's start); `None` without `://`. By byte positions, without char-set
/// patterns (PERFORMANCE.md: sizes).
pub(super) fn authority(url: &str) -> Option<(usize, usize, usize)> {
    let b = url.as_bytes();
    let at = super::find(url, "://")?;
    let start = at + 3;
    let end = (start..b.len()).find(|&i| matches!(b[i], b'/' | b'?' | b'#' | b'\\')).unwrap_or(b.len());
    let host = (start..end).rev().find(|&i| *b.at(i) == b'@').map_or(start, |i| i + 1);
    Some((at, host, end))
}

/// Appends `/{id}` (percent-encoded) to `out` if `id` is a non-empty string, else `false`.
fn push_id(out: &mut String, id: &Json) -> bool {
    match id {
        // `.` and `..` are path segments to a URL parser: `/charges/..` would reach `/`.
        Json::String(id) if !id.is_empty() && id != "." && id != ".." => {
            out.push('/');
            push_percent_encoded(out, id, false);
            true
        }
        _ => false,
    }
}

fn push_query(url: &mut String, members: &serde_json::Map<String, Json>) {
    let mut first = true;
    for (k, v) in members {
        let text;
        let val = match v {
            Json::String(s) => s,
            Json::Null => continue,
            other => {
                text = json_text(other).unwrap_or_default();
                &text
            }
        };
        url.push(if first { '?' } else { '&' });
        first = false;
        push_percent_encoded(url, k, false);
        url.push('=');
        push_percent_encoded(url, val, false);
    }
}

#[cfg(test)]
mod tests;
