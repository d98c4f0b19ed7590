//! HTTP handlers of `/api/v1/*` and the sandbox-only helpers under `/sandbox/*` (API key).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use rusqlite::types::Value as Sql;

use crate::app::{new_id, Account, App};
use crate::auth::{issue_token, ChargeAuth, KeyAuth};
use crate::db::{SqlResult, W};
use crate::error::{json_response, respond, ApiError, ApiResult};
use crate::model::*;
use crate::ops;
use crate::params::{check_url, parse_body, query_enum, Params};
use crate::store::{self, ListQuery, IDEM_TTL_MS};
use crate::webhooks::{self, check_deliverable};
use qbitpay::webhook::timestamp::format_millis;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/accessToken", get(access_token))
        .route("/api/v1/charges", get(list_charges).post(create_charge))
        .route("/api/v1/charges/{id}", get(get_charge).put(update_charge))
        .route("/api/v1/accounts/show", get(account_show))
        .route("/api/v1/balances/show", get(balance_show))
        .route("/api/v1/balanceTransactions", get(list_txns))
        .route("/api/v1/balanceTransactions/{id}", get(get_txn))
        .route("/api/v1/payouts", get(list_payouts).post(create_payout))
        .route("/api/v1/payouts/{id}", get(get_payout))
        .route("/api/v1/markets/ticker", get(ticker))
        .route("/api/v1/events/test", get(events_test))
        .route("/api/v1/events", get(list_events))
        .route("/api/v1/events/{id}", get(get_event))
        .route("/sandbox/charges/{id}/{action}", post(sandbox_charge))
        .route("/sandbox/payouts/{id}/{action}", post(sandbox_payout))
}

/// A stored body (already JSON) as the answer.
fn respond_raw(r: ApiResult<String>) -> Response {
    match r {
        Ok(s) => json_response(StatusCode::OK, s.into_bytes()),
        Err(e) => e.into_response(),
    }
}

fn query_map(q: Option<String>) -> HashMap<String, String> {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect()
}

fn list(url: &str, data: Vec<Value>) -> Value {
    json!({ "object": "list", "url": url, "data": data })
}

enum Idem {
    Fresh(u16, Vec<u8>),
    Replayed(u16, Vec<u8>),
}

/// The parameters as an idempotency key compares them: keys sorted, scalars as text (a
/// form's `"100"` is JSON's `100`), empty values dropped (they mean absent).
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.iter().filter(|(_, v)| !is_absent(v)).map(|(k, _)| k).collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Number(n) => out.push_str(
            &Value::String(n.as_f64().map_or_else(|| n.to_string(), |x| num(x).to_string())).to_string(),
        ),
        other => out.push_str(&Value::String(other.to_string()).to_string()),
    }
}

fn is_absent(v: &Value) -> bool {
    v.is_null() || v.as_str().is_some_and(str::is_empty)
}

fn fingerprint(endpoint: &str, p: &Params) -> [u8; 32] {
    let mut text = String::new();
    canonical(&Value::Object(p.clone()), &mut text);
    let mut h = Sha256::new();
    h.update(endpoint.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    h.finalize().into()
}

/// Runs a POST once per `Idempotency-Key` (per account, for 24 h of sandbox time), as
/// Stripe defines it: the key is bound to the endpoint and its parsed parameters (in any
/// order or encoding); a result is stored only once the endpoint ran (a success or a 402),
/// and a replay answers it again with `Idempotent-Replayed: true`. A refused request (bad
/// parameters, auth, rate limit, injected fault) stores nothing, so the corrected request
/// may use the same key. The record commits in the same transaction as the object it made.
async fn idempotent(
    app: &App,
    acct: &Account,
    headers: &HeaderMap,
    endpoint: &str,
    body: &[u8],
    f: impl FnOnce(&W, &Params) -> ApiResult,
) -> Response {
    let p = match parse_body(headers, body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let Some(key) = headers.get("idempotency-key") else { return respond(app.write(|w| f(w, &p))) };
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= 255 => k.to_owned(),
        _ => {
            return ApiError::invalid(
                "Idempotency-Key",
                "The Idempotency-Key header must be 1 to 255 visible characters.",
            )
            .into_response()
        }
    };
    let fingerprint = fingerprint(endpoint, &p);
    let r = app.write(|w| {
        let now = app.now();
        if let Some(rec) = store::idem_get(w, &acct.id, &key, now - IDEM_TTL_MS)? {
            if rec.fingerprint != fingerprint {
                return Err(ApiError::invalid(
                    "Idempotency-Key",
                    format!(
                        "Keys for idempotent requests can only be used with the same parameters they were first used with: \
                         '{key}' was first used with another request."
                    ),
                )
                .with_detail(json!({ "code": "idempotency_key_in_use" })));
            }
            return Ok(Idem::Replayed(rec.status, rec.body));
        }
        w.prepare_cached("SAVEPOINT op").db()?.execute([]).db()?;
        let (status, bytes) = match f(w, &p) {
            Ok(v) => {
                w.prepare_cached("RELEASE op").db()?.execute([]).db()?;
                (StatusCode::OK, serde_json::to_vec(&v).expect("json"))
            }
            Err(e) if e.executed() => {
                w.prepare_cached("ROLLBACK TO op").db()?.execute([]).db()?;
                w.prepare_cached("RELEASE op").db()?.execute([]).db()?;
                (e.status, serde_json::to_vec(&e.body()).expect("json"))
            }
            Err(e) => return Err(e),
        };
        let rec = store::IdemRecord { fingerprint: fingerprint.to_vec(), status: status.as_u16(), body: bytes.clone() };
        store::idem_put(w, &acct.id, &key, &rec, now)?;
        Ok(Idem::Fresh(status.as_u16(), bytes))
    });
    match r {
        Ok(Idem::Fresh(status, bytes)) => {
            json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), bytes)
        }
        Ok(Idem::Replayed(status, bytes)) => {
            let mut resp = json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), bytes);
            resp.headers_mut().insert("Idempotent-Replayed", HeaderValue::from_static("true"));
            resp
        }
        Err(e) => e.into_response(),
    }
}

