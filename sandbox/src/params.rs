//! What a request carries: its body (JSON, or form-encoded as the reference's curl examples
//! send it) or its query, and for `/api/v1` the parameters as the API's table declares them,
//! checked by the validator the client runs before it sends (`qbitpay::spec::schema`): the
//! same refusals, with the same `param` and message. Form fields and query parameters are
//! text; they are read as their parameters' types first, so that a form, a query and a JSON
//! body are refused alike.

use axum::http::{header, HeaderMap};
use qbitpay::spec::schema::{from_text, Invalid, Op, Resource};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::ListQuery;

pub type Params = Map<String, Value>;

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> ApiError {
        ApiError::invalid(e.param, e.message)
    }
}

/// The parameters of a call of `res`'s `op`, checked: from the body for a POST or PUT, from
/// the query for a GET.
pub fn checked(
    res: &Resource,
    op: &Op,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> ApiResult<Params> {
    let raw = if op.method.has_body() {
        match read_body(headers, body)? {
            Body::Json(v) => v,
            Body::Form(m) => from_text(Value::Object(m), op),
        }
    } else {
        match query.filter(|q| !q.is_empty()) {
            None => Value::Null,
            Some(q) => from_text(Value::Object(form_pairs(q.as_bytes())?), op),
        }
    };
    Ok(res.check_params(op, &raw)?)
}

enum Body {
    /// Any JSON value (`null` for an empty body).
    Json(Value),
    Form(Params),
}

fn read_body(headers: &HeaderMap, body: &[u8]) -> ApiResult<Body> {
    let ct =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok(Body::Json(Value::Null));
    }
    let is_json = ct.starts_with("application/json")
        || ct.contains("+json")
        || (ct.is_empty() && trimmed.starts_with(b"{"));
    if is_json {
        return serde_json::from_slice::<Value>(body)
            .map(Body::Json)
            .map_err(|e| ApiError::bad_request(format!("Invalid JSON in the request body: {e}")));
    }
    if ct.is_empty() || ct.starts_with("application/x-www-form-urlencoded") {
        return form_pairs(body).map(Body::Form);
    }
    Err(ApiError::bad_request(format!(
        "Unsupported Content-Type '{ct}': send application/json or application/x-www-form-urlencoded."
    )))
}

/// A request body that is a JSON object (or form fields), as the control API takes it.
pub fn parse_body(headers: &HeaderMap, body: &[u8]) -> ApiResult<Params> {
    match read_body(headers, body)? {
        Body::Json(Value::Null) => Ok(Params::new()),
        Body::Json(Value::Object(m)) | Body::Form(m) => Ok(m),
        Body::Json(_) => Err(ApiError::bad_request("The request body must be a JSON object.")),
    }
}

/// `a=1&b[c]=2` → `{"a":"1","b":{"c":"2"}}` (values stay text). A body that is not UTF-8
/// text once decoded is refused (400), not guessed at.
fn form_pairs(body: &[u8]) -> ApiResult<Params> {
    let malformed =
        || ApiError::bad_request("Malformed form body: send application/x-www-form-urlencoded UTF-8 text.");
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    let mut m = Params::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let Some((k, v)) = form_urlencoded::parse(pair.as_bytes()).next() else { continue };
        // Decoding replaces invalid UTF-8 with U+FFFD: one the sender did not write is an error.
        let sent = pair.contains('\u{FFFD}') || pair.to_ascii_uppercase().contains("%EF%BF%BD");
        if !sent && (k.contains('\u{FFFD}') || v.contains('\u{FFFD}')) {
            return Err(malformed());
        }
        let (k, v) = (k.into_owned(), v.into_owned());
        if let Some((outer, inner)) = k.strip_suffix(']').and_then(|s| s.split_once('[')) {
            let slot = m.entry(outer.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = slot {
                o.insert(inner.to_owned(), Value::String(v));
            }
            continue;
        }
        m.insert(k, Value::String(v));
    }
    Ok(m)
}

/// A number the control API takes (a form's text read as one), required.
pub fn req_number(p: &Params, name: &str) -> ApiResult<f64> {
    let bad = || ApiError::invalid(name, format!("{name} must be a number."));
    match p.get(name) {
        None | Some(Value::Null) => Err(ApiError::missing(name)),
        Some(Value::String(s)) if s.is_empty() => Err(ApiError::missing(name)),
        Some(Value::Number(n)) => n.as_f64().filter(|x| x.is_finite()).ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// A checked parameter's text (`""` if absent: for required ones).
pub fn text<'a>(p: &'a Params, name: &str) -> &'a str {
    p.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// A checked optional parameter's text.
pub fn opt_text<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).and_then(Value::as_str)
}

/// A checked parameter's number (0 if absent: for required ones).
pub fn number(p: &Params, name: &str) -> f64 {
    p.get(name).and_then(Value::as_f64).unwrap_or_default()
}

/// A checked list call's page: its size (default 10) and cursor, either spelling.
pub fn list_query(p: &Params) -> ListQuery {
    let cursor = |a: &str, b: &str| opt_text(p, a).or(opt_text(p, b)).map(str::to_owned);
    ListQuery {
        limit: p
            .get("limit")
            .and_then(Value::as_u64)
            .map_or(qbitpay::spec::DEFAULT_LIST_LIMIT as usize, |n| n as usize),
        starting_after: cursor("startingAfter", "starting_after"),
        ending_before: cursor("endingBefore", "ending_before"),
    }
}
