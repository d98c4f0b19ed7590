//! What the API does to an account's state: charges, their lifecycle timers, the balance
//! and its transactions, payouts and theirs.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::app::{new_id, secs, Account, App, State};
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::params::*;
use crate::webhooks::emit;
use qbitpay::webhook::timestamp::format_millis;

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("object json")
}

// ---------------------------------------------------------------- charges

pub fn create_charge(app: &Arc<App>, acct: &Arc<Account>, p: &Params) -> ApiResult {
    let amount = req_number(p, "amount")?;
    if amount <= 0.0 {
        return Err(ApiError::invalid("amount", "amount must be a number greater than 0."));
    }
    if !(PAY_MIN..=PAY_MAX).contains(&amount) {
        return Err(ApiError::invalid("amount", format!("amount must be between {PAY_MIN} and {PAY_MAX}.")));
    }
    let currency = one_of(p, "", "currency", CHARGE_CURRENCIES, None)?;
    let external_order_id = req_string(p, "", "externalOrderId")?;
    let cb_url = req_url(p, "cbUrl")?;
    let redirect_url = req_url(p, "redirectUrl")?;
    let base = one_of(p, "", "baseCurrency", BASE_CURRENCIES, Some("BTC"))?;
    let quote = one_of(p, "", "quoteCurrency", QUOTE_CURRENCIES, Some("CNY"))?;
    let types = payment_types(&quote);
    let ptype = one_of(p, "", "paymentType", types, Some(types[0]))?;
    let payer_name = opt_string(p, "", "payerName")?;

    let id = new_id("ch_", 24);
    let price = ask_price(&base, &quote);
    let base_amount = round_to(amount / base_usd(&base), 8);
    let mut st = acct.state();
    let ms = st.tick();
    let expires_ms = ms + (app.cfg.charge_ttl * 1000.0).round() as i64;
    let charge = Charge {
        id: id.clone(),
        object: "charge",
        created_at: format_millis(ms),
        paid: false,
        status: "pending",
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
    let v = to_value(&charge);
    st.charges.push(charge);
    drop(st);
    let (app2, acct2) = (app.clone(), acct.clone());
    tokio::spawn(async move {
        tokio::time::sleep(secs(app2.cfg.charge_ttl)).await;
        let _ = expire_charge(&app2, &acct2, &id);
    });
    Ok(v)
}

pub fn get_charge(acct: &Account, id: &str) -> ApiResult {
    acct.state().charges.get(id).map(to_value).ok_or_else(|| ApiError::not_found("charge", id))
}

fn charge_mut<'a>(st: &'a mut State, id: &str) -> ApiResult<&'a mut Charge> {
    st.charges.get_mut(id).ok_or_else(|| ApiError::not_found("charge", id))
}

fn wrong_state(what: &str, id: &str, status: &str, wanted: &str) -> ApiError {
    ApiError::failed(
        format!("The {what} {id} is {status}: {wanted}."),
        json!({ "code": "invalid_state", "status": status }),
    )
}

/// `PUT /api/v1/charges/{id}`: only `{"status": "buyerPaid"}`, only from pending
/// (already buyerPaid: a no-op).
pub fn update_charge(app: &Arc<App>, acct: &Arc<Account>, id: &str, p: &Params) -> ApiResult {
    let status = req_string(p, "", "status")?;
    if status != "buyerPaid" {
        return Err(ApiError::invalid("status", format!("Invalid status '{status}': a charge can only be updated to buyerPaid.")));
    }
    let mut st = acct.state();
    let ch = charge_mut(&mut st, id)?;
    if ch.status == "pending" && crate::app::now_ms() >= ch.expires_ms {
        // Past expiresAt but the timer has not run yet: expire it now.
        drop(st);
        let _ = expire_charge(app, acct, id);
        st = acct.state();
    }
    let ch = charge_mut(&mut st, id)?;
    match ch.status {
        "pending" => {
            ch.status = "buyerPaid";
            if let Some(after) = app.cfg.auto_confirm_after {
                let (app2, acct2, id2) = (app.clone(), acct.clone(), id.to_owned());
                tokio::spawn(async move {
                    tokio::time::sleep(secs(after)).await;
                    let _ = confirm_charge(&app2, &acct2, &id2, false);
                });
            }
            Ok(to_value(ch))
        }
        "buyerPaid" => Ok(to_value(ch)),
        other => Err(wrong_state("charge", id, other, "only a pending charge can be marked buyerPaid")),
    }
}

