//! The API's error body: `{"type", "message", "param"?, "detail"?}` with the spec's statuses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub param: Option<String>,
    pub detail: Option<Value>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, kind, message: message.into(), param: None, detail: None, retry_after: None }
    }
    /// 400 naming the offending parameter (`amount`, `destination.addr`, `limit`...).
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message);
        e.param = Some(param.into());
        e
    }
    pub fn missing(param: &str) -> Self {
        Self::invalid(param, format!("Missing required param: {param}."))
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication_error", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "authentication_error", message)
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        let mut e =
            Self::new(StatusCode::NOT_FOUND, "invalid_request_error", format!("No such {what}: '{id}'"));
        e.param = Some("id".into());
        e
    }
    pub fn route_not_found(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("Unrecognized request URL ({method}: {path})."),
        )
    }
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            format!("{method} is not allowed on {path}."),
        )
    }
    /// 402: the parameters were valid but the request failed.
    pub fn failed(message: impl Into<String>, detail: Value) -> Self {
        let mut e = Self::new(StatusCode::PAYMENT_REQUIRED, "invalid_request_error", message);
        e.detail = Some(detail);
        e
    }
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "Too many requests hit the API too quickly. Retry after the number of seconds in Retry-After.",
        );
        e.retry_after = Some(retry_after);
        e
    }
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "The sandbox injected a fault (--fault-rate): retry the request.",
        )
    }
    /// 503 when the sandbox holds `--max-connections` open connections.
    pub fn unavailable_busy() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "The sandbox has too many open connections (--max-connections): retry shortly.",
        );
        e.retry_after = Some(1);
        e
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "api_error", message)
    }
    /// The error of a status that an extractor, a layer or the router produced as plain text.
    pub fn from_status(status: StatusCode, text: &str) -> Self {
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                format!("The request body is too large ({} bytes at most).", crate::limits::MAX_BODY_BYTES)
            }
            StatusCode::URI_TOO_LONG => {
                format!("The request URI is too long ({} bytes at most).", crate::limits::MAX_URI_BYTES)
            }
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
                format!(
                    "The request headers are too large ({} bytes at most).",
                    crate::limits::MAX_HEADER_BYTES
                )
            }
            StatusCode::REQUEST_TIMEOUT => "The request body did not arrive in time.".to_owned(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                "Send application/json or application/x-www-form-urlencoded.".to_owned()
            }
            _ if text.trim().is_empty() => status.canonical_reason().unwrap_or("Error").to_owned() + ".",
            _ => text.trim().to_owned(),
        };
        let kind = if status.is_server_error() { "api_error" } else { "invalid_request_error" };
        Self::new(status, kind, message)
    }
    /// Stored with an idempotency key: the endpoint ran (a success, or a 402 once the
    /// parameters were valid). A refused request (400, 401/403, 429, faults) stores nothing.
    pub fn executed(&self) -> bool {
        self.status == StatusCode::PAYMENT_REQUIRED
    }
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    pub fn body(&self) -> Value {
        let mut v = json!({ "type": self.kind, "message": self.message });
        if let Some(p) = &self.param {
            v["param"] = json!(p);
        }
        if let Some(d) = &self.detail {
            v["detail"] = d.clone();
        }
        v
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut resp =
            (self.status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body)
                .into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // Refused with its body left unread: the connection cannot carry another request, and
        // a client that pooled it would send its next one into the closing socket.
        if matches!(
            self.status,
            StatusCode::REQUEST_TIMEOUT
                | StatusCode::PAYLOAD_TOO_LARGE
                | StatusCode::URI_TOO_LONG
                | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        ) {
            resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

pub type ApiResult<T = Value> = Result<T, ApiError>;

pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

pub fn respond(r: ApiResult) -> Response {
    match r {
        Ok(v) => json_response(StatusCode::OK, serde_json::to_vec(&v).expect("json")),
        Err(e) => e.into_response(),
    }
}
