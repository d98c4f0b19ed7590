//! What the API does to an account's state: charges, their lifecycle timers, the balance
//! and its transactions, payouts and theirs.

use rusqlite::Connection;
use serde_json::{json, Map, Value};

use crate::app::{new_id, Account, App};
use crate::db::WriteTx;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::params::{number, opt_text, text, Params};
use crate::store::{self, schedule, CLOSE, CONFIRM, EXPIRE, PAY, TRANSIT};
use crate::webhooks::{emit, refuse_self};
use qbitpay::webhook::timestamp::format_millis;

fn ms_of(secs: f64) -> i64 {
    (secs.max(0.0) * 1000.0).round() as i64
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("object json")
}

// ---------------------------------------------------------------- charges

/// `POST /api/v1/charges`, its parameters checked by the API's table (`params.rs`).
pub fn create_charge(app: &App, acct: &Account, w: &WriteTx, p: &Params) -> ApiResult {
    let amount = number(p, "amount");
    let currency = text(p, "currency").to_owned();
    let external_order_id = text(p, "externalOrderId").to_owned();
    let cb_url = text(p, "cbUrl").to_owned();
    refuse_self(app, "cbUrl", &cb_url)?;
    let redirect_url = text(p, "redirectUrl").to_owned();
    let base = opt_text(p, "baseCurrency").unwrap_or(DEFAULT_BASE_CURRENCY).to_owned();
    let quote = opt_text(p, "quoteCurrency").unwrap_or(DEFAULT_QUOTE_CURRENCY).to_owned();
    let ptype = opt_text(p, "paymentType").unwrap_or(payment_types(&quote)[0]).to_owned();
    let payer_name = opt_text(p, "payerName").map(str::to_owned);

    let id = new_id("ch_", 24);
    let price = ask_price(&base, &quote);
    let base_amount = round_to(amount / base_usd(&base), 8);
    let ms = app.clock.tick();
    let expires_ms = ms + ms_of(app.cfg.charge_ttl);
    let charge = Charge {
        id: id.clone(),
        object: "charge".into(),
        created_at: format_millis(ms),
        paid: false,
        status: "pending".into(),
        amount,
        currency,
        price,
        fee: round_to(amount * FEE_PAY, 2),
        base_amount,
        base_currency: base,
        total_cost: round_to(base_amount * price, 2),
        quote_currency: quote.clone(),
        external_order_id,
        payment_page_url: format!("{}/pay/{id}?lang=en", app.base_url),
        cb_url,
        redirect_url,
        payment_method: charge_payment_method(&ptype, &quote, &app.base_url, &id),
        payer_name,
        expires_at: format_millis(expires_ms),
        expires_ms,
    };
    store::insert_charge(w, &acct.id, &charge)?;
    schedule(w, &acct.id, EXPIRE, &id, 0, expires_ms)?;
    Ok(to_value(&charge))
}

pub fn get_charge(c: &Connection, acct: &Account, id: &str) -> ApiResult<String> {
    store::charge_body(c, &acct.id, id)?.ok_or_else(|| ApiError::not_found("charge", id))
}

fn load_charge(c: &Connection, acct: &Account, id: &str) -> ApiResult<Charge> {
    store::charge(c, &acct.id, id)?.ok_or_else(|| ApiError::not_found("charge", id))
}

fn wrong_state(what: &str, id: &str, status: &str, wanted: &str) -> ApiError {
    ApiError::failed(
        format!("The {what} {id} is {status}: {wanted}."),
        json!({ "code": "invalid_state", "status": status }),
    )
}

/// Test amounts, like other sandboxes' test card numbers: the cents of a charge's amount
/// choose what happens when the buyer pays.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TestOutcome {
    /// `.02`: declined: cancelled, `charge.failed`.
    Declined,
    /// `.05`: confirmed (`charge.succeeded`), then disputed (`charge.dispute.created`).
    Disputed,
}

