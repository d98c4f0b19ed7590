//! Load benchmark: 50 concurrent clients × 100 charge creates against the real sandbox
//! binary with `--fault-rate 0.1`; clients retry faults with the same Idempotency-Key.
//! Prints throughput and latency percentiles, then asserts exactly 5,000 charges exist,
//! none duplicated (by externalOrderId).
//!
//!     cargo bench -p qbitpay-sandbox --profile sandbox --bench load
//!     ... -- --clients 50 --requests 100 --fault-rate 0.1
//!     ... -- --data     (state in a SQLite file, as `--data PATH`; default: in memory)

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const KEY: &str = "sk_test_load";

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default)]
struct Stats {
    latencies: Vec<Duration>,
    attempts: usize,
    unavailable: usize,
    dropped: usize,
    limited: usize,
}

enum Outcome {
    Done(u16, Value),
}

async fn retrying(rb: impl Fn() -> reqwest::RequestBuilder, st: &mut Stats) -> Outcome {
    let mut backoff = Duration::from_millis(2);
    for _ in 0..100 {
        st.attempts += 1;
        match rb().send().await {
            Ok(r) if r.status() == 503 => st.unavailable += 1,
            Ok(r) if r.status() == 429 => st.limited += 1,
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.json().await.unwrap_or(Value::Null);
                return Outcome::Done(status, body);
            }
            Err(_) => st.dropped += 1,
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_millis(100));
    }
    panic!("a request failed 100 times");
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes --bench; run as a test (cargo test --all-targets), a small smoke load.
    let full = std::env::args().any(|a| a == "--bench");
    let clients = arg("--clients", if full { 50.0 } else { 5.0 }) as usize;
    let per_client = arg("--requests", if full { 100.0 } else { 20.0 }) as usize;
    let fault_rate = arg("--fault-rate", 0.1);
    let data = std::env::args().any(|a| a == "--data").then(|| {
        let dir = std::env::temp_dir().join(format!("qbitpay-sandbox-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    });
    let mut args = vec![
        "--port".to_owned(),
        "0".into(),
        "--api-key".into(),
        KEY.into(),
        "--fault-rate".into(),
        fault_rate.to_string(),
    ];
    if let Some(dir) = &data {
        args.extend(["--data".into(), dir.join("load.db").to_str().unwrap().to_owned()]);
    }
    println!("load: state {}", if data.is_some() { "in a SQLite file (--data)" } else { "in memory" });
    let mut child = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qbitpay-sandbox");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("qbitpay-sandbox listening on ").expect("first line").to_owned();

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(run(url, clients, per_client, fault_rate))
    }));
    let _ = child.kill();
    let _ = child.wait();
    if let Some(dir) = data {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

async fn run(url: String, clients: usize, per_client: usize, fault_rate: f64) {
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
    let url = Arc::new(url);
    println!("load: {clients} clients x {per_client} creates, --fault-rate {fault_rate}, against {url}");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut st = Stats::default();
            for i in 0..per_client {
                let order = format!("load-{c}-{i}");
                let body = json!({
                    "amount": 10 + i, "currency": "USD", "externalOrderId": order,
                    "cbUrl": "http://127.0.0.1:9/cb", "redirectUrl": "http://localhost:3000/done",
                });
                let t0 = Instant::now();
                let Outcome::Done(status, v) = retrying(
                    || {
                        http.post(format!("{url}/api/v1/charges"))
                            .basic_auth(KEY, Some(""))
                            .header("Idempotency-Key", format!("idem-{order}"))
                            .json(&body)
                    },
                    &mut st,
                )
                .await;
                assert_eq!(status, 200, "{v}");
                assert_eq!(v["externalOrderId"], order.as_str());
                st.latencies.push(t0.elapsed());
            }
            st
        }));
    }
    let mut all = Stats::default();
    for t in tasks {
        let st = t.await.unwrap();
        all.latencies.extend(st.latencies);
        all.attempts += st.attempts;
        all.unavailable += st.unavailable;
        all.dropped += st.dropped;
        all.limited += st.limited;
    }
    let elapsed = start.elapsed();
    let total = clients * per_client;
    all.latencies.sort();
    println!(
        "load: {total} creates in {:.2}s = {:.0} creates/s; {} HTTP attempts ({} x 503, {} dropped connections, {} x 429)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        all.attempts,
        all.unavailable,
        all.dropped,
        all.limited
    );
    println!(
        "load: latency per create, retries included: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(&all.latencies, 0.5),
        pct(&all.latencies, 0.9),
        pct(&all.latencies, 0.99),
        all.latencies.last().unwrap().as_secs_f64() * 1000.0
    );

    // Every charge, read back through the (equally faulty) list endpoint.
    let mut orders = Vec::new();
    let mut cursor: Option<String> = None;
    let mut st = Stats::default();
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=100&starting_after={c}"),
            None => "limit=100".to_owned(),
        };
        let Outcome::Done(status, page) =
            retrying(|| http.get(format!("{url}/api/v1/charges?{q}")).basic_auth(KEY, Some("")), &mut st)
                .await;
        assert_eq!(status, 200, "{page}");
        let data = page["data"].as_array().unwrap();
        orders.extend(data.iter().map(|c| c["externalOrderId"].as_str().unwrap().to_owned()));
        if data.len() < 100 {
            break;
        }
        cursor = Some(data.last().unwrap()["id"].as_str().unwrap().to_owned());
    }
    let unique: HashSet<&String> = orders.iter().collect();
    assert_eq!(orders.len(), total, "exactly {total} charges exist");
    assert_eq!(unique.len(), total, "no charge is duplicated");
    if fault_rate > 0.0 {
        assert!(all.unavailable + all.dropped > 0, "faults were injected");
    }
    println!(
        "load: OK: {} charges, {} distinct externalOrderIds, none duplicated",
        orders.len(),
        unique.len()
    );
}
