//! The error model: what every failure turns into, whichever side it came from
//! (validation, an HTTP answer, the network). The JS facade maps `kind` to a class.

use super::{find, fmt_num, Json};
use crate::checked::{out_of_range, At, AtStr};
use crate::spec::schema::Invalid;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 400 and 404, and every client-side validation failure.
    InvalidRequest,
    /// 401 and 403.
    Authentication,
    /// 429.
    RateLimit,
    /// 5xx and anything else unexpected.
    Api,
    /// No answer: network failure, timeout, abort.
    Connection,
}

impl ErrorKind {
    /// Its name as serde writes it (`snake_case`): the JavaScript error's `kind`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Authentication => "authentication",
            ErrorKind::RateLimit => "rate_limit",
            ErrorKind::Api => "api",
            ErrorKind::Connection => "connection",
        }
    }
    /// The `type` used when the server did not send one.
    pub fn default_type(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::RateLimit => "rate_limit_error",
            ErrorKind::Api => "api_error",
            ErrorKind::Connection => "connection_error",
        }
    }
    /// The kind for an HTTP status.
    pub fn for_status(status: u16) -> ErrorKind {
        match status {
            400 | 404 => ErrorKind::InvalidRequest,
            401 | 403 => ErrorKind::Authentication,
            429 => ErrorKind::RateLimit,
            _ => ErrorKind::Api,
        }
    }
}

/// Serialised (camelCase, absent fields left out) as the fields of the JavaScript error.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientError {
    pub kind: ErrorKind,
    #[serde(rename = "type")]
    pub type_: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    #[serde(rename = "statusCode", skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Seconds, from `Retry-After`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Json>,
    /// `timeout`, `network` or `aborted` for connection errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

impl ClientError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ClientError {
        ClientError {
            kind,
            type_: kind.default_type().to_string(),
            message: message.into(),
            param: None,
            status: None,
            request_id: None,
            retry_after: None,
            detail: None,
            code: None,
        }
    }

    /// A parameter failed client-side validation; nothing was sent.
    pub fn invalid(param: &str, message: impl Into<String>) -> ClientError {
        let mut e = ClientError::new(ErrorKind::InvalidRequest, message);
        e.param = Some(param.to_string());
        e
    }

    /// The request got no answer (`code`: `timeout`, `network`, `aborted`). `to`: where it
    /// went (origin and path, no credentials), and whether that is the default address (no
    /// `baseUrl` given), which a network error then says.
    pub fn connection(code: &str, timeout_ms: f64, to: Option<(&str, bool)>) -> ClientError {
        let at = to.map(|(address, _)| [" at ", address].concat()).unwrap_or_default();
        let default = match to {
            Some((_, true)) => "; no baseUrl was given, so that is the default address",
            _ => "",
        };
        let message = match code {
            "timeout" => format!("Request to the QbitPay API{at} timed out after {} ms", fmt_num(timeout_ms)),
            "aborted" => format!("Request to the QbitPay API{at} was aborted"),
            _ => format!("Could not connect to the QbitPay API{at} (network error{default})"),
        };
        let mut e = ClientError::new(ErrorKind::Connection, message);
        e.code = Some(match code {
            "timeout" => "timeout",
            "aborted" => "aborted",
            _ => "network",
        });
        e
    }

    /// The error for an HTTP answer: a non-2xx status, or a 2xx whose body is not JSON.
    /// `secrets` (the API key or token) are cut out of everything the server sent.
    pub fn from_response(
        status: u16,
        body: &str,
        request_id: Option<&str>,
        retry_after: Option<f64>,
        secrets: &[&str],
    ) -> ClientError {
        let ok = (200..300).contains(&status);
        let kind = if ok { ErrorKind::Api } else { ErrorKind::for_status(status) };
        let long = !is_whole(body);
        let parsed = if long { None } else { serde_json::from_str::<Json>(body).ok() };
        let obj = parsed.as_ref().filter(|v| matches!(v, Json::Object(_)));
        let field = |k: &str| obj.and_then(|o| o.get(k)).and_then(Json::as_str).filter(|s| !s.is_empty());
        let code = u32::from(status).to_string();
        let message = match (ok, field("message")) {
            (false, Some(m)) => m.to_string(),
            (false, None) if obj.is_some() => format!("QbitPay API answered HTTP {}", code),
            _ => format!(
                "QbitPay API answered HTTP {} with {}",
                code,
                if long { LONG_BODY } else { "a body that is not JSON" }
            ),
        };
        let r = Redactor::new(secrets);
        let mut e = ClientError::new(kind, r.redact(&message));
        if let (false, Some(t)) = (ok, field("type")) {
            e.type_ = r.redact(t);
        }
        e.param = field("param").map(|p| r.redact(p));
        e.detail = obj.and_then(|o| o.get("detail")).filter(|d| !d.is_null()).map(|d| r.redact_json(d));
        e.status = Some(status);
        e.request_id = request_id.filter(|s| !s.is_empty()).map(|s| r.redact(s));
        if kind == ErrorKind::RateLimit {
            e.retry_after = retry_after;
        }
        e
    }

    /// An answer the client refuses whatever its status says (`code` names why): a redirect,
    /// a body over `maxResponseBytes`, a 2xx body that is not the object the call expects.
    /// `request_id` as the server sent it (credentials cut out here).
    pub fn refused(
        code: &'static str,
        message: String,
        status: Option<u16>,
        request_id: Option<&str>,
        secrets: &[&str],
    ) -> ClientError {
        let r = Redactor::new(secrets);
        let mut e = ClientError::new(ErrorKind::Api, r.redact(&message));
        e.code = Some(code);
        e.status = status;
        e.request_id = request_id.filter(|s| !s.is_empty()).map(|s| r.redact(s));
        e
    }

    /// A 403 to a client that authenticates with an access token is the token's narrow
    /// scope: say so (and what to do) when the server's message does not mention it.
    pub fn with_token_scope_hint(mut self) -> ClientError {
        let said = self.message.as_bytes().windows(12).any(|w| w.eq_ignore_ascii_case(b"access token"));
        if self.status == Some(403) && !said {
            if self.message.ends_with('.') {
                self.message.pop();
            }
            self.message = format!(
                "{}. This client uses an access token, which may only retrieve and list charges \
                 and mark a charge buyerPaid: make this call on your server, with the API key.",
                self.message
            );
        }
        self
    }
}

