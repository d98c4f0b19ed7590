//! The state in SQLite (`--data`): restarts, SIGKILL, the clock, the control API, the log.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

const K: &str = "sk_test_state";
const K2: &str = "sk_test_state_other";

fn ms(v: &Value) -> f64 {
    qbitpay::webhook::timestamp::parse_millis(v.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn state_and_schedules_survive_a_restart() {
    let dir = TempDir::new("restart");
    let data = dir.file("state.db");
    let rx = Receiver::start(vec![500]).await;
    let args = [
        "--api-key",
        K,
        "--data",
        &data,
        "--webhook-retry-interval",
        "600",
        "--auto-confirm-after",
        "60",
        "--payout-transit-after",
        "300",
        "--payout-paid-after",
        "300",
    ];
    let mut sb = Sandbox::start(&args);
    let a = sb.post_idem(Auth::Key(K), "/api/v1/charges", &charge_body("keep-a", &rx.url), "key-a").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let b = sb.create_charge(K, "keep-b", &rx.url).await;
    let bid = b["id"].as_str().unwrap();
    assert_eq!(
        sb.put(Auth::Key(K), &format!("/api/v1/charges/{bid}"), &json!({"status": "buyerPaid"})).await.status,
        200
    );
    let c = sb.create_charge(K, "keep-c", &rx.url).await;
    let cid = c["id"].as_str().unwrap();
    assert_eq!(
        sb.post(Auth::Key(K), &format!("/sandbox/charges/{cid}/confirm"), &json!({})).await.status,
        200
    );
    rx.wait(1).await; // charge.succeeded of c: answered 500, a retry is scheduled in 600 s
    let evs = sb.wait_for(K, "/api/v1/events", |l| l["data"][0]["webhook"]["attempts"] == 1).await;
    let eid = evs["data"][0]["id"].as_str().unwrap().to_owned();
    let p = sb
        .post(Auth::Key(K), "/api/v1/payouts", &json!({"amount": 10, "currency": "USDT", "destination": {"type": "wallet", "payerName": "a", "addr": "x"}}))
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    let pid = p.body["id"].as_str().unwrap().to_owned();
    let token = sb.token(K).await;
    let before_charges = sb.get(Auth::Key(K), "/api/v1/charges").await.body;
    let before_events = sb.get(Auth::Key(K), "/api/v1/events").await.body;
    let before_txns = sb.get(Auth::Key(K), "/api/v1/balanceTransactions").await.body;
    sb.kill();

    let sb = Sandbox::start(&args);
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/charges").await.body, before_charges);
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/events").await.body, before_events);
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/balanceTransactions").await.body, before_txns);
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/balances/show").await.body["available"], 88.95);
    assert_eq!(
        sb.get(Auth::Bearer(&token), &format!("/api/v1/charges/{bid}")).await.status,
        200,
        "tokens outlive a restart"
    );
    let replay =
        sb.post_idem(Auth::Key(K), "/api/v1/charges", &charge_body("keep-a", &rx.url), "key-a").await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, a.body);
    let acct = sb.control(Method::GET, &format!("/_sandbox/accounts/{}", sb.account_id(K).await), None).await;
    let ev =
        acct.body["events"].as_array().unwrap().iter().find(|e| e["id"] == eid.as_str()).unwrap().clone();
    assert_eq!(ev["attempts"][0]["statusCode"], 500);
    assert_eq!(ms(&ev["attempts"][0]["nextRetryAt"]) - ms(&ev["attempts"][0]["at"]), 600_000.0);

    // The stored schedule runs on: auto-confirm at +60 s, the retry at +600 s, the payout at
    // +300/+600 s, and the pending charge's expiry at +1800 s.
    let ran = sb.advance(600.0).await;
    let kinds: Vec<&str> =
        ran["ran"].as_array().unwrap().iter().map(|r| r["job"].as_str().unwrap()).collect();
    for k in ["charge.confirm", "charge.close", "deliver", "payout.transit", "payout.pay"] {
        assert!(kinds.contains(&k), "{k} ran: {kinds:?}");
    }
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/charges/{bid}")).await.body["status"], "closed");
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/charges/{cid}")).await.body["status"], "closed");
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/payouts/{pid}")).await.body["status"], "paid");
    let hits = rx.hits();
    let retried: Vec<Value> = hits.iter().map(|h| h.json()).filter(|e| e["id"] == eid.as_str()).collect();
    assert_eq!(retried.len(), 2, "the retry scheduled before the restart was sent after it");
    assert_eq!(retried[1]["pendingWebhooks"], 1);
    for h in &hits {
        verify(h, K);
    }
    let aid = a.body["id"].as_str().unwrap();
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/charges/{aid}")).await.body["status"], "pending");
    sb.advance(1200.0).await;
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/charges/{aid}")).await.body["status"], "cancelled");
    let expired = rx
        .hits()
        .iter()
        .map(|h| h.json())
        .find(|e| e["type"] == "charge.expired")
        .expect("charge.expired delivered");
    assert_eq!(expired["data"]["id"], aid);
    assert_eq!(
        expired["createdAt"], a.body["expiresAt"],
        "the event is dated when the charge expired, in sandbox time"
    );
}

#[tokio::test]
async fn a_job_that_fell_due_while_stopped_runs_at_start() {
    let dir = TempDir::new("due");
    let data = dir.file("state.db");
    let rx = Receiver::start(vec![]).await;
    let args = ["--api-key", K, "--data", &data, "--charge-ttl", "1"];
    let mut sb = Sandbox::start(&args);
    let c = sb.create_charge(K, "due-1", &rx.url).await;
    sb.kill();
    tokio::time::sleep(Duration::from_millis(1200)).await; // its expiry passes while nothing runs
    assert!(rx.hits().is_empty());
    let sb = Sandbox::start(&args);
    let hits = rx.wait(1).await;
    assert_eq!(hits[0].json()["type"], "charge.expired");
    assert_eq!(hits[0].json()["data"]["id"], c["id"]);
    assert_eq!(
        sb.get(Auth::Key(K), &format!("/api/v1/charges/{}", c["id"].as_str().unwrap())).await.body["status"],
        "cancelled"
    );
}

struct Sent {
    key: String,
    path: &'static str,
    body: Value,
    answer: Option<String>,
}

#[tokio::test]
async fn sigkill_during_a_burst_of_idempotent_creates_then_replays_make_each_object_once() {
    let dir = TempDir::new("sigkill");
    let data = dir.file("state.db");
    let args = ["--api-key", K, "--data", &data];
    let mut sb = Sandbox::start(&args);
    // 99 USDT to pay out from.
    let fund = sb.create_charge(K, "fund", "http://127.0.0.1:9/cb").await;
    sb.post(Auth::Key(K), &format!("/sandbox/charges/{}/confirm", fund["id"].as_str().unwrap()), &json!({}))
        .await;

    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (url, sent, answered) = (sb.url.clone(), sent.clone(), answered.clone());
        tasks.push(tokio::spawn(async move {
            let http = client();
            for i in 0.. {
                let payout = t % 4 == 3;
                let order = format!("burst-{t}-{i}");
                let (path, body) = if payout {
                    (
                        "/api/v1/payouts",
                        json!({"amount": 1, "currency": "USDT", "externalOrderId": order,
                        "destination": {"type": "wallet", "payerName": "a", "addr": "x"}}),
                    )
                } else {
                    ("/api/v1/charges", charge_body(&order, "http://127.0.0.1:9/cb"))
                };
                if payout && i >= 20 {
                    return; // 4 x 20 x 1.01 stays within the balance
                }
                let key = format!("idem-{order}");
                let idx = {
                    let mut s = sent.lock().unwrap();
                    s.push(Sent { key: key.clone(), path, body: body.clone(), answer: None });
                    s.len() - 1
                };
                let r = http
                    .post(format!("{url}{path}"))
                    .basic_auth(K, Some(""))
                    .header("Idempotency-Key", &key)
                    .json(&body)
                    .send()
                    .await;
                let Ok(r) = r else { return };
                let Ok(v) = r.json::<Value>().await else { return };
                assert!(v["id"].is_string(), "{v}");
                sent.lock().unwrap()[idx].answer = Some(v["id"].as_str().unwrap().to_owned());
                answered.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while answered.load(Ordering::SeqCst) < 300 {
        assert!(Instant::now() < deadline, "the burst did not get going");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    sb.kill(); // mid-burst: requests are in flight
    for t in tasks {
        t.await.unwrap();
    }
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let in_flight = sent.iter().filter(|s| s.answer.is_none()).count();
    assert!(in_flight > 0, "some requests were cut off by the kill");

    let sb = Sandbox::start(&args);
    for s in &sent {
        let r = sb.post_idem(Auth::Key(K), s.path, &s.body, &s.key).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if let Some(id) = &s.answer {
            assert_eq!(r.body["id"], id.as_str(), "an answered request replays its object");
            assert_eq!(r.header("idempotent-replayed"), Some("true"));
        }
    }
    // Every object exactly once (by externalOrderId), and the balance in step with its transactions.
    let mut orders: HashMap<&str, Vec<String>> = HashMap::new();
    for (path, kind) in [("/api/v1/charges", "charges"), ("/api/v1/payouts", "payouts")] {
        let mut cursor: Option<String> = None;
        loop {
            let q = cursor.as_ref().map(|c| format!("&starting_after={c}")).unwrap_or_default();
            let page = sb.get(Auth::Key(K), &format!("{path}?limit=100{q}")).await.body;
            let data = page["data"].as_array().unwrap().clone();
            for o in &data {
                orders.entry(kind).or_default().push(o["externalOrderId"].as_str().unwrap_or("").to_owned());
            }
            if data.len() < 100 {
                break;
            }
            cursor = Some(data.last().unwrap()["id"].as_str().unwrap().to_owned());
        }
    }
    let want_charges: HashSet<String> = sent
        .iter()
        .filter(|s| s.path.ends_with("charges"))
        .map(|s| s.body["externalOrderId"].as_str().unwrap().to_owned())
        .collect();
    let want_payouts: HashSet<String> = sent
        .iter()
        .filter(|s| s.path.ends_with("payouts"))
        .map(|s| s.body["externalOrderId"].as_str().unwrap().to_owned())
        .collect();
    let charges = &orders["charges"];
    assert_eq!(charges.len(), want_charges.len() + 1, "one charge per request (and the funding one)");
    assert_eq!(charges.iter().filter(|o| *o != "fund").cloned().collect::<HashSet<_>>(), want_charges);
    let payouts = &orders["payouts"];
    assert_eq!(payouts.len(), want_payouts.len(), "one payout per request");
    assert_eq!(payouts.iter().cloned().collect::<HashSet<_>>(), want_payouts);
    let bal = sb.get(Auth::Key(K), "/api/v1/balances/show").await.body;
    let expected = ((99.0 - 1.01 * payouts.len() as f64) * 100.0).round() / 100.0;
    assert_eq!(bal["available"].as_f64().unwrap(), expected, "{bal}");
    let txns = sb.get(Auth::Key(K), "/api/v1/balanceTransactions?type=payout&limit=100").await.body;
    assert_eq!(txns["data"].as_array().unwrap().len(), payouts.len(), "one transaction per payout");
}

#[tokio::test]
async fn the_clock_drives_expiry_and_retries_and_resend_and_reset_work() {
    let rx = Receiver::start(vec![500]).await;
    let sb = Sandbox::start(&[
        "--api-key",
        K,
        "--api-key",
        K2,
        "--charge-ttl",
        "120",
        "--webhook-retry-interval",
        "30",
        "--webhook-retries",
        "2",
    ]);
    let acct = sb.account_id(K).await;
    let clock = sb.control(Method::GET, "/_sandbox/clock", None).await;
    assert_eq!(clock.body["offsetSeconds"], 0.0);
    let c = sb.create_charge(K, "clock-1", &rx.url).await;
    let id = c["id"].as_str().unwrap();
    let other = sb.create_charge(K2, "other-1", "http://127.0.0.1:9/cb").await;

    let first = sb.advance(60.0).await;
    assert_eq!(first["ran"], json!([]));
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/charges/{id}")).await.body["status"], "pending");
    let second = sb.advance(61.0).await;
    let jobs: Vec<(&str, &str)> = second["ran"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["job"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert!(jobs.contains(&("charge.expire", "cancelled")), "{jobs:?}");
    assert!(jobs.contains(&("deliver", "HTTP 500")), "the delivery ran within the advance: {jobs:?}");
    assert_eq!(sb.get(Auth::Key(K), &format!("/api/v1/charges/{id}")).await.body["status"], "cancelled");
    assert_eq!(
        sb.get(Auth::Key(K2), &format!("/api/v1/charges/{}", other["id"].as_str().unwrap())).await.body
            ["status"],
        "cancelled"
    );
    assert!((second["offsetSeconds"].as_f64().unwrap() - 121.0).abs() < 1.0, "{second}");
    assert_eq!(rx.hits().len(), 1);

    let view = sb.control(Method::GET, &format!("/_sandbox/accounts/{acct}"), None).await.body;
    let ev = &view["events"][0];
    assert_eq!(ev["type"], "charge.expired");
    assert_eq!(ev["createdAt"], c["expiresAt"], "sandbox time");
    let att = &ev["attempts"][0];
    assert_eq!(att["statusCode"], 500);
    assert_eq!(att["url"], rx.url.as_str());
    assert!(att["latencyMs"].as_f64().unwrap() >= 0.0);
    assert_eq!(ms(&att["nextRetryAt"]) - ms(&att["at"]), 30_000.0);
    assert_eq!(ev["webhook"]["status"], "pending");
    let eid = ev["id"].as_str().unwrap().to_owned();

    sb.advance(30.0).await;
    let hits = rx.wait(2).await;
    assert_eq!(hits[1].json()["pendingWebhooks"], 1);
    let ev = sb.get(Auth::Key(K), &format!("/api/v1/events/{eid}")).await.body;
    assert_eq!(ev["webhook"]["status"], "succeeded");

    // Resend: one more attempt now.
    let r = sb.control(Method::POST, &format!("/_sandbox/accounts/{acct}/events/{eid}/resend"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["attempt"]["statusCode"], 200);
    assert_eq!(r.body["attempt"]["manual"], true);
    assert_eq!(r.body["webhook"]["attempts"], 3);
    let hits = rx.wait(3).await;
    assert_eq!(hits[2].json()["id"], eid.as_str());
    verify(&hits[2], K);
    assert_eq!(
        sb.control(Method::POST, &format!("/_sandbox/accounts/{acct}/events/evt_nope/resend"), None)
            .await
            .status,
        404
    );

    // Charges and payouts moved on by the control API.
    let d = sb.create_charge(K, "clock-2", &rx.url).await;
    let did = d["id"].as_str().unwrap();
    assert!((ms(&d["createdAt"]) - qbitpay_now_ms()) >= 150_000.0, "timestamps are sandbox time");
    for (action, status) in
        [("pay", "buyerPaid"), ("confirm", "sellerConfirmed"), ("dispute", "dispute"), ("resolve", "closed")]
    {
        let r = sb
            .control(Method::POST, &format!("/_sandbox/accounts/{acct}/charges/{did}/{action}"), None)
            .await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some(status)), "{action}: {}", r.text);
    }
    let bad =
        sb.control(Method::POST, &format!("/_sandbox/accounts/{acct}/charges/{did}/expire"), None).await;
    assert_eq!(bad.status, 402, "a closed charge cannot expire");
    let p = sb.post(Auth::Key(K), "/api/v1/payouts", &json!({"amount": 10, "currency": "USDT", "destination": {"type": "wallet", "payerName": "a", "addr": "x"}})).await;
    let pid = p.body["id"].as_str().unwrap();
    for (action, status) in [("transit", "inTransit"), ("fail", "failed")] {
        let r = sb
            .control(Method::POST, &format!("/_sandbox/accounts/{acct}/payouts/{pid}/{action}"), None)
            .await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some(status)), "{action}: {}", r.text);
    }

    // Bad input to the clock.
    for body in [json!({"seconds": -1}), json!({"seconds": 0}), json!({}), json!({"seconds": "soon"})] {
        let r = sb.control(Method::POST, "/_sandbox/clock/advance", Some(&body)).await;
        r.assert_invalid("seconds");
    }
    assert_eq!(sb.control(Method::GET, "/_sandbox/accounts/acct_0000000000000000", None).await.status, 404);

    // Reset: this account is empty, the other one untouched; its keys can be used again.
    let key_used =
        sb.post_idem(Auth::Key(K), "/api/v1/charges", &charge_body("again", &rx.url), "reuse").await;
    let r = sb.control(Method::POST, &format!("/_sandbox/accounts/{acct}/reset"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["counts"], json!({"charges": 0, "payouts": 0, "balanceTransactions": 0, "events": 0}));
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/charges").await.body["data"], json!([]));
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/events").await.body["data"], json!([]));
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/balances/show").await.body["available"], 0);
    assert_eq!(sb.get(Auth::Key(K2), "/api/v1/charges").await.body["data"].as_array().unwrap().len(), 1);
    let fresh = sb.post_idem(Auth::Key(K), "/api/v1/charges", &charge_body("again", &rx.url), "reuse").await;
    assert_eq!(fresh.status, 200);
    assert!(fresh.header("idempotent-replayed").is_none());
    assert_ne!(fresh.body["id"], key_used.body["id"]);
    let list = sb.control(Method::GET, "/_sandbox/accounts", None).await.body;
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&acct.as_str()) && ids.contains(&sb.account_id(K2).await.as_str()));
    assert!(!list.to_string().contains(K), "no API key in the control API");
}

fn qbitpay_now_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as f64
}

#[tokio::test]
async fn idempotency_records_expire_after_24_hours_of_sandbox_time() {
    let sb = Sandbox::start(&["--api-key", K]);
    let a = sb
        .post_idem(Auth::Key(K), "/api/v1/charges", &charge_body("idem-a", "http://127.0.0.1:9/cb"), "day")
        .await;
    assert_eq!(a.status, 200);
    let clash = sb
        .post_idem(Auth::Key(K), "/api/v1/charges", &charge_body("idem-b", "http://127.0.0.1:9/cb"), "day")
        .await;
    assert_eq!(clash.status, 400);
    assert_eq!(clash.body["detail"]["code"], "idempotency_key_in_use");
    sb.advance(23.0 * 3600.0).await;
    let replay = sb
        .post_idem(Auth::Key(K), "/api/v1/charges", &charge_body("idem-a", "http://127.0.0.1:9/cb"), "day")
        .await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"), "still there after 23 h");
    sb.advance(3601.0).await;
    let b = sb
        .post_idem(Auth::Key(K), "/api/v1/charges", &charge_body("idem-b", "http://127.0.0.1:9/cb"), "day")
        .await;
    assert_eq!(b.status, 200, "{}", b.text);
    assert!(b.header("idempotent-replayed").is_none());
    assert_eq!(b.body["externalOrderId"], "idem-b");
}

#[tokio::test]
async fn the_control_api_answers_loopback_hosts_and_same_machine_pages_only() {
    let sb = Sandbox::start(&["--api-key", K]);
    let path = format!("/_sandbox/accounts/{}/reset", sb.account_id(K).await);
    let evil_host = sb
        .http
        .get(format!("{}/_sandbox/accounts", sb.url))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil_host.status(), 403, "DNS rebinding: a foreign Host is refused");
    let evil_page =
        sb.http.get(format!("{}/", sb.url)).header("Host", "evil.example:80").send().await.unwrap();
    assert_eq!(evil_page.status(), 403);
    let cross = sb
        .http
        .post(format!("{}{path}", sb.url))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403, "a POST from another site's page is refused");
    let local = sb.http.post(format!("{}{path}", sb.url)).header("Origin", &sb.url).send().await.unwrap();
    assert_eq!(local.status(), 200);
    let named =
        sb.http.get(format!("{}/_sandbox/info", sb.url)).header("Host", "localhost").send().await.unwrap();
    assert_eq!(named.status(), 200);
    for asset in ["/_sandbox/assets/dashboard.js", "/_sandbox/assets/dashboard.css"] {
        let r = sb.get(Auth::None, asset).await;
        assert_eq!(r.status, 200, "{asset}");
        assert!(!r.text.contains("http://") && !r.text.contains("https://"), "no external URL in {asset}");
    }
    let page = sb.get(Auth::None, "/").await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!page.text.contains("https://"), "no CDN");
}

