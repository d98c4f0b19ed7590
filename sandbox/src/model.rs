//! The API's objects, as they go on the wire (camelCase, the spec's field order), and the
//! sandbox's fixed market prices and fees.

use qbitpay::spec::safe_int;
pub use qbitpay::spec::{
    payment_types, CHARGE_AMOUNT, DEFAULT_BASE_CURRENCY, DEFAULT_QUOTE_CURRENCY, PAYOUT_AMOUNT,
};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};

/// Numbers the JavaScript way: `100`, not serde's `100.0`, for whole amounts.
pub fn ser_num<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    match safe_int(*x) {
        Some(i) => s.serialize_i64(i),
        None => s.serialize_f64(*x),
    }
}

pub fn num(x: f64) -> Value {
    match safe_int(x) {
        Some(i) => json!(i),
        None => json!(x),
    }
}

pub fn round_to(x: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    let r = (x * m).round() / m;
    if r == 0.0 {
        0.0 // never -0
    } else {
        r
    }
}

pub const BALANCE_CURRENCY: &str = "USDT";

pub const FEE_PAY: f64 = 0.01;
pub const FEE_PAYOUT: f64 = 0.005;
pub const FEE_TRADE: f64 = 0.002;
pub const FEE_WITHDRAW_TOKEN: f64 = 0.001;
pub const WITHDRAW_TOKEN_MIN: f64 = 20.0;

/// US dollars per unit of a base currency (fixed: the sandbox is deterministic).
pub fn base_usd(base: &str) -> f64 {
    match base {
        "BTC" => 40_000.0,
        _ => 1.0,
    }
}

/// Units of a quote currency per US dollar.
pub fn quote_per_usd(quote: &str) -> f64 {
    match quote {
        "CNY" => 7.2,
        "PHP" => 56.0,
        _ => 1.0,
    }
}

/// The mid price of one `base` in `quote`.
pub fn mid_price(base: &str, quote: &str) -> f64 {
    base_usd(base) * quote_per_usd(quote)
}

pub fn ask_price(base: &str, quote: &str) -> f64 {
    round_to(mid_price(base, quote) * 1.005, 2)
}

pub fn bid_price(base: &str, quote: &str) -> f64 {
    round_to(mid_price(base, quote) * 0.995, 2)
}

pub fn type_label(ty: &str) -> Value {
    let (en, zh) = match ty {
        "Alipay" => ("Alipay", "支付宝"),
        "Yunshanfu" => ("UnionPay QuickPass", "云闪付"),
        "bankAccount" => ("Bank account", "银行卡"),
        "PayPal" => ("PayPal", "PayPal"),
        "Coins.ph" => ("Coins.ph", "Coins.ph"),
        "GCash" => ("GCash", "GCash"),
        "wallet" => ("Wallet", "钱包"),
        other => (other, other),
    };
    json!({ "en": en, "zh": zh })
}

/// The (fake) receiving details the payer of a charge is shown.
pub fn charge_payment_method(ty: &str, quote: &str, base_url: &str, charge_id: &str) -> Value {
    let mut m = json!({
        "object": "paymentMethod",
        "type": ty,
        "currency": quote,
        "status": "active",
        "typeLabel": type_label(ty),
    });
    let o = m.as_object_mut().unwrap();
    let qr = format!("{base_url}/pay/{charge_id}/qr.svg");
    match ty {
        "Alipay" | "Yunshanfu" => {
            o.insert("alipayQRCodeUrl".into(), json!(qr));
            o.insert("qrCodeImgUrl".into(), json!(qr));
            o.insert("bankDetailName".into(), json!("QbitPay Sandbox Merchant"));
        }
        "bankAccount" => {
            o.insert("bankName".into(), json!("Sandbox Bank"));
            o.insert("accountNum".into(), json!("6222000012345678"));
            o.insert("bankRoutingNum".into(), json!("021000021"));
            o.insert("bankDetailName".into(), json!("QbitPay Sandbox Merchant"));
            o.insert("bankAddr".into(), json!("1 Sandbox Road"));
            o.insert("city".into(), json!("Sandbox City"));
            o.insert("state".into(), json!("SB"));
            o.insert("country".into(), json!("US"));
            o.insert("postalCode".into(), json!("00000"));
            o.insert("swift".into(), json!("SANDUS00"));
        }
        "PayPal" => {
            o.insert("addr".into(), json!("payments@sandbox.qbitpay.invalid"));
            o.insert("bankDetailName".into(), json!("QbitPay Sandbox Merchant"));
        }
        _ => {
            o.insert("accountNum".into(), json!("09170000000"));
            o.insert("bankDetailName".into(), json!("QbitPay Sandbox Merchant"));
            o.insert("qrCodeImgUrl".into(), json!(qr));
        }
    }
    m
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Charge {
    pub id: String,
    pub object: String,
    pub created_at: String,
    pub paid: bool,
    pub status: String,
    #[serde(serialize_with = "ser_num")]
    pub amount: f64,
    pub currency: String,
    #[serde(serialize_with = "ser_num")]
    pub price: f64,
    #[serde(serialize_with = "ser_num")]
    pub fee: f64,
    #[serde(serialize_with = "ser_num")]
    pub base_amount: f64,
    pub base_currency: String,
    #[serde(serialize_with = "ser_num")]
    pub total_cost: f64,
    pub quote_currency: String,
    pub external_order_id: String,
    pub payment_page_url: String,
    pub cb_url: String,
    pub redirect_url: String,
    pub payment_method: Value,
    pub payer_name: Option<String>,
    pub expires_at: String,
    #[serde(skip, default)]
    pub expires_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    pub id: String,
    pub object: String,
    pub created_at: String,
    #[serde(serialize_with = "ser_num")]
    pub amount: f64,
    #[serde(serialize_with = "ser_num")]
    pub fee: f64,
    pub currency: String,
    pub description: Option<String>,
    pub status: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub arrival_date: String,
    pub external_order_id: Option<String>,
    pub destination: Value,
    /// Sandbox extension: where this payout's `payout.*` events go (else `--webhook-url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cb_url: Option<String>,
    #[serde(skip, default)]
    pub txn_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceTransaction {
    pub id: String,
    pub object: String,
    pub currency: String,
    #[serde(serialize_with = "ser_num")]
    pub amount: f64,
    #[serde(serialize_with = "ser_num")]
    pub fee: f64,
    #[serde(serialize_with = "ser_num")]
    pub net: f64,
    pub available_on: String,
    pub created_at: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub source: String,
    pub status: String,
    pub description: String,
}

/// Delivery bookkeeping of an event (not part of the delivered payload).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub url: Option<String>,
    /// none (no URL), pending, succeeded, failed (all attempts used), undeliverable.
    pub status: String,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub object: String,
    pub created_at: String,
    pub pending_webhooks: u32,
    pub livemode: bool,
    pub data: Value,
    #[serde(skip, default)]
    pub delivery: Delivery,
}

impl Event {
    /// The debugging view (`GET /api/v1/events`): the event plus its delivery state.
    pub fn with_delivery(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap();
        v["webhook"] = serde_json::to_value(&self.delivery).unwrap();
        v
    }
}
