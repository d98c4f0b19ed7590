use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use crate::common::*;

const A: &str = "sk_test_alice";
const B: &str = "sk_test_bob";
const CB: &str = "http://127.0.0.1:9/cb";

#[tokio::test]
async fn api_key_errors() {
    let sb = Sandbox::start(&["--api-key", A]);
    let none = sb.get(Auth::None, "/api/v1/charges").await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["type"], "authentication_error");
    let wrong = sb.get(Auth::Key("sk_nope"), "/api/v1/charges").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["type"], "authentication_error");
    let odd = sb
        .http
        .get(format!("{}/api/v1/charges", sb.url))
        .header("Authorization", "Digest abc")
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status(), 401);
    // The key with a password part still authenticates (curl -u KEY:).
    let ok = sb
        .http
        .get(format!("{}/api/v1/charges", sb.url))
        .basic_auth(A, Some("ignored"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn accounts_are_isolated() {
    let sb = Sandbox::start(&["--api-key", A, "--api-key", B, "--auto-confirm-after", "0"]);
    let c = sb.create_charge(A, "iso-1", CB).await;
    let id = c["id"].as_str().unwrap();
    let path = format!("/api/v1/charges/{id}");
    assert_eq!(sb.get(Auth::Key(A), &path).await.status, 200);
    let other = sb.get(Auth::Key(B), &path).await;
    assert_eq!(other.status, 404);
    assert_eq!(other.body["type"], "invalid_request_error");
    assert_eq!(sb.put(Auth::Key(B), &path, &json!({"status": "buyerPaid"})).await.status, 404);
    assert_eq!(sb.get(Auth::Key(B), "/api/v1/charges").await.body["data"], json!([]));
    sb.get(Auth::Key(B), &format!("/api/v1/charges?starting_after={id}"))
        .await
        .assert_invalid("starting_after");
    // A's token is no key to B's charges either.
    let tb = sb.token(B).await;
    assert_eq!(sb.get(Auth::Bearer(&tb), &path).await.status, 404);
    assert_eq!(sb.put(Auth::Bearer(&tb), &path, &json!({"status": "buyerPaid"})).await.status, 404);
    // Money and its records stay in A.
    assert_eq!(sb.put(Auth::Key(A), &path, &json!({"status": "buyerPaid"})).await.status, 200);
    sb.wait_for(A, "/api/v1/balances/show", |b| b["available"] == 99).await;
    assert_eq!(sb.get(Auth::Key(B), "/api/v1/balances/show").await.body["available"], 0);
    let txns = sb.get(Auth::Key(A), "/api/v1/balanceTransactions").await;
    let txn = txns.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sb.get(Auth::Key(B), &format!("/api/v1/balanceTransactions/{txn}")).await.status, 404);
    assert_eq!(sb.get(Auth::Key(B), "/api/v1/balanceTransactions").await.body["data"], json!([]));
    let ev = sb.get(Auth::Key(A), "/api/v1/events").await;
    assert_eq!(ev.body["data"][0]["type"], "charge.succeeded");
    assert_eq!(sb.get(Auth::Key(B), "/api/v1/events").await.body["data"], json!([]));
}

#[tokio::test]
async fn access_token_scope() {
    let sb = Sandbox::start(&["--api-key", A]);
    let c = sb.create_charge(A, "tok-1", CB).await;
    let id = c["id"].as_str().unwrap();
    let token = sb.token(A).await;
    // JWT-shaped: header.payload.signature, with exp 2 h after iat and the scope.
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 7200);
    assert_eq!(claims["scope"], "charges:read charges:buyerPaid");
    assert!(claims["sub"].as_str().unwrap().starts_with("acct_"));
    assert!(!token.contains(A));

    let t = Auth::Bearer(&token);
    let path = format!("/api/v1/charges/{id}");
    assert_eq!(sb.get(t, &path).await.body["id"], id);
    assert_eq!(sb.get(t, "/api/v1/charges").await.body["data"][0]["id"], id);
    assert_eq!(sb.get(t, "/api/v1/charges?externalOrderId=tok-1").await.body["data"][0]["id"], id);
    let paid = sb.put(t, &path, &json!({"status": "buyerPaid"})).await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    assert_eq!(paid.body["status"], "buyerPaid");

    let forbidden = [
        sb.post(t, "/api/v1/charges", &charge_body("tok-2", CB)).await,
        sb.get(t, "/api/v1/accessToken").await,
        sb.get(t, "/api/v1/balances/show").await,
        sb.get(t, "/api/v1/accounts/show").await,
        sb.get(t, "/api/v1/balanceTransactions").await,
        sb.get(t, "/api/v1/payouts").await,
        sb.post(t, "/api/v1/payouts", &json!({"amount": 5})).await,
        sb.get(t, "/api/v1/markets/ticker?symbol=USDT/CNY&side=ask").await,
        sb.get(t, "/api/v1/events/test?cbUrl=http://127.0.0.1:9/x").await,
        sb.get(t, "/api/v1/events").await,
    ];
    for r in forbidden {
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.body["type"], "authentication_error");
    }
    assert_eq!(
        sb.get(Auth::Key(A), "/api/v1/charges").await.body["data"].as_array().unwrap().len(),
        1,
        "no charge made by a token"
    );
}

