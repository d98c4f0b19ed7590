//! Events and their webhook delivery: signed with the account's API key by the `qbitpay`
//! crate, retried on non-2xx at `--webhook-retry-interval`, loopback-only by default.
//! Every attempt is stored (time, URL, status or error, latency, next retry); retries are
//! jobs of the stored schedule (`jobs.rs`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use reqwest::Url;
use serde_json::Value;

use crate::app::{new_id, Account, App};
use crate::db::WriteTx;
use crate::error::{ApiError, ApiResult};
use crate::model::{Delivery, Event};
use crate::net::{is_loopback_host, is_loopback_ip, names_listener, reaches};
use crate::store::{self, Attempt, DELIVER};
use qbitpay::webhook::timestamp::format_millis;

/// The `User-Agent` of every delivery: the control API refuses requests that carry it.
pub const DELIVERY_USER_AGENT: &str = concat!("qbitpay-sandbox/", env!("CARGO_PKG_VERSION"));

/// Record an event and, when it has a URL (its own or `--webhook-url`), schedule its first
/// delivery now, or `--webhook-delay` later (in the same transaction as the change it reports).
pub fn emit(
    app: &App,
    acct: &Account,
    w: &WriteTx,
    ty: &str,
    data: Value,
    url: Option<String>,
) -> ApiResult<String> {
    debug_assert!(qbitpay::spec::is_event_type(ty), "{ty} is not an event type of the API");
    // An empty cbUrl (a charge made by a trigger without one) is no URL.
    let url = url.filter(|u| !u.is_empty()).or_else(|| app.cfg.webhook_url.clone());
    let ms = app.clock.tick();
    let ev = Event {
        id: new_id("evt_", 24),
        ty: ty.to_owned(),
        object: "event".into(),
        created_at: format_millis(ms),
        pending_webhooks: 0,
        livemode: false,
        data,
        delivery: Delivery {
            url: url.clone(),
            status: if url.is_some() { "pending" } else { "none" }.into(),
            attempts: 0,
            last_status_code: None,
            last_error: None,
        },
    };
    store::insert_event(w, &acct.id, &ev)?;
    if url.is_some() {
        store::schedule(w, &acct.id, DELIVER, &ev.id, 0, ms + app.cfg.webhook_delay_ms())?;
    }
    Ok(ev.id)
}

/// Why a URL may not receive webhooks: not http(s); the sandbox itself (any spelling of
/// its listener); not loopback without --allow-remote-webhooks.
pub fn check_deliverable(app: &App, url: &str) -> Result<Url, String> {
    let u = Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(format!("unsupported scheme '{}'", u.scheme()));
    }
    if names_listener(app.listen, &u) {
        return Err("it is the sandbox itself (webhooks never go to the sandbox's own listener)".into());
    }
    let loopback = match u.host() {
        Some(url::Host::Ipv4(ip)) => is_loopback_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_loopback_ip(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => is_loopback_host(d),
        None => false,
    };
    if loopback || app.cfg.allow_remote_webhooks {
        Ok(u)
    } else {
        Err(format!(
            "'{}' is not a loopback address (start the sandbox with --allow-remote-webhooks, or startSandbox({{ allowRemoteWebhooks: true }}), to allow it)",
            u.host_str().unwrap_or("")
        ))
    }
}

/// A webhook URL given in a request (`cbUrl`) that names the sandbox itself: 400 naming it.
pub fn refuse_self(app: &App, param: &str, url: &str) -> ApiResult<()> {
    match Url::parse(url) {
        Ok(u) if names_listener(app.listen, &u) => Err(ApiError::invalid(
            param,
            format!("{param} must not be the sandbox itself ({}): webhooks never go to the sandbox's own listener.", redact(url)),
        )),
        _ => Ok(()),
    }
}

/// The addresses a delivery may connect to, resolved now: refused when any of them is the
/// sandbox itself, or (without --allow-remote-webhooks) not loopback. The request then goes
/// to these very addresses, so a name cannot resolve differently between check and use.
async fn resolve(app: &App, u: &Url) -> Result<Vec<SocketAddr>, String> {
    let port = u.port_or_known_default().ok_or("the URL has no port")?;
    let addrs: Vec<SocketAddr> = match u.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(d)) => {
            tokio::time::timeout(app.cfg.webhook_timeout(), tokio::net::lookup_host((d, port)))
                .await
                .map_err(|_| format!("resolving '{d}' timed out"))?
                .map_err(|e| format!("cannot resolve '{d}': {e}"))?
                .collect()
        }
        None => return Err("the URL has no host".into()),
    };
    if addrs.is_empty() {
        return Err("the host resolves to no address".into());
    }
    if addrs.iter().any(|a| reaches(app.listen, a.ip(), port)) {
        return Err(
            "it resolves to the sandbox itself (webhooks never go to the sandbox's own listener)".into()
        );
    }
    if !app.cfg.allow_remote_webhooks && !addrs.iter().all(|a| is_loopback_ip(a.ip().to_canonical())) {
        return Err("it resolves to a non-loopback address (start the sandbox with --allow-remote-webhooks, or startSandbox({ allowRemoteWebhooks: true }), to allow it)".into());
    }
    Ok(addrs)
}

