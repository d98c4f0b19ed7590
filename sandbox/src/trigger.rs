//! `POST /_sandbox/trigger`: any event type of the API, produced by the state changes that
//! make it in the API, the schedule and the dashboard (a charge is created, paid, confirmed,
//! disputed...; a payout is created and moved on), in one transaction: either every step
//! and its events are stored, or nothing is. The events' deliveries go out as one batch.

use serde_json::{json, Value};

use crate::app::{new_id, Account, App};
use crate::db::WriteTx;
use crate::error::{ApiError, ApiResult};
use crate::model::{round_to, FEE_PAY, FEE_PAYOUT};
use crate::ops::{self, TestOutcome};
use crate::params::Params;
use crate::store;
use crate::webhooks::{check_deliverable, refuse_self};
use qbitpay::spec::resources::{charges, payouts};
use qbitpay::spec::schema::{validate, Field, Ty};
use qbitpay::spec::{is_event_type, CHARGE_AMOUNT, CHARGE_EVENT_TYPES, PAYOUT_AMOUNT, PAYOUT_EVENT_TYPES};

/// The amount of a charge or payout the trigger creates when none is given.
const DEFAULT_AMOUNT: f64 = 10.0;
/// A trigger's parameters, checked by the validator of the API's own (the amount's bounds are
/// those of the charge or payout it creates, checked when it is created).
const PARAMS: &[Field] = &[
    Field::req("type", Ty::Str),
    Field::opt("charge", Ty::Id),
    Field::opt("payout", Ty::Id),
    Field::opt("cbUrl", Ty::Url),
    Field::opt("amount", Ty::Amount(&ANY_AMOUNT)),
];
const ANY_AMOUNT: qbitpay::spec::Bounds = qbitpay::spec::Bounds { min: f64::MIN, max: f64::MAX };

pub struct Trigger {
    ty: String,
    /// An existing charge or payout to move on (else a new one is made).
    existing: Option<String>,
    cb_url: Option<String>,
    amount: Option<f64>,
}

fn is_charge_event(ty: &str) -> bool {
    CHARGE_EVENT_TYPES.contains(&ty)
}

/// The parameters, checked before anything changes.
pub fn parse(app: &App, p: &Params) -> ApiResult<Trigger> {
    let p = validate(&Value::Object(p.clone()), PARAMS, "")?;
    let text = |name: &str| p.get(name).and_then(Value::as_str).map(str::to_owned);
    let ty = text("type").unwrap_or_default();
    if !is_event_type(&ty) {
        return Err(ApiError::invalid(
            "type",
            format!(
                "Unknown event type '{ty}': one of {}, {}.",
                CHARGE_EVENT_TYPES.join(", "),
                PAYOUT_EVENT_TYPES.join(", ")
            ),
        ));
    }
    let (charge, payout) = (text("charge"), text("payout"));
    let existing = if is_charge_event(&ty) {
        if payout.is_some() {
            return Err(ApiError::invalid(
                "payout",
                format!("{ty} is a charge event: name a charge, not a payout."),
            ));
        }
        charge
    } else {
        if charge.is_some() {
            return Err(ApiError::invalid(
                "charge",
                format!("{ty} is a payout event: name a payout, not a charge."),
            ));
        }
        if ty == "payout.pending" && payout.is_some() {
            return Err(ApiError::invalid(
                "payout",
                "payout.pending is sent when a payout is created: leave out payout to create one.",
            ));
        }
        payout
    };
    let cb_url = text("cbUrl");
    let amount = p.get("amount").and_then(Value::as_f64);
    if let Some(id) = &existing {
        let given = if cb_url.is_some() { Some("cbUrl") } else { amount.map(|_| "amount") };
        if let Some(param) = given {
            return Err(ApiError::invalid(
                param,
                format!("{id} exists: its events go to its own cbUrl and its amount is its own; leave out {param}."),
            ));
        }
    }
    if let Some(u) = &cb_url {
        refuse_self(app, "cbUrl", u)?;
        if let Err(why) = check_deliverable(app, u) {
            return Err(ApiError::invalid(
                "cbUrl",
                format!("The sandbox would not deliver to this cbUrl: {why}."),
            ));
        }
    }
    Ok(Trigger { ty, existing, cb_url, amount })
}

/// Runs the trigger in the write transaction `w`: `{object: "trigger", type, charge | payout,
/// events}` (the events it made, oldest first, each with its delivery state).
pub fn run(app: &App, acct: &Account, w: &WriteTx, t: &Trigger) -> ApiResult<Value> {
    let before = store::last_event_seq(w)?;
    let (kind, object) = if is_charge_event(&t.ty) {
        ("charge", run_charge(app, acct, w, t)?)
    } else {
        ("payout", run_payout(app, acct, w, t)?)
    };
    let events: Vec<Value> =
        store::events_after(w, &acct.id, before)?.iter().map(|e| e.with_delivery()).collect();
    debug_assert!(events.last().is_some_and(|e| e["type"] == t.ty.as_str()));
    Ok(json!({ "object": "trigger", "type": t.ty, kind: object, "events": events }))
}