/// buyerPaid (or pending, from the sandbox endpoint) → sellerConfirmed: paid, balance
/// credited, `charge.succeeded`; closed `--auto-confirm-after` later.
pub fn confirm_charge(app: &Arc<App>, acct: &Arc<Account>, id: &str, from_pending: bool) -> ApiResult {
    let mut st = acct.state();
    let ch = charge_mut(&mut st, id)?;
    if !(ch.status == "buyerPaid" || (from_pending && ch.status == "pending")) {
        let status = ch.status;
        return Err(wrong_state("charge", id, status, "only a pending or buyerPaid charge can be confirmed"));
    }
    ch.status = "sellerConfirmed";
    ch.paid = true;
    let snapshot = ch.clone();
    let ms = st.tick();
    let txn = BalanceTransaction {
        id: new_id("txn_", 24),
        object: "balanceTransaction",
        currency: BALANCE_CURRENCY.into(),
        amount: snapshot.amount,
        fee: snapshot.fee,
        net: round_to(snapshot.amount - snapshot.fee, 2),
        available_on: format_millis(ms),
        created_at: format_millis(ms),
        ty: "charge",
        source: snapshot.id.clone(),
        status: "available",
        description: format!("Charge {} (order {})", snapshot.id, snapshot.external_order_id),
    };
    st.txns.push(txn);
    let v = to_value(&snapshot);
    emit(app, acct, &mut st, "charge.succeeded", v.clone(), Some(snapshot.cb_url.clone()));
    drop(st);
    let (acct2, id2) = (acct.clone(), id.to_owned());
    let delay = app.cfg.auto_confirm_after.unwrap_or(0.0);
    tokio::spawn(async move {
        tokio::time::sleep(secs(delay)).await;
        let mut st = acct2.state();
        if let Some(ch) = st.charges.get_mut(&id2) {
            if ch.status == "sellerConfirmed" {
                ch.status = "closed";
            }
        }
    });
    Ok(v)
}

/// pending → cancelled with `charge.expired` (the TTL timer, or the sandbox endpoint).
pub fn expire_charge(app: &Arc<App>, acct: &Arc<Account>, id: &str) -> ApiResult {
    let mut st = acct.state();
    let ch = charge_mut(&mut st, id)?;
    if ch.status != "pending" {
        let status = ch.status;
        return Err(wrong_state("charge", id, status, "only a pending charge can expire"));
    }
    ch.status = "cancelled";
    let v = to_value(ch);
    let url = ch.cb_url.clone();
    emit(app, acct, &mut st, "charge.expired", v.clone(), Some(url));
    Ok(v)
}

/// Sandbox endpoint: pending/buyerPaid → cancelled with `charge.failed`.
pub fn fail_charge(app: &Arc<App>, acct: &Arc<Account>, id: &str) -> ApiResult {
    let mut st = acct.state();
    let ch = charge_mut(&mut st, id)?;
    if ch.status != "pending" && ch.status != "buyerPaid" {
        let status = ch.status;
        return Err(wrong_state("charge", id, status, "only a pending or buyerPaid charge can fail"));
    }
    ch.status = "cancelled";
    let v = to_value(ch);
    let url = ch.cb_url.clone();
    emit(app, acct, &mut st, "charge.failed", v.clone(), Some(url));
    Ok(v)
}

/// Sandbox endpoint: open (buyerPaid/sellerConfirmed/closed → dispute,
/// `charge.dispute.created`) or close (dispute → closed, `charge.dispute.closed`) a dispute.
pub fn dispute_charge(app: &Arc<App>, acct: &Arc<Account>, id: &str, close: bool) -> ApiResult {
    let mut st = acct.state();
    let ch = charge_mut(&mut st, id)?;
    let (ok, next, ty) = if close {
        (ch.status == "dispute", "closed", "charge.dispute.closed")
    } else {
        (matches!(ch.status, "buyerPaid" | "sellerConfirmed" | "closed"), "dispute", "charge.dispute.created")
    };
    if !ok {
        let status = ch.status;
        return Err(wrong_state("charge", id, status, if close { "only a disputed charge can be closed" } else { "only a paid charge can be disputed" }));
    }
    ch.status = next;
    let v = to_value(ch);
    let url = ch.cb_url.clone();
    emit(app, acct, &mut st, ty, v.clone(), Some(url));
    Ok(v)
}

