//! The event's `createdAt` (ISO 8601, `2019-02-25T16:13:12.278Z`) as milliseconds since the
//! epoch, for the `maxAgeSeconds` check; and the reverse, for the sandbox's events.
//! By hand: the `time` crate's RFC 3339 parser would add several KB to the webhook module (PERFORMANCE.md: sizes).

/// Milliseconds since 1970 for `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`, or a plain number of
/// milliseconds. `None` for anything else.
pub fn parse_millis(text: &str) -> Option<f64> {
    parse_millis_bytes(text.as_bytes())
}

/// `i64::from_str`, without the generic integer parser: optional sign, decimal digits.
fn integer(b: &[u8]) -> Option<i64> {
    let (negative, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0i64, |acc, &d| {
        let d = d.checked_sub(b'0').filter(|d| *d <= 9)? as i64;
        acc.checked_mul(10)?.checked_add(if negative { -d } else { d })
    })
}

/// Two ASCII digits as a number.
fn two(&a: &u8, &b: &u8) -> Option<i64> {
    (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from((a - b'0') * 10 + (b - b'0')))
}

/// [`parse_millis`] over bytes.
pub fn parse_millis_bytes(b: &[u8]) -> Option<f64> {
    if let Some(ms) = integer(b) {
        return Some(ms as f64);
    }
    // `YYYY-MM-DDTHH:MM:SS`: its six numbers, each of the digits where the shape has a 0.
    let mut n = [0i64; 6];
    let mut field = 0;
    let (head, rest) = (b.get(..19)?, &b[19..]);
    for (&c, &p) in head.iter().zip(b"0000-00-00T00:00:00") {
        if p == b'0' && c.is_ascii_digit() {
            n[field % 6] = n[field % 6] * 10 + i64::from(c - b'0');
        } else if c == p || (p == b'T' && matches!(c, b't' | b' ')) {
            field += 1;
        } else {
            return None;
        }
    }
    let [y, mo, d, h, mi, s] = n;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let (frac_ms, zone) = match rest {
        [b'.', more @ ..] => {
            let n = more.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            // Milliseconds from the first three digits; finer digits only add a fraction.
            let ms = more
                .iter()
                .take(n.min(3))
                .chain(b"000")
                .take(3)
                .fold(0, |a, &d| a * 10 + i64::from(d - b'0'));
            (ms as f64, more.get(n..)?)
        }
        _ => (0.0, rest),
    };
    let offset_min = match zone {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let m = two(h1, h2)? * 60 + two(m1, m2)?;
            if *sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86400 + h * 3600 + mi * 60 + s - offset_min * 60;
    Some(secs as f64 * 1000.0 + frac_ms)
}

/// `2019-02-25T16:13:12.278Z` for milliseconds since 1970.
pub fn format_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    let mut s = String::with_capacity(24);
    let mut put = |v: i64, width: usize, after: &str| {
        let digits = v.unsigned_abs().to_string();
        (digits.len()..width).for_each(|_| s.push('0'));
        s.push_str(&digits);
        s.push_str(after);
    };
    put(y, 4, "-");
    put(m, 2, "-");
    put(d, 2, "T");
    put(rem / 3600, 2, ":");
    put(rem / 60 % 60, 2, ":");
    put(rem % 60, 2, ".");
    put(ms.rem_euclid(1000), 3, "Z");
    s
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_spec_example() {
        let ms = parse_millis("2019-02-25T16:13:12.278Z").unwrap();
        assert_eq!(ms, 1551111192278.0);
        assert_eq!(format_millis(ms as i64), "2019-02-25T16:13:12.278Z");
        assert_eq!(parse_millis("2019-02-25T17:13:12.278+01:00"), Some(ms));
        assert_eq!(parse_millis("1551111192278"), Some(ms));
        assert_eq!(parse_millis("yesterday"), None);
        assert_eq!(parse_millis("2019-13-25T16:13:12Z"), None);
        // The integer form reads as i64::from_str does.
        for text in [
            "0",
            "+5",
            "-5",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "",
            "+",
            "-",
            "1a",
            " 1",
            "1.5",
            "٣",
        ] {
            assert_eq!(super::integer(text.as_bytes()), text.parse::<i64>().ok(), "{text:?}");
        }
    }
}