/// The URL as logged: no query string or user info (they may carry secrets).
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            format!(
                "{}://{}{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.port().map(|p| format!(":{p}")).unwrap_or_default()
            ) + u.path()
        }
        Err(_) => "<invalid url>".into(),
    }
}

/// One signed POST, within `--webhook-timeout`; Ok(status) or Err(why it failed).
pub async fn post_signed(app: &App, api_key: &str, url: &str, body: Vec<u8>) -> Result<u16, String> {
    let u = check_deliverable(app, url)?;
    let sig = qbitpay::webhook::sign(&body, api_key, app.cfg.algorithm())
        .map_err(|e| format!("cannot sign: {e:?}"))?;
    let send = async {
        let addrs = resolve(app, &u).await?;
        let host = match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => String::new(),
        };
        let mut last = String::new();
        // Each address in turn until one accepts the connection (localhost is ::1 and 127.0.0.1).
        for addr in addrs {
            let mut pinned = u.clone();
            let _ = pinned.set_ip_host(addr.ip());
            let sent = app
                .http
                .post(pinned)
                .header("Host", &host)
                .header("Content-Type", "application/json")
                .header("QbitPay-Signature", &sig)
                .header("User-Agent", DELIVERY_USER_AGENT)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(resp) => return Ok(resp.status().as_u16()),
                Err(e) => {
                    let connect = e.is_connect();
                    last = describe(e);
                    if !connect {
                        break;
                    }
                }
            }
        }
        Err(last)
    };
    tokio::time::timeout(app.cfg.webhook_timeout(), send)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {}s (--webhook-timeout)", app.cfg.webhook_timeout)))
}

fn describe(e: reqwest::Error) -> String {
    let e = e.without_url(); // the URL's query may carry a secret
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    msg
}

/// What one attempt did: one HTTP request, or `--webhook-duplicates` of them sent at once.
pub struct Outcome {
    pub attempts: Vec<Attempt>,
    pub event: Event,
}

impl Outcome {
    /// `HTTP 200`, or why it failed (the copies' answers, comma-separated, with duplicates).
    pub fn summary(&self) -> String {
        let one = |a: &Attempt| match (a.status_code, &a.error) {
            (Some(code), _) => format!("HTTP {code}"),
            (None, Some(e)) => e.clone(),
            (None, None) => "sent".into(),
        };
        self.attempts.iter().map(one).collect::<Vec<_>>().join(", ")
    }
}

