//! Events that JavaScript parsed already (`express.json()`, `await request.json()`).
//!
//! The signature covers a re-serialisation of the parsed event, so such an object can be
//! verified exactly, by the definition itself: its top-level keys sorted by UTF-16 code
//! units, null and "" dropped, a string written as is, a number or boolean as `String(v)`,
//! an object or array as `JSON.stringify(v)`. The wasm binding reads each top-level value
//! of the JavaScript object into a [`Value`] (running `JSON.stringify` on objects); the rules
//! are applied here.

use super::canonical::{Canonical, Kind};
use super::error::{concat, SignatureError};
use super::verify::Delivery;
use crate::spec::js_number;

/// A top-level value of a parsed event, as JavaScript gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Number(f64),
    Bool(bool),
    Null,
    /// An object or array: `JSON.stringify(v)`.
    Json(String),
    /// A value JSON has no text for: its `typeof` (`undefined`, `function`, `symbol`,
    /// `bigint`), or an object whose `toJSON` gives nothing.
    NotJson(&'static str),
    /// An object `JSON.stringify` refused (a cycle, a BigInt inside): its message.
    Unserialisable(String),
}

/// A parsed event: its own enumerable top-level members (keys in WTF-8, so that a lone
/// surrogate sorts as JavaScript sorts it), or an array (refused).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedEvent {
    pub array: bool,
    pub members: Vec<(Vec<u8>, Value)>,
}

impl Delivery for &ParsedEvent {
    fn size(&self) -> Option<usize> {
        None
    }

    fn read(&mut self) -> Result<Canonical, SignatureError> {
        if self.array {
            return Err(SignatureError::payload("the event must be a JSON object, not an array"));
        }
        let mut numbers = Vec::new();
        for (_, v) in &self.members {
            if let Value::Number(n) = v {
                numbers.push(js_number(*n));
            }
        }
        let mut numbers = numbers.iter();
        let mut members = Vec::with_capacity(self.members.len());
        for (key, value) in &self.members {
            let name = || std::str::from_utf8(key).unwrap_or("(a key with a lone surrogate)");
            let (text, dropped, kind): (&[u8], bool, Kind) = match value {
                Value::String(s) => (s.as_bytes(), s.is_empty(), Kind::String),
                Value::Number(_) => (numbers.next().map_or(&b""[..], |s| s.as_bytes()), false, Kind::Number),
                Value::Bool(b) => (if *b { b"true" } else { b"false" }, false, Kind::Boolean),
                Value::Null => (b"", true, Kind::Other),
                Value::Json(text) if text.starts_with('{') => (text.as_bytes(), false, Kind::Object),
                Value::Json(text) => (text.as_bytes(), false, Kind::Other),
                Value::NotJson(what) => {
                    return Err(SignatureError::payload(concat(&[
                        "the event's \"",
                        name(),
                        "\" is ",
                        what,
                        ", which JSON cannot carry: pass the event as JSON.parse returned it",
                    ])))
                }
                Value::Unserialisable(why) => {
                    return Err(SignatureError::payload(concat(&[
                        "the event's \"",
                        name(),
                        "\" cannot be serialised as JSON: ",
                        why,
                    ])))
                }
            };
            members.push((&key[..], text, dropped, kind));
        }
        Ok(Canonical::from_members(&members))
    }

    fn is_parsed(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::{sign, Algorithm};

    fn event(members: &[(&str, Value)]) -> ParsedEvent {
        ParsedEvent {
            array: false,
            members: members.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.clone())).collect(),
        }
    }

    #[test]
    fn signs_as_the_raw_body_does() {
        let raw = r#"{"b":"x","a":1.50,"c":null,"d":"","e":{"z":1,"1":2},"f":[true],"g":false,"h":1e400}"#;
        let parsed = event(&[
            ("b", Value::String("x".into())),
            ("a", Value::Number(1.5)),
            ("c", Value::Null),
            ("d", Value::String(String::new())),
            ("e", Value::Json(r#"{"1":2,"z":1}"#.into())),
            ("f", Value::Json("[true]".into())),
            ("g", Value::Bool(false)),
            ("h", Value::Number(f64::INFINITY)),
        ]);
        assert_eq!(sign(&parsed, "k", Algorithm::Md5).unwrap(), sign(raw, "k", Algorithm::Md5).unwrap());
        assert_eq!(
            (&parsed).read().unwrap().signing_string(),
            br#"a=1.5&b=x&e={"1":2,"z":1}&f=[true]&g=false&h=Infinity"#
        );
    }

    #[test]
    fn refuses_what_json_cannot_carry() {
        use crate::webhook::SignatureErrorCode as C;
        for v in
            [Value::NotJson("undefined"), Value::NotJson("a bigint"), Value::Unserialisable("cycle".into())]
        {
            assert_eq!(sign(&event(&[("k", v)]), "k", Algorithm::Md5).unwrap_err().code, C::InvalidPayload);
        }
        let array = ParsedEvent { array: true, members: vec![] };
        // Keys with lone surrogates sort by UTF-16 code units and sign as U+FFFD (so they
        // read more than one way, and are refused).
        let raw = r#"{"\ud800":1,"\udbff":2,"\ufffd":3,"\ud83d\ude00":4}"#;
        let key = |k: &str| crate::webhook::canonical::decode_string(k.as_bytes()).unwrap();
        let lone = ParsedEvent {
            array: false,
            members: ["\"\\ud800\"", "\"\\udbff\"", "\"\\ufffd\"", "\"\\ud83d\\ude00\""]
                .iter()
                .zip(1..)
                .map(|(k, n)| (key(k), Value::Number(n as f64)))
                .collect(),
        };
        let raw_string = crate::webhook::canonical::signing_string(raw.as_bytes()).unwrap();
        assert_eq!((&lone).read().unwrap().signing_string(), raw_string);
        assert_eq!(sign(&lone, "k", Algorithm::Md5).unwrap_err().code, C::InvalidPayload);
        assert_eq!(sign(&array, "k", Algorithm::Md5).unwrap_err().code, C::InvalidPayload);
    }
}
