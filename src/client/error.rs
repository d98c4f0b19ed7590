//! The error model: what every failure turns into, whichever side it came from
//! (validation, an HTTP answer, the network). The JS facade maps `kind` to a class.

use super::{fmt_num, Json};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 400 and 404, and every client-side validation failure.
    InvalidRequest,
    /// 401 and 403.
    Authentication,
    /// 429.
    RateLimit,
    /// 5xx and anything else unexpected.
    Api,
    /// No answer: network failure, timeout, abort.
    Connection,
}

impl ErrorKind {
    /// The `type` used when the server did not send one.
    pub fn default_type(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::RateLimit => "rate_limit_error",
            ErrorKind::Api => "api_error",
            ErrorKind::Connection => "connection_error",
        }
    }
    /// The kind for an HTTP status.
    pub fn for_status(status: u16) -> ErrorKind {
        match status {
            400 | 404 => ErrorKind::InvalidRequest,
            401 | 403 => ErrorKind::Authentication,
            429 => ErrorKind::RateLimit,
            _ => ErrorKind::Api,
        }
    }
}

/// Serialised (camelCase, absent fields left out) as the fields of the JavaScript error.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientError {
    pub kind: ErrorKind,
    #[serde(rename = "type")]
    pub type_: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    #[serde(rename = "statusCode", skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Seconds, from `Retry-After`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Json>,
    /// `timeout`, `network` or `aborted` for connection errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

impl ClientError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ClientError {
        ClientError {
            kind,
            type_: kind.default_type().to_string(),
            message: message.into(),
            param: None,
            status: None,
            request_id: None,
            retry_after: None,
            detail: None,
            code: None,
        }
    }

    /// A parameter failed client-side validation; nothing was sent.
    pub fn invalid(param: &str, message: impl Into<String>) -> ClientError {
        let mut e = ClientError::new(ErrorKind::InvalidRequest, message);
        e.param = Some(param.to_string());
        e
    }

    /// The request got no answer (`code`: `timeout`, `network`, `aborted`).
    pub fn connection(code: &str, timeout_ms: f64) -> ClientError {
        let message = match code {
            "timeout" => format!("Request to the QbitPay API timed out after {} ms", fmt_num(timeout_ms)),
            "aborted" => "Request to the QbitPay API was aborted".to_string(),
            _ => "Could not connect to the QbitPay API (network error)".to_string(),
        };
        let mut e = ClientError::new(ErrorKind::Connection, message);
        e.code = Some(match code {
            "timeout" => "timeout",
            "aborted" => "aborted",
            _ => "network",
        });
        e
    }

    /// The error for an HTTP answer: a non-2xx status, or a 2xx whose body is not JSON.
    /// `secrets` (the API key or token) are cut out of everything the server sent.
    pub fn from_response(
        status: u16,
        body: &str,
        request_id: Option<&str>,
        retry_after: Option<f64>,
        secrets: &[&str],
    ) -> ClientError {
        let ok = (200..300).contains(&status);
        let kind = if ok {
            ErrorKind::Api
        } else {
            ErrorKind::for_status(status)
        };
        let parsed = serde_json::from_str::<Json>(body).ok();
        let obj = parsed.as_ref().filter(|v| matches!(v, Json::Object(_)));
        let field = |k: &str| {
            obj.and_then(|o| o.get(k))
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
        };
        let code = status.to_string();
        let message = match (ok, field("message")) {
            (false, Some(m)) => m.to_string(),
            (false, None) if obj.is_some() => format!("QbitPay API answered HTTP {}", code),
            _ => format!("QbitPay API answered HTTP {} with a body that is not JSON", code),
        };
        let mut e = ClientError::new(kind, redact(&message, secrets));
        if let (false, Some(t)) = (ok, field("type")) {
            e.type_ = redact(t, secrets);
        }
        e.param = field("param").map(|p| redact(p, secrets));
        e.detail = obj
            .and_then(|o| o.get("detail"))
            .filter(|d| **d != Json::Null)
            .map(|d| redact_json(d, secrets));
        e.status = Some(status);
        e.request_id = request_id.filter(|s| !s.is_empty()).map(str::to_string);
        if kind == ErrorKind::RateLimit {
            e.retry_after = retry_after;
        }
        e
    }

    /// A 403 to a client that authenticates with an access token is the token's narrow
    /// scope: say so (and what to do) when the server's message does not mention it.
    pub fn with_token_scope_hint(mut self) -> ClientError {
        let said = self
            .message
            .as_bytes()
            .windows(12)
            .any(|w| w.eq_ignore_ascii_case(b"access token"));
        if self.status == Some(403) && !said {
            if self.message.ends_with('.') {
                self.message.pop();
            }
            self.message = format!("{}. This client uses an access token, which may only retrieve and list charges \
                 and mark a charge buyerPaid: make this call on your server, with the API key.", self.message);
        }
        self
    }
}