impl TestOutcome {
    /// The outcome of an amount in whole cents (`10.02`); none for any other (`10.021`).
    pub fn of(amount: f64) -> Option<TestOutcome> {
        let cents = (amount * 100.0).round();
        if (cents / 100.0 - amount).abs() > 4.0 * f64::EPSILON * amount.abs() {
            return None;
        }
        match (cents as i64).rem_euclid(100) {
            2 => Some(TestOutcome::Declined),
            5 => Some(TestOutcome::Disputed),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            TestOutcome::Declined => "declined when the buyer pays (cents .02: charge.failed)",
            TestOutcome::Disputed => {
                "paid, then disputed (cents .05: charge.succeeded, then charge.dispute.created)"
            }
        }
    }
}

/// pending → buyerPaid (what the payer reports); with `--auto-confirm-after`, confirmed
/// later. A test amount goes on at once: `.02` declined, `.05` confirmed and disputed.
pub fn pay_charge(app: &App, acct: &Account, w: &WriteTx, id: &str) -> ApiResult {
    let mut ch = load_charge(w, acct, id)?;
    if ch.status == "pending" && app.now() >= ch.expires_ms {
        // Past expiresAt but the job has not run yet: expire it now.
        let _ = expire_charge(app, acct, w, id);
        ch = load_charge(w, acct, id)?;
    }
    match ch.status.as_str() {
        "pending" => {
            ch.status = "buyerPaid".into();
            store::save_charge(w, &ch)?;
            match TestOutcome::of(ch.amount) {
                Some(TestOutcome::Declined) => fail_charge(app, acct, w, id),
                Some(TestOutcome::Disputed) => {
                    confirm_charge(app, acct, w, id, false)?;
                    dispute_charge(app, acct, w, id, false)
                }
                None => {
                    if let Some(after) = app.cfg.auto_confirm_after {
                        schedule(w, &acct.id, CONFIRM, id, 0, app.now() + ms_of(after))?;
                    }
                    Ok(to_value(&ch))
                }
            }
        }
        "buyerPaid" => Ok(to_value(&ch)),
        other => Err(wrong_state("charge", id, other, "only a pending charge can be marked buyerPaid")),
    }
}

/// buyerPaid (or pending, from the sandbox endpoint) → sellerConfirmed: paid, balance
/// credited, `charge.succeeded`; closed `--auto-confirm-after` later.
pub fn confirm_charge(app: &App, acct: &Account, w: &WriteTx, id: &str, from_pending: bool) -> ApiResult {
    let mut ch = load_charge(w, acct, id)?;
    if !(ch.status == "buyerPaid" || (from_pending && ch.status == "pending")) {
        return Err(wrong_state(
            "charge",
            id,
            &ch.status,
            "only a pending or buyerPaid charge can be confirmed",
        ));
    }
    ch.status = "sellerConfirmed".into();
    ch.paid = true;
    store::save_charge(w, &ch)?;
    let ms = app.clock.tick();
    let txn = BalanceTransaction {
        id: new_id("txn_", 24),
        object: "balanceTransaction".into(),
        currency: BALANCE_CURRENCY.into(),
        amount: ch.amount,
        fee: ch.fee,
        net: round_to(ch.amount - ch.fee, 2),
        available_on: format_millis(ms),
        created_at: format_millis(ms),
        ty: "charge".into(),
        source: ch.id.clone(),
        status: "available".into(),
        description: format!("Charge {} (order {})", ch.id, ch.external_order_id),
    };
    store::insert_txn(w, &acct.id, &txn)?;
    let v = to_value(&ch);
    emit(app, acct, w, "charge.succeeded", v.clone(), Some(ch.cb_url.clone()))?;
    schedule(w, &acct.id, CLOSE, id, 0, ms + ms_of(app.cfg.auto_confirm_after.unwrap_or(0.0)))?;
    Ok(v)
}

/// sellerConfirmed → closed (the job after a confirmation; no event).
pub fn close_charge(w: &WriteTx, acct: &Account, id: &str) -> ApiResult {
    let mut ch = load_charge(w, acct, id)?;
    if ch.status != "sellerConfirmed" {
        return Err(wrong_state("charge", id, &ch.status, "only a sellerConfirmed charge closes"));
    }
    ch.status = "closed".into();
    store::save_charge(w, &ch)?;
    Ok(to_value(&ch))
}

