//! JSON numbers as JavaScript prints them after `JSON.parse`: the nearest double, then
//! `Number.prototype.toString` (shortest round-trip digits, ECMAScript's choice of fixed or
//! exponent notation, `-0` as `0`).

/// What [`write`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number {
    /// The text is in the output.
    Finite,
    /// The literal overflows a double; nothing was written (`JSON.stringify` says `null`,
    /// `String()` says `Infinity`).
    Infinite { negative: bool },
}

/// The end of the JSON number starting at `start`, or the offset of the first byte that
/// breaks the grammar `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
pub fn scan(src: &[u8], start: usize) -> Result<usize, usize> {
    let mut i = start;
    let digit = |i: usize| src.get(i).is_some_and(u8::is_ascii_digit);
    if src.get(i) == Some(&b'-') {
        i += 1;
    }
    match src.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while digit(i) {
                i += 1;
            }
        }
        _ => return Err(i),
    }
    if src.get(i) == Some(&b'.') {
        i += 1;
        if !digit(i) {
            return Err(i);
        }
        while digit(i) {
            i += 1;
        }
    }
    if let Some(b'e' | b'E') = src.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = src.get(i) {
            i += 1;
        }
        if !digit(i) {
            return Err(i);
        }
        while digit(i) {
            i += 1;
        }
    }
    // JSON.parse rejects "01": a leading zero may not be followed by more digits.
    if digit(i) {
        return Err(i);
    }
    Ok(i)
}

/// Whether JavaScript prints the number whose JSON text is `lit` (valid per [`scan`])
/// exactly as written (see [`canonical_end`]).
pub fn is_canonical(lit: &[u8]) -> bool {
    canonical_end(lit, 0) == Some(lit.len())
}

/// The end of the number at `start` when JavaScript prints it exactly as written: no
/// exponent, at most 15 digits, no trailing zero after a point, not `-0`, and below 1 no
/// more than five zeros after the point (`0.000001`, not `1e-7`). The common case (`1000`,
/// `12.34`, `-5`), copied without further work; `None` for the rest (or not a number).
#[inline(always)]
pub fn canonical_end(src: &[u8], start: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        while src.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let lead = start + usize::from(src.get(start) == Some(&b'-'));
    let int_end = digits(lead);
    let (zero, int_len) = (src.get(lead) == Some(&b'0'), int_end - lead);
    let mut end = int_end;
    let mut plain = int_len > 0 && (!zero || int_len == 1);
    if src.get(end) == Some(&b'.') {
        end = digits(end + 1);
        // 0.0000001 and smaller print with an exponent.
        plain &= end > int_end + 1
            && src.get(end - 1) != Some(&b'0')
            && !(zero && src.get(int_end + 1..int_end + 7) == Some(b"000000"));
        plain &= end - lead <= 16;
    } else {
        // -0 prints as 0.
        plain &= int_len <= 15 && !(zero && lead > start);
    }
    (plain && !matches!(src.get(end), Some(b'e' | b'E'))).then_some(end)
}

/// What JavaScript prints for `lit` when that is `lit` itself or `lit` without the zeros
/// ending its fraction (`12.30` → `12.3`, `1.0` → `1`, `-0.0` → `0`); `None` for the rest
/// (exponents, more than 15 digits, tiny fractions), which [`write`] works out.
#[inline]
pub fn simple(lit: &[u8]) -> Option<&[u8]> {
    if is_canonical(lit) {
        return Some(lit);
    }
    let mut text = lit;
    if lit.contains(&b'.') && !lit.iter().any(|&b| b == b'e' || b == b'E') {
        while let [rest @ .., b'0'] = text {
            text = rest;
        }
        if let [rest @ .., b'.'] = text {
            text = rest;
        }
    }
    match text {
        b"-0" => Some(b"0"),
        text if text.len() < lit.len() && is_canonical(text) => Some(text),
        _ => None,
    }
}

/// Write the number whose JSON text is `lit` (already validated by [`scan`]).
pub fn write(lit: &[u8], out: &mut Vec<u8>) -> Number {
    match simple(lit) {
        Some(text) => {
            out.extend_from_slice(text);
            Number::Finite
        }
        // The webhook module leaves the rest (exponents, more than 15 digits: rare in events)
        // to JavaScript's Number and String, one call each, instead of `general` (smaller).
        None if cfg!(all(target_arch = "wasm32", feature = "js-numbers")) => {
            host::print(lit, lit.first() == Some(&b'-'), out)
        }
        None => general(lit, out),
    }
}

