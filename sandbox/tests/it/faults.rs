use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::common::*;

const K: &str = "sk_test_faults";

#[derive(Default, Debug)]
struct Seen {
    unavailable: usize,
    dropped: usize,
}

/// A retrying client: same request (and Idempotency-Key) until something other than a
/// 503 or a dropped connection comes back.
async fn send_retrying(rb: impl Fn() -> reqwest::RequestBuilder, seen: &mut Seen) -> (u16, Value) {
    for _ in 0..60 {
        match rb().send().await {
            Ok(r) if r.status() == 503 => {
                assert!(r.headers().contains_key("request-id"));
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["type"], "api_error");
                seen.unavailable += 1;
            }
            Ok(r) => {
                let status = r.status().as_u16();
                return (status, r.json().await.unwrap());
            }
            Err(_) => seen.dropped += 1,
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("60 attempts failed");
}

/// The `externalOrderId` of every charge of account `K`, 25 per page, reads retried.
async fn all_order_ids(sb: &Sandbox, seen: &mut Seen) -> Vec<String> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/charges?limit=25&starting_after={c}"),
            None => "/api/v1/charges?limit=25".to_owned(),
        };
        let (status, page) = send_retrying(|| sb.req(reqwest::Method::GET, Auth::Key(K), &path), seen).await;
        assert_eq!(status, 200);
        let data = page["data"].as_array().unwrap().clone();
        all.extend(data.iter().map(|c| c["externalOrderId"].as_str().unwrap().to_owned()));
        if data.len() < 25 {
            return all;
        }
        cursor = Some(data.last().unwrap()["id"].as_str().unwrap().to_owned());
    }
}

#[tokio::test]
async fn injected_faults_and_a_retrying_client_make_no_duplicates() {
    let sb = Sandbox::start(&["--api-key", K, "--fault-rate", "0.3"]);
    let mut seen = Seen::default();
    let n = 80;
    for i in 0..n {
        let body = charge_body(&format!("f-{i}"), "http://127.0.0.1:9/cb");
        let (status, c) = send_retrying(
            || {
                sb.req(reqwest::Method::POST, Auth::Key(K), "/api/v1/charges")
                    .header("Idempotency-Key", format!("create-{i}"))
                    .json(&body)
            },
            &mut seen,
        )
        .await;
        assert_eq!(status, 200, "{c}");
        assert_eq!(c["externalOrderId"], format!("f-{i}"));
    }
    assert!(seen.unavailable > 0 && seen.dropped > 0, "both kinds of fault seen: {seen:?}");

    // Read everything back (reads retried the same way).
    let all = all_order_ids(&sb, &mut seen).await;
    assert_eq!(all.len(), n, "exactly one charge per order");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), n);
    // The hosted page is never faulted.
    for _ in 0..20 {
        assert_eq!(sb.get(Auth::None, "/").await.status, 200);
    }
    assert!(sb.logs().contains(" dropped "), "dropped connections are logged");

    // A dropped connection loses the response after the charge was made: the same retries
    // without an Idempotency-Key make duplicates (what the keys above prevented).
    let mut careless = Seen::default();
    for i in 0..n {
        let body = charge_body(&format!("g-{i}"), "http://127.0.0.1:9/cb");
        send_retrying(
            || sb.req(reqwest::Method::POST, Auth::Key(K), "/api/v1/charges").json(&body),
            &mut careless,
        )
        .await;
    }
    let made = all_order_ids(&sb, &mut careless).await.iter().filter(|id| id.starts_with("g-")).count();
    assert!(made > n, "retries without a key after dropped responses duplicated charges ({made} for {n})");
}