/// pending → cancelled with `charge.expired` (the TTL job, or the sandbox endpoint).
pub fn expire_charge(app: &App, acct: &Account, w: &WriteTx, id: &str) -> ApiResult {
    let mut ch = load_charge(w, acct, id)?;
    if ch.status != "pending" {
        return Err(wrong_state("charge", id, &ch.status, "only a pending charge can expire"));
    }
    ch.status = "cancelled".into();
    store::save_charge(w, &ch)?;
    let v = to_value(&ch);
    emit(app, acct, w, "charge.expired", v.clone(), Some(ch.cb_url.clone()))?;
    Ok(v)
}

/// Sandbox endpoint: pending/buyerPaid → cancelled with `charge.failed`.
pub fn fail_charge(app: &App, acct: &Account, w: &WriteTx, id: &str) -> ApiResult {
    let mut ch = load_charge(w, acct, id)?;
    if ch.status != "pending" && ch.status != "buyerPaid" {
        return Err(wrong_state("charge", id, &ch.status, "only a pending or buyerPaid charge can fail"));
    }
    ch.status = "cancelled".into();
    store::save_charge(w, &ch)?;
    let v = to_value(&ch);
    emit(app, acct, w, "charge.failed", v.clone(), Some(ch.cb_url.clone()))?;
    Ok(v)
}

/// Sandbox endpoint: open (buyerPaid/sellerConfirmed/closed → dispute,
/// `charge.dispute.created`) or close (dispute → closed, `charge.dispute.closed`) a dispute.
pub fn dispute_charge(app: &App, acct: &Account, w: &WriteTx, id: &str, close: bool) -> ApiResult {
    let mut ch = load_charge(w, acct, id)?;
    let (ok, next, ty) = if close {
        (ch.status == "dispute", "closed", "charge.dispute.closed")
    } else {
        (
            matches!(ch.status.as_str(), "buyerPaid" | "sellerConfirmed" | "closed"),
            "dispute",
            "charge.dispute.created",
        )
    };
    if !ok {
        return Err(wrong_state(
            "charge",
            id,
            &ch.status,
            if close { "only a disputed charge can be closed" } else { "only a paid charge can be disputed" },
        ));
    }
    ch.status = next.into();
    store::save_charge(w, &ch)?;
    let v = to_value(&ch);
    emit(app, acct, w, ty, v.clone(), Some(ch.cb_url.clone()))?;
    Ok(v)
}

// ---------------------------------------------------------------- balance

/// (available, pending): credits count once available; debits (payouts) at once.
pub fn balance(c: &Connection, acct: &Account) -> ApiResult<(f64, f64)> {
    let (available, pending) = store::balance_sums(c, &acct.id)?;
    Ok((round_to(available, 8), round_to(pending, 8)))
}

pub fn balance_object(c: &Connection, acct: &Account) -> ApiResult {
    let (available, pending) = balance(c, acct)?;
    Ok(json!({
        "id": format!("bal_{}", &acct.id["acct_".len()..]),
        "object": "balance",
        "currency": BALANCE_CURRENCY,
        "available": num(available),
        "pending": num(pending),
    }))
}

pub fn account_object() -> Value {
    json!({
        "feeRates": { "payout": FEE_PAYOUT, "pay": FEE_PAY, "trade": FEE_TRADE, "withdrawToken": FEE_WITHDRAW_TOKEN },
        "limit": {
            "pay": { "currency": "USD", "min": num(CHARGE_AMOUNT.min), "max": num(CHARGE_AMOUNT.max) },
            "payout": { "currency": BALANCE_CURRENCY, "min": num(PAYOUT_AMOUNT.min) },
            "withdrawToken": { "currency": BALANCE_CURRENCY, "min": num(WITHDRAW_TOKEN_MIN) },
        },
    })
}

// ---------------------------------------------------------------- payouts

