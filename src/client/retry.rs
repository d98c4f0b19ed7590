//! The retry policy: which outcomes are retried and how long to wait before the next try.
//! Randomness comes in as a number in [0, 1), so the policy is deterministic under test.

/// What one attempt ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with this status.
    Status(u16),
    /// The request failed without an answer (DNS, refused, reset...).
    Network,
    /// The attempt ran past its `timeoutMs`.
    Timeout,
}

pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The largest `maxRetries` accepted.
pub const MAX_RETRIES_LIMIT: u32 = 10;
pub const BASE_DELAY_MS: f64 = 500.0;
pub const MAX_DELAY_MS: f64 = 8_000.0;
pub const MAX_RETRY_AFTER_MS: f64 = 60_000.0;

/// Whether this outcome may be tried again: network errors, timeouts, 409, 429 and 5xx.
pub fn is_retryable(outcome: Outcome) -> bool {
    match outcome {
        Outcome::Network | Outcome::Timeout => true,
        Outcome::Status(s) => s == 409 || s == 429 || (500..=599).contains(&s),
    }
}

/// The `Retry-After` header in seconds (delta-seconds form; an HTTP date is ignored and
/// the backoff used instead).
pub fn parse_retry_after(header: Option<&str>) -> Option<f64> {
    let h = header?.trim();
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    serde_json::from_str::<f64>(h).ok().filter(|s| s.is_finite() && *s >= 0.0)
}

/// Full-jitter exponential backoff for the `retry`-th retry (0 for the first):
/// uniform in [0, min(cap, base * 2^retry)).
pub fn backoff_ms(retry: u32, rand: f64) -> f64 {
    let ceiling = (BASE_DELAY_MS * (1u64 << retry.min(30)) as f64).min(MAX_DELAY_MS);
    (rand.clamp(0.0, 1.0) * ceiling) as u64 as f64
}

/// After `attempts` attempts (1 after the first), the delay before the next one, or `None`
/// when the outcome is final (success, not retryable, or retries used up).
pub fn next_delay_ms(
    attempts: u32,
    max_retries: u32,
    outcome: Outcome,
    retry_after_s: Option<f64>,
    rand: f64,
) -> Option<f64> {
    if attempts == 0 || attempts > max_retries || !is_retryable(outcome) {
        return None;
    }
    Some(match retry_after_s {
        Some(s) => {
            let ms = (s * 1000.0).min(MAX_RETRY_AFTER_MS);
            let whole = ms as u64 as f64;
            if whole < ms {
                whole + 1.0
            } else {
                whole
            }
        }
        None => backoff_ms(attempts - 1, rand),
    })
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_retried() {
        for s in [409, 429, 500, 502, 503, 504, 599] {
            assert!(is_retryable(Outcome::Status(s)), "{s}");
        }
        for s in [200, 201, 400, 401, 402, 403, 404, 422] {
            assert!(!is_retryable(Outcome::Status(s)), "{s}");
        }
        assert!(is_retryable(Outcome::Network) && is_retryable(Outcome::Timeout));
    }

    #[test]
    fn backoff_is_full_jitter_doubling_to_the_cap() {
        assert_eq!(backoff_ms(0, 0.0), 0.0);
        assert_eq!(backoff_ms(0, 0.999_999), 499.0);
        assert_eq!(backoff_ms(1, 0.5), 500.0);
        assert_eq!(backoff_ms(2, 0.5), 1000.0);
        assert_eq!(backoff_ms(3, 0.999_999), 3999.0);
        assert_eq!(backoff_ms(4, 0.999_999), 7999.0);
        assert_eq!(backoff_ms(5, 0.999_999), 7999.0); // capped at 8 s
        assert_eq!(backoff_ms(1000, 1.0), 8000.0);
    }

    #[test]
    fn retries_are_counted_and_retry_after_wins_capped() {
        let s503 = Outcome::Status(503);
        assert_eq!(next_delay_ms(1, 2, s503, None, 0.5), Some(250.0));
        assert_eq!(next_delay_ms(2, 2, s503, None, 0.5), Some(500.0));
        assert_eq!(next_delay_ms(3, 2, s503, None, 0.5), None);
        assert_eq!(next_delay_ms(1, 0, s503, None, 0.5), None);
        assert_eq!(next_delay_ms(1, 2, Outcome::Status(400), None, 0.5), None);
        assert_eq!(next_delay_ms(1, 2, Outcome::Status(200), None, 0.5), None);
        assert_eq!(
            next_delay_ms(1, 2, Outcome::Status(429), Some(2.0), 0.5),
            Some(2000.0)
        );
        assert_eq!(
            next_delay_ms(1, 2, Outcome::Status(429), Some(0.25), 0.5),
            Some(250.0)
        );
        assert_eq!(
            next_delay_ms(1, 2, Outcome::Status(429), Some(3600.0), 0.5),
            Some(60_000.0)
        );
        assert_eq!(next_delay_ms(1, 2, Outcome::Timeout, None, 0.0), Some(0.0));
    }

    #[test]
    fn retry_after_header() {
        assert_eq!(parse_retry_after(Some("2")), Some(2.0));
        assert_eq!(parse_retry_after(Some(" 1.5 ")), Some(1.5));
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(Some("")), None);
        assert_eq!(parse_retry_after(None), None);
    }
}
