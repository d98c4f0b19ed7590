//! Typed reads and writes of the tables in `db.rs`. Objects are stored as their wire JSON
//! (`body`), with the columns lists filter on beside it.

use rusqlite::types::Value as Sql;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use std::collections::HashMap;

use qbitpay::spec::{DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT};

use crate::db::{SqlResult, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::model::*;

fn json<T: serde::Serialize>(t: &T) -> String {
    serde_json::to_string(t).expect("object json")
}

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> rusqlite::Result<T> {
    serde_json::from_str(body)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

// ---------------------------------------------------------------- lists

/// `limit`, `starting_after`, `ending_before` of a list request.
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
                _ => {
                    return Err(ApiError::invalid(
                        "limit",
                        format!("limit must be an integer from 1 to {MAX_LIST_LIMIT}, not '{s}'"),
                    ))
                }
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

/// One page of `table` for `acct`, newest first, with extra `conds` ("col = ?" and its value).
/// `starting_after`: items older than the cursor; `ending_before`: the `limit` items just newer.
pub fn page<T>(
    c: &Connection,
    table: &str,
    acct: &str,
    q: &ListQuery,
    conds: &[(&str, Sql)],
    cols: &str,
    map: impl FnMut(&Row) -> rusqlite::Result<T>,
) -> ApiResult<Vec<T>> {
    let cursor = |param: &str, id: &str| -> ApiResult<i64> {
        c.prepare_cached(&format!("SELECT seq FROM {table} WHERE account = ?1 AND id = ?2"))
            .db()?
            .query_row(params![acct, id], |r| r.get(0))
            .optional()
            .db()?
            .ok_or_else(|| ApiError::invalid(param, format!("No such object for {param}: '{id}'")))
    };
    let mut sql = format!("SELECT {cols} FROM {table} WHERE account = ?");
    let mut args: Vec<Sql> = vec![Sql::Text(acct.to_owned())];
    for (cond, v) in conds {
        sql.push_str(" AND ");
        sql.push_str(cond);
        args.push(v.clone());
    }
    let newer = if let Some(id) = &q.starting_after {
        sql.push_str(" AND seq < ?");
        args.push(Sql::Integer(cursor("starting_after", id)?));
        false
    } else if let Some(id) = &q.ending_before {
        sql.push_str(" AND seq > ?");
        args.push(Sql::Integer(cursor("ending_before", id)?));
        true
    } else {
        false
    };
    sql.push_str(if newer { " ORDER BY seq ASC LIMIT ?" } else { " ORDER BY seq DESC LIMIT ?" });
    args.push(Sql::Integer(q.limit as i64));
    let mut st = c.prepare_cached(&sql).db()?;
    let mut v: Vec<T> =
        st.query_map(params_from_iter(args), map).db()?.collect::<rusqlite::Result<_>>().db()?;
    if newer {
        v.reverse();
    }
    Ok(v)
}

pub fn body(r: &Row) -> rusqlite::Result<String> {
    r.get(0)
}

/// `{"object":"list","url":…,"data":[…]}` from stored bodies (already JSON).
pub fn list_json(url: &str, bodies: &[String]) -> String {
    format!(
        "{{\"object\":\"list\",\"url\":{},\"data\":[{}]}}",
        serde_json::to_string(url).unwrap(),
        bodies.join(",")
    )
}

// ---------------------------------------------------------------- accounts

pub fn upsert_account(c: &Connection, id: &str, hint: &str, ms: i64) -> ApiResult<()> {
    c.prepare_cached("INSERT INTO accounts (id, key_hint, created_ms) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET key_hint = excluded.key_hint")
        .db()?
        .execute(params![id, hint, ms])
        .db()?;
    c.prepare_cached("INSERT OR IGNORE INTO temp.active (id) VALUES (?1)").db()?.execute(params![id]).db()?;
    Ok(())
}

pub struct AccountRow {
    pub id: String,
    pub key_hint: String,
    pub created_ms: i64,
}

pub fn accounts(c: &Connection) -> ApiResult<Vec<AccountRow>> {
    let mut st =
        c.prepare_cached("SELECT id, key_hint, created_ms FROM accounts ORDER BY created_ms, id").db()?;
    let rows = st
        .query_map([], |r| Ok(AccountRow { id: r.get(0)?, key_hint: r.get(1)?, created_ms: r.get(2)? }))
        .db()?;
    rows.collect::<rusqlite::Result<_>>().db()
}

pub fn count(c: &Connection, table: &str, acct: &str) -> ApiResult<i64> {
    c.prepare_cached(&format!("SELECT COUNT(*) FROM {table} WHERE account = ?1"))
        .db()?
        .query_row(params![acct], |r| r.get(0))
        .db()
}

/// Everything of one account, gone (its schedule too).
pub fn reset_account(w: &WriteTx, acct: &str) -> ApiResult<()> {
    for t in ["charges", "payouts", "txns", "events", "attempts", "idempotency", "jobs"] {
        w.prepare_cached(&format!("DELETE FROM {t} WHERE account = ?1")).db()?.execute(params![acct]).db()?;
    }
    Ok(())
}

// ---------------------------------------------------------------- charges

pub fn insert_charge(c: &Connection, acct: &str, ch: &Charge) -> ApiResult<()> {
    c.prepare_cached("INSERT INTO charges (id, account, status, external_order_id, expires_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .db()?
        .execute(params![ch.id, acct, ch.status, ch.external_order_id, ch.expires_ms, json(ch)])
        .db()?;
    Ok(())
}

pub fn charge(c: &Connection, acct: &str, id: &str) -> ApiResult<Option<Charge>> {
    c.prepare_cached("SELECT body, expires_ms FROM charges WHERE account = ?1 AND id = ?2")
        .db()?
        .query_row(params![acct, id], |r| {
            let mut ch: Charge = parse(&r.get::<_, String>(0)?)?;
            ch.expires_ms = r.get(1)?;
            Ok(ch)
        })
        .optional()
        .db()
}

pub fn charge_body(c: &Connection, acct: &str, id: &str) -> ApiResult<Option<String>> {
    c.prepare_cached("SELECT body FROM charges WHERE account = ?1 AND id = ?2")
        .db()?
        .query_row(params![acct, id], body)
        .optional()
        .db()
}

pub fn save_charge(c: &Connection, ch: &Charge) -> ApiResult<()> {
    c.prepare_cached("UPDATE charges SET status = ?2, body = ?3 WHERE id = ?1")
        .db()?
        .execute(params![ch.id, ch.status, json(ch)])
        .db()?;
    Ok(())
}

// ---------------------------------------------------------------- payouts

pub fn insert_payout(c: &Connection, acct: &str, p: &Payout) -> ApiResult<()> {
    c.prepare_cached("INSERT INTO payouts (id, account, status, txn_id, body) VALUES (?1, ?2, ?3, ?4, ?5)")
        .db()?
        .execute(params![p.id, acct, p.status, p.txn_id, json(p)])
        .db()?;
    Ok(())
}

pub fn payout(c: &Connection, acct: &str, id: &str) -> ApiResult<Option<Payout>> {
    c.prepare_cached("SELECT body, txn_id FROM payouts WHERE account = ?1 AND id = ?2")
        .db()?
        .query_row(params![acct, id], |r| {
            let mut p: Payout = parse(&r.get::<_, String>(0)?)?;
            p.txn_id = r.get(1)?;
            Ok(p)
        })
        .optional()
        .db()
}

pub fn save_payout(c: &Connection, p: &Payout) -> ApiResult<()> {
    c.prepare_cached("UPDATE payouts SET status = ?2, body = ?3 WHERE id = ?1")
        .db()?
        .execute(params![p.id, p.status, json(p)])
        .db()?;
    Ok(())
}

// ---------------------------------------------------------------- balance transactions

pub fn insert_txn(c: &Connection, acct: &str, t: &BalanceTransaction) -> ApiResult<()> {
    c.prepare_cached(
        "INSERT INTO txns (id, account, type, status, source, net, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .db()?
    .execute(params![t.id, acct, t.ty, t.status, t.source, t.net, json(t)])
    .db()?;
    Ok(())
}

pub fn txn(c: &Connection, acct: &str, id: &str) -> ApiResult<Option<BalanceTransaction>> {
    c.prepare_cached("SELECT body FROM txns WHERE account = ?1 AND id = ?2")
        .db()?
        .query_row(params![acct, id], |r| parse(&r.get::<_, String>(0)?))
        .optional()
        .db()
}

pub fn save_txn(c: &Connection, t: &BalanceTransaction) -> ApiResult<()> {
    c.prepare_cached("UPDATE txns SET status = ?2, body = ?3 WHERE id = ?1")
        .db()?
        .execute(params![t.id, t.status, json(t)])
        .db()?;
    Ok(())
}

/// (available, pending) sums of the nets: credits count once available; debits at once.
pub fn balance_sums(c: &Connection, acct: &str) -> ApiResult<(f64, f64)> {
    c.prepare_cached(
        "SELECT COALESCE(SUM(CASE WHEN status = 'available' OR net < 0 THEN net END), 0.0), \
                COALESCE(SUM(CASE WHEN status = 'available' OR net < 0 THEN NULL ELSE net END), 0.0) \
         FROM txns WHERE account = ?1",
    )
    .db()?
    .query_row(params![acct], |r| Ok((r.get(0)?, r.get(1)?)))
    .db()
}

// ---------------------------------------------------------------- events and attempts

pub fn insert_event(c: &Connection, acct: &str, e: &Event) -> ApiResult<()> {
    let d = &e.delivery;
    c.prepare_cached(
        "INSERT INTO events (id, account, type, url, delivery, attempts, last_status_code, last_error, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .db()?
    .execute(params![e.id, acct, e.ty, d.url, d.status, d.attempts, d.last_status_code, d.last_error, json(e)])
    .db()?;
    Ok(())
}

pub const EVENT_COLS: &str = "body, url, delivery, attempts, last_status_code, last_error";

pub fn event_row(r: &Row) -> rusqlite::Result<Event> {
    let mut e: Event = parse(&r.get::<_, String>(0)?)?;
    e.delivery = Delivery {
        url: r.get(1)?,
        status: r.get(2)?,
        attempts: r.get(3)?,
        last_status_code: r.get(4)?,
        last_error: r.get(5)?,
    };
    Ok(e)
}

pub fn event(c: &Connection, acct: &str, id: &str) -> ApiResult<Option<Event>> {
    c.prepare_cached(&format!("SELECT {EVENT_COLS} FROM events WHERE account = ?1 AND id = ?2"))
        .db()?
        .query_row(params![acct, id], event_row)
        .optional()
        .db()
}

/// The newest event's position (0 for none): what a transaction emits comes after it.
pub fn last_event_seq(c: &Connection) -> ApiResult<i64> {
    c.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events").db()?.query_row([], |r| r.get(0)).db()
}

/// The account's events after position `seq`, oldest first.
pub fn events_after(c: &Connection, acct: &str, seq: i64) -> ApiResult<Vec<Event>> {
    c.prepare_cached(&format!("SELECT {EVENT_COLS} FROM events WHERE account = ?1 AND seq > ?2 ORDER BY seq"))
        .db()?
        .query_map(params![acct, seq], event_row)
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()
}

/// What `deliveries` selects: an event type, the id of the object an event is about, an event id.
#[derive(Default)]
pub struct EventFilter {
    pub ty: Option<String>,
    pub object_id: Option<String>,
    pub event_id: Option<String>,
}

/// The newest `limit` events of the account that match, oldest first.
pub fn events_matching(c: &Connection, acct: &str, f: &EventFilter, limit: usize) -> ApiResult<Vec<Event>> {
    let mut sql = format!("SELECT {EVENT_COLS} FROM events WHERE account = ?");
    let mut args: Vec<Sql> = vec![Sql::Text(acct.to_owned())];
    for (cond, v) in
        [("type = ?", &f.ty), ("json_extract(body, '$.data.id') = ?", &f.object_id), ("id = ?", &f.event_id)]
    {
        if let Some(v) = v {
            sql.push_str(" AND ");
            sql.push_str(cond);
            args.push(Sql::Text(v.clone()));
        }
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    args.push(Sql::Integer(limit as i64));
    let mut v: Vec<Event> = c
        .prepare_cached(&sql)
        .db()?
        .query_map(params_from_iter(args), event_row)
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()?;
    v.reverse();
    Ok(v)
}

pub fn save_event(c: &Connection, e: &Event) -> ApiResult<()> {
    let d = &e.delivery;
    c.prepare_cached(
        "UPDATE events SET url = ?2, delivery = ?3, attempts = ?4, last_status_code = ?5, last_error = ?6, body = ?7 WHERE id = ?1",
    )
    .db()?
    .execute(params![e.id, d.url, d.status, d.attempts, d.last_status_code, d.last_error, json(e)])
    .db()?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub at: String,
    #[serde(skip)]
    pub at_ms: i64,
    pub url: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: f64,
    pub next_retry_at: Option<String>,
    #[serde(skip)]
    pub next_retry_ms: Option<i64>,
    /// Sent by a resend (dashboard or control API), not by the schedule.
    pub manual: bool,
    /// A request went out (false: the sandbox refused the URL; `error` says why).
    pub sent: bool,
}

/// Attempts listed per event: replays and retries (with duplicates) have no other bound.
pub const ATTEMPTS_SHOWN: i64 = 100;

pub fn insert_attempt(c: &Connection, acct: &str, event_id: &str, a: &Attempt) -> ApiResult<()> {
    c.prepare_cached(
        "INSERT INTO attempts (account, event_id, at_ms, url, status_code, error, latency_ms, next_retry_ms, manual, sent) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .db()?
    .execute(params![acct, event_id, a.at_ms, a.url, a.status_code, a.error, a.latency_ms, a.next_retry_ms, a.manual, a.sent])
    .db()?;
    Ok(())
}

/// The newest `ATTEMPTS_SHOWN` attempts of an event, oldest first (`webhook.attempts` counts them all).
pub fn attempts(c: &Connection, event_id: &str) -> ApiResult<Vec<Attempt>> {
    use qbitpay::webhook::timestamp::format_millis;
    let mut st = c
        .prepare_cached("SELECT at_ms, url, status_code, error, latency_ms, next_retry_ms, manual, sent FROM (SELECT * FROM attempts WHERE event_id = ?1 ORDER BY seq DESC LIMIT ?2) ORDER BY seq")
        .db()?;
    let rows = st
        .query_map(params![event_id, ATTEMPTS_SHOWN], |r| {
            let at_ms: i64 = r.get(0)?;
            let next: Option<i64> = r.get(5)?;
            Ok(Attempt {
                at: format_millis(at_ms),
                at_ms,
                url: r.get(1)?,
                status_code: r.get(2)?,
                error: r.get(3)?,
                latency_ms: r.get(4)?,
                next_retry_at: next.map(format_millis),
                next_retry_ms: next,
                manual: r.get(6)?,
                sent: r.get(7)?,
            })
        })
        .db()?;
    rows.collect::<rusqlite::Result<_>>().db()
}

// ---------------------------------------------------------------- idempotency records

/// How long (sandbox time) an idempotency record is kept.
pub const IDEM_TTL_MS: i64 = 24 * 3600 * 1000;

pub struct IdemRecord {
    pub fingerprint: Vec<u8>,
    pub status: u16,
    pub body: Vec<u8>,
}

/// The record of `key`, unless older than `fresh_since` (sandbox ms).
pub fn idem_get(c: &Connection, acct: &str, key: &str, fresh_since: i64) -> ApiResult<Option<IdemRecord>> {
    c.prepare_cached("SELECT fingerprint, status, body FROM idempotency WHERE account = ?1 AND key = ?2 AND created_ms >= ?3")
        .db()?
        .query_row(params![acct, key, fresh_since], |r| Ok(IdemRecord { fingerprint: r.get(0)?, status: r.get(1)?, body: r.get(2)? }))
        .optional()
        .db()
}

pub fn idem_put(c: &Connection, acct: &str, key: &str, rec: &IdemRecord, ms: i64) -> ApiResult<()> {
    c.prepare_cached("INSERT OR REPLACE INTO idempotency (account, key, fingerprint, status, body, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .db()?
        .execute(params![acct, key, rec.fingerprint, rec.status, rec.body, ms])
        .db()?;
    Ok(())
}

pub fn idem_purge(c: &Connection, older_than: i64) -> ApiResult<usize> {
    c.prepare_cached("DELETE FROM idempotency WHERE created_ms < ?1").db()?.execute(params![older_than]).db()
}

// ---------------------------------------------------------------- the schedule

/// The kinds of scheduled job.
pub const EXPIRE: &str = "charge.expire";
pub const CONFIRM: &str = "charge.confirm";
pub const CLOSE: &str = "charge.close";
pub const TRANSIT: &str = "payout.transit";
pub const PAY: &str = "payout.pay";
pub const DELIVER: &str = "deliver";

#[derive(Debug, Clone)]
pub struct Job {
    pub seq: i64,
    pub account: String,
    pub due_ms: i64,
    pub kind: String,
    pub target: String,
    pub arg: i64,
    /// Deliveries of one batch (non-zero) go out together; 0: alone.
    pub batch: i64,
}

/// A job due at `due_ms`. The first deliveries a transaction schedules share its batch (they
/// are sent together, see `jobs.rs`); a retry is a batch of its own (0).
pub fn schedule(w: &WriteTx, acct: &str, kind: &str, target: &str, arg: i64, due_ms: i64) -> ApiResult<()> {
    let batch = if kind == DELIVER && arg == 0 { w.batch } else { 0 };
    let mut due_ms = due_ms;
    if batch != 0 {
        // One due time for the whole batch (the latest), so that it is claimed as one.
        if let Some(prev) = w.batch_due.get() {
            if prev < due_ms {
                w.prepare_cached("UPDATE jobs SET due_ms = ?1 WHERE batch = ?2")
                    .db()?
                    .execute(params![due_ms, batch])
                    .db()?;
            }
            due_ms = due_ms.max(prev);
        }
        w.batch_due.set(Some(due_ms));
    }
    w.prepare_cached(
        "INSERT INTO jobs (account, due_ms, kind, target, arg, batch) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .db()?
    .execute(params![acct, due_ms, kind, target, arg, batch])
    .db()?;
    let e = w.earliest_job.get().map_or(due_ms, |e| e.min(due_ms));
    w.earliest_job.set(Some(e));
    Ok(())
}

fn job_row(r: &Row) -> rusqlite::Result<Job> {
    Ok(Job {
        seq: r.get(0)?,
        account: r.get(1)?,
        due_ms: r.get(2)?,
        kind: r.get(3)?,
        target: r.get(4)?,
        arg: r.get(5)?,
        batch: r.get(6)?,
    })
}

/// The due jobs of accounts whose key was given, in order.
fn due_jobs(c: &Connection, now: i64, limit: i64) -> ApiResult<Vec<Job>> {
    c.prepare_cached(
        "SELECT seq, account, due_ms, kind, target, arg, batch FROM jobs \
         WHERE running = 0 AND due_ms <= ?1 AND account IN (SELECT id FROM temp.active) ORDER BY due_ms, seq LIMIT ?2",
    )
    .db()?
    .query_map(params![now, limit], job_row)
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}

fn mark_running(c: &Connection, jobs: &[Job]) -> ApiResult<()> {
    let mut up = c.prepare_cached("UPDATE jobs SET running = 1 WHERE seq = ?1").db()?;
    for j in jobs {
        up.execute(params![j.seq]).db()?;
    }
    Ok(())
}

/// Marks the due jobs running and returns them, in order.
pub fn claim_due(c: &Connection, now: i64, limit: i64) -> ApiResult<Vec<Job>> {
    let jobs = due_jobs(c, now, limit)?;
    mark_running(c, &jobs)?;
    Ok(jobs)
}

/// The next due job and, when it is a delivery, the deliveries due right after it (up to
/// `limit`, none past the next job of another kind): they may run side by side.
pub fn claim_due_run(c: &Connection, now: i64, limit: i64) -> ApiResult<Vec<Job>> {
    let mut jobs = due_jobs(c, now, limit)?;
    let run = match jobs.first() {
        Some(j) if j.kind == DELIVER => jobs.iter().take_while(|j| j.kind == DELIVER).count(),
        Some(_) => 1,
        None => 0,
    };
    jobs.truncate(run);
    mark_running(c, &jobs)?;
    Ok(jobs)
}

pub fn next_due(c: &Connection) -> ApiResult<Option<i64>> {
    c.prepare_cached(
        "SELECT MIN(due_ms) FROM jobs WHERE running = 0 AND account IN (SELECT id FROM temp.active)",
    )
    .db()?
    .query_row([], |r| r.get(0))
    .db()
}

pub fn finish_job(c: &Connection, seq: i64) -> ApiResult<()> {
    c.prepare_cached("DELETE FROM jobs WHERE seq = ?1").db()?.execute(params![seq]).db()?;
    Ok(())
}

/// Drops the pending jobs of `kind` for `target` (a delivered event's retries).
pub fn cancel_jobs(c: &Connection, target: &str, kind: &str) -> ApiResult<()> {
    c.prepare_cached("DELETE FROM jobs WHERE target = ?1 AND kind = ?2 AND running = 0")
        .db()?
        .execute(params![target, kind])
        .db()?;
    Ok(())
}

pub fn next_job_for(c: &Connection, target: &str, kind: &str) -> ApiResult<Option<i64>> {
    c.prepare_cached("SELECT MIN(due_ms) FROM jobs WHERE target = ?1 AND kind = ?2")
        .db()?
        .query_row(params![target, kind], |r| r.get(0))
        .db()
}
