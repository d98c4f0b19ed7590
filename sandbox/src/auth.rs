//! API keys (HTTP Basic, key as user name) and access tokens (JWT-shaped, HS256 over a
//! secret stored with the state, with `exp` in sandbox time and a narrow `scope`).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::app::{new_id, Account, App};
use crate::error::ApiError;

/// What an access token allows: read charges, mark one buyerPaid.
pub const TOKEN_SCOPE: &str = "charges:read charges:buyerPaid";

pub fn issue_token(app: &App, acct: &Account) -> (String, i64) {
    let iat = app.now() / 1000;
    let exp = iat + app.cfg.access_token_ttl.ceil() as i64;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({
        "iss": "qbitpay-sandbox",
        "sub": acct.id,
        "scope": TOKEN_SCOPE,
        "iat": iat,
        "exp": exp,
        "jti": new_id("tok_", 16),
    });
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let signing_input = format!("{header}.{payload}");
    let sig = URL_SAFE_NO_PAD.encode(mac(app, signing_input.as_bytes()).finalize().into_bytes());
    (format!("{signing_input}.{sig}"), exp)
}

fn mac(app: &App, data: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(&app.token_secret).expect("hmac key");
    m.update(data);
    m
}

/// The account a token belongs to, or why it is refused (always 401).
pub fn verify_token(app: &App, token: &str) -> Result<Arc<Account>, ApiError> {
    let forged = || ApiError::unauthorized("Invalid access token.");
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(forged());
    };
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| forged())?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    mac(app, signing_input.as_bytes()).verify_slice(&sig).map_err(|_| forged())?;
    let claims: Value =
        URL_SAFE_NO_PAD.decode(p).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(forged)?;
    let exp = claims["exp"].as_i64().ok_or_else(forged)?;
    if app.now() >= exp * 1000 {
        return Err(ApiError::unauthorized(
            "The access token has expired: fetch a new one with GET /api/v1/accessToken.",
        ));
    }
    let sub = claims["sub"].as_str().ok_or_else(forged)?;
    app.account_by_id(sub).cloned().ok_or_else(forged)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cred {
    Key,
    Token,
}

fn authenticate(parts: &Parts, app: &App) -> Result<(Arc<Account>, Cred), ApiError> {
    let (acct, cred) = credential(parts, app)?;
    if let Some(rate) = app.cfg.rate_limit {
        acct.take_token(rate).map_err(ApiError::rate_limited)?;
    }
    Ok((acct, cred))
}

/// The account of the request's API key or access token (no rate limit taken).
fn credential(parts: &Parts, app: &App) -> Result<(Arc<Account>, Cred), ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let invalid_key = || ApiError::unauthorized("Invalid API key provided.");
    let (acct, cred) = if header.is_empty() {
        return Err(ApiError::unauthorized(
            "No API key provided: use HTTP Basic auth with the API key as user name (curl -u KEY:), \
             or an access token as 'Authorization: Bearer TOKEN'.",
        ));
    } else if let Some(b64) = strip_scheme(header, "basic") {
        let decoded = STANDARD.decode(b64.trim()).map_err(|_| invalid_key())?;
        let text = String::from_utf8(decoded).map_err(|_| invalid_key())?;
        let key = text.split(':').next().unwrap_or("");
        (app.account_by_key(key).cloned().ok_or_else(invalid_key)?, Cred::Key)
    } else if let Some(bearer) = strip_scheme(header, "bearer") {
        let bearer = bearer.trim();
        if bearer.contains('.') {
            (verify_token(app, bearer)?, Cred::Token)
        } else {
            (app.account_by_key(bearer).cloned().ok_or_else(invalid_key)?, Cred::Key)
        }
    } else {
        return Err(ApiError::unauthorized(
            "Unsupported Authorization scheme: use Basic (API key) or Bearer (access token).",
        ));
    };
    Ok((acct, cred))
}

fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = header.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// API key only: an access token gets 403.
pub struct KeyAuth(pub Arc<Account>);

/// API key or access token (the token's scope: charges retrieve/list/buyerPaid).
pub struct ChargeAuth(pub Arc<Account>);

impl FromRequestParts<Arc<App>> for KeyAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        match authenticate(parts, app)? {
            (acct, Cred::Key) => Ok(KeyAuth(acct)),
            (_, Cred::Token) => Err(ApiError::forbidden(
                "An access token may only retrieve and list charges and mark a charge buyerPaid; \
                 this request needs the API key.",
            )),
        }
    }
}

/// The control API's routes of one account (`/_sandbox/trigger`, `deliveries`, `replay`,
/// `reset`): its API key, never an access token; not counted by `--rate-limit`, so a test
/// that waits for a webhook does not take the requests of the app it tests.
pub struct ControlKey(pub Arc<Account>);

impl FromRequestParts<Arc<App>> for ControlKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        match credential(parts, app)? {
            (acct, Cred::Key) => Ok(ControlKey(acct)),
            (_, Cred::Token) => Err(ApiError::forbidden(
                "The sandbox's control API takes the account's API key, not an access token.",
            )),
        }
    }
}

impl FromRequestParts<Arc<App>> for ChargeAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let (acct, _cred) = authenticate(parts, app)?;
        Ok(ChargeAuth(acct))
    }
}