async fn access_token(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth) -> Response {
    let (token, _exp) = issue_token(&app, &acct);
    respond(Ok(json!({ "accessToken": token })))
}

// ---------------------------------------------------------------- charges

async fn create_charge(
    State(app): State<Arc<App>>,
    KeyAuth(acct): KeyAuth,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    idempotent(&app, &acct, &headers, "POST /api/v1/charges", &body, |w, p| {
        ops::create_charge(&app, &acct, w, p)
    })
    .await
}

async fn get_charge(
    State(app): State<Arc<App>>,
    ChargeAuth(acct): ChargeAuth,
    Path(id): Path<String>,
) -> Response {
    respond_raw(app.read(|c| ops::get_charge(c, &acct, &id)))
}

async fn update_charge(
    State(app): State<Arc<App>>,
    ChargeAuth(acct): ChargeAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(
        parse_body(&headers, &body).and_then(|p| app.write(|w| ops::update_charge(&app, &acct, w, &id, &p))),
    )
}

fn text(s: &str) -> Sql {
    Sql::Text(s.to_owned())
}

async fn list_charges(
    State(app): State<Arc<App>>,
    ChargeAuth(acct): ChargeAuth,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_map(q);
    respond_raw((|| {
        let lq = ListQuery::parse(&q)?;
        let mut conds = Vec::new();
        if let Some(e) = q.get("externalOrderId").filter(|s| !s.is_empty()) {
            conds.push(("external_order_id = ?", text(e)));
        }
        let page = app.read(|c| store::page(c, "charges", &acct.id, &lq, &conds, "body", store::body))?;
        Ok(store::list_json("/api/v1/charges", &page))
    })())
}

// ---------------------------------------------------------------- account, balance

async fn account_show(KeyAuth(_acct): KeyAuth) -> Response {
    respond(Ok(ops::account_object()))
}

async fn balance_show(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth) -> Response {
    respond(app.read(|c| ops::balance_object(c, &acct)))
}

async fn get_txn(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, Path(id): Path<String>) -> Response {
    respond(app.read(|c| store::txn(c, &acct.id, &id)).and_then(|t| {
        t.map(|t| serde_json::to_value(t).unwrap())
            .ok_or_else(|| ApiError::not_found("balanceTransaction", &id))
    }))
}

async fn list_txns(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    respond_raw((|| {
        let lq = ListQuery::parse(&q)?;
        let mut conds = Vec::new();
        if let Some(t) = query_enum(&q, "type", qbitpay::spec::BALANCE_TRANSACTION_TYPES)? {
            conds.push(("type = ?", text(&t)));
        }
        if let Some(s) = query_enum(&q, "status", qbitpay::spec::BALANCE_TRANSACTION_STATUSES)? {
            conds.push(("status = ?", text(&s)));
        }
        if let Some(s) = q.get("source").filter(|s| !s.is_empty()) {
            conds.push(("source = ?", text(s)));
        }
        let page = app.read(|c| store::page(c, "txns", &acct.id, &lq, &conds, "body", store::body))?;
        Ok(store::list_json("/api/v1/balanceTransactions", &page))
    })())
}

// ---------------------------------------------------------------- payouts

async fn create_payout(
    State(app): State<Arc<App>>,
    KeyAuth(acct): KeyAuth,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    idempotent(&app, &acct, &headers, "POST /api/v1/payouts", &body, |w, p| {
        ops::create_payout(&app, &acct, w, p)
    })
    .await
}

async fn get_payout(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, Path(id): Path<String>) -> Response {
    respond(app.read(|c| store::payout(c, &acct.id, &id)).and_then(|p| {
        p.map(|p| serde_json::to_value(p).unwrap()).ok_or_else(|| ApiError::not_found("payout", &id))
    }))
}

