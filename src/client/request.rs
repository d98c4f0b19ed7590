//! From a configured client and a call (`resource`, `op`, `[id, params, opts]`) to the exact
//! HTTP request to send, with validation before anything leaves.

use super::error::ClientError;
use super::json::{write_str, Json};
use super::page::{parse_list_params, Cursor, Dir};
use super::resources;
use super::retry::{fmt_num, DEFAULT_MAX_RETRIES, MAX_RETRIES_LIMIT};
use super::schema::{validate, Args, Field, Ty};
#[allow(unused_imports)]
use crate::prelude::*;
#[allow(unused_imports)]
use alloc::{format, string::ToString};

pub const DEFAULT_BASE_URL: &str = "https://matrix-content-s.ailingual.cn";
pub const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;
/// `setTimeout`'s largest delay.
pub const MAX_TIMEOUT_MS: i32 = i32::MAX;
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Facts about the JavaScript runtime, gathered by the facade.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// A global `document` exists.
    pub browser: bool,
    pub runtime: String,
    pub runtime_version: String,
}

#[derive(Clone, Debug)]
pub struct Config {
    authorization: String,
    secret: String,
    pub base_url: String,
    pub timeout_ms: f64,
    pub max_retries: u32,
    user_agent: String,
}

const CLIENT_OPTIONS: &[Field] = &[
    Field::opt("apiKey", Ty::Str),
    Field::opt("accessToken", Ty::Str),
    Field::opt("baseUrl", Ty::Url),
    Field::opt("timeoutMs", Ty::Int(1, MAX_TIMEOUT_MS)),
    Field::opt("maxRetries", Ty::Int(0, MAX_RETRIES_LIMIT as i32)),
    // The facade replaces a function by the string "function".
    Field::opt("fetch", Ty::Enum(&["function"])),
    Field::opt("dangerouslyAllowBrowser", Ty::Bool),
];

const CALL_OPTIONS: &[Field] = &[
    Field::opt("idempotencyKey", Ty::Str),
    Field::opt("timeoutMs", Ty::Int(1, MAX_TIMEOUT_MS)),
    Field::opt("maxRetries", Ty::Int(0, MAX_RETRIES_LIMIT as i32)),
    // The facade replaces an AbortSignal by `true`.
    Field::opt("signal", Ty::Bool),
];

/// One HTTP request, ready for `fetch`.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
    pub timeout_ms: f64,
    pub max_retries: u32,
    /// For lists: the effective limit and the direction of this page.
    pub page: Option<(u32, Dir)>,
    /// For a `GET` without parameters or call options (`charges.retrieve(id)`): every call
    /// of its method differs from this one by the `/{id}` in `url` at most. Its length and
    /// the length of what follows it (both ASCII); `(0, 0)` for a method without an id. The
    /// facade reuses such a request, with the id of a call when [`PLAIN_ID`] matches it.
    pub id_at: Option<(usize, usize)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `{"method","url","headers":{..},"body"?,"timeoutMs","maxRetries","limit"?,"dir"?,"idAt"?}`
    /// (`idAt`: `[id length, rest length, PLAIN_ID]`).
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(256 + self.body.as_ref().map_or(0, String::len));
        s.push_str("{\"method\":\"");
        s.push_str(self.method);
        s.push_str("\",\"url\":");
        write_str(&mut s, &self.url);
        s.push_str(",\"headers\":{");
        for (i, (k, v)) in self.headers.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            write_str(&mut s, k);
            s.push(':');
            write_str(&mut s, v);
        }
        s.push('}');
        if let Some(b) = &self.body {
            s.push_str(",\"body\":");
            write_str(&mut s, b);
        }
        s.push_str(",\"timeoutMs\":");
        s.push_str(&fmt_num(self.timeout_ms));
        s.push_str(",\"maxRetries\":");
        s.push_str(&crate::client::json::itoa(self.max_retries as i64));
        if let Some((limit, dir)) = self.page {
            s.push_str(&crate::cat!(
                ",\"limit\":",
                &crate::client::json::itoa(limit as i64),
                ",\"dir\":\"",
                dir.as_str(),
                "\""
            ));
        }
        if let Some((id, rest)) = self.id_at {
            s.push_str(",\"idAt\":[");
            s.push_str(&crate::client::json::itoa(id as i64));
            s.push(',');
            s.push_str(&crate::client::json::itoa(rest as i64));
            // Nothing in the pattern needs escaping in JSON.
            s.push_str(",\"");
            s.push_str(PLAIN_ID);
            s.push_str("\"]");
        }
        s.push('}');
        s
    }
}

