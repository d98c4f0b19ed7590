//! From a configured client and a call (`resource`, `op`, id, params, options) to the exact
//! HTTP request to send, with validation before anything leaves.

use super::error::ClientError;
use super::page::{parse_list_params, Cursor, Dir};
use super::retry::{Outcome, DEFAULT_MAX_RETRIES, MAX_RETRIES_LIMIT};
use super::schema::{validate, Args, Field, Op, Resource, Ty};
use super::{type_name, Json};
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
            Auth::ApiKey(k) => format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{k}:"))),
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
    /// `auth.header()`, made once (base64 and two formats per call otherwise, measured ~1 µs).
    auth_header: String,
    /// An API key may be used here (not a browser, or `dangerouslyAllowBrowser`).
    keys_allowed: bool,
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
    // The binding replaces a function by the string "function".
    Field::opt("fetch", Ty::Enum(&["function"])),
    Field::opt("dangerouslyAllowBrowser", Ty::Bool),
];

const CALL_OPTIONS: &[Field] = &[
    Field::opt("idempotencyKey", Ty::Str),
    Field::opt("timeoutMs", Ty::Int(1, MAX_TIMEOUT_MS)),
    Field::opt("maxRetries", Ty::Int(0, MAX_RETRIES_LIMIT as i32)),
    // The binding replaces an AbortSignal by `true`.
    Field::opt("signal", Ty::Bool),
    // Per-call credentials: a platform acting for several merchants.
    Field::opt("apiKey", Ty::Str),
    Field::opt("accessToken", Ty::Str),
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
    /// For lists: the effective limit and the direction of this page.
    pub page: Option<(u32, Dir)>,
    /// The `Idempotency-Key` of a POST or PUT (the same for every attempt of the call).
    pub idempotency_key: Option<String>,
    /// The credential it is sent with (the client's, or the call's own).
    pub auth: Auth,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The error for an answer to this request that is not a success (or a 2xx whose body
    /// is not JSON): its credential cut out, and for an access token what its scope allows.
    pub fn error_for(&self, status: u16, body: &str, request_id: Option<&str>, retry_after: Option<f64>) -> ClientError {
        let e = ClientError::from_response(status, body, request_id, retry_after, &[self.auth.secret()]);
        if self.auth.is_token() {
            e.with_token_scope_hint()
        } else {
            e
        }
    }

    /// The error a call ends with when its last attempt ended with `outcome` (the retry
    /// policy said no more): a connection error, or the error for the server's answer.
    pub fn final_error(&self, outcome: Outcome, body: &str, request_id: Option<&str>, retry_after: Option<f64>) -> ClientError {
        match outcome {
            Outcome::Network => ClientError::connection("network", self.timeout_ms),
            Outcome::Timeout => ClientError::connection("timeout", self.timeout_ms),
            Outcome::Status(status) => self.error_for(status, body, request_id, retry_after),
        }
    }

    /// `s` (e.g. a raw server body) with this request's credential cut out.
    pub fn redact(&self, s: &str) -> String {
        super::error::redact(s, &[self.auth.secret()])
    }
}

/// Exactly one of `apiKey` and `accessToken` in `o` (an object of validated options).
fn auth_of(o: &serde_json::Map<String, Json>, keys_allowed: bool) -> Result<Option<Auth>, ClientError> {
    let key = o.get("apiKey").and_then(Json::as_str);
    let token = o.get("accessToken").and_then(Json::as_str);
    match (key, token) {
        (Some(_), Some(_)) => Err(ClientError::invalid("accessToken", "Pass either apiKey or accessToken, not both")),
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
        let keys_allowed = !env.browser || o.get("dangerouslyAllowBrowser").and_then(Json::as_bool) == Some(true);
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
        if op.args.has_id() && !push_id(&mut url, &call.id) {
            let got = if call.id.is_string() { "a string it cannot be" } else { type_name(&call.id) };
            return Err(ClientError::invalid(
                "id",
                format!("{}.{}: id must be a non-empty string other than '.' and '..', got {got}", res.name, op.name),
            ));
        }
        url.push_str(op.suffix);

        let params = &call.params;
        let mut page = None;
        let mut body = None;
        match op.args {
            Args::None | Args::Id => {
                if !params.is_null() {
                    return Err(ClientError::invalid("params", format!("{}.{} takes no parameters", res.name, op.name)));
                }
            }
            Args::List => {
                let mut lp = parse_list_params(params, op.params)?;
                if let Some(check) = op.check {
                    check(&Json::Object(lp.filters.clone()))?;
                }
                if cursor.is_some() {
                    lp.cursor = cursor;
                }
                page = Some((lp.limit, lp.dir()));
                push_query(&mut url, &lp.query());
            }
            Args::Params | Args::IdParams => {
                let v = Json::Object(validate(params, op.params, "")?);
                if let Some(check) = op.check {
                    check(&v)?;
                }
                match (op.method.has_body(), v) {
                    (true, v) => body = Some(v.to_string()),
                    (false, Json::Object(m)) => push_query(&mut url, &m),
                    _ => {}
                }
            }
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
mod tests {
    use super::*;
    use crate::client::{parse, resources};

    fn cfg(opts: &str) -> Result<Config, ClientError> {
        Config::new(
            &parse(opts).unwrap(),
            &Env {
                browser: false,
                runtime: "node".into(),
                runtime_version: "20.0.0".into(),
            },
        )
    }
    fn prep(c: &Config, res: &str, op: &str, args: &str) -> Result<Request, ClientError> {
        let a = parse(args).unwrap();
        let at = |i: usize| a.get(i).cloned().unwrap_or(Json::Null);
        let call = Call { id: at(0), params: at(1), opts: at(2) };
        let res = resources::find(res).unwrap();
        c.prepare(res, res.op(op).unwrap(), &call, None, || "07070707-0707-4707-8707-070707070707".into())
    }
    const CREATE: &str = r#"{"amount":100,"currency":"USD","externalOrderId":"o1","cbUrl":"http://127.0.0.1/cb","redirectUrl":"https://shop.example/done"}"#;

    #[test]
    fn ids_are_percent_encoded_and_dot_segments_refused() {
        let mut s = String::new();
        assert!(push_id(&mut s, &Json::from("USDT/CNY é&=")));
        assert_eq!(s, "/USDT%2FCNY%20%C3%A9%26%3D");
        // `.` and `..` are refused (a URL parser would resolve them), `...` is not.
        assert!(!push_id(&mut String::new(), &Json::from(".")));
        assert!(!push_id(&mut String::new(), &Json::from("..")));
        assert!(push_id(&mut String::new(), &Json::from("...")));
        assert!(!push_id(&mut String::new(), &Json::from("")));
        assert!(!push_id(&mut String::new(), &Json::Null));
        assert_eq!(Auth::ApiKey("sk_test".into()).header(), "Basic c2tfdGVzdDo=");
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
            Config::new(&parse(r#"{"apiKey":"sk_live_x"}"#).unwrap(), &browser).unwrap_err();
        assert!(e.message.contains("accessToken") && !e.message.contains("sk_live_x"));
        assert!(Config::new(
            &parse(r#"{"apiKey":"k","dangerouslyAllowBrowser":true}"#).unwrap(),
            &browser
        )
        .is_ok());
        assert!(Config::new(&parse(r#"{"accessToken":"t"}"#).unwrap(), &browser).is_ok());
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
        assert_eq!((r.path.as_str(), r.idempotency_key.as_deref()), ("/api/v1/charges", Some("mine")));
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
        let r = c
            .prepare(
                &resources::charges::RESOURCE,
                &resources::charges::list,
                &Call { params: parse(r#"{"startingAfter":"x"}"#).unwrap(), ..Call::default() },
                Some(Cursor::EndingBefore("y".into())),
                String::new,
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
            let j = parse(&s).unwrap_or(Json::Null);
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
                let call = Call { id: j.clone(), params: j.clone(), opts: j.clone() };
                let res = resources::find(res).unwrap();
                let _ = c.prepare(res, res.op(op).unwrap(), &call, None, String::new);
            }
            let _ = crate::client::page::to_array_max(&j);
            let _ = Config::new(&j, &Env::default());
            let _ = ClientError::from_response((rnd() % 600) as u16, &s, Some(&s), None, &["k"]);
            let _ = crate::client::retry::parse_retry_after(Some(&s));
        }
    }

    /// Validation table: each invalid call fails with `param` set (and so sends nothing).
    #[test]
    fn validation_table() {
        let c = cfg(r#"{"apiKey":"k"}"#).unwrap();
        let with = |k: &str, v: &str| {
            let mut o = parse(CREATE).unwrap();
            if let Json::Object(m) = &mut o {
                m.shift_remove(k);
                if v != "-" {
                    m.insert(k.to_string(), parse(v).unwrap());
                }
            }
            format!("[null,{o}]")
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
        // Each family's operations: name, call shape and method, as the declarations say.
        let ops = |name: &str| -> Vec<(&str, &str, &str)> {
            let r = resources::find(name).unwrap();
            r.ops.iter().map(|o| (o.name, o.args.as_str(), o.method.as_str())).collect()
        };
        assert_eq!(ops("accounts"), [("retrieve", "none", "GET")]);
        assert_eq!(ops("balances"), [("retrieve", "none", "GET")]);
        assert_eq!(ops("balanceTransactions"), [("retrieve", "id", "GET"), ("list", "list", "GET")]);
        assert_eq!(ops("payouts"), [("create", "params", "POST"), ("retrieve", "id", "GET"), ("list", "list", "GET")]);
        assert_eq!(ops("markets"), [("ticker", "params", "GET")]);
        assert_eq!(ops("events"), [("test", "params", "GET")]);
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
        let token = cfg(r#"{"accessToken":"t"}"#).unwrap();
        let key = cfg(r#"{"apiKey":"k"}"#).unwrap();
        assert!(prep(&token, "charges", "retrieve", r#"["ch_1"]"#).unwrap().auth.is_token());
        assert!(!prep(&key, "charges", "retrieve", r#"["ch_1"]"#).unwrap().auth.is_token());
    }
}
