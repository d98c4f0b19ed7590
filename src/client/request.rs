//! From a configured client and a call (`resource`, `op`, id, params, options) to the exact
//! HTTP request to send, with validation before anything leaves.

use super::error::ClientError;
use super::page::{Cursor, ListParams};
use super::retry::{Outcome, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, MAX_RETRIES_LIMIT};
use super::{type_name, Json};
use crate::spec::schema::{validate, CallShape, Field, Op, Resource, Ty};
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

pub const DEFAULT_BASE_URL: &str = "https://matrix-content-s.ailingual.cn";
pub const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;
/// `setTimeout`'s largest delay.
pub const MAX_TIMEOUT_MS: i32 = i32::MAX;
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

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
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{k}:")))
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
    auth: Auth,
    /// `auth.header()`, made once: base64 and two formats per call otherwise (PERFORMANCE.md).
    auth_header: String,
    /// An API key may be used here (not a browser, or `dangerouslyAllowBrowser`).
    keys_allowed: bool,
    pub base_url: String,
    pub timeout_ms: f64,
    pub max_retries: u32,
    pub max_response_bytes: u64,
    user_agent: String,
}

const CLIENT_OPTIONS: &[Field] = &[
    Field::opt("apiKey", Ty::Token),
    Field::opt("accessToken", Ty::Token),
    Field::opt("baseUrl", Ty::Url),
    Field::opt("timeoutMs", Ty::Int(1, MAX_TIMEOUT_MS)),
    Field::opt("maxRetries", Ty::Int(0, MAX_RETRIES_LIMIT as i32)),
    Field::opt("maxResponseBytes", Ty::Int(1, i32::MAX)),
    // The binding replaces a function by the string "function".
    Field::opt("fetch", Ty::Enum(&["function"])),
    Field::opt("dangerouslyAllowBrowser", Ty::Bool),
];

const CALL_OPTIONS: &[Field] = &[
    Field::opt("idempotencyKey", Ty::Token),
    Field::opt("timeoutMs", Ty::Int(1, MAX_TIMEOUT_MS)),
    Field::opt("maxRetries", Ty::Int(0, MAX_RETRIES_LIMIT as i32)),
    Field::opt("maxResponseBytes", Ty::Int(1, i32::MAX)),
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
/// per-call options, each `null` when absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Call {
    pub id: Json,
    pub params: Json,
    pub opts: Json,
}

/// One HTTP request, ready for `fetch`.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    /// `url` without the base URL: what request hooks see.
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
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
    pub auth: Auth,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The error for an answer to this request that is not a success (or a 2xx whose body
    /// is not JSON): its credential cut out, and for an access token what its scope allows.
    pub fn error_for(
        &self,
        status: u16,
        body: &str,
        request_id: Option<&str>,
        retry_after: Option<f64>,
    ) -> ClientError {
        let e = ClientError::from_response(status, body, request_id, retry_after, &[self.auth.secret()]);
        if self.auth.is_token() {
            e.with_token_scope_hint()
        } else {
            e
        }
    }

    /// The error a call ends with when its last attempt ended with `outcome` (the retry
    /// policy said no more): a connection error, or the error for the server's answer.
    pub fn final_error(
        &self,
        outcome: Outcome,
        body: &str,
        request_id: Option<&str>,
        retry_after: Option<f64>,
    ) -> ClientError {
        match outcome {
            Outcome::Network => ClientError::connection("network", self.timeout_ms),
            Outcome::Timeout => ClientError::connection("timeout", self.timeout_ms),
            Outcome::Status(status) => self.error_for(status, body, request_id, retry_after),
        }
    }

    /// `s` (e.g. a request id) with this request's credential cut out.
    pub fn redact(&self, s: &str) -> String {
        super::error::redact(s, &[self.auth.secret()])
    }

    /// A redirect (never followed): names the status and where it pointed (the origin only;
    /// status 0: a browser's opaque answer, which shows neither).
    pub fn redirect_error(&self, status: u16, location: Option<&str>) -> ClientError {
        let to = location.map(|l| format!(" to {}", origin(l, &self.url))).unwrap_or_default();
        let (status, answered) = match status {
            0 => (None, String::from("with a redirect")),
            s => (Some(s), format!("HTTP {s}, a redirect{to}")),
        };
        let message = format!("The QbitPay API answered {answered}, which is never followed: check baseUrl");
        ClientError::refused("redirect", message, status, None, &[self.auth.secret()])
    }

    /// A body over `maxResponseBytes`, as the server declared it (`declared`) or as read.
    pub fn too_large_error(
        &self,
        status: u16,
        request_id: Option<&str>,
        declared: Option<u64>,
    ) -> ClientError {
        let limit = super::fmt_num(self.max_response_bytes as f64);
        let message = match declared {
            Some(n) => format!("The QbitPay API's answer (HTTP {status}) is {} bytes, more than maxResponseBytes ({limit}); it was not read", super::fmt_num(n as f64)),
            None => format!("The QbitPay API's answer (HTTP {status}) is more than maxResponseBytes ({limit} bytes); reading stopped there"),
        };
        ClientError::refused("response_too_large", message, Some(status), request_id, &[self.auth.secret()])
    }

    /// A 2xx whose body is not the object the call expects (`got` says what it was).
    pub fn unexpected_body_error(&self, status: u16, request_id: Option<&str>, got: &str) -> ClientError {
        let expected = if self.page.is_some() { "a list object" } else { "a JSON object" };
        let message =
            format!("The QbitPay API answered HTTP {status} with {got} where {expected} was expected");
        ClientError::refused("invalid_response", message, Some(status), request_id, &[self.auth.secret()])
    }
}

