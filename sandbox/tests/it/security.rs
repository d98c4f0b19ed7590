//! What an attacker or an unlucky user tries against a shared sandbox: request forgery into
//! the control API, foreign pages, hostile bodies and sockets, hanging receivers, replays.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

const ALICE: &str = "sk_test_alice_0123456789";
const BOB: &str = "sk_test_bob_9876543210";

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Sends `req` on a fresh connection and reads until the sandbox closes it (or `wait`).
async fn raw(base: &str, req: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    s.write_all(req).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn json_body_of(resp: &str) -> Value {
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {resp}"))
}

#[tokio::test]
async fn no_delivery_reaches_the_sandbox_itself_in_any_spelling() {
    let sb = Sandbox::start(&["--api-key", ALICE, "--api-key", BOB]);
    let alice = sb.account_id(ALICE).await;
    sb.create_charge(ALICE, "alice-1", "http://127.0.0.1:9/cb").await;
    let p = port_of(&sb.url);
    let reset = format!("/_sandbox/accounts/{alice}/reset");
    let spellings = [
        format!("http://127.0.0.1:{p}{reset}"),
        format!("http://127.0.0.2:{p}{reset}"),
        format!("http://localhost:{p}{reset}"),
        format!("http://LocalHost.:{p}{reset}"),
        format!("http://app.localhost:{p}{reset}"),
        format!("http://[::1]:{p}{reset}"),
        format!("http://[::ffff:127.0.0.1]:{p}{reset}"),
        format!("http://0.0.0.0:{p}{reset}"),
        format!("http://127.0.0.1.:{p}{reset}"),
        format!("http://2130706433:{p}{reset}"),
        format!("http://0x7f.1:{p}{reset}"),
    ];
    for url in &spellings {
        let r = sb.get(Auth::Key(BOB), &format!("/api/v1/events/test?cbUrl={}", enc(url))).await;
        r.assert_invalid("cbUrl");
        assert!(r.text.contains("sandbox itself"), "{url}: {}", r.text);
        let r = sb.post(Auth::Key(BOB), "/api/v1/charges", &charge_body("bob-1", url)).await;
        r.assert_invalid("cbUrl");
        let po = json!({"amount": 5, "currency": "USDT", "cbUrl": url, "destination": {"type": "wallet", "payerName": "B", "addr": "T1"}});
        sb.post(Auth::Key(BOB), "/api/v1/payouts", &po).await.assert_invalid("cbUrl");
    }
    // Another port on the same host is a receiver like any other (here nobody listens).
    let other = sb
        .get(Auth::Key(BOB), &format!("/api/v1/events/test?cbUrl={}", enc("http://127.0.0.1:9/hook")))
        .await;
    assert_eq!(other.status, 200, "{}", other.text);

    // Defence in depth: the control API refuses what carries the delivery's marks.
    for (name, value) in
        [("User-Agent", concat!("qbitpay-sandbox/", env!("CARGO_PKG_VERSION"))), ("QbitPay-Signature", "AB")]
    {
        let r = sb.http.post(format!("{}{reset}", sb.url)).header(name, value).send().await.unwrap();
        assert_eq!(r.status(), 403, "{name}");
    }
    let acct = sb.control(Method::GET, &format!("/_sandbox/accounts/{alice}"), None).await;
    assert_eq!(acct.body["counts"]["charges"], 1, "Alice's account is untouched: {}", acct.text);
}

#[tokio::test]
async fn a_name_that_resolves_to_the_sandbox_is_refused_at_delivery_time() {
    let host = String::from_utf8(std::process::Command::new("hostname").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();
    let resolves_to_loopback =
        tokio::net::lookup_host((host.as_str(), 80)).await.is_ok_and(|mut a| a.all(|a| a.ip().is_loopback()));
    if host.is_empty() || !resolves_to_loopback {
        eprintln!("skipped: the host name '{host}' does not resolve to loopback here");
        return;
    }
    let sb = Sandbox::start(&["--api-key", ALICE, "--api-key", BOB, "--allow-remote-webhooks"]);
    let alice = sb.account_id(ALICE).await;
    sb.create_charge(ALICE, "alice-1", "http://127.0.0.1:9/cb").await;
    let url = format!("http://{host}:{}/_sandbox/accounts/{alice}/reset", port_of(&sb.url));
    let r = sb.get(Auth::Key(BOB), &format!("/api/v1/events/test?cbUrl={}", enc(&url))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["webhook"]["status"], "failed", "{}", r.text);
    assert!(r.body["webhook"]["lastError"].as_str().unwrap().contains("sandbox itself"), "{}", r.text);
    let acct = sb.control(Method::GET, &format!("/_sandbox/accounts/{alice}"), None).await;
    assert_eq!(acct.body["counts"]["charges"], 1, "{}", acct.text);
}

#[tokio::test]
async fn a_webhook_url_flag_naming_the_sandbox_is_refused_at_start() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
        .args([
            "--port",
            &port.to_string(),
            "--webhook-url",
            &format!("http://localhost.:{port}/_sandbox/clock/advance"),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sandbox itself"));
}

#[tokio::test]
async fn foreign_origins_get_no_cors_headers_and_are_refused_under_sandbox() {
    let sb = Sandbox::start(&["--api-key", ALICE]);
    let reset = format!("/_sandbox/accounts/{}/reset", sb.account_id(ALICE).await);
    for origin in [
        "http://127.evil.example",
        "null",
        "https://localhost.evil.com",
        "http://evil.example",
        "http://localhost@evil.example",
    ] {
        for (method, path) in [
            (Method::GET, "/_sandbox/accounts"),
            (Method::POST, reset.as_str()),
            (Method::OPTIONS, "/_sandbox/accounts"),
            (Method::GET, "/"),
        ] {
            let mut rb =
                sb.http.request(method.clone(), format!("{}{path}", sb.url)).header("Origin", origin);
            if method == Method::OPTIONS {
                rb = rb.header("Access-Control-Request-Method", "POST");
            }
            let r = Resp::from(rb.send().await.unwrap()).await;
            assert_eq!(r.status, 403, "{origin} {method} {path}: {}", r.text);
            assert_eq!(r.body["type"], "authentication_error", "{}", r.text);
            assert!(r.header("access-control-allow-origin").is_none(), "{origin} {method} {path}");
        }
        let api = sb
            .req(Method::GET, Auth::Key(ALICE), "/api/v1/charges")
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert!(api.headers().get("access-control-allow-origin").is_none(), "{origin}");
    }
    for origin in
        ["http://localhost:5173", "http://127.0.0.1:8080", "http://[::1]:3000", "http://shop.localhost"]
    {
        let r = sb
            .http
            .get(format!("{}/_sandbox/accounts", sb.url))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{origin}");
        assert_eq!(r.headers()["access-control-allow-origin"], origin);
    }
}

#[tokio::test]
async fn every_error_is_the_apis_json_error() {
    let sb = Sandbox::start(&["--api-key", ALICE, "--header-timeout", "0.5"]);
    let is_error = |r: &Resp, status: u16| {
        assert_eq!(r.status, status, "{}", r.text);
        assert!(r.header("content-type").unwrap().starts_with("application/json"), "{status}");
        assert!(
            r.body["type"].is_string() && r.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{status}: {}",
            r.text
        );
        assert!(r.header("request-id").is_some());
    };
    let big = format!("{{\"amount\":100,\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
    let r = sb
        .req(Method::POST, Auth::Key(ALICE), "/api/v1/charges")
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let r = Resp::from(r).await;
    is_error(&r, 413);
    // Its body unread, the connection is closed and says so: a pooled next request never
    // lands on it (the next request below would fail now and then).
    assert_eq!(r.header("connection"), Some("close"));
    // The same without a Content-Length (chunked): refused once the limit is crossed.
    let p = port_of(&sb.url);
    let chunk = "y".repeat(64 * 1024);
    let mut req = format!("POST /api/v1/charges HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nAuthorization: Bearer {ALICE}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    for _ in 0..5 {
        req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    req.push_str("0\r\n\r\n");
    let resp = raw(&sb.url, req.as_bytes(), Duration::from_secs(5)).await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert_eq!(json_body_of(&resp)["type"], "invalid_request_error");

    let malformed = sb
        .req(Method::POST, Auth::Key(ALICE), "/api/v1/charges")
        .header("Content-Type", "application/json")
        .body("{\"amount\": 1,")
        .send()
        .await
        .unwrap();
    is_error(&Resp::from(malformed).await, 400);
    let not_object = sb
        .req(Method::POST, Auth::Key(ALICE), "/api/v1/charges")
        .header("Content-Type", "application/json")
        .body("[1]")
        .send()
        .await
        .unwrap();
    is_error(&Resp::from(not_object).await, 400);
    for form in [&b"amount=%FF%FE&currency=USD"[..], &b"amount=1&currency=\xff"[..]] {
        let r = sb
            .req(Method::POST, Auth::Key(ALICE), "/api/v1/charges")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_vec())
            .send()
            .await
            .unwrap();
        let r = Resp::from(r).await;
        is_error(&r, 400);
        assert!(r.text.contains("form"), "{}", r.text);
    }
    let bad_advance = sb
        .http
        .post(format!("{}/_sandbox/clock/advance", sb.url))
        .header("Content-Type", "application/json")
        .body("{seconds:")
        .send()
        .await
        .unwrap();
    is_error(&Resp::from(bad_advance).await, 400);
    let bad_type = sb
        .req(Method::POST, Auth::Key(ALICE), "/api/v1/charges")
        .header("Content-Type", "text/xml")
        .body("<a/>")
        .send()
        .await
        .unwrap();
    is_error(&Resp::from(bad_type).await, 400);
    // An extractor's own rejection (a path segment that is not UTF-8).
    is_error(&sb.get(Auth::Key(ALICE), "/api/v1/charges/%FF%FE").await, 400);
    is_error(&sb.get(Auth::Key(ALICE), &format!("/api/v1/charges?x={}", "a".repeat(10 * 1024))).await, 414);
    let fat = sb
        .req(Method::GET, Auth::Key(ALICE), "/api/v1/charges")
        .header("X-Pad", "p".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    is_error(&Resp::from(fat).await, 431);
    is_error(&sb.get(Auth::Key(ALICE), "/api/v1/nothing-here").await, 404);
    is_error(
        &Resp::from(sb.req(Method::DELETE, Auth::Key(ALICE), "/api/v1/charges").send().await.unwrap()).await,
        405,
    );
    is_error(&Resp::from(sb.http.put(format!("{}/_sandbox/clock", sb.url)).send().await.unwrap()).await, 405);

    // A body that never finishes: 408 after --header-timeout.
    let slow = format!("POST /api/v1/charges HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nAuthorization: Bearer {ALICE}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"amount\":");
    let t0 = Instant::now();
    let resp = raw(&sb.url, slow.as_bytes(), Duration::from_secs(5)).await;
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    assert_eq!(json_body_of(&resp)["type"], "invalid_request_error");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

/// `n` connections that send the start of a request head and then nothing.
async fn stall(addr: &str, n: usize, head: &[u8]) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(head).await.unwrap();
        held.push(s);
    }
    held
}

#[tokio::test]
async fn stalled_connections_are_closed_and_starve_nobody() {
    let sb = Sandbox::start(&["--api-key", ALICE, "--header-timeout", "1"]);
    let addr = sb.url.trim_start_matches("http://").to_owned();
    let mut stalled = stall(&addr, 200, b"GET /api/v1/charges HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await;
    let t0 = Instant::now();
    let ok = sb.get(Auth::Key(ALICE), "/api/v1/balances/show").await;
    assert_eq!(ok.status, 200);
    assert!(t0.elapsed() < Duration::from_millis(900), "a healthy request waited {:?}", t0.elapsed());

    // An idle kept-alive connection is closed too.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /_sandbox/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut first = vec![0u8; 4096];
    let n = idle.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    stalled.push(idle);

    let deadline = Instant::now() + Duration::from_secs(6);
    for (i, s) in stalled.iter_mut().enumerate() {
        let mut buf = [0u8; 1024];
        let left = deadline.saturating_duration_since(Instant::now());
        loop {
            match tokio::time::timeout(left, s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) => continue,
                Err(_) => panic!("connection {i} still open {:?} after the stall began", t0.elapsed()),
            }
        }
    }
    assert!(t0.elapsed() < Duration::from_secs(4), "closed after {:?}", t0.elapsed());
    // On a new connection: the pooled one of the first request has been idle past the
    // timeout too, and reusing it races the sandbox closing it (a reset, not a refusal).
    let fresh = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let after =
        fresh.get(format!("{}/api/v1/balances/show", sb.url)).basic_auth(ALICE, Some("")).send().await;
    assert_eq!(after.unwrap().status(), 200);
}

#[tokio::test]
async fn clients_that_never_read_their_answers_are_closed_and_lock_nobody_out() {
    let sb = Sandbox::start(&["--api-key", ALICE, "--max-connections", "5", "--header-timeout", "1"]);
    let addr: std::net::SocketAddr = sb.url.trim_start_matches("http://").parse().unwrap();
    let pipelined = b"GET /_sandbox/assets/dashboard.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(600);
    let mut readers = Vec::new();
    for _ in 0..5 {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        let mut s = sock.connect(addr).await.unwrap();
        let req = pipelined.clone();
        readers.push(tokio::spawn(async move {
            // The sandbox stops reading once its answers back up: the rest may never go out.
            let _ = tokio::time::timeout(Duration::from_secs(2), s.write_all(&req)).await;
            s
        }));
    }
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy =
        raw(&sb.url, b"GET /_sandbox/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", Duration::from_secs(1)).await;
    assert!(busy.is_empty() || busy.starts_with("HTTP/1.1 503"), "all slots are taken: {busy}");

    // Past one --header-timeout without progress, every slot is free again.
    let deadline = t0 + Duration::from_secs(4);
    loop {
        // Refused: a 503, or a reset when the sandbox closes before the client has written.
        let r = sb.http.get(format!("{}/_sandbox/info", sb.url)).send().await;
        if r.as_ref().is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(Instant::now() < deadline, "still {r:?} after {:?}", t0.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(t0.elapsed() >= Duration::from_millis(800), "freed after {:?}", t0.elapsed());
    for r in readers {
        drop(r.await.unwrap());
    }
}

#[tokio::test]
async fn over_the_connection_cap_new_connections_are_refused_with_one_log_line() {
    let sb = Sandbox::start(&["--api-key", ALICE, "--max-connections", "20", "--header-timeout", "1"]);
    let held = stall(sb.url.trim_start_matches("http://"), 20, b"GET / HTTP/1.1\r\n").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..5 {
        let resp =
            raw(&sb.url, b"GET /_sandbox/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", Duration::from_secs(2))
                .await;
        assert!(resp.is_empty() || resp.starts_with("HTTP/1.1 503"), "{resp}");
        if !resp.is_empty() {
            assert_eq!(json_body_of(&resp)["type"], "api_error");
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // the held ones time out
    assert_eq!(sb.get(Auth::None, "/_sandbox/info").await.status, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let lines = sb.logs().lines().filter(|l| l.contains("--max-connections")).count();
    assert_eq!(lines, 1, "{}", sb.logs());
    drop(held);
}

/// A receiver that accepts connections and never answers.
async fn hanging_receiver() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    url
}

#[tokio::test]
async fn a_hanging_receiver_delays_no_other_receiver() {
    let hang = hanging_receiver().await;
    let healthy = Receiver::start(vec![500]).await;
    let sb = Sandbox::start(&[
        "--api-key",
        ALICE,
        "--api-key",
        BOB,
        "--webhook-timeout",
        "3",
        "--webhook-retry-interval",
        "60",
    ]);
    let a = sb.create_charge(ALICE, "hang-1", &hang).await;
    let b = sb.create_charge(BOB, "ok-1", &healthy.url).await;
    let t0 = Instant::now();
    let ra = sb
        .post(
            Auth::Key(ALICE),
            &format!("/sandbox/charges/{}/confirm", a["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(ra.status, 200);
    let rb = sb
        .post(Auth::Key(BOB), &format!("/sandbox/charges/{}/confirm", b["id"].as_str().unwrap()), &json!({}))
        .await;
    assert_eq!(rb.status, 200);
    let hits = healthy.wait(1).await;
    assert!(
        hits[0].at.duration_since(t0) < Duration::from_secs(1),
        "the healthy receiver waited {:?}",
        hits[0].at.duration_since(t0)
    );

    // Both first attempts failed (a timeout, a 500): the retries fall due in one advance,
    // which awaits them side by side.
    let events = sb
        .wait_for(ALICE, "/api/v1/events?type=charge.succeeded", |v| v["data"][0]["webhook"]["attempts"] == 1)
        .await;
    let err = events["data"][0]["webhook"]["lastError"].as_str().unwrap();
    assert!(err.contains("--webhook-timeout"), "{err}");
    let t1 = Instant::now();
    let adv = sb.advance(61.0).await;
    let took = t1.elapsed();
    let hits = healthy.wait(2).await;
    assert!(
        hits[1].at.duration_since(t1) < Duration::from_secs(1),
        "the healthy retry waited {:?}",
        hits[1].at.duration_since(t1)
    );
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(6),
        "advance took {took:?}: one --webhook-timeout"
    );
    let delivered: Vec<&str> = adv["ran"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["job"] == "deliver")
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(delivered.len(), 2, "{adv}");
    assert!(delivered.contains(&"HTTP 200"), "{delivered:?}");
}

#[tokio::test]
async fn expiries_in_one_advance_send_their_webhooks_side_by_side() {
    let hang = hanging_receiver().await;
    let healthy = Receiver::start(vec![]).await;
    let sb = Sandbox::start(&[
        "--api-key",
        ALICE,
        "--api-key",
        BOB,
        "--webhook-timeout",
        "1",
        "--webhook-retry-interval",
        "600",
        "--charge-ttl",
        "600",
    ]);
    // Each charge expires at its own time: Bob's first, Alice's last.
    for i in 0..3 {
        sb.create_charge(BOB, &format!("hang-{i}"), &hang).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sb.create_charge(ALICE, "ok-1", &healthy.url).await;
    let t0 = Instant::now();
    let adv = sb.advance(601.0).await;
    let took = t0.elapsed();
    let hits = healthy.wait(1).await;
    let waited = hits[0].at.duration_since(t0);
    assert!(waited < Duration::from_millis(700), "the healthy receiver waited {waited:?}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(1900),
        "advance took {took:?}: one --webhook-timeout"
    );
    let ran = adv["ran"].as_array().unwrap();
    let expired: Vec<&Value> = ran.iter().filter(|r| r["job"] == "charge.expire").collect();
    assert_eq!(expired.len(), 4, "{adv}");
    assert_eq!(expired[3]["account"], sb.account_id(ALICE).await, "in due order: {adv}");
    let mut ats: Vec<&str> = expired.iter().map(|r| r["at"].as_str().unwrap()).collect();
    ats.dedup();
    assert_eq!(ats.len(), 4, "each at its own due time: {adv}");
    let delivered: Vec<&str> =
        ran.iter().filter(|r| r["job"] == "deliver").map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(delivered.len(), 4, "{adv}");
    assert_eq!(delivered.iter().filter(|o| **o == "HTTP 200").count(), 1, "{delivered:?}");
    let events = sb.get(Auth::Key(ALICE), "/api/v1/events?type=charge.expired").await;
    assert_eq!(events.body["data"][0]["webhook"]["status"], "succeeded", "{}", events.text);
}

#[tokio::test]
async fn idempotency_compares_parsed_parameters_and_stores_only_what_ran() {
    let dir = TempDir::new("idem");
    let data = dir.file("s.db");
    let mut sb = Sandbox::start(&["--api-key", ALICE, "--data", &data]);
    let body = json!({"amount": 100, "currency": "USD", "externalOrderId": "o-1", "cbUrl": "http://127.0.0.1:9/cb", "redirectUrl": "http://localhost:3000/done"});
    let first = sb.post_idem(Auth::Key(ALICE), "/api/v1/charges", &body, "k-1").await;
    assert_eq!(first.status, 200);
    let reordered = json!({"redirectUrl": "http://localhost:3000/done", "cbUrl": "http://127.0.0.1:9/cb", "externalOrderId": "o-1", "currency": "USD", "amount": 100.0});
    let again = sb.post_idem(Auth::Key(ALICE), "/api/v1/charges", &reordered, "k-1").await;
    assert_eq!((again.status, again.header("idempotent-replayed")), (200, Some("true")), "{}", again.text);
    assert_eq!(again.text, first.text);
    let form = "currency=USD&amount=100&redirectUrl=http%3A%2F%2Flocalhost%3A3000%2Fdone&externalOrderId=o-1&cbUrl=http%3A%2F%2F127.0.0.1%3A9%2Fcb";
    let rb = sb
        .req(Method::POST, Auth::Key(ALICE), "/api/v1/charges")
        .header("Idempotency-Key", "k-1")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form);
    let as_form = Resp::from(rb.send().await.unwrap()).await;
    assert_eq!(
        (as_form.status, as_form.header("idempotent-replayed")),
        (200, Some("true")),
        "{}",
        as_form.text
    );

    let other = sb.post_idem(Auth::Key(ALICE), "/api/v1/charges", &json!({"amount": 101, "currency": "USD", "externalOrderId": "o-1", "cbUrl": "http://127.0.0.1:9/cb", "redirectUrl": "http://localhost:3000/done"}), "k-1").await;
    other.assert_invalid("Idempotency-Key");
    assert!(other.text.contains("k-1"), "{}", other.text);

    // A refused request stores nothing: the corrected one with the same key runs.
    let mut broken = body.clone();
    broken["amount"] = json!(-1);
    broken["externalOrderId"] = json!("o-2");
    sb.post_idem(Auth::Key(ALICE), "/api/v1/charges", &broken, "k-2").await.assert_invalid("amount");
    sb.post_idem(Auth::Key(ALICE), "/api/v1/charges", &broken, "k-2").await.assert_invalid("amount");
    let mut fixed = body.clone();
    fixed["externalOrderId"] = json!("o-2");
    let ok = sb.post_idem(Auth::Key(ALICE), "/api/v1/charges", &fixed, "k-2").await;
    assert_eq!((ok.status, ok.header("idempotent-replayed")), (200, None), "{}", ok.text);
    let malformed = sb
        .req(Method::POST, Auth::Key(ALICE), "/api/v1/charges")
        .header("Idempotency-Key", "k-3")
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let unauthorized = sb
        .req(Method::POST, Auth::Key("sk_test_nobody_000000"), "/api/v1/charges")
        .header("Idempotency-Key", "k-3")
        .json(&fixed)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    let mut third = body.clone();
    third["externalOrderId"] = json!("o-3");
    let ok3 = sb.post_idem(Auth::Key(ALICE), "/api/v1/charges", &third, "k-3").await;
    assert_eq!((ok3.status, ok3.header("idempotent-replayed")), (200, None), "{}", ok3.text);

    // Kept across a restart.
    sb.terminate();
    let sb = Sandbox::start(&["--api-key", ALICE, "--data", &data]);
    let after = sb.post_idem(Auth::Key(ALICE), "/api/v1/charges", &reordered, "k-1").await;
    assert_eq!((after.status, after.header("idempotent-replayed")), (200, Some("true")));
    assert_eq!(after.text, first.text);
    let list = sb.get(Auth::Key(ALICE), "/api/v1/charges").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 3, "{}", list.text);
}

#[tokio::test]
async fn account_ids_are_keyed_and_key_hints_show_only_the_tail_of_long_keys() {
    const SHORT: &str = "sk_test_1234";
    let dir = TempDir::new("acct");
    let data = dir.file("s.db");
    let mut sb = Sandbox::start(&["--api-key", ALICE, "--api-key", SHORT, "--data", &data]);
    let (alice, short) = (sb.account_id(ALICE).await, sb.account_id(SHORT).await);
    for (id, key) in [(&alice, ALICE), (&short, SHORT)] {
        use sha2::Digest;
        let h = sha2::Sha256::digest(key.as_bytes());
        let unsalted = format!("acct_{}", h[..8].iter().map(|b| format!("{b:02x}")).collect::<String>());
        assert_ne!(id, &unsalted, "the id is not a plain hash of the key");
    }
    let list = sb.control(Method::GET, "/_sandbox/accounts", None).await;
    let hint = |id: &str| {
        list.body["data"].as_array().unwrap().iter().find(|a| a["id"] == id).unwrap()["keyHint"].clone()
    };
    assert_eq!(hint(&alice), "…6789");
    assert_eq!(hint(&short), "");
    assert!(!list.text.contains("sk_test"), "{}", list.text);
    sb.terminate();
    let sb = Sandbox::start(&["--api-key", ALICE, "--data", &data]);
    assert_eq!(sb.account_id(ALICE).await, alice, "stable across restarts with --data");
    let fresh = Sandbox::start(&["--api-key", ALICE]);
    assert_ne!(fresh.account_id(ALICE).await, alice, "another sandbox, another secret");
}

#[tokio::test]
async fn numbers_are_bounded_and_the_clock_stops_at_year_9999() {
    let sb = Sandbox::start(&["--api-key", ALICE]);
    let po = |amount: Value| json!({"amount": amount, "currency": "USDT", "destination": {"type": "wallet", "payerName": "A", "addr": "T1"}});
    for amount in [json!(1e308), json!("1e308"), json!(1e10)] {
        let r = sb.post(Auth::Key(ALICE), "/api/v1/payouts", &po(amount)).await;
        r.assert_invalid("amount");
        assert!(r.text.contains("1000000000"), "{}", r.text);
    }
    for amount in [json!(1e308), json!(2e6)] {
        let mut b = charge_body("big", "http://127.0.0.1:9/cb");
        b["amount"] = amount;
        let r = sb.post(Auth::Key(ALICE), "/api/v1/charges", &b).await;
        r.assert_invalid("amount");
        assert!(r.text.contains("1000000"), "{}", r.text);
    }
    sb.get(Auth::Key(ALICE), "/api/v1/charges?limit=1000").await.assert_invalid("limit");
    let r = sb.control(Method::POST, "/_sandbox/clock/advance", Some(&json!({"seconds": 1e12}))).await;
    r.assert_invalid("seconds");

    let ten_years = 10.0 * 365.0 * 86400.0;
    let mut refused = None;
    for _ in 0..1000 {
        let r =
            sb.control(Method::POST, "/_sandbox/clock/advance", Some(&json!({"seconds": ten_years}))).await;
        if r.status != 200 {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the clock stops");
    refused.assert_invalid("seconds");
    assert!(refused.text.contains("9999-12-31T23:59:59.999Z"), "{}", refused.text);
    let clock = sb.control(Method::GET, "/_sandbox/clock", None).await;
    assert!(clock.body["now"].as_str().unwrap().starts_with("99"), "{}", clock.text);
    assert!(is_timestamp(&clock.body["now"]), "{}", clock.text);
}

#[tokio::test]
async fn the_payment_page_sends_a_csp_that_fits_it() {
    let sb = Sandbox::start(&["--api-key", ALICE]);
    let ch = sb.create_charge(ALICE, "csp-1", "http://127.0.0.1:9/cb").await;
    let token = sb.token(ALICE).await;
    let page = sb.get(Auth::None, &format!("/pay/{}?accessToken={token}", ch["id"].as_str().unwrap())).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap().to_owned();
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(nonce.len() >= 16, "{csp}");
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("base-uri 'none'")
            && csp.contains("form-action 'none'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'self' http://localhost:*"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.text.matches(&format!("nonce=\"{nonce}\"")).count(), 2, "the page's script and style");
    let refused = sb.get(Auth::None, &format!("/pay/{}", ch["id"].as_str().unwrap())).await;
    assert_eq!(refused.status, 401);
    assert!(refused.header("content-security-policy").is_some());
    let other = sb.get(Auth::None, &format!("/pay/{}?accessToken={token}", ch["id"].as_str().unwrap())).await;
    assert_ne!(other.header("content-security-policy"), Some(csp.as_str()), "a fresh nonce per response");
}
