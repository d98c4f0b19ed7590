//! The sandbox for end-to-end tests: trigger any event, deliveries as data, replay, test
//! amounts, duplicated / reordered / delayed deliveries, and a damaged `--data` file.

use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

const K: &str = "sk_test_trigger";
const OTHER: &str = "sk_test_trigger_other";

const TYPES: [&str; 10] = [
    "charge.succeeded",
    "charge.expired",
    "charge.failed",
    "charge.dispute.created",
    "charge.dispute.closed",
    "payout.pending",
    "payout.inTransition",
    "payout.paid",
    "payout.failed",
    "payout.cancelled",
];

impl Sandbox {
    async fn trigger(&self, key: &str, body: &Value) -> Resp {
        self.post(Auth::Key(key), "/_sandbox/trigger", body).await
    }

    async fn deliveries(&self, key: &str, query: &str) -> Resp {
        self.get(Auth::Key(key), &format!("/_sandbox/deliveries{query}")).await
    }

    /// Charges, payouts, events and balance of an account (what a refused request must not change).
    async fn state_of(&self, key: &str) -> Value {
        let id = self.account_id(key).await;
        let r = self.control(Method::GET, &format!("/_sandbox/accounts/{id}"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        json!({ "counts": r.body["counts"], "balance": r.body["balance"], "charges": r.body["charges"], "payouts": r.body["payouts"] })
    }
}

/// Each event of one change is created after the one before it (distinct `createdAt`s): a
/// receiver that gets them out of order can tell which is older.
fn assert_times_increase(events: &Value) {
    let at: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["createdAt"].as_str().unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "createdAt: {at:?}");
}

fn types_of(hits: &[Hit]) -> Vec<String> {
    hits.iter().map(|h| h.json()["type"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn trigger_makes_every_event_type_with_signed_deliveries() {
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&["--api-key", K, "--api-key", OTHER]);
    let mut expected = Vec::new();
    for ty in TYPES {
        let r = sb.trigger(K, &json!({ "type": ty, "cbUrl": rx.url })).await;
        assert_eq!(r.status, 200, "{ty}: {}", r.text);
        assert_eq!(r.body["object"], "trigger");
        assert_eq!(r.body["type"], ty);
        let kind = if ty.starts_with("charge.") { "charge" } else { "payout" };
        let object = &r.body[kind];
        assert_eq!(object["object"], kind, "{ty}: {}", r.text);
        let events = r.body["events"].as_array().unwrap();
        assert_eq!(events.last().unwrap()["type"], ty, "{}", r.text);
        assert_eq!(events.last().unwrap()["data"]["id"], object["id"], "{}", r.text);
        for e in events {
            assert_eq!(e["webhook"]["url"], rx.url.as_str());
            expected.push(e["id"].as_str().unwrap().to_owned());
        }
        let want = match ty {
            "charge.succeeded" => "sellerConfirmed",
            "charge.expired" | "charge.failed" => "cancelled",
            "charge.dispute.created" => "dispute",
            "charge.dispute.closed" => "closed",
            "payout.pending" => "pending",
            "payout.inTransition" => "inTransit",
            "payout.paid" => "paid",
            "payout.failed" => "failed",
            _ => "cancelled",
        };
        assert_eq!(object["status"], want, "{ty}");
        // The object is stored as the trigger left it (a confirmed charge closes at once
        // without --auto-confirm-after).
        let path = format!("/api/v1/{kind}s/{}", object["id"].as_str().unwrap());
        let now = sb.get(Auth::Key(K), &path).await.body["status"].clone();
        assert!(now == want || (want == "sellerConfirmed" && now == "closed"), "{ty}: {now}");
    }
    let hits = rx.wait(expected.len()).await;
    for h in &hits {
        verify(h, K);
    }
    let mut got: Vec<String> = hits.iter().map(|h| h.json()["id"].as_str().unwrap().to_owned()).collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "each event delivered once");
    let types = types_of(&hits);
    for ty in TYPES {
        assert!(types.iter().any(|t| t == ty), "{ty} delivered: {types:?}");
    }
    // The payouts were funded by a charge that succeeded (its event goes to the same URL).
    assert!(types.iter().filter(|t| *t == "charge.succeeded").count() >= 2, "{types:?}");
    // The other account saw nothing.
    assert_eq!(sb.get(Auth::Key(OTHER), "/api/v1/events").await.body["data"], json!([]));
}

#[tokio::test]
async fn trigger_moves_a_named_object_on_and_delivers_in_order() {
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&["--api-key", K]);
    let c = sb.create_charge(K, "named-1", &rx.url).await;
    let id = c["id"].as_str().unwrap();
    let r = sb.trigger(K, &json!({ "type": "charge.dispute.closed", "charge": id })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["charge"]["id"], id);
    let types: Vec<&str> =
        r.body["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["charge.succeeded", "charge.dispute.created", "charge.dispute.closed"]);
    assert_eq!(types_of(&rx.wait(3).await), types, "one action's deliveries go in order");
    assert_times_increase(&r.body["events"]);
    // Reused again: a dispute of the closed charge.
    let again = sb.trigger(K, &json!({ "type": "charge.dispute.created", "charge": id })).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["events"].as_array().unwrap().len(), 1);

    let po = sb.trigger(K, &json!({ "type": "payout.pending", "cbUrl": rx.url, "amount": 25 })).await;
    assert_eq!(po.status, 200, "{}", po.text);
    assert_eq!(po.body["payout"]["amount"], 25);
    let pid = po.body["payout"]["id"].as_str().unwrap();
    let paid = sb.trigger(K, &json!({ "type": "payout.paid", "payout": pid })).await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    let types: Vec<&str> =
        paid.body["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["payout.inTransition", "payout.paid"]);
    assert_times_increase(&paid.body["events"]);
    // The balance already covered the second payout: no funding charge.
    let second = sb.trigger(K, &json!({ "type": "payout.pending", "cbUrl": rx.url, "amount": 1 })).await;
    assert_eq!(second.body["events"].as_array().unwrap().len(), 1, "{}", second.text);
}

#[tokio::test]
async fn trigger_refuses_bad_input_and_changes_nothing() {
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&["--api-key", K, "--api-key", OTHER]);
    let mine = sb.create_charge(K, "mine", &rx.url).await;
    let mine = mine["id"].as_str().unwrap();
    sb.post(Auth::Key(K), &format!("/sandbox/charges/{mine}/fail"), &json!({})).await;
    let theirs = sb.create_charge(OTHER, "theirs", &rx.url).await;
    let theirs = theirs["id"].as_str().unwrap();
    let odd = sb.post(Auth::Key(K), "/api/v1/charges", &json!({"amount": 10.02, "currency": "USD", "externalOrderId": "o", "cbUrl": rx.url, "redirectUrl": "http://localhost/"})).await;
    let odd = odd.body["id"].as_str().unwrap().to_owned();
    rx.wait(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = sb.state_of(K).await;
    let hits_before = rx.hits().len();
    let listener = format!("{}/hook", sb.url);
    for (body, status, param) in [
        (json!({ "type": "charge.refunded", "cbUrl": rx.url }), 400, "type"),
        (json!({ "cbUrl": rx.url }), 400, "type"),
        (json!({ "type": 7, "cbUrl": rx.url }), 400, "type"),
        (json!({ "type": "charge.succeeded", "charge": "ch_nope" }), 404, "id"),
        (json!({ "type": "charge.succeeded", "charge": theirs }), 404, "id"),
        (json!({ "type": "payout.paid", "payout": "po_nope" }), 404, "id"),
        (json!({ "type": "charge.succeeded", "payout": "po_x" }), 400, "payout"),
        (json!({ "type": "payout.paid", "charge": mine }), 400, "charge"),
        (json!({ "type": "payout.pending", "payout": "po_x" }), 400, "payout"),
        (json!({ "type": "charge.succeeded", "charge": mine, "cbUrl": rx.url }), 400, "cbUrl"),
        (json!({ "type": "charge.succeeded", "chargeId": mine }), 400, "chargeId"),
        (json!({ "type": "charge.succeeded", "cbUrl": "not a url" }), 400, "cbUrl"),
        (json!({ "type": "charge.succeeded", "cbUrl": "http://shop.example/hook" }), 400, "cbUrl"),
        (json!({ "type": "charge.succeeded", "cbUrl": listener }), 400, "cbUrl"),
        (json!({ "type": "charge.succeeded", "cbUrl": rx.url, "amount": 0 }), 400, "amount"),
        (json!({ "type": "charge.succeeded", "cbUrl": rx.url, "amount": "ten" }), 400, "amount"),
        (json!({ "type": "charge.succeeded", "cbUrl": rx.url, "amount": 10.02 }), 400, "amount"),
        (json!({ "type": "payout.paid", "cbUrl": rx.url, "amount": 0.5 }), 400, "amount"),
        (json!({ "type": "charge.succeeded", "charge": mine }), 402, ""),
        (json!({ "type": "charge.succeeded", "charge": odd }), 402, ""),
    ] {
        let r = sb.trigger(K, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text);
        if param.is_empty() {
            assert!(r.body["detail"]["code"].as_str().is_some(), "{}", r.text);
        } else {
            assert_eq!(r.body["param"], param, "{body}: {}", r.text);
        }
    }
    // A payout larger than one charge can fund, or than the payout maximum (the API's own
    // check of payouts.create): said so, of the payout.
    for (amount, says) in
        [(2e6, "one charge"), (2e9, "from 1 to 1000000000"), (1e308, "from 1 to 1000000000")]
    {
        let r = sb.trigger(K, &json!({ "type": "payout.paid", "cbUrl": rx.url, "amount": amount })).await;
        assert_eq!((r.status, r.body["param"].as_str()), (400, Some("amount")), "{}", r.text);
        assert!(r.body["message"].as_str().unwrap().contains(says), "{amount}: {}", r.text);
    }
    let not_json = sb
        .req(Method::POST, Auth::Key(K), "/_sandbox/trigger")
        .header("Content-Type", "application/json")
        .body("{\"type\":")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    // The key, not an access token; never without one; not from another site's page.
    assert_eq!(
        sb.post(Auth::None, "/_sandbox/trigger", &json!({"type": "charge.succeeded"})).await.status,
        401
    );
    assert_eq!(
        sb.post(Auth::Key("sk_wrong"), "/_sandbox/trigger", &json!({"type": "charge.succeeded"}))
            .await
            .status,
        401
    );
    let token = sb.token(K).await;
    let r = sb
        .post(
            Auth::Bearer(&token),
            "/_sandbox/trigger",
            &json!({"type": "charge.succeeded", "cbUrl": rx.url}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let foreign = sb
        .req(Method::POST, Auth::Key(K), "/_sandbox/trigger")
        .header("Origin", "http://evil.example")
        .json(&json!({"type": "charge.succeeded", "cbUrl": rx.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sb.state_of(K).await, before, "nothing changed");
    assert_eq!(rx.hits().len(), hits_before, "nothing delivered");
}

#[tokio::test]
async fn deliveries_list_attempts_and_replay_sends_the_same_bytes() {
    let rx = Receiver::start(vec![500]).await;
    let sb = Sandbox::start(&["--api-key", K, "--api-key", OTHER, "--webhook-retry-interval", "0.3"]);
    let r = sb.trigger(K, &json!({ "type": "charge.succeeded", "cbUrl": rx.url })).await;
    let ch = r.body["charge"]["id"].as_str().unwrap().to_owned();
    let eid = r.body["events"][0]["id"].as_str().unwrap().to_owned();
    let hits = rx.wait(2).await; // a 500, then the retry's 200
    let list = sb.deliveries(K, &format!("?objectId={ch}")).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["object"], "list");
    let d = &list.body["data"][0];
    assert_eq!(d["event"]["id"], eid.as_str());
    assert_eq!(d["event"]["type"], "charge.succeeded");
    assert_eq!(d["event"]["data"]["id"], ch.as_str());
    assert!(d["event"].get("webhook").is_none(), "the event as delivered: {d}");
    assert_eq!(d["webhook"]["status"], "succeeded");
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{d}");
    assert_eq!(attempts[0]["statusCode"], 500);
    assert_eq!(attempts[1]["statusCode"], 200);
    for a in attempts {
        assert_eq!(a["url"], rx.url.as_str());
        assert!(is_timestamp(&a["at"]), "{a}");
        assert!(a["latencyMs"].as_f64().is_some_and(|l| l >= 0.0), "{a}");
        assert_eq!(a["manual"], false);
        assert_eq!(a["sent"], true);
    }
    // Filters: type, event id; other accounts' events never show.
    assert_eq!(sb.deliveries(K, "?type=charge.succeeded").await.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(sb.deliveries(K, "?type=charge.expired").await.body["data"], json!([]));
    assert_eq!(sb.deliveries(K, &format!("?eventId={eid}")).await.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(sb.deliveries(OTHER, &format!("?eventId={eid}")).await.body["data"], json!([]));
    for (q, param) in [
        ("?type=charge.nope", "type"),
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
        ("?object_id=x", "object_id"),
    ] {
        sb.deliveries(K, q).await.assert_invalid(param);
    }
    assert_eq!(sb.get(Auth::None, "/_sandbox/deliveries").await.status, 401);

    // Replay: the same id, body and signature as the delivery that succeeded.
    let replayed = sb.post(Auth::Key(K), &format!("/_sandbox/events/{eid}/replay"), &json!({})).await;
    assert_eq!(replayed.status, 200, "{}", replayed.text);
    assert_eq!(replayed.body["attempt"]["statusCode"], 200);
    assert_eq!(replayed.body["attempt"]["manual"], true);
    let again = rx.wait(3).await;
    assert_eq!(again[2].body, hits[1].body, "the same body");
    assert_eq!(again[2].signature, hits[1].signature, "the same signature");
    verify(&again[2], K);
    let after = sb.deliveries(K, &format!("?eventId={eid}")).await;
    assert_eq!(after.body["data"][0]["attempts"].as_array().unwrap().len(), 3);
    // Attempts shown per event are bounded (the newest 100); the count is all of them.
    for _ in 0..98 {
        sb.post(Auth::Key(K), &format!("/_sandbox/events/{eid}/replay"), &json!({})).await;
    }
    let many = &sb.deliveries(K, &format!("?eventId={eid}")).await.body["data"][0];
    let shown = many["attempts"].as_array().unwrap();
    assert_eq!((shown.len(), many["webhook"]["attempts"].as_u64()), (100, Some(101)));
    assert_eq!(shown[0]["manual"], false, "the second scheduled attempt is the oldest shown");
    assert_eq!(shown[99]["manual"], true);
    rx.wait(101).await;
    let nope = sb.post(Auth::Key(K), "/_sandbox/events/evt_nope/replay", &json!({})).await;
    assert_eq!(nope.status, 404, "{}", nope.text);
    let theirs = sb.post(Auth::Key(OTHER), &format!("/_sandbox/events/{eid}/replay"), &json!({})).await;
    assert_eq!(theirs.status, 404, "{}", theirs.text);
    assert_eq!(rx.hits().len(), 101);

    // Reset by key: this account only; never without one.
    sb.trigger(OTHER, &json!({ "type": "charge.failed", "cbUrl": rx.url })).await;
    assert_eq!(sb.post(Auth::None, "/_sandbox/reset", &json!({})).await.status, 401);
    assert_eq!(sb.post(Auth::Key("sk_nobody"), "/_sandbox/reset", &json!({})).await.status, 401);
    assert_eq!(sb.deliveries(K, "").await.body["data"].as_array().unwrap().len(), 1, "nothing reset");
    let reset = sb.post(Auth::Key(K), "/_sandbox/reset", &json!({})).await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    assert_eq!(reset.body["counts"]["events"], 0);
    assert_eq!(sb.deliveries(K, "").await.body["data"], json!([]));
    assert_eq!(sb.deliveries(OTHER, "").await.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_delivery_the_sandbox_refuses_shows_with_its_reason() {
    let sb = Sandbox::start(&["--api-key", K]);
    let c = sb.create_charge(K, "remote", "http://shop.example/hooks").await;
    let id = c["id"].as_str().unwrap();
    let r = sb.post(Auth::Key(K), &format!("/sandbox/charges/{id}/confirm"), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut d = Value::Null;
    for _ in 0..100 {
        d = sb.deliveries(K, &format!("?objectId={id}")).await.body["data"][0].clone();
        if d["attempts"].as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(d["webhook"]["status"], "undeliverable", "{d}");
    let a = &d["attempts"][0];
    assert_eq!(a["statusCode"], Value::Null);
    assert_eq!(a["sent"], false);
    let err = a["error"].as_str().unwrap();
    assert!(
        err.starts_with("not sent: ") && err.contains("'shop.example' is not a loopback address"),
        "{err}"
    );
    assert!(err.contains("--allow-remote-webhooks"), "{err}");
}

#[tokio::test]
async fn duplicates_send_each_delivery_n_times_at_once() {
    // The first two copies get a 500, the third a 200: delivered, no retry.
    let rx = Receiver::start(vec![500, 500]).await;
    let sb =
        Sandbox::start(&["--api-key", K, "--webhook-duplicates", "3", "--webhook-retry-interval", "0.2"]);
    let r = sb.trigger(K, &json!({ "type": "charge.succeeded", "cbUrl": rx.url })).await;
    let eid = r.body["events"][0]["id"].as_str().unwrap();
    let hits = rx.wait(3).await;
    for h in &hits {
        verify(h, K);
        assert_eq!(h.body, hits[0].body);
        assert_eq!(h.signature, hits[0].signature);
    }
    let spread = hits[2].at.duration_since(hits[0].at);
    assert!(spread < Duration::from_millis(300), "sent at once ({spread:?})");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.hits().len(), 3, "a 2xx for one copy: no retry");
    let d = &sb.deliveries(K, &format!("?eventId={eid}")).await.body["data"][0];
    assert_eq!(d["webhook"]["status"], "succeeded", "{d}");
    let mut codes: Vec<u64> =
        d["attempts"].as_array().unwrap().iter().map(|a| a["statusCode"].as_u64().unwrap()).collect();
    codes.sort();
    assert_eq!(codes, [200, 500, 500]);
    // A replay is one request.
    sb.post(Auth::Key(K), &format!("/_sandbox/events/{eid}/replay"), &json!({})).await;
    assert_eq!(rx.wait(4).await.len(), 4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.hits().len(), 4);
}

#[tokio::test]
async fn reorder_sends_the_deliveries_of_one_action_newest_first() {
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&["--api-key", K, "--webhook-reorder", "--charge-ttl", "600"]);
    let r = sb.trigger(K, &json!({ "type": "charge.dispute.closed", "cbUrl": rx.url })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        types_of(&rx.wait(3).await),
        ["charge.dispute.closed", "charge.dispute.created", "charge.succeeded"]
    );
    // A clock advance: the expiries it causes reach the receiver newest first.
    let first = sb.create_charge(K, "early", &rx.url).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = sb.create_charge(K, "late", &rx.url).await;
    sb.advance(601.0).await;
    let hits = rx.wait(5).await;
    let order: Vec<Value> = hits[3..].iter().map(|h| h.json()["data"]["id"].clone()).collect();
    assert_eq!(order, [second["id"].clone(), first["id"].clone()]);
    assert_eq!(types_of(&hits[3..]), ["charge.expired", "charge.expired"]);
}

#[tokio::test]
async fn delay_holds_first_deliveries_in_sandbox_time() {
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&["--api-key", K, "--webhook-delay", "30"]);
    let r = sb.trigger(K, &json!({ "type": "charge.failed", "cbUrl": rx.url })).await;
    let eid = r.body["events"][0]["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(rx.hits().is_empty());
    let d = &sb.deliveries(K, &format!("?eventId={eid}")).await.body["data"][0];
    assert_eq!(d["webhook"]["status"], "pending");
    assert!(is_timestamp(&d["webhook"]["nextAttemptAt"]), "{d}");
    let adv = sb.advance(31.0).await;
    assert!(
        adv["ran"].as_array().unwrap().iter().any(|j| j["job"] == "deliver" && j["outcome"] == "HTTP 200"),
        "{adv}"
    );
    assert_eq!(types_of(&rx.wait(1).await), ["charge.failed"]);
}

#[tokio::test]
async fn a_delivery_after_a_clock_advance_goes_out_at_once() {
    // The background task sleeps until the next job it knows of (this charge's expiry, 30 s
    // away); the advance runs that job and moves past it: what is delivered next must not
    // wait for the wall clock to reach it.
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&["--api-key", K, "--charge-ttl", "30"]);
    sb.create_charge(K, "expires", &rx.url).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    sb.advance(40.0).await;
    assert_eq!(types_of(&rx.wait(1).await), ["charge.expired"]);
    let r = sb.trigger(K, &json!({ "type": "charge.succeeded", "cbUrl": rx.url })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(types_of(&rx.wait(2).await)[1], "charge.succeeded", "sent within 5 s, not 30 s later");
}

#[test]
fn bad_misbehaviour_flags_stop_the_start() {
    for (args, says) in [
        (&["--webhook-duplicates", "0"][..], "--webhook-duplicates must be from 1 to 10"),
        (&["--webhook-duplicates", "11"][..], "--webhook-duplicates must be from 1 to 10"),
        (&["--webhook-duplicates", "two"][..], "--webhook-duplicates"),
        (&["--webhook-delay=-1"][..], "--webhook-delay must be a number of seconds"),
        (&["--webhook-delay", "NaN"][..], "--webhook-delay must be a number of seconds"),
        (&["--webhook-reorder=yes"][..], "--webhook-reorder"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
            .args(["--port", "0"])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[tokio::test]
async fn test_amounts_decide_what_paying_does() {
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&["--api-key", K]);
    let charge = |amount: f64, order: &str| json!({"amount": amount, "currency": "USD", "externalOrderId": order, "cbUrl": rx.url, "redirectUrl": "http://localhost/"});
    let token = sb.token(K).await;
    let pay = |id: String| {
        let (sb, token) = (&sb, token.clone());
        async move {
            sb.put(Auth::Bearer(&token), &format!("/api/v1/charges/{id}"), &json!({"status": "buyerPaid"}))
                .await
        }
    };
    let declined = sb.post(Auth::Key(K), "/api/v1/charges", &charge(10.02, "d")).await.body;
    let page =
        sb.get(Auth::None, &format!("/pay/{}?accessToken={token}", declined["id"].as_str().unwrap())).await;
    assert!(
        page.text.contains("data-outcome=\"declined\"") && page.text.contains("charge.failed"),
        "{}",
        page.text
    );
    assert!(page.text.contains("data-testid=\"paid\""));
    let r = pay(declined["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["paid"], false);
    assert_eq!(types_of(&rx.wait(1).await), ["charge.failed"]);

    let disputed = sb.post(Auth::Key(K), "/api/v1/charges", &charge(0.05, "x")).await.body;
    let page =
        sb.get(Auth::None, &format!("/pay/{}?accessToken={token}", disputed["id"].as_str().unwrap())).await;
    assert!(page.text.contains("data-outcome=\"disputed\""), "{}", page.text);
    let r = pay(disputed["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(r.body["status"], "dispute", "{}", r.text);
    assert_eq!(r.body["paid"], true);
    assert_eq!(types_of(&rx.wait(3).await[1..]), ["charge.succeeded", "charge.dispute.created"]);

    let plain = sb.post(Auth::Key(K), "/api/v1/charges", &charge(10.2, "p")).await.body;
    let page =
        sb.get(Auth::None, &format!("/pay/{}?accessToken={token}", plain["id"].as_str().unwrap())).await;
    assert!(page.text.contains("data-outcome=\"reported\""), "{}", page.text);
    assert_eq!(pay(plain["id"].as_str().unwrap().to_owned()).await.body["status"], "buyerPaid");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.hits().len(), 3, "an ordinary amount waits for its confirmation");
}

#[tokio::test]
async fn the_control_routes_of_a_key_do_not_count_against_the_rate_limit() {
    let sb = Sandbox::start(&["--api-key", K, "--rate-limit", "2"]);
    for _ in 0..10 {
        assert_eq!(sb.deliveries(K, "").await.status, 200);
    }
    assert_eq!(
        sb.get(Auth::Key(K), "/api/v1/balances/show").await.status,
        200,
        "the API's tokens are all there"
    );
}

/// Overwrites `n` pages of the file from page 2 with bytes that are no SQLite page.
fn damage(path: &str, n: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    let page = 4096u64;
    let len = f.metadata().unwrap().len();
    assert!(len >= page * (n + 2), "the file has {len} bytes");
    for i in 0..n {
        f.seek(SeekFrom::Start(page * (1 + i))).unwrap();
        let junk: Vec<u8> =
            (0..page).map(|b| (b as u8).wrapping_mul(31).wrapping_add(i as u8 * 7 + 1)).collect();
        f.write_all(&junk).unwrap();
    }
    f.sync_all().unwrap();
}

#[tokio::test]
async fn a_damaged_data_file_is_refused_at_start() {
    let dir = TempDir::new("damaged");
    let data = dir.file("state.db");
    let mut sb = Sandbox::start(&["--api-key", K, "--data", &data]);
    for i in 0..60 {
        sb.create_charge(K, &format!("o-{i}"), "http://127.0.0.1:9/h").await;
    }
    assert!(sb.terminate().success());
    assert!(!std::path::Path::new(&format!("{data}-wal")).exists(), "checkpointed at exit");
    // Intact, it starts again and serves.
    let mut sb = Sandbox::start(&["--api-key", K, "--data", &data]);
    assert_eq!(
        sb.get(Auth::Key(K), "/api/v1/charges?limit=100").await.body["data"].as_array().unwrap().len(),
        60
    );
    assert!(sb.terminate().success());

    damage(&data, 4);
    let out = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
        .args(["--port", "0", "--api-key", K, "--data", &data])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "never listened");
    assert!(err.contains(&format!("--data {data} is damaged")), "{err}");
    assert!(err.contains("Move it aside"), "{err}");
    assert_eq!(err.lines().filter(|l| !l.is_empty()).count(), 1, "one line: {err}");

    // Not a database at all: said so, not served either.
    let junk = dir.file("notes.txt");
    std::fs::write(&junk, "these are my notes, not a database\n".repeat(200)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
        .args(["--port", "0", "--data", &junk])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is not a SQLite database"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&junk).unwrap(),
        "these are my notes, not a database\n".repeat(200),
        "left as it was"
    );
}

#[tokio::test]
async fn a_data_file_from_before_batches_and_refused_attempts_opens() {
    let dir = TempDir::new("older");
    let data = dir.file("state.db");
    let rx = Receiver::start(vec![]).await;
    let mut sb = Sandbox::start(&["--api-key", K, "--data", &data]);
    let c = sb.create_charge(K, "old-1", &rx.url).await;
    assert!(sb.terminate().success());
    {
        let db = rusqlite::Connection::open(&data).unwrap();
        db.execute_batch("ALTER TABLE jobs DROP COLUMN batch; ALTER TABLE attempts DROP COLUMN sent;")
            .unwrap();
    }
    let sb = Sandbox::start(&["--api-key", K, "--data", &data]);
    let id = c["id"].as_str().unwrap();
    let r = sb.trigger(K, &json!({ "type": "charge.dispute.created", "charge": id })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(types_of(&rx.wait(2).await), ["charge.succeeded", "charge.dispute.created"]);
    let d = sb.deliveries(K, &format!("?objectId={id}")).await;
    assert_eq!(d.body["data"][1]["attempts"][0]["sent"], true, "{}", d.text);
}

#[tokio::test]
async fn without_a_url_the_events_are_made_and_not_delivered() {
    let sb = Sandbox::start(&["--api-key", K]);
    for ty in ["charge.dispute.created", "payout.paid"] {
        let r = sb.trigger(K, &json!({ "type": ty })).await;
        assert_eq!(r.status, 200, "{}", r.text);
        for e in r.body["events"].as_array().unwrap() {
            assert_eq!(e["webhook"]["status"], "none", "{e}");
            assert_eq!(e["webhook"]["url"], Value::Null);
        }
    }
    let charges = sb.get(Auth::Key(K), "/api/v1/charges").await;
    assert!(charges.body["data"].as_array().unwrap().iter().all(|c| c["cbUrl"] == ""), "{}", charges.text);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let all = sb.deliveries(K, "").await;
    assert!(all.body["data"].as_array().unwrap().iter().all(|d| d["attempts"] == json!([])), "{}", all.text);
    // With --webhook-url, that is where they go.
    let rx = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&["--api-key", K, "--webhook-url", &rx.url]);
    let r = sb.trigger(K, &json!({ "type": "charge.failed" })).await;
    assert_eq!(r.body["charge"]["cbUrl"], rx.url.as_str(), "{}", r.text);
    verify(&rx.wait(1).await[0], K);
}

/// Another program's SQLite database given as `--data` by mistake (an app's own `dev.db`, with
/// a `jobs` table of its own): refused before anything is written to it.
#[test]
fn another_programs_database_is_refused_and_left_untouched() {
    let dir = TempDir::new("foreign");
    for (name, schema) in [
        (
            "jobs.db",
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, running INTEGER NOT NULL);
             INSERT INTO jobs (name, running) VALUES ('send-newsletter', 1), ('resize-images', 0);",
        ),
        ("users.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users (email) VALUES ('a@b.c');"),
        ("view.db", "CREATE VIEW answer AS SELECT 42;"),
    ] {
        let data = dir.file(name);
        rusqlite::Connection::open(&data).unwrap().execute_batch(schema).unwrap();
        let before = std::fs::read(&data).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
            .args(["--port", "0", "--api-key", K, "--data", &data])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: never listened");
        assert!(err.contains(&format!("--data {data}")) && err.contains("not a qbitpay-sandbox data file"), "{err}");
        assert_eq!(std::fs::read(&data).unwrap(), before, "{name}: not a byte changed");
        for side in ["-wal", "-shm", "-journal"] {
            assert!(!std::path::Path::new(&format!("{data}{side}")).exists(), "{name}: no {side} file");
        }
    }
    // An empty file is a new state file.
    let empty = dir.file("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let mut sb = Sandbox::start(&["--api-key", K, "--data", &empty]);
    assert!(sb.terminate().success());
}
