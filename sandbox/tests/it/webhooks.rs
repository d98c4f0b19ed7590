use std::time::Duration;

use serde_json::json;

use crate::common::*;

const K: &str = "sk_test_hooks";

#[tokio::test]
async fn delivery_retries_after_a_failure_with_a_valid_signature() {
    let rx = Receiver::start(vec![500]).await;
    let sb =
        Sandbox::start(&["--api-key", K, "--auto-confirm-after", "0.1", "--webhook-retry-interval", "0.4"]);
    let c = sb.create_charge(K, "hook-1", &rx.url).await;
    let id = c["id"].as_str().unwrap();
    sb.put(Auth::Key(K), &format!("/api/v1/charges/{id}"), &json!({"status": "buyerPaid"})).await;
    let hits = rx.wait(2).await;
    for h in &hits {
        verify(h, K);
        assert_eq!(h.content_type, "application/json");
        assert_eq!(h.signature.len(), 32);
        assert_eq!(h.signature, h.signature.to_uppercase());
    }
    let gap = hits[1].at - hits[0].at;
    assert!(gap >= Duration::from_millis(350), "retried after the interval ({gap:?})");
    let (e0, e1) = (hits[0].json(), hits[1].json());
    assert_eq!(e0["pendingWebhooks"], 0);
    assert_eq!(e1["pendingWebhooks"], 1, "counts the failed attempt");
    assert_eq!(e0["id"], e1["id"], "the same event");
    let eid = e0["id"].as_str().unwrap();
    assert!(eid.starts_with("evt_") && eid.len() == 28, "{eid}");
    assert_eq!(e0["type"], "charge.succeeded");
    assert_eq!(e0["object"], "event");
    assert_eq!(e0["livemode"], false);
    assert!(is_timestamp(&e0["createdAt"]));
    assert_eq!(e0["data"]["id"], id);
    assert_eq!(e0["data"]["object"], "charge");
    assert_eq!(e0["data"]["paid"], true);
    assert_eq!(e0["data"]["status"], "sellerConfirmed");
    // The signature covers the content: a changed body fails.
    let mut tampered = hits[1].clone();
    tampered.body =
        String::from_utf8(tampered.body).unwrap().replace("\"amount\":100", "\"amount\":1000").into_bytes();
    assert!(qbitpay::webhook::verify(&tampered.body, &tampered.signature, &[K], &Default::default()).is_err());
    let ev =
        sb.wait_for(K, &format!("/api/v1/events/{eid}"), |e| e["webhook"]["status"] == "succeeded").await;
    assert_eq!(ev["webhook"]["attempts"], 2);
    assert_eq!(ev["pendingWebhooks"], 1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.hits().len(), 2, "no delivery after a 2xx");
}

#[tokio::test]
async fn delivery_gives_up_after_five_retries() {
    let rx = Receiver::start(vec![500; 20]).await;
    let sb = Sandbox::start(&["--api-key", K, "--webhook-retry-interval", "0.1"]);
    let c = sb.create_charge(K, "hook-2", &rx.url).await;
    let id = c["id"].as_str().unwrap();
    sb.post(Auth::Key(K), &format!("/sandbox/charges/{id}/fail"), &json!({})).await;
    let hits = rx.wait(6).await;
    let pending: Vec<_> = hits.iter().map(|h| h.json()["pendingWebhooks"].as_u64().unwrap()).collect();
    assert_eq!(pending, [0, 1, 2, 3, 4, 5]);
    assert_eq!(hits[0].json()["type"], "charge.failed");
    for h in &hits {
        verify(h, K);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.hits().len(), 6, "1 attempt + 5 retries, then stop");
    let evs = sb.get(Auth::Key(K), "/api/v1/events").await;
    assert_eq!(evs.body["data"][0]["webhook"]["status"], "failed");
    assert_eq!(evs.body["data"][0]["webhook"]["lastStatusCode"], 500);
    assert_eq!(evs.body["data"][0]["pendingWebhooks"], 6);
}

#[tokio::test]
async fn pending_charges_expire() {
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&["--api-key", K, "--charge-ttl", "1.0"]);
    let c = sb.create_charge(K, "hook-3", &rx.url).await;
    let id = c["id"].as_str().unwrap();
    let paid = sb.create_charge(K, "hook-3b", &rx.url).await;
    let pid = paid["id"].as_str().unwrap();
    sb.put(Auth::Key(K), &format!("/api/v1/charges/{pid}"), &json!({"status": "buyerPaid"})).await;
    let hits = rx.wait(1).await;
    let e = hits[0].json();
    verify(&hits[0], K);
    assert_eq!(e["type"], "charge.expired");
    assert_eq!(e["data"]["id"], id);
    assert_eq!(e["data"]["status"], "cancelled");
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/charges/{id}")).await.body["status"], "cancelled");
    let late = sb.put(Auth::Key(K), &format!("/api/v1/charges/{id}"), &json!({"status": "buyerPaid"})).await;
    assert_eq!(late.status, 402, "{}", late.text);
    assert_eq!(late.body["detail"]["status"], "cancelled");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.hits().len(), 1, "a buyerPaid charge does not expire");
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/charges/{pid}")).await.body["status"], "buyerPaid");
}

