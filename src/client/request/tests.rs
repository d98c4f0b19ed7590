use super::*;
use crate::client::parse;
use crate::client::retry::Outcome;
use crate::spec::resources;

fn cfg(opts: &str) -> Result<Config, ClientError> {
    Config::new(
        &parse(opts).unwrap(),
        &Env { browser: false, runtime: "node".into(), runtime_version: "20.0.0".into() },
    )
}
fn prep(c: &Config, res: &str, op: &str, args: &str) -> Result<Request, ClientError> {
    let a = parse(args).unwrap();
    let at = |i: usize| a.get(i).cloned().unwrap_or(Json::Null);
    let call = Call { id: at(0), params: at(1), opts: at(2), ..Call::default() };
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
    assert_eq!((c.base_url.as_str(), c.timeout_ms, c.max_retries), ("http://127.0.0.1:9", 30000.0, 2));
    assert_eq!(cfg(r#"{"accessToken":"t"}"#).unwrap().base_url, DEFAULT_BASE_URL);
    // User info is never sent: fetch refuses a URL with it, quoting the password in its error.
    for (given, sent) in [
        ("http://user:pa55@127.0.0.1:9/", "http://127.0.0.1:9"),
        ("https://k:@api.example/v2?x=a@b", "https://api.example/v2?x=a@b"),
        ("http://a@b@h:1#f", "http://h:1#f"),
        ("http://h/p@q", "http://h/p@q"),
        // A backslash starts the path, as WHATWG URLs read it: no user info before it.
        (r"http://h\\p@q/", "http://h\\p@q"),
    ] {
        let c = cfg(&format!(r#"{{"accessToken":"t","baseUrl":"{given}"}}"#)).unwrap();
        assert_eq!(c.base_url, sent, "{given}");
    }
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
    let browser = Env { browser: true, ..Env::default() };
    let e = Config::new(&parse(r#"{"apiKey":"sk_live_x"}"#).unwrap(), &browser).unwrap_err();
    assert!(e.message.contains("accessToken") && !e.message.contains("sk_live_x"));
    assert!(
        Config::new(&parse(r#"{"apiKey":"k","dangerouslyAllowBrowser":true}"#).unwrap(), &browser).is_ok()
    );
    assert!(Config::new(&parse(r#"{"accessToken":"t"}"#).unwrap(), &browser).is_ok());
}

#[test]
fn create_builds_a_json_post_with_an_idempotency_key() {
    let c = cfg(r#"{"apiKey":"sk_test","baseUrl":"http://127.0.0.1:9"}"#).unwrap();
    let r = prep(&c, "charges", "create", &format!("[null,{CREATE},null]")).unwrap();
    assert_eq!((r.method, r.url.as_str()), ("POST", "http://127.0.0.1:9/api/v1/charges"));
    assert_eq!(r.body.as_deref(), Some(CREATE));
    assert_eq!(r.header("authorization"), Some("Basic c2tfdGVzdDo="));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("idempotency-key"), Some("07070707-0707-4707-8707-070707070707"));
    assert!(r.header("x-qbitpay-client-user-agent").unwrap().contains(r#""runtime":"node""#));
    let r = prep(
        &c,
        "charges",
        "create",
        &format!(r#"[null,{CREATE},{{"idempotencyKey":"mine","timeoutMs":5,"maxRetries":0,"signal":true}}]"#),
    )
    .unwrap();
    assert_eq!((r.header("idempotency-key"), r.timeout_ms, r.max_retries), (Some("mine"), 5.0, 0));
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
    assert_eq!((r.header("authorization"), r.header("idempotency-key")), (Some("Bearer tok"), None));
    let r = prep(&c, "charges", "update", r#"["ch_1",{"status":"buyerPaid"}]"#).unwrap();
    assert_eq!((r.method, r.body.as_deref()), ("PUT", Some(r#"{"status":"buyerPaid"}"#)));
    assert!(r.header("idempotency-key").is_some());
    let r = prep(&c, "charges", "list", r#"[null,{"limit":100,"externalOrderId":"a b"}]"#).unwrap();
    assert_eq!(r.url, "http://h/api/v1/charges?externalOrderId=a%20b&limit=100");
    assert_eq!(r.page, Some((100, None)));
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
            Some((10, Some(Cursor::EndingBefore("y".into()))))
        )
    );
    let r = prep(&c, "accessToken", "create", "[]").unwrap();
    assert_eq!((r.method, r.url.as_str()), ("GET", "http://h/api/v1/accessToken"));
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
            let call = Call { id: j.clone(), params: j.clone(), opts: j.clone(), ..Call::default() };
            let res = resources::find(res).unwrap();
            let _ = c.prepare(res, res.op(op).unwrap(), &call, None, String::new);
        }
        let _ = crate::client::page::to_array_max(&j);
        let _ = Config::new(&j, &Env::default());
        let _ = ClientError::from_response((rnd() % 600) as u16, &s, Some(&s), None, &["k"]);
        let _ = crate::client::retry::parse_retry_after(Some(&s), Some(&s));
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
        (format!("[null,{CREATE},{{\"idempotencyKey\":\"\"}}]"), "idempotencyKey"),
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
    assert!(prep(&c, "charges", "create", &format!("{},\"paymentType\":\"GCash\"}}]", &ok[..ok.len() - 1]))
        .is_ok());
    assert_eq!(prep(&c, "charges", "retrieve", "[5]").unwrap_err().param.as_deref(), Some("id"));
    assert_eq!(prep(&c, "charges", "retrieve", "[\"\"]").unwrap_err().param.as_deref(), Some("id"));
    assert_eq!(
        prep(&c, "charges", "update", r#"["c",{"status":"closed"}]"#).unwrap_err().param.as_deref(),
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
    assert_eq!(get("accounts", "retrieve", "[]"), "http://h/api/v1/accounts/show");
    assert_eq!(get("balances", "retrieve", "[null,null,{\"timeoutMs\":5}]"), "http://h/api/v1/balances/show");
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
    assert_eq!(get("payouts", "retrieve", r#"["po_1"]"#), "http://h/api/v1/payouts/po_1");
    assert_eq!(
        get("payouts", "list", r#"[null,{"destination":"T1","status":"inTransit","startingAfter":"po_9"}]"#),
        "http://h/api/v1/payouts?destination=T1&status=inTransit&limit=10&starting_after=po_9"
    );
    assert_eq!(
        get("markets", "ticker", r#"[null,{"symbol":"USDT/CNY","side":"bid"}]"#),
        "http://h/api/v1/markets/ticker?symbol=USDT%2FCNY&side=bid"
    );
    assert_eq!(
        get("events", "test", r#"[null,{"cbUrl":"http://127.0.0.1:5/h?a=1"}]"#),
        "http://h/api/v1/events/test?cbUrl=http%3A%2F%2F127.0.0.1%3A5%2Fh%3Fa%3D1"
    );
    assert_eq!(get("events", "test", "[]"), "http://h/api/v1/events/test");
    let body = format!(
        r#"{{"amount":10.5,"currency":"USDT","destination":{WALLET},"description":"rent","externalOrderId":"e1"}}"#
    );
    let r = prep(&c, "payouts", "create", &format!("[null,{body}]")).unwrap();
    assert_eq!((r.method, r.url.as_str()), ("POST", "http://h/api/v1/payouts"));
    assert_eq!(r.body.as_deref(), Some(body.as_str()));
    assert!(r.header("idempotency-key").is_some());
    // Each family's operations: name, call shape and method, as the declarations say.
    let ops = |name: &str| -> Vec<(&str, &str, &str)> {
        let r = resources::find(name).unwrap();
        r.ops.iter().map(|o| (o.name, o.shape.as_str(), o.method.as_str())).collect()
    };
    assert_eq!(ops("accounts"), [("retrieve", "none", "GET")]);
    assert_eq!(ops("balances"), [("retrieve", "none", "GET")]);
    assert_eq!(ops("balanceTransactions"), [("retrieve", "id", "GET"), ("list", "list", "GET")]);
    assert_eq!(
        ops("payouts"),
        [("create", "params", "POST"), ("retrieve", "id", "GET"), ("list", "list", "GET")]
    );
    assert_eq!(ops("markets"), [("ticker", "params", "GET")]);
    assert_eq!(ops("events"), [("test", "params", "GET")]);
}

/// Payout destinations: each type's required fields, named `destination.<field>`.
#[test]
fn destination_validation_table() {
    let c = cfg(r#"{"apiKey":"k"}"#).unwrap();
    let payout = |dest: &str| format!(r#"[null,{{"amount":5,"currency":"USD","destination":{dest}}}]"#);
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
        (r#"{"type":"bankAccount","payerName":"A","bankAccountNum":"1"}"#, "destination.bankName"),
        (r#"{"type":"bankAccount","payerName":"A","bankName":"B"}"#, "destination.bankAccountNum"),
        (r#"{"type":"bankAccount","bankAccountNum":"1","bankName":"B"}"#, "destination.payerName"),
        (
            r#"{"type":"bankAccount","payerName":"A","bankAccountNum":"1","bankName":""}"#,
            "destination.bankName",
        ),
        (r#"{"type":"wallet","payerName":"A"}"#, "destination.addr"),
        (r#"{"type":"wallet","addr":"T"}"#, "destination.payerName"),
        (r#"{"type":"wallet","payerName":"A","addr":7}"#, "destination.addr"),
        (
            r#"{"type":"wallet","payerName":"A","addr":"T","bankAccountNum":"1"}"#,
            "destination.bankAccountNum",
        ),
        (r#"{"type":"Alipay","payerName":"A"}"#, "destination.bankAccountNum"),
        (r#"{"type":"PayPal","bankAccountNum":"x"}"#, "destination.payerName"),
        (r#"{"type":"Coins.ph","payerName":"A","addr":"T"}"#, "destination.addr"),
        (r#"{"type":"GCash","payerName":"  ","bankAccountNum":"1"}"#, "destination.payerName"),
        (r#"{"type":"Yunshanfu","payerName":"A","bankAccountNum":"1"}"#, "destination.type"),
        (r#"{"type":"gcash","payerName":"A","bankAccountNum":"1"}"#, "destination.type"),
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
    assert!(e.message.contains("bankAccount, wallet, Alipay, PayPal, Coins.ph, GCash"), "{}", e.message);
}

#[test]
fn family_validation_table() {
    let c = cfg(r#"{"apiKey":"k"}"#).unwrap();
    let w = format!(r#""destination":{WALLET}"#);
    let cases: Vec<(&str, &str, String, &str)> = vec![
        ("accounts", "retrieve", r#"[null,{"x":1}]"#.into(), "params"),
        ("accounts", "retrieve", r#"[null,null,{"idempotencyKey":5}]"#.into(), "idempotencyKey"),
        ("balances", "retrieve", r#"[null,{}]"#.into(), "params"),
        ("balanceTransactions", "retrieve", "[null]".into(), "id"),
        ("balanceTransactions", "list", r#"[null,{"type":"refund"}]"#.into(), "type"),
        ("balanceTransactions", "list", r#"[null,{"status":"done"}]"#.into(), "status"),
        ("balanceTransactions", "list", r#"[null,{"source":"ch_1"}]"#.into(), "type"),
        ("balanceTransactions", "list", r#"[null,{"type":"charge","source":""}]"#.into(), "source"),
        ("balanceTransactions", "list", r#"[null,{"limit":500}]"#.into(), "limit"),
        ("payouts", "create", format!(r#"[null,{{"currency":"USD",{w}}}]"#), "amount"),
        ("payouts", "create", format!(r#"[null,{{"amount":-1,"currency":"USD",{w}}}]"#), "amount"),
        ("payouts", "create", format!(r#"[null,{{"amount":1,"currency":"EUR",{w}}}]"#), "currency"),
        ("payouts", "create", format!(r#"[null,{{"amount":1,{w}}}]"#), "currency"),
        ("payouts", "create", r#"[null,{"amount":1,"currency":"USD"}]"#.into(), "destination"),
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
        ("payouts", "list", r#"[null,{"status":"paidout"}]"#.into(), "status"),
        ("payouts", "list", r#"[null,{"destination":{"type":"wallet"}}]"#.into(), "destination"),
        ("markets", "ticker", "[]".into(), "symbol"),
        ("markets", "ticker", r#"[null,{"symbol":"USDT/CNY"}]"#.into(), "side"),
        ("markets", "ticker", r#"[null,{"symbol":"USDT/CNY","side":"buy"}]"#.into(), "side"),
        ("markets", "ticker", r#"[null,{"symbol":"USDTCNY","side":"ask"}]"#.into(), "symbol"),
        ("markets", "ticker", r#"[null,{"symbol":"ETH/CNY","side":"ask"}]"#.into(), "symbol"),
        ("markets", "ticker", r#"[null,{"symbol":"USDT/CNY/X","side":"ask"}]"#.into(), "symbol"),
        ("markets", "ticker", r#"[null,{"side":"ask"}]"#.into(), "symbol"),
        ("events", "test", r#"[null,{"cbUrl":"/hook"}]"#.into(), "cbUrl"),
        ("events", "test", r#"[null,{"url":"http://x"}]"#.into(), "url"),
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
    for sym in ["BTC/CNY", "BTC/USD", "BTC/PHP", "USDT/CNY", "USDT/USD", "USDT/PHP"] {
        let args = format!(r#"[null,{{"symbol":"{sym}","side":"ask"}}]"#);
        assert!(prep(&c, "markets", "ticker", &args).is_ok(), "{sym}");
    }
    assert!(prep(&c, "balanceTransactions", "list", r#"[null,{"type":"charge","source":"ch_1"}]"#).is_ok());
    assert!(prep(&c, "balanceTransactions", "list", r#"[null,{"type":"charge","source":null}]"#).is_ok());
}

#[test]
fn only_token_clients_get_the_scope_hint() {
    let token = cfg(r#"{"accessToken":"t"}"#).unwrap();
    let key = cfg(r#"{"apiKey":"k"}"#).unwrap();
    assert!(prep(&token, "charges", "retrieve", r#"["ch_1"]"#).unwrap().auth.is_token());
    assert!(!prep(&key, "charges", "retrieve", r#"["ch_1"]"#).unwrap().auth.is_token());
}

/// Whether a message reads as written for a person: no format placeholders, no Rust debug
/// output. (`({ apiKey })`, JavaScript written in a message, is fine.)
fn unreadable(m: &str) -> Option<&'static str> {
    let b = m.as_bytes();
    let placeholder = b.windows(2).enumerate().any(|(i, w)| {
        w[0] == b'{'
            && (w[1] == b'{'
                || w[1] == b'}'
                || w[1] == b':'
                || w[1].is_ascii_alphanumeric()
                    && m[i + 1..].find('}').is_some_and(|j| !m[i + 1..i + 1 + j].contains(' ')))
    });
    [
        (placeholder, "a format placeholder"),
        (m.contains("}}"), "a doubled brace"),
        (
            ["Some(", "None", "Ok(", "Err(", "String(", "Number(", "Object {", "\\\""]
                .iter()
                .any(|d| m.contains(d)),
            "Rust debug output",
        ),
        (m.trim() != m || m.is_empty(), "blank space at an end"),
    ]
    .into_iter()
    .find_map(|(bad, why)| bad.then_some(why))
}

#[test]
fn every_message_of_the_error_catalogue_reads_as_written() {
    let mut messages: Vec<String> = Vec::new();
    let mut add = |e: ClientError| messages.push(e.message);
    // Options of the client and of a call, each wrong in each way.
    for opts in [
        "{}",
        "null",
        "[]",
        r#"{"apiKey":1}"#,
        r#"{"apiKey":"k","accessToken":"t"}"#,
        r#"{"apiKey":""}"#,
        r#"{"apiKey":"k","baseUrl":"ftp://x"}"#,
        r#"{"apiKey":"k","timeoutMs":0}"#,
        r#"{"apiKey":"k","maxRetries":11}"#,
        r#"{"apiKey":"k","maxResponseBytes":0}"#,
        r#"{"apiKey":"k","fetch":"object"}"#,
        r#"{"apiKey":"k","unknown":1}"#,
    ] {
        if let Err(e) = cfg(opts) {
            add(e);
        }
    }
    let browser = Env { browser: true, ..Env::default() };
    add(Config::new(&parse(r#"{"apiKey":"k"}"#).unwrap(), &browser).unwrap_err());
    let c = cfg(r#"{"apiKey":"sk_test_catalogue"}"#).unwrap();
    let token = cfg(r#"{"accessToken":"tok_catalogue_0123"}"#).unwrap();
    // Every method of every family, with arguments of every wrong kind.
    let bad_args = [
        r#"[]"#,
        r#"[1]"#,
        r#"[".."]"#,
        r#"[null, 1]"#,
        r#"[null, "x"]"#,
        r#"[null, []]"#,
        r#"[null, {"unknown": 1}]"#,
        r#"[null, {"amount": -1, "currency": "EUR"}]"#,
        r#"[null, {"limit": 0}]"#,
        r#"[null, {"limit": 1, "startingAfter": ""}]"#,
        r#"[null, {"startingAfter": "a", "endingBefore": "b"}]"#,
        r#"[null, {"startingAfter": "a", "starting_after": "b"}]"#,
        r#"[null, null, {"timeoutMs": "x"}]"#,
        r#"[null, null, {"signal": 1}]"#,
        r#"[null, null, {"idempotencyKey": 3}]"#,
        r#"[null, null, {"apiKey": "k", "accessToken": "t"}]"#,
        r#"[null, null, {"maxResponseBytes": -1}]"#,
        r#"["ch_1", {"status": "paid"}]"#,
        r#"["ch_1", {"destination": {"type": "wallet"}}]"#,
    ];
    for res in crate::spec::resources::RESOURCES {
        for op in res.ops {
            for args in bad_args {
                if let Err(e) = prep(&c, res.name, op.name, args) {
                    add(e);
                }
                for extra in [CREATE, r#"{"amount":1,"currency":"USD","destination":{"type":"bankAccount"}}"#]
                {
                    if let Err(e) = prep(&c, res.name, op.name, &format!("[null,{extra}]")) {
                        add(e);
                    }
                }
            }
        }
    }
    // Pagination and toArray.
    for opts in ["{}", r#"{"max":0}"#, r#"{"max":"x"}"#, r#"{"max":10001}"#] {
        add(crate::client::page::to_array_max(&parse(opts).unwrap()).unwrap_err());
    }
    // Answers: statuses with and without a body the client can read, and the refusals.
    let req = prep(&c, "charges", "retrieve", r#"["ch_1"]"#).unwrap();
    let treq = prep(&token, "charges", "retrieve", r#"["ch_1"]"#).unwrap();
    for status in [400, 401, 403, 404, 409, 429, 500, 502, 503, 200] {
        for body in ["", "<html>", "{}", r#"{"message":"Server says no."}"#, r#"{"type":"x","message":""}"#] {
            add(req.error_for(status, body, Some("req_1"), Some(1.0)));
            add(treq.error_for(status, body, None, None));
        }
    }
    for outcome in [Outcome::Network, Outcome::Timeout] {
        add(req.final_error(outcome, "", None, None));
    }
    add(ClientError::connection("aborted", 0.0, None));
    for (status, location) in
        [(301, Some("https://a.example/x")), (307, None), (0, None), (308, Some("/relative"))]
    {
        add(req.redirect_error(status, location));
    }
    add(req.too_large_error(200, None, Some(1 << 40)));
    add(req.too_large_error(502, Some("r"), None));
    for got in [
        "null",
        "a string",
        "a number",
        "a boolean",
        "an array",
        "a body that is not JSON",
        "an object without a data array",
    ] {
        add(req.unexpected_body_error(200, None, got));
    }
    assert!(messages.len() > 200, "only {} messages", messages.len());
    let bad: Vec<String> =
        messages.iter().filter_map(|m| unreadable(m).map(|why| format!("{why}: {m}"))).collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_readability_check_catches_what_it_is_for() {
    for m in
        ["toArray needs {{ max }}", "got {max}", "value {}", "x {:?}", "Some(\"a\")", "got None", "\\\"q\\\""]
    {
        assert!(unreadable(m).is_some(), "{m}");
    }
    assert_eq!(unreadable("use new QbitPay({ accessToken }) in the browser"), None);
}

#[test]
fn no_source_message_is_written_with_debug_formatting_or_escaped_braces() {
    // The messages built at run time are walked above; this catches a `{:?}` or a literal `{{`
    // in a message the walk could not reach.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for dir in ["client", "spec", "wasm"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                let src = std::fs::read_to_string(&path).unwrap();
                let code = src.split("#[cfg(test)]").next().unwrap();
                for (n, line) in code.lines().enumerate() {
                    let l = line.trim_start();
                    if l.starts_with("//") {
                        continue;
                    }
                    assert!(
                        !line.contains("{:?}") && !line.contains("{:#?}"),
                        "{}:{}: {line}",
                        path.display(),
                        n + 1
                    );
                    if !l.contains("format!") && !l.contains("r#") {
                        assert!(
                            !line.contains("{{ ") || !line.contains("String::from("),
                            "{}:{}: {line}",
                            path.display(),
                            n + 1
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_body_is_the_callers_json_text_when_validation_leaves_it_as_it_is() {
    let c = cfg(r#"{"apiKey":"sk_test"}"#).unwrap();
    let res = resources::find("charges").unwrap();
    let prep_text = |params: &str, text: &str| {
        let call = Call { params: parse(params).unwrap(), params_text: Some(text.into()), ..Call::default() };
        c.prepare(res, res.op("create").unwrap(), &call, None, String::new).unwrap().body
    };
    // The text as the binding received it is sent as is (here an exponent serde_json would
    // print otherwise).
    let text = r#"{"amount":5e+2,"currency":"USD","externalOrderId":"o1","cbUrl":"http://127.0.0.1/cb","redirectUrl":"https://shop.example/done"}"#;
    let params = text.replace("5e+2", "500");
    assert_eq!(prep_text(&params, text).as_deref(), Some(text));
    // Without a text, or when validation changed the value, the value is serialised.
    let call = Call { params: parse(CREATE).unwrap(), ..Call::default() };
    let body = c.prepare(res, res.op("create").unwrap(), &call, None, String::new).unwrap().body.unwrap();
    assert_eq!(parse(&body).unwrap(), parse(CREATE).unwrap());
}
