//! The API as declarations: one `Resource` constant per family. Everything else (validation,
//! URLs, bodies, idempotency, pagination, the JS methods) is generic over this table.

use super::error::ClientError;
use super::json::Json;
use super::schema::{Field, Op, Resource, Ty};
#[allow(unused_imports)]
use crate::prelude::*;
#[allow(unused_imports)]
use alloc::{format, string::ToString};

pub const CURRENCIES: &[&str] = &["USD", "USDT"];
pub const BASE_CURRENCIES: &[&str] = &["BTC", "USDT"];
pub const QUOTE_CURRENCIES: &[&str] = &["CNY", "USD", "PHP"];
/// Payment types by quote currency (spec: Charges).
pub const PAYMENT_TYPES: &[(&str, &[&str])] = &[
    ("CNY", &["Alipay", "Yunshanfu", "bankAccount"]),
    ("USD", &["PayPal", "bankAccount"]),
    ("PHP", &["Coins.ph", "GCash"]),
];

const CHARGE_CREATE: &[Field] = &[
    Field::req("amount", Ty::Amount),
    Field::req("currency", Ty::Enum(CURRENCIES)),
    Field::req("externalOrderId", Ty::Str),
    Field::req("cbUrl", Ty::Url),
    Field::req("redirectUrl", Ty::Url),
    Field::opt("baseCurrency", Ty::Enum(BASE_CURRENCIES)),
    Field::opt("quoteCurrency", Ty::Enum(QUOTE_CURRENCIES)),
    Field::opt(
        "paymentType",
        Ty::Enum(&[
            "Alipay",
            "Yunshanfu",
            "bankAccount",
            "PayPal",
            "Coins.ph",
            "GCash",
        ]),
    ),
    Field::opt("payerName", Ty::Str),
];

/// `paymentType` must suit `quoteCurrency` (CNY when absent).
fn payment_type_matches_quote(p: &Json) -> Result<(), ClientError> {
    let Some(pt) = p.get("paymentType").and_then(Json::as_str) else {
        return Ok(());
    };
    let quote = p
        .get("quoteCurrency")
        .and_then(Json::as_str)
        .unwrap_or("CNY");
    match PAYMENT_TYPES.iter().find(|(q, _)| *q == quote) {
        Some((_, types)) if !types.contains(&pt) => Err(ClientError::invalid(
            "paymentType",
            crate::cat!(
                "Invalid paymentType: with quoteCurrency ",
                quote,
                " it must be one of ",
                &crate::client::json::join(types, ", ")
            ),
        )),
        _ => Ok(()),
    }
}

pub const CHARGES: Resource = Resource {
    name: "charges",
    path: "/api/v1/charges",
    ops: &[
        Op::create(CHARGE_CREATE).with_check(payment_type_matches_quote),
        Op::retrieve(),
        Op::update(&[Field::req("status", Ty::Enum(&["buyerPaid"]))]),
        Op::list(&[Field::opt("externalOrderId", Ty::Str)]),
    ],
};

/// `accessToken.create()` is a GET with the API key (spec: Authentication).
pub const ACCESS_TOKEN: Resource = Resource {
    name: "accessToken",
    path: "/api/v1/accessToken",
    ops: &[Op::show("create", "")],
};

/// Every resource the client exposes, in the order the JS object gets them.
pub const RESOURCES: &[Resource] = &[CHARGES, ACCESS_TOKEN];

pub fn find(name: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.name == name)
}

/// The table the JS facade builds its methods from:
/// `{"charges":{"create":["params","POST"],"retrieve":["id","GET"],...},...}`.
pub fn table_json() -> String {
    let table = RESOURCES
        .iter()
        .map(|r| {
            let ops = r
                .ops
                .iter()
                .map(|o| {
                    let shape = vec![Json::str(o.args.as_str()), Json::str(o.method.as_str())];
                    (o.name.to_string(), Json::Arr(shape))
                })
                .collect();
            (r.name.to_string(), Json::Obj(ops))
        })
        .collect();
    Json::Obj(table).to_string()
}
