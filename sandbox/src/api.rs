//! HTTP handlers of `/api/v1/*` and the sandbox-only helpers under `/sandbox/*`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::app::{new_id, now_ms, Account, App, IdemSlot, ListQuery};
use crate::auth::{issue_token, ChargeAuth, KeyAuth};
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::ops;
use crate::params::{check_url, parse_body, query_enum};
use crate::webhooks::{check_deliverable, post_signed, redact};
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

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

fn respond(r: ApiResult) -> Response {
    match r {
        Ok(v) => json_response(StatusCode::OK, serde_json::to_vec(&v).expect("json")),
        Err(e) => e.into_response(),
    }
}

fn query_map(q: Option<String>) -> HashMap<String, String> {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect()
}

fn list(url: &str, data: Vec<Value>) -> Value {
    json!({ "object": "list", "url": url, "data": data })
}

/// Run a POST once per `Idempotency-Key` (per account): the same key with the same path and
/// body replays the stored answer; with another body → 400. Concurrent duplicates wait for
/// the first. `f` is synchronous, so a cancelled request never half-stores.
async fn idempotent(acct: &Account, headers: &HeaderMap, path: &str, body: &[u8], f: impl FnOnce() -> ApiResult) -> Response {
    let Some(key) = headers.get("idempotency-key") else { return respond(f()) };
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= 255 => k.to_owned(),
        _ => return ApiError::invalid("Idempotency-Key", "The Idempotency-Key header must be 1 to 255 visible characters.").into_response(),
    };
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    let fingerprint: [u8; 32] = h.finalize().into();
    let slot = {
        let mut m = acct.idem.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(key.clone())
            .or_insert_with(|| Arc::new(IdemSlot { fingerprint, result: tokio::sync::Mutex::new(None) }))
            .clone()
    };
    if slot.fingerprint != fingerprint {
        return ApiError::bad_request(format!(
            "Keys for idempotent requests can only be used with the same parameters they were first used with: \
             '{key}' was first used with another request."
        ))
        .with_detail(json!({ "code": "idempotency_key_in_use" }))
        .into_response();
    }
    let mut done = slot.result.lock().await;
    if let Some((status, bytes)) = &*done {
        let mut resp = json_response(StatusCode::from_u16(*status).unwrap_or(StatusCode::OK), bytes.clone());
        resp.headers_mut().insert("Idempotent-Replayed", HeaderValue::from_static("true"));
        return resp;
    }
    let (status, bytes) = match f() {
        Ok(v) => (StatusCode::OK, serde_json::to_vec(&v).expect("json")),
        Err(e) => (e.status, serde_json::to_vec(&e.body()).expect("json")),
    };
    if !status.is_server_error() {
        *done = Some((status.as_u16(), bytes.clone()));
    }
    json_response(status, bytes)
}

async fn access_token(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth) -> Response {
    let (token, _exp) = issue_token(&app, &acct);
    respond(Ok(json!({ "accessToken": token })))
}

// ---------------------------------------------------------------- charges

async fn create_charge(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, headers: HeaderMap, body: Bytes) -> Response {
    idempotent(&acct, &headers, "/api/v1/charges", &body, || {
        let p = parse_body(&headers, &body)?;
        ops::create_charge(&app, &acct, &p)
    })
    .await
}

async fn get_charge(ChargeAuth(acct): ChargeAuth, Path(id): Path<String>) -> Response {
    respond(ops::get_charge(&acct, &id))
}

async fn update_charge(State(app): State<Arc<App>>, ChargeAuth(acct): ChargeAuth, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    respond(parse_body(&headers, &body).and_then(|p| ops::update_charge(&app, &acct, &id, &p)))
}

async fn list_charges(ChargeAuth(acct): ChargeAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    respond((|| {
        let lq = ListQuery::parse(&q)?;
        let ext = q.get("externalOrderId").filter(|s| !s.is_empty());
        let st = acct.state();
        let page = st.charges.page(&lq, |c| ext.is_none_or(|e| &c.external_order_id == e))?;
        Ok(list("/api/v1/charges", page.into_iter().map(|c| serde_json::to_value(c).unwrap()).collect()))
    })())
}