impl Config {
    /// Validates the client options. Exactly one of `apiKey` and `accessToken`; an API key
    /// in a browser needs `dangerouslyAllowBrowser: true`.
    pub fn new(opts: &Json, env: &Env) -> Result<Config, ClientError> {
        let o = Json::Obj(validate(opts, CLIENT_OPTIONS, "")?);
        let key = o.get("apiKey").and_then(Json::as_str);
        let token = o.get("accessToken").and_then(Json::as_str);
        let (authorization, secret) = match (key, token) {
            (Some(_), Some(_)) => {
                return Err(ClientError::invalid(
                    "accessToken",
                    "Pass either apiKey or accessToken, not both",
                ));
            }
            (None, None) => {
                return Err(ClientError::invalid(
                    "apiKey",
                    "QbitPay needs an apiKey (on a server) or an accessToken (in a browser): new QbitPay({ apiKey })",
                ));
            }
            (Some(k), None) => {
                if env.browser
                    && o.get("dangerouslyAllowBrowser").and_then(Json::as_bool) != Some(true)
                {
                    return Err(ClientError::invalid(
                        "apiKey",
                        "An API key must never reach a browser: it would let anyone use your account. \
                         Create an access token on your server (qp.accessToken.create()) and use \
                         new QbitPay({ accessToken }) in the browser. If this is not a browser, or you \
                         accept the risk, pass dangerouslyAllowBrowser: true.",
                    ));
                }
                (
                    crate::cat!("Basic ", &base64(crate::cat!(k, ":").as_bytes())),
                    k.to_string(),
                )
            }
            (None, Some(t)) => (crate::cat!("Bearer ", t), t.to_string()),
        };
        let base_url = o
            .get("baseUrl")
            .and_then(Json::as_str)
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
            .to_string();
        let mut ua = vec![
            ("bindings_version".to_string(), Json::str(VERSION)),
            ("lang".to_string(), Json::str("js")),
            ("publisher".to_string(), Json::str("qbitpay")),
        ];
        if !env.runtime.is_empty() {
            ua.push(("runtime".to_string(), Json::str(&env.runtime)));
        }
        if !env.runtime_version.is_empty() {
            ua.push((
                "runtime_version".to_string(),
                Json::str(&env.runtime_version),
            ));
        }
        Ok(Config {
            authorization,
            secret,
            base_url,
            timeout_ms: o
                .get("timeoutMs")
                .and_then(Json::as_f64)
                .unwrap_or(DEFAULT_TIMEOUT_MS),
            max_retries: o
                .get("maxRetries")
                .and_then(Json::as_f64)
                .map_or(DEFAULT_MAX_RETRIES, |n| n as u32),
            user_agent: Json::Obj(ua).to_string(),
        })
    }

    /// Authenticated with an access token (`Bearer`), not the API key.
    pub fn uses_access_token(&self) -> bool {
        self.authorization.starts_with("Bearer ")
    }

    /// The credential, to cut out of anything that could reach an error.
    pub fn secrets(&self) -> [&str; 1] {
        [&self.secret]
    }

    /// Builds the request for `resource.op(...)`. `args` is `[id, params, opts]` (missing or
    /// `null` entries are absent). `cursor` replaces a list's cursor (page navigation).
    /// `random` (16 bytes) seeds the `Idempotency-Key` of a POST or PUT without a user key.
    pub fn prepare(
        &self,
        resource: &str,
        op: &str,
        args: &Json,
        cursor: Option<Cursor>,
        random: &[u8],
    ) -> Result<Request, ClientError> {
        let res = resources::find(resource).ok_or_else(|| {
            ClientError::invalid("resource", crate::cat!("Unknown resource ", resource))
        })?;
        let op = res.op(op).ok_or_else(|| {
            ClientError::invalid("method", crate::cat!("Unknown method ", resource, ".", op))
        })?;
        let arg = |i: usize| match args {
            Json::Arr(a) => a.get(i).unwrap_or(&Json::Null),
            _ => &Json::Null,
        };
        let opts = Json::Obj(validate(arg(2), CALL_OPTIONS, "")?);

        let mut url = String::with_capacity(self.base_url.len() + 64);
        url.push_str(&self.base_url);
        url.push_str(res.path);
        let id_start = url.len();
        if op.args.has_id() && !push_id(&mut url, arg(0)) {
            return Err(ClientError::invalid(
                "id",
                crate::cat!(
                    res.name,
                    ".",
                    op.name,
                    ": id must be a non-empty string other than '.' and '..', got ",
                    if arg(0).as_str().is_some() { "a string it cannot be" } else { arg(0).type_name() }
                ),
            ));
        }
        let id_len = url.len() - id_start;
        url.push_str(op.suffix);

        let params = arg(1);
        let mut page = None;
        let mut body = None;
        match op.args {
            Args::None | Args::Id => {
                if *params != Json::Null {
                    return Err(ClientError::invalid(
                        "params",
                        crate::cat!(res.name, ".", op.name, " takes no parameters"),
                    ));
                }
            }
            Args::List => {
                let mut lp = parse_list_params(params, op.params)?;
                if let Some(check) = op.check {
                    check(&Json::Obj(lp.filters.clone()))?;
                }
                if cursor.is_some() {
                    lp.cursor = cursor;
                }
                page = Some((lp.limit, lp.dir()));
                push_query(&mut url, &lp.query());
            }
            Args::Params | Args::IdParams => {
                let members = validate(params, op.params, "")?;
                let v = Json::Obj(members);
                if let Some(check) = op.check {
                    check(&v)?;
                }
                match (op.method.has_body(), v) {
                    (true, v) => body = Some(v.to_string()),
                    (false, Json::Obj(m)) => push_query(&mut url, &m),
                    _ => {}
                }
            }
        }
        if op.method.has_body() && body.is_none() {
            body = Some("{}".to_string());
        }

        let mut headers = vec![
            ("Accept", "application/json".to_string()),
            ("Authorization", self.authorization.clone()),
        ];
        if body.is_some() {
            headers.push(("Content-Type", "application/json".to_string()));
            let key = match opts.get("idempotencyKey").and_then(Json::as_str) {
                Some(k) => k.to_string(),
                None => uuid_v4(random),
            };
            headers.push(("Idempotency-Key", key));
        }
        headers.push(("X-QbitPay-Client-User-Agent", self.user_agent.clone()));
        Ok(Request {
            method: op.method.as_str(),
            url,
            headers,
            body,
            timeout_ms: opts
                .get("timeoutMs")
                .and_then(Json::as_f64)
                .unwrap_or(self.timeout_ms),
            max_retries: opts
                .get("maxRetries")
                .and_then(Json::as_f64)
                .map_or(self.max_retries, |n| n as u32),
            page,
            id_at: (matches!(op.args, Args::None | Args::Id)
                && !op.method.has_body()
                && matches!(arg(2), Json::Null))
            .then_some((id_len, op.suffix.len())),
        })
    }
}

