//! The dashboard (`/`) and the JSON control API under `/_sandbox/` that it and the tests
//! use. The dashboard's routes name accounts by id (`acct_…`, no key: the page never holds
//! one); the routes tests call for one account (`trigger`, `deliveries`, `replay`, `reset`)
//! take its API key, as the API does. Every route answers only to loopback peers, with a
//! loopback `Host` (no DNS rebinding), without a foreign `Origin` (no other site's page
//! reads or acts, whatever the method), and never to the sandbox's own webhook deliveries.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rusqlite::Connection;
use serde_json::{json, Value};

use crate::app::{Account, App};
use crate::auth::ControlKey;
use crate::error::{respond, ApiError, ApiResult};
use crate::jobs;
use crate::limits::{ADVANCE_MAX_SECONDS, MAX_TIME_MS};
use crate::net::{is_loopback_authority, is_loopback_origin};
use crate::ops;
use crate::store::{self, ListQuery};
use crate::webhooks::{self, DELIVERY_USER_AGENT};
use qbitpay::webhook::timestamp::format_millis;

/// The peer of a connection (set by the accept loop).
#[derive(Clone, Copy)]
pub struct Peer(pub SocketAddr);

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(dashboard))
        .route("/_sandbox/assets/{file}", get(asset))
        .route("/_sandbox/info", get(crate::page::info))
        .route("/_sandbox/clock", get(clock))
        .route("/_sandbox/clock/advance", post(advance))
        .route("/_sandbox/accounts", get(accounts))
        .route("/_sandbox/accounts/{acct}", get(account))
        .route("/_sandbox/accounts/{acct}/reset", post(reset))
        .route("/_sandbox/accounts/{acct}/events/{id}/resend", post(resend))
        .route("/_sandbox/accounts/{acct}/charges/{id}/{action}", post(charge_action))
        .route("/_sandbox/accounts/{acct}/payouts/{id}/{action}", post(payout_action))
        .route("/_sandbox/trigger", post(trigger))
        .route("/_sandbox/deliveries", get(deliveries))
        .route("/_sandbox/events/{id}/replay", post(replay))
        .route("/_sandbox/reset", post(reset_own))
}

/// The guard of `/` and `/_sandbox/…` (see the module comment).
pub async fn guard(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path != "/" && !path.starts_with("/_sandbox/") {
        return next.run(req).await;
    }
    let forbidden = |why: &str| {
        ApiError::forbidden(format!("The sandbox's dashboard and control API {why}.")).into_response()
    };
    let h = req.headers();
    let ua = h.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ua == DELIVERY_USER_AGENT || h.contains_key("qbitpay-signature") {
        return forbidden("take no requests from the sandbox's own webhook deliveries");
    }
    if let Some(Peer(addr)) = req.extensions().get::<Peer>() {
        if !addr.ip().is_loopback() && !addr.ip().to_canonical().is_loopback() {
            return forbidden("answer only on this machine (loopback peers)");
        }
    }
    if !is_loopback_authority(h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("")) {
        return forbidden("answer only to a loopback Host (127.0.0.1, localhost, [::1])");
    }
    if let Some(origin) = h.get(header::ORIGIN) {
        if !origin.to_str().is_ok_and(is_loopback_origin) {
            return forbidden("take no requests from other sites' pages");
        }
    }
    next.run(req).await
}

// ---------------------------------------------------------------- the page