/// Where the events of a new object go: `cbUrl`, else `--webhook-url`; with neither they are
/// made and not delivered (delivery state `none`).
fn url(app: &App, t: &Trigger) -> Option<String> {
    t.cb_url.clone().or_else(|| app.cfg.webhook_url.clone())
}

/// The hand controls (`ops::charge_action`) that take a charge in `status` to an event of `ty`.
fn charge_steps(ty: &str, status: &str) -> Option<&'static [&'static str]> {
    Some(match (ty, status) {
        ("charge.succeeded", "pending") => &["pay", "confirm"],
        ("charge.succeeded", "buyerPaid") => &["confirm"],
        ("charge.expired", "pending") => &["expire"],
        ("charge.failed", "pending" | "buyerPaid") => &["fail"],
        ("charge.dispute.created", "pending") => &["pay", "confirm", "dispute"],
        ("charge.dispute.created", "buyerPaid") => &["confirm", "dispute"],
        ("charge.dispute.created", "sellerConfirmed" | "closed") => &["dispute"],
        ("charge.dispute.closed", "pending") => &["pay", "confirm", "dispute", "resolve"],
        ("charge.dispute.closed", "buyerPaid") => &["confirm", "dispute", "resolve"],
        ("charge.dispute.closed", "sellerConfirmed" | "closed") => &["dispute", "resolve"],
        ("charge.dispute.closed", "dispute") => &["resolve"],
        _ => return None,
    })
}

fn needs(ty: &str) -> &'static str {
    match ty {
        "charge.succeeded" | "charge.failed" => "a pending or buyerPaid charge",
        "charge.expired" => "a pending charge",
        "charge.dispute.created" => "a charge that is not cancelled or disputed",
        "charge.dispute.closed" => "a charge that is not cancelled",
        "payout.inTransition" | "payout.cancelled" => "a pending payout",
        "payout.paid" | "payout.failed" => "a pending or inTransit payout",
        _ => "another object",
    }
}

fn wrong_state(what: &str, id: &str, status: &str, ty: &str) -> ApiError {
    ApiError::failed(
        format!("The {what} {id} is {status}: {ty} needs {}.", needs(ty)),
        json!({ "code": "invalid_state", "status": status }),
    )
}

/// A new charge of this account: USD `amount`, events to `cb_url` (none: an empty `cbUrl`,
/// its events made and not delivered), the payer sent back to the dashboard.
fn new_charge(
    app: &App,
    acct: &Account,
    w: &WriteTx,
    amount: f64,
    cb_url: Option<&str>,
) -> ApiResult<String> {
    let mut p = Params::new();
    p.insert("amount".into(), json!(amount));
    p.insert("currency".into(), json!("USD"));
    p.insert("externalOrderId".into(), json!(new_id("trigger_", 16)));
    // The API requires a cbUrl: a name that never resolves stands in until it is emptied below.
    p.insert("cbUrl".into(), json!(cb_url.unwrap_or("http://no-webhook-url.invalid/")));
    p.insert("redirectUrl".into(), json!(format!("{}/", app.base_url)));
    let p = charges::RESOURCE.check_params(&charges::create, &Value::Object(p))?;
    let v = ops::create_charge(app, acct, w, &p)?;
    let id = v["id"].as_str().unwrap_or_default().to_owned();
    if cb_url.is_none() {
        let mut ch = store::charge(w, &acct.id, &id)?.ok_or_else(|| ApiError::not_found("charge", &id))?;
        ch.cb_url = String::new();
        store::save_charge(w, &ch)?;
    }
    Ok(id)
}

fn run_charge(app: &App, acct: &Account, w: &WriteTx, t: &Trigger) -> ApiResult<Value> {
    let (id, status, amount) = match &t.existing {
        Some(id) => {
            let ch = store::charge(w, &acct.id, id)?.ok_or_else(|| ApiError::not_found("charge", id))?;
            (ch.id, ch.status, ch.amount)
        }
        None => {
            let amount = t.amount.unwrap_or(DEFAULT_AMOUNT);
            let steps = charge_steps(&t.ty, "pending").unwrap_or_default();
            if let Some(o) = TestOutcome::of(amount).filter(|_| steps.contains(&"pay")) {
                return Err(ApiError::invalid(
                    "amount",
                    format!(
                        "amount {amount} is a test amount, {}: {} needs another amount.",
                        o.describe(),
                        t.ty
                    ),
                ));
            }
            (new_charge(app, acct, w, amount, url(app, t).as_deref())?, "pending".to_owned(), amount)
        }
    };
    let steps = charge_steps(&t.ty, &status).ok_or_else(|| wrong_state("charge", &id, &status, &t.ty))?;
    if let Some(o) = TestOutcome::of(amount).filter(|_| steps.contains(&"pay")) {
        return Err(ApiError::failed(
            format!("The charge {id} has a test amount, {}: it cannot give {}.", o.describe(), t.ty),
            json!({ "code": "test_amount", "status": status }),
        ));
    }
    let mut v = Value::Null;
    for step in steps {
        v = ops::charge_action(app, acct, w, &id, step)?;
    }
    Ok(v)
}

