use serde_json::json;

use crate::common::*;

const K: &str = "sk_test_api";

#[tokio::test]
async fn first_line_request_id_and_unknown_routes() {
    let sb = Sandbox::start(&["--api-key", K]);
    let r = sb.get(Auth::None, "/_sandbox/info").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "qbitpay-sandbox");
    assert_eq!(r.body["baseUrl"], sb.url.as_str());
    let page = sb.get(Auth::None, "/").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("<title>QbitPay sandbox</title>"), "the dashboard");
    let rid = r.header("request-id").unwrap().to_owned();
    assert!(rid.starts_with("req_") && rid.len() == 24, "{rid}");
    let r2 = sb.get(Auth::Key(K), "/api/v1/nope").await;
    assert_eq!(r2.status, 404);
    assert_eq!(r2.body["type"], "invalid_request_error");
    assert_ne!(r2.header("request-id").unwrap(), rid, "a fresh Request-Id per response");
    let r3 = sb.req(reqwest::Method::DELETE, Auth::Key(K), "/api/v1/charges").send().await.unwrap();
    assert_eq!(r3.status(), 405);
    assert!(r3.headers().contains_key("request-id"));
}

#[tokio::test]
async fn charge_create_retrieve_list_update() {
    let sb = Sandbox::start(&["--api-key", K, "--charge-ttl", "600"]);
    let body = json!({
        "amount": 250.5, "currency": "USDT", "externalOrderId": "order-1",
        "cbUrl": "http://127.0.0.1:9/cb", "redirectUrl": "http://localhost:3000/done",
        "baseCurrency": "USDT", "quoteCurrency": "PHP", "paymentType": "GCash", "payerName": "Juan",
    });
    let r = sb.post(Auth::Key(K), "/api/v1/charges", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.body.clone();
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ch_") && id.len() == 27, "{id}");
    assert_eq!(c["object"], "charge");
    assert_eq!(c["status"], "pending");
    assert_eq!(c["paid"], false);
    assert_eq!(c["amount"], 250.5);
    assert_eq!(c["currency"], "USDT");
    assert_eq!(c["baseCurrency"], "USDT");
    assert_eq!(c["quoteCurrency"], "PHP");
    assert_eq!(c["externalOrderId"], "order-1");
    assert_eq!(c["payerName"], "Juan");
    assert_eq!(c["cbUrl"], "http://127.0.0.1:9/cb");
    assert_eq!(c["redirectUrl"], "http://localhost:3000/done");
    assert_eq!(c["fee"], 2.51);
    assert_eq!(c["baseAmount"], 250.5);
    assert!(c["price"].as_f64().unwrap() > 50.0 && c["totalCost"].as_f64().unwrap() > 250.5 * 50.0);
    assert_eq!(c["paymentMethod"]["object"], "paymentMethod");
    assert_eq!(c["paymentMethod"]["type"], "GCash");
    assert_eq!(c["paymentMethod"]["currency"], "PHP");
    assert_eq!(c["paymentMethod"]["typeLabel"]["en"], "GCash");
    assert!(is_timestamp(&c["createdAt"]) && is_timestamp(&c["expiresAt"]));
    let ms = |v: &serde_json::Value| qbitpay::webhook::timestamp::parse_millis(v.as_str().unwrap()).unwrap();
    assert_eq!(ms(&c["expiresAt"]) - ms(&c["createdAt"]), 600_000.0);
    let page = c["paymentPageUrl"].as_str().unwrap();
    assert!(page.starts_with(&format!("{}/pay/{id}?", sb.url)), "{page}");

    // Defaults: BTC / CNY / Alipay; payerName null.
    let d = sb.create_charge(K, "order-2", "http://127.0.0.1:9/cb").await;
    assert_eq!((d["baseCurrency"].as_str(), d["quoteCurrency"].as_str()), (Some("BTC"), Some("CNY")));
    assert_eq!(d["paymentMethod"]["type"], "Alipay");
    assert!(d["payerName"].is_null());
    assert_eq!(d["amount"], 100);
    assert_eq!(d["baseAmount"], 0.0025);

    let got = sb.get(Auth::Key(K), &format!("/api/v1/charges/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, c);

    let l = sb.get(Auth::Key(K), "/api/v1/charges").await;
    assert_eq!(l.body["object"], "list");
    assert_eq!(l.body["url"], "/api/v1/charges");
    assert!(l.body.get("has_more").is_none());
    let ids: Vec<_> = l.body["data"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, vec![d["id"].clone(), c["id"].clone()], "newest first");

    let f = sb.get(Auth::Key(K), "/api/v1/charges?externalOrderId=order-1").await;
    assert_eq!(f.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(f.body["data"][0]["id"], c["id"]);
    let none = sb.get(Auth::Key(K), "/api/v1/charges?externalOrderId=nope").await;
    assert_eq!(none.body["data"], json!([]));

    let u = sb.put(Auth::Key(K), &format!("/api/v1/charges/{id}"), &json!({"status": "buyerPaid"})).await;
    assert_eq!(u.status, 200, "{}", u.text);
    assert_eq!(u.body["status"], "buyerPaid");
    assert_eq!(u.body["paid"], false);
    // Idempotent PUT: already buyerPaid.
    let again = sb.put(Auth::Key(K), &format!("/api/v1/charges/{id}"), &json!({"status": "buyerPaid"})).await;
    assert_eq!(again.status, 200);
    sb.put(Auth::Key(K), &format!("/api/v1/charges/{id}"), &json!({"status": "closed"}))
        .await
        .assert_invalid("status");
    sb.put(Auth::Key(K), &format!("/api/v1/charges/{id}"), &json!({})).await.assert_invalid("status");
    let missing = sb.put(Auth::Key(K), "/api/v1/charges/ch_nope", &json!({"status": "buyerPaid"})).await;
    assert_eq!(missing.status, 404);
    // Without --auto-confirm-after, buyerPaid stays.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/charges/{id}")).await.body["status"], "buyerPaid");
}

#[tokio::test]
async fn form_encoded_bodies_like_the_curl_examples() {
    let sb = Sandbox::start(&["--api-key", K, "--auto-confirm-after", "0"]);
    let r = sb
        .post_form(
            Auth::Key(K),
            "/api/v1/charges",
            "amount=100&currency=USD&externalOrderId=form-1&cbUrl=http%3A%2F%2F127.0.0.1%3A9%2Fcb&redirectUrl=http%3A%2F%2Flocalhost%2Fok&quoteCurrency=USD&paymentType=bankAccount",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["amount"], 100, "a form number arrives as a JSON number");
    assert_eq!(r.body["paymentMethod"]["type"], "bankAccount");
    assert_eq!(r.body["externalOrderId"], "form-1");
    sb.post_form(Auth::Key(K), "/api/v1/charges", "amount=abc&currency=USD").await.assert_invalid("amount");

    // Fund the account, then a payout whose destination arrives as a JSON string.
    let id = r.body["id"].as_str().unwrap();
    let put = sb
        .req(reqwest::Method::PUT, Auth::Key(K), &format!("/api/v1/charges/{id}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("status=buyerPaid")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    sb.wait_for(K, "/api/v1/balances/show", |b| b["available"] == 99).await;
    let dest = urlencode(r#"{"type":"wallet","payerName":"Ann","addr":"TXYZ123"}"#);
    let p = sb
        .post_form(Auth::Key(K), "/api/v1/payouts", &format!("amount=10&currency=USDT&destination={dest}"))
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.body["destination"]["addr"], "TXYZ123");
    assert_eq!(p.body["type"], "wallet");
    // Bracket form fields work too.
    let p2 = sb
        .post_form(
            Auth::Key(K),
            "/api/v1/payouts",
            "amount=10&currency=USDT&destination[type]=PayPal&destination[payerName]=Bo&destination[bankAccountNum]=bo%40example.com",
        )
        .await;
    assert_eq!(p2.status, 200, "{}", p2.text);
    assert_eq!(p2.body["destination"]["accountNum"], "bo@example.com");
    let bad = sb
        .post_form(Auth::Key(K), "/api/v1/payouts", "amount=10&currency=USDT&destination=%7Bnot-json")
        .await;
    bad.assert_invalid("destination");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn validation_errors_name_the_parameter() {
    let sb = Sandbox::start(&["--api-key", K]);
    let base = charge_body("v-1", "http://127.0.0.1:9/cb");
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v;
        }
        b
    };
    let cases = [
        (with("amount", json!(null)), "amount"),
        (with("amount", json!(0)), "amount"),
        (with("amount", json!(-5)), "amount"),
        (with("amount", json!("ten")), "amount"),
        (with("amount", json!(true)), "amount"),
        (with("currency", json!(null)), "currency"),
        (with("currency", json!("EUR")), "currency"),
        (with("externalOrderId", json!(null)), "externalOrderId"),
        (with("externalOrderId", json!("")), "externalOrderId"),
        (with("cbUrl", json!(null)), "cbUrl"),
        (with("cbUrl", json!("not a url")), "cbUrl"),
        (with("redirectUrl", json!("ftp://x/y")), "redirectUrl"),
        (with("baseCurrency", json!("ETH")), "baseCurrency"),
        (with("quoteCurrency", json!("EUR")), "quoteCurrency"),
        (with("paymentType", json!("GCash")), "paymentType"), // CNY does not take GCash
        (with("payerName", json!({"a": 1})), "payerName"),
    ];
    for (body, param) in cases {
        let r = sb.post(Auth::Key(K), "/api/v1/charges", &body).await;
        r.assert_invalid(param);
    }
    let raw = sb
        .req(reqwest::Method::POST, Auth::Key(K), "/api/v1/charges")
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let raw = Resp::from(raw).await;
    assert_eq!(raw.status, 400);
    assert_eq!(raw.body["type"], "invalid_request_error");
    let arr = sb.post(Auth::Key(K), "/api/v1/charges", &json!([1])).await;
    assert_eq!(arr.status, 400);
    for q in ["limit=0", "limit=101", "limit=abc", "limit=1.5"] {
        sb.get(Auth::Key(K), &format!("/api/v1/charges?{q}")).await.assert_invalid("limit");
    }
    sb.get(Auth::Key(K), "/api/v1/charges?starting_after=ch_unknown").await.assert_invalid("starting_after");
    sb.get(Auth::Key(K), "/api/v1/charges?ending_before=ch_unknown").await.assert_invalid("ending_before");
    let none = sb.get(Auth::Key(K), "/api/v1/charges").await;
    assert_eq!(none.body["data"], json!([]), "no invalid request created anything");
    let nf = sb.get(Auth::Key(K), "/api/v1/charges/ch_doesnotexist").await;
    assert_eq!(nf.status, 404);
    assert_eq!(nf.body["type"], "invalid_request_error");
    assert!(nf.body["message"].as_str().unwrap().contains("ch_doesnotexist"));
}

#[tokio::test]
async fn accounts_balances_and_ticker() {
    let sb = Sandbox::start(&["--api-key", K]);
    let a = sb.get(Auth::Key(K), "/api/v1/accounts/show").await;
    assert_eq!(a.status, 200);
    for f in ["payout", "pay", "trade", "withdrawToken"] {
        assert!(a.body["feeRates"][f].is_number(), "{}", a.text);
    }
    assert_eq!(a.body["limit"]["pay"]["currency"], "USD");
    assert!(a.body["limit"]["pay"]["min"].is_number() && a.body["limit"]["pay"]["max"].is_number());
    assert!(a.body["limit"]["payout"]["min"].is_number());
    assert!(a.body["limit"]["withdrawToken"]["min"].is_number());

    let b = sb.get(Auth::Key(K), "/api/v1/balances/show").await;
    assert_eq!(b.body["object"], "balance");
    assert!(b.body["id"].as_str().unwrap().starts_with("bal_"));
    assert_eq!((b.body["available"].clone(), b.body["pending"].clone()), (json!(0), json!(0)));

    let ask = sb.get(Auth::Key(K), "/api/v1/markets/ticker?symbol=USDT/CNY&side=ask").await;
    assert_eq!(ask.status, 200, "{}", ask.text);
    assert_eq!(ask.body["symbol"], "USDT/CNY");
    assert!(ask.body["timestamp"].as_i64().unwrap() > 1_500_000_000_000);
    assert!(ask.body.get("bid").is_none());
    let bid = sb.get(Auth::Key(K), "/api/v1/markets/ticker?symbol=USDT%2FCNY&side=bid").await;
    assert!(ask.body["ask"].as_f64().unwrap() > bid.body["bid"].as_f64().unwrap());
    sb.get(Auth::Key(K), "/api/v1/markets/ticker?side=ask").await.assert_invalid("symbol");
    sb.get(Auth::Key(K), "/api/v1/markets/ticker?symbol=USDT/CNY").await.assert_invalid("side");
    sb.get(Auth::Key(K), "/api/v1/markets/ticker?symbol=USDT/CNY&side=mid").await.assert_invalid("side");
    sb.get(Auth::Key(K), "/api/v1/markets/ticker?symbol=DOGE/CNY&side=ask").await.assert_invalid("symbol");
}

#[tokio::test]
async fn cors_for_localhost_origins_only() {
    let sb = Sandbox::start(&["--api-key", K]);
    let pre = sb
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/charges", sb.url))
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,idempotency-key,x-qbitpay-client-user-agent",
        )
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success());
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    let allow = h["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    for needed in ["authorization", "content-type", "idempotency-key", "x-qbitpay-client-user-agent"] {
        assert!(allow.contains(needed), "{allow}");
    }
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("PUT"));

    let r = sb
        .req(reqwest::Method::GET, Auth::Key(K), "/api/v1/charges")
        .header("Origin", "http://127.0.0.1:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "http://127.0.0.1:8080");
    let expose = r.headers()["access-control-expose-headers"].to_str().unwrap();
    let expose = expose.to_ascii_lowercase();
    assert!(expose.contains("request-id") && expose.contains("retry-after"), "{expose}");

    let evil = sb
        .req(reqwest::Method::GET, Auth::Key(K), "/api/v1/charges")
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    let evil_pre = sb
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/charges", sb.url))
        .header("Origin", "http://localhost.evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(evil_pre.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn logs_one_line_per_request_without_secrets_and_sigterm_exits_cleanly() {
    let key = "sk_test_never_logged_123";
    let mut sb = Sandbox::start(&["--api-key", key]);
    let token = sb.token(key).await;
    sb.get(Auth::Bearer(&token), "/api/v1/charges?limit=5").await;
    sb.get(Auth::None, &format!("/pay/ch_x?accessToken={token}")).await;
    sb.get(Auth::Key("sk_wrong_key_456"), "/api/v1/charges").await;
    let status = sb.terminate();
    assert!(status.success(), "{status:?}");
    let logs = sb.logs();
    assert!(logs.contains("GET /api/v1/accessToken 200"), "{logs}");
    assert!(logs.contains("GET /api/v1/charges 200"), "{logs}");
    assert!(logs.contains("GET /api/v1/charges 401"), "{logs}");
    assert!(logs.contains("GET /pay/ch_x 404"), "{logs}");
    assert!(
        logs.lines().any(|l| l.starts_with("GET /api/v1/charges 200 ") && l.contains("ms req_")),
        "{logs}"
    );
    for secret in [key, "sk_wrong_key_456", token.as_str(), token.split('.').nth(2).unwrap()] {
        assert!(!logs.contains(secret), "a secret reached the log: {logs}");
    }
    assert!(!logs.contains("limit=5"), "no query strings in logs");
}

#[tokio::test]
async fn demo_key_when_none_given() {
    let sb = Sandbox::start(&[]);
    let r = sb.get(Auth::Key("sk_test_qbitpay_demo"), "/api/v1/balances/show").await;
    assert_eq!(r.status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while !sb.logs().contains("sk_test_qbitpay_demo") {
        assert!(std::time::Instant::now() < deadline, "the demo key is printed on stderr");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigint_exits_cleanly_and_bad_flags_are_refused() {
    let sb = Sandbox::start(&["--api-key", K]);
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/charges").await.status, 200);
    let pid = sb.pid().to_string();
    std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let mut sb = sb;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let status = loop {
        if let Some(st) = sb.try_wait() {
            break st;
        }
        assert!(std::time::Instant::now() < deadline, "no exit on SIGINT");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(sb.http.get(format!("{}/", sb.url)).send().await.is_err(), "no longer listening");

    for bad in [
        &["--fault-rate", "1.5"][..],
        &["--rate-limit", "0"],
        &["--charge-ttl", "-1"],
        &["--api-key", "a:b"],
        &["--webhook-algorithm", "sha1"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
            .args(["--port", "0"])
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(out.stdout.is_empty(), "nothing on stdout: {bad:?}");
        assert!(!out.stderr.is_empty());
    }
}

/// Every operation of the API's table answers on its path and method (with the credential it
/// takes), and nothing else does under `/api/v1` but the sandbox's declared additions.
#[tokio::test]
async fn the_routes_are_the_api_table() {
    use qbitpay::spec::schema::Method as M;
    let sb = Sandbox::start(&["--api-key", K, "--webhook-url", "http://127.0.0.1:9/hooks"]);
    for res in qbitpay::spec::resources::RESOURCES {
        for op in res.ops {
            let id = if op.shape.has_id() { "/x" } else { "" };
            let path = format!("{}{id}{}", res.path, op.suffix);
            let method = match op.method {
                M::Get => reqwest::Method::GET,
                M::Post => reqwest::Method::POST,
                M::Put => reqwest::Method::PUT,
            };
            let r = Resp::from(sb.req(method.clone(), Auth::Key(K), &path).send().await.unwrap()).await;
            let unrouted =
                r.status == 405 || r.body["message"].as_str().is_some_and(|m| m.starts_with("Unrecognized"));
            assert!(!unrouted, "{method} {path}: {}", r.text);
            // A method the table does not declare there is not allowed.
            let other =
                Resp::from(sb.req(reqwest::Method::DELETE, Auth::Key(K), &path).send().await.unwrap()).await;
            assert_eq!(other.status, 405, "DELETE {path}");
        }
    }
    for path in ["/api/v1/refunds", "/api/v1/charges/x/capture", "/api/v1/accounts"] {
        let r = sb.get(Auth::Key(K), path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.body["message"].as_str().unwrap().starts_with("Unrecognized request URL"), "{}", r.text);
    }
    assert_eq!(sb.post(Auth::Key(K), "/api/v1/accounts/show", &json!({})).await.status, 405);
}

/// Form fields and query parameters are text, read as the type their parameter declares: a
/// form, a query and a JSON body are refused alike, with the client's messages.
#[tokio::test]
async fn forms_queries_and_json_are_refused_alike() {
    let sb = Sandbox::start(&["--api-key", K]);
    let form = "amount=abc&currency=USD&externalOrderId=f&cbUrl=http%3A%2F%2F127.0.0.1%3A9%2Fcb&redirectUrl=http%3A%2F%2Flocalhost%2F";
    let json = json!({"amount": "abc", "currency": "USD", "externalOrderId": "f", "cbUrl": "http://127.0.0.1:9/cb", "redirectUrl": "http://localhost/"});
    let (f, j) = (
        sb.post_form(Auth::Key(K), "/api/v1/charges", form).await,
        sb.post(Auth::Key(K), "/api/v1/charges", &json).await,
    );
    assert_eq!((f.status, &f.body), (400, &j.body));
    assert_eq!(j.body["message"], "Invalid amount: must be a number from 0.01 to 1000000");
    // A number of a form is a number; text where text goes stays text (`payerName=7`).
    let ok = sb
        .post_form(
            Auth::Key(K),
            "/api/v1/charges",
            &form.replace("abc", "12.5").replace("&currency", "&payerName=7&currency"),
        )
        .await;
    assert_eq!(
        (ok.status, &ok.body["amount"], &ok.body["payerName"]),
        (200, &json!(12.5), &json!("7")),
        "{}",
        ok.text
    );
    for (query, param, message) in [
        ("?limit=", "limit", "Invalid limit: must be an integer from 1 to 100"),
        ("?limit=1.5", "limit", "Invalid limit: must be an integer from 1 to 100"),
        ("?externalOrderId=", "externalOrderId", "Invalid externalOrderId: must be a non-empty string"),
        ("?expand=payments", "expand", "Unknown parameter: expand"),
        (
            "?startingAfter=a&starting_after=b",
            "starting_after",
            "startingAfter and starting_after are the same parameter; pass one",
        ),
    ] {
        let r = sb.get(Auth::Key(K), &format!("/api/v1/charges{query}")).await;
        assert_eq!(
            (r.status, r.body["param"].as_str(), r.body["message"].as_str()),
            (400, Some(param), Some(message)),
            "{query}"
        );
    }
    let r = sb.get(Auth::Key(K), "/api/v1/balances/show?x=1").await;
    assert_eq!((r.status, r.body["message"].as_str()), (400, Some("balances.retrieve takes no parameters")));
    let body = sb.post(Auth::Key(K), "/api/v1/charges", &json!("x")).await;
    assert_eq!((body.status, body.body["param"].as_str()), (400, Some("params")));
}