/// A payout's destination as stored: a payment method of its `type`, with the fields that
/// type takes, in the API's order (`bankAccountNum` as `accountNum`).
fn destination(d: &Params, currency: &str) -> Value {
    let ty = text(d, "type");
    let mut out = Map::new();
    out.insert("object".into(), json!("paymentMethod"));
    out.insert("type".into(), json!(ty));
    out.insert("currency".into(), json!(currency));
    out.insert("status".into(), json!("active"));
    out.insert("typeLabel".into(), type_label(ty));
    let variant = qbitpay::spec::resources::DESTINATION.variants.iter().find(|v| v.tag == ty);
    for f in variant.map_or(&[][..], |v| v.fields) {
        if let Some(v) = d.get(f.name) {
            out.insert(if f.name == "bankAccountNum" { "accountNum" } else { f.name }.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// `POST /api/v1/payouts`, its parameters checked by the API's table (`params.rs`). The API
/// sends payout events to the account's webhook URL; `cb_url` is the sandbox's own choice of
/// another (a trigger's `cbUrl`).
pub fn create_payout(
    app: &App,
    acct: &Account,
    w: &WriteTx,
    p: &Params,
    cb_url: Option<String>,
) -> ApiResult {
    let amount = number(p, "amount");
    let currency = text(p, "currency").to_owned();
    let dest = match &p["destination"] {
        Value::Object(d) => destination(d, &currency),
        _ => Value::Null,
    };
    let description = opt_text(p, "description").map(str::to_owned);
    let external_order_id = opt_text(p, "externalOrderId").map(str::to_owned);
    let fee = round_to(amount * FEE_PAYOUT, 2);
    let needed = round_to(amount + fee, 8);

    let (available, _) = balance(w, acct)?;
    if available + 1e-9 < needed {
        return Err(ApiError::failed(
            format!("Insufficient balance: {available} {BALANCE_CURRENCY} available, this payout needs {needed} (amount + fee)."),
            json!({ "code": "balance_insufficient", "available": num(available), "required": num(needed), "currency": BALANCE_CURRENCY }),
        ));
    }
    let ms = app.clock.tick();
    let arrival = ms + ms_of(app.cfg.payout_transit_after + app.cfg.payout_paid_after);
    let id = new_id("po_", 24);
    let txn = BalanceTransaction {
        id: new_id("txn_", 24),
        object: "balanceTransaction".into(),
        currency: BALANCE_CURRENCY.into(),
        amount: -amount,
        fee,
        net: -needed,
        available_on: format_millis(arrival),
        created_at: format_millis(ms),
        ty: "payout".into(),
        source: id.clone(),
        status: "pending".into(),
        description: format!("Payout {id}"),
    };
    let payout = Payout {
        id: id.clone(),
        object: "payout".into(),
        created_at: format_millis(ms),
        amount,
        fee,
        currency,
        description,
        status: "pending".into(),
        ty: dest["type"].as_str().unwrap_or_default().to_owned(),
        arrival_date: format_millis(arrival),
        external_order_id,
        destination: dest,
        cb_url: cb_url.clone(),
        txn_id: txn.id.clone(),
    };
    store::insert_txn(w, &acct.id, &txn)?;
    store::insert_payout(w, &acct.id, &payout)?;
    let v = to_value(&payout);
    emit(app, acct, w, "payout.pending", v.clone(), cb_url)?;
    schedule(w, &acct.id, TRANSIT, &id, 0, ms + ms_of(app.cfg.payout_transit_after))?;
    Ok(v)
}

/// The job: pending → inTransit, then paid `--payout-paid-after` later.
pub fn payout_transit(app: &App, acct: &Account, w: &WriteTx, id: &str) -> ApiResult {
    let v = advance_payout(app, acct, w, id, "pending", "inTransit", "payout.inTransition")?;
    schedule(w, &acct.id, PAY, id, 0, app.now() + ms_of(app.cfg.payout_paid_after))?;
    Ok(v)
}

/// Move a payout `from` → `to` with its event; paid makes its transaction available,
/// failed/cancelled refund it with a payout_failure/payout_cancel transaction.
pub fn advance_payout(
    app: &App,
    acct: &Account,
    w: &WriteTx,
    id: &str,
    from: &str,
    to: &str,
    ty: &str,
) -> ApiResult {
    let mut po = store::payout(w, &acct.id, id)?.ok_or_else(|| ApiError::not_found("payout", id))?;
    if po.status != from {
        return Err(wrong_state("payout", id, &po.status, &format!("only a {from} payout can become {to}")));
    }
    po.status = to.into();
    store::save_payout(w, &po)?;
    let mut txn = store::txn(w, &acct.id, &po.txn_id)?;
    match to {
        "paid" => {
            if let Some(t) = txn.as_mut() {
                t.status = "available".into();
                store::save_txn(w, t)?;
            }
        }
        "failed" | "cancelled" => {
            let ms = app.clock.tick();
            let total = round_to(po.amount + po.fee, 8);
            if let Some(t) = txn.as_mut() {
                t.status = "available".into();
                store::save_txn(w, t)?;
            }
            store::insert_txn(
                w,
                &acct.id,
                &BalanceTransaction {
                    id: new_id("txn_", 24),
                    object: "balanceTransaction".into(),
                    currency: BALANCE_CURRENCY.into(),
                    amount: po.amount,
                    fee: -po.fee,
                    net: total,
                    available_on: format_millis(ms),
                    created_at: format_millis(ms),
                    ty: if to == "failed" { "payout_failure" } else { "payout_cancel" }.into(),
                    source: po.id.clone(),
                    status: "available".into(),
                    description: format!("Payout {} {to}: refund", po.id),
                },
            )?;
        }
        _ => {}
    }
    let v = to_value(&po);
    emit(app, acct, w, ty, v.clone(), po.cb_url.clone())?;
    Ok(v)
}

// ---------------------------------------------------------------- moved on by hand

/// The sandbox's hand controls of a charge: pay (buyerPaid), confirm, expire, fail,
/// dispute, resolve.
pub fn charge_action(app: &App, acct: &Account, w: &WriteTx, id: &str, action: &str) -> ApiResult {
    match action {
        "pay" => pay_charge(app, acct, w, id),
        "confirm" => confirm_charge(app, acct, w, id, true),
        "expire" => expire_charge(app, acct, w, id),
        "fail" => fail_charge(app, acct, w, id),
        "dispute" => dispute_charge(app, acct, w, id, false),
        "resolve" => dispute_charge(app, acct, w, id, true),
        _ => Err(ApiError::invalid(
            "action",
            "action must be one of pay, confirm, expire, fail, dispute, resolve.",
        )),
    }
}

/// The sandbox's hand controls of a payout: transit, pay, fail, cancel.
pub fn payout_action(app: &App, acct: &Account, w: &WriteTx, id: &str, action: &str) -> ApiResult {
    let status = store::payout(w, &acct.id, id)?.ok_or_else(|| ApiError::not_found("payout", id))?.status;
    match action {
        "transit" => advance_payout(app, acct, w, id, "pending", "inTransit", "payout.inTransition"),
        "pay" => advance_payout(app, acct, w, id, "inTransit", "paid", "payout.paid"),
        "fail" => advance_payout(
            app,
            acct,
            w,
            id,
            if status == "pending" { "pending" } else { "inTransit" },
            "failed",
            "payout.failed",
        ),
        "cancel" => advance_payout(app, acct, w, id, "pending", "cancelled", "payout.cancelled"),
        _ => Err(ApiError::invalid("action", "action must be one of transit, pay, fail, cancel.")),
    }
}

#[cfg(test)]
mod tests {
    use super::TestOutcome;

    #[test]
    fn test_amounts_are_whole_cents() {
        for (amount, outcome) in [
            (10.02, Some(TestOutcome::Declined)),
            (0.02, Some(TestOutcome::Declined)),
            (1234567.02, Some(TestOutcome::Declined)),
            (10.05, Some(TestOutcome::Disputed)),
            (100.0, None),
            (10.021, None),
            (10.019, None),
            (100.0501, None),
            (10.025, None),
        ] {
            assert_eq!(TestOutcome::of(amount), outcome, "{amount}");
        }
    }
}
