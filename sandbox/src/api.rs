//! `/api/v1`, made from the API's table (`qbitpay::spec::resources`, the one the client is
//! made from): a route per operation (its path, method, and `/{id}` when it takes one), the
//! credential it needs, its parameters read and checked by the client's own validator
//! (`params.rs`), then its state logic, below: one entry per operation of the table, or
//! the sandbox does not compile. The sandbox's own additions (listing and reading the
//! events it sent) are declared with the same types and served the same way. Plus the
//! sandbox-only helpers under `/sandbox/*` (API key).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodFilter, MethodRouter};
use axum::Router;
use qbitpay::spec::resources;
use qbitpay::spec::schema::{self, CallShape, Field, Op, Resource, Ty};
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::app::{new_id, Account, App};
use crate::auth::{issue_token, ChargeAuth, KeyAuth};
use crate::db::{SqlResult, WriteTx};
use crate::error::{json_response, respond, ApiError, ApiResult};
use crate::model::*;
use crate::ops;
use crate::params::{self, list_query, opt_text, text, Params};
use crate::store::{self, IDEM_TTL_MS};
use crate::webhooks::{self, check_deliverable};
use qbitpay::webhook::timestamp::format_millis;

/// A call as its state logic gets it: the account, the id in the path (`""` if none) and
/// the parameters, checked.
pub struct Call {
    app: Arc<App>,
    acct: Arc<Account>,
    res: &'static Resource,
    id: String,
    params: Params,
}

type Sending = Pin<Box<dyn Future<Output = ApiResult> + Send>>;

/// What answers an operation, by what it does with the account's state.
#[derive(Clone, Copy)]
enum Logic {
    /// Reads it; answers JSON text (stored objects are JSON already).
    Read(fn(&Call, &Connection) -> ApiResult<String>),
    /// Changes it, in one transaction; a POST's runs once per `Idempotency-Key`.
    Write(fn(&Call, &WriteTx) -> ApiResult),
    /// Takes time (sends a webhook), answering when done.
    Send(fn(Call) -> Sending),
}