const INDEX_HTML: &str = include_str!("dashboard/index.html");
const DASHBOARD_JS: &str = include_str!("dashboard/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("dashboard/dashboard.css");

fn secure(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn dashboard() -> Response {
    secure(
        ([(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], INDEX_HTML)
            .into_response(),
    )
}

async fn asset(Path(file): Path<String>) -> Response {
    let (ct, body) = match file.as_str() {
        "dashboard.js" => ("text/javascript; charset=utf-8", DASHBOARD_JS),
        "dashboard.css" => ("text/css; charset=utf-8", DASHBOARD_CSS),
        _ => return ApiError::route_not_found("GET", &format!("/_sandbox/assets/{file}")).into_response(),
    };
    secure(([(header::CONTENT_TYPE, HeaderValue::from_static(ct))], body).into_response())
}

// ---------------------------------------------------------------- clock

fn clock_json(app: &App) -> Value {
    let now = app.now();
    json!({ "object": "clock", "now": format_millis(now), "nowMs": now, "offsetSeconds": app.clock.offset_ms() as f64 / 1000.0 })
}

async fn clock(State(app): State<Arc<App>>) -> Response {
    respond(Ok(clock_json(&app)))
}

/// `{"seconds": N}` (N > 0, at most ten years, and never past 9999-12-31).
async fn advance(State(app): State<Arc<App>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let r: ApiResult = async {
        let p = crate::params::parse_body(&headers, &body)?;
        let secs = crate::params::req_number(&p, "seconds")?;
        if secs <= 0.0 || secs > ADVANCE_MAX_SECONDS {
            return Err(ApiError::invalid(
                "seconds",
                format!(
                    "seconds must be a number greater than 0 and at most {ADVANCE_MAX_SECONDS} (ten years)."
                ),
            ));
        }
        let ms = (secs * 1000.0).round() as i64;
        if app.now().saturating_add(ms) > MAX_TIME_MS {
            return Err(ApiError::invalid(
                "seconds",
                format!(
                    "The sandbox clock stops at {}: at most {} more seconds.",
                    format_millis(MAX_TIME_MS),
                    (MAX_TIME_MS - app.now()) / 1000
                ),
            ));
        }
        let ran = jobs::advance(&app, ms).await?;
        let mut v = clock_json(&app);
        v["ran"] = serde_json::to_value(ran).unwrap();
        Ok(v)
    }
    .await;
    respond(r)
}

// ---------------------------------------------------------------- accounts

fn active(app: &App, id: &str) -> ApiResult<Arc<Account>> {
    app.account_by_id(id).cloned().ok_or_else(|| {
        ApiError::not_found("account", id).with_detail(
            json!({ "hint": "accounts are the sandbox's --api-key keys; GET /_sandbox/accounts lists them" }),
        )
    })
}

/// An account in the database (its key given at this start or not).
fn known(c: &Connection, id: &str) -> ApiResult<store::AccountRow> {
    store::accounts(c)?.into_iter().find(|a| a.id == id).ok_or_else(|| ApiError::not_found("account", id))
}

fn summary(app: &App, c: &Connection, a: &store::AccountRow) -> ApiResult<Value> {
    let (available, pending) = store::balance_sums(c, &a.id)?;
    Ok(json!({
        "id": a.id,
        "object": "sandboxAccount",
        "keyHint": a.key_hint,
        "active": app.account_by_id(&a.id).is_some(),
        "createdAt": format_millis(a.created_ms),
        "balance": { "currency": crate::model::BALANCE_CURRENCY, "available": crate::model::num(crate::model::round_to(available, 8)), "pending": crate::model::num(crate::model::round_to(pending, 8)) },
        "counts": {
            "charges": store::count(c, "charges", &a.id)?,
            "payouts": store::count(c, "payouts", &a.id)?,
            "balanceTransactions": store::count(c, "txns", &a.id)?,
            "events": store::count(c, "events", &a.id)?,
        },
    }))
}

/// A 304 when the dashboard already has this version of the state.
fn etag(app: &App, headers: &HeaderMap, f: impl FnOnce() -> ApiResult) -> Response {
    let tag = format!("\"v{}-{}\"", app.version(), app.clock.offset_ms());
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut resp = respond(f());
    if resp.status().is_success() {
        resp.headers_mut().insert(header::ETAG, HeaderValue::from_str(&tag).expect("ascii tag"));
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

async fn accounts(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    etag(&app, &headers, || {
        app.read(|c| {
            let data = store::accounts(c)?.iter().map(|a| summary(&app, c, a)).collect::<ApiResult<Vec<_>>>()?;
            Ok(json!({ "object": "list", "url": "/_sandbox/accounts", "data": data, "clock": clock_json(&app) }))
        })
    })
}

/// Everything the dashboard shows of one account, newest first, `limit` (1..100, default
/// 50) of each kind.
async fn account(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let q: HashMap<String, String> =
        form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect();
    etag(&app, &headers, || {
        let mut lq = ListQuery::parse(&q)?;
        if !q.contains_key("limit") {
            lq.limit = 50;
        }
        let lq = ListQuery { limit: lq.limit, starting_after: None, ending_before: None };
        app.read(|c| {
            let row = known(c, &id)?;
            let mut v = summary(&app, c, &row)?;
            let raw = |table: &str| -> ApiResult<Vec<Value>> {
                let bodies = store::page(c, table, &id, &lq, &[], "body", store::body)?;
                Ok(bodies.iter().map(|b| serde_json::from_str(b).unwrap_or(Value::Null)).collect())
            };
            v["charges"] = json!(raw("charges")?);
            v["payouts"] = json!(raw("payouts")?);
            v["balanceTransactions"] = json!(raw("txns")?);
            let events = store::page(c, "events", &id, &lq, &[], store::EVENT_COLS, store::event_row)?;
            let mut evs = Vec::new();
            for e in events {
                let mut ev = e.with_delivery();
                ev["attempts"] = serde_json::to_value(store::attempts(c, &e.id)?).unwrap();
                ev["webhook"]["nextAttemptAt"] =
                    json!(store::next_job_for(c, &e.id, store::DELIVER)?.map(format_millis));
                evs.push(ev);
            }
            v["events"] = json!(evs);
            v["clock"] = clock_json(&app);
            Ok(v)
        })
    })
}

async fn reset(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    respond(app.write(|w| {
        known(w, &id)?;
        store::reset_account(w, &id)?;
        crate::log!("qbitpay-sandbox: account {id} reset");
        summary(&app, w, &known(w, &id)?)
    }))
}

/// One delivery attempt of the event now (no retries), to its URL (or `--webhook-url`);
/// answers the attempt and the event's delivery state.
async fn resend(State(app): State<Arc<App>>, Path((acct, id)): Path<(String, String)>) -> Response {
    let r: ApiResult = async {
        let acct = active(&app, &acct)?;
        let o = webhooks::attempt(&app, &acct, &id, None, None, None).await?;
        let mut ev = o.event.with_delivery();
        ev["attempt"] = serde_json::to_value(&o.attempts[0]).unwrap();
        Ok(ev)
    }
    .await;
    respond(r)
}

async fn charge_action(
    State(app): State<Arc<App>>,
    Path((acct, id, action)): Path<(String, String, String)>,
) -> Response {
    respond(
        active(&app, &acct).and_then(|acct| app.write(|w| ops::charge_action(&app, &acct, w, &id, &action))),
    )
}

async fn payout_action(
    State(app): State<Arc<App>>,
    Path((acct, id, action)): Path<(String, String, String)>,
) -> Response {
    respond(
        active(&app, &acct).and_then(|acct| app.write(|w| ops::payout_action(&app, &acct, w, &id, &action))),
    )
}

// ---------------------------------------------------------------- one account, by its key

/// `POST /_sandbox/trigger` `{type, charge?, payout?, cbUrl?, amount?}` (see `trigger.rs`).
async fn trigger(
    State(app): State<Arc<App>>,
    ControlKey(acct): ControlKey,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    respond(
        crate::params::parse_body(&headers, &body)
            .and_then(|p| crate::trigger::parse(&app, &p))
            .and_then(|t| app.write(|w| crate::trigger::run(&app, &acct, w, &t))),
    )
}

/// Deliveries listed at most (`limit`, default 100).
const MAX_DELIVERIES: usize = 1000;
const DELIVERY_FILTERS: &[&str] = &["type", "objectId", "eventId", "limit"];

/// `GET /_sandbox/deliveries?type=&objectId=&eventId=&limit=`: the account's newest matching
/// events, oldest first, each as `{event, webhook, attempts}`: the event as delivered, its
/// delivery state, and every attempt (time, URL, HTTP status or error, latency).
async fn deliveries(
    State(app): State<Arc<App>>,
    ControlKey(acct): ControlKey,
    RawQuery(q): RawQuery,
) -> Response {
    let q: Vec<(String, String)> =
        form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect();
    let r: ApiResult = (|| {
        let mut f = store::EventFilter::default();
        let mut limit = 100;
        for (k, v) in q.into_iter().filter(|(_, v)| !v.is_empty()) {
            match k.as_str() {
                "type" if v == "test" || qbitpay::spec::is_event_type(&v) => f.ty = Some(v),
                "type" => {
                    return Err(ApiError::invalid(
                        "type",
                        format!(
                            "Unknown event type '{v}': one of {}, {}, test.",
                            qbitpay::spec::CHARGE_EVENT_TYPES.join(", "),
                            qbitpay::spec::PAYOUT_EVENT_TYPES.join(", ")
                        ),
                    ))
                }
                "objectId" => f.object_id = Some(v),
                "eventId" => f.event_id = Some(v),
                "limit" => {
                    limit = v.parse::<usize>().ok().filter(|n| (1..=MAX_DELIVERIES).contains(n)).ok_or_else(
                        || {
                            ApiError::invalid(
                                "limit",
                                format!("limit must be an integer from 1 to {MAX_DELIVERIES}, not '{v}'"),
                            )
                        },
                    )?
                }
                _ => {
                    return Err(ApiError::invalid(
                        k.as_str(),
                        format!(
                            "Unknown parameter '{k}': deliveries are filtered by {}.",
                            DELIVERY_FILTERS.join(", ")
                        ),
                    ))
                }
            }
        }
        app.read(|c| {
            let mut data = Vec::new();
            for e in store::events_matching(c, &acct.id, &f, limit)? {
                data.push(delivery_json(c, &e)?);
            }
            Ok(json!({ "object": "list", "url": "/_sandbox/deliveries", "data": data }))
        })
    })();
    respond(r)
}

/// `{event, webhook, attempts}` of a stored event.
fn delivery_json(c: &Connection, e: &crate::model::Event) -> ApiResult<Value> {
    let mut webhook = serde_json::to_value(&e.delivery).unwrap();
    webhook["nextAttemptAt"] = json!(store::next_job_for(c, &e.id, store::DELIVER)?.map(format_millis));
    Ok(json!({
        "event": e,
        "webhook": webhook,
        "attempts": store::attempts(c, &e.id)?,
    }))
}

/// `POST /_sandbox/events/{id}/replay`: the event sent again now, once, as it was (the same
/// id, body and signature), to its URL; answers `{event, webhook, attempts, attempt}`.
async fn replay(
    State(app): State<Arc<App>>,
    ControlKey(acct): ControlKey,
    Path(id): Path<String>,
) -> Response {
    let r: ApiResult = async {
        let o = webhooks::attempt(&app, &acct, &id, None, None, None).await?;
        let mut v = app.read(|c| delivery_json(c, &o.event))?;
        v["attempt"] = serde_json::to_value(&o.attempts[0]).unwrap();
        Ok(v)
    }
    .await;
    respond(r)
}

/// `POST /_sandbox/reset`: everything of the key's account deleted; answers its (empty) summary.
async fn reset_own(State(app): State<Arc<App>>, ControlKey(acct): ControlKey) -> Response {
    respond(app.write(|w| {
        store::reset_account(w, &acct.id)?;
        crate::log!("qbitpay-sandbox: account {} reset", acct.id);
        summary(&app, w, &known(w, &acct.id)?)
    }))
}
