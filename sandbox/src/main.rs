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
mod limits;
mod model;
mod net;
mod ops;
mod page;
mod params;
mod store;
mod trigger;
mod webhooks;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use clap::Parser;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use rand::Rng;
use tower::ServiceExt;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};

use crate::app::{new_id, App};
use crate::config::{Config, DEMO_KEY};
use crate::error::ApiError;
use crate::limits::{MAX_BODY_BYTES, MAX_HEADERS, MAX_HEADER_BYTES, MAX_URI_BYTES};

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

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");

/// `req_` + 20 alphanumerics, fresh for every request.
#[derive(Clone, Copy)]
struct NewRequestId;
impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&new_id("req_", 20)).ok().map(RequestId::new)
    }
}

/// Pages served from this machine may call the API from a browser; no other site gets CORS
/// headers (the control API also refuses them outright, see `control::guard`).
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|o: &HeaderValue, _| {
            o.to_str().is_ok_and(net::is_loopback_origin)
        }))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-qbitpay-client-user-agent"),
        ])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER, HeaderName::from_static("idempotent-replayed")])
        .max_age(Duration::from_secs(600))
}

/// Outermost: one log line per request (method, path, status, ms, request id; never a
/// query string, key or token). The dashboard's own reads (successful GETs of
/// `/_sandbox/…`) are not logged: it polls. A client's own `Request-Id` is dropped: every
/// response gets a fresh one.
async fn outer(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    req.headers_mut().remove(REQUEST_ID);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    let status = if resp.extensions().get::<DropConnection>().is_some() {
        "dropped".to_owned()
    } else {
        resp.status().as_u16().to_string()
    };
    let quiet = method == Method::GET
        && path.starts_with("/_sandbox/")
        && (resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED);
    if !quiet {
        let rid = resp.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
        log!("{method} {path} {status} {:.1}ms {rid}", start.elapsed().as_secs_f64() * 1000.0);
    }
    resp
}

/// Every error is the API's JSON error: a plain-text answer of an extractor (a body that is
/// too large or unreadable), a layer (the body limit) or the router becomes one, with its
/// status and headers. HTML pages (the payment page's refusals) stay pages.
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let ct = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.starts_with("application/json") || ct.starts_with("text/html") {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let mut json = ApiError::from_status(status, &String::from_utf8_lossy(&text)).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.headers_mut().append(name, value.clone());
        }
    }
    json.extensions_mut().extend(parts.extensions);
    json
}

/// The request line and headers within bounds (414, 431). hyper itself answers an empty
/// 414 past 64 KiB of URI and an empty 431 past `MAX_HEADERS` lines or its read buffer,
/// before any handler can run.
async fn head_limits(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::from_status(StatusCode::URI_TOO_LONG, "").into_response();
    }
    let header_bytes: usize = req.headers().iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::from_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "").into_response();
    }
    next.run(req).await
}

/// Reads the whole body before the handler runs, within `--header-timeout` (a body that
/// trickles in gets 408) and the body limit (413), so no handler waits on a slow client.
async fn read_body(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes =
        match tokio::time::timeout(app.cfg.header_timeout(), axum::body::to_bytes(body, usize::MAX)).await {
            Err(_) => return ApiError::from_status(StatusCode::REQUEST_TIMEOUT, "").into_response(),
            Ok(Err(e)) => {
                let too_large = std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
                    .any(|e| e.is::<http_body_util::LengthLimitError>());
                return if too_large {
                    ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE, "").into_response()
                } else {
                    ApiError::bad_request("The request body could not be read.").into_response()
                };
            }
            Ok(Ok(b)) => b,
        };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
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
        .layer(middleware::from_fn_with_state(app.clone(), read_body))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(head_limits))
        .layer(cors())
        .layer(middleware::from_fn(control::guard))
        .layer(middleware::from_fn(json_errors))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, NewRequestId))
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
    if let Some(url) = reqwest::Url::parse(cfg.webhook_url.as_deref().unwrap_or(""))
        .ok()
        .filter(|u| net::names_listener(addr, u))
    {
        eprintln!(
            "qbitpay-sandbox: --webhook-url {}: webhooks never go to the sandbox itself",
            webhooks::redact(url.as_str())
        );
        return 2;
    }
    let n_accounts = keys.len();
    let app = match App::new(cfg, &keys, base_url.clone(), addr, db) {
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
    let signal = async move {
        tokio::select! { _ = signal => {}, _ = stdin_closed => {} }
    };

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
    let slots = Arc::new(tokio::sync::Semaphore::new(app.cfg.max_connections));
    let over_cap = AtomicBool::new(false);
    let mut http = http1::Builder::new();
    // hyper starts the header timer when a connection waits for a request: for a new one and
    // for a kept-alive one between requests alike, so it is the idle timeout too.
    http.timer(TokioTimer::new())
        .header_read_timeout(app.cfg.header_timeout())
        .keep_alive(true)
        .max_headers(MAX_HEADERS);
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
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    if !over_cap.swap(true, Ordering::Relaxed) {
                        log!("qbitpay-sandbox: {} connections open (--max-connections): refusing new ones until some close", app.cfg.max_connections);
                    }
                    refuse(stream);
                    continue;
                };
                over_cap.store(false, Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let router = router.clone();
                    async move {
                        let mut req = req.map(Body::new);
                        req.extensions_mut().insert(control::Peer(peer));
                        let resp = router.oneshot(req).await.unwrap_or_else(|e| match e {});
                        if resp.extensions().get::<DropConnection>().is_some() {
                            Err(Dropped)
                        } else {
                            Ok(resp)
                        }
                    }
                });
                // A client that pipelines requests and never reads the answers would hold its
                // slot forever: a write that makes no progress for --header-timeout closes it.
                let mut io = tokio_io_timeout::TimeoutStream::new(stream);
                io.set_write_timeout(Some(app.cfg.header_timeout()));
                let conn = graceful.watch(http.serve_connection(TokioIo::new(Box::pin(io)), svc));
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(slot);
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

/// Over `--max-connections`: a 503 in the API's shape if the socket takes it at once, then close.
fn refuse(stream: tokio::net::TcpStream) {
    let body = ApiError::unavailable_busy().body().to_string();
    let resp = format!("HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}", body.len());
    let _ = stream.try_write(resp.as_bytes());
}