/// Every operation of the API's table with the state logic that answers it.
macro_rules! with_state_logic {
    ($(
        $(#[doc = $doc:tt])*
        $class:ident $family:ident {
            $( $(#[doc = $op_doc:tt])* $op:ident ($($args:tt)*) -> $ret:tt = $declared:expr; )*
        }
    )*) => {
        const API: &[(&Resource, &Op, Logic)] =
            &[$($( (&resources::$family::RESOURCE, &resources::$family::$op, logic::$family::$op), )*)*];
    };
}
qbitpay::families!(with_state_logic);

/// The sandbox's own operations: the events it sent, each with its delivery (debugging).
const EVENTS: Resource = Resource {
    name: "events",
    path: resources::events::RESOURCE.path,
    ops: &[
        Op::list(&[Field::opt("type", Ty::Str)]).named("list", CallShape::List),
        Op::retrieve().named("retrieve", CallShape::Id),
    ],
};
const EXTENSIONS: &[(&Resource, &Op, Logic)] =
    &[(&EVENTS, &EVENTS.ops[0], Logic::Read(list_events)), (&EVENTS, &EVENTS.ops[1], Logic::Read(get_event))];

pub fn routes() -> Router<Arc<App>> {
    let mut paths: BTreeMap<String, MethodRouter<Arc<App>>> = BTreeMap::new();
    for &(res, op, logic) in API.iter().chain(EXTENSIONS) {
        let id = if op.shape.has_id() { "/{id}" } else { "" };
        let path = format!("{}{id}{}", res.path, op.suffix);
        let method = match op.method {
            schema::Method::Get => MethodFilter::GET,
            schema::Method::Post => MethodFilter::POST,
            schema::Method::Put => MethodFilter::PUT,
        };
        let handler = move |State(app): State<Arc<App>>, parts: Parts, body: Bytes| {
            operate(app, res, op, logic, parts, body)
        };
        let routed = paths.remove(&path).unwrap_or_default();
        paths.insert(path, routed.on(method, handler));
    }
    paths
        .into_iter()
        .fold(Router::new(), |r, (path, methods)| r.route(&path, methods))
        .route("/sandbox/charges/{id}/{action}", post(sandbox_charge))
        .route("/sandbox/payouts/{id}/{action}", post(sandbox_payout))
}

/// One call: who makes it (401, 403, 429), its id, its parameters (400), its state logic.
async fn operate(
    app: Arc<App>,
    res: &'static Resource,
    op: &'static Op,
    logic: Logic,
    mut parts: Parts,
    body: Bytes,
) -> Response {
    let acct = if op.access_token {
        ChargeAuth::from_request_parts(&mut parts, &app).await.map(|ChargeAuth(a)| a)
    } else {
        KeyAuth::from_request_parts(&mut parts, &app).await.map(|KeyAuth(a)| a)
    };
    let acct = match acct {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let id = match op.shape.has_id() {
        true => match Path::<String>::from_request_parts(&mut parts, &app).await {
            Ok(Path(id)) => id,
            Err(e) => return e.into_response(),
        },
        false => String::new(),
    };
    let params = match params::checked(res, op, &parts.headers, parts.uri.query(), &body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let call = Call { app: app.clone(), acct: acct.clone(), res, id, params };
    match logic {
        Logic::Read(f) => match app.read(|c| f(&call, c)) {
            Ok(text) => json_response(StatusCode::OK, text.into_bytes()),
            Err(e) => e.into_response(),
        },
        Logic::Write(f) if op.method == schema::Method::Post => {
            let endpoint = format!("{} {}{}", op.method.as_str(), res.path, op.suffix);
            idempotent(&app, &acct, &parts.headers, &endpoint, &call.params, |w| f(&call, w))
        }
        Logic::Write(f) => respond(app.write(|w| f(&call, w))),
        Logic::Send(f) => respond(f(call).await),
    }
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
/// Stripe defines it: the key is bound to the endpoint and its checked parameters (in any
/// order or encoding); a result is stored only once the endpoint ran (a success or a 402),
/// and a replay answers it again with `Idempotent-Replayed: true`. A refused request (bad
/// parameters, auth, rate limit, injected fault) stores nothing, so the corrected request
/// may use the same key. The record commits in the same transaction as the object it made.
fn idempotent(
    app: &App,
    acct: &Account,
    headers: &HeaderMap,
    endpoint: &str,
    params: &Params,
    f: impl FnOnce(&WriteTx) -> ApiResult,
) -> Response {
    let Some(key) = headers.get("idempotency-key") else { return respond(app.write(f)) };
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
    let fingerprint = fingerprint(endpoint, params);
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
        let (status, bytes) = match f(w) {
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

// ---------------------------------------------------------------- the state logic

fn sql(s: &str) -> Sql {
    Sql::Text(s.to_owned())
}

fn json_text(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("object json")
}

/// One page of a family's list, newest first, filtered by `conds` ("col = ?" and a value).
fn page(c: &Call, db: &Connection, table: &str, conds: &[(&str, Sql)]) -> ApiResult<String> {
    let page = store::page(db, table, &c.acct.id, &list_query(&c.params), conds, "body", store::body)?;
    Ok(store::list_json(c.res.path, &page))
}

/// The state logic of each family of the API's table, a constant per operation.
#[allow(non_snake_case, non_upper_case_globals)]
mod logic {
    use super::*;

    pub mod charges {
        use super::*;
        pub const create: Logic = Logic::Write(|c, w| ops::create_charge(&c.app, &c.acct, w, &c.params));
        pub const retrieve: Logic = Logic::Read(|c, db| ops::get_charge(db, &c.acct, &c.id));
        // The table allows one update, `{"status": "buyerPaid"}`.
        pub const update: Logic = Logic::Write(|c, w| ops::pay_charge(&c.app, &c.acct, w, &c.id));
        pub const list: Logic = Logic::Read(|c, db| {
            let order = opt_text(&c.params, "externalOrderId").map(|e| ("external_order_id = ?", sql(e)));
            page(c, db, "charges", &Vec::from_iter(order))
        });
    }

    pub mod accessToken {
        use super::*;
        pub const create: Logic = Logic::Read(|c, _| {
            let (token, _exp) = issue_token(&c.app, &c.acct);
            Ok(json_text(&json!({ "accessToken": token })))
        });
    }

    pub mod accounts {
        use super::*;
        pub const retrieve: Logic = Logic::Read(|_, _| Ok(json_text(&ops::account_object())));
    }

    pub mod balances {
        use super::*;
        pub const retrieve: Logic = Logic::Read(|c, db| Ok(json_text(&ops::balance_object(db, &c.acct)?)));
    }

    pub mod balanceTransactions {
        use super::*;
        pub const retrieve: Logic = Logic::Read(|c, db| {
            let txn = store::txn(db, &c.acct.id, &c.id)?;
            txn.map(|t| json_text(&t)).ok_or_else(|| ApiError::not_found("balanceTransaction", &c.id))
        });
        pub const list: Logic = Logic::Read(|c, db| {
            let conds: Vec<(&str, Sql)> =
                [("type = ?", "type"), ("status = ?", "status"), ("source = ?", "source")]
                    .into_iter()
                    .filter_map(|(cond, name)| opt_text(&c.params, name).map(|v| (cond, sql(v))))
                    .collect();
            page(c, db, "txns", &conds)
        });
    }

    pub mod payouts {
        use super::*;
        pub const create: Logic =
            Logic::Write(|c, w| ops::create_payout(&c.app, &c.acct, w, &c.params, None));
        pub const retrieve: Logic = Logic::Read(|c, db| {
            let payout = store::payout(db, &c.acct.id, &c.id)?;
            payout.map(|p| json_text(&p)).ok_or_else(|| ApiError::not_found("payout", &c.id))
        });
        pub const list: Logic = Logic::Read(|c, db| {
            let mut conds = Vec::new();
            if let Some(s) = opt_text(&c.params, "status") {
                conds.push(("status = ?", sql(s)));
            }
            if let Some(d) = opt_text(&c.params, "destination") {
                conds.push((
                    "? IN (json_extract(body, '$.destination.type'), json_extract(body, '$.destination.accountNum'), json_extract(body, '$.destination.addr'))",
                    sql(d),
                ));
            }
            page(c, db, "payouts", &conds)
        });
    }

    pub mod markets {
        use super::*;
        /// A fixed price of the market `symbol` (checked: `BASE/QUOTE`), the side asked for.
        pub const ticker: Logic = Logic::Read(|c, _| {
            let (symbol, side) = (text(&c.params, "symbol"), text(&c.params, "side"));
            let (base, quote) = symbol.split_once('/').unwrap_or_default();
            let price = if side == "ask" { ask_price(base, quote) } else { bid_price(base, quote) };
            let mut v = json!({ "symbol": symbol, "timestamp": c.app.now() });
            v[side] = num(price);
            Ok(json_text(&v))
        });
    }

    pub mod events {
        use super::*;
        pub const test: Logic = Logic::Send(|c| Box::pin(events_test(c)));
    }
}

fn list_events(c: &Call, db: &Connection) -> ApiResult<String> {
    let conds: Vec<(&str, Sql)> =
        opt_text(&c.params, "type").map(|t| ("type = ?", sql(t))).into_iter().collect();
    let page = store::page(
        db,
        "events",
        &c.acct.id,
        &list_query(&c.params),
        &conds,
        store::EVENT_COLS,
        store::event_row,
    )?;
    Ok(json_text(
        &json!({ "object": "list", "url": c.res.path, "data": page.iter().map(Event::with_delivery).collect::<Vec<_>>() }),
    ))
}

fn get_event(c: &Call, db: &Connection) -> ApiResult<String> {
    let ev = store::event(db, &c.acct.id, &c.id)?;
    ev.map(|e| json_text(&e.with_delivery())).ok_or_else(|| ApiError::not_found("event", &c.id))
}

/// Sends one `test` event to `cbUrl` (or `--webhook-url`) now, without retries, and
/// answers with the event as sent and the outcome.
async fn events_test(c: Call) -> ApiResult {
    let url = match opt_text(&c.params, "cbUrl").map(str::to_owned).or_else(|| c.app.cfg.webhook_url.clone())
    {
        Some(u) => u,
        None => return Err(ApiError::invalid(
            "cbUrl",
            "Missing required parameter: cbUrl (the sandbox has no --webhook-url to send the test event to)",
        )),
    };
    if let Err(why) = check_deliverable(&c.app, &url) {
        return Err(ApiError::invalid("cbUrl", format!("Cannot deliver to this cbUrl: {why}.")));
    }
    let (app, acct) = (&c.app, &c.acct);
    let id = app.write(|w| {
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
    })?;
    Ok(webhooks::attempt(app, acct, &id, None, None, None).await?.event.with_delivery())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation of the API's table has a route, and nothing else is under `/api/v1`
    /// but the sandbox's declared additions.
    #[test]
    fn the_routes_are_the_table() {
        let table: Vec<(&str, &str)> =
            resources::RESOURCES.iter().flat_map(|r| r.ops.iter().map(move |o| (r.name, o.name))).collect();
        let routed: Vec<(&str, &str)> = API.iter().map(|(r, o, _)| (r.name, o.name)).collect();
        assert_eq!(routed, table);
        let extensions: Vec<(&str, &str)> = EXTENSIONS.iter().map(|(r, o, _)| (r.name, o.name)).collect();
        assert_eq!(extensions, [("events", "list"), ("events", "retrieve")]);
        let _ = routes();
    }
}
