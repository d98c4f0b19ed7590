//! Command-line flags.

use clap::Parser;

pub const DEMO_KEY: &str = "sk_test_qbitpay_demo";

/// A local, stateful QbitPay server: every endpoint of the API, isolated accounts per API
/// key, signed webhooks, hosted payment pages and fault injection. Prints
/// `qbitpay-sandbox listening on http://HOST:PORT` as its first line on stdout.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "qbitpay-sandbox",
    version,
    about,
    long_about = None,
    after_help = "Installed from npm, `npx qbitpay-sandbox trigger <type> --url URL --api-key KEY` makes an event \
happen in a running sandbox (`npx qbitpay-sandbox trigger --help`; the control API's POST /_sandbox/trigger)."
)]
pub struct Config {
    /// Keep the state (accounts' objects, events, deliveries, idempotency records, the
    /// schedule, the clock) in this SQLite file; it survives restarts. Without it: in memory.
    #[arg(long, value_name = "PATH")]
    pub data: Option<String>,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 picks a free port (read it from the first stdout line).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// An API key; repeat for several merchant accounts. None: the demo key sk_test_qbitpay_demo.
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_keys: Vec<String>,
    /// Seconds between webhook delivery attempts (5 retries after the first attempt).
    #[arg(long, value_name = "SECS", default_value_t = 900.0)]
    pub webhook_retry_interval: f64,
    /// Retries after a failed first delivery attempt.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub webhook_retries: u32,
    /// Where events go that have no URL of their own (payout events, events/test without cbUrl).
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// Webhook signature algorithm: md5 (default) or hmac-sha256.
    #[arg(long, value_name = "ALG", default_value = "md5", value_parser = ["md5", "hmac-sha256"])]
    pub webhook_algorithm: String,
    /// Deliver webhooks to non-loopback hosts too (off: only 127.0.0.0/8, ::1, localhost).
    #[arg(long)]
    pub allow_remote_webhooks: bool,
    /// A charge marked buyerPaid becomes sellerConfirmed (paid, balance credited,
    /// charge.succeeded) after SECS, and closed SECS later. Without it, buyerPaid stays.
    #[arg(long, value_name = "SECS")]
    pub auto_confirm_after: Option<f64>,
    /// A pending charge expires (status cancelled, charge.expired) SECS after creation.
    #[arg(long, value_name = "SECS", default_value_t = 1800.0)]
    pub charge_ttl: f64,
    /// A payout goes pending → inTransit after SECS.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub payout_transit_after: f64,
    /// A payout goes inTransit → paid SECS after it went inTransit.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub payout_paid_after: f64,
    /// Lifetime of access tokens from GET /api/v1/accessToken.
    #[arg(long, value_name = "SECS", default_value_t = 7200.0)]
    pub access_token_ttl: f64,
    /// Requests per second per account (burst of the same size); over it: 429 + Retry-After.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<f64>,
    /// Fraction (0..1) of /api requests that fail before doing anything: half answered
    /// 503 api_error, half with the connection dropped.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Shut down when stdin reaches end of file: a parent that holds the other end of a pipe
    /// to it takes the sandbox with it when it exits, however it exits.
    #[arg(long)]
    pub exit_on_stdin_close: bool,
    /// Seconds one webhook delivery attempt may take (connect, send, answer) before it
    /// counts as failed.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub webhook_timeout: f64,
    /// Send each webhook delivery N times at once (the same body and signature), as an
    /// at-least-once sender may: a handler must acknowledge duplicates without acting twice.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub webhook_duplicates: u32,
    /// Send the deliveries that one action causes (a request, a trigger, the jobs of a clock
    /// advance) newest first, one after another per receiver.
    #[arg(long)]
    pub webhook_reorder: bool,
    /// Seconds (sandbox time) between an event and its first delivery attempt.
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub webhook_delay: f64,
    /// Seconds a connection may take to send a request's headers, or stay idle between
    /// requests, or leave its answers unread, before it is closed; and a request's body
    /// after its headers (else 408).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub header_timeout: f64,
    /// Open connections at most; past it new connections are refused (503) and closed.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        use crate::limits::{
            MAX_CONNECTIONS, MAX_FLAG_SECONDS, MAX_RATE_LIMIT, MAX_WEBHOOK_DUPLICATES, MAX_WEBHOOK_RETRIES,
        };
        for (flag, v) in
            [("--webhook-timeout", self.webhook_timeout), ("--header-timeout", self.header_timeout)]
        {
            if !v.is_finite() || !(0.001..=3600.0).contains(&v) {
                return Err(format!("{flag} must be a number of seconds from 0.001 to 3600"));
            }
        }
        if !(1..=MAX_CONNECTIONS).contains(&self.max_connections) {
            return Err(format!("--max-connections must be from 1 to {MAX_CONNECTIONS}"));
        }
        if !(1..=MAX_WEBHOOK_DUPLICATES).contains(&self.webhook_duplicates) {
            return Err(format!("--webhook-duplicates must be from 1 to {MAX_WEBHOOK_DUPLICATES}"));
        }
        if self.webhook_retries > MAX_WEBHOOK_RETRIES {
            return Err(format!("--webhook-retries must be at most {MAX_WEBHOOK_RETRIES}"));
        }
        let nonneg = [
            ("--webhook-retry-interval", self.webhook_retry_interval),
            ("--charge-ttl", self.charge_ttl),
            ("--payout-transit-after", self.payout_transit_after),
            ("--payout-paid-after", self.payout_paid_after),
            ("--access-token-ttl", self.access_token_ttl),
            ("--auto-confirm-after", self.auto_confirm_after.unwrap_or(0.0)),
            ("--webhook-delay", self.webhook_delay),
        ];
        for (flag, v) in nonneg {
            if !v.is_finite() || !(0.0..=MAX_FLAG_SECONDS).contains(&v) {
                return Err(format!("{flag} must be a number of seconds from 0 to {MAX_FLAG_SECONDS:e}"));
            }
        }
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err("--fault-rate must be between 0 and 1".into());
        }
        if let Some(r) = self.rate_limit {
            if !r.is_finite() || r <= 0.0 || r > MAX_RATE_LIMIT {
                return Err(format!(
                    "--rate-limit must be > 0 and at most {MAX_RATE_LIMIT:e} requests per second"
                ));
            }
        }
        if self.api_keys.iter().any(|k| k.is_empty() || k.contains(':') || k.chars().any(char::is_whitespace))
        {
            return Err("--api-key must be non-empty, without ':' or whitespace".into());
        }
        Ok(())
    }

    pub fn webhook_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.webhook_timeout)
    }

    /// `--webhook-delay` in milliseconds.
    pub fn webhook_delay_ms(&self) -> i64 {
        (self.webhook_delay * 1000.0).round() as i64
    }

    pub fn header_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.header_timeout)
    }

    pub fn algorithm(&self) -> qbitpay::webhook::Algorithm {
        qbitpay::webhook::Algorithm::from_name(&self.webhook_algorithm)
            .unwrap_or(qbitpay::webhook::Algorithm::Md5)
    }
}
