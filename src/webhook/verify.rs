//! Checking a delivery: the one place where a webhook is accepted or refused. The wasm
//! binding, the sandbox and the tests all call [`verify`]; the JavaScript facade only
//! converts its arguments and maps the error code to `QbitPaySignatureError`.

use super::canonical::{canonicalise, Ambiguity, Canonical};
use super::digest::Algorithm;
use super::error::{concat, SignatureError, SignatureErrorCode as Code};
use super::number::count;
use super::timestamp::parse_millis;
use crate::checked::At;
use subtle::ConstantTimeEq;

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
        VerifyOptions {
            algorithm: Algorithm::Md5,
            max_age_seconds: None,
            now_millis: f64::NAN,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl VerifyOptions {
    /// The options as the JavaScript API spells them (`undefined` as `None`), checked.
    pub fn from_js(
        algorithm: Option<&str>,
        max_age_seconds: Option<f64>,
        now_millis: Option<f64>,
        max_bytes: Option<f64>,
    ) -> Result<Self, SignatureError> {
        let algorithm = parse_algorithm(algorithm)?;
        let max_bytes = match max_bytes {
            None => DEFAULT_MAX_BYTES,
            Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= 9007199254740991.0 => n as usize,
            Some(_) => return Err(SignatureError::argument("options.maxBytes must be a positive integer")),
        };
        if max_age_seconds.is_some_and(|s| !(s >= 0.0 && s.is_finite())) {
            return Err(SignatureError::argument(
                "options.maxAgeSeconds must be a non-negative number of seconds",
            ));
        }
        if now_millis.is_some_and(|t| !t.is_finite()) {
            return Err(SignatureError::argument("options.now must be a Date or a number of milliseconds"));
        }
        Ok(VerifyOptions {
            algorithm,
            max_age_seconds,
            now_millis: now_millis.unwrap_or(f64::NAN),
            max_bytes,
        })
    }
}

/// `options.algorithm`: `md5` (the default) or `hmac-sha256`.
pub fn parse_algorithm(name: Option<&str>) -> Result<Algorithm, SignatureError> {
    match name {
        None => Ok(Algorithm::Md5),
        // The value is not echoed: a key passed in its place would land in a log.
        Some(name) => Algorithm::from_name(name)
            .ok_or_else(|| SignatureError::argument("options.algorithm must be 'md5' or 'hmac-sha256'")),
    }
}

/// A delivery was accepted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verified {
    /// Which of the API keys signed it (the first that matches).
    pub key: usize,
}

/// The event of a delivery as the verifier is given it: the raw body, or an event that
/// JavaScript parsed already ([`super::parsed::ParsedEvent`]). Read at most once, and only
/// after the checks that need no reading.
pub trait Delivery {
    /// Its size in bytes, or a lower bound of it (a JavaScript string's length in UTF-16
    /// units), known before reading it. `None` for an event parsed already: the parser
    /// that made it has bounded its size, and `maxBytes` is about reading.
    fn size(&self) -> Option<usize>;
    /// Whether [`Delivery::size`] is only a lower bound (the message then says "at least").
    fn size_is_lower_bound(&self) -> bool {
        false
    }
    /// Read it: its signing string, or why it is not a signable event.
    fn read(&mut self) -> Result<Canonical, SignatureError>;
    /// Whether it is an event parsed already (the mismatch hint differs).
    fn is_parsed(&self) -> bool {
        false
    }
}

/// A raw body: bytes as received.
impl Delivery for &[u8] {
    fn size(&self) -> Option<usize> {
        Some(self.len())
    }
    fn read(&mut self) -> Result<Canonical, SignatureError> {
        read_raw(self, || false)
    }
}

impl Delivery for &Vec<u8> {
    fn size(&self) -> Option<usize> {
        Some(self.len())
    }
    fn read(&mut self) -> Result<Canonical, SignatureError> {
        read_raw(self, || false)
    }
}

impl Delivery for &str {
    fn size(&self) -> Option<usize> {
        Some(self.len())
    }
    fn read(&mut self) -> Result<Canonical, SignatureError> {
        read_raw(self.as_bytes(), || false)
    }
}

