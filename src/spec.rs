//! The API's fixed facts, read by the client's declarations, the webhook verifier and the
//! sandbox alike: currencies, payment types, statuses, limits, event types, the callback URL
//! rule and how JavaScript prints a number. Compiled with or without
//! the `client` feature. With the `schema` feature (the client's, and the sandbox's), also
//! the API's operations and their parameters as one table ([`resources`]) and the validator
//! both sides run over it ([`schema`]).

use crate::checked::At;

#[cfg(feature = "schema")]
pub mod resources;
#[cfg(feature = "schema")]
pub mod schema;

/// What a charge or a payout is denominated in.
pub const CURRENCIES: &[&str] = &["USD", "USDT"];
/// What a charge's amount is converted to (`baseCurrency`), BTC when absent.
pub const BASE_CURRENCIES: &[&str] = &["BTC", "USDT"];
pub const DEFAULT_BASE_CURRENCY: &str = "BTC";
/// What the payer pays in (`quoteCurrency`), CNY when absent.
pub const QUOTE_CURRENCIES: &[&str] = &["CNY", "USD", "PHP"];
pub const DEFAULT_QUOTE_CURRENCY: &str = "CNY";

/// The payment types a payer may use, by quote currency; the first is the default.
pub const PAYMENT_TYPES: &[(&str, &[&str])] = &[
    ("CNY", &["Alipay", "Yunshanfu", "bankAccount"]),
    ("USD", &["PayPal", "bankAccount"]),
    ("PHP", &["Coins.ph", "GCash"]),
];
/// Every payment type of [`PAYMENT_TYPES`], each once, in its order.
pub const PAYMENT_TYPE_NAMES: &[&str] =
    &["Alipay", "Yunshanfu", "bankAccount", "PayPal", "Coins.ph", "GCash"];

/// The payment types of `quote` (none for an unknown currency).
pub fn payment_types(quote: &str) -> &'static [&'static str] {
    PAYMENT_TYPES.iter().find(|(q, _)| *q == quote).map_or(&[], |(_, t)| t)
}

pub const CHARGE_STATUSES: &[&str] =
    &["pending", "buyerPaid", "sellerConfirmed", "closed", "cancelled", "dispute"];
/// The one status a merchant may set (`charges.update`): a pending charge the buyer paid.
pub const CHARGE_UPDATE_STATUSES: &[&str] = &["buyerPaid"];
pub const PAYOUT_STATUSES: &[&str] = &["pending", "inTransit", "paid", "cancelled", "failed"];
pub const BALANCE_TRANSACTION_TYPES: &[&str] = &["charge", "payout", "payout_cancel", "payout_failure"];
pub const BALANCE_TRANSACTION_STATUSES: &[&str] = &["pending", "available"];
pub const TICKER_SIDES: &[&str] = &["ask", "bid"];

/// The smallest and largest amount an operation takes (both included).
#[derive(Debug)]
pub struct Bounds {
    pub min: f64,
    pub max: f64,
}

/// A charge's `amount`, in units of its currency (USD and USDT count 1:1): what
/// `accounts.retrieve()` reports as `limit.pay`.
pub const CHARGE_AMOUNT: Bounds = Bounds { min: 0.01, max: 1_000_000.0 };
/// A payout's `amount`: at least `limit.payout.min`. The API states no ceiling; a billion
/// keeps amount plus fee far inside what a double holds to the cent.
pub const PAYOUT_AMOUNT: Bounds = Bounds { min: 1.0, max: 1_000_000_000.0 };
/// The longest text parameter (`description`, `externalOrderId`, a destination's fields...),
/// in characters (Unicode code points).
pub const MAX_TEXT_CHARS: usize = 500;

/// A list's page size when none is asked for, and the largest one.
pub const DEFAULT_LIST_LIMIT: u32 = 10;
pub const MAX_LIST_LIMIT: u32 = 100;

pub const CHARGE_EVENT_TYPES: &[&str] = &[
    "charge.succeeded",
    "charge.expired",
    "charge.failed",
    "charge.dispute.created",
    "charge.dispute.closed",
];
pub const PAYOUT_EVENT_TYPES: &[&str] =
    &["payout.pending", "payout.inTransition", "payout.paid", "payout.failed", "payout.cancelled"];

/// Whether a webhook event type is one the API sends.
pub fn is_event_type(ty: &str) -> bool {
    CHARGE_EVENT_TYPES.contains(&ty) || PAYOUT_EVENT_TYPES.contains(&ty)
}

/// The URL rule of `cbUrl`, `redirectUrl` and `baseUrl`: an absolute `http:` or `https:`
/// URL with a host, at most 2,048 bytes, no whitespace or control characters.
pub fn is_http_url(s: &str) -> bool {
    // Byte-wise, without str slicing (whose panic path drags in the formatter).
    let b = s.as_bytes();
    let prefix = |p: &[u8]| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p);
    let start = if prefix(b"https://") {
        8
    } else if prefix(b"http://") {
        7
    } else {
        return false;
    };
    let mut host_start = start;
    let mut end = start;
    while end < b.len() && !matches!(b[end], b'/' | b'?' | b'#') {
        if b[end] == b'@' {
            host_start = end + 1;
        }
        end += 1;
    }
    end > host_start && *b.at(host_start) != b':' && b.len() <= 2048 && !has_blank_or_control(s)
}

