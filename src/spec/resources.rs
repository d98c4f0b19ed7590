//! The API as declarations: [`families!`] is the one table of the API's families, their
//! operations and each operation's parameters. The client (validation, URLs, bodies,
//! idempotency, pagination, the JavaScript classes and their TypeScript signatures) and the
//! sandbox (its `/api/v1` routes, the parsing and checking of what they receive, and which
//! state logic answers) are both generic over it.

use super::schema::{CallShape, Field, Invalid, Op, Resource, Rule, Ty, Union, Variant};
use crate::spec::{
    self, BALANCE_TRANSACTION_STATUSES, BALANCE_TRANSACTION_TYPES, BASE_CURRENCIES, CHARGE_AMOUNT,
    CURRENCIES, PAYOUT_AMOUNT, PAYOUT_STATUSES, QUOTE_CURRENCIES,
};
use serde_json::Value as Json;

const CHARGE_FILTERS: &[Field] = &[Field::opt("externalOrderId", Ty::Str)];
const CHARGE_UPDATE: &[Field] = &[Field::req("status", Ty::Enum(spec::CHARGE_UPDATE_STATUSES))];
const CHARGE_CREATE: &[Field] = &[
    Field::req("amount", Ty::Amount(&CHARGE_AMOUNT)),
    Field::req("currency", Ty::Enum(CURRENCIES)),
    Field::req("externalOrderId", Ty::Str),
    Field::req("cbUrl", Ty::Url),
    Field::req("redirectUrl", Ty::Url),
    Field::opt("baseCurrency", Ty::Enum(BASE_CURRENCIES)),
    Field::opt("quoteCurrency", Ty::Enum(QUOTE_CURRENCIES)),
    Field::opt("paymentType", Ty::Enum(spec::PAYMENT_TYPE_NAMES)),
    Field::opt("payerName", Ty::Str),
];

const PAYMENT_TYPE_SUITS_QUOTE: Rule =
    Rule::new("`paymentType` must be one of the payment types of `quoteCurrency` (CNY when absent)", |p| {
        let Some(pt) = p.get("paymentType").and_then(Json::as_str) else {
            return Ok(());
        };
        let quote = p.get("quoteCurrency").and_then(Json::as_str).unwrap_or(spec::DEFAULT_QUOTE_CURRENCY);
        match spec::payment_types(quote) {
            types if !types.is_empty() && !types.contains(&pt) => Err(Invalid::new(
                "paymentType",
                format!(
                    "Invalid paymentType: with quoteCurrency {} it must be one of {}",
                    quote,
                    types.join(", ")
                ),
            )),
            _ => Ok(()),
        }
    });

const BALANCE_TRANSACTION_FILTERS: &[Field] = &[
    Field::opt("type", Ty::Enum(BALANCE_TRANSACTION_TYPES)),
    Field::opt("source", Ty::Str),
    Field::opt("status", Ty::Enum(BALANCE_TRANSACTION_STATUSES)),
];

/// The spec lists `source` "with `type`": a source id filters within one type.
const SOURCE_NEEDS_TYPE: Rule =
    Rule::new("`source` needs `type` (the type of the charge or payout it names)", |p| {
        if p.contains_key("source") && !p.contains_key("type") {
            return Err(Invalid::new(
                "type",
                format!(
                    "Missing required parameter: type (filtering by source needs the type of the source: {})",
                    BALANCE_TRANSACTION_TYPES.join(", ")
                ),
            ));
        }
        Ok(())
    });

const PAYEE: Field = Field::req("payerName", Ty::Str);
const ACCOUNT: &[Field] = &[PAYEE, Field::req("bankAccountNum", Ty::Str)];

/// Where a payout can go, by `destination.type`, and the fields each type takes (all text).
pub const DESTINATION: Union = Union {
    tag: "type",
    variants: &[
        Variant {
            tag: "bankAccount",
            fields: &[
                PAYEE,
                Field::req("bankAccountNum", Ty::Str),
                Field::req("bankName", Ty::Str),
                // A bank's optional details.
                Field::opt("bankRoutingNum", Ty::Str),
                Field::opt("bankDetailName", Ty::Str),
                Field::opt("bankAddr", Ty::Str),
                Field::opt("city", Ty::Str),
                Field::opt("state", Ty::Str),
                Field::opt("country", Ty::Str),
                Field::opt("postalCode", Ty::Str),
                Field::opt("swift", Ty::Str),
            ],
        },
        Variant { tag: "wallet", fields: &[PAYEE, Field::req("addr", Ty::Str)] },
        Variant { tag: "Alipay", fields: ACCOUNT },
        Variant { tag: "PayPal", fields: ACCOUNT },
        Variant { tag: "Coins.ph", fields: ACCOUNT },
        Variant { tag: "GCash", fields: ACCOUNT },
    ],
};