/// `s` with every occurrence of a secret (4 characters or more) replaced.
pub fn redact(s: &str, secrets: &[&str]) -> String {
    secrets.iter().filter(|x| x.len() >= 4).fold(s.to_string(), |out, secret| out.replace(secret, "[redacted]"))
}

fn redact_json(v: &Json, secrets: &[&str]) -> Json {
    match v {
        Json::String(s) => Json::String(redact(s, secrets)),
        Json::Array(a) => Json::Array(a.iter().map(|x| redact_json(x, secrets)).collect()),
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, x)| (redact(k, secrets), redact_json(x, secrets)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        use ErrorKind::*;
        for (s, k) in [
            (400, InvalidRequest),
            (404, InvalidRequest),
            (401, Authentication),
            (403, Authentication),
            (429, RateLimit),
            (402, Api),
            (409, Api),
            (500, Api),
            (502, Api),
            (503, Api),
            (504, Api),
            (418, Api),
        ] {
            assert_eq!(ErrorKind::for_status(s), k, "{s}");
        }
    }

    #[test]
    fn maps_a_server_error_body() {
        let e = ClientError::from_response(
            400,
            r#"{"type":"invalid_request_error","message":"amount must be > 0","param":"amount","detail":{"min":1}}"#,
            Some("req_1"),
            None,
            &[],
        );
        assert_eq!(e.kind, ErrorKind::InvalidRequest);
        assert_eq!(e.type_, "invalid_request_error");
        assert_eq!(e.message, "amount must be > 0");
        assert_eq!(e.param.as_deref(), Some("amount"));
        assert_eq!(e.request_id.as_deref(), Some("req_1"));
        assert_eq!(e.status, Some(400));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"invalid_request","type":"invalid_request_error","message":"amount must be > 0","param":"amount","statusCode":400,"requestId":"req_1","detail":{"min":1}}"#
        );
    }

    #[test]
    fn rate_limit_keeps_retry_after_and_bad_bodies_get_a_message() {
        let e = ClientError::from_response(
            429,
            r#"{"type":"rate_limit_error","message":"slow down"}"#,
            None,
            Some(2.0),
            &[],
        );
        assert_eq!((e.kind, e.retry_after), (ErrorKind::RateLimit, Some(2.0)));
        assert!(serde_json::to_string(&e).unwrap().contains(r#""retryAfter":2.0"#));
        let e = ClientError::from_response(502, "<html>bad gateway</html>", None, Some(1.0), &[]);
        assert_eq!(
            (e.kind, e.type_.as_str(), e.retry_after),
            (ErrorKind::Api, "api_error", None)
        );
        assert!(e.message.contains("502"));
        let e = ClientError::from_response(200, "not json", Some("r"), None, &[]);
        assert_eq!(e.kind, ErrorKind::Api);
        let e = ClientError::from_response(401, "{}", None, None, &[]);
        assert_eq!(
            (e.kind, e.type_.as_str()),
            (ErrorKind::Authentication, "authentication_error")
        );
    }

    #[test]
    fn secrets_never_survive() {
        let key = "sk_test_SECRET";
        let e = ClientError::from_response(
            401,
            r#"{"type":"authentication_error","message":"bad key sk_test_SECRET","detail":{"key":"sk_test_SECRET"}}"#,
            None,
            None,
            &[key],
        );
        assert!(!serde_json::to_string(&e).unwrap().contains(key));
        assert!(e.message.contains("[redacted]"));
    }

    #[test]
    fn token_scope_hint_on_403_only_when_missing() {
        let terse = ClientError::from_response(
            403,
            r#"{"type":"authentication_error","message":"Forbidden."}"#,
            None,
            None,
            &[],
        );
        let m = terse.with_token_scope_hint().message;
        assert!(
            m.starts_with("Forbidden. This client uses an access token"),
            "{m}"
        );
        assert!(m.contains("API key"));
        let clear =
            r#"{"type":"authentication_error","message":"An Access Token may only read charges."}"#;
        let e = ClientError::from_response(403, clear, None, None, &[]);
        assert_eq!(
            e.with_token_scope_hint().message,
            "An Access Token may only read charges."
        );
        let e = ClientError::from_response(401, r#"{"message":"expired"}"#, None, None, &[]);
        assert_eq!(e.with_token_scope_hint().message, "expired");
    }

    #[test]
    fn connection_errors() {
        let e = ClientError::connection("timeout", 1500.0);
        assert_eq!((e.kind, e.code), (ErrorKind::Connection, Some("timeout")));
        assert!(e.message.contains("1500 ms"));
        assert_eq!(
            ClientError::connection("whatever", 1.0).code,
            Some("network")
        );
    }
}
