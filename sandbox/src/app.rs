//! Server state: one isolated merchant account per API key (its objects live in the
//! database, see `db.rs`), the sandbox clock, the schedule and the rate-limit buckets.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hmac::{Hmac, Mac};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::Sha256;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{meta_get, meta_set, Db};
use crate::error::ApiResult;

/// Wakes the background runner of the stored schedule (`jobs.rs`) and lets one runner at a
/// time claim jobs.
pub struct Scheduler {
    pub notify: Notify,
    /// The due time the background task sleeps until (i64::MIN while it is busy).
    pub next_wake: AtomicI64,
    /// Held by whoever runs jobs (the background task, an advance), one at a time.
    pub runner: tokio::sync::Mutex<()>,
}

impl Scheduler {
    pub fn new() -> Self {
        Scheduler {
            notify: Notify::new(),
            next_wake: AtomicI64::new(i64::MIN),
            runner: tokio::sync::Mutex::new(()),
        }
    }

    /// A job due at `due` was committed: wake the background task if it sleeps past it.
    pub fn poke(&self, due: i64) {
        if due < self.next_wake.load(Ordering::SeqCst) {
            self.notify.notify_one();
        }
    }
}

/// `prefix` + `n` random base-62 characters.
pub fn new_id(prefix: &str, n: usize) -> String {
    let rng = rand::thread_rng();
    let tail: String = rng.sample_iter(&Alphanumeric).take(n).map(char::from).collect();
    format!("{prefix}{tail}")
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct Account {
    /// `acct_` + 16 hex of HMAC-SHA256(the stored account secret, key): stable across
    /// restarts with `--data`, and no help in guessing the key.
    pub id: String,
    pub key: String,
    bucket: Mutex<Bucket>,
}

pub fn account_id(secret: &[u8; 32], key: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("hmac key");
    m.update(key.as_bytes());
    let h = m.finalize().into_bytes();
    format!("acct_{}", h[..8].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// What the dashboard shows of a key: its last 4 characters when the key is long enough
/// (16 or more) that they give nothing away, else nothing.
pub fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 16 {
        return String::new();
    }
    format!("…{}", chars[chars.len() - 4..].iter().collect::<String>())
}

impl Account {
    pub fn new(secret: &[u8; 32], key: &str, rate: Option<f64>) -> Self {
        Account {
            id: account_id(secret, key),
            key: key.to_owned(),
            bucket: Mutex::new(Bucket { tokens: rate.unwrap_or(0.0), last: Instant::now() }),
        }
    }

    /// Token bucket of `rate` requests/second (burst = rate); Err(seconds to wait).
    pub fn take_token(&self, rate: f64) -> Result<(), u64> {
        let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(rate.max(1.0));
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - b.tokens) / rate).ceil() as u64).max(1))
        }
    }
}

pub struct App {
    pub cfg: Config,
    pub accounts: Vec<Arc<Account>>,
    by_key: HashMap<String, Arc<Account>>,
    by_id: HashMap<String, Arc<Account>>,
    pub token_secret: [u8; 32],
    /// `http://127.0.0.1:PORT`, as printed on the first line.
    pub base_url: String,
    /// The address the sandbox listens on: no webhook may be sent to it.
    pub listen: SocketAddr,
    pub http: reqwest::Client,
    pub db: Db,
    pub clock: Clock,
    pub sched: Scheduler,
    /// Grows with every committed write (the dashboard's ETag).
    version: AtomicU64,
}

impl App {
    pub fn new(
        cfg: Config,
        keys: &[String],
        base_url: String,
        listen: SocketAddr,
        db: Db,
    ) -> Result<Self, String> {
        // Each delivery is bounded by --webhook-timeout as a whole (see webhooks::post_signed).
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        // The clock offset and the secrets are stored: they survive a restart with --data
        // (tokens issued before it stay valid, accounts keep their ids).
        let (offset, secret, accounts) = db
            .write(|w| {
                let offset = meta_get(w, "clock_offset_ms")?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                let secret = stored_secret(w, "token_secret")?;
                let account_secret = stored_secret(w, "account_secret")?;
                let accounts: Vec<Arc<Account>> =
                    keys.iter().map(|k| Arc::new(Account::new(&account_secret, k, cfg.rate_limit))).collect();
                let now = crate::clock::wall_ms() + offset;
                for a in &accounts {
                    crate::store::upsert_account(w, &a.id, &key_hint(&a.key), now)?;
                }
                Ok((offset, secret, accounts))
            })
            .0
            .map_err(|e| e.message)?;
        let by_key = accounts.iter().map(|a| (a.key.clone(), a.clone())).collect();
        let by_id = accounts.iter().map(|a| (a.id.clone(), a.clone())).collect();
        Ok(App {
            cfg,
            accounts,
            by_key,
            by_id,
            token_secret: secret,
            base_url,
            listen,
            http,
            db,
            clock: Clock::new(offset),
            sched: Scheduler::new(),
            version: AtomicU64::new(1),
        })
    }
    pub fn account_by_key(&self, key: &str) -> Option<&Arc<Account>> {
        self.by_key.get(key)
    }
    pub fn account_by_id(&self, id: &str) -> Option<&Arc<Account>> {
        self.by_id.get(id)
    }

    /// Sandbox time, ms.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// One write transaction (see `Db::write`); afterwards the scheduler hears of new jobs
    /// and the dashboard of a change.
    pub fn write<T>(&self, f: impl FnOnce(&crate::db::WriteTx) -> ApiResult<T>) -> ApiResult<T> {
        let (r, earliest) = self.db.write(f);
        if r.is_ok() {
            self.version.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(due) = earliest {
            self.sched.poke(due);
        }
        r
    }

    pub fn read<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> ApiResult<T>) -> ApiResult<T> {
        self.db.read(f)
    }
}

/// A random 32-byte secret kept in `meta` under `name` (made on first use).
fn stored_secret(w: &crate::db::WriteTx, name: &str) -> ApiResult<[u8; 32]> {
    if let Some(s) = meta_get(w, name)?.and_then(|h| decode_hex32(&h)) {
        return Ok(s);
    }
    let mut s = [0u8; 32];
    rand::thread_rng().fill(&mut s);
    meta_set(w, name, &s.iter().map(|b| format!("{b:02x}")).collect::<String>())?;
    Ok(s)
}

fn decode_hex32(h: &str) -> Option<[u8; 32]> {
    if h.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