// ---------------------------------------------------------------- balance

/// (available, pending): credits count once available; debits (payouts) at once.
pub fn balance(st: &State) -> (f64, f64) {
    let (mut available, mut pending) = (0.0, 0.0);
    for t in st.txns.iter() {
        if t.status == "available" || t.net < 0.0 {
            available += t.net;
        } else {
            pending += t.net;
        }
    }
    (round_to(available, 8), round_to(pending, 8))
}

pub fn balance_object(acct: &Account) -> Value {
    let (available, pending) = balance(&acct.state());
    json!({
        "id": format!("bal_{}", &acct.id["acct_".len()..]),
        "object": "balance",
        "currency": BALANCE_CURRENCY,
        "available": num(available),
        "pending": num(pending),
    })
}

pub fn account_object() -> Value {
    json!({
        "feeRates": { "payout": FEE_PAYOUT, "pay": FEE_PAY, "trade": FEE_TRADE, "withdrawToken": FEE_WITHDRAW_TOKEN },
        "limit": {
            "pay": { "currency": "USD", "min": num(PAY_MIN), "max": num(PAY_MAX) },
            "payout": { "currency": BALANCE_CURRENCY, "min": num(PAYOUT_MIN) },
            "withdrawToken": { "currency": BALANCE_CURRENCY, "min": num(WITHDRAW_TOKEN_MIN) },
        },
    })
}

// ---------------------------------------------------------------- payouts

pub const DESTINATION_TYPES: &[&str] = &["bankAccount", "wallet", "Alipay", "PayPal", "Coins.ph", "GCash"];

fn required_destination_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "bankAccount" => &["payerName", "bankAccountNum", "bankName"],
        "wallet" => &["payerName", "addr"],
        _ => &["payerName", "bankAccountNum"],
    }
}

fn destination(p: &Params, currency: &str) -> ApiResult<Value> {
    let d = match p.get("destination") {
        None | Some(Value::Null) => return Err(ApiError::missing("destination")),
        Some(Value::String(s)) if s.is_empty() => return Err(ApiError::missing("destination")),
        Some(Value::Object(d)) => d,
        Some(_) => {
            return Err(ApiError::invalid(
                "destination",
                "destination must be an object: JSON, or form fields destination={...} or destination[type]=...",
            ))
        }
    };
    let ty = one_of(d, "destination.", "type", DESTINATION_TYPES, None)?;
    let mut out = Map::new();
    out.insert("object".into(), json!("paymentMethod"));
    out.insert("type".into(), json!(ty));
    out.insert("currency".into(), json!(currency));
    out.insert("status".into(), json!("active"));
    out.insert("typeLabel".into(), type_label(&ty));
    for f in required_destination_fields(&ty) {
        let v = req_string(d, "destination.", f)?;
        let key = if *f == "bankAccountNum" { "accountNum" } else { f };
        out.insert(key.into(), json!(v));
    }
    for f in ["bankName", "bankRoutingNum", "bankDetailName", "bankAddr", "city", "state", "country", "postalCode", "addr", "swift"] {
        if !out.contains_key(f) {
            if let Some(v) = opt_string(d, "destination.", f)? {
                out.insert(f.into(), json!(v));
            }
        }
    }
    Ok(Value::Object(out))
}