/// A parameter the API's table refuses: refused before anything is sent.
impl From<Invalid> for ClientError {
    fn from(e: Invalid) -> ClientError {
        let mut out = ClientError::new(ErrorKind::InvalidRequest, e.message);
        out.param = Some(e.param);
        out
    }
}

/// How much of an unexpected body an error quotes.
const EXCERPT_CHARS: usize = 200;

/// The most of a failed answer's body an error reads, in UTF-16 code units: an error of the
/// API is a few hundred bytes. A longer body (up to `maxResponseBytes`) is quoted in part and
/// never parsed: its text would be copied into the module's memory, which never shrinks, and
/// its parsed form is many times its size.
pub const MAX_ERROR_TEXT: usize = 64 << 10;

/// What an error says of a body longer than [`MAX_ERROR_TEXT`].
pub const LONG_BODY: &str = "a body of more than 65536 characters";

/// Whether `text` (the body's first `MAX_ERROR_TEXT + 1` UTF-16 code units) is the whole body
/// an error reads, not the start of a longer one.
pub fn is_whole(text: &str) -> bool {
    // Counted by bytes (a UTF-8 lead byte is a unit, a 4-byte one two): smaller than
    // `encode_utf16` in the wasm module.
    if text.len() <= MAX_ERROR_TEXT {
        return true;
    }
    let mut units = 0;
    for b in text.bytes() {
        units += usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0);
    }
    units <= MAX_ERROR_TEXT
}

/// The text a credential is replaced with.
const REDACTED: &str = "[redacted]";

/// The encoded forms of `secret` that can appear in text: percent-encoded (either hex case),
/// hex (either case), and inside any base64 text (standard or URL-safe, at each of the three
/// byte alignments, which covers `base64(secret)`, the Basic header's `base64(secret + ":")`
/// and a secret inside an encoded JSON body). In an order where a form can only lie inside
/// one listed before it (a secret inside its own hex: "3633" in "33363333"), so the longer
/// one is cut first. The secret as it is, whole or in part, is cut by its runs ([`Redactor`]).
fn forms(secret: &str) -> Vec<String> {
    let mut pct = String::new();
    super::host::push_percent_encoded(&mut pct, secret, true);
    let mut out = vec![hex::encode(secret), hex::encode_upper(secret)];
    let bytes = secret.as_bytes();
    for off in 0..3 {
        let mut buf = vec![0u8; off];
        buf.extend_from_slice(bytes);
        let enc = super::host::base64(&buf);
        // Only the characters made of the secret's bits alone: the first ones share bits
        // with whatever precedes it, the last one with whatever follows.
        let (start, end) = ((off * 8).div_ceil(6), (off + bytes.len()) * 8 / 6);
        if end >= start + 8 {
            let core = enc.at(start..end);
            out.push(core.replace('+', "-").replace('/', "_"));
            out.push(core.to_string());
        }
    }
    out.extend([pct.to_ascii_lowercase(), pct]);
    out.retain(|f| f != secret);
    out
}

