//! Starts the real `qbitpay-sandbox` binary on a free port and talks HTTP to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::Value;

pub struct Sandbox {
    child: Child,
    pub url: String,
    pub stderr: Arc<Mutex<Vec<String>>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    pub http: reqwest::Client,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(20)).build().unwrap()
}

impl Sandbox {
    pub fn start(args: &[&str]) -> Sandbox {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qbitpay-sandbox"))
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start qbitpay-sandbox");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).expect("first stdout line");
        let url = line
            .trim_end()
            .strip_prefix("qbitpay-sandbox listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        std::thread::spawn(move || for _ in out.lines() {});
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (sink, err) = (stderr.clone(), child.stderr.take().unwrap());
        let reader = std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        Sandbox { child, url, stderr, stderr_reader: Some(reader), http: client() }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// SIGKILL: the process dies wherever it is (no shutdown, no flush).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The control API (no API key).
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Resp {
        let mut rb = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            rb = rb.json(b);
        }
        Resp::from(rb.send().await.unwrap()).await
    }

    /// `POST /_sandbox/clock/advance`.
    pub async fn advance(&self, seconds: f64) -> Value {
        let r = self
            .control(
                reqwest::Method::POST,
                "/_sandbox/clock/advance",
                Some(&serde_json::json!({ "seconds": seconds })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// SIGTERM, then the exit status (within 5 s).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                if let Some(r) = self.stderr_reader.take() {
                    r.join().unwrap(); // every line read
                }
                return st;
            }
            assert!(Instant::now() < deadline, "the sandbox did not exit on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn req(&self, method: reqwest::Method, auth: Auth, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, format!("{}{path}", self.url));
        match auth {
            Auth::Key(k) => rb.basic_auth(k, Some("")),
            Auth::Bearer(t) => rb.bearer_auth(t),
            Auth::None => rb,
        }
    }

    pub async fn get(&self, auth: Auth<'_>, path: &str) -> Resp {
        Resp::from(self.req(reqwest::Method::GET, auth, path).send().await.unwrap()).await
    }

    pub async fn post(&self, auth: Auth<'_>, path: &str, body: &Value) -> Resp {
        Resp::from(self.req(reqwest::Method::POST, auth, path).json(body).send().await.unwrap()).await
    }

    pub async fn post_idem(&self, auth: Auth<'_>, path: &str, body: &Value, key: &str) -> Resp {
        let rb = self.req(reqwest::Method::POST, auth, path).header("Idempotency-Key", key).json(body);
        Resp::from(rb.send().await.unwrap()).await
    }

    pub async fn post_form(&self, auth: Auth<'_>, path: &str, form: &str) -> Resp {
        let rb = self
            .req(reqwest::Method::POST, auth, path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        Resp::from(rb.send().await.unwrap()).await
    }

    pub async fn put(&self, auth: Auth<'_>, path: &str, body: &Value) -> Resp {
        Resp::from(self.req(reqwest::Method::PUT, auth, path).json(body).send().await.unwrap()).await
    }

    pub async fn create_charge(&self, key: &str, order: &str, cb_url: &str) -> Value {
        let r = self.post(Auth::Key(key), "/api/v1/charges", &charge_body(order, cb_url)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    /// The account id of a key (the balance's id is `bal_` + the same hex as `acct_`).
    pub async fn account_id(&self, key: &str) -> String {
        let r = self.get(Auth::Key(key), "/api/v1/balances/show").await;
        assert_eq!(r.status, 200, "{}", r.body);
        format!("acct_{}", r.body["id"].as_str().unwrap().strip_prefix("bal_").unwrap())
    }

    pub async fn token(&self, key: &str) -> String {
        let r = self.get(Auth::Key(key), "/api/v1/accessToken").await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["accessToken"].as_str().unwrap().to_owned()
    }

    /// Poll until `f(object)` holds (5 s at most).
    pub async fn wait_for(&self, key: &str, path: &str, f: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let r = self.get(Auth::Key(key), path).await;
            if f(&r.body) {
                return r.body;
            }
            assert!(Instant::now() < deadline, "timed out waiting on {path}: {}", r.body);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Key(&'a str),
    Bearer(&'a str),
    None,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: HeaderMap,
}

impl Resp {
    pub async fn from(r: reqwest::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, body, text, headers }
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Asserts a 400 naming `param`.
    pub fn assert_invalid(&self, param: &str) {
        assert_eq!(self.status, 400, "{}", self.text);
        assert_eq!(self.body["type"], "invalid_request_error", "{}", self.text);
        assert_eq!(self.body["param"], param, "{}", self.text);
        assert!(self.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", self.text);
    }
}

pub fn charge_body(order: &str, cb_url: &str) -> Value {
    serde_json::json!({
        "amount": 100,
        "currency": "USD",
        "externalOrderId": order,
        "cbUrl": cb_url,
        "redirectUrl": "http://localhost:3000/thanks",
    })
}

/// A webhook receiver on loopback: records every POST (signature header, raw body, time)
/// and answers the statuses in `script` in turn (then 200).
pub struct Receiver {
    pub url: String,
    pub hits: Arc<Mutex<Vec<Hit>>>,
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub signature: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> Receiver {
        use axum::routing::post;
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(std::collections::VecDeque::from(script)));
        let (h, s) = (hits.clone(), script.clone());
        let app = axum::Router::new().route(
            "/hook",
            post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (h, s) = (h.clone(), s.clone());
                async move {
                    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                    h.lock().unwrap().push(Hit {
                        signature: get("qbitpay-signature"),
                        content_type: get("content-type"),
                        body: body.to_vec(),
                        at: Instant::now(),
                    });
                    let code = s.lock().unwrap().pop_front().unwrap_or(200);
                    axum::http::StatusCode::from_u16(code).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, hits }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Wait until at least `n` deliveries arrived (5 s at most).
    pub async fn wait(&self, n: usize) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let h = self.hits();
            if h.len() >= n {
                return h;
            }
            assert!(Instant::now() < deadline, "expected {n} webhooks, got {}", h.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn verify(hit: &Hit, key: &str) {
    qbitpay::webhook::verify(&hit.body, &hit.signature, &[key], &qbitpay::webhook::VerifyOptions::default())
        .unwrap_or_else(|e| panic!("bad signature {}: {e:?}", hit.signature));
}

pub fn is_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 24
        && s.ends_with('Z')
        && qbitpay::webhook::timestamp::parse_millis(s).is_some()
        && s.as_bytes()[10] == b'T'
}

/// A fresh directory for `--data` files (removed on drop).
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let p = std::env::temp_dir().join(format!("qbitpay-sandbox-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