#[tokio::test]
async fn a_second_sandbox_on_the_same_data_file_is_refused() {
    let dir = TempDir::new("lock");
    let data = dir.file("state.db");
    let sb = Sandbox::start(&["--api-key", K, "--data", &data]);
    let out = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
        .args(["--port", "0", "--api-key", K, "--data", &data])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another qbitpay-sandbox"), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/charges").await.status, 200, "the first one carries on");
    let missing = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
        .args(["--port", "0", "--data", "/nonexistent-dir/x.db"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
}

#[tokio::test]
async fn a_parent_that_never_reads_stderr_does_not_stall_the_sandbox() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
        .args(["--port", "0", "--api-key", K])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()) // never read until the end
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("qbitpay-sandbox listening on ").unwrap().to_owned();
    let http = client();
    // 6,000 log lines of ~70 bytes: several times what a pipe (64 KiB) and the log queue hold.
    let run = async {
        for i in 0..6000 {
            let r = http
                .get(format!("{url}/api/v1/charges/ch_missing_{i}"))
                .basic_auth(K, Some(""))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404);
        }
    };
    let done = tokio::time::timeout(Duration::from_secs(60), run).await;
    let mut err = child.stderr.take().unwrap();
    assert!(done.is_ok(), "requests stalled behind a full stderr pipe");
    // Now drain: the writer catches up and says how much it dropped.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        let mut text = String::new();
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            if text.contains("log line(s) dropped") {
                let _ = tx.send(text.clone());
            }
        }
    });
    let r = http.get(format!("{url}/api/v1/charges/ch_after")).basic_auth(K, Some("")).send().await.unwrap();
    assert_eq!(r.status(), 404, "still serving");
    let text =
        rx.recv_timeout(Duration::from_secs(10)).expect("a line saying how many log lines were dropped");
    assert!(text.contains("GET /api/v1/charges/ch_missing_0 404"), "the first lines were written");
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn health_check_answers_for_a_running_sandbox_and_says_why_not() {
    let probe = |url: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
            .args(["--health-check", url])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let sb = Sandbox::start(&[]);
    let (code, err) = probe(&format!("{}/_sandbox/info", sb.url));
    assert_eq!((code, err.as_str()), (Some(0), ""));
    // A route that is not there, then a port nobody listens on: 1, saying what happened.
    let (code, err) = probe(&format!("{}/nothing", sb.url));
    assert_eq!(code, Some(1));
    assert!(err.contains("answered 404"), "{err}");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (code, err) = probe(&format!("http://127.0.0.1:{closed}/_sandbox/info"));
    assert_eq!(code, Some(1));
    assert!(err.contains("refused"), "{err}");
    // Serving nothing itself: the sandbox's state is untouched by a probe.
    assert_eq!(sb.get(Auth::None, "/_sandbox/info").await.status, 200);
}