/// The origin (`scheme://host[:port]`) of `location`, that of `url` when it is relative;
/// never its path, query or user info.
fn origin(location: &str, url: &str) -> String {
    let absolute = location
        .split_once("://")
        .filter(|(scheme, _)| !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric()));
    let (scheme, rest) = absolute.or_else(|| url.split_once("://")).unwrap_or_default();
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    format!("{scheme}://{}", authority.rsplit_once('@').map_or(authority, |(_, host)| host))
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
        let base_url = o
            .get("baseUrl")
            .and_then(Json::as_str)
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
            .to_string();
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
            auth_header: auth.header(),
            auth,
            keys_allowed,
            base_url,
            timeout_ms: o.get("timeoutMs").and_then(Json::as_f64).unwrap_or(DEFAULT_TIMEOUT_MS),
            max_retries: o.get("maxRetries").and_then(Json::as_f64).map_or(DEFAULT_MAX_RETRIES, |n| n as u32),
            max_response_bytes: o
                .get("maxResponseBytes")
                .and_then(Json::as_f64)
                .map_or(DEFAULT_MAX_RESPONSE_BYTES.into(), |n| n as u64),
            user_agent: Json::Object(ua).to_string(),
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
        let (auth, auth_header) = match auth_of(&opts, self.keys_allowed)? {
            Some(a) => {
                let h = a.header();
                (a, h)
            }
            None => (self.auth.clone(), self.auth_header.clone()),
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
                body = Some(Json::Object(params).to_string());
            }
            CallShape::Params | CallShape::IdParams => push_query(&mut url, &params),
        }
        if op.method.has_body() && body.is_none() {
            body = Some("{}".to_string());
        }

        let mut headers = vec![("Accept", "application/json".to_string()), ("Authorization", auth_header)];
        let mut idempotency_key = None;
        if body.is_some() {
            headers.push(("Content-Type", "application/json".to_string()));
            let key = match opts.get("idempotencyKey").and_then(Json::as_str) {
                Some(k) => k.to_string(),
                None => new_key(),
            };
            headers.push(("Idempotency-Key", key.clone()));
            idempotency_key = Some(key);
        }
        headers.push(("X-QbitPay-Client-User-Agent", self.user_agent.clone()));
        Ok(Request {
            method: op.method.as_str(),
            path: url[path_start..].to_string(),
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
        })
    }
}

/// What [`push_id`] and [`push_query`] leave as they are: RFC 3986's unreserved characters.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Appends `/{id}` (percent-encoded) to `out` if `id` is a non-empty string, else `false`.
fn push_id(out: &mut String, id: &Json) -> bool {
    match id {
        // `.` and `..` are path segments to a URL parser: `/charges/..` would reach `/`.
        Json::String(id) if !id.is_empty() && id != "." && id != ".." => {
            out.push('/');
            out.extend(utf8_percent_encode(id, ESCAPED));
            true
        }
        _ => false,
    }
}

fn push_query(url: &mut String, members: &serde_json::Map<String, Json>) {
    let mut first = true;
    for (k, v) in members {
        let val = match v {
            Json::String(s) => s.clone(),
            Json::Null => continue,
            other => other.to_string(),
        };
        url.push(if first { '?' } else { '&' });
        first = false;
        url.extend(utf8_percent_encode(k, ESCAPED));
        url.push('=');
        url.extend(utf8_percent_encode(&val, ESCAPED));
    }
}

#[cfg(test)]
mod tests;
