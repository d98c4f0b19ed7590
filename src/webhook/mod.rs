//! Webhook signatures: the `QbitPay-Signature` header over an event (spec: Webhooks).
//!
//! The sender signs a re-serialisation of the parsed event, so [`canonical`] reproduces
//! JavaScript's `JSON.parse` + `JSON.stringify` in one pass over the raw bytes ([`parsed`]
//! does the same for an event JavaScript parsed already); [`digest`] hashes it (RustCrypto);
//! [`verify`] decides, once, whether a delivery is accepted.

pub mod canonical;
pub mod digest;
pub mod error;
pub mod handler;
pub(crate) mod number;
pub mod parsed;
pub mod timestamp;
pub mod verify;

pub use canonical::{
    canonicalise, signing_string, Ambiguity, Canonical, Kind, PayloadError, PayloadErrorKind,
};
pub use digest::Algorithm;
pub use error::{SignatureError, SignatureErrorCode};
pub use parsed::{ParsedEvent, Value};
pub use verify::{sign, verify, Delivery, Verified, VerifyOptions, DEFAULT_MAX_BYTES};

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's known-answer vector.
    const EVENT: &str = r#"{"id":"fDOuTy95uSiTi","type":"charge.succeeded","createdAt":"2019-02-25T16:13:12.278Z","object":"event","pendingWebhooks":0,"livemode":true,"data":{"id":"5","object":"charge","createdAt":"2019-02-25T16:13:12.278Z","paid":false,"status":"pending","amount":1000,"currency":"USD","externalOrderId":"DTSifOuTy95ui","paymentPageUrl":"https://qbitpay.blockscape.co/?zh#/otc/payment?tradeId=DTSifOuTy95ifOuTy95","cbUrl":"https://api.blockscape.co","redirectUrl":"https://qbitpay.blockscape.co"}}"#;
    const KEY: &str = "T9uTy95uSifOOuTy";
    const SIGNATURE: &str = "EE53810FF1341779F2FF25989A67DCFC";

    #[test]
    fn known_answer_vector() {
        assert_eq!(sign(EVENT, KEY, Algorithm::Md5).unwrap(), SIGNATURE);
        let opts = VerifyOptions::default();
        assert_eq!(verify(EVENT, SIGNATURE, &[KEY], &opts).unwrap(), Verified { key: 0 });
        verify(EVENT, &SIGNATURE.to_lowercase(), &[KEY], &opts).unwrap();
        // The same event pretty-printed signs the same.
        let pretty = EVENT.replace(",\"", ",\n  \"").replace("\":", "\" : ");
        assert_eq!(sign(pretty.as_str(), KEY, Algorithm::Md5).unwrap(), SIGNATURE);
    }

    #[test]
    fn a_signed_event_cut_and_glued_anew_is_refused() {
        let opts = VerifyOptions::default();
        let data_start = EVENT.find(r#""data":"#).unwrap() + 7;
        let data = &EVENT[data_start..EVENT.len() - 1];
        let data_as_string = std::str::from_utf8(&serde_json_escape(data)).unwrap().to_owned();
        // Each forgery has the genuine event's signing string: only the refusal stops it.
        let forgeries = [
            (
                EVENT
                    .replace(r#""id":"fDOuTy95uSiTi""#, r#""id":"fDOuTy95uSiTi&livemode=true""#)
                    .replace(r#""livemode":true,"#, ""),
                r#"the event's "id" is a string holding '&'"#,
            ),
            (
                EVENT
                    .replace(r#""id":"fDOuTy95uSiTi""#, r#""id=fDOuTy95uSiTi&livemode":true"#)
                    .replace(r#""livemode":true,"#, ""),
                r#"the event's key "id=fDOuTy95uSiTi&livemode" holds '&' or '='"#,
            ),
            (
                [&EVENT[..data_start], &data_as_string, "}"].concat(),
                r#"the event's "data" must be an object"#,
            ),
            (
                EVENT.replace(r#""livemode":true"#, r#""livemode":"true""#),
                r#"the event's "livemode" must be a boolean"#,
            ),
            (
                EVENT.replace(r#""pendingWebhooks":0"#, r#""pendingWebhooks":"0""#),
                r#"the event's "pendingWebhooks" must be a number"#,
            ),
        ];
        let genuine = signing_string(EVENT.as_bytes()).unwrap();
        for (forged, message) in &forgeries {
            assert_eq!(signing_string(forged.as_bytes()).unwrap(), genuine, "{forged}");
            let refused = verify(forged.as_str(), SIGNATURE, &[KEY], &opts).unwrap_err();
            assert_eq!(refused.code, SignatureErrorCode::InvalidPayload, "{forged}");
            assert!(refused.message.starts_with(message), "{}", refused.message);
            assert_eq!(
                sign(forged.as_str(), KEY, Algorithm::Md5).unwrap_err().code,
                SignatureErrorCode::InvalidPayload
            );
        }
        // The same forgeries as parsed events.
        let as_parsed = |members: &[(&str, Value)]| ParsedEvent {
            array: false,
            members: members.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.clone())).collect(),
        };
        let rest = |extra: Vec<(&'static str, Value)>| {
            let mut m = vec![
                ("type", Value::String("charge.succeeded".into())),
                ("createdAt", Value::String("2019-02-25T16:13:12.278Z".into())),
                ("object", Value::String("event".into())),
                ("pendingWebhooks", Value::Number(0.0)),
            ];
            m.extend(extra);
            m
        };
        let parsed = [
            rest(vec![
                ("id", Value::String("fDOuTy95uSiTi&livemode=true".into())),
                ("data", Value::Json(data.into())),
            ]),
            rest(vec![("id=fDOuTy95uSiTi&livemode", Value::Bool(true)), ("data", Value::Json(data.into()))]),
            rest(vec![
                ("id", Value::String("fDOuTy95uSiTi".into())),
                ("livemode", Value::Bool(true)),
                ("data", Value::String(data.into())),
            ]),
        ];
        for members in &parsed {
            let event = as_parsed(members);
            assert_eq!((&event).read().unwrap().signing_string(), genuine, "{members:?}");
            assert_eq!(
                verify(&event, SIGNATURE, &[KEY], &opts).unwrap_err().code,
                SignatureErrorCode::InvalidPayload
            );
        }
        // What stays allowed: '=' in a string value, '&' inside data, a long or odd key unnamed.
        let fine = EVENT.replace("fDOuTy95uSiTi", "evt=1").replace("tradeId=", "a&tradeId=");
        sign(fine.as_str(), KEY, Algorithm::Md5).unwrap();
        let odd = r#"{"\n&":1,"data":{}}"#;
        let refused = verify(odd, SIGNATURE, &[KEY], &opts).unwrap_err();
        assert!(refused.message.starts_with("a key of the event holds"), "{}", refused.message);
    }

    /// A top-level string or key holding U+FFFD signs as one holding any lone surrogate in its
    /// place (all are U+FFFD in the sender's UTF-8): each such forgery a new event id.
    #[test]
    fn a_replacement_char_or_lone_surrogate_at_the_top_is_refused() {
        let opts = VerifyOptions::default();
        let genuine = EVENT.replace("fDOuTy95uSiTi", "evt_\u{FFFD}x");
        let genuine_string = signing_string(genuine.as_bytes()).unwrap();
        let digest = Algorithm::Md5.digest([&genuine_string[..]], KEY.as_bytes());
        let signature = digest::hex_upper(digest.as_bytes());
        let other_ids = [genuine.replace('\u{FFFD}', r"\ud800"), genuine.replace('\u{FFFD}', r"\udfff")];
        for forged in other_ids.iter().chain([&genuine]) {
            assert_eq!(signing_string(forged.as_bytes()).unwrap(), genuine_string, "{forged}");
        }
        let lone_key = genuine.replace(r#""livemode":true"#, r#""livemode":true,"\ud800":1"#);
        for forged in other_ids.iter().chain([&genuine, &lone_key]) {
            let refused = verify(forged.as_str(), &signature, &[KEY], &opts).unwrap_err();
            assert_eq!(refused.code, SignatureErrorCode::InvalidPayload, "{forged}");
            assert!(refused.message.contains("U+FFFD or a lone surrogate"), "{}", refused.message);
            assert_eq!(
                sign(forged.as_str(), KEY, Algorithm::Md5).unwrap_err().code,
                SignatureErrorCode::InvalidPayload
            );
        }
        // A parsed event's lone surrogate reaches the core as U+FFFD: refused the same.
        let parsed = ParsedEvent {
            array: false,
            members: vec![
                (b"id".to_vec(), Value::String("evt_\u{FFFD}x".into())),
                (b"data".to_vec(), Value::Json("{}".into())),
            ],
        };
        assert_eq!(
            verify(&parsed, &signature, &[KEY], &opts).unwrap_err().code,
            SignatureErrorCode::InvalidPayload
        );
        // Inside data JSON.stringify escapes a lone surrogate: it reads one way, and is kept.
        let nested = EVENT.replace(r#""status":"pending""#, "\"status\":\"\\ud800\u{FFFD}\"");
        let signed = sign(nested.as_str(), KEY, Algorithm::Md5).unwrap();
        verify(nested.as_str(), &signed, &[KEY], &opts).unwrap();
    }

    /// `s` as a JSON string literal (only `"` needs escaping in the vector).
    fn serde_json_escape(s: &str) -> Vec<u8> {
        ["\"", &s.replace('"', "\\\""), "\""].concat().into_bytes()
    }

    /// The event's members as `WebhookEvent` declares them are the types the verifier holds
    /// them to (the sandbox's events pass through `sign`, which holds them to it too).
    #[test]
    fn the_event_members_are_typed_alike_in_webhook_d_ts() {
        let dts = include_str!("../../pkg-template/webhook.d.ts");
        let start = dts.find("export interface WebhookEvent<").expect("WebhookEvent in webhook.d.ts");
        let block = &dts[start..start + dts[start..].find('}').unwrap()];
        for (name, kind) in canonical::EVENT_MEMBERS {
            let name = std::str::from_utf8(name).unwrap();
            let declared = block
                .lines()
                .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(": "))
                .unwrap_or_else(|| panic!("WebhookEvent has no {name}"))
                .trim_end_matches(';');
            let expected: &[&str] = match kind {
                Kind::String => &["string", "'event'"],
                Kind::Number => &["number"],
                Kind::Boolean => &["boolean"],
                Kind::Object => &["T"],
                Kind::Other => &[],
            };
            assert!(expected.contains(&declared), "WebhookEvent.{name}: {declared}");
        }
    }

    #[test]
    fn key_rotation_accepts_any_listed_key() {
        let opts = VerifyOptions::default();
        assert_eq!(verify(EVENT, SIGNATURE, &["old", KEY], &opts).unwrap(), Verified { key: 1 });
        assert_eq!(verify(EVENT, SIGNATURE, &[KEY, "new"], &opts).unwrap(), Verified { key: 0 });
        assert_eq!(
            verify(EVENT, SIGNATURE, &["a", "b"], &opts).unwrap_err().code,
            SignatureErrorCode::SignatureMismatch
        );
        assert_eq!(
            verify(EVENT, SIGNATURE, &[], &opts).unwrap_err().code,
            SignatureErrorCode::InvalidArgument
        );
        assert_eq!(
            verify(EVENT, SIGNATURE, &[KEY, ""], &opts).unwrap_err().code,
            SignatureErrorCode::InvalidArgument
        );
    }

    #[test]
    fn rejections_carry_their_code_in_the_documented_order() {
        use SignatureErrorCode as C;
        let opts = VerifyOptions::default();
        let code = |body: &str, sig: &str, key: &str, o: &VerifyOptions| {
            verify(body, sig, &[key], o).unwrap_err().code
        };
        assert_eq!(code(EVENT, "", KEY, &opts), C::MissingSignature);
        assert_eq!(code(EVENT, " \t", KEY, &opts), C::MissingSignature);
        assert_eq!(code(EVENT, "xyz", KEY, &opts), C::MalformedSignature);
        assert_eq!(code(EVENT, SIGNATURE, "wrong", &opts), C::SignatureMismatch);
        assert_eq!(code(&EVENT.replace("1000", "1001"), SIGNATURE, KEY, &opts), C::SignatureMismatch);
        assert_eq!(code("[]", SIGNATURE, KEY, &opts), C::InvalidPayload);
        assert_eq!(code(EVENT, SIGNATURE, "", &opts), C::InvalidArgument);
        let small = VerifyOptions { max_bytes: 100, ..opts };
        assert_eq!(code(EVENT, SIGNATURE, KEY, &small), C::PayloadTooLarge);
        // Size first, then the signature, then the body.
        assert_eq!(code(EVENT, "", KEY, &small), C::PayloadTooLarge);
        assert_eq!(code("[]", "", KEY, &opts), C::MissingSignature);
        assert_eq!(code("[]", "xyz", KEY, &opts), C::MalformedSignature);
        let created = timestamp::parse_millis("2019-02-25T16:13:12.278Z").unwrap();
        let fresh = VerifyOptions { max_age_seconds: Some(300.0), now_millis: created + 299_000.0, ..opts };
        verify(EVENT, SIGNATURE, &[KEY], &fresh).unwrap();
        let stale = VerifyOptions { now_millis: created + 301_000.0, ..fresh };
        let old = verify(EVENT, SIGNATURE, &[KEY], &stale).unwrap_err();
        assert_eq!(old.code, C::EventTooOld);
        assert!(
            old.message.contains("301 s old") && old.message.contains("maxAgeSeconds (300)"),
            "{}",
            old.message
        );
        // A stale forgery is a mismatch, not "too old".
        assert_eq!(code(EVENT, SIGNATURE, "x", &stale), C::SignatureMismatch);
        let padded = verify(EVENT, SIGNATURE, &[" T9uTy95uSifOOuTy "], &opts).unwrap_err();
        assert!(padded.message.contains("whitespace"), "{}", padded.message);
        let hmac = sign(EVENT, KEY, Algorithm::HmacSha256).unwrap();
        assert_eq!(hmac.len(), 64);
        let wrong_alg = verify(EVENT, &hmac, &[KEY], &opts).unwrap_err();
        assert_eq!(wrong_alg.code, C::MalformedSignature);
        assert!(wrong_alg.message.contains("hmac-sha256"));
        let back =
            verify(EVENT, SIGNATURE, &[KEY], &VerifyOptions { algorithm: Algorithm::HmacSha256, ..opts })
                .unwrap_err();
        assert!(back.message.contains("MD5"), "{}", back.message);
        verify(EVENT, &hmac, &[KEY], &VerifyOptions { algorithm: Algorithm::HmacSha256, ..opts }).unwrap();
        assert_eq!(
            verify(verify::NotAnEvent("null"), SIGNATURE, &[KEY], &opts).unwrap_err().code,
            C::InvalidPayload
        );
        // A JS string body with a lone surrogate (encoded as U+FFFD): asked only when the bytes hold U+FFFD.
        let fffd = EVENT.replace("USD", "US\u{FFFD}");
        assert_eq!(verify::read_raw(fffd.as_bytes(), || true).err().unwrap().code, C::InvalidPayload);
        assert!(verify::read_raw(fffd.as_bytes(), || false).is_ok());
        assert!(verify::read_raw(EVENT.as_bytes(), || panic!("not asked without U+FFFD")).is_ok());
        assert_eq!(
            verify::read_raw(b"{", || true).err().unwrap().message,
            verify::read_raw(fffd.as_bytes(), || true).err().unwrap().message
        );
    }

    #[test]
    fn options_from_javascript_are_checked() {
        use SignatureErrorCode as C;
        let bad = |r: Result<VerifyOptions, SignatureError>| r.unwrap_err().code;
        assert_eq!(bad(VerifyOptions::from_js(Some("sha1"), None, None, None)), C::InvalidArgument);
        assert_eq!(bad(VerifyOptions::from_js(Some("MD5"), None, None, None)), C::InvalidArgument);
        for n in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY] {
            assert_eq!(bad(VerifyOptions::from_js(None, None, None, Some(n))), C::InvalidArgument, "{n}");
        }
        for s in [-1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(bad(VerifyOptions::from_js(None, Some(s), None, None)), C::InvalidArgument, "{s}");
        }
        assert_eq!(bad(VerifyOptions::from_js(None, None, Some(f64::NAN), None)), C::InvalidArgument);
        let o = VerifyOptions::from_js(Some("hmac-sha256"), Some(0.0), Some(5.0), Some(10.0)).unwrap();
        assert_eq!(
            (o.algorithm, o.max_age_seconds, o.now_millis, o.max_bytes),
            (Algorithm::HmacSha256, Some(0.0), 5.0, 10)
        );
    }
}
