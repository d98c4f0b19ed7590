//! qbitpay-sandbox: a local, stateful QbitPay server for the SDK's tests, benchmarks and
//! sample page. See `sandbox/README.md`.

// ApiError (~160 bytes) travels only on the error path of a request; boxing buys nothing here.
#![allow(clippy::result_large_err)]

#[macro_use]
mod log;

mod api;
mod app;
mod auth;
mod clock;
mod config;
mod control;
mod db;
mod error;
mod jobs;
mod model;
mod ops;
mod page;
mod params;
mod store;
mod webhooks;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use clap::Parser;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use rand::Rng;
use tower::ServiceExt;

use crate::app::{new_id, App};
use crate::config::{Config, DEMO_KEY};
use crate::error::ApiError;

/// Marks a response whose connection is to be dropped instead (fault injection).
#[derive(Clone, Copy)]
struct DropConnection;

#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}
impl std::error::Error for Dropped {}

fn is_local_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) else { return false };
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        rest.split(':').next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host == "::1" || host.starts_with("127.")
}

const ALLOW_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, X-QbitPay-Client-User-Agent";
const EXPOSE_HEADERS: &str = "Request-Id, Retry-After, Idempotent-Replayed";

/// Outermost: Request-Id, CORS, one log line per request (method, path, status, ms; never
/// a query string, key or token). The dashboard's own reads (successful GETs of `/_sandbox/…`)
/// are not logged: it polls.
async fn outer(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| is_local_origin(o)).map(str::to_owned);
    let preflight = method == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut resp = if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if origin.is_some() {
            let h = r.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, OPTIONS"));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        r
    } else {
        next.run(req).await
    };
    let rid = new_id("req_", 20);
    let h = resp.headers_mut();
    h.insert("Request-Id", HeaderValue::from_str(&rid).expect("ascii id"));
    if let Some(o) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_str(&o).expect("checked origin"));
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    let status = if resp.extensions().get::<DropConnection>().is_some() {
        "dropped".to_owned()
    } else {
        resp.status().as_u16().to_string()
    };
    let quiet = method == Method::GET && path.starts_with("/_sandbox/") && (resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED);
    if !quiet {
        log!("{method} {path} {status} {:.1}ms {rid}", start.elapsed().as_secs_f64() * 1000.0);
    }
    resp
}

/// `--fault-rate`: fail an /api request, half the time with a 503 before anything runs
/// (auth, state), half the time by running it and then dropping the connection: the
/// response is lost after the state changed, the case idempotency keys exist for.
async fn faults(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if app.cfg.fault_rate > 0.0 && req.uri().path().starts_with("/api/") && req.method() != Method::OPTIONS {
        let roll = {
            let mut rng = rand::thread_rng();
            (rng.gen::<f64>() < app.cfg.fault_rate).then(|| rng.gen_bool(0.5))
        };
        match roll {
            Some(true) => return ApiError::unavailable().into_response(),
            Some(false) => {
                let mut r = next.run(req).await;
                r.extensions_mut().insert(DropConnection);
                return r;
            }
            None => {}
        }
    }
    next.run(req).await
}

fn router(app: Arc<App>) -> Router {
    api::routes()
        .merge(control::routes())
        .route("/pay/{id}", get(page::pay_page))
        .route("/pay/{id}/qr.svg", get(page::qr_svg))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), faults))
        .layer(middleware::from_fn(control::guard))
        .layer(middleware::from_fn(outer))
        .with_state(app)
}

/// SIGINT or SIGTERM. The handlers are installed when this is called (before the first
/// stdout line), not when the future is first polled: a signal sent right after the sandbox
/// answered its first request stops it cleanly instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `--exit-on-stdin-close`: resolves once stdin is at end of file (never without the flag).
/// A thread of its own: tokio's stdin would need another tokio feature for the same thread.
fn stdin_closed(enabled: bool) -> impl std::future::Future<Output = ()> {
    let eof = enabled.then(|| {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = tx.send(());
        });
        rx
    });
    async move {
        match eof {
            Some(rx) => {
                let _ = rx.await;
                log!("qbitpay-sandbox: stdin closed");
            }
            None => std::future::pending().await,
        }
    }
}

fn main() {
    let mut cfg = Config::parse();
    if let Err(e) = cfg.validate() {
        eprintln!("qbitpay-sandbox: {e}");
        std::process::exit(2);
    }
    let keys = if cfg.api_keys.is_empty() {
        log!("qbitpay-sandbox: no --api-key given: using the demo key {DEMO_KEY}");
        vec![DEMO_KEY.to_owned()]
    } else {
        let mut keys = Vec::new();
        for k in &cfg.api_keys {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        keys
    };
    cfg.api_keys.clear();
    let db = match db::Db::open(cfg.data.as_deref()) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("qbitpay-sandbox: {e}");
            std::process::exit(1);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = rt.block_on(serve(cfg, keys, db));
    rt.shutdown_timeout(Duration::from_secs(1));
    log::flush(Duration::from_secs(1));
    std::process::exit(code);
}

async fn serve(cfg: Config, keys: Vec<String>, db: db::Db) -> i32 {
    let listener = match tokio::net::TcpListener::bind((cfg.host.as_str(), cfg.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("qbitpay-sandbox: cannot listen on {}:{}: {e}", cfg.host, cfg.port);
            return 1;
        }
    };
    let addr = listener.local_addr().expect("local addr");
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        ip => ip.to_string(),
    };
    let base_url = format!("http://{host}:{}", addr.port());
    let n_accounts = keys.len();
    let app = match App::new(cfg, &keys, base_url.clone(), db) {
        Ok(app) => Arc::new(app),
        Err(e) => {
            eprintln!("qbitpay-sandbox: {e}");
            return 1;
        }
    };
    let router = router(app.clone());
    tokio::spawn(jobs::background(app.clone()));
    let signal = shutdown_signal();
    let stdin_closed = stdin_closed(app.cfg.exit_on_stdin_close);
    let signal = async move { tokio::select! { _ = signal => {}, _ = stdin_closed => {} } };

    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "qbitpay-sandbox listening on {base_url}");
        let _ = out.flush();
    }
    log!(
        "qbitpay-sandbox: {n_accounts} account(s); state {}; dashboard {base_url}/; webhook retry interval {}s; fault rate {}; rate limit {}",
        app.db.path.as_deref().map(|p| format!("in {p}")).unwrap_or_else(|| "in memory (--data PATH keeps it)".into()),
        app.cfg.webhook_retry_interval,
        app.cfg.fault_rate,
        app.cfg.rate_limit.map(|r| format!("{r}/s")).unwrap_or_else(|| "off".into())
    );

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        log!("qbitpay-sandbox: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let router = router.clone();
                    async move {
                        let mut req = req.map(axum::body::Body::new);
                        req.extensions_mut().insert(control::Peer(peer));
                        let resp = router.oneshot(req).await.unwrap_or_else(|e| match e {});
                        if resp.extensions().get::<DropConnection>().is_some() {
                            Err(Dropped)
                        } else {
                            Ok(resp)
                        }
                    }
                });
                let conn = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut signal => break,
        }
    }
    drop(listener);
    log!("qbitpay-sandbox: shutting down");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => log!("qbitpay-sandbox: connections still open after 5s; closing them"),
    }
    0
}