#[tokio::test]
async fn test_events_are_sent_once() {
    let ok = Receiver::start(vec![]).await;
    let failing = Receiver::start(vec![503; 5]).await;
    let sb = Sandbox::start(&["--api-key", K, "--webhook-retry-interval", "0.1"]);
    let r = sb.get(Auth::Key(K), &format!("/api/v1/events/test?cbUrl={}", ok.url)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["type"], "test");
    assert_eq!(r.body["livemode"], false);
    assert_eq!(r.body["webhook"]["status"], "succeeded");
    let hits = ok.wait(1).await;
    verify(&hits[0], K);
    assert_eq!(hits[0].json()["id"], r.body["id"]);

    let f = sb.get(Auth::Key(K), &format!("/api/v1/events/test?cbUrl={}", failing.url)).await;
    assert_eq!(f.status, 200);
    assert_eq!(f.body["webhook"]["status"], "failed");
    assert_eq!(f.body["webhook"]["lastStatusCode"], 503);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(failing.hits().len(), 1, "no retries for a test event");

    sb.get(Auth::Key(K), "/api/v1/events/test").await.assert_invalid("cbUrl");
    sb.get(Auth::Key(K), "/api/v1/events/test?cbUrl=nope").await.assert_invalid("cbUrl");
    // Never leaves the machine without --allow-remote-webhooks (refused before any send).
    sb.get(Auth::Key(K), "/api/v1/events/test?cbUrl=http://192.0.2.1/hook").await.assert_invalid("cbUrl");
}

#[tokio::test]
async fn remote_webhooks_are_not_sent_and_webhook_url_is_the_fallback() {
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&[
        "--api-key",
        K,
        "--webhook-url",
        &rx.url,
        "--payout-transit-after",
        "0.1",
        "--payout-paid-after",
        "0.1",
    ]);
    let c = sb.create_charge(K, "remote-1", "http://192.0.2.1/hook").await;
    let id = c["id"].as_str().unwrap();
    sb.post(Auth::Key(K), &format!("/sandbox/charges/{id}/confirm"), &json!({})).await;
    let ev = sb.wait_for(K, "/api/v1/events", |l| l["data"][0]["webhook"]["status"] == "undeliverable").await;
    assert_eq!(ev["data"][0]["type"], "charge.succeeded");
    assert_eq!(ev["data"][0]["webhook"]["attempts"], 0);
    // Payout events have no cbUrl: they go to --webhook-url, in order.
    let p = sb
        .post(
            Auth::Key(K),
            "/api/v1/payouts",
            &json!({"amount": 10, "currency": "USDT",
            "destination": {"type": "wallet", "payerName": "a", "addr": "x"}}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    let hits = rx.wait(3).await;
    let types: Vec<String> = hits.iter().map(|h| h.json()["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(types, ["payout.pending", "payout.inTransition", "payout.paid"]);
    for h in &hits {
        verify(h, K);
        assert_eq!(h.json()["data"]["id"], p.body["id"]);
    }
    let statuses: Vec<String> =
        hits.iter().map(|h| h.json()["data"]["status"].as_str().unwrap().to_owned()).collect();
    assert_eq!(statuses, ["pending", "inTransit", "paid"]);
}

#[tokio::test]
async fn payout_events_and_charge_disputes() {
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&[
        "--api-key",
        K,
        "--webhook-algorithm",
        "hmac-sha256",
        "--payout-transit-after",
        "60",
        "--webhook-url",
        &rx.url,
    ]);
    let c = sb.create_charge(K, "disp-1", &rx.url).await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        sb.post(Auth::Key(K), &format!("/sandbox/charges/{id}/dispute"), &json!({})).await.status,
        402,
        "pending cannot be disputed"
    );
    sb.post(Auth::Key(K), &format!("/sandbox/charges/{id}/confirm"), &json!({})).await;
    sb.post(Auth::Key(K), &format!("/sandbox/charges/{id}/dispute"), &json!({})).await;
    sb.post(Auth::Key(K), &format!("/sandbox/charges/{id}/resolve"), &json!({})).await;
    let p = sb
        .post(
            Auth::Key(K),
            "/api/v1/payouts",
            &json!({"amount": 10, "currency": "USDT",
            "destination": {"type": "wallet", "payerName": "a", "addr": "x"}}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    let pid = p.body["id"].as_str().unwrap();
    sb.post(Auth::Key(K), &format!("/sandbox/payouts/{pid}/fail"), &json!({})).await;
    let hits = rx.wait(5).await;
    let types: Vec<String> = hits.iter().map(|h| h.json()["type"].as_str().unwrap().to_owned()).collect();
    let mut sorted = types.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "charge.dispute.closed",
            "charge.dispute.created",
            "charge.succeeded",
            "payout.failed",
            "payout.pending"
        ]
    );
    let opts = qbitpay::webhook::VerifyOptions {
        algorithm: qbitpay::webhook::Algorithm::HmacSha256,
        ..Default::default()
    };
    for h in &hits {
        assert_eq!(h.signature.len(), 64);
        qbitpay::webhook::verify(&h.body, &h.signature, &[K], &opts).unwrap();
    }
    let refund =
        sb.get(Auth::Key(K), &format!("/api/v1/balanceTransactions?type=payout_failure&source={pid}")).await;
    assert_eq!(refund.body["data"][0]["net"], 10.05);
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/balances/show").await.body["available"], 99);
}