/// Any number, the ECMAScript way: exact for up to 15 significant digits, through the
/// correctly rounded double beyond.
fn general(lit: &[u8], out: &mut Vec<u8>) -> Number {
    let negative = lit[0] == b'-';
    let body = if negative { &lit[1..] } else { lit };
    let mantissa_end = body.iter().position(|&b| b == b'e' || b == b'E').unwrap_or(body.len());
    let (mantissa, exp_text) = body.split_at(mantissa_end);
    let point = mantissa.iter().position(|&b| b == b'.').unwrap_or(mantissa.len());

    // Significant digits and n, the position of the decimal point relative to them
    // (value = 0.d1d2…dk × 10^n), as ECMAScript's Number::toString names them.
    let digits = mantissa.iter().filter(|b| b.is_ascii_digit());
    let leading_zeros = digits.clone().take_while(|&&b| b == b'0').count();
    let all: usize = mantissa.len() - usize::from(point < mantissa.len());
    if leading_zeros == all {
        out.push(b'0'); // 0, -0, 0.000e5
        return Number::Finite;
    }
    let trailing_zeros =
        mantissa.iter().rev().filter(|b| b.is_ascii_digit()).take_while(|&&b| b == b'0').count();
    let k = all - leading_zeros - trailing_zeros;
    let exp = parse_exponent(exp_text);
    let n = point as i64 - leading_zeros as i64 + exp;

    // Up to 15 significant digits name exactly one double, and no shorter decimal names
    // the same one, so those digits are already the shortest round-trip form. Outside
    // the normal range (or with more digits) go through the correctly rounded double.
    if k <= 15 && (-300..=300).contains(&n) {
        if negative {
            out.push(b'-');
        }
        let mut sig = [0u8; 15];
        for (slot, &d) in sig.iter_mut().zip(digits.skip(leading_zeros).take(k)) {
            *slot = d;
        }
        format_ecmascript(&sig[..k], n, out);
        return Number::Finite;
    }
    host::print(lit, negative, out)
}

/// The rare numbers the fast path cannot print: the correctly rounded double, then
/// `String` of it (`spec`: `ryu-js` on the host, JavaScript's own in the wasm modules).
mod host {
    use super::Number;

    #[cfg(not(all(target_arch = "wasm32", feature = "js-numbers")))]
    fn parse(lit: &[u8]) -> f64 {
        core::str::from_utf8(lit).ok().and_then(|t| t.parse().ok()).unwrap_or(f64::NAN)
    }

    #[cfg(all(target_arch = "wasm32", feature = "js-numbers"))]
    fn parse(lit: &[u8]) -> f64 {
        // A literal that `scan` accepted is ASCII.
        core::str::from_utf8(lit).map_or(f64::NAN, crate::spec::host::number)
    }

    pub fn print(lit: &[u8], negative: bool, out: &mut Vec<u8>) -> Number {
        let value = parse(lit);
        if value.is_infinite() {
            return Number::Infinite { negative };
        }
        out.extend_from_slice(crate::spec::js_number(value).as_bytes());
        Number::Finite
    }
}

/// A whole number in an error message, as JavaScript writes it: messages are concatenated
/// around these instead of format!ted, which keeps format! and the u64 and char Display
/// impls out of the webhook module.
pub(crate) fn count(n: f64) -> String {
    crate::spec::js_number(n)
}

