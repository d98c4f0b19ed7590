//! The attempt loop of a call as a state machine ([`Attempts`]): the binding reports what it
//! saw (no answer, the head of an answer, its body) and gets the next action (send, read at
//! most so many bytes, wait, done, fail). What counts as success, which outcomes are retried
//! and how long to wait, which answers are refused (redirects, bodies over the limit, a 2xx
//! that is not the object the call expects) and the final error are decided here.
//! Randomness comes in as a function returning [0, 1), so the loop is deterministic under test.

use super::error::{excerpt, is_whole, raw_body, ClientError, LONG_BODY, MAX_ERROR_TEXT};
use super::host::http_date_ms;
use super::request::{authority, Request};
use super::{fmt_num, Json};
use crate::checked::{out_of_range, AtStr};
use std::borrow::Borrow;

/// What one attempt ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with this status.
    Status(u16),
    /// The request failed without an answer (DNS, refused, reset...).
    Network,
    /// The attempt ran past its `timeoutMs`.
    Timeout,
}

pub const BASE_DELAY_MS: f64 = 500.0;
pub const MAX_DELAY_MS: f64 = 8_000.0;
pub const MAX_RETRY_AFTER_MS: f64 = 60_000.0;

/// Whether this outcome may be tried again: network errors, timeouts, 409, 429 and 5xx.
pub fn is_retryable(outcome: Outcome) -> bool {
    match outcome {
        Outcome::Network | Outcome::Timeout => true,
        Outcome::Status(s) => s == 409 || s == 429 || (500..=599).contains(&s),
    }
}

