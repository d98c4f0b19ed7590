//! Why a webhook was not accepted. The codes are the JS API's `QbitPaySignatureError.code`;
//! `InvalidArgument` is a mistake in the call itself (the JS API throws a `TypeError`).

use super::canonical::PayloadError;
use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureErrorCode {
    MissingSignature,
    MalformedSignature,
    SignatureMismatch,
    InvalidPayload,
    PayloadTooLarge,
    EventTooOld,
    /// No API key, an empty one, or an option out of range: the caller's mistake.
    InvalidArgument,
}

impl SignatureErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureErrorCode::MissingSignature => "missing_signature",
            SignatureErrorCode::MalformedSignature => "malformed_signature",
            SignatureErrorCode::SignatureMismatch => "signature_mismatch",
            SignatureErrorCode::InvalidPayload => "invalid_payload",
            SignatureErrorCode::PayloadTooLarge => "payload_too_large",
            SignatureErrorCode::EventTooOld => "event_too_old",
            SignatureErrorCode::InvalidArgument => "invalid_argument",
        }
    }
}

/// A rejected webhook: a machine-readable code and a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureError {
    pub code: SignatureErrorCode,
    pub message: String,
}

impl SignatureError {
    #[inline(never)]
    pub fn new(code: SignatureErrorCode, message: impl Into<String>) -> Self {
        SignatureError { code, message: message.into() }
    }

    pub(crate) fn payload(message: impl Into<String>) -> Self {
        SignatureError::new(SignatureErrorCode::InvalidPayload, message)
    }

    pub(crate) fn argument(message: impl Into<String>) -> Self {
        SignatureError::new(SignatureErrorCode::InvalidArgument, message)
    }
}

/// A message from its pieces: `[..].concat()` without alloc's `join`, whose overflow
/// `expect` keeps `&str`'s padding formatter in the webhook module (PERFORMANCE.md: sizes).
#[inline(never)]
pub(crate) fn concat(pieces: &[&str]) -> String {
    let mut message = String::new();
    pieces.iter().for_each(|p| message.push_str(p));
    message
}

impl From<PayloadError> for SignatureError {
    fn from(e: PayloadError) -> Self {
        SignatureError::payload(e.message())
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for SignatureError {}
