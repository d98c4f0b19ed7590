//! Checking a delivery: the `QbitPay-Signature` header against the raw body and API key.

use super::canonical::canonicalise;
use super::digest::{constant_time_eq, decode_hex, Algorithm};
use super::error::{SignatureError, SignatureErrorCode as Code};
use super::timestamp::parse_millis;
use crate::text::{cat, decimal};

/// Bodies above this are refused before any parsing (1 MiB; events are a few KB).
pub const DEFAULT_MAX_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    pub algorithm: Algorithm,
    /// Reject events whose `createdAt` is further than this from `now_millis`. Off by
    /// default: QbitPay retries a delivery for 75 minutes with the original `createdAt`.
    pub max_age_seconds: Option<f64>,
    /// The current time (wasm has no clock of its own: JS passes `Date.now()`).
    pub now_millis: f64,
    pub max_bytes: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { algorithm: Algorithm::Md5, max_age_seconds: None, now_millis: f64::NAN, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// Accept the delivery, or say precisely why not.
pub fn verify(body: &[u8], signature: &str, api_key: &str, opts: &VerifyOptions) -> Result<(), SignatureError> {
    let signature = signature.trim_ascii();
    if signature.is_empty() {
        return Err(SignatureError::new(
            Code::MissingSignature,
            "no signature: pass the value of the QbitPay-Signature request header",
        ));
    }
    if body.len() > opts.max_bytes {
        return Err(SignatureError::new(
            Code::PayloadTooLarge,
            cat(&["the body is ", &decimal(body.len() as u64), " bytes, above maxBytes (", &decimal(opts.max_bytes as u64), ")"]),
        ));
    }
    let expected_len = opts.algorithm.hex_len();
    let given = match decode_hex(signature) {
        Some(bytes) if signature.len() == expected_len => bytes,
        _ => {
            let hint = match (signature.len(), opts.algorithm) {
                (64, Algorithm::Md5) if decode_hex(signature).is_some() => {
                    " (it looks like HMAC-SHA256: pass { algorithm: 'hmac-sha256' })"
                }
                (32, Algorithm::HmacSha256) if decode_hex(signature).is_some() => {
                    " (it looks like MD5, the default algorithm)"
                }
                _ => "",
            };
            return Err(SignatureError::new(
                Code::MalformedSignature,
                cat(&["the signature must be ", &decimal(expected_len as u64), " hex characters for ", opts.algorithm.name(), hint]),
            ));
        }
    };
    let canonical = canonicalise(body)?;
    let expected = opts.algorithm.digest_with(api_key.as_bytes(), &mut |sink| canonical.write(sink));
    if !constant_time_eq(&expected, &given) {
        let hint = if api_key.trim_ascii() != api_key {
            " The API key has whitespace at its start or end: trim it."
        } else if api_key.is_empty() {
            " The API key is empty."
        } else {
            " Check the API key, pass the raw request body exactly as received, and that the algorithm matches."
        };
        return Err(SignatureError::new(
            Code::SignatureMismatch,
            cat(&["the signature does not match the body.", hint]),
        ));
    }
    if let Some(max_age) = opts.max_age_seconds {
        let Some(created) = canonical.created_at().and_then(parse_millis) else {
            return Err(SignatureError::new(
                Code::InvalidPayload,
                "maxAgeSeconds is set but the event has no valid createdAt",
            ));
        };
        let age = (opts.now_millis - created) / 1000.0;
        let within = age.abs() <= max_age; // false for a NaN age too
        if !within {
            let when = if age < 0.0 { "in the future" } else { "old" };
            return Err(SignatureError::new(
                Code::EventTooOld,
                cat(&["the event's createdAt is ", &decimal(age.abs() as u64), " s ", when, ", beyond maxAgeSeconds (", &decimal(max_age as u64), ")"]),
            ));
        }
    }
    Ok(())
}
