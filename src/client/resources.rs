//! The API as declarations: one `Resource` constant per family. Everything else (validation,
//! URLs, bodies, idempotency, pagination, the JS methods) is generic over this table.

use super::error::ClientError;
use super::Json;
use super::schema::{Field, Op, Resource, Ty, Union};
use crate::spec::{
    self, BALANCE_TRANSACTION_STATUSES, BALANCE_TRANSACTION_TYPES, BASE_CURRENCIES, CURRENCIES, PAYOUT_STATUSES,
    QUOTE_CURRENCIES,
};

const CHARGE_CREATE: &[Field] = &[
    Field::req("amount", Ty::Amount),
    Field::req("currency", Ty::Enum(CURRENCIES)),
    Field::req("externalOrderId", Ty::Str),
    Field::req("cbUrl", Ty::Url),
    Field::req("redirectUrl", Ty::Url),
    Field::opt("baseCurrency", Ty::Enum(BASE_CURRENCIES)),
    Field::opt("quoteCurrency", Ty::Enum(QUOTE_CURRENCIES)),
    Field::opt("paymentType", Ty::Enum(spec::PAYMENT_TYPE_NAMES)),
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
        .unwrap_or(spec::DEFAULT_QUOTE_CURRENCY);
    match spec::payment_types(quote) {
        types if !types.is_empty() && !types.contains(&pt) => Err(ClientError::invalid(
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
        Op::update(&[Field::req("status", Ty::Enum(spec::CHARGE_UPDATE_STATUSES))]),
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

const PAYOUT_CREATE: &[Field] = &[
    Field::req("amount", Ty::Amount),
    Field::req("currency", Ty::Enum(CURRENCIES)),
    Field::req(
        "destination",
        Ty::Tagged(&Union {
            tag: "type",
            variants: spec::DESTINATIONS,
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
            Field::req("side", Ty::Enum(spec::TICKER_SIDES)),
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