const PAYOUT_CREATE: &[Field] = &[
    Field::req("amount", Ty::Amount(&PAYOUT_AMOUNT)),
    Field::req("currency", Ty::Enum(CURRENCIES)),
    Field::req("destination", Ty::Tagged(&DESTINATION)),
    Field::opt("description", Ty::Str),
    Field::opt("externalOrderId", Ty::Str),
];

const PAYOUT_FILTERS: &[Field] = &[
    // The destination's type, account number or address.
    Field::opt("destination", Ty::Str),
    Field::opt("status", Ty::Enum(PAYOUT_STATUSES)),
];

/// `symbol` is `BASE/QUOTE` (`USDT/CNY`), from the currencies the spec names.
const SYMBOL_IS_A_MARKET: Rule = Rule::new(
    "`symbol` is `BASE/QUOTE` (e.g. `USDT/CNY`), BASE a base currency and QUOTE a quote currency",
    |p| {
        let Some(s) = p.get("symbol").and_then(Json::as_str) else {
            return Ok(());
        };
        if is_market(s) {
            return Ok(());
        }
        Err(Invalid::new(
            "symbol",
            format!(
                "Invalid symbol: must be BASE/QUOTE (e.g. USDT/CNY) with BASE one of {} and QUOTE one of {}",
                BASE_CURRENCIES.join(", "),
                QUOTE_CURRENCIES.join(", ")
            ),
        ))
    },
);

/// One of the BASE × QUOTE pairs. Byte-wise (no str searcher, no slicing panics).
fn is_market(s: &str) -> bool {
    let b = s.as_bytes();
    BASE_CURRENCIES.iter().any(|base| {
        b.starts_with(base.as_bytes())
            && b.get(base.len()) == Some(&b'/')
            && QUOTE_CURRENCIES.iter().any(|q| b.get(base.len() + 1..) == Some(q.as_bytes()))
    })
}

const TICKER: &[Field] = &[Field::req("symbol", Ty::Str), Field::req("side", Ty::Enum(spec::TICKER_SIDES))];
const EVENT_TEST: &[Field] = &[Field::opt("cbUrl", Ty::Url)];