/// The ids [`push_id`] accepts and appends as they are (`/` + id), as a JavaScript pattern:
/// non-empty, RFC 3986 unreserved characters only (what [`encode_into`] leaves alone). Sent
/// with a kept request (`id_at`): the facade puts such an id into the URL itself and sends
/// any other id through [`Config::prepare`] (which encodes it, or says why it is invalid).
// No backslash: the pattern goes into JSON unescaped.
pub const PLAIN_ID: &str = "^(?![.][.]?$)[A-Za-z0-9._~-]+$";

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Appends `/{id}` (percent-encoded) to `out` if `id` is a non-empty string, else `false`.
fn push_id(out: &mut String, id: &Json) -> bool {
    match id {
        // `.` and `..` are path segments to a URL parser: `/charges/..` would reach `/`.
        Json::Str(id) if !id.is_empty() && id != "." && id != ".." => {
            out.push('/');
            encode_into(out, id);
            true
        }
        _ => false,
    }
}

fn push_query(url: &mut String, members: &[(String, Json)]) {
    let mut first = true;
    for (k, v) in members {
        let val = match v {
            Json::Str(s) => s.clone(),
            Json::Num(n) => n.clone(),
            Json::Bool(b) => String::from(if *b { "true" } else { "false" }),
            Json::Null => continue,
            other => other.to_string(),
        };
        url.push(if first { '?' } else { '&' });
        first = false;
        encode_into(url, k);
        url.push('=');
        encode_into(url, &val);
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if unreserved(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

pub fn base64(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for c in input.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A version-4 UUID from 16 random bytes (missing bytes count as 0).
pub fn uuid_v4(random: &[u8]) -> String {
    let mut b = [0u8; 16];
    for (d, s) in b.iter_mut().zip(random) {
        *d = *s;
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        s.push(HEX[(x >> 4) as usize] as char);
        s.push(HEX[(x & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(opts: &str) -> Result<Config, ClientError> {
        Config::new(
            &Json::parse(opts).unwrap(),
            &Env {
                browser: false,
                runtime: "node".into(),
                runtime_version: "20.0.0".into(),
            },
        )
    }
    fn prep(c: &Config, res: &str, op: &str, args: &str) -> Result<Request, ClientError> {
        c.prepare(res, op, &Json::parse(args).unwrap(), None, &[7; 16])
    }
    const CREATE: &str = r#"{"amount":100,"currency":"USD","externalOrderId":"o1","cbUrl":"http://127.0.0.1/cb","redirectUrl":"https://shop.example/done"}"#;

    #[test]
    fn helpers() {
        assert_eq!(base64(b"sk_test:"), "c2tfdGVzdDo=");
        assert_eq!(base64(b"ab:"), "YWI6");
        assert_eq!(base64(b"a:"), "YTo=");
        assert_eq!(uuid_v4(&[0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let mut s = String::new();
        encode_into(&mut s, "USDT/CNY é&=");
        assert_eq!(s, "USDT%2FCNY%20%C3%A9%26%3D");
    }

    /// `id_at` (the facade reuses such a request with another id): only GETs without
    /// parameters or options, and swapping the id in its URL gives exactly the other call.
    #[test]
    fn id_at_marks_requests_that_differ_by_the_id_only() {
        let c = cfg(r#"{"apiKey":"sk_test","baseUrl":"http://h\u00e9.example:9/x/"}"#).unwrap();
        let other = "x y/\u{e9}";
        let mut marked = 0;
        for res in resources::RESOURCES {
            for op in res.ops {
                let with = |id: &str, opts: &str| {
                    let args = format!("[{},null,{opts}]", Json::str(id).to_string());
                    prep(&c, res.name, op.name, &args)
                };
                let (Ok(a), Ok(b)) = (with("ch_1", "null"), with(other, "null")) else {
                    continue;
                };
                let simple = matches!(op.args, Args::None | Args::Id) && !op.method.has_body();
                assert_eq!(a.id_at.is_some(), simple, "{}.{}", res.name, op.name);
                let Some((n, k)) = a.id_at else { continue };
                marked += 1;
                let (end, rest) = (a.url.len() - k, &a.url[a.url.len() - k..]);
                let head = &a.url[..end - n];
                let mut path = String::new();
                if op.args == Args::Id {
                    assert!(push_id(&mut path, &Json::str(other)));
                    assert_eq!(&a.url[end - n..end], "/ch_1");
                } else {
                    assert_eq!(n, 0);
                }
                assert_eq!(
                    format!("{head}{path}{rest}"),
                    b.url,
                    "{}.{}",
                    res.name,
                    op.name
                );
                assert_eq!(
                    (&a.headers, a.method, &a.body),
                    (&b.headers, b.method, &b.body)
                );
                assert_eq!(with("ch_1", r#"{"timeoutMs":5}"#).unwrap().id_at, None);
            }
        }
        assert!(marked >= 5, "{marked}");
        // PLAIN_ID's class is exactly what push_id appends unchanged.
        let class = PLAIN_ID
            .strip_prefix("^(?![.][.]?$)[")
            .unwrap()
            .strip_suffix("]+$")
            .unwrap()
            .as_bytes();
        let in_class = |b: u8| {
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    if (class[i]..=class[i + 2]).contains(&b) {
                        return true;
                    }
                    i += 3;
                } else {
                    if class[i] == b {
                        return true;
                    }
                    i += 1;
                }
            }
            false
        };
        for b in 0..=127u8 {
            let id = format!("x{}", b as char);
            let mut path = String::new();
            assert!(push_id(&mut path, &Json::str(&id)));
            assert_eq!(path == format!("/{id}"), in_class(b), "{b}");
        }
        // The lookahead: `.` and `..` are refused (a URL parser would resolve them), `...` is not.
        assert!(!push_id(&mut String::new(), &Json::str(".")));
        assert!(!push_id(&mut String::new(), &Json::str("..")));
        assert!(push_id(&mut String::new(), &Json::str("...")));
        assert!(!push_id(&mut String::new(), &Json::str("")));
        assert!(!push_id(&mut String::new(), &Json::Null));
    }

    #[test]
    fn config_rules() {
        let c = cfg(r#"{"apiKey":"sk_test","baseUrl":"http://127.0.0.1:9/"}"#).unwrap();
        assert_eq!(
            (c.base_url.as_str(), c.timeout_ms, c.max_retries),
            ("http://127.0.0.1:9", 30000.0, 2)
        );
        assert_eq!(
            cfg(r#"{"accessToken":"t"}"#).unwrap().base_url,
            DEFAULT_BASE_URL
        );
        for (src, param) in [
            ("{}", "apiKey"),
            (r#"{"apiKey":"k","accessToken":"t"}"#, "accessToken"),
            (r#"{"apiKey":""}"#, "apiKey"),
            (r#"{"apiKey":"k","baseUrl":"127.0.0.1:80"}"#, "baseUrl"),
            (r#"{"apiKey":"k","timeoutMs":0}"#, "timeoutMs"),
            (r#"{"apiKey":"k","maxRetries":-1}"#, "maxRetries"),
            (r#"{"apiKey":"k","maxRetries":11}"#, "maxRetries"),
            (r#"{"apiKey":"k","fetch":"object"}"#, "fetch"),
            (r#"{"apikey":"k"}"#, "apikey"),
        ] {
            assert_eq!(cfg(src).unwrap_err().param.as_deref(), Some(param), "{src}");
        }
    }

    #[test]
    fn browser_guard() {
        let browser = Env {
            browser: true,
            ..Env::default()
        };
        let e =
            Config::new(&Json::parse(r#"{"apiKey":"sk_live_x"}"#).unwrap(), &browser).unwrap_err();
        assert!(e.message.contains("accessToken") && !e.message.contains("sk_live_x"));
        assert!(Config::new(
            &Json::parse(r#"{"apiKey":"k","dangerouslyAllowBrowser":true}"#).unwrap(),
            &browser
        )
        .is_ok());
        assert!(Config::new(&Json::parse(r#"{"accessToken":"t"}"#).unwrap(), &browser).is_ok());
    }

    #[test]
    fn create_builds_a_json_post_with_an_idempotency_key() {
        let c = cfg(r#"{"apiKey":"sk_test","baseUrl":"http://127.0.0.1:9"}"#).unwrap();
        let r = prep(&c, "charges", "create", &format!("[null,{CREATE},null]")).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("POST", "http://127.0.0.1:9/api/v1/charges")
        );
        assert_eq!(r.body.as_deref(), Some(CREATE));
        assert_eq!(r.header("authorization"), Some("Basic c2tfdGVzdDo="));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.header("idempotency-key"),
            Some("07070707-0707-4707-8707-070707070707")
        );
        assert!(r
            .header("x-qbitpay-client-user-agent")
            .unwrap()
            .contains(r#""runtime":"node""#));
        let r = prep(&c, "charges", "create", &format!(r#"[null,{CREATE},{{"idempotencyKey":"mine","timeoutMs":5,"maxRetries":0,"signal":true}}]"#)).unwrap();
        assert_eq!(
            (r.header("idempotency-key"), r.timeout_ms, r.max_retries),
            (Some("mine"), 5.0, 0)
        );
        assert!(r.to_json().starts_with(r#"{"method":"POST","url":"http://127.0.0.1:9/api/v1/charges","headers":{"Accept":"application/json","#));
    }

    #[test]
    fn reads_and_updates() {
        let c = cfg(r#"{"accessToken":"tok","baseUrl":"http://h"}"#).unwrap();
        let r = prep(&c, "charges", "retrieve", r#"["ch 1/x"]"#).unwrap();
        assert_eq!(
            (r.method, r.url.as_str(), r.body.as_deref()),
            ("GET", "http://h/api/v1/charges/ch%201%2Fx", None)
        );
        assert_eq!(
            (r.header("authorization"), r.header("idempotency-key")),
            (Some("Bearer tok"), None)
        );
        let r = prep(
            &c,
            "charges",
            "update",
            r#"["ch_1",{"status":"buyerPaid"}]"#,
        )
        .unwrap();
        assert_eq!(
            (r.method, r.body.as_deref()),
            ("PUT", Some(r#"{"status":"buyerPaid"}"#))
        );
        assert!(r.header("idempotency-key").is_some());
        let r = prep(
            &c,
            "charges",
            "list",
            r#"[null,{"limit":100,"externalOrderId":"a b"}]"#,
        )
        .unwrap();
        assert_eq!(
            r.url,
            "http://h/api/v1/charges?externalOrderId=a%20b&limit=100"
        );
        assert_eq!(r.page, Some((100, Dir::Forward)));
        assert!(r.to_json().ends_with(r#","limit":100,"dir":"f"}"#));
        let r = c
            .prepare(
                "charges",
                "list",
                &Json::parse(r#"[null,{"startingAfter":"x"}]"#).unwrap(),
                Some(Cursor::EndingBefore("y".into())),
                &[],
            )
            .unwrap();
        assert_eq!(
            (r.url.as_str(), r.page),
            (
                "http://h/api/v1/charges?limit=10&ending_before=y",
                Some((10, Dir::Backward))
            )
        );
        let r = prep(&c, "accessToken", "create", "[]").unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("GET", "http://h/api/v1/accessToken")
        );
    }

    /// Mangled inputs (truncated, bytes flipped, random ops) never panic: a panic would trap
    /// the wasm module. A small deterministic fuzz over the core's entry points.
    #[test]
    fn mangled_inputs_never_panic() {
        let c = cfg(r#"{"apiKey":"k"}"#).unwrap();
        let seeds = [
            format!("[null,{CREATE},{{\"idempotencyKey\":\"x\",\"timeoutMs\":5}}]"),
            r#"["ch_1",{"status":"buyerPaid"},null]"#.to_string(),
            r#"[null,{"limit":100,"starting_after":"c","externalOrderId":"\u00e9\ud83d\ude00"},null]"#.to_string(),
            r#"{"type":"x","message":"m","param":"p","detail":[1,{"a":[]}]}"#.to_string(),
            r#"[null,{"amount":5,"currency":"USD","destination":{"type":"bankAccount","payerName":"A","bankAccountNum":"1","bankName":"B"}}]"#.to_string(),
            r#"[null,{"symbol":"USDT/CNY","side":"ask","type":"charge","source":"ch_1","cbUrl":"http://a"}]"#.to_string(),
        ];
        let mut x: u64 = 0x2545F4914F6CDD1D;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"{}[]\",:0123456789.eE-+tfnul\\/ \x7f\xc3\xa9";
        for _ in 0..20_000 {
            let seed = seeds[(rnd() % seeds.len() as u64) as usize].as_bytes();
            let mut b = seed.to_vec();
            for _ in 0..(1 + rnd() % 4) {
                let i = (rnd() % (b.len() as u64 + 1)) as usize;
                match rnd() % 3 {
                    0 if i < b.len() => b[i] = alphabet[(rnd() % alphabet.len() as u64) as usize],
                    1 => b.insert(i, alphabet[(rnd() % alphabet.len() as u64) as usize]),
                    _ => b.truncate(i),
                }
            }
            let s = String::from_utf8_lossy(&b);
            let j = Json::parse(&s).unwrap_or(Json::Null);
            for (res, op) in [
                ("charges", "create"),
                ("charges", "update"),
                ("charges", "list"),
                ("accessToken", "create"),
                ("payouts", "create"),
                ("balanceTransactions", "list"),
                ("markets", "ticker"),
                ("events", "test"),
            ] {
                let _ = c.prepare(res, op, &j, None, &[1, 2, 3]);
            }
            let _ = crate::client::page::to_array_max(&j);
            let _ = Config::new(&j, &Env::default());
            let _ = ClientError::from_response((rnd() % 600) as u16, &s, Some(&s), None, &["k"])
                .to_json();
            let _ = crate::client::retry::parse_retry_after(Some(&s));
        }
    }

    /// Validation table: each invalid call fails with `param` set (and so sends nothing).
    #[test]
    fn validation_table() {
        let c = cfg(r#"{"apiKey":"k"}"#).unwrap();
        let with = |k: &str, v: &str| {
            let mut o = Json::parse(CREATE).unwrap();
            if let Json::Obj(m) = &mut o {
                m.retain(|(mk, _)| mk != k);
                if v != "-" {
                    m.push((k.to_string(), Json::parse(v).unwrap()));
                }
            }
            format!("[null,{}]", o.to_string())
        };
        let cases: Vec<(String, &str)> = vec![
            (with("amount", "-"), "amount"),
            (with("amount", "0"), "amount"),
            (with("amount", "-5"), "amount"),
            (with("amount", "null"), "amount"),
            (with("amount", "\"100\""), "amount"),
            (with("currency", "\"EUR\""), "currency"),
            (with("currency", "\"usd\""), "currency"),
            (with("externalOrderId", "\"\""), "externalOrderId"),
            (with("externalOrderId", "12"), "externalOrderId"),
            (with("cbUrl", "\"/relative\""), "cbUrl"),
            (with("cbUrl", "\"ftp://x/y\""), "cbUrl"),
            (with("redirectUrl", "-"), "redirectUrl"),
            (with("quoteCurrency", "\"EUR\""), "quoteCurrency"),
            (with("baseCurrency", "\"ETH\""), "baseCurrency"),
            (with("paymentType", "\"GCash\""), "paymentType"), // CNY by default
            (with("amountt", "1"), "amountt"),
            ("[null,\"x\"]".to_string(), "params"),
            ("[null,null]".to_string(), "amount"),
            (
                format!("[null,{CREATE},{{\"idempotencyKey\":\"\"}}]"),
                "idempotencyKey",
            ),
            (format!("[null,{CREATE},{{\"retries\":1}}]"), "retries"),
        ];
        for (args, param) in cases {
            let e = prep(&c, "charges", "create", &args).unwrap_err();
            assert_eq!(
                (e.param.as_deref(), e.kind),
                (Some(param), crate::client::error::ErrorKind::InvalidRequest),
                "{args}"
            );
        }
        let ok = with("quoteCurrency", "\"PHP\"").replace("]", "");
        assert!(prep(
            &c,
            "charges",
            "create",
            &format!("{},\"paymentType\":\"GCash\"}}]", &ok[..ok.len() - 1])
        )
        .is_ok());
        assert_eq!(
            prep(&c, "charges", "retrieve", "[5]")
                .unwrap_err()
                .param
                .as_deref(),
            Some("id")
        );
        assert_eq!(
            prep(&c, "charges", "retrieve", "[\"\"]")
                .unwrap_err()
                .param
                .as_deref(),
            Some("id")
        );
        assert_eq!(
            prep(&c, "charges", "update", r#"["c",{"status":"closed"}]"#)
                .unwrap_err()
                .param
                .as_deref(),
            Some("status")
        );
        assert_eq!(
            prep(&c, "charges", "nope", "[]")
                .unwrap_err()
                .param
                .as_deref(),
            Some("method")
        );
    }

    const WALLET: &str = r#"{"type":"wallet","payerName":"Ann","addr":"T1"}"#;

    #[test]
    fn every_family_builds_its_request() {
        let c = cfg(r#"{"apiKey":"k","baseUrl":"http://h"}"#).unwrap();
        let get = |res: &str, op: &str, args: &str| {
            let r = prep(&c, res, op, args).unwrap();
            assert_eq!(
                (r.method, r.body.as_deref(), r.header("idempotency-key")),
                ("GET", None, None),
                "{res}.{op}"
            );
            r.url
        };
        assert_eq!(
            get("accounts", "retrieve", "[]"),
            "http://h/api/v1/accounts/show"
        );
        assert_eq!(
            get("balances", "retrieve", "[null,null,{\"timeoutMs\":5}]"),
            "http://h/api/v1/balances/show"
        );
        assert_eq!(
            get("balanceTransactions", "retrieve", r#"["txn_1"]"#),
            "http://h/api/v1/balanceTransactions/txn_1"
        );
        assert_eq!(
            get(
                "balanceTransactions",
                "list",
                r#"[null,{"type":"payout","source":"po_1","status":"pending","limit":3}]"#
            ),
            "http://h/api/v1/balanceTransactions?type=payout&source=po_1&status=pending&limit=3"
        );
        assert_eq!(
            get("payouts", "retrieve", r#"["po_1"]"#),
            "http://h/api/v1/payouts/po_1"
        );
        assert_eq!(
            get(
                "payouts",
                "list",
                r#"[null,{"destination":"T1","status":"inTransit","startingAfter":"po_9"}]"#
            ),
            "http://h/api/v1/payouts?destination=T1&status=inTransit&limit=10&starting_after=po_9"
        );
        assert_eq!(
            get(
                "markets",
                "ticker",
                r#"[null,{"symbol":"USDT/CNY","side":"bid"}]"#
            ),
            "http://h/api/v1/markets/ticker?symbol=USDT%2FCNY&side=bid"
        );
        assert_eq!(
            get(
                "events",
                "test",
                r#"[null,{"cbUrl":"http://127.0.0.1:5/h?a=1"}]"#
            ),
            "http://h/api/v1/events/test?cbUrl=http%3A%2F%2F127.0.0.1%3A5%2Fh%3Fa%3D1"
        );
        assert_eq!(get("events", "test", "[]"), "http://h/api/v1/events/test");
        let body = format!(
            r#"{{"amount":10.5,"currency":"USDT","destination":{WALLET},"description":"rent","externalOrderId":"e1"}}"#
        );
        let r = prep(&c, "payouts", "create", &format!("[null,{body}]")).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("POST", "http://h/api/v1/payouts")
        );
        assert_eq!(r.body.as_deref(), Some(body.as_str()));
        assert!(r.header("idempotency-key").is_some());
        let table = resources::table_json();
        for part in [
            r#""accounts":{"retrieve":["none","GET"]}"#,
            r#""balances":{"retrieve":["none","GET"]}"#,
            r#""balanceTransactions":{"retrieve":["id","GET"],"list":["list","GET"]}"#,
            r#""payouts":{"create":["params","POST"],"retrieve":["id","GET"],"list":["list","GET"]}"#,
            r#""markets":{"ticker":["params","GET"]}"#,
            r#""events":{"test":["params","GET"]}"#,
        ] {
            assert!(table.contains(part), "{part} in {table}");
        }
    }

    /// Payout destinations: each type's required fields, named `destination.<field>`.
    #[test]
    fn destination_validation_table() {
        let c = cfg(r#"{"apiKey":"k"}"#).unwrap();
        let payout =
            |dest: &str| format!(r#"[null,{{"amount":5,"currency":"USD","destination":{dest}}}]"#);
        let ok = [
            r#"{"type":"bankAccount","payerName":"A","bankAccountNum":"1","bankName":"B"}"#,
            r#"{"type":"bankAccount","payerName":"A","bankAccountNum":"1","bankName":"B","swift":"S","bankRoutingNum":"R","bankDetailName":"D","bankAddr":"X","city":"C","state":"S","country":"US","postalCode":"0"}"#,
            r#"{"type":"wallet","payerName":"A","addr":"T1"}"#,
            r#"{"type":"Alipay","payerName":"A","bankAccountNum":"a@b"}"#,
            r#"{"type":"PayPal","payerName":"A","bankAccountNum":"a@b"}"#,
            r#"{"type":"Coins.ph","payerName":"A","bankAccountNum":"0917"}"#,
            r#"{"type":"GCash","payerName":"A","bankAccountNum":"0917"}"#,
            r#"{"type":"bankAccount","payerName":"A","bankAccountNum":"1","bankName":"B","swift":null}"#,
        ];
        for d in ok {
            assert!(prep(&c, "payouts", "create", &payout(d)).is_ok(), "{d}");
        }
        let bad: &[(&str, &str)] = &[
            (
                r#"{"type":"bankAccount","payerName":"A","bankAccountNum":"1"}"#,
                "destination.bankName",
            ),
            (
                r#"{"type":"bankAccount","payerName":"A","bankName":"B"}"#,
                "destination.bankAccountNum",
            ),
            (
                r#"{"type":"bankAccount","bankAccountNum":"1","bankName":"B"}"#,
                "destination.payerName",
            ),
            (
                r#"{"type":"bankAccount","payerName":"A","bankAccountNum":"1","bankName":""}"#,
                "destination.bankName",
            ),
            (r#"{"type":"wallet","payerName":"A"}"#, "destination.addr"),
            (r#"{"type":"wallet","addr":"T"}"#, "destination.payerName"),
            (
                r#"{"type":"wallet","payerName":"A","addr":7}"#,
                "destination.addr",
            ),
            (
                r#"{"type":"wallet","payerName":"A","addr":"T","bankAccountNum":"1"}"#,
                "destination.bankAccountNum",
            ),
            (
                r#"{"type":"Alipay","payerName":"A"}"#,
                "destination.bankAccountNum",
            ),
            (
                r#"{"type":"PayPal","bankAccountNum":"x"}"#,
                "destination.payerName",
            ),
            (
                r#"{"type":"Coins.ph","payerName":"A","addr":"T"}"#,
                "destination.addr",
            ),
            (
                r#"{"type":"GCash","payerName":"  ","bankAccountNum":"1"}"#,
                "destination.payerName",
            ),
            (
                r#"{"type":"Yunshanfu","payerName":"A","bankAccountNum":"1"}"#,
                "destination.type",
            ),
            (
                r#"{"type":"gcash","payerName":"A","bankAccountNum":"1"}"#,
                "destination.type",
            ),
            (r#"{"type":null,"payerName":"A"}"#, "destination.type"),
            (r#"{"payerName":"A","addr":"T"}"#, "destination.type"),
            (r#"{"type":3}"#, "destination.type"),
            (r#""wallet""#, "destination"),
            (r#"["wallet"]"#, "destination"),
            ("null", "destination"),
        ];
        for (d, param) in bad {
            let e = prep(&c, "payouts", "create", &payout(d)).unwrap_err();
            assert_eq!(e.param.as_deref(), Some(*param), "{d}: {}", e.message);
            assert!(e.message.contains(param), "{d}: {}", e.message);
        }
        let e = prep(&c, "payouts", "create", &payout(r#"{"type":"moon"}"#)).unwrap_err();
        assert!(
            e.message
                .contains("bankAccount, wallet, Alipay, PayPal, Coins.ph, GCash"),
            "{}",
            e.message
        );
    }

    #[test]
    fn family_validation_table() {
        let c = cfg(r#"{"apiKey":"k"}"#).unwrap();
        let w = format!(r#""destination":{WALLET}"#);
        let cases: Vec<(&str, &str, String, &str)> = vec![
            ("accounts", "retrieve", r#"[null,{"x":1}]"#.into(), "params"),
            (
                "accounts",
                "retrieve",
                r#"[null,null,{"idempotencyKey":5}]"#.into(),
                "idempotencyKey",
            ),
            ("balances", "retrieve", r#"[null,{}]"#.into(), "params"),
            ("balanceTransactions", "retrieve", "[null]".into(), "id"),
            (
                "balanceTransactions",
                "list",
                r#"[null,{"type":"refund"}]"#.into(),
                "type",
            ),
            (
                "balanceTransactions",
                "list",
                r#"[null,{"status":"done"}]"#.into(),
                "status",
            ),
            (
                "balanceTransactions",
                "list",
                r#"[null,{"source":"ch_1"}]"#.into(),
                "type",
            ),
            (
                "balanceTransactions",
                "list",
                r#"[null,{"type":"charge","source":""}]"#.into(),
                "source",
            ),
            (
                "balanceTransactions",
                "list",
                r#"[null,{"limit":500}]"#.into(),
                "limit",
            ),
            (
                "payouts",
                "create",
                format!(r#"[null,{{"currency":"USD",{w}}}]"#),
                "amount",
            ),
            (
                "payouts",
                "create",
                format!(r#"[null,{{"amount":-1,"currency":"USD",{w}}}]"#),
                "amount",
            ),
            (
                "payouts",
                "create",
                format!(r#"[null,{{"amount":1,"currency":"EUR",{w}}}]"#),
                "currency",
            ),
            (
                "payouts",
                "create",
                format!(r#"[null,{{"amount":1,{w}}}]"#),
                "currency",
            ),
            (
                "payouts",
                "create",
                r#"[null,{"amount":1,"currency":"USD"}]"#.into(),
                "destination",
            ),
            (
                "payouts",
                "create",
                format!(r#"[null,{{"amount":1,"currency":"USD",{w},"description":3}}]"#),
                "description",
            ),
            (
                "payouts",
                "create",
                format!(r#"[null,{{"amount":1,"currency":"USD",{w},"externalOrderId":""}}]"#),
                "externalOrderId",
            ),
            (
                "payouts",
                "create",
                format!(r#"[null,{{"amount":1,"currency":"USD",{w},"cbUrl":"http://x"}}]"#),
                "cbUrl",
            ),
            ("payouts", "retrieve", r#"[""]"#.into(), "id"),
            (
                "payouts",
                "list",
                r#"[null,{"status":"paidout"}]"#.into(),
                "status",
            ),
            (
                "payouts",
                "list",
                r#"[null,{"destination":{"type":"wallet"}}]"#.into(),
                "destination",
            ),
            ("markets", "ticker", "[]".into(), "symbol"),
            (
                "markets",
                "ticker",
                r#"[null,{"symbol":"USDT/CNY"}]"#.into(),
                "side",
            ),
            (
                "markets",
                "ticker",
                r#"[null,{"symbol":"USDT/CNY","side":"buy"}]"#.into(),
                "side",
            ),
            (
                "markets",
                "ticker",
                r#"[null,{"symbol":"USDTCNY","side":"ask"}]"#.into(),
                "symbol",
            ),
            (
                "markets",
                "ticker",
                r#"[null,{"symbol":"ETH/CNY","side":"ask"}]"#.into(),
                "symbol",
            ),
            (
                "markets",
                "ticker",
                r#"[null,{"symbol":"USDT/CNY/X","side":"ask"}]"#.into(),
                "symbol",
            ),
            (
                "markets",
                "ticker",
                r#"[null,{"side":"ask"}]"#.into(),
                "symbol",
            ),
            (
                "events",
                "test",
                r#"[null,{"cbUrl":"/hook"}]"#.into(),
                "cbUrl",
            ),
            (
                "events",
                "test",
                r#"[null,{"url":"http://x"}]"#.into(),
                "url",
            ),
            ("events", "list", "[]".into(), "method"),
            ("payouts", "update", "[]".into(), "method"),
        ];
        for (res, op, args, param) in cases {
            let e = prep(&c, res, op, &args).unwrap_err();
            assert_eq!(
                (e.param.as_deref(), e.kind),
                (Some(param), crate::client::error::ErrorKind::InvalidRequest),
                "{res}.{op} {args}: {}",
                e.message
            );
        }
        for sym in [
            "BTC/CNY", "BTC/USD", "BTC/PHP", "USDT/CNY", "USDT/USD", "USDT/PHP",
        ] {
            let args = format!(r#"[null,{{"symbol":"{sym}","side":"ask"}}]"#);
            assert!(prep(&c, "markets", "ticker", &args).is_ok(), "{sym}");
        }
        assert!(prep(
            &c,
            "balanceTransactions",
            "list",
            r#"[null,{"type":"charge","source":"ch_1"}]"#
        )
        .is_ok());
        assert!(prep(
            &c,
            "balanceTransactions",
            "list",
            r#"[null,{"type":"charge","source":null}]"#
        )
        .is_ok());
    }

    #[test]
    fn only_token_clients_get_the_scope_hint() {
        assert!(cfg(r#"{"accessToken":"t"}"#).unwrap().uses_access_token());
        assert!(!cfg(r#"{"apiKey":"k"}"#).unwrap().uses_access_token());
    }
}
