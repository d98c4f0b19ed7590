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
        let mut e = Self::new(StatusCode::NOT_FOUND, "invalid_request_error", format!("No such {what}: '{id}'"));
        e.param = Some("id".into());
        e
    }
    pub fn route_not_found(method: &str, path: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", format!("Unrecognized request URL ({method}: {path})."))
    }
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "invalid_request_error", format!("{method} is not allowed on {path}."))
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
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "api_error", "The sandbox injected a fault (--fault-rate): retry the request.")
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "api_error", message)
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
        let mut resp = (self.status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

pub type ApiResult<T = Value> = Result<T, ApiError>;