/// Every family of the API, in the order the client gets them, each declared once:
///
/// ```text
/// #[doc = " the class's doc"]
/// Class accessor {
///     #[doc = " the method's doc"]
///     method(arguments) -> "TypeScript result" = the operation;
/// }
/// ```
///
/// The accessor names the client's property (`qp.payouts`) and the path (`/api/v1/payouts`).
/// A method's arguments are what JavaScript passes before the per-call options: none, `id`,
/// `params: Type` (`params?:` when optional) or `id, params: Type`, with their TypeScript
/// types; `list(params?: Type)` makes a list. `-> generic` leaves the signature to the
/// hand-written declarations (`types.d.ts`). `$then` is the macro that receives the table:
/// here the core's constants, in `src/wasm` the classes, in the sandbox its routes' state
/// logic (one entry per operation, or the sandbox does not compile). Docs as `#[doc]`
/// attributes: a `///` in a macro becomes a raw string, which wasm-bindgen copies into the
/// `.d.ts` as written.
#[macro_export]
macro_rules! families {
    ($then:ident) => {
        $then! {
            #[doc = " Charges: payments to collect."]
            Charges charges {
                create(params: ChargeCreateParams) -> "Promise<Returned<Charge>>" =
                    Op::create(CHARGE_CREATE).with_rule(&PAYMENT_TYPE_SUITS_QUOTE);
                retrieve(id) -> "Promise<Returned<Charge>>" = Op::retrieve().with_access_token();
                #[doc = " The only update: `{ status: 'buyerPaid' }` of a pending charge."]
                update(id, params: ChargeUpdateParams) -> "Promise<Returned<Charge>>" =
                    Op::update(CHARGE_UPDATE).with_access_token();
                list(params?: ChargeListParams) -> "ListPromise<Charge>" = Op::list(CHARGE_FILTERS).with_access_token();
            }
            #[doc = " Access tokens for a browser (API key only)."]
            AccessTokens accessToken {
                // A GET with the API key (spec: Authentication).
                create() -> "Promise<Returned<AccessToken>>" = Op::show("");
            }
            #[doc = " The account's fee rates and limits."]
            Accounts accounts {
                retrieve() -> "Promise<Returned<Account>>" = Op::show("/show");
            }
            #[doc = " The merchant's balance."]
            Balances balances {
                retrieve() -> "Promise<Returned<Balance>>" = Op::show("/show");
            }
            #[doc = " Every change of the balance."]
            BalanceTransactions balanceTransactions {
                retrieve(id) -> "Promise<Returned<BalanceTransaction>>" = Op::retrieve();
                list(params?: BalanceTransactionListParams) -> "ListPromise<BalanceTransaction>" =
                    Op::list(BALANCE_TRANSACTION_FILTERS).with_rule(&SOURCE_NEEDS_TYPE);
            }
            #[doc = " Money sent out."]
            Payouts payouts {
                create(params: PayoutCreateParams) -> "Promise<Returned<Payout>>" = Op::create(PAYOUT_CREATE);
                retrieve(id) -> "Promise<Returned<Payout>>" = Op::retrieve();
                list(params?: PayoutListParams) -> "ListPromise<Payout>" = Op::list(PAYOUT_FILTERS);
            }
            #[doc = " Market prices."]
            Markets markets {
                // Generic over the side asked for.
                ticker(params: TickerParams) -> generic = Op::query("/ticker", TICKER).with_rule(&SYMBOL_IS_A_MARKET);
            }
            #[doc = " Webhook debugging."]
            Events events {
                #[doc = " Sends one test event to `cbUrl` (or the configured URL)."]
                test(params?: EventTestParams) -> "Promise<Returned<TestEventResult>>" = Op::query("/test", EVENT_TEST);
            }
        }
    };
}

/// The call shape a method's arguments name (`list(params?: T)`, `retrieve(id)`, ...).
macro_rules! shape_of {
    (list (params?: $t:tt)) => {
        CallShape::List
    };
    ($op:ident ()) => {
        CallShape::None
    };
    ($op:ident (id)) => {
        CallShape::Id
    };
    ($op:ident (params: $t:tt)) => {
        CallShape::Params
    };
    ($op:ident (params?: $t:tt)) => {
        CallShape::Params
    };
    ($op:ident (id, params: $t:tt)) => {
        CallShape::IdParams
    };
}