async fn list_payouts(
    State(app): State<Arc<App>>,
    KeyAuth(acct): KeyAuth,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_map(q);
    respond_raw((|| {
        let lq = ListQuery::parse(&q)?;
        let mut conds = Vec::new();
        if let Some(s) = query_enum(&q, "status", qbitpay::spec::PAYOUT_STATUSES)? {
            conds.push(("status = ?", text(&s)));
        }
        if let Some(d) = q.get("destination").filter(|s| !s.is_empty()) {
            conds.push((
                "? IN (json_extract(body, '$.destination.type'), json_extract(body, '$.destination.accountNum'), json_extract(body, '$.destination.addr'))",
                text(d),
            ));
        }
        let page = app.read(|c| store::page(c, "payouts", &acct.id, &lq, &conds, "body", store::body))?;
        Ok(store::list_json("/api/v1/payouts", &page))
    })())
}

// ---------------------------------------------------------------- markets

async fn ticker(State(app): State<Arc<App>>, KeyAuth(_acct): KeyAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    respond((|| {
        let symbol = q.get("symbol").filter(|s| !s.is_empty()).ok_or_else(|| ApiError::missing("symbol"))?;
        let side =
            query_enum(&q, "side", qbitpay::spec::TICKER_SIDES)?.ok_or_else(|| ApiError::missing("side"))?;
        let (base, quote) = symbol
            .split_once('/')
            .filter(|(b, q)| BASE_CURRENCIES.contains(b) && QUOTE_CURRENCIES.contains(q))
            .ok_or_else(|| {
                ApiError::invalid(
                    "symbol",
                    format!(
                        "Unknown symbol '{symbol}': use BASE/QUOTE with BASE one of {} and QUOTE one of {}.",
                        BASE_CURRENCIES.join(", "),
                        QUOTE_CURRENCIES.join(", ")
                    ),
                )
            })?;
        let price = if side == "ask" { ask_price(base, quote) } else { bid_price(base, quote) };
        let mut v = json!({ "symbol": symbol, "timestamp": app.now() });
        v[side.as_str()] = num(price);
        Ok(v)
    })())
}

// ---------------------------------------------------------------- events

async fn list_events(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    respond((|| {
        let lq = ListQuery::parse(&q)?;
        let mut conds = Vec::new();
        if let Some(t) = q.get("type").filter(|s| !s.is_empty()) {
            conds.push(("type = ?", text(t)));
        }
        let page = app
            .read(|c| store::page(c, "events", &acct.id, &lq, &conds, store::EVENT_COLS, store::event_row))?;
        Ok(list("/api/v1/events", page.into_iter().map(|e| e.with_delivery()).collect()))
    })())
}

async fn get_event(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, Path(id): Path<String>) -> Response {
    respond(
        app.read(|c| store::event(c, &acct.id, &id))
            .and_then(|e| e.map(|e| e.with_delivery()).ok_or_else(|| ApiError::not_found("event", &id))),
    )
}

/// Sends one `test` event to `cbUrl` (or `--webhook-url`) now, without retries, and
/// answers with the event as sent and the outcome.
async fn events_test(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    let url = match q.get("cbUrl").filter(|s| !s.is_empty()).cloned().or_else(|| app.cfg.webhook_url.clone())
    {
        Some(u) => u,
        None => return ApiError::missing("cbUrl").into_response(),
    };
    if let Err(e) = check_url("cbUrl", &url) {
        return e.into_response();
    }
    if let Err(why) = check_deliverable(&app, &url) {
        return ApiError::invalid("cbUrl", format!("Cannot deliver to this cbUrl: {why}.")).into_response();
    }
    let created = app.write(|w| {
        let ms = app.clock.tick();
        let ev = Event {
            id: new_id("evt_", 24),
            ty: "test".into(),
            object: "event".into(),
            created_at: format_millis(ms),
            pending_webhooks: 0,
            livemode: false,
            data: json!({
                "object": "test",
                "message": "A test webhook from the QbitPay sandbox.",
                "createdAt": format_millis(ms),
            }),
            delivery: Delivery {
                url: Some(url.clone()),
                status: "sending".into(),
                attempts: 0,
                last_status_code: None,
                last_error: None,
            },
        };
        store::insert_event(w, &acct.id, &ev)?;
        Ok(ev.id)
    });
    let id = match created {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    respond(webhooks::attempt(&app, &acct, &id, None, None, None).await.map(|o| o.event.with_delivery()))
}

// ---------------------------------------------------------------- sandbox helpers

/// `POST /sandbox/charges/{id}/{confirm|expire|fail|dispute|resolve}` (API key).
async fn sandbox_charge(
    State(app): State<Arc<App>>,
    KeyAuth(acct): KeyAuth,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    respond(app.write(|w| ops::charge_action(&app, &acct, w, &id, &action)))
}

/// `POST /sandbox/payouts/{id}/{transit|pay|fail|cancel}` (API key).
async fn sandbox_payout(
    State(app): State<Arc<App>>,
    KeyAuth(acct): KeyAuth,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    respond(app.write(|w| ops::payout_action(&app, &acct, w, &id, &action)))
}

pub async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::route_not_found(method.as_str(), uri.path()).into_response()
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::method_not_allowed(method.as_str(), uri.path()).into_response()
}