/// One delivery attempt of a stored event: `n` is its place in the schedule (0 = first,
/// then retries), None for a resend; `at` its sandbox time when the schedule sets it (else
/// now). A scheduled attempt sends `--webhook-duplicates` identical requests at once and
/// succeeds when any of them gets a 2xx. Records each request, the event's delivery state
/// and, after a failure with retries left, the next retry (`at` + the retry interval). A
/// URL the sandbox refuses (see `check_deliverable`) is recorded as an attempt with the
/// reason, and the event is undeliverable; a resend to it is a 400 naming the reason.
pub async fn attempt(
    app: &Arc<App>,
    acct: &Arc<Account>,
    event_id: &str,
    n: Option<i64>,
    job: Option<i64>,
    at: Option<i64>,
) -> ApiResult<Outcome> {
    let Some(ev) = app.read(|c| store::event(c, &acct.id, event_id))? else {
        if let Some(seq) = job {
            app.write(|w| store::finish_job(w, seq))?; // the event is gone (an account reset)
        }
        return Err(ApiError::not_found("event", event_id));
    };
    let url = match ev.delivery.url.clone().or_else(|| app.cfg.webhook_url.clone()) {
        Some(u) => u,
        None => {
            if let Some(seq) = job {
                app.write(|w| store::finish_job(w, seq))?;
            }
            return Err(ApiError::invalid("id", format!("The event {event_id} has no webhook URL (start the sandbox with --webhook-url to give it one).")));
        }
    };
    if let Err(why) = check_deliverable(app, &url) {
        if n.is_none() {
            return Err(ApiError::invalid("id", format!("Cannot deliver to {}: {why}.", redact(&url))));
        }
        let at_ms = at.unwrap_or_else(|| app.clock.tick());
        let attempt = Attempt {
            at: format_millis(at_ms),
            at_ms,
            url: url.clone(),
            status_code: None,
            error: Some(format!("not sent: {why}")),
            latency_ms: 0.0,
            next_retry_at: None,
            next_retry_ms: None,
            manual: false,
            sent: false,
        };
        let ev = app.write(|w| {
            let mut ev =
                store::event(w, &acct.id, event_id)?.ok_or_else(|| ApiError::not_found("event", event_id))?;
            ev.delivery.status = "undeliverable".into();
            ev.delivery.last_error = attempt.error.clone();
            store::save_event(w, &ev)?;
            store::insert_attempt(w, &acct.id, event_id, &attempt)?;
            if let Some(seq) = job {
                store::finish_job(w, seq)?;
            }
            Ok(ev)
        })?;
        crate::log!("webhook {event_id} {} undeliverable to {}: {why}", ev.ty, redact(&url));
        return Ok(Outcome { attempts: vec![attempt], event: ev });
    }
    let at_ms = at.unwrap_or_else(|| app.clock.tick());
    let body = serde_json::to_vec(&ev).expect("event json");
    let copies = if n.is_some() { app.cfg.webhook_duplicates.max(1) } else { 1 };
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..copies {
        let (app, key, url, body) = (app.clone(), acct.key.clone(), url.clone(), body.clone());
        sends.spawn(async move {
            let t0 = Instant::now();
            let outcome = post_signed(&app, &key, &url, body).await;
            (i, outcome, (t0.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
        });
    }
    let mut results = Vec::new();
    while let Some(r) = sends.join_next().await {
        results.push(r.unwrap_or_else(|e| (u32::MAX, Err(format!("the delivery task failed: {e}")), 0.0)));
    }
    results.sort_by_key(|r| r.0);
    let retries = app.cfg.webhook_retries as i64;
    let total = retries + 1;
    let ok = results.iter().any(|(_, o, _)| matches!(o, Ok(code) if (200..300).contains(code)));
    let next_retry_ms = match n {
        Some(i) if !ok && i < retries => {
            Some(at_ms + (app.cfg.webhook_retry_interval * 1000.0).round() as i64)
        }
        _ => None,
    };
    let attempts: Vec<Attempt> = results
        .iter()
        .map(|(_, outcome, latency_ms)| Attempt {
            at: format_millis(at_ms),
            at_ms,
            url: url.clone(),
            status_code: outcome.as_ref().ok().copied(),
            error: outcome.as_ref().err().cloned(),
            latency_ms: *latency_ms,
            next_retry_at: next_retry_ms.map(format_millis),
            next_retry_ms,
            manual: n.is_none(),
            sent: true,
        })
        .collect();
    let ev = app.write(|w| {
        let mut ev =
            store::event(w, &acct.id, event_id)?.ok_or_else(|| ApiError::not_found("event", event_id))?;
        ev.delivery.attempts += attempts.len() as u32;
        let answered = attempts.iter().find(|a| a.status_code.is_some_and(|c| (200..300).contains(&c)));
        ev.delivery.last_status_code = answered.or(attempts.last()).and_then(|a| a.status_code);
        if let Some(e) = attempts.iter().find_map(|a| a.error.clone()) {
            ev.delivery.last_error = Some(e);
        }
        if ok {
            ev.delivery.status = "succeeded".into();
            store::cancel_jobs(w, event_id, DELIVER)?;
        } else {
            ev.pending_webhooks += 1;
            if let Some(due) = next_retry_ms {
                store::schedule(w, &acct.id, DELIVER, event_id, n.unwrap_or(0) + 1, due)?;
            } else if n.is_some() || ev.delivery.status != "pending" {
                // All attempts used; or a failed resend of an event no retry is waiting for.
                ev.delivery.status = "failed".into();
            }
        }
        store::save_event(w, &ev)?;
        for a in &attempts {
            store::insert_attempt(w, &acct.id, event_id, a)?;
        }
        if let Some(seq) = job {
            store::finish_job(w, seq)?;
        }
        Ok(ev)
    })?;
    let what = match n {
        Some(i) => format!("attempt {}/{total}", i + 1),
        None => "resend".into(),
    };
    let copies_note = if copies > 1 { format!(", {copies} copies") } else { String::new() };
    for (_, outcome, _) in &results {
        match outcome {
            Ok(code) => {
                crate::log!("webhook {event_id} {} -> {} {code} ({what}{copies_note})", ev.ty, redact(&url))
            }
            Err(e) => {
                crate::log!(
                    "webhook {event_id} {} -> {} failed: {e} ({what}{copies_note})",
                    ev.ty,
                    redact(&url)
                )
            }
        }
    }
    if n.is_some() && !ok && next_retry_ms.is_none() {
        crate::log!("webhook {event_id} {}: giving up after {total} attempts", ev.ty);
    }
    Ok(Outcome { attempts, event: ev })
}