/// The core's half of the table: a module per family (`resources::payouts`) with a
/// constant per operation (`payouts::create`) and the `RESOURCE`, and [`RESOURCES`].
macro_rules! declare {
    ($(
        $(#[doc = $doc:tt])*
        $class:ident $accessor:ident {
            $( $(#[doc = $op_doc:tt])* $op:ident ($($args:tt)*) -> $ret:tt = $ctor:expr; )*
        }
    )*) => {
        $(
            $(#[doc = $doc])*
            #[allow(non_snake_case, non_upper_case_globals)]
            pub mod $accessor {
                use super::*;
                $( pub const $op: Op = $ctor.named(stringify!($op), shape_of!($op ($($args)*))); )*
                pub const RESOURCE: Resource = Resource {
                    name: stringify!($accessor),
                    path: concat!("/api/v1/", stringify!($accessor)),
                    ops: &[$($op),*],
                };
            }
        )*
        /// Every resource the client exposes, in the order the JS object gets them.
        pub const RESOURCES: &[Resource] = &[$($accessor::RESOURCE),*];
    };
}

families!(declare);

#[cfg(test)]
pub(crate) fn find(name: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::*;

    /// The TypeScript of the objects that cross the boundary, and of the webhook's events.
    const TYPES: &str = include_str!("../wasm/types.d.ts");
    const WEBHOOK_TYPES: &str = include_str!("../../pkg-template/webhook.d.ts");

    /// Each operation of the table and its parameters' TypeScript type (and whether they
    /// are optional), from the table itself.
    macro_rules! params_of {
        ($(
            $(#[doc = $doc:tt])*
            $class:ident $family:ident {
                $( $(#[doc = $op_doc:tt])* $op:ident ($($args:tt)*) -> $ret:tt = $declared:expr; )*
            }
        )*) => {
            &[$($( (&$family::$op, ts_params!($($args)*)) ),*),*]
        };
    }
    macro_rules! ts_params {
        () => {
            None
        };
        (id) => {
            None
        };
        (params: $t:ident) => {
            Some((stringify!($t), false))
        };
        (params?: $t:ident) => {
            Some((stringify!($t), true))
        };
        (id, params: $t:ident) => {
            Some((stringify!($t), false))
        };
    }
    const OPS: &[(&Op, Option<(&str, bool)>)] = families!(params_of);

    /// The declaration `export type <name> ...;` or `export interface <name> ... }` of `src`,
    /// without its comments.
    fn decl(src: &str, name: &str) -> String {
        let at = ["export type ", "export interface "]
            .iter()
            .filter_map(|kw| {
                let head = format!("{kw}{name}");
                src.match_indices(&head)
                    .map(|(i, _)| i)
                    .find(|&i| !src[i + head.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
            })
            .next()
            .unwrap_or_else(|| panic!("no declaration of {name}"));
        let rest = &src[at..];
        let end = if rest.starts_with("export interface") {
            rest.find("\n}\n").unwrap() + 2
        } else {
            rest.find(";\n").unwrap() + 1
        };
        let mut out = String::new();
        let mut text = &rest[..end];
        while let Some(i) = text.find("/*") {
            out.push_str(&text[..i]);
            text = &text[text[i..].find("*/").unwrap() + i + 2..];
        }
        out.push_str(text);
        out.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
    }

    /// The string literals of a declaration (`'USD' | 'USDT'`).
    fn literals(src: &str, name: &str) -> Vec<String> {
        decl(src, name).split('\'').skip(1).step_by(2).map(String::from).collect()
    }

    /// The members a declaration names (not those of a type it extends), each with whether
    /// it is optional there (`name?:`): several entries for a member of a union's variants.
    fn members(src: &str, name: &str) -> Vec<(String, bool)> {
        let d = decl(src, name);
        let body = &d[d.find(['{', '=']).unwrap() + 1..];
        let mut out = Vec::new();
        let b = body.as_bytes();
        for (i, _) in body.match_indices(':') {
            let optional = i > 0 && b[i - 1] == b'?';
            let end = if optional { i - 1 } else { i };
            let start = body[..end].rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |s| s + 1);
            let before = body[..start].trim_end();
            if start < end
                && (before.ends_with(['{', ';', '('])
                    || body[..start].ends_with('\n')
                    || before.is_empty()
                    || body[..start].ends_with("  "))
            {
                out.push((body[start..end].to_string(), optional));
            }
        }
        out
    }

    #[test]
    fn the_typescript_enums_are_the_spec_tables() {
        let dest: Vec<&str> = DESTINATION.variants.iter().map(|d| d.tag).collect();
        for (name, table) in [
            ("Currency", CURRENCIES),
            ("BaseCurrency", BASE_CURRENCIES),
            ("QuoteCurrency", QUOTE_CURRENCIES),
            ("ChargeStatus", CHARGE_STATUSES),
            ("PaymentType", PAYMENT_TYPE_NAMES),
            ("ChargeUpdateParams", CHARGE_UPDATE_STATUSES),
            ("PayoutStatus", PAYOUT_STATUSES),
            ("DestinationType", &dest),
            ("BalanceTransactionType", BALANCE_TRANSACTION_TYPES),
            ("BalanceTransactionStatus", BALANCE_TRANSACTION_STATUSES),
            ("TickerSide", TICKER_SIDES),
        ] {
            assert_eq!(literals(TYPES, name), table, "{name}");
        }
        assert_eq!(literals(WEBHOOK_TYPES, "ChargeEventType"), CHARGE_EVENT_TYPES);
        assert_eq!(literals(WEBHOOK_TYPES, "PayoutEventType"), PAYOUT_EVENT_TYPES);
        // The defaults the declarations document.
        for (default, field) in
            [(DEFAULT_BASE_CURRENCY, "baseCurrency"), (DEFAULT_QUOTE_CURRENCY, "quoteCurrency")]
        {
            assert!(TYPES.contains(&format!("/** Default `{default}`. */\n  {field}?:")), "{field}");
        }
        assert!(TYPES.contains(&format!(
            "/** 1..{MAX_LIST_LIMIT}, default {DEFAULT_LIST_LIMIT}. */\n  limit?: number;"
        )));
        // The amounts' bounds.
        for (ty, Bounds { min, max }) in
            [("ChargeCreateParams", CHARGE_AMOUNT), ("PayoutCreateParams", PAYOUT_AMOUNT)]
        {
            let (min, max) = (js_number(min), js_number(max));
            let doc = format!("export interface {ty} {{\n  /** From {min} to {max}, in units of `currency`. */\n  amount: number;");
            assert!(TYPES.contains(&doc), "{doc}");
        }
    }

    #[test]
    fn the_typescript_parameters_are_the_operations_parameters() {
        let list_params: Vec<String> = members(TYPES, "ListParams").into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            list_params,
            ["limit", "startingAfter", "starting_after", "endingBefore", "ending_before"]
        );
        let mut checked = 0;
        for (op, ts) in OPS {
            let Some((ty, optional)) = ts else {
                assert!(op.params.is_empty(), "{}", op.name);
                continue;
            };
            // The argument is optional exactly when no parameter is required.
            assert_eq!(*optional, op.params.iter().all(|f| !f.required), "{ty}");
            let ts = members(TYPES, ty);
            let names: Vec<&str> =
                ts.iter().map(|(n, _)| n.as_str()).filter(|n| !list_params.iter().any(|l| l == n)).collect();
            for f in op.params {
                assert!(names.contains(&f.name), "{ty} lacks {}", f.name);
                let ts_optional = ts.iter().any(|(n, o)| n == f.name && *o);
                assert_eq!(
                    ts_optional, !f.required,
                    "{ty}.{}: optional in one, required in the other",
                    f.name
                );
            }
            for n in &names {
                assert!(op.params.iter().any(|f| f.name == *n), "{ty}.{n} is no parameter of {}", op.name);
            }
            checked += 1;
        }
        // Every operation that takes parameters has its TypeScript type (none is left out).
        assert_eq!(checked, OPS.iter().filter(|(op, _)| op.shape.has_params()).count());

        // Payout destinations: each type's required and optional fields.
        let bank: Vec<(String, bool)> = members(TYPES, "BankDetails");
        for d in DESTINATION.variants {
            let decl_name = ["BankAccountDestination", "WalletDestination", "AccountDestination"]
                .into_iter()
                .find(|n| {
                    members(TYPES, n).iter().any(|(m, _)| m == DESTINATION.tag)
                        && literals(TYPES, n).iter().any(|t| t == d.tag)
                })
                .unwrap_or_else(|| panic!("no destination declares type {}", d.tag));
            let mut fields = members(TYPES, decl_name);
            if decl(TYPES, decl_name).contains("extends BankDetails") {
                fields.extend(bank.iter().cloned());
            }
            let ts: Vec<(&str, bool)> =
                fields.iter().filter(|(n, _)| n != DESTINATION.tag).map(|(n, o)| (n.as_str(), !o)).collect();
            let table: Vec<(&str, bool)> = d.fields.iter().map(|f| (f.name, f.required)).collect();
            assert_eq!(ts, table, "{}", d.tag);
        }
    }

    // ---- the API reference (docs/api.md): its operations, parameters and limits, from the table

    /// Each family's doc, and each operation's with the arguments JavaScript passes.
    macro_rules! docs_of {
        ($(
            $(#[doc = $doc:tt])*
            $class:ident $family:ident {
                $( $(#[doc = $op_doc:tt])* $op:ident ($($args:tt)*) -> $ret:tt = $declared:expr; )*
            }
        )*) => {
            &[$( (
                &$family::RESOURCE,
                concat!($($doc),*),
                &[$( (&$family::$op, concat!($($op_doc),*), stringify!($($args)*)) ),*],
            ) ),*]
        };
    }
    #[allow(clippy::type_complexity)]
    const DOCS: &[(&Resource, &str, &[(&Op, &str, &str)])] = families!(docs_of);

    /// A parameter's type, in words.
    fn ty_text(ty: Ty) -> String {
        let quoted = |v: &[&str]| v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
        match ty {
            Ty::Str => format!("text, 1 to {MAX_TEXT_CHARS} characters"),
            Ty::Token => "text".into(),
            Ty::Id => "an object id".into(),
            Ty::Enum(v) => format!("one of {}", quoted(v)),
            Ty::Amount(b) => format!("a number from {} to {}", js_number(b.min), js_number(b.max)),
            Ty::Url => "an absolute http(s) URL, at most 2,048 bytes".into(),
            Ty::Int(min, max) => format!("an integer from {min} to {max}"),
            Ty::Bool => "a boolean".into(),
            Ty::Tagged(u) => {
                format!("an object, by `{}`: see [Payout destinations](#payout-destinations)", u.tag)
            }
        }
    }

    fn field_rows(out: &mut String, fields: &[Field]) {
        out.push_str("| parameter | | |\n|---|---|---|\n");
        for f in fields {
            let req = if f.required { "required" } else { "optional" };
            out.push_str(&format!("| `{}` | {req} | {} |\n", f.name, ty_text(f.ty)));
        }
    }

    /// The generated part of `docs/api.md`.
    fn reference() -> String {
        let mut out = String::new();
        for (res, doc, ops) in DOCS {
            out.push_str(&format!("### `qp.{}`\n\n{}\n\n", res.name, doc.trim()));
            for (op, op_doc, args) in ops.iter() {
                let id = if op.shape.has_id() { "/{id}" } else { "" };
                // `id, params: T` → `id, params`
                let args: Vec<&str> = args.split(',').map(|a| a.split(':').next().unwrap().trim()).collect();
                let args = args.join(", ").replace(" ?", "?");
                out.push_str(&format!(
                    "#### `qp.{}.{}({})`\n\n`{} {}{id}{}`: {}.{}\n\n",
                    res.name,
                    op.name,
                    args,
                    op.method.as_str(),
                    res.path,
                    op.suffix,
                    if op.access_token { "the API key or an access token" } else { "the API key only" },
                    op_doc,
                ));
                if op.shape == CallShape::List {
                    out.push_str("[Pagination](#pagination), and the filters:\n\n");
                }
                if op.params.is_empty() {
                    out.push_str(if op.shape == CallShape::List {
                        "(none)\n\n"
                    } else {
                        "No parameters.\n\n"
                    });
                } else {
                    field_rows(&mut out, op.params);
                    out.push('\n');
                }
                if let Some(rule) = op.rule {
                    out.push_str(&format!("Also: {}.\n\n", rule.says));
                }
            }
        }
        out.push_str("### Payout destinations\n\n");
        out.push_str(&format!(
            "`destination` is an object whose `{}` picks the fields it takes (each text, 1 to {MAX_TEXT_CHARS} characters; any other member is refused):\n\n| `{}` | required | optional |\n|---|---|---|\n",
            DESTINATION.tag, DESTINATION.tag
        ));
        for v in DESTINATION.variants {
            let names = |required: bool| {
                v.fields
                    .iter()
                    .filter(|f| f.required == required)
                    .map(|f| format!("`{}`", f.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push_str(&format!("| `{}` | {} | {} |\n", v.tag, names(true), names(false)));
        }
        out.push_str("\n### Payment types by quote currency\n\n| `quoteCurrency` | `paymentType` (the first when absent) |\n|---|---|\n");
        for (quote, types) in PAYMENT_TYPES {
            let default = if *quote == DEFAULT_QUOTE_CURRENCY { " (the default)" } else { "" };
            out.push_str(&format!(
                "| `{quote}`{default} | {} |\n",
                types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
            ));
        }
        out
    }

    const BEGIN: &str = "<!-- generated from src/spec/resources.rs: QBITPAY_WRITE_DOCS=1 cargo test -p qbitpay --lib api_reference -->\n";
    const END: &str = "<!-- end of generated -->";

    /// `docs/api.md`'s operations, parameters, destinations and payment types are the table's:
    /// a change of one without the other fails here (`QBITPAY_WRITE_DOCS=1` rewrites them).
    #[test]
    fn the_api_reference_is_the_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let start = doc.find(BEGIN).expect("docs/api.md: no generated section") + BEGIN.len();
        let end = start + doc[start..].find(END).unwrap();
        let want = format!("\n{}\n", reference());
        if std::env::var_os("QBITPAY_WRITE_DOCS").is_some() {
            std::fs::write(&path, format!("{}{want}{}", &doc[..start], &doc[end..])).unwrap();
        } else {
            assert!(doc[start..end] == want, "docs/api.md differs from the table: QBITPAY_WRITE_DOCS=1 cargo test -p qbitpay --lib api_reference");
        }
        // The prose's numbers are the table's too.
        for fact in [
            format!("at most {MAX_TEXT_CHARS} characters"),
            format!("`limit` (1 to {MAX_LIST_LIMIT}, default {DEFAULT_LIST_LIMIT})"),
        ] {
            assert!(doc.contains(&fact), "docs/api.md does not say {fact}");
        }
    }
}