pub fn create_payout(app: &Arc<App>, acct: &Arc<Account>, p: &Params) -> ApiResult {
    let amount = req_number(p, "amount")?;
    if amount <= 0.0 {
        return Err(ApiError::invalid("amount", "amount must be a number greater than 0."));
    }
    if amount < PAYOUT_MIN {
        return Err(ApiError::invalid("amount", format!("amount must be at least {PAYOUT_MIN} (the payout minimum).")));
    }
    let currency = one_of(p, "", "currency", PAYOUT_CURRENCIES, None)?;
    let dest = destination(p, &currency)?;
    let description = opt_string(p, "", "description")?;
    let external_order_id = opt_string(p, "", "externalOrderId")?;
    let cb_url = match opt_string(p, "", "cbUrl")? {
        Some(u) => Some(check_url("cbUrl", &u)?.to_string()).map(|_| u),
        None => None,
    };
    let fee = round_to(amount * FEE_PAYOUT, 2);
    let needed = round_to(amount + fee, 8);

    let mut st = acct.state();
    let (available, _) = balance(&st);
    if available + 1e-9 < needed {
        return Err(ApiError::failed(
            format!("Insufficient balance: {available} {BALANCE_CURRENCY} available, this payout needs {needed} (amount + fee)."),
            json!({ "code": "balance_insufficient", "available": num(available), "required": num(needed), "currency": BALANCE_CURRENCY }),
        ));
    }
    let ms = st.tick();
    let arrival = ms + ((app.cfg.payout_transit_after + app.cfg.payout_paid_after) * 1000.0).round() as i64;
    let id = new_id("po_", 24);
    let txn = BalanceTransaction {
        id: new_id("txn_", 24),
        object: "balanceTransaction",
        currency: BALANCE_CURRENCY.into(),
        amount: -amount,
        fee,
        net: -needed,
        available_on: format_millis(arrival),
        created_at: format_millis(ms),
        ty: "payout",
        source: id.clone(),
        status: "pending",
        description: format!("Payout {id}"),
    };
    let payout = Payout {
        id: id.clone(),
        object: "payout",
        created_at: format_millis(ms),
        amount,
        fee,
        currency,
        description,
        status: "pending",
        ty: dest["type"].as_str().unwrap_or_default().to_owned(),
        arrival_date: format_millis(arrival),
        external_order_id,
        destination: dest,
        cb_url: cb_url.clone(),
        txn_id: txn.id.clone(),
    };
    st.txns.push(txn);
    let v = to_value(&payout);
    st.payouts.push(payout);
    emit(app, acct, &mut st, "payout.pending", v.clone(), cb_url);
    drop(st);
    let (app2, acct2) = (app.clone(), acct.clone());
    tokio::spawn(async move {
        tokio::time::sleep(secs(app2.cfg.payout_transit_after)).await;
        if advance_payout(&app2, &acct2, &id, "pending", "inTransit", "payout.inTransition").is_err() {
            return;
        }
        tokio::time::sleep(secs(app2.cfg.payout_paid_after)).await;
        let _ = advance_payout(&app2, &acct2, &id, "inTransit", "paid", "payout.paid");
    });
    Ok(v)
}

/// Move a payout `from` → `to` with its event; paid makes its transaction available,
/// failed/cancelled refund it with a payout_failure/payout_cancel transaction.
pub fn advance_payout(app: &Arc<App>, acct: &Arc<Account>, id: &str, from: &str, to: &'static str, ty: &'static str) -> ApiResult {
    let mut st = acct.state();
    let po = st.payouts.get_mut(id).ok_or_else(|| ApiError::not_found("payout", id))?;
    if po.status != from {
        let status = po.status;
        return Err(wrong_state("payout", id, status, &format!("only a {from} payout can become {to}")));
    }
    po.status = to;
    let snapshot = po.clone();
    match to {
        "paid" => {
            if let Some(t) = st.txns.get_mut(&snapshot.txn_id) {
                t.status = "available";
            }
        }
        "failed" | "cancelled" => {
            let ms = st.tick();
            let total = round_to(snapshot.amount + snapshot.fee, 8);
            if let Some(t) = st.txns.get_mut(&snapshot.txn_id) {
                t.status = "available";
            }
            st.txns.push(BalanceTransaction {
                id: new_id("txn_", 24),
                object: "balanceTransaction",
                currency: BALANCE_CURRENCY.into(),
                amount: snapshot.amount,
                fee: -snapshot.fee,
                net: total,
                available_on: format_millis(ms),
                created_at: format_millis(ms),
                ty: if to == "failed" { "payout_failure" } else { "payout_cancel" },
                source: snapshot.id.clone(),
                status: "available",
                description: format!("Payout {} {to}: refund", snapshot.id),
            });
        }
        _ => {}
    }
    let v = to_value(&snapshot);
    emit(app, acct, &mut st, ty, v.clone(), snapshot.cb_url.clone());
    Ok(v)
}