/// Characters a reader of a secret does not see or reads past: white space and invisible
/// format characters (soft hyphen, zero-width space and joiners, direction marks, word
/// joiner, byte-order mark). A run of a secret is also looked for in text without them: a
/// key spelt out with spaces or zero-width spaces is cut.
pub fn ignorable(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// `s` without its [`ignorable`] characters.
pub fn visible(s: &str) -> String {
    s.chars().filter(|c| !ignorable(*c)).collect()
}

/// The shortest run of a secret's characters that is cut wherever it appears, in any case: a
/// key echoed with a character cut at either end, upper-cased or quoted in part is still cut,
/// while text that shares a few characters with it (`sk_test`) is left alone. A secret
/// shorter than this is cut whole (in any case); one under 4 characters is not cut at all.
/// The same holds for its hex and base64 forms: a run of 8 of their characters (4 or 6 of
/// the secret's) is cut, so a Basic header echoed in part is.
pub const REDACTED_RUN: usize = 8;

/// What is cut out of text for a set of secrets (the client's credential), made once per
/// credential: the encoded forms of each, and the [`REDACTED_RUN`]-byte windows of each and
/// of its hex and base64 forms, ASCII lower-cased, as words for a quick lookup.
#[derive(Debug, Default, PartialEq)]
pub struct Redactor {
    forms: Vec<String>,
    /// (window length, the window as a little-endian word), sorted.
    windows: Vec<(usize, u64)>,
}

/// Up to 8 bytes, ASCII lower-cased, as one little-endian word.
fn word(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0u64, |w, b| (w << 8) | u64::from(b.to_ascii_lowercase()))
}

