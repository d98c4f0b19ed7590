//! The `qbitpay/webhook` module: verify and sign, nothing else, so an edge function loads
//! only this. Results cross as plain strings to keep the glue small: "" means accepted,
//! otherwise `code<TAB>message`.

use crate::webhook::{self, Algorithm, SignatureError, VerifyOptions};
use crate::prelude::*;
use wasm_bindgen::prelude::*;

fn algorithm(code: u8) -> Algorithm {
    if code == 1 {
        Algorithm::HmacSha256
    } else {
        Algorithm::Md5
    }
}

fn outcome(result: Result<(), SignatureError>) -> String {
    match result {
        Ok(()) => String::new(),
        Err(e) => crate::text::cat(&[e.code.as_str(), "\t", &e.message]),
    }
}

fn options(alg: u8, max_age_seconds: f64, now_ms: f64, max_bytes: f64) -> VerifyOptions {
    VerifyOptions {
        algorithm: algorithm(alg),
        max_age_seconds: (!max_age_seconds.is_nan()).then_some(max_age_seconds),
        now_millis: now_ms,
        max_bytes: max_bytes as usize,
    }
}

/// Verify a body given as bytes (`Uint8Array`, `Buffer`).
#[wasm_bindgen(js_name = verifyBytes)]
pub fn verify_bytes(body: &[u8], signature: &str, api_key: &str, alg: u8, max_age_seconds: f64, now_ms: f64, max_bytes: f64) -> String {
    outcome(webhook::verify(body, signature, api_key, &options(alg, max_age_seconds, now_ms, max_bytes)))
}

/// Verify a body given as a string (encoded straight into wasm memory, no extra copy).
#[wasm_bindgen(js_name = verifyString)]
pub fn verify_string(body: &str, signature: &str, api_key: &str, alg: u8, max_age_seconds: f64, now_ms: f64, max_bytes: f64) -> String {
    verify_bytes(body.as_bytes(), signature, api_key, alg, max_age_seconds, now_ms, max_bytes)
}

/// The signature header value, or `invalid_payload<TAB>message`.
#[wasm_bindgen]
pub fn sign(body: &[u8], api_key: &str, alg: u8) -> String {
    match webhook::sign(body, api_key, algorithm(alg)) {
        Ok(hex) => hex,
        Err(e) => outcome(Err(e.into())),
    }
}
