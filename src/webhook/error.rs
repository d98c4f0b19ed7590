//! Why a webhook was not accepted. The codes are the JS API's `QbitPaySignatureError.code`.

use super::canonical::PayloadError;
use crate::prelude::*;
use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureErrorCode {
    MissingSignature,
    MalformedSignature,
    SignatureMismatch,
    InvalidPayload,
    PayloadTooLarge,
    EventTooOld,
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
    pub fn new(code: SignatureErrorCode, message: impl Into<String>) -> Self {
        SignatureError { code, message: message.into() }
    }
}

impl From<PayloadError> for SignatureError {
    fn from(e: PayloadError) -> Self {
        SignatureError::new(SignatureErrorCode::InvalidPayload, e.message())
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())?;
        f.write_str(": ")?;
        f.write_str(&self.message)
    }
}

impl core::error::Error for SignatureError {}