/// A raw body's signing string. `lone_surrogate`: for a body that was a JavaScript string
/// (`bytes` its UTF-8 encoding, where a lone UTF-16 surrogate became U+FFFD), whether the
/// string held one; asked only when that matters (the bytes hold U+FFFD, or are refused).
/// Such a body is refused: no HTTP body can carry it, and JSON.parse would not read U+FFFD.
pub fn read_raw(bytes: &[u8], lone_surrogate: impl FnOnce() -> bool) -> Result<Canonical, SignatureError> {
    let ill_formed = || {
        SignatureError::payload(
            "the body string holds a lone UTF-16 surrogate, which no UTF-8 HTTP body can carry; pass the raw body bytes",
        )
    };
    let read = canonicalise(bytes);
    let asked = read.as_ref().map_or(true, Canonical::has_replacement_char);
    if asked && lone_surrogate() {
        return Err(ill_formed());
    }
    Ok(read?)
}

/// Something that is neither a request body nor a parsed event (`null`, a number, ...):
/// refused when read, named by its JavaScript `typeof`.
pub struct NotAnEvent<'a>(pub &'a str);

impl Delivery for NotAnEvent<'_> {
    fn size(&self) -> Option<usize> {
        None
    }
    fn read(&mut self) -> Result<Canonical, SignatureError> {
        Err(SignatureError::payload(
            concat(&["the webhook needs the raw request body (a string or bytes) or the event your JSON body parser returned, got ", self.0]),
        ))
    }
}

/// Accept the delivery, or say precisely why not. The checks, in this order:
///
/// 1. the call: at least one API key, none empty (`invalid_argument`);
/// 2. the body's size against `max_bytes`, before reading it (`payload_too_large`; when
///    only a lower bound was known, the exact size is checked again as it is read, in 5);
/// 3. the signature present, after trimming ASCII whitespace (`missing_signature`);
/// 4. the signature hex of the algorithm's length, with a hint when it has the other
///    algorithm's length (`malformed_signature`);
/// 5. the body read once: JSON as `JSON.parse` reads it, an object whose signing string
///    reads only one way (no `&` or `=` in a key, no `&` in a string value, no U+FFFD or
///    lone surrogate in either, `data` an object when present) (`invalid_payload`);
/// 6. the signature against each key, in constant time, the signing string hashed once
///    per key (`signature_mismatch`, with a hint when a key has whitespace around it);
/// 7. with `max_age_seconds`, the event's `createdAt` (`invalid_payload` without a valid
///    one, `event_too_old` beyond it).
pub fn verify(
    mut delivery: impl Delivery,
    signature: &str,
    keys: &[&str],
    opts: &VerifyOptions,
) -> Result<Verified, SignatureError> {
    require_keys(keys)?;
    if let Some(size) = delivery.size().filter(|&n| n > opts.max_bytes) {
        return Err(too_large(size, delivery.size_is_lower_bound(), opts.max_bytes));
    }
    let signature = signature.trim_ascii();
    if signature.is_empty() {
        return Err(SignatureError::new(
            Code::MissingSignature,
            "no signature: pass the value of the QbitPay-Signature request header",
        ));
    }
    let expected_len = opts.algorithm.hex_len();
    // Decoded only at the two lengths of a digest, from arrays: their sizes known, hex's
    // decoding loop has no bounds checks left.
    let mut given = [0u8; 32];
    let hex = if let Ok(text) = <&[u8; 64]>::try_from(signature.as_bytes()) {
        hex::decode_to_slice(text, &mut given).is_ok()
    } else if let Ok(text) = <&[u8; 32]>::try_from(signature.as_bytes()) {
        hex::decode_to_slice(text, &mut given[..16]).is_ok()
    } else {
        false
    };
    if !hex || signature.len() != expected_len {
        return Err(malformed(signature.len(), opts.algorithm, hex));
    }
    let given = given.at(..expected_len / 2);
    let canonical = delivery.read()?;
    unambiguous(&canonical)?;
    if let Some(size) = canonical.body_len().filter(|&n| n > opts.max_bytes) {
        return Err(too_large(size, false, opts.max_bytes));
    }
    let matched = keys.iter().position(|key| {
        let expected = opts.algorithm.digest(canonical.pieces(), key.as_bytes());
        bool::from(expected.as_bytes().ct_eq(given))
    });
    let Some(key) = matched else {
        return Err(mismatch(keys, delivery.is_parsed()));
    };
    if let Some(max_age) = opts.max_age_seconds {
        let Some(created) = canonical.created_at().and_then(parse_millis) else {
            return Err(SignatureError::payload("maxAgeSeconds is set but the event has no valid createdAt"));
        };
        let age = (opts.now_millis - created) / 1000.0;
        // Refused also for a NaN age (no clock given).
        let within = age.abs() <= max_age;
        if !within {
            return Err(too_old(age, max_age));
        }
    }
    Ok(Verified { key })
}

// The refusals' messages, out of line: `verify` is inlined into the binding's export, and
// these would be copied into it with it.