// ---------------------------------------------------------------- account, balance

async fn account_show(KeyAuth(_acct): KeyAuth) -> Response {
    respond(Ok(ops::account_object()))
}

async fn balance_show(KeyAuth(acct): KeyAuth) -> Response {
    respond(Ok(ops::balance_object(&acct)))
}

async fn get_txn(KeyAuth(acct): KeyAuth, Path(id): Path<String>) -> Response {
    let st = acct.state();
    respond(st.txns.get(&id).map(|t| serde_json::to_value(t).unwrap()).ok_or_else(|| ApiError::not_found("balanceTransaction", &id)))
}

async fn list_txns(KeyAuth(acct): KeyAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    respond((|| {
        let lq = ListQuery::parse(&q)?;
        let ty = query_enum(&q, "type", &["charge", "payout", "payout_cancel", "payout_failure"])?;
        let status = query_enum(&q, "status", &["pending", "available"])?;
        let source = q.get("source").filter(|s| !s.is_empty());
        let st = acct.state();
        let page = st.txns.page(&lq, |t| {
            ty.as_deref().is_none_or(|x| t.ty == x)
                && status.as_deref().is_none_or(|x| t.status == x)
                && source.is_none_or(|x| &t.source == x)
        })?;
        Ok(list("/api/v1/balanceTransactions", page.into_iter().map(|t| serde_json::to_value(t).unwrap()).collect()))
    })())
}

// ---------------------------------------------------------------- payouts

async fn create_payout(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, headers: HeaderMap, body: Bytes) -> Response {
    idempotent(&acct, &headers, "/api/v1/payouts", &body, || {
        let p = parse_body(&headers, &body)?;
        ops::create_payout(&app, &acct, &p)
    })
    .await
}

async fn get_payout(KeyAuth(acct): KeyAuth, Path(id): Path<String>) -> Response {
    let st = acct.state();
    respond(st.payouts.get(&id).map(|p| serde_json::to_value(p).unwrap()).ok_or_else(|| ApiError::not_found("payout", &id)))
}

async fn list_payouts(KeyAuth(acct): KeyAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    respond((|| {
        let lq = ListQuery::parse(&q)?;
        let status = query_enum(&q, "status", &["pending", "inTransit", "paid", "cancelled", "failed"])?;
        let dest = q.get("destination").filter(|s| !s.is_empty());
        let st = acct.state();
        let page = st.payouts.page(&lq, |p| {
            status.as_deref().is_none_or(|x| p.status == x)
                && dest.is_none_or(|d| {
                    ["type", "accountNum", "addr"].iter().any(|f| p.destination[f].as_str() == Some(d.as_str()))
                })
        })?;
        Ok(list("/api/v1/payouts", page.into_iter().map(|p| serde_json::to_value(p).unwrap()).collect()))
    })())
}

// ---------------------------------------------------------------- markets

async fn ticker(KeyAuth(_acct): KeyAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    respond((|| {
        let symbol = q.get("symbol").filter(|s| !s.is_empty()).ok_or_else(|| ApiError::missing("symbol"))?;
        let side = query_enum(&q, "side", &["ask", "bid"])?.ok_or_else(|| ApiError::missing("side"))?;
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
        let mut v = json!({ "symbol": symbol, "timestamp": now_ms() });
        v[side.as_str()] = num(price);
        Ok(v)
    })())
}

// ---------------------------------------------------------------- events

async fn list_events(KeyAuth(acct): KeyAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    respond((|| {
        let lq = ListQuery::parse(&q)?;
        let ty = q.get("type").filter(|s| !s.is_empty());
        let st = acct.state();
        let page = st.events.page(&lq, |e| ty.is_none_or(|t| e.ty == t))?;
        Ok(list("/api/v1/events", page.into_iter().map(|e| e.with_delivery()).collect()))
    })())
}

async fn get_event(KeyAuth(acct): KeyAuth, Path(id): Path<String>) -> Response {
    let st = acct.state();
    respond(st.events.get(&id).map(|e| e.with_delivery()).ok_or_else(|| ApiError::not_found("event", &id)))
}

