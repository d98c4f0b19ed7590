//! Request bodies (JSON or form-encoded, as the reference's curl examples send them) and
//! parameter validation that names the parameter.

use axum::http::{header, HeaderMap};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

pub type Params = Map<String, Value>;

pub fn parse_body(headers: &HeaderMap, body: &[u8]) -> ApiResult<Params> {
    let ct =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok(Params::new());
    }
    let is_json = ct.starts_with("application/json")
        || ct.contains("+json")
        || (ct.is_empty() && trimmed.starts_with(b"{"));
    if is_json {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(ApiError::bad_request("The request body must be a JSON object.")),
            Err(e) => Err(ApiError::bad_request(format!("Invalid JSON in the request body: {e}"))),
        };
    }
    if ct.is_empty() || ct.starts_with("application/x-www-form-urlencoded") {
        return parse_form(body);
    }
    Err(ApiError::bad_request(format!(
        "Unsupported Content-Type '{ct}': send application/json or application/x-www-form-urlencoded."
    )))
}

/// `a=1&b[c]=2` → `{"a":"1","b":{"c":"2"}}`; a value that is a JSON object (`destination={...}`)
/// is parsed. A body that is not UTF-8 text once decoded is refused (400), not guessed at.
pub fn parse_form(body: &[u8]) -> ApiResult<Params> {
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
        let value = if v.trim_start().starts_with('{') {
            serde_json::from_str::<Value>(&v).ok().filter(Value::is_object).unwrap_or(Value::String(v))
        } else {
            Value::String(v)
        };
        m.insert(k, value);
    }
    Ok(m)
}

fn present<'a>(p: &'a Params, name: &str) -> Option<&'a Value> {
    match p.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(v),
    }
}

/// `prefix` names nested parameters: `destination.` + `addr`.
pub fn opt_string(p: &Params, prefix: &str, name: &str) -> ApiResult<Option<String>> {
    match present(p, name) {
        None => Ok(None),
        Some(Value::String(s)) => {
            if s.len() > 500 {
                return Err(ApiError::invalid(
                    format!("{prefix}{name}"),
                    format!("{prefix}{name} is too long (500 characters at most)."),
                ));
            }
            Ok(Some(s.clone()))
        }
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => {
            Err(ApiError::invalid(format!("{prefix}{name}"), format!("{prefix}{name} must be a string.")))
        }
    }
}

pub fn req_string(p: &Params, prefix: &str, name: &str) -> ApiResult<String> {
    opt_string(p, prefix, name)?.ok_or_else(|| ApiError::missing(&format!("{prefix}{name}")))
}

pub fn opt_number(p: &Params, name: &str) -> ApiResult<Option<f64>> {
    let bad = || ApiError::invalid(name, format!("{name} must be a number."));
    let x = match present(p, name) {
        None => return Ok(None),
        Some(Value::Number(n)) => n.as_f64().ok_or_else(bad)?,
        Some(Value::String(s)) => s.trim().parse::<f64>().map_err(|_| bad())?,
        Some(_) => return Err(bad()),
    };
    if !x.is_finite() {
        return Err(bad());
    }
    Ok(Some(x))
}

pub fn req_number(p: &Params, name: &str) -> ApiResult<f64> {
    opt_number(p, name)?.ok_or_else(|| ApiError::missing(name))
}

/// A required or defaulted value from a fixed set.
pub fn one_of(
    p: &Params,
    prefix: &str,
    name: &str,
    allowed: &[&str],
    default: Option<&str>,
) -> ApiResult<String> {
    let v = match (opt_string(p, prefix, name)?, default) {
        (Some(v), _) => v,
        (None, Some(d)) => return Ok(d.to_owned()),
        (None, None) => return Err(ApiError::missing(&format!("{prefix}{name}"))),
    };
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(ApiError::invalid(
            format!("{prefix}{name}"),
            format!("Invalid {prefix}{name} '{v}': must be one of {}.", allowed.join(", ")),
        ))
    }
}

/// An absolute http(s) URL.
pub fn req_url(p: &Params, name: &str) -> ApiResult<String> {
    let v = req_string(p, "", name)?;
    check_url(name, &v)?;
    Ok(v)
}

pub fn check_url(name: &str, v: &str) -> ApiResult<reqwest::Url> {
    match reqwest::Url::parse(v).ok().filter(|_| qbitpay::spec::is_http_url(v)) {
        Some(u) if u.host().is_some() => Ok(u),
        _ => Err(ApiError::invalid(name, format!("{name} must be an absolute http(s) URL, not '{v}'."))),
    }
}

/// A query filter from a fixed set (None when absent).
pub fn query_enum(
    q: &std::collections::HashMap<String, String>,
    name: &str,
    allowed: &[&str],
) -> ApiResult<Option<String>> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v.clone())),
        Some(v) => Err(ApiError::invalid(
            name,
            format!("Invalid {name} '{v}': must be one of {}.", allowed.join(", ")),
        )),
    }
}