impl Redactor {
    pub fn new(secrets: &[&str]) -> Redactor {
        let mut r = Redactor::default();
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            let forms = forms(secret);
            r.add_windows(secret);
            // Percent-encoded forms are decoded before a second look ([`Redactor::redact`]).
            for f in forms.iter().filter(|f| !f.contains('%')) {
                r.add_windows(f);
            }
            r.forms.extend(forms);
        }
        r
    }

    /// The [`REDACTED_RUN`]-byte windows of `text` (all of it when shorter).
    fn add_windows(&mut self, text: &str) {
        let text = visible(text);
        let n = text.len().min(REDACTED_RUN);
        if n == 0 {
            out_of_range();
        }
        for w in text.as_bytes().windows(n).map(|w| (n, word(w))) {
            // Kept sorted by insertion (a few hundred windows): `sort` would add a generic
            // sort to the module.
            if let Err(at) = self.windows.binary_search(&w) {
                if at > self.windows.len() {
                    out_of_range();
                }
                self.windows.insert(at, w);
            }
        }
    }

    /// `s` with every form of a secret cut, and every run of a secret's characters at least
    /// [`REDACTED_RUN`] long (the whole secret when shorter), in any case; `None` when there
    /// is nothing to cut (the usual case: nothing is copied).
    fn cut(&self, s: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for f in &self.forms {
            let mut rest = out.as_deref().unwrap_or(s);
            if let Some(mut at) = find(rest, f) {
                let mut cut = String::with_capacity(rest.len());
                loop {
                    cut.push_str(rest.at(..at));
                    cut.push_str(REDACTED);
                    rest = rest.at(at + f.len()..);
                    match find(rest, f) {
                        Some(next) => at = next,
                        None => break,
                    }
                }
                cut.push_str(rest);
                out = Some(cut);
            }
        }
        match self.cut_runs(out.as_deref().unwrap_or(s)) {
            Some(cut) => Some(cut),
            None => out,
        }
    }

    fn cut_runs(&self, s: &str) -> Option<String> {
        let bytes = s.as_bytes();
        // Which bytes lie in a run: each window found covers its bytes.
        let mut covered: Vec<bool> = Vec::new();
        let mut n = 0;
        for &(len, _) in &self.windows {
            if len == n {
                continue;
            }
            n = len;
            if n == 0 {
                out_of_range();
            }
            for (i, w) in bytes.windows(n).enumerate() {
                if self.windows.binary_search(&(n, word(w))).is_ok() {
                    if covered.is_empty() {
                        covered = vec![false; bytes.len()];
                    }
                    covered.at_mut(i..i + n).fill(true);
                }
            }
        }
        if covered.is_empty() {
            return None;
        }
        // A secret with multi-byte characters: whole characters only.
        for i in 1..bytes.len() {
            if covered[i - 1] && !covered[i] && !s.is_char_boundary(i) {
                covered[i] = true;
            }
        }
        for i in (0..bytes.len().saturating_sub(1)).rev() {
            if covered[i + 1] && !covered[i] && !s.is_char_boundary(i + 1) {
                covered[i] = true;
            }
        }
        let mut out = String::with_capacity(s.len());
        let mut at = 0;
        while at < bytes.len() {
            let end = (at..bytes.len()).find(|&i| covered[i] != covered[at]).unwrap_or(bytes.len());
            if covered[at] {
                out.push_str(REDACTED);
            } else {
                out.push_str(s.at(at..end));
            }
            at = end;
        }
        Some(out)
    }

    /// `s` with every secret cut out: see [`Redactor::cut`]; a form written with escapes
    /// (percent or `\u`, whole or in part, escaped again up to [`ESCAPE_LEVELS`] times) is
    /// found in the decoded text, which then replaces the text.
    pub fn redact(&self, s: &str) -> String {
        if self.windows.is_empty() {
            return s.to_string();
        }
        let cut = self.cut(s);
        // Borrowed until a level decodes something: a request id without escapes is not copied.
        let mut text = std::borrow::Cow::Borrowed(cut.as_deref().unwrap_or(s));
        for _ in 0..ESCAPE_LEVELS {
            // Byte by byte: both are ASCII (a `char` pattern decodes each character).
            if !text.bytes().any(|b| b == b'%' || b == b'\\') {
                break;
            }
            let decoded = unescape(&text);
            if let Some(again) = self.cut(&decoded) {
                return again;
            }
            if decoded == *text {
                break;
            }
            text = decoded.into();
        }
        // Spelt out with white space or invisible characters between its characters: the
        // text without them, then, replaces the text.
        let cut = cut.unwrap_or_else(|| s.to_string());
        if cut.chars().any(ignorable) {
            if let Some(again) = self.cut_runs(&visible(&cut)) {
                return again;
            }
        }
        cut
    }

    /// A JSON value with every key and string redacted (escapes in the text are already
    /// decoded by the parser, so this sees each string as its reader would).
    pub fn redact_json(&self, v: &Json) -> Json {
        match v {
            Json::String(s) => Json::String(self.redact(s)),
            Json::Array(a) => Json::Array(a.iter().map(|x| self.redact_json(x)).collect()),
            Json::Object(m) => {
                Json::Object(m.iter().map(|(k, x)| (self.redact(k), self.redact_json(x))).collect())
            }
            other => other.clone(),
        }
    }
}

/// How many times over an echoed secret's escapes are decoded when looking for it (a value
/// percent-encoded into a header, then again into a URL, then into JSON).
const ESCAPE_LEVELS: usize = 3;

