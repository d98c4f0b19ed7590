//! Webhook signatures: the `QbitPay-Signature` header over an event (spec: Webhooks).
//!
//! The sender signs a re-serialisation of the parsed event, so [`canonical`] reproduces
//! JavaScript's `JSON.parse` + `JSON.stringify` in one pass over the raw bytes; [`digest`]
//! hashes it; [`verify`] compares in constant time and checks the options.

pub mod canonical;
pub mod digest;
pub mod error;
pub mod hash;
pub(crate) mod number;
pub mod timestamp;
pub mod verify;

use crate::prelude::*;
pub use canonical::{canonicalise, signing_string, Canonical, PayloadError, PayloadErrorKind};
pub use digest::Algorithm;
pub use error::{SignatureError, SignatureErrorCode};
pub use verify::{verify, VerifyOptions, DEFAULT_MAX_BYTES};

/// The `QbitPay-Signature` value for a raw event body: upper-case hex of MD5 or
/// HMAC-SHA256 over `signing string + "&key=" + api_key`.
pub fn sign(body: &[u8], api_key: &str, algorithm: Algorithm) -> Result<String, PayloadError> {
    let stringa = signing_string(body)?;
    Ok(digest::hex_upper(&algorithm.digest(&stringa, api_key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's known-answer vector.
    const EVENT: &str = r#"{"id":"fDOuTy95uSiTi","type":"charge.succeeded","createdAt":"2019-02-25T16:13:12.278Z","object":"event","pendingWebhooks":0,"livemode":true,"data":{"id":"5","object":"charge","createdAt":"2019-02-25T16:13:12.278Z","paid":false,"status":"pending","amount":1000,"currency":"USD","externalOrderId":"DTSifOuTy95ui","paymentPageUrl":"https://qbitpay.blockscape.co/?zh#/otc/payment?tradeId=DTSifOuTy95ifOuTy95","cbUrl":"https://api.blockscape.co","redirectUrl":"https://qbitpay.blockscape.co"}}"#;
    const KEY: &str = "T9uTy95uSifOOuTy";
    const SIGNATURE: &str = "EE53810FF1341779F2FF25989A67DCFC";

    #[test]
    fn known_answer_vector() {
        assert_eq!(sign(EVENT.as_bytes(), KEY, Algorithm::Md5).unwrap(), SIGNATURE);
        let opts = VerifyOptions::default();
        verify(EVENT.as_bytes(), SIGNATURE, KEY, &opts).unwrap();
        verify(EVENT.as_bytes(), &SIGNATURE.to_lowercase(), KEY, &opts).unwrap();
        // The same event pretty-printed signs the same.
        let pretty = EVENT.replace(",\"", ",\n  \"").replace("\":", "\" : ");
        assert_eq!(sign(pretty.as_bytes(), KEY, Algorithm::Md5).unwrap(), SIGNATURE);
    }

    #[test]
    fn rejections_carry_their_code() {
        use SignatureErrorCode as C;
        let opts = VerifyOptions::default();
        let code = |body: &str, sig: &str, key: &str, o: &VerifyOptions| verify(body.as_bytes(), sig, key, o).unwrap_err().code;
        assert_eq!(code(EVENT, "", KEY, &opts), C::MissingSignature);
        assert_eq!(code(EVENT, "xyz", KEY, &opts), C::MalformedSignature);
        assert_eq!(code(EVENT, SIGNATURE, "wrong", &opts), C::SignatureMismatch);
        assert_eq!(code(&EVENT.replace("1000", "1001"), SIGNATURE, KEY, &opts), C::SignatureMismatch);
        assert_eq!(code("[]", SIGNATURE, KEY, &opts), C::InvalidPayload);
        let small = VerifyOptions { max_bytes: 100, ..opts };
        assert_eq!(code(EVENT, SIGNATURE, KEY, &small), C::PayloadTooLarge);
        let created = timestamp::parse_millis("2019-02-25T16:13:12.278Z").unwrap();
        let fresh = VerifyOptions { max_age_seconds: Some(300.0), now_millis: created + 299_000.0, ..opts };
        verify(EVENT.as_bytes(), SIGNATURE, KEY, &fresh).unwrap();
        let stale = VerifyOptions { now_millis: created + 301_000.0, ..fresh };
        assert_eq!(code(EVENT, SIGNATURE, KEY, &stale), C::EventTooOld);
        let padded = verify(EVENT.as_bytes(), SIGNATURE, " T9uTy95uSifOOuTy ", &opts).unwrap_err();
        assert!(padded.message.contains("whitespace"), "{}", padded.message);
        let hmac = sign(EVENT.as_bytes(), KEY, Algorithm::HmacSha256).unwrap();
        assert_eq!(hmac.len(), 64);
        let wrong_alg = verify(EVENT.as_bytes(), &hmac, KEY, &opts).unwrap_err();
        assert_eq!(wrong_alg.code, C::MalformedSignature);
        assert!(wrong_alg.message.contains("hmac-sha256"));
        verify(EVENT.as_bytes(), &hmac, KEY, &VerifyOptions { algorithm: Algorithm::HmacSha256, ..opts }).unwrap();
    }
}