#[cold]
#[inline(never)]
fn too_large(size: usize, lower_bound: bool, max_bytes: usize) -> SignatureError {
    SignatureError::new(
        Code::PayloadTooLarge,
        concat(&[
            if lower_bound { "the body is at least " } else { "the body is " },
            &count(size as f64),
            " bytes, above maxBytes (",
            &count(max_bytes as f64),
            ")",
        ]),
    )
}

#[cold]
#[inline(never)]
fn malformed(len: usize, algorithm: Algorithm, hex: bool) -> SignatureError {
    let hint = match (len, algorithm, hex) {
        (64, Algorithm::Md5, true) => " (it looks like HMAC-SHA256: pass { algorithm: 'hmac-sha256' })",
        (32, Algorithm::HmacSha256, true) => {
            " (it looks like MD5, the default algorithm: leave out algorithm)"
        }
        _ => "",
    };
    SignatureError::new(
        Code::MalformedSignature,
        concat(&[
            "the signature must be ",
            &count(algorithm.hex_len() as f64),
            " hex characters for ",
            algorithm.name(),
            hint,
        ]),
    )
}

#[cold]
#[inline(never)]
fn mismatch(keys: &[&str], parsed: bool) -> SignatureError {
    let hint = if keys.iter().any(|k| k.trim_ascii() != *k) {
        " An API key has whitespace at its start or end: trim it."
    } else if parsed {
        " Check the API key and the algorithm, and pass the event exactly as your JSON body parser returned it (no reviver, unmodified)."
    } else {
        " Check the API key and the algorithm, and pass the request body exactly as received (or the event your JSON body parser returned)."
    };
    SignatureError::new(Code::SignatureMismatch, concat(&["the signature does not match the body.", hint]))
}

#[cold]
#[inline(never)]
fn too_old(age: f64, max_age: f64) -> SignatureError {
    let when = if age < 0.0 { "in the future" } else { "old" };
    SignatureError::new(
        Code::EventTooOld,
        // (whole seconds: integer formatting keeps float printing out of the module)
        concat(&[
            "the event's createdAt is ",
            &count(age.abs().trunc()),
            " s ",
            when,
            ", beyond maxAgeSeconds (",
            &count(max_age.trunc()),
            ")",
        ]),
    )
}

/// The `QbitPay-Signature` value for an event: upper-case hex of MD5 or HMAC-SHA256 over
/// `signing string + "&key=" + api_key`.
pub fn sign(mut event: impl Delivery, api_key: &str, algorithm: Algorithm) -> Result<String, SignatureError> {
    require_keys(&[api_key])?;
    let canonical = event.read()?;
    unambiguous(&canonical)?;
    Ok(super::digest::hex_upper(algorithm.digest(canonical.pieces(), api_key.as_bytes()).as_bytes()))
}

/// Refuse an event whose signing string could be another event's (see [`Ambiguity`]):
/// nothing the sender signs, and the only way to forge a delivery from a signed one.
fn unambiguous(canonical: &Canonical) -> Result<(), SignatureError> {
    let Some((why, key)) = canonical.ambiguity() else { return Ok(()) };
    // The key is the sender's or the attacker's text: named only when short and printable.
    let name = std::str::from_utf8(key).ok().filter(|k| k.len() <= 40 && !k.chars().any(char::is_control));
    let message = match (why, name) {
        (Ambiguity::Key, Some(k)) => {
            concat(&["the event's key \"", k, "\" holds '&' or '=', which QbitPay never sends"])
        }
        (Ambiguity::Key, None) => "a key of the event holds '&' or '=', which QbitPay never sends".to_owned(),
        (Ambiguity::Value, Some(k)) => {
            concat(&["the event's \"", k, "\" is a string holding '&', which QbitPay never sends"])
        }
        (Ambiguity::Value, None) => {
            "a top-level string of the event holds '&', which QbitPay never sends".to_owned()
        }
        (Ambiguity::Unpaired, _) => {
            "a top-level key or string of the event holds U+FFFD or a lone surrogate, which sign alike"
                .to_owned()
        }
        (Ambiguity::Type(kind), k) => {
            concat(&["the event's \"", k.unwrap_or_default(), "\" must be ", kind.name()])
        }
    };
    Err(SignatureError::payload(message))
}

fn require_keys(keys: &[&str]) -> Result<(), SignatureError> {
    if keys.is_empty() || keys.iter().any(|k| k.is_empty()) {
        return Err(SignatureError::argument(
            "apiKey must be your QbitPay API key (a non-empty string), or an array of them",
        ));
    }
    Ok(())
}
