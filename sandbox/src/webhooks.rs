//! Events and their webhook delivery: signed with the account's API key by the `qbitpay`
//! crate, retried on non-2xx at `--webhook-retry-interval`, loopback-only by default.

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;

use crate::app::{new_id, secs, Account, App, State};
use crate::model::{Delivery, Event};
use qbitpay::webhook::timestamp::format_millis;

/// Record an event and, when it has a URL (its own or `--webhook-url`), deliver it in the background.
pub fn emit(app: &Arc<App>, acct: &Arc<Account>, st: &mut State, ty: &'static str, data: Value, url: Option<String>) -> String {
    let url = url.or_else(|| app.cfg.webhook_url.clone());
    let ms = st.tick();
    let ev = Event {
        id: new_id("evt_", 24),
        ty,
        object: "event",
        created_at: format_millis(ms),
        pending_webhooks: 0,
        livemode: false,
        data,
        delivery: Delivery {
            url: url.clone(),
            status: if url.is_some() { "pending" } else { "none" },
            attempts: 0,
            last_status_code: None,
            last_error: None,
        },
    };
    let id = ev.id.clone();
    st.events.push(ev);
    if let Some(url) = url {
        tokio::spawn(deliver(app.clone(), acct.clone(), id.clone(), url, app.cfg.webhook_retries));
    }
    id
}

/// Why a URL may not receive webhooks (non-http, or not loopback without --allow-remote-webhooks).
pub fn check_deliverable(app: &App, url: &str) -> Result<(), String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(format!("unsupported scheme '{}'", u.scheme()));
    }
    let host = u.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let loopback = match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    };
    if loopback || app.cfg.allow_remote_webhooks {
        Ok(())
    } else {
        Err(format!("'{host}' is not a loopback address (start the sandbox with --allow-remote-webhooks to allow it)"))
    }
}

/// The URL as logged: no query string or user info (they may carry secrets).
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}{}", u.scheme(), u.host_str().unwrap_or(""), u.port().map(|p| format!(":{p}")).unwrap_or_default())
            + u.path(),
        Err(_) => "<invalid url>".into(),
    }
}

/// One signed POST; Ok(status) or Err(transport error).
pub async fn post_signed(app: &App, api_key: &str, url: &str, body: Vec<u8>) -> Result<u16, String> {
    let sig = qbitpay::webhook::sign(&body, api_key, app.cfg.algorithm()).map_err(|e| format!("cannot sign: {e:?}"))?;
    let resp = app
        .http
        .post(url)
        .header("Content-Type", "application/json")
        .header("QbitPay-Signature", sig)
        .header("User-Agent", concat!("qbitpay-sandbox/", env!("CARGO_PKG_VERSION")))
        .body(body)
        .send()
        .await
        .map_err(|e| {
            let e = e.without_url(); // the URL's query may carry a secret
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            msg
        })?;
    Ok(resp.status().as_u16())
}

async fn deliver(app: Arc<App>, acct: Arc<Account>, id: String, url: String, retries: u32) {
    if let Err(why) = check_deliverable(&app, &url) {
        let ty = {
            let mut st = acct.state();
            let Some(ev) = st.events.get_mut(&id) else { return };
            ev.delivery.status = "undeliverable";
            ev.delivery.last_error = Some(why.clone());
            ev.ty
        };
        eprintln!("webhook {id} {ty} undeliverable to {}: {why}", redact(&url));
        return;
    }
    for attempt in 0..=retries {
        if attempt > 0 {
            tokio::time::sleep(secs(app.cfg.webhook_retry_interval)).await;
        }
        let (body, ty) = {
            let st = acct.state();
            let Some(ev) = st.events.get(&id) else { return };
            (serde_json::to_vec(ev).expect("event json"), ev.ty)
        };
        let outcome = post_signed(&app, &acct.key, &url, body).await;
        let mut st = acct.state();
        let Some(ev) = st.events.get_mut(&id) else { return };
        ev.delivery.attempts += 1;
        let n = attempt + 1;
        let total = retries + 1;
        match outcome {
            Ok(code) if (200..300).contains(&code) => {
                ev.delivery.status = "succeeded";
                ev.delivery.last_status_code = Some(code);
                eprintln!("webhook {id} {ty} -> {} {code} (attempt {n}/{total})", redact(&url));
                return;
            }
            Ok(code) => {
                ev.delivery.last_status_code = Some(code);
                eprintln!("webhook {id} {ty} -> {} {code} (attempt {n}/{total})", redact(&url));
            }
            Err(e) => {
                eprintln!("webhook {id} {ty} -> {} failed: {e} (attempt {n}/{total})", redact(&url));
                ev.delivery.last_error = Some(e);
            }
        }
        ev.pending_webhooks += 1;
    }
    let mut st = acct.state();
    if let Some(ev) = st.events.get_mut(&id) {
        ev.delivery.status = "failed";
        eprintln!("webhook {id} {}: giving up after {} attempts", ev.ty, retries + 1);
    }
}