/// The `Retry-After` header in seconds: delta-seconds (a fraction allowed), or an HTTP date
/// counted from the answer's `Date` header (the server's clock, not this machine's; a date
/// past is 0). `None` when it is neither, or a date comes without a `Date`: the backoff is used
/// then, but an answer that carried the header is still retried no sooner than the initial
/// delay ([`next_delay_ms`]).
pub fn parse_retry_after(header: Option<&str>, date: Option<&str>) -> Option<f64> {
    let h = header?.trim();
    let (whole, fraction) = h.split_once('.').unwrap_or((h, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        let (at, now) = (http_date_ms(h)?, http_date_ms(date?.trim())?);
        return Some(((at - now) / 1000.0).max(0.0));
    }
    Some(decimal(h)).filter(|s| s.is_finite() && *s >= 0.0)
}

/// The value of a literal of digits with an optional fraction: JavaScript's `Number` in the
/// wasm module (serde_json's typed parse linked serde's float-printing error messages into
/// the client: PERFORMANCE.md), Rust's parser on the host.
#[cfg(all(target_arch = "wasm32", feature = "js-numbers"))]
fn decimal(s: &str) -> f64 {
    crate::spec::host::number(s)
}
#[cfg(not(all(target_arch = "wasm32", feature = "js-numbers")))]
fn decimal(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// Full-jitter exponential backoff for the `retry`-th retry (0 for the first):
/// uniform in [0, min(cap, base * 2^retry)).
pub fn backoff_ms(retry: u32, rand: f64) -> f64 {
    let ceiling = (BASE_DELAY_MS * (1u64 << retry.min(30)) as f64).min(MAX_DELAY_MS);
    (rand.clamp(0.0, 1.0) * ceiling) as u64 as f64
}

/// After `attempts` attempts (1 after the first), the delay before the next one, or `None`
/// when the outcome is final (success, not retryable, or retries used up). A `Retry-After`
/// lengthens the backoff, never shortens it, and an answer that carried one is never retried
/// sooner than the initial delay (stripe-node's rule): `Retry-After: 0` is not "at once".
pub fn next_delay_ms(
    attempts: u32,
    max_retries: u32,
    outcome: Outcome,
    retry_after_s: Option<f64>,
    rand: f64,
) -> Option<f64> {
    if attempts == 0 || attempts > max_retries || !is_retryable(outcome) {
        return None;
    }
    let backoff = backoff_ms(attempts - 1, rand);
    Some(match retry_after_s {
        Some(s) => {
            let ms = (s * 1000.0).min(MAX_RETRY_AFTER_MS);
            let whole = ms as u64 as f64;
            let asked = if whole < ms { whole + 1.0 } else { whole };
            asked.max(backoff).max(BASE_DELAY_MS)
        }
        None => backoff,
    })
}

/// The most values a 2xx body may hold to be parsed, for a `maxResponseBytes` of `limit`:
/// one for every 64 bytes of the limit, and never fewer than 65,536. JSON.parse makes up to
/// ~70 bytes of each (an empty object: 23 times the text `{},`) and cannot be stopped once
/// started, so a body of the limit in such values (a few hundred KB of gzip at the largest
/// limit) would take gigabytes of the engine's heap: the process would end.
pub fn max_values(limit: u64) -> u64 {
    (limit / 64).max(1 << 16)
}

/// What a 2xx body is, as the binding parsed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// An object; `data_array`: with a `data` array, as a list answers.
    Object { data_array: bool },
    /// Anything else: other JSON, or not JSON.
    Other,
}

/// What the binding saw since the last [`Action`].
pub enum Seen<'a> {
    /// The attempt got no answer ([`Outcome::Network`] or [`Outcome::Timeout`]).
    NoAnswer(Outcome),
    /// An answer's status and headers (`header` reads one by lower-case name).
    /// `opaque_redirect`: a browser's answer to a redirect under `redirect: 'manual'`
    /// (status 0, no headers).
    Head {
        status: u16,
        opaque_redirect: bool,
        request_id: Option<&'a str>,
        header: &'a dyn Fn(&str) -> Option<String>,
    },
    /// The whole body, within the limit: its shape, and its text, asked for only when the
    /// call fails (a success is never copied into the core): `text(n)` is its first `n`
    /// UTF-16 code units (all of it when shorter).
    Body { shape: Shape, text: &'a dyn Fn(usize) -> String },
    /// The body went past the limit while it was being read.
    Overflow,
    /// The wait of [`Action::Wait`] is over.
    Waited,
}

#[derive(Debug, PartialEq)]
pub enum Action {
    /// Send attempt number n (1 for the first).
    Send(u32),
    /// Read the body, at most `limit` bytes: counted as it streams in, or at once when
    /// `whole` (the server declared a length within the limit, with no content encoding: the
    /// `fetch` implementation holds the body to that length).
    Read { limit: u64, whole: bool },
    /// The body read is the answer.
    Done,
    /// Wait this many milliseconds, then report [`Seen::Waited`].
    Wait(f64),
    /// The call ends with this error; stop reading the answer if there is one.
    Fail(Box<FinalError>),
}

/// The error a call ends with.
#[derive(Debug, PartialEq)]
pub struct FinalError {
    pub error: ClientError,
    /// What the error keeps of the body (`raw`), credentials cut out.
    pub raw: Option<Json>,
}

/// One call's attempts, over its request (owned, or borrowed: `R` is `Request` or `&Request`).
pub struct Attempts<R: Borrow<Request>> {
    req: R,
    rand: fn() -> f64,
    sent: u32,
    status: u16,
    request_id: Option<String>,
    retry_after: Option<f64>,
    /// The last answer carried a `Retry-After`, readable or not.
    asked_to_wait: bool,
}

impl<R: Borrow<Request>> Attempts<R> {
    pub fn new(req: R, rand: fn() -> f64) -> Attempts<R> {
        Attempts { req, rand, sent: 0, status: 0, request_id: None, retry_after: None, asked_to_wait: false }
    }

    /// The request the attempts send.
    pub fn request(&self) -> &Request {
        self.req.borrow()
    }

    /// The status of the last answer's head (0 before one).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The last answer's request id, credentials cut out.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The first action: send the first attempt.
    pub fn start(&mut self) -> Action {
        self.sent = 1;
        Action::Send(1)
    }

    pub fn next(&mut self, seen: Seen<'_>) -> Action {
        match seen {
            Seen::Waited => {
                self.sent += 1;
                Action::Send(self.sent)
            }
            Seen::NoAnswer(outcome) => self.after(outcome, None),
            Seen::Head { status, opaque_redirect, request_id, header } => {
                self.status = status;
                self.request_id = request_id.map(str::to_string);
                self.retry_after = None;
                self.asked_to_wait = false;
                if opaque_redirect || (300..400).contains(&status) {
                    return self
                        .fail(self.request().redirect_error(status, header("location").as_deref()), None);
                }
                let limit = self.request().max_response_bytes;
                let declared = header("content-length").and_then(|n| n.trim().parse::<u64>().ok());
                if let Some(n) = declared.filter(|n| *n > limit) {
                    return self.fail(
                        self.request().too_large_error(status, self.request_id.as_deref(), Some(n)),
                        None,
                    );
                }
                if !(200..300).contains(&status) {
                    let asked = header("retry-after");
                    self.asked_to_wait = asked.is_some();
                    self.retry_after = parse_retry_after(asked.as_deref(), header("date").as_deref());
                }
                Action::Read { limit, whole: declared.is_some() && header("content-encoding").is_none() }
            }
            Seen::Overflow => {
                self.fail(self.request().too_large_error(self.status, self.request_id.as_deref(), None), None)
            }
            Seen::Body { shape, text } => {
                if !(200..300).contains(&self.status) {
                    return self.after(Outcome::Status(self.status), Some(text));
                }
                let list = self.request().page.is_some();
                if let Shape::Object { data_array } = shape {
                    if data_array || !list {
                        return Action::Done;
                    }
                }
                // A failure from here on: only now is the body copied and read again.
                let text = text(MAX_ERROR_TEXT + 1);
                let got = match shape {
                    Shape::Object { .. } => "an object without a data array",
                    _ if !is_whole(&text) => LONG_BODY,
                    _ => match serde_json::from_str::<Json>(&text) {
                        Ok(Json::Null) => "null",
                        Ok(Json::Array(_)) => "an array",
                        Ok(Json::String(_)) => "a string",
                        Ok(Json::Number(_)) => "a number",
                        Ok(Json::Bool(_)) => "a boolean",
                        _ => "a body that is not JSON",
                    },
                };
                let body = excerpt(&text, &[self.request().auth.secret()]);
                let e = self.request().unexpected_body_error(self.status, self.request_id.as_deref(), got);
                self.fail(e, Some(Json::String(body)))
            }
        }
    }

    /// After an attempt that did not succeed: wait and try again, or fail.
    fn after(&mut self, outcome: Outcome, text: Option<&dyn Fn(usize) -> String>) -> Action {
        let rand = self.rand;
        // A `Retry-After` that cannot be read still asks for a wait: no sooner than the floor.
        let asked = self.retry_after.or(self.asked_to_wait.then_some(0.0));
        match next_delay_ms(self.sent, self.request().max_retries, outcome, asked, rand()) {
            Some(ms) => Action::Wait(ms),
            None => {
                let body = text.map(|t| t(MAX_ERROR_TEXT + 1)).unwrap_or_default();
                let e =
                    self.request().final_error(outcome, &body, self.request_id.as_deref(), self.retry_after);
                let raw = text.map(|_| raw_body(&body, &[self.request().auth.secret()]));
                self.fail(e, raw)
            }
        }
    }

    /// Before a 2xx body of `len` UTF-16 units is parsed: whether to parse it, or `Err(Fail)`
    /// when it holds more values than [`max_values`] allows. Looked at only when `len` is
    /// more than that: then a body that does not start with `{` (`text(n)`: its first `n`
    /// units) is no object, so not parsed, and one that does has its `{`, `[` and `,`
    /// counted (`values(max)`, up to `max + 1`).
    pub fn parse_body(
        &self,
        len: u64,
        text: &dyn Fn(usize) -> String,
        values: &dyn Fn(u64) -> u64,
    ) -> Result<bool, Action> {
        let (req, max) = (self.request(), max_values(self.request().max_response_bytes));
        if len <= max {
            return Ok(true);
        }
        if !text(MAX_ERROR_TEXT).trim_start().starts_with('{') {
            return Ok(false);
        }
        if values(max) <= max {
            return Ok(true);
        }
        let message = format!("The QbitPay API's answer (HTTP {}) holds more than {} JSON values, more than maxResponseBytes ({}) lets it parse; it was not parsed", u32::from(self.status), fmt_num(max as f64), fmt_num(req.max_response_bytes as f64));
        let e = ClientError::refused(
            "response_too_large",
            message,
            Some(self.status),
            self.request_id(),
            &[req.auth.secret()],
        );
        Err(self.fail(e, None))
    }

    fn fail(&self, error: ClientError, raw: Option<Json>) -> Action {
        Action::Fail(Box::new(FinalError { error, raw }))
    }
}

/// The errors of answers the attempt loop ends a call with, for this request: its credential
/// cut out of whatever the server sent.
impl Request {
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
        let no_answer = |code| {
            let mut e =
                ClientError::connection(code, self.timeout_ms, Some((&self.address(), self.default_address)));
            e.message = self.redact(&e.message);
            e
        };
        match outcome {
            Outcome::Network => no_answer("network"),
            Outcome::Timeout => no_answer("timeout"),
            Outcome::Status(status) => self.error_for(status, body, request_id, retry_after),
        }
    }

    /// Where the request went, for people: its origin (without user info) and path, without
    /// the query.
    pub fn address(&self) -> String {
        let (url, b) = (self.url.as_str(), self.url.as_bytes());
        match authority(url) {
            Some((at, host, start)) => {
                let end = (start..b.len()).find(|&i| matches!(b[i], b'?' | b'#')).unwrap_or(b.len());
                [url.at(..at + 3), url.at(host..end)].concat()
            }
            None => "://".into(),
        }
    }

    /// A redirect (never followed): names the status and where it pointed (the origin only;
    /// status 0: a browser's opaque answer, which shows neither).
    pub fn redirect_error(&self, status: u16, location: Option<&str>) -> ClientError {
        let to = location.map(|l| format!(" to {}", origin(l, &self.url))).unwrap_or_default();
        let (status, answered) = match status {
            0 => (None, String::from("with a redirect")),
            // As u32: one integer printer fewer in the wasm module.
            s => (Some(s), format!("HTTP {}, a redirect{to}", u32::from(s))),
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
        let limit = fmt_num(self.max_response_bytes as f64);
        let code = u32::from(status);
        let message = match declared {
            Some(n) => format!("The QbitPay API's answer (HTTP {code}) is {} bytes, more than maxResponseBytes ({limit}); it was not read", fmt_num(n as f64)),
            None => format!("The QbitPay API's answer (HTTP {code}) is more than maxResponseBytes ({limit} bytes); reading stopped there"),
        };
        ClientError::refused("response_too_large", message, Some(status), request_id, &[self.auth.secret()])
    }

    /// A 2xx whose body is not the object the call expects (`got` says what it was).
    pub fn unexpected_body_error(&self, status: u16, request_id: Option<&str>, got: &str) -> ClientError {
        let expected = if self.page.is_some() { "a list object" } else { "a JSON object" };
        let code = u32::from(status);
        let message =
            format!("The QbitPay API answered HTTP {code} with {got} where {expected} was expected");
        ClientError::refused("invalid_response", message, Some(status), request_id, &[self.auth.secret()])
    }
}

/// The origin (`scheme://host[:port]`) of `location`, that of `url` when it is relative;
/// never its path, query or user info.
fn origin(location: &str, url: &str) -> String {
    let (text, (at, host, end)) = match authority(location) {
        Some(a) if a.0 > 0 && location.as_bytes()[..a.0].iter().all(u8::is_ascii_alphanumeric) => {
            (location, a)
        }
        _ => match authority(url) {
            Some(a) => (url, a),
            None => return "://".into(),
        },
    };
    match (text.get(..at + 3), text.get(host..end)) {
        (Some(scheme), Some(authority)) => [scheme, authority].concat(),
        _ => out_of_range(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_retried() {
        for s in [409, 429, 500, 502, 503, 504, 599] {
            assert!(is_retryable(Outcome::Status(s)), "{s}");
        }
        for s in [200, 201, 400, 401, 402, 403, 404, 422] {
            assert!(!is_retryable(Outcome::Status(s)), "{s}");
        }
        assert!(is_retryable(Outcome::Network) && is_retryable(Outcome::Timeout));
    }

    #[test]
    fn backoff_is_full_jitter_doubling_to_the_cap() {
        assert_eq!(backoff_ms(0, 0.0), 0.0);
        assert_eq!(backoff_ms(0, 0.999_999), 499.0);
        assert_eq!(backoff_ms(1, 0.5), 500.0);
        assert_eq!(backoff_ms(2, 0.5), 1000.0);
        assert_eq!(backoff_ms(3, 0.999_999), 3999.0);
        assert_eq!(backoff_ms(4, 0.999_999), 7999.0);
        assert_eq!(backoff_ms(5, 0.999_999), 7999.0); // capped at 8 s
        assert_eq!(backoff_ms(1000, 1.0), 8000.0);
    }

    #[test]
    fn retries_are_counted_and_retry_after_wins_capped() {
        let s503 = Outcome::Status(503);
        assert_eq!(next_delay_ms(1, 2, s503, None, 0.5), Some(250.0));
        assert_eq!(next_delay_ms(2, 2, s503, None, 0.5), Some(500.0));
        assert_eq!(next_delay_ms(3, 2, s503, None, 0.5), None);
        assert_eq!(next_delay_ms(1, 0, s503, None, 0.5), None);
        assert_eq!(next_delay_ms(1, 2, Outcome::Status(400), None, 0.5), None);
        assert_eq!(next_delay_ms(1, 2, Outcome::Status(200), None, 0.5), None);
        assert_eq!(next_delay_ms(1, 2, Outcome::Status(429), Some(2.0), 0.5), Some(2000.0));
        assert_eq!(next_delay_ms(1, 2, Outcome::Status(429), Some(3600.0), 0.5), Some(60_000.0));
        assert_eq!(next_delay_ms(1, 2, Outcome::Timeout, None, 0.0), Some(0.0));
        // A Retry-After shorter than the backoff does not shorten it, and never goes below
        // the initial delay: `Retry-After: 0` is not a licence to retry at once.
        for (retry, rand, asked, expect) in [
            (1, 0.5, 0.0, 500.0),
            (1, 0.0, 0.0, 500.0),
            (1, 0.5, 0.25, 500.0),
            (1, 0.5, 0.001, 500.0),
            (3, 0.999_999, 0.0, 1999.0),
            (3, 0.999_999, 1.5, 1999.0),
            (3, 0.1, 1.5, 1500.0),
        ] {
            assert_eq!(
                next_delay_ms(retry, 5, Outcome::Status(429), Some(asked), rand),
                Some(expect),
                "{asked}"
            );
        }
    }

    #[test]
    fn retry_after_as_an_http_date_counts_from_the_answers_date() {
        let date = Some("Mon, 07 Dec 2026 08:00:00 GMT");
        let p = |h: &str, d: Option<&str>| parse_retry_after(Some(h), d);
        assert_eq!(p("Mon, 07 Dec 2026 08:00:03 GMT", date), Some(3.0));
        assert_eq!(p("Mon, 07 Dec 2026 09:00:00 GMT", date), Some(3600.0));
        // Past: now. Without the answer's Date, or not a date: unknown.
        assert_eq!(p("Wed, 21 Oct 2015 07:28:00 GMT", date), Some(0.0));
        assert_eq!(p("Mon, 07 Dec 2026 08:00:03 GMT", None), None);
        assert_eq!(p("Mon, 07 Dec 2026 08:00:03 GMT", Some("yesterday")), None);
        // Only IMF-fixdate, as written: no RFC 850 or asctime date, no looser text that a date
        // parser would read anyway.
        for garbage in [
            "garbage",
            "2, 3",
            "2, 3 GMT",
            "1 GMT",
            "Dec 7 GMT",
            "Tue, 07 Dec 2026 08:00:03 GMT",
            "Mon, 07 Dec 2026 08:00:03 +0100 GMT",
            "Monday, 07-Dec-26 08:00:05 GMT",
            "Mon, 07 Dec 2026 08:00:03",
            "-1",
            "NaN",
            "",
        ] {
            assert_eq!(p(garbage, date), None, "{garbage}");
        }

        // An answer with a Retry-After that cannot be read is retried no sooner than the
        // initial delay; the error does not invent a retryAfter for it.
        let req = request(false, r#"{"maxRetries":4}"#);
        fn zero() -> f64 {
            0.0
        }
        let mut s = Script { m: Attempts::new(&req, zero) };
        s.m.start();
        for (header, wait) in [("garbage", 500.0), ("-1", 500.0), ("Mon, 07 Dec 2026 08:00:02 GMT", 2000.0)] {
            s.head(429, &[("retry-after", header), ("date", "Mon, 07 Dec 2026 08:00:00 GMT")]);
            assert_eq!(s.body(Shape::Other, "{}"), Action::Wait(wait), "{header}");
            s.m.next(Seen::Waited);
        }
        s.head(503, &[]);
        assert_eq!(s.body(Shape::Other, "{}"), Action::Wait(0.0), "no header: the plain backoff");
        s.m.next(Seen::Waited);
        s.head(429, &[("retry-after", "soon")]);
        let f = failed(s.body(Shape::Other, "{}"));
        assert_eq!((f.error.kind, f.error.retry_after), (ErrorKind::RateLimit, None));
    }

    #[test]
    fn retry_after_header() {
        let parse_retry_after = |h: Option<&str>| parse_retry_after(h, None);
        assert_eq!(parse_retry_after(Some("2")), Some(2.0));
        assert_eq!(parse_retry_after(Some(" 1.5 ")), Some(1.5));
        assert_eq!(parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(Some("1.")), None);
        assert_eq!(parse_retry_after(Some(".5")), None);
        assert_eq!(parse_retry_after(Some("1.2.3")), None);
        assert_eq!(parse_retry_after(Some("1e3")), None);
        assert_eq!(parse_retry_after(Some("007")), Some(7.0));
        assert_eq!(parse_retry_after(Some("")), None);
        assert_eq!(parse_retry_after(None), None);
    }

    use crate::client::request::{Call, Config, Env};
    use crate::client::{parse, ErrorKind};
    use std::collections::HashMap;

    const KEY: &str = "sk_test_attempts_0123456789";

    fn request(list: bool, opts: &str) -> Request {
        let c = Config::new(
            &parse(&format!(r#"{{"apiKey":"{KEY}","baseUrl":"https://api.example"}}"#)).unwrap(),
            &Env::default(),
        )
        .unwrap();
        let call = Call { opts: parse(opts).unwrap(), ..Call::default() };
        let call = if list { call } else { Call { id: "ch_1".into(), ..call } };
        let res = &crate::spec::resources::charges::RESOURCE;
        let op = if list {
            &crate::spec::resources::charges::list
        } else {
            &crate::spec::resources::charges::retrieve
        };
        c.prepare(res, op, &call, None, String::new).unwrap()
    }
    fn half() -> f64 {
        0.5
    }

    /// Drives a machine through answers: each `(status, headers, shape, body)`.
    struct Script<'a> {
        m: Attempts<&'a Request>,
    }
    impl Script<'_> {
        fn head(&mut self, status: u16, headers: &[(&str, &str)]) -> Action {
            let h: HashMap<String, String> =
                headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let rid = h.get("request-id").cloned();
            self.m.next(Seen::Head {
                status,
                opaque_redirect: false,
                request_id: rid.as_deref(),
                header: &|n: &str| h.get(n).cloned(),
            })
        }
        fn body(&mut self, shape: Shape, text: &str) -> Action {
            self.m.next(Seen::Body { shape, text: &|n| text.chars().take(n).collect() })
        }
    }
    fn failed(a: Action) -> FinalError {
        match a {
            Action::Fail(f) => *f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn a_2xx_object_is_done_and_lists_need_a_data_array() {
        let never = |_| -> String { panic!("a success must not read the text") };
        let req = request(false, "null");
        let mut s = Script { m: Attempts::new(&req, half) };
        assert_eq!(s.m.start(), Action::Send(1));
        assert_eq!(s.head(200, &[("content-length", "20")]), Action::Read { limit: 8 << 20, whole: true });
        assert_eq!(
            s.m.next(Seen::Body { shape: Shape::Object { data_array: false }, text: &never }),
            Action::Done
        );
        // A declared length is trusted only without a content encoding (which could inflate).
        let gzip = s.head(200, &[("content-length", "9"), ("content-encoding", "gzip")]);
        assert_eq!(gzip, Action::Read { limit: 8 << 20, whole: false });

        let list = request(true, "null");
        let mut s = Script { m: Attempts::new(&list, half) };
        s.m.start();
        s.head(200, &[]);
        assert_eq!(
            s.m.next(Seen::Body { shape: Shape::Object { data_array: true }, text: &never }),
            Action::Done
        );
        s.head(200, &[("request-id", "req_9")]);
        let f = failed(s.body(Shape::Object { data_array: false }, r#"{"object":"list"}"#));
        assert_eq!(
            (f.error.code, f.error.status, f.error.request_id.as_deref()),
            (Some("invalid_response"), Some(200), Some("req_9"))
        );
        assert_eq!(f.error.message, "The QbitPay API answered HTTP 200 with an object without a data array where a list object was expected");
        assert_eq!(f.raw, Some(Json::from(r#"{"object":"list"}"#)));
    }

    #[test]
    fn a_2xx_of_another_shape_fails_with_a_redacted_excerpt_and_is_not_retried() {
        let req = request(false, "null");
        for (got, short) in [
            ("null", "null"),
            ("a string", r#""s""#),
            ("a number", "42"),
            ("an array", "[{}]"),
            ("a boolean", "true"),
        ] {
            let mut s = Script { m: Attempts::new(&req, half) };
            s.m.start();
            s.head(200, &[]);
            let f = failed(s.body(Shape::Other, short));
            assert_eq!(
                f.error.message,
                format!("The QbitPay API answered HTTP 200 with {got} where a JSON object was expected")
            );
            assert_eq!(f.raw, Some(Json::from(short)));
        }
        {
            let got = "a body that is not JSON";
            let mut s = Script { m: Attempts::new(&req, half) };
            s.m.start();
            s.head(201, &[("request-id", "req_1")]);
            let body = format!("<html>{KEY} {}</html>", "x".repeat(500));
            let f = failed(s.body(Shape::Other, &body));
            assert_eq!(f.error.kind, ErrorKind::Api);
            assert_eq!(
                f.error.message,
                format!("The QbitPay API answered HTTP 201 with {got} where a JSON object was expected")
            );
            let Some(Json::String(raw)) = f.raw else { panic!("no excerpt") };
            assert!(
                raw.starts_with("<html>[redacted] xxx") && raw.ends_with("...") && raw.chars().count() == 203,
                "{raw}"
            );
        }
    }

    /// A failed answer's body longer than an error reads is asked for in part only, never
    /// parsed, and quoted in part: a hostile 8 MiB error body does not become megabytes of
    /// the module's memory.
    #[test]
    fn a_long_failed_body_is_read_in_part_and_quoted_in_part() {
        let req = request(false, r#"{"maxRetries":0}"#);
        let long = format!(r#"{{"message":"{KEY}","detail":[{}0]}}"#, "0,".repeat(MAX_ERROR_TEXT));
        let asked = std::cell::Cell::new(0);
        let head = |n: usize| {
            asked.set(n);
            long.chars().take(n).collect::<String>()
        };
        for status in [500, 400, 200] {
            let mut m = Attempts::new(&req, half);
            m.start();
            let h = |_: &str| None;
            m.next(Seen::Head { status, opaque_redirect: false, request_id: None, header: &h });
            let f = failed(m.next(Seen::Body { shape: Shape::Other, text: &head }));
            assert_eq!(asked.get(), MAX_ERROR_TEXT + 1, "{status}");
            let expect = if status == 200 {
                "The QbitPay API answered HTTP 200 with a body of more than 65536 characters where a JSON object was expected".to_string()
            } else {
                format!("QbitPay API answered HTTP {status} with a body of more than 65536 characters")
            };
            assert_eq!(f.error.message, expect);
            let Some(Json::String(raw)) = f.raw else { panic!("no excerpt") };
            assert!(
                raw.starts_with(r#"{"message":"[redacted]","detail":[0,0"#) && raw.ends_with("..."),
                "{raw}"
            );
            assert!(raw.chars().count() <= 203);
        }
        assert_eq!(LONG_BODY, format!("a body of more than {MAX_ERROR_TEXT} characters"));
        // At the bound (in UTF-16 code units): read whole.
        let at = format!(r#"{{"message":"é{}"}}"#, "x".repeat(MAX_ERROR_TEXT - 15));
        assert_eq!(at.encode_utf16().count(), MAX_ERROR_TEXT);
        let e = ClientError::from_response(500, &at, None, None, &[]);
        assert!(e.message.starts_with("éxxx"), "{}", &e.message[..20]);
    }

    #[test]
    fn retries_follow_the_policy_then_fail_with_the_last_answer() {
        let req = request(false, "null");
        let mut s = Script { m: Attempts::new(&req, half) };
        assert_eq!(s.m.start(), Action::Send(1));
        assert_eq!(s.head(503, &[]), Action::Read { limit: 8 << 20, whole: false });
        assert_eq!(s.body(Shape::Other, "busy"), Action::Wait(250.0));
        assert_eq!(s.m.next(Seen::Waited), Action::Send(2));
        assert_eq!(s.m.next(Seen::NoAnswer(Outcome::Timeout)), Action::Wait(500.0));
        assert_eq!(s.m.next(Seen::Waited), Action::Send(3));
        s.head(429, &[("retry-after", "7"), ("request-id", "req_3")]);
        let f = failed(s.body(Shape::Other, r#"{"type":"rate_limit_error","message":"slow down","detail":{"k":"sk_test_attempts_0123456789"}}"#));
        assert_eq!(
            (f.error.kind, f.error.retry_after, f.error.request_id.as_deref()),
            (ErrorKind::RateLimit, Some(7.0), Some("req_3"))
        );
        assert_eq!(f.raw.unwrap()["detail"]["k"], "[redacted]");

        // Retry-After wins over the backoff; a 4xx is final at once; so is the last network error.
        let mut s = Script { m: Attempts::new(&req, half) };
        s.m.start();
        s.head(429, &[("retry-after", "2")]);
        assert_eq!(s.body(Shape::Other, "{}"), Action::Wait(2000.0));
        s.m.next(Seen::Waited);
        s.head(400, &[("retry-after", "2")]);
        let f = failed(s.body(Shape::Other, r#"{"message":"bad amount","param":"amount"}"#));
        assert_eq!(
            (f.error.message.as_str(), f.error.param.as_deref(), f.error.retry_after),
            ("bad amount", Some("amount"), None)
        );

        let once = request(false, r#"{"maxRetries":0}"#);
        let mut m = Attempts::new(&once, half);
        m.start();
        let f = failed(m.next(Seen::NoAnswer(Outcome::Network)));
        assert_eq!((f.error.code, f.raw), (Some("network"), None));
    }

    #[test]
    fn no_answer_names_where_the_request_went_without_credentials_or_query() {
        let cfg = |opts: &str| Config::new(&parse(opts).unwrap(), &Env::default()).unwrap();
        let call = Call { params: parse(r#"{"limit":3,"externalOrderId":"o"}"#).unwrap(), ..Call::default() };
        let list = &crate::spec::resources::charges::list;
        let res = &crate::spec::resources::charges::RESOURCE;
        let c = cfg(&format!(r#"{{"apiKey":"{KEY}","baseUrl":"https://u:pw@api.example:8443/v2/"}}"#));
        let req = c.prepare(res, list, &call, None, String::new).unwrap();
        assert_eq!(req.address(), "https://api.example:8443/v2/api/v1/charges");
        let e = req.final_error(Outcome::Network, "", None, None);
        assert_eq!(
            (e.message.as_str(), e.code),
            ("Could not connect to the QbitPay API at https://api.example:8443/v2/api/v1/charges (network error)", Some("network"))
        );
        let e = req.final_error(Outcome::Timeout, "", None, None);
        assert_eq!(e.message, "Request to the QbitPay API at https://api.example:8443/v2/api/v1/charges timed out after 30000 ms");
        // No baseUrl: the default address, said to be one; an id that is the key is cut out.
        let c = cfg(&format!(r#"{{"apiKey":"{KEY}"}}"#));
        let by_key = Call { id: KEY.into(), ..Call::default() };
        let req =
            c.prepare(res, &crate::spec::resources::charges::retrieve, &by_key, None, String::new).unwrap();
        let e = req.final_error(Outcome::Network, "", None, None);
        assert_eq!(e.message, format!("Could not connect to the QbitPay API at {}/api/v1/charges/[redacted] (network error; no baseUrl was given, so that is the default address)", crate::client::request::DEFAULT_BASE_URL));
    }

    #[test]
    fn redirects_are_refused_naming_only_the_origin() {
        let req = request(false, "null");
        for status in [301, 302, 303, 307, 308] {
            let mut s = Script { m: Attempts::new(&req, half) };
            s.m.start();
            let f = failed(s.head(
                status,
                &[("location", "https://user:pw@evil.example:8443/steal?key=sk_test_attempts_0123456789")],
            ));
            assert_eq!((f.error.code, f.error.status), (Some("redirect"), Some(status)));
            assert_eq!(
                f.error.message,
                format!("The QbitPay API answered HTTP {status}, a redirect to https://evil.example:8443, which is never followed: check baseUrl")
            );
        }
        let mut s = Script { m: Attempts::new(&req, half) };
        s.m.start();
        assert!(failed(s.head(307, &[("location", "/elsewhere")]))
            .error
            .message
            .contains("a redirect to https://api.example,"));
        let mut m = Attempts::new(&req, half);
        m.start();
        let f = failed(m.next(Seen::Head {
            status: 0,
            opaque_redirect: true,
            request_id: None,
            header: &|_: &str| None,
        }));
        assert_eq!((f.error.code, f.error.status), (Some("redirect"), None));
    }

    #[test]
    fn bodies_over_the_limit_are_refused_declared_or_read() {
        let req = request(false, r#"{"maxResponseBytes":100}"#);
        assert_eq!(req.max_response_bytes, 100);
        let mut s = Script { m: Attempts::new(&req, half) };
        s.m.start();
        let f = failed(s.head(200, &[("content-length", "101"), ("request-id", "req_big")]));
        assert_eq!(
            (f.error.code, f.error.status, f.error.request_id.as_deref()),
            (Some("response_too_large"), Some(200), Some("req_big"))
        );
        assert_eq!(f.error.message, "The QbitPay API's answer (HTTP 200) is 101 bytes, more than maxResponseBytes (100); it was not read");
        let mut s = Script { m: Attempts::new(&req, half) };
        s.m.start();
        assert_eq!(s.head(500, &[("content-length", "100")]), Action::Read { limit: 100, whole: true });
        let f = failed(s.m.next(Seen::Overflow));
        assert_eq!((f.error.code, f.error.status), (Some("response_too_large"), Some(500)));
        assert!(f
            .error
            .message
            .ends_with("is more than maxResponseBytes (100 bytes); reading stopped there"));
    }

    /// A 2xx body that holds more values than a parse of it may make ([`max_values`]) is
    /// refused unparsed; its values are counted only when it is longer than that many units.
    #[test]
    fn a_body_of_more_values_than_a_parse_may_make_is_refused() {
        assert_eq!(max_values(8 << 20), 1 << 17);
        assert_eq!(max_values(1 << 28), 1 << 22);
        assert_eq!(max_values(100), 1 << 16, "a small limit still parses any body within it");
        let req = request(true, r#"{"maxResponseBytes":268435456}"#);
        let mut s = Script { m: Attempts::new(&req, half) };
        s.m.start();
        assert_eq!(
            s.head(200, &[("request-id", "req_dense")]),
            Action::Read { limit: 1 << 28, whole: false }
        );
        let asked = std::cell::Cell::new(None);
        let asked = &asked;
        let count = |n: u64| {
            move |max: u64| {
                asked.set(Some(max));
                n.min(max + 1)
            }
        };
        let obj = |_: usize| String::from(" \n {\"object\":\"list\",\"data\":[{},{},{}");
        assert_eq!(s.m.parse_body(1 << 22, &obj, &count(u64::MAX)), Ok(true));
        assert_eq!(asked.take(), None, "not counted: no more units than values allowed");
        assert_eq!(s.m.parse_body(100 << 20, &obj, &count(1 << 22)), Ok(true));
        assert_eq!(asked.take(), Some(1 << 22));
        let array = |_: usize| String::from("[{},{},{}");
        assert_eq!(s.m.parse_body(100 << 20, &array, &count(u64::MAX)), Ok(false), "no object: not parsed");
        assert_eq!(asked.take(), None);
        let f = failed(s.m.parse_body(100 << 20, &obj, &count(70_000_000)).unwrap_err());
        assert_eq!(
            (f.error.code, f.error.status, f.error.request_id.as_deref()),
            (Some("response_too_large"), Some(200), Some("req_dense"))
        );
        assert_eq!(f.error.message, "The QbitPay API's answer (HTTP 200) holds more than 4194304 JSON values, more than maxResponseBytes (268435456) lets it parse; it was not parsed");
    }
}