/// Sends one `test` event to `cbUrl` (or `--webhook-url`) now, without retries, and
/// answers with the event as sent and the outcome.
async fn events_test(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q);
    let url = match q.get("cbUrl").filter(|s| !s.is_empty()).cloned().or_else(|| app.cfg.webhook_url.clone()) {
        Some(u) => u,
        None => return ApiError::missing("cbUrl").into_response(),
    };
    if let Err(e) = check_url("cbUrl", &url) {
        return e.into_response();
    }
    if let Err(why) = check_deliverable(&app, &url) {
        return ApiError::invalid("cbUrl", format!("Cannot deliver to this cbUrl: {why}.")).into_response();
    }
    let (id, body) = {
        let mut st = acct.state();
        let ms = st.tick();
        let ev = Event {
            id: new_id("evt_", 24),
            ty: "test",
            object: "event",
            created_at: format_millis(ms),
            pending_webhooks: 0,
            livemode: false,
            data: json!({
                "object": "test",
                "message": "A test webhook from the QbitPay sandbox.",
                "createdAt": format_millis(ms),
            }),
            delivery: Delivery { url: Some(url.clone()), status: "pending", attempts: 0, last_status_code: None, last_error: None },
        };
        let body = serde_json::to_vec(&ev).unwrap();
        let id = ev.id.clone();
        st.events.push(ev);
        (id, body)
    };
    let outcome = post_signed(&app, &acct.key, &url, body).await;
    let mut st = acct.state();
    let Some(ev) = st.events.get_mut(&id) else { return ApiError::not_found("event", &id).into_response() };
    ev.delivery.attempts = 1;
    match &outcome {
        Ok(code) => {
            ev.delivery.last_status_code = Some(*code);
            ev.delivery.status = if (200..300).contains(code) { "succeeded" } else { "failed" };
            eprintln!("webhook {id} test -> {} {code} (test, no retries)", redact(&url));
        }
        Err(e) => {
            ev.delivery.last_error = Some(e.clone());
            ev.delivery.status = "failed";
            eprintln!("webhook {id} test -> {} failed: {e} (test, no retries)", redact(&url));
        }
    }
    respond(Ok(ev.with_delivery()))
}

// ---------------------------------------------------------------- sandbox helpers

/// `POST /sandbox/charges/{id}/{confirm|expire|fail|dispute|resolve}` (API key).
async fn sandbox_charge(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, Path((id, action)): Path<(String, String)>) -> Response {
    respond(match action.as_str() {
        "confirm" => ops::confirm_charge(&app, &acct, &id, true),
        "expire" => ops::expire_charge(&app, &acct, &id),
        "fail" => ops::fail_charge(&app, &acct, &id),
        "dispute" => ops::dispute_charge(&app, &acct, &id, false),
        "resolve" => ops::dispute_charge(&app, &acct, &id, true),
        _ => Err(ApiError::invalid("action", "action must be one of confirm, expire, fail, dispute, resolve.")),
    })
}

/// `POST /sandbox/payouts/{id}/{transit|pay|fail|cancel}` (API key).
async fn sandbox_payout(State(app): State<Arc<App>>, KeyAuth(acct): KeyAuth, Path((id, action)): Path<(String, String)>) -> Response {
    let status = acct.state().payouts.get(&id).map(|p| p.status);
    let Some(status) = status else { return ApiError::not_found("payout", &id).into_response() };
    respond(match action.as_str() {
        "transit" => ops::advance_payout(&app, &acct, &id, "pending", "inTransit", "payout.inTransition"),
        "pay" => ops::advance_payout(&app, &acct, &id, "inTransit", "paid", "payout.paid"),
        "fail" => ops::advance_payout(&app, &acct, &id, if status == "pending" { "pending" } else { "inTransit" }, "failed", "payout.failed"),
        "cancel" => ops::advance_payout(&app, &acct, &id, "pending", "cancelled", "payout.cancelled"),
        _ => Err(ApiError::invalid("action", "action must be one of transit, pay, fail, cancel.")),
    })
}

pub async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::route_not_found(method.as_str(), uri.path()).into_response()
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::method_not_allowed(method.as_str(), uri.path()).into_response()
}