/// The hand controls (`ops::payout_action`) that take a payout in `status` to an event of `ty`.
fn payout_steps(ty: &str, status: &str) -> Option<&'static [&'static str]> {
    Some(match (ty, status) {
        ("payout.pending", "pending") => &[],
        ("payout.inTransition", "pending") => &["transit"],
        ("payout.paid", "pending") => &["transit", "pay"],
        ("payout.paid", "inTransit") => &["pay"],
        ("payout.failed", "pending" | "inTransit") => &["fail"],
        ("payout.cancelled", "pending") => &["cancel"],
        _ => return None,
    })
}

/// A new payout of `amount` USDT to a wallet. When the balance is short, a charge of what is
/// missing succeeds first (its `charge.succeeded` goes to the same URL): a payout needs funds.
fn new_payout(
    app: &App,
    acct: &Account,
    w: &WriteTx,
    amount: f64,
    cb_url: Option<&str>,
) -> ApiResult<String> {
    let needed = round_to(amount + round_to(amount * FEE_PAYOUT, 2), 8);
    let (available, _) = ops::balance(w, acct)?;
    // Beyond the payout maximum, the payout's own check below says so (no charge first).
    if amount <= PAYOUT_AMOUNT.max && available + 1e-9 < needed {
        // The charge's fee is taken from it: ask for enough that its net covers the gap.
        let mut charge = round_to(((needed - available) / (1.0 - FEE_PAY) * 100.0).ceil() / 100.0 + 0.01, 2);
        if TestOutcome::of(charge).is_some() {
            charge = round_to(charge + 0.01, 2);
        }
        if charge > CHARGE_AMOUNT.max {
            return Err(ApiError::invalid(
                "amount",
                format!(
                    "amount {amount}: the trigger funds a payout with one charge (at most {} USD), and this payout \
                     needs {charge} more than the balance holds: ask for less, or add to the balance first.",
                    CHARGE_AMOUNT.max
                ),
            ));
        }
        let id = new_charge(app, acct, w, charge, cb_url)?;
        ops::charge_action(app, acct, w, &id, "pay")?;
        ops::charge_action(app, acct, w, &id, "confirm")?;
    }
    let mut p = Params::new();
    p.insert("amount".into(), json!(amount));
    p.insert("currency".into(), json!("USDT"));
    p.insert(
        "destination".into(),
        json!({ "type": "wallet", "payerName": "Trigger", "addr": "sandbox-trigger-wallet" }),
    );
    p.insert("description".into(), json!("Made by the sandbox's trigger"));
    p.insert("externalOrderId".into(), json!(new_id("trigger_", 16)));
    let p = payouts::RESOURCE.check_params(&payouts::create, &Value::Object(p))?;
    let v = ops::create_payout(app, acct, w, &p, cb_url.map(str::to_owned))?;
    Ok(v["id"].as_str().unwrap_or_default().to_owned())
}

fn run_payout(app: &App, acct: &Account, w: &WriteTx, t: &Trigger) -> ApiResult<Value> {
    let (id, status) = match &t.existing {
        Some(id) => {
            let po = store::payout(w, &acct.id, id)?.ok_or_else(|| ApiError::not_found("payout", id))?;
            (po.id, po.status)
        }
        None => {
            let id = new_payout(app, acct, w, t.amount.unwrap_or(DEFAULT_AMOUNT), url(app, t).as_deref())?;
            (id, "pending".to_owned())
        }
    };
    let steps = payout_steps(&t.ty, &status).ok_or_else(|| wrong_state("payout", &id, &status, &t.ty))?;
    for step in steps {
        ops::payout_action(app, acct, w, &id, step)?;
    }
    let po = store::payout(w, &acct.id, &id)?.ok_or_else(|| ApiError::not_found("payout", &id))?;
    Ok(serde_json::to_value(po).expect("payout json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_has_a_path_from_a_new_object() {
        for ty in CHARGE_EVENT_TYPES {
            let steps = charge_steps(ty, "pending").unwrap_or_else(|| panic!("{ty}"));
            assert!(!steps.is_empty(), "{ty}");
        }
        for ty in PAYOUT_EVENT_TYPES {
            assert!(payout_steps(ty, "pending").is_some(), "{ty}");
        }
    }
}