#[tokio::test]
async fn forged_and_foreign_tokens_are_401() {
    let sb = Sandbox::start(&["--api-key", A, "--api-key", B]);
    let other = Sandbox::start(&["--api-key", A]);
    let token = sb.token(A).await;
    let tb = sb.token(B).await;
    let parts: Vec<&str> = token.split('.').collect();
    // Alice's signature on Bob's claims.
    let b_claims = tb.split('.').nth(1).unwrap();
    let swapped = format!("{}.{}.{}", parts[0], b_claims, parts[2]);
    // A longer expiry, re-encoded, old signature.
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 86400);
    let extended = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    let unsigned = format!("{}.{}.", parts[0], parts[1]);
    let from_other_server = other.token(A).await;
    for bad in
        [swapped.as_str(), extended.as_str(), unsigned.as_str(), "a.b.c", "x.y", from_other_server.as_str()]
    {
        let r = sb.get(Auth::Bearer(bad), "/api/v1/charges").await;
        assert_eq!(r.status, 401, "{bad}: {}", r.text);
        assert_eq!(r.body["type"], "authentication_error");
    }
    assert_eq!(sb.get(Auth::Bearer(&token), "/api/v1/charges").await.status, 200);
}

#[tokio::test]
async fn access_tokens_expire() {
    let sb = Sandbox::start(&["--api-key", A, "--access-token-ttl", "1"]);
    let token = sb.token(A).await;
    assert_eq!(sb.get(Auth::Bearer(&token), "/api/v1/charges").await.status, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = sb.get(Auth::Bearer(&token), "/api/v1/charges").await;
    assert_eq!(r.status, 401);
    assert!(r.body["message"].as_str().unwrap().contains("expired"), "{}", r.text);
    let fresh = sb.token(A).await;
    assert_eq!(sb.get(Auth::Bearer(&fresh), "/api/v1/charges").await.status, 200);
}

#[tokio::test]
async fn hosted_payment_page() {
    let sb = Sandbox::start(&["--api-key", A, "--api-key", B]);
    let c = sb.create_charge(A, "page-<1>", CB).await;
    let id = c["id"].as_str().unwrap();
    let page_url = c["paymentPageUrl"].as_str().unwrap().to_owned();
    let token = sb.token(A).await;
    let fetch = |url: String| {
        let http = sb.http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            let (status, headers) = (r.status().as_u16(), r.headers().clone());
            (status, headers, r.text().await.unwrap())
        }
    };
    let (st, h, html) = fetch(format!("{page_url}&accessToken={token}")).await;
    assert_eq!(st, 200, "{html}");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(html.contains("I have paid"));
    assert!(html.contains(id) && html.contains("100") && html.contains("USD") && html.contains("pending"));
    assert!(html.contains("page-&lt;1&gt;") && !html.contains("page-<1>"), "user text is escaped");
    assert!(html.contains("http://localhost:3000/thanks"), "the page knows the redirectUrl");

    for url in [page_url.clone(), format!("{page_url}&accessToken="), format!("{page_url}&accessToken=a.b.c")]
    {
        let (st, _, html) = fetch(url).await;
        assert_eq!(st, 401);
        assert!(html.contains("refusal") && !html.contains("I have paid") && !html.contains(id), "{html}");
    }
    let tb = sb.token(B).await;
    let (st, _, html) = fetch(format!("{page_url}&accessToken={tb}")).await;
    assert_eq!(st, 404);
    assert!(!html.contains("I have paid"));
    let (st, _, _) = fetch(format!("{}/pay/ch_missing?accessToken={token}", sb.url)).await;
    assert_eq!(st, 404);

    // What the button does: PUT buyerPaid with the Bearer token; then the page shows it.
    let r =
        sb.put(Auth::Bearer(&token), &format!("/api/v1/charges/{id}"), &json!({"status": "buyerPaid"})).await;
    assert_eq!(r.status, 200);
    let (_, _, html) = fetch(format!("{page_url}&accessToken={token}")).await;
    assert!(html.contains(r#"id="paid" disabled"#) && html.contains("buyerPaid"), "{html}");
    let qr = sb.http.get(c["paymentMethod"]["qrCodeImgUrl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
}

#[tokio::test]
async fn rate_limit_per_key_with_retry_after() {
    let sb = Sandbox::start(&["--api-key", A, "--api-key", B, "--rate-limit", "5"]);
    let mut limited = None;
    let mut ok = 0;
    for _ in 0..15 {
        let r = sb.get(Auth::Key(A), "/api/v1/balances/show").await;
        match r.status {
            200 => ok += 1,
            429 => {
                limited = Some(r);
                break;
            }
            s => panic!("unexpected {s}"),
        }
    }
    let r = limited.expect("a 429 within 15 quick requests at 5/s");
    assert!(ok >= 4, "the burst of 5 passes first ({ok})");
    assert_eq!(r.body["type"], "rate_limit_error");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // Another key has its own bucket.
    assert_eq!(sb.get(Auth::Key(B), "/api/v1/balances/show").await.status, 200);
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(sb.get(Auth::Key(A), "/api/v1/balances/show").await.status, 200);
}

#[tokio::test]
async fn idempotent_replay_mismatch_and_concurrency() {
    let sb = Sandbox::start(&["--api-key", A, "--api-key", B]);
    let body = charge_body("idem-1", CB);
    let first = sb.post_idem(Auth::Key(A), "/api/v1/charges", &body, "key-1").await;
    assert_eq!(first.status, 200);
    assert!(first.header("idempotent-replayed").is_none());
    let second = sb.post_idem(Auth::Key(A), "/api/v1/charges", &body, "key-1").await;
    assert_eq!(second.status, 200);
    assert_eq!(second.text, first.text, "the first response, byte for byte");
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_ne!(second.header("request-id"), first.header("request-id"));

    let other = sb.post_idem(Auth::Key(A), "/api/v1/charges", &charge_body("idem-2", CB), "key-1").await;
    assert_eq!(other.status, 400);
    assert_eq!(other.body["type"], "invalid_request_error");
    let wrong_path = sb.post_idem(Auth::Key(A), "/api/v1/payouts", &body, "key-1").await;
    assert_eq!(wrong_path.status, 400);

    // Keys are per account: B's key-1 is a different request.
    let b = sb.post_idem(Auth::Key(B), "/api/v1/charges", &body, "key-1").await;
    assert_eq!(b.status, 200);
    assert_ne!(b.body["id"], first.body["id"]);

    // An error is replayed too (the payout failed for want of balance).
    let po = json!({"amount": 5, "currency": "USDT", "destination": {"type": "wallet", "payerName": "A", "addr": "T1"}});
    let p1 = sb.post_idem(Auth::Key(A), "/api/v1/payouts", &po, "po-1").await;
    assert_eq!(p1.status, 402);
    let p2 = sb.post_idem(Auth::Key(A), "/api/v1/payouts", &po, "po-1").await;
    assert_eq!((p2.status, p2.header("idempotent-replayed")), (402, Some("true")));

    // 16 concurrent duplicates make one charge.
    let body3 = charge_body("idem-3", CB);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (http, url, body3) = (sb.http.clone(), sb.url.clone(), body3.clone());
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{url}/api/v1/charges"))
                .basic_auth(A, Some(""))
                .header("Idempotency-Key", "key-3")
                .json(&body3)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let list = sb.get(Auth::Key(A), "/api/v1/charges?externalOrderId=idem-3").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(sb.get(Auth::Key(A), "/api/v1/charges").await.body["data"].as_array().unwrap().len(), 2);
}
