//! Server state: one isolated merchant account per API key, each with its collections,
//! idempotency records and rate-limit bucket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::model::{BalanceTransaction, Charge, Event, HasId, Payout};

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `prefix` + `n` random base-62 characters.
pub fn new_id(prefix: &str, n: usize) -> String {
    let rng = rand::thread_rng();
    let tail: String = rng.sample_iter(&Alphanumeric).take(n).map(char::from).collect();
    format!("{prefix}{tail}")
}

pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// Objects in insertion order (= `createdAt` order, ties by insertion); lists walk it backwards.
pub struct Coll<T> {
    items: Vec<T>,
    index: HashMap<String, usize>,
}

impl<T: HasId> Coll<T> {
    fn new() -> Self {
        Coll { items: Vec::new(), index: HashMap::new() }
    }
    pub fn push(&mut self, item: T) -> usize {
        let i = self.items.len();
        self.index.insert(item.id().to_owned(), i);
        self.items.push(item);
        i
    }
    pub fn get(&self, id: &str) -> Option<&T> {
        self.index.get(id).map(|&i| &self.items[i])
    }
    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        match self.index.get(id) {
            Some(&i) => Some(&mut self.items[i]),
            None => None,
        }
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.items.iter()
    }

    /// One page, newest first. `starting_after`: the items older than the cursor;
    /// `ending_before`: the `limit` items just newer than the cursor.
    pub fn page(&self, q: &ListQuery, keep: impl Fn(&T) -> bool) -> ApiResult<Vec<&T>> {
        let cursor = |param: &str, id: &str| {
            self.index.get(id).copied().ok_or_else(|| ApiError::invalid(param, format!("No such object for {param}: '{id}'")))
        };
        let n = self.items.len();
        if let Some(id) = &q.starting_after {
            let i = cursor("starting_after", id)?;
            Ok((0..i).rev().map(|j| &self.items[j]).filter(|t| keep(t)).take(q.limit).collect())
        } else if let Some(id) = &q.ending_before {
            let i = cursor("ending_before", id)?;
            let mut v: Vec<&T> = (i + 1..n).map(|j| &self.items[j]).filter(|t| keep(t)).take(q.limit).collect();
            v.reverse();
            Ok(v)
        } else {
            Ok(self.items.iter().rev().filter(|t| keep(t)).take(q.limit).collect())
        }
    }
}

pub struct ListQuery {
    pub limit: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
}

impl ListQuery {
    pub fn parse(q: &HashMap<String, String>) -> ApiResult<Self> {
        let limit = match q.get("limit").map(|s| s.trim()) {
            None | Some("") => 10,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=100).contains(&n) => n as usize,
                _ => return Err(ApiError::invalid("limit", format!("limit must be an integer from 1 to 100, not '{s}'"))),
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

pub struct State {
    pub charges: Coll<Charge>,
    pub payouts: Coll<Payout>,
    pub txns: Coll<BalanceTransaction>,
    pub events: Coll<Event>,
    last_ms: i64,
}

impl State {
    /// Wall-clock milliseconds, never earlier than the previous object's.
    pub fn tick(&mut self) -> i64 {
        self.last_ms = self.last_ms.max(now_ms());
        self.last_ms
    }
}

/// A stored idempotent response: the first request's fingerprint and, once done, its answer.
pub struct IdemSlot {
    pub fingerprint: [u8; 32],
    pub result: tokio::sync::Mutex<Option<(u16, Vec<u8>)>>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct Account {
    /// `acct_` + 16 hex of SHA-256(key): stable across restarts, reveals nothing of the key.
    pub id: String,
    pub key: String,
    state: Mutex<State>,
    pub idem: Mutex<HashMap<String, Arc<IdemSlot>>>,
    bucket: Mutex<Bucket>,
}

impl Account {
    pub fn new(key: &str, rate: Option<f64>) -> Self {
        let h = Sha256::digest(key.as_bytes());
        let id = format!("acct_{}", h[..8].iter().map(|b| format!("{b:02x}")).collect::<String>());
        Account {
            id,
            key: key.to_owned(),
            state: Mutex::new(State {
                charges: Coll::new(),
                payouts: Coll::new(),
                txns: Coll::new(),
                events: Coll::new(),
                last_ms: 0,
            }),
            idem: Mutex::new(HashMap::new()),
            bucket: Mutex::new(Bucket { tokens: rate.unwrap_or(0.0), last: Instant::now() }),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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
}

impl App {
    pub fn new(cfg: Config, keys: &[String], base_url: String) -> Self {
        let accounts: Vec<Arc<Account>> = keys.iter().map(|k| Arc::new(Account::new(k, cfg.rate_limit))).collect();
        let by_key = accounts.iter().map(|a| (a.key.clone(), a.clone())).collect();
        let by_id = accounts.iter().map(|a| (a.id.clone(), a.clone())).collect();
        let mut token_secret = [0u8; 32];
        rand::thread_rng().fill(&mut token_secret);
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        App { cfg, accounts, by_key, by_id, token_secret, base_url, http }
    }
    pub fn account_by_key(&self, key: &str) -> Option<&Arc<Account>> {
        self.by_key.get(key)
    }
    pub fn account_by_id(&self, id: &str) -> Option<&Arc<Account>> {
        self.by_id.get(id)
    }
    /// The account holding a charge (for the hosted page, which knows only the id).
    pub fn account_of_charge(&self, charge_id: &str) -> Option<Arc<Account>> {
        self.accounts.iter().find(|a| a.state().charges.get(charge_id).is_some()).cloned()
    }
}
