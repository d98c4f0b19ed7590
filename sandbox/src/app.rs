//! Server state: one isolated merchant account per API key (its objects live in the
//! database, see `db.rs`), the sandbox clock, the schedule and the rate-limit buckets.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

use qbitpay::spec::{DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{meta_get, meta_set, Db};
use crate::error::{ApiError, ApiResult};
use crate::jobs::Scheduler;

/// `prefix` + `n` random base-62 characters.
pub fn new_id(prefix: &str, n: usize) -> String {
    let rng = rand::thread_rng();
    let tail: String = rng.sample_iter(&Alphanumeric).take(n).map(char::from).collect();
    format!("{prefix}{tail}")
}

pub struct ListQuery {
    pub limit: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
}

impl ListQuery {
    pub fn parse(q: &HashMap<String, String>) -> ApiResult<Self> {
        let limit = match q.get("limit").map(|s| s.trim()) {
            None | Some("") => DEFAULT_LIST_LIMIT as usize,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=MAX_LIST_LIMIT as i64).contains(&n) => n as usize,
                _ => return Err(ApiError::invalid("limit", format!("limit must be an integer from 1 to {MAX_LIST_LIMIT}, not '{s}'"))),
            },
        };
        let nonempty = |k: &str| q.get(k).filter(|s| !s.is_empty()).cloned();
        let (starting_after, ending_before) = (nonempty("starting_after"), nonempty("ending_before"));
        if starting_after.is_some() && ending_before.is_some() {
            return Err(ApiError::invalid("ending_before", "pass starting_after or ending_before, not both"));
        }
        Ok(ListQuery { limit, starting_after, ending_before })
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct Account {
    /// `acct_` + 16 hex of SHA-256(key): stable across restarts, reveals nothing of the key.
    pub id: String,
    pub key: String,
    bucket: Mutex<Bucket>,
}

pub fn account_id(key: &str) -> String {
    let h = Sha256::digest(key.as_bytes());
    format!("acct_{}", h[..8].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// What the dashboard shows of a key: enough to tell keys apart, not enough to use one.
pub fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        format!("{}…", chars.iter().take(3).collect::<String>())
    } else {
        let head: String = chars.iter().take(8).collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    }
}

impl Account {
    pub fn new(key: &str, rate: Option<f64>) -> Self {
        Account {
            id: account_id(key),
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
    pub http: reqwest::Client,
    pub db: Db,
    pub clock: Clock,
    pub sched: Scheduler,
    /// Grows with every committed write (the dashboard's ETag).
    version: AtomicU64,
}

impl App {
    pub fn new(cfg: Config, keys: &[String], base_url: String, db: Db) -> Result<Self, String> {
        let accounts: Vec<Arc<Account>> = keys.iter().map(|k| Arc::new(Account::new(k, cfg.rate_limit))).collect();
        let by_key = accounts.iter().map(|a| (a.key.clone(), a.clone())).collect();
        let by_id = accounts.iter().map(|a| (a.id.clone(), a.clone())).collect();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        // The clock offset and the access-token secret are stored: both survive a restart
        // with --data (tokens issued before it stay valid).
        let (offset, secret) = db
            .write(|w| {
                let offset = meta_get(w, "clock_offset_ms")?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                let secret = match meta_get(w, "token_secret")?.and_then(|h| decode_hex32(&h)) {
                    Some(s) => s,
                    None => {
                        let mut s = [0u8; 32];
                        rand::thread_rng().fill(&mut s);
                        meta_set(w, "token_secret", &s.iter().map(|b| format!("{b:02x}")).collect::<String>())?;
                        s
                    }
                };
                let now = crate::clock::wall_ms() + offset;
                for a in &accounts {
                    crate::store::upsert_account(w, &a.id, &key_hint(&a.key), now)?;
                }
                Ok((offset, secret))
            })
            .0
            .map_err(|e| e.message)?;
        Ok(App {
            cfg,
            accounts,
            by_key,
            by_id,
            token_secret: secret,
            base_url,
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
    pub fn write<T>(&self, f: impl FnOnce(&crate::db::W) -> ApiResult<T>) -> ApiResult<T> {
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