/// The exponent part (`e-7`), saturated far beyond any double's range.
fn parse_exponent(text: &[u8]) -> i64 {
    if text.is_empty() {
        return 0;
    }
    let (negative, digits) = match text[1] {
        b'-' => (true, &text[2..]),
        b'+' => (false, &text[2..]),
        _ => (false, &text[1..]),
    };
    let magnitude = digits.iter().fold(0i64, |acc, &d| (acc * 10 + (d - b'0') as i64).min(1 << 40));
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// Number::toString steps 6–10 for digits `s` (k of them, no leading or trailing zeros)
/// and decimal position `n`.
fn format_ecmascript(s: &[u8], n: i64, out: &mut Vec<u8>) {
    let k = s.len() as i64;
    if k <= n && n <= 21 {
        out.extend_from_slice(s);
        out.resize(out.len() + (n - k) as usize, b'0');
    } else if 0 < n && n <= 21 {
        out.extend_from_slice(&s[..n as usize]);
        out.push(b'.');
        out.extend_from_slice(&s[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-n) as usize, b'0');
        out.extend_from_slice(s);
    } else {
        out.push(s[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&s[1..]);
        }
        out.push(b'e');
        let e = n - 1;
        out.push(if e < 0 { b'-' } else { b'+' });
        out.extend_from_slice(e.unsigned_abs().to_string().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    fn js(lit: &str) -> String {
        let mut out = Vec::new();
        match super::write(lit.as_bytes(), &mut out) {
            super::Number::Finite => String::from_utf8(out).unwrap(),
            super::Number::Infinite { negative } => if negative { "-Infinity" } else { "Infinity" }.into(),
        }
    }

    /// The general printer alone (ryu-js on the host), as the independent reference for the
    /// fast paths: `write` itself tries those first, so comparing them with `js` proves nothing.
    fn reference(lit: &str) -> String {
        let mut out = Vec::new();
        match super::general(lit.as_bytes(), &mut out) {
            super::Number::Finite => String::from_utf8(out).unwrap(),
            super::Number::Infinite { negative } => if negative { "-Infinity" } else { "Infinity" }.into(),
        }
    }

    #[test]
    fn prints_like_javascript() {
        for (lit, expect) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0e10", "0"),
            ("1.0", "1"),
            ("1.50", "1.5"),
            ("100", "100"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("123456789012345678901", "123456789012345680000"),
            ("5e-7", "5e-7"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("1.5e-7", "1.5e-7"),
            ("9007199254740993", "9007199254740992"),
            ("0.1", "0.1"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("1e400", "Infinity"),
            ("-1e400", "-Infinity"),
            ("1e-400", "0"),
            ("4.9e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("123e-2", "1.23"),
            ("-12.340", "-12.34"),
            ("1E+2", "100"),
            ("0.1e1", "1"),
            ("100e-2", "1"),
            ("1e999999999999999999999", "Infinity"),
            ("1e-999999999999999999999", "0"),
        ] {
            assert_eq!(js(lit), expect, "{lit}");
        }
    }

    #[test]
    fn canonical_literals_print_as_written() {
        let lits = [
            "0",
            "-0",
            "5",
            "-5",
            "1000",
            "12.34",
            "1.50",
            "0.5",
            "-0.5",
            "0.000001",
            "0.0000001",
            "0.0",
            "-0.0",
            "123456789012345",
            "1234567890123456",
            "12345678901234.5",
            "1234567890123.45",
            "1.234567890123456",
            "0.00000123456789012",
            "100000000000000000000",
            "1e5",
            "0.10",
            "10.01",
        ];
        for lit in lits {
            if super::is_canonical(lit.as_bytes()) {
                assert_eq!(reference(lit), lit, "{lit} is not printed as written");
            }
        }
        for lit in [
            "0",
            "5",
            "-5",
            "1000",
            "12.34",
            "0.5",
            "-0.5",
            "0.000001",
            "123456789012345",
            "12345678901234.5",
        ] {
            assert!(super::is_canonical(lit.as_bytes()), "{lit} should take the fast path");
        }
    }

    #[test]
    fn simple_numbers_print_like_javascript() {
        for lit in [
            "0",
            "-0",
            "-0.0",
            "0.0",
            "1.0",
            "12.30",
            "100.00",
            "-0.10",
            "0.000001",
            "0.0000010",
            "0.00000010",
            "1234567890123456.0",
            "123456789012345.0",
            "12345678901234.50",
            "5",
            "-5.500",
            "1e5",
            "1.0e5",
            "10",
            "0.50",
        ] {
            if let Some(text) = super::simple(lit.as_bytes()) {
                assert_eq!(core::str::from_utf8(text).unwrap(), reference(lit), "{lit}");
            }
        }
        for lit in ["-0", "-0.0", "1.0", "12.30", "100.00", "-0.10", "0.0000010"] {
            assert!(super::simple(lit.as_bytes()).is_some(), "{lit} should be simple");
        }
    }

    #[test]
    fn js_string_of_doubles() {
        for (v, expect) in [
            (0.0, "0"),
            (-0.0, "0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (123.456, "123.456"),
            (-5.0, "-5"),
        ] {
            assert_eq!(crate::spec::js_number(v), expect);
        }
    }

    #[test]
    fn scans_json_grammar() {
        for bad in ["-", "01", "1.", ".5", "1e", "1e+", "-a", "00"] {
            assert!(super::scan(bad.as_bytes(), 0).is_err(), "{bad} should be rejected");
        }
        for good in ["0", "-0", "1.5", "1e5", "1E-5", "-12.5e+3"] {
            assert_eq!(super::scan(good.as_bytes(), 0), Ok(good.len()), "{good}");
        }
    }
}
