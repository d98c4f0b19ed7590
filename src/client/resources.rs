//! The API as declarations: one `Resource` constant per family. Everything else (validation,
//! URLs, bodies, idempotency, pagination, the JS methods) is generic over this table.

use super::error::ClientError;
use super::Json;
use super::schema::{Field, Op, Resource, Ty, Union};

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
            format!("Invalid paymentType: with quoteCurrency {} it must be one of {}", quote, types.join(", ")),
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

/// `accounts.retrieve()`: fee rates and limits.
pub const ACCOUNTS: Resource = Resource {
    name: "accounts",
    path: "/api/v1/accounts",
    ops: &[Op::show("retrieve", "/show")],
};

/// `balances.retrieve()`: the merchant's balance.
pub const BALANCES: Resource = Resource {
    name: "balances",
    path: "/api/v1/balances",
    ops: &[Op::show("retrieve", "/show")],
};

pub const BALANCE_TRANSACTION_TYPES: &[&str] =
    &["charge", "payout", "payout_cancel", "payout_failure"];
pub const BALANCE_TRANSACTION_STATUSES: &[&str] = &["pending", "available"];

/// The spec lists `source` "with `type`": a source id filters within one type.
fn source_needs_type(p: &Json) -> Result<(), ClientError> {
    if p.get("source").is_some() && p.get("type").is_none() {
        return Err(ClientError::invalid(
            "type",
            format!("Missing required parameter: type (filtering by source needs the type of the source: {})", BALANCE_TRANSACTION_TYPES.join(", ")),
        ));
    }
    Ok(())
}

pub const BALANCE_TRANSACTIONS: Resource = Resource {
    name: "balanceTransactions",
    path: "/api/v1/balanceTransactions",
    ops: &[
        Op::retrieve(),
        Op::list(&[
            Field::opt("type", Ty::Enum(BALANCE_TRANSACTION_TYPES)),
            Field::opt("source", Ty::Str),
            Field::opt("status", Ty::Enum(BALANCE_TRANSACTION_STATUSES)),
        ])
        .with_check(source_needs_type),
    ],
};

// A payout destination: the fields its `type` requires (spec: Payouts). `type` itself is
// in each list so that it is a known member; its value picks the list.
const D_TYPE: Field = Field::req("type", Ty::Str);
const D_PAYER: Field = Field::req("payerName", Ty::Str);
const D_ACCOUNT: Field = Field::req("bankAccountNum", Ty::Str);
const DEST_BANK_ACCOUNT: &[Field] = &[
    D_TYPE,
    D_PAYER,
    D_ACCOUNT,
    Field::req("bankName", Ty::Str),
    // Optional bank details (the PaymentMethod fields a bank transfer can use).
    Field::opt("bankRoutingNum", Ty::Str),
    Field::opt("bankDetailName", Ty::Str),
    Field::opt("bankAddr", Ty::Str),
    Field::opt("city", Ty::Str),
    Field::opt("state", Ty::Str),
    Field::opt("country", Ty::Str),
    Field::opt("postalCode", Ty::Str),
    Field::opt("swift", Ty::Str),
];
const DEST_WALLET: &[Field] = &[D_TYPE, D_PAYER, Field::req("addr", Ty::Str)];
const DEST_ACCOUNT: &[Field] = &[D_TYPE, D_PAYER, D_ACCOUNT];
/// Destination types and their fields, keyed by `destination.type`.
pub const DESTINATIONS: &[(&str, &[Field])] = &[
    ("bankAccount", DEST_BANK_ACCOUNT),
    ("wallet", DEST_WALLET),
    ("Alipay", DEST_ACCOUNT),
    ("PayPal", DEST_ACCOUNT),
    ("Coins.ph", DEST_ACCOUNT),
    ("GCash", DEST_ACCOUNT),
];
pub const PAYOUT_STATUSES: &[&str] = &["pending", "inTransit", "paid", "cancelled", "failed"];

const PAYOUT_CREATE: &[Field] = &[
    Field::req("amount", Ty::Amount),
    Field::req("currency", Ty::Enum(CURRENCIES)),
    Field::req(
        "destination",
        Ty::Tagged(&Union {
            tag: "type",
            variants: DESTINATIONS,
        }),
    ),
    Field::opt("description", Ty::Str),
    Field::opt("externalOrderId", Ty::Str),
];

pub const PAYOUTS: Resource = Resource {
    name: "payouts",
    path: "/api/v1/payouts",
    ops: &[
        Op::create(PAYOUT_CREATE),
        Op::retrieve(),
        Op::list(&[
            // The destination's type, account number or address.
            Field::opt("destination", Ty::Str),
            Field::opt("status", Ty::Enum(PAYOUT_STATUSES)),
        ]),
    ],
};

/// `symbol` is `BASE/QUOTE` (`USDT/CNY`), from the currencies the spec names.
fn symbol_is_a_market(p: &Json) -> Result<(), ClientError> {
    let Some(s) = p.get("symbol").and_then(Json::as_str) else {
        return Ok(());
    };
    // Byte-wise (no str searcher, no slicing panics): one of the BASE × QUOTE pairs.
    let b = s.as_bytes();
    let ok = BASE_CURRENCIES.iter().any(|base| {
        b.starts_with(base.as_bytes())
            && b.get(base.len()) == Some(&b'/')
            && QUOTE_CURRENCIES
                .iter()
                .any(|q| b.get(base.len() + 1..) == Some(q.as_bytes()))
    });
    if ok {
        return Ok(());
    }
    Err(ClientError::invalid(
        "symbol",
        format!("Invalid symbol: must be BASE/QUOTE (e.g. USDT/CNY) with BASE one of {} and QUOTE one of {}", BASE_CURRENCIES.join(", "), QUOTE_CURRENCIES.join(", ")),
    ))
}

pub const MARKETS: Resource = Resource {
    name: "markets",
    path: "/api/v1/markets",
    ops: &[Op::query(
        "ticker",
        "/ticker",
        &[
            Field::req("symbol", Ty::Str),
            Field::req("side", Ty::Enum(&["ask", "bid"])),
        ],
    )
    .with_check(symbol_is_a_market)],
};

/// `events.test({ cbUrl })`: one test webhook to `cbUrl` (or the configured URL).
pub const EVENTS: Resource = Resource {
    name: "events",
    path: "/api/v1/events",
    ops: &[Op::query("test", "/test", &[Field::opt("cbUrl", Ty::Url)])],
};

/// Every resource the client exposes, in the order the JS object gets them.
pub const RESOURCES: &[Resource] = &[
    CHARGES,
    ACCESS_TOKEN,
    ACCOUNTS,
    BALANCES,
    BALANCE_TRANSACTIONS,
    PAYOUTS,
    MARKETS,
    EVENTS,
];

pub fn find(name: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.name == name)
}