/// Whether `s` has a whitespace or control character; ASCII text (the usual case) byte by
/// byte, where those are exactly the bytes up to the space, and DEL.
fn has_blank_or_control(s: &str) -> bool {
    if s.is_ascii() {
        return s.bytes().any(|b| b <= b' ' || b == 0x7f);
    }
    s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `n` as an integer if JavaScript holds it exactly (`Number.isSafeInteger`): whole amounts
/// go on the wire as `100`, not `100.0`.
pub fn safe_int(n: f64) -> Option<i64> {
    (n.is_finite() && n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0).then_some(n as i64)
}

/// `String(n)`: a number as JavaScript prints it (`NaN` and `Infinity` included).
pub fn js_number(n: f64) -> String {
    host::string(n)
}

/// The shortest round-trip digits in ECMAScript's format.
#[cfg(not(all(target_arch = "wasm32", feature = "js-numbers")))]
pub(crate) mod host {
    pub fn string(n: f64) -> String {
        ryu_js::Buffer::new().format(n).to_owned()
    }
}

/// In the wasm modules, JavaScript's own `String` and `Number` through ordinary imports:
/// float printing and parsing with their tables would add to the module every edge
/// function loads (PERFORMANCE.md: sizes).
#[cfg(all(target_arch = "wasm32", feature = "js-numbers"))]
pub(crate) mod host {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = Number)]
        pub fn number(text: &str) -> f64;
        #[wasm_bindgen(js_name = String)]
        pub fn string(value: f64) -> String;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_type_names_are_the_types_by_quote_once_each() {
        let mut names: Vec<&str> = Vec::new();
        for t in PAYMENT_TYPES.iter().flat_map(|(_, t)| t.iter()) {
            if !names.contains(t) {
                names.push(t);
            }
        }
        assert_eq!(names, PAYMENT_TYPE_NAMES);
        assert_eq!(payment_types(DEFAULT_QUOTE_CURRENCY)[0], "Alipay");
        assert!(payment_types("EUR").is_empty());
        assert!(
            QUOTE_CURRENCIES.contains(&DEFAULT_QUOTE_CURRENCY)
                && BASE_CURRENCIES.contains(&DEFAULT_BASE_CURRENCY)
        );
        assert!(is_event_type("payout.inTransition") && !is_event_type("payout.inTransit"));
    }

    /// The event types as the JavaScript facades and declarations spell them (they cannot
    /// import this table): each file names all of them, and nothing else of their shape.
    #[test]
    fn event_types_are_spelt_alike_in_every_facade() {
        let files = [
            ("pkg-template/webhook.d.ts", include_str!("../pkg-template/webhook.d.ts")),
            ("pkg-template/src/handler.mjs", include_str!("../pkg-template/src/handler.mjs")),
            ("pkg-template/src/testing.mjs", include_str!("../pkg-template/src/testing.mjs")),
            ("npm/qbitpay-sandbox/index.d.ts", include_str!("../npm/qbitpay-sandbox/index.d.ts")),
        ];
        let all: std::collections::BTreeSet<&str> =
            CHARGE_EVENT_TYPES.iter().chain(PAYOUT_EVENT_TYPES).copied().collect();
        for (file, text) in files {
            let named: std::collections::BTreeSet<&str> = text
                .split(['\'', '"', '`'])
                .filter(|s| {
                    (s.starts_with("charge.") || s.starts_with("payout."))
                        && s.len() > 7
                        && s.chars().all(|c| c.is_ascii_alphabetic() || c == '.')
                })
                .collect();
            assert_eq!(named, all, "{file}");
        }
    }

    #[test]
    fn blank_or_control_ascii_bytes_agree_with_chars() {
        let by_chars = |s: &str| s.chars().any(|c| c.is_whitespace() || c.is_control());
        for b in 0u8..0x80 {
            let s = format!("a{}b", b as char);
            assert_eq!(has_blank_or_control(&s), by_chars(&s), "{b:#x}");
        }
        for s in ["é", "a\u{85}", "a\u{a0}b", "\u{2028}", "\u{3000}", "山田", "a\u{9f}"] {
            assert_eq!(has_blank_or_control(s), by_chars(s), "{s:?}");
        }
    }

    #[test]
    fn urls() {
        for ok in
            ["http://127.0.0.1:8080/cb", "https://example.com", "HTTPS://example.com/a?b#c", "http://u@h"]
        {
            assert!(is_http_url(ok), "{ok}");
        }
        let long = format!("https://h/{}", "a".repeat(2048));
        for bad in [
            "",
            "example.com",
            "ftp://x",
            "https://",
            "http:///path",
            "https://a b",
            "/relative",
            "javascript:alert(1)",
            "http://:80",
            &long,
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_print_as_javascript_does() {
        for (n, s) in [
            (100.0, "100"),
            (-0.0, "0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (123456789012345680000.0, "123456789012345680000"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(js_number(n), s);
        }
        assert_eq!(safe_int(9_007_199_254_740_991.0), Some(9_007_199_254_740_991));
        assert_eq!(
            (safe_int(9_007_199_254_740_992.0), safe_int(0.5), safe_int(f64::INFINITY)),
            (None, None, None)
        );
        assert_eq!(safe_int(-0.0), Some(0));
    }
}