/// `s` with `%XX` (ASCII only) and `\uXXXX` escapes decoded; anything else as it is.
fn unescape(s: &str) -> String {
    let hex = |from: usize, n: usize| {
        s.get(from..from + n)
            .filter(|t| t.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|t| u32::from_str_radix(t, 16).ok())
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(c) = s.at(i..).chars().next() {
        let next = s.as_bytes().get(i + 1).copied();
        let decoded = match (c, next) {
            ('%', _) => hex(i + 1, 2).filter(|v| *v < 0x80).map(|v| (v, 3)),
            ('\\', Some(b'u')) => hex(i + 2, 4).map(|v| (v, 6)),
            _ => None,
        };
        match decoded.and_then(|(v, n)| Some((char::from_u32(v)?, n))) {
            Some((ch, n)) => {
                out.push(ch);
                i += n;
            }
            None => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// `s` with every form of each secret cut out ([`Redactor::redact`]).
pub fn redact(s: &str, secrets: &[&str]) -> String {
    Redactor::new(secrets).redact(s)
}

/// A JSON value with every key and string redacted ([`Redactor::redact_json`]).
pub fn redact_json(v: &Json, secrets: &[&str]) -> Json {
    Redactor::new(secrets).redact_json(v)
}

/// What an error keeps of a body: the parsed JSON, or else the text; credentials cut out.
pub fn raw_body(body: &str, secrets: &[&str]) -> Json {
    if !is_whole(body) {
        return Json::String(excerpt(body, secrets));
    }
    let r = Redactor::new(secrets);
    match serde_json::from_str::<Json>(body) {
        Ok(v) => r.redact_json(&v),
        Err(_) => Json::String(r.redact(body)),
    }
}

/// The first characters of a body, credentials cut out first.
pub fn excerpt(body: &str, secrets: &[&str]) -> String {
    let clean = redact(body.trim(), secrets);
    match clean.char_indices().nth(EXCERPT_CHARS) {
        Some((i, _)) => format!("{}...", clean.at(..i)),
        None => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of `src` from `start` to the next `end`.
    fn between<'a>(src: &'a str, start: &str, end: &str) -> &'a str {
        let from = src.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len();
        &src[from..from + src[from..].find(end).unwrap()]
    }

    /// The string literals of a TypeScript union (`'a' | 'b'`).
    fn literals(ts: &str) -> Vec<&str> {
        ts.split('\'').skip(1).step_by(2).collect()
    }

    /// The error kinds are declared once, here: the JavaScript facade's classes
    /// (`pkg-template/src/errors.mjs`) and their declarations (`pkg-template/errors.d.ts`)
    /// are held to them, and so are the `code`s each class documents.
    #[test]
    fn the_javascript_error_classes_are_the_kinds() {
        use crate::webhook::error::SignatureErrorCode as Sig;
        const MJS: &str = include_str!("../../pkg-template/src/errors.mjs");
        const DTS: &str = include_str!("../../pkg-template/errors.d.ts");
        // Each kind's class: a kind added without one does not compile.
        let class = |k: ErrorKind| match k {
            ErrorKind::InvalidRequest => "QbitPayInvalidRequestError",
            ErrorKind::Authentication => "QbitPayAuthenticationError",
            ErrorKind::RateLimit => "QbitPayRateLimitError",
            ErrorKind::Api => "QbitPayAPIError",
            ErrorKind::Connection => "QbitPayConnectionError",
        };
        use ErrorKind::*;
        let mut kinds: Vec<(String, &str, &str)> =
            [InvalidRequest, Authentication, RateLimit, Api, Connection]
                .into_iter()
                .map(|k| {
                    // The wasm binding writes `name()`; serde (host and sandbox) the same.
                    assert_eq!(serde_json::to_value(k).unwrap(), k.name(), "{k:?}");
                    (k.name().to_string(), class(k), k.default_type())
                })
                .collect();
        // The webhook module's one kind.
        kinds.push(("signature".into(), "QbitPaySignatureError", "signature_verification_error"));

        let map: Vec<(String, &str)> = between(MJS, "export const errorClasses = {", "};")
            .lines()
            .filter_map(|l| l.trim().trim_end_matches(',').split_once(": "))
            .map(|(k, c)| (k.to_string(), c))
            .collect();
        assert_eq!(map, kinds.iter().map(|(k, c, _)| (k.clone(), *c)).collect::<Vec<_>>(), "errorClasses");
        let type_doc = between(DTS, "export class QbitPayError extends Error {", "readonly type: string;");
        for (_, class, ty) in &kinds {
            let mjs = format!("export class {class} extends QbitPayError {{\n  static defaultType = '{ty}';");
            assert!(MJS.contains(&mjs), "errors.mjs: {mjs}");
            assert!(MJS.contains(&format!("[{class}, '{class}']")), "errors.mjs: the name of {class}");
            assert!(
                DTS.contains(&format!("export class {class} extends QbitPayError")),
                "errors.d.ts: {class}"
            );
            assert!(type_doc.contains(&format!("`{ty}`")), "errors.d.ts: the type {ty}");
        }
        // No class of the facade that is not a kind's.
        assert_eq!(MJS.matches("export class ").count(), kinds.len() + 1);
        assert_eq!(DTS.matches("export class ").count(), kinds.len() + 1);

        // The codes: a connection's, an answer the client refused (every `refused("...")`
        // of the client's code), a webhook's (but a call's own mistake, a TypeError).
        let connection: Vec<&str> = ["timeout", "network", "aborted"]
            .map(|c| ClientError::connection(c, 1.0, None).code.unwrap())
            .into();
        let ts = |class: &str| literals(between(between(DTS, &format!("class {class} "), "}"), "code", ";"));
        assert_eq!(ts("QbitPayConnectionError"), connection);
        let mut refusals: Vec<String> = Vec::new();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/client");
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for path in files.into_iter().filter(|p| p.extension().is_some_and(|e| e == "rs")) {
            let src = std::fs::read_to_string(&path).unwrap();
            let code = src.split("#[cfg(test)]").next().unwrap();
            for (i, _) in code.match_indices("ClientError::refused(\"") {
                let rest = &code[i + "ClientError::refused(\"".len()..];
                refusals.push(rest[..rest.find('"').unwrap()].to_string());
            }
        }
        let mut documented: Vec<&str> = ts("QbitPayAPIError");
        documented.sort();
        refusals.sort();
        refusals.dedup();
        assert_eq!(refusals, documented, "QbitPayAPIError's codes");
        // Every webhook code but InvalidArgument (a call's own mistake: a TypeError). A code
        // added without a place here does not compile.
        let thrown = |c: Sig| match c {
            Sig::MissingSignature
            | Sig::MalformedSignature
            | Sig::SignatureMismatch
            | Sig::InvalidPayload
            | Sig::PayloadTooLarge
            | Sig::EventTooOld => true,
            Sig::InvalidArgument => false,
        };
        let webhook = [
            Sig::MissingSignature,
            Sig::MalformedSignature,
            Sig::SignatureMismatch,
            Sig::InvalidPayload,
            Sig::PayloadTooLarge,
            Sig::EventTooOld,
        ];
        assert!(webhook.into_iter().all(thrown));
        let sig = literals(between(DTS, "export type SignatureErrorCode =", ";"));
        assert_eq!(sig, webhook.map(Sig::as_str));
    }

    #[test]
    fn status_table() {
        use ErrorKind::*;
        for (s, k) in [
            (400, InvalidRequest),
            (404, InvalidRequest),
            (401, Authentication),
            (403, Authentication),
            (429, RateLimit),
            (402, Api),
            (409, Api),
            (500, Api),
            (502, Api),
            (503, Api),
            (504, Api),
            (418, Api),
        ] {
            assert_eq!(ErrorKind::for_status(s), k, "{s}");
        }
    }

    #[test]
    fn maps_a_server_error_body() {
        let e = ClientError::from_response(
            400,
            r#"{"type":"invalid_request_error","message":"amount must be > 0","param":"amount","detail":{"min":1}}"#,
            Some("req_1"),
            None,
            &[],
        );
        assert_eq!(e.kind, ErrorKind::InvalidRequest);
        assert_eq!(e.type_, "invalid_request_error");
        assert_eq!(e.message, "amount must be > 0");
        assert_eq!(e.param.as_deref(), Some("amount"));
        assert_eq!(e.request_id.as_deref(), Some("req_1"));
        assert_eq!(e.status, Some(400));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"invalid_request","type":"invalid_request_error","message":"amount must be > 0","param":"amount","statusCode":400,"requestId":"req_1","detail":{"min":1}}"#
        );
    }

    #[test]
    fn rate_limit_keeps_retry_after_and_bad_bodies_get_a_message() {
        let e = ClientError::from_response(
            429,
            r#"{"type":"rate_limit_error","message":"slow down"}"#,
            None,
            Some(2.0),
            &[],
        );
        assert_eq!((e.kind, e.retry_after), (ErrorKind::RateLimit, Some(2.0)));
        assert!(serde_json::to_string(&e).unwrap().contains(r#""retryAfter":2.0"#));
        let e = ClientError::from_response(502, "<html>bad gateway</html>", None, Some(1.0), &[]);
        assert_eq!((e.kind, e.type_.as_str(), e.retry_after), (ErrorKind::Api, "api_error", None));
        assert!(e.message.contains("502"));
        let e = ClientError::from_response(200, "not json", Some("r"), None, &[]);
        assert_eq!(e.kind, ErrorKind::Api);
        let e = ClientError::from_response(401, "{}", None, None, &[]);
        assert_eq!((e.kind, e.type_.as_str()), (ErrorKind::Authentication, "authentication_error"));
    }

    #[test]
    fn secrets_never_survive() {
        let key = "sk_test_SECRET";
        let e = ClientError::from_response(
            401,
            r#"{"type":"authentication_error","message":"bad key sk_test_SECRET","detail":{"key":"sk_test_SECRET"}}"#,
            None,
            None,
            &[key],
        );
        assert!(!serde_json::to_string(&e).unwrap().contains(key));
        assert!(e.message.contains("[redacted]"));
    }

    #[test]
    fn token_scope_hint_on_403_only_when_missing() {
        let terse = ClientError::from_response(
            403,
            r#"{"type":"authentication_error","message":"Forbidden."}"#,
            None,
            None,
            &[],
        );
        let m = terse.with_token_scope_hint().message;
        assert!(m.starts_with("Forbidden. This client uses an access token"), "{m}");
        assert!(m.contains("API key"));
        let clear = r#"{"type":"authentication_error","message":"An Access Token may only read charges."}"#;
        let e = ClientError::from_response(403, clear, None, None, &[]);
        assert_eq!(e.with_token_scope_hint().message, "An Access Token may only read charges.");
        let e = ClientError::from_response(401, r#"{"message":"expired"}"#, None, None, &[]);
        assert_eq!(e.with_token_scope_hint().message, "expired");
    }

    #[test]
    fn connection_errors() {
        let e = ClientError::connection("timeout", 1500.0, None);
        assert_eq!((e.kind, e.code), (ErrorKind::Connection, Some("timeout")));
        assert!(e.message.contains("1500 ms"));
        assert_eq!(ClientError::connection("whatever", 1.0, None).code, Some("network"));
        let at = ClientError::connection("network", 1.0, Some(("http://h:1/api/v1/x", false)));
        assert_eq!(at.message, "Could not connect to the QbitPay API at http://h:1/api/v1/x (network error)");
        let default = ClientError::connection("network", 1.0, Some(("https://q/api", true)));
        assert_eq!(
            default.message,
            "Could not connect to the QbitPay API at https://q/api (network error; no baseUrl was given, so that is the default address)"
        );
        let late = ClientError::connection("timeout", 20.0, Some(("http://h:1/a", true)));
        assert_eq!(late.message, "Request to the QbitPay API at http://h:1/a timed out after 20 ms");
    }

    /// A key spelt out with white space or invisible characters between its characters (or
    /// some of them) is still a run of it: cut, and the text then without them; text that
    /// has fewer than 8 of its characters in a row, with or without them, stays as it is.
    #[test]
    fn a_run_is_found_across_white_space_and_invisible_characters() {
        let key = "sk_test_Zq8HhV3mR7pL2xN9wK4c";
        for sep in [
            " ",
            "\u{200b}",
            "\u{200c}",
            "\u{200d}",
            "\u{2060}",
            "\u{feff}",
            "\u{ad}",
            "\u{a0}",
            "\t",
            "\n",
            " \u{200b} ",
        ] {
            let spelt: Vec<String> = key.chars().map(String::from).collect();
            let part = spelt[3..14].join(sep);
            for text in [spelt.join(sep), part.to_uppercase(), format!("{}{sep}{}", &key[..6], &key[6..12])] {
                assert_eq!(redact(&format!("key: {text}."), &[key]), "key:[redacted].", "{text:?}");
            }
        }
        assert_eq!(redact("s k _ t e s t", &[key]), "s k _ t e s t");
        assert_eq!(
            redact("keys start with sk_test and HhV3mR7", &[key]),
            "keys start with sk_test and HhV3mR7"
        );
        // A secret with white space in it is found with or without it.
        assert_eq!(redact("a b1 c2 d3 e4 f | ab1c2d3e4f", &["b1 c2 d3 e4"]), "a[redacted]f|a[redacted]f");
    }

    #[test]
    fn every_form_of_a_secret_is_cut() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        use base64::Engine as _;
        let key = "sk_test_Zq8HhV3mR7pL2x+/N9wK4c";
        let pct: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
        let uesc: String = key.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        let mixed: String = key
            .chars()
            .enumerate()
            .map(|(i, c)| if i % 3 == 0 { format!("%{:02x}", c as u32) } else { c.to_string() })
            .collect();
        for form in [
            key.to_string(),
            STANDARD.encode(format!("{key}:")),
            STANDARD.encode(key),
            URL_SAFE_NO_PAD.encode(key),
            STANDARD.encode(format!(r#"{{"key":"{key}"}}"#)),
            STANDARD.encode(format!("x{key}")),
            pct.clone(),
            pct.to_lowercase(),
            hex::encode(key),
            hex::encode_upper(key),
            mixed,
            uesc,
        ] {
            let out = redact(&format!("before {form} after"), &[key]);
            assert!(out.contains("[redacted]") && !out.contains(&form), "{form} -> {out}");
            assert!(out.starts_with("before ") && out.ends_with(" after"), "{out}");
        }
        assert_eq!(redact("nothing here", &[key]), "nothing here");
        // Escaped again: a percent form percent-encoded once or twice more (`%25` for `%`),
        // and in `\u` escapes; only what is no run of the key stays.
        let uri = key.replace('+', "%2B").replace('/', "%2F");
        let twice = |t: &str| t.replace('%', "%25");
        for form in [
            twice(&pct),
            twice(&twice(&pct)),
            twice(&uri),
            twice(&twice(&uri)),
            twice(&uri).replace('%', "\\u0025"),
        ] {
            let out = redact(&format!("before {form} after"), &[key]);
            assert!(out.starts_with("before ") && out.ends_with(" after"), "{form} -> {out}");
            let inner = &out["before ".len()..out.len() - " after".len()];
            assert!(inner.split("[redacted]").all(|rest| rest.is_empty()), "{form} -> {out}");
        }
        // Three levels at most (the fourth is not decoded), and text without escapes as it is.
        let four = twice(&twice(&twice(&pct)));
        assert_eq!(redact(&four, &[key]), four);
        assert_eq!(redact("100%25 done \\u0025", &[key]), "100%25 done \\u0025");
        // In part: any run of 8 of its characters, in any case; 7 are left alone.
        for part in [
            &key[..key.len() - 1],
            &key[1..],
            &key.to_uppercase(),
            &key.to_lowercase(),
            &key[9..17],
            &key[2..key.len() - 2].to_uppercase(),
        ] {
            assert_eq!(redact(&format!("a {part} b"), &[key]), "a [redacted] b", "{part}");
        }
        assert_eq!(
            redact("keys start with sk_test and HhV3mR7", &[key]),
            "keys start with sk_test and HhV3mR7"
        );
        assert_eq!(redact("sk_test_x", &[key]), "[redacted]x");
        // Their hex and base64 forms in part too: a Basic header echoed cut short at either
        // end, the base64 or hex of a part of the key at any alignment.
        let basic = STANDARD.encode(format!("{key}:"));
        for part in [
            basic[..16].to_string(),
            basic[12..].to_string(),
            STANDARD.encode(&key[..12]),
            STANDARD.encode(&key[9..21]),
            STANDARD.encode(format!("x{}", &key[4..16])),
            URL_SAFE_NO_PAD.encode(format!("xy{}", &key[13..])),
            hex::encode(&key[..8]),
            hex::encode_upper(&key[7..15]),
        ] {
            let out = redact(&format!("echo {part} end"), &[key]);
            assert!(out.contains("[redacted]"), "{part} -> {out}");
            assert!(!out.contains(&part[2..part.len() - 2]), "{part} -> {out}");
        }
        assert_eq!(redact("id 0123456789abcdef and c2tfdGV", &[key]), "id 0123456789abcdef and c2tfdGV");
        // Two runs side by side are one cut; a short secret is cut whole, in any case.
        assert_eq!(redact(&format!("{}{}", &key[20..], &key[..9]), &[key]), "[redacted]");
        assert_eq!(redact("a Ab12 b ab12", &["ab12"]), "a [redacted] b [redacted]");
        assert_eq!(redact("é sk_test_Zq8Hé", &[key]), "é [redacted]é");
        // A secret that lies inside its own hex ("3633" in "33363333"): the whole hex is cut.
        assert_eq!(redact(&format!("a {} b", hex::encode("3633")), &["3633"]), "a [redacted] b");
        assert_eq!(redact("short", &["abc"]), "short");
        // Parsed values: escapes decoded by the parser, keys and strings at any depth.
        let raw = raw_body(&format!(r#"{{"a":["{}"],"{key}":1}}"#, key.replace('s', "\\u0073")), &[key]);
        assert_eq!(raw.to_string(), r#"{"a":["[redacted]"],"[redacted]":1}"#);
        assert_eq!(raw_body("<html>", &[key]), Json::from("<html>"));
    }
}
