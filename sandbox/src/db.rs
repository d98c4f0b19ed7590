//! The sandbox's state in SQLite: a file with `--data PATH`, else an in-memory database,
//! on the same code path. One connection behind a mutex; every request's writes are one
//! `BEGIN IMMEDIATE … COMMIT` transaction, so a kill at any moment leaves each request
//! either wholly stored or not at all.

use std::cell::Cell;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::error::{ApiError, ApiResult};

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY, key_hint TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS charges (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
  status TEXT NOT NULL, external_order_id TEXT NOT NULL, expires_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS charges_account ON charges (account, seq);
CREATE TABLE IF NOT EXISTS payouts (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
  status TEXT NOT NULL, txn_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS payouts_account ON payouts (account, seq);
CREATE TABLE IF NOT EXISTS txns (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
  type TEXT NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL, net REAL NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS txns_account ON txns (account, seq);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, account TEXT NOT NULL, type TEXT NOT NULL,
  url TEXT, delivery TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  last_status_code INTEGER, last_error TEXT, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_account ON events (account, seq);
CREATE INDEX IF NOT EXISTS events_object ON events (account, json_extract(body, '$.data.id'));
CREATE TABLE IF NOT EXISTS attempts (
  seq INTEGER PRIMARY KEY, account TEXT NOT NULL, event_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
  url TEXT NOT NULL, status_code INTEGER, error TEXT, latency_ms REAL NOT NULL,
  next_retry_ms INTEGER, manual INTEGER NOT NULL DEFAULT 0, sent INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS attempts_event ON attempts (event_id, seq);
CREATE TABLE IF NOT EXISTS idempotency (
  account TEXT NOT NULL, key TEXT NOT NULL, fingerprint BLOB NOT NULL,
  status INTEGER NOT NULL, body BLOB NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (account, key));
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_ms);
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY, account TEXT NOT NULL, due_ms INTEGER NOT NULL, kind TEXT NOT NULL,
  target TEXT NOT NULL, arg INTEGER NOT NULL DEFAULT 0, running INTEGER NOT NULL DEFAULT 0,
  batch INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (running, due_ms);
CREATE INDEX IF NOT EXISTS jobs_target ON jobs (target);
"#;

/// A write transaction, with what it scheduled (the scheduler is woken after the commit).
pub struct WriteTx<'c> {
    pub tx: rusqlite::Transaction<'c>,
    pub earliest_job: Cell<Option<i64>>,
    /// Marks the first deliveries this transaction schedules: they are sent as one batch
    /// (in order, or newest first with `--webhook-reorder`).
    pub batch: i64,
    /// The due time of this batch's deliveries (one for all of them).
    pub batch_due: Cell<Option<i64>>,
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

pub struct Db {
    conn: Mutex<Connection>,
    /// `--data` path, or None for in-memory.
    pub path: Option<String>,
}

pub fn sql_err(e: rusqlite::Error) -> ApiError {
    crate::log!("qbitpay-sandbox: database error: {e}");
    ApiError::internal(format!("The sandbox's database failed: {e}"))
}

pub trait SqlResult<T> {
    fn db(self) -> ApiResult<T>;
}
impl<T> SqlResult<T> for rusqlite::Result<T> {
    fn db(self) -> ApiResult<T> {
        self.map_err(sql_err)
    }
}

impl Db {
    /// Opens (creating) the database; refuses a file another sandbox holds.
    pub fn open(path: Option<&str>) -> Result<Db, String> {
        let conn = match path {
            Some(p) => {
                if let Some(dir) = Path::new(p).parent().filter(|d| !d.as_os_str().is_empty()) {
                    if !dir.is_dir() {
                        return Err(format!("--data {p}: the directory {} does not exist", dir.display()));
                    }
                }
                Connection::open(p).map_err(|e| format!("--data {p}: cannot open: {e}"))?
            }
            None => {
                Connection::open_in_memory().map_err(|e| format!("cannot open an in-memory database: {e}"))?
            }
        };
        let what = path.map(|p| format!("--data {p}")).unwrap_or_else(|| "in-memory database".into());
        let in_use = |e: rusqlite::Error| damaged_or(&what, e);
        if let Some(p) = path {
            // Read before anything is written: another program's database, or a damaged file,
            // is refused as it is (not switched to WAL, no table added).
            check_ours(&conn, &what)?;
            check_integrity(&conn, p)?;
        }
        // WAL + NORMAL: a commit is in the log before the response goes out (a killed process
        // loses nothing committed); EXCLUSIVE: one sandbox per file.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA locking_mode = EXCLUSIVE; PRAGMA foreign_keys = OFF;")
            .map_err(in_use)?;
        conn.set_prepared_statement_cache_capacity(128);
        conn.execute_batch("BEGIN IMMEDIATE; COMMIT;").map_err(in_use)?;
        // The tables, the columns added since, and the schema version: all of them or none (a
        // file left with some tables and no version would read as another program's).
        let schema = conn.unchecked_transaction().map_err(in_use)?;
        schema.execute_batch(SCHEMA).map_err(|e| damaged_or(&what, e))?;
        // Columns added since the first files: their rows take the default (every job a batch
        // of its own; every attempt a request that went out).
        for (table, column, decl) in [
            ("jobs", "batch", "INTEGER NOT NULL DEFAULT 0"),
            ("attempts", "sent", "INTEGER NOT NULL DEFAULT 1"),
        ] {
            let has: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2",
                    params![table, column],
                    |r| r.get(0),
                )
                .map_err(|e| damaged_or(&what, e))?;
            if has == 0 {
                conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl};"))
                    .map_err(|e| damaged_or(&what, e))?;
            }
        }
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(|e| e.to_string())?;
        match version {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    params![SCHEMA_VERSION.to_string()],
                )
                .map_err(|e| e.to_string())?;
            }
            Some(v) if v == SCHEMA_VERSION.to_string() => {}
            Some(v) => {
                return Err(format!(
                    "{what}: schema version {v}, this sandbox reads version {SCHEMA_VERSION}"
                ))
            }
        }
        schema.commit().map_err(in_use)?;
        // Jobs that were running when the last process stopped run again.
        conn.execute("UPDATE jobs SET running = 0 WHERE running = 1", []).map_err(|e| e.to_string())?;
        conn.execute_batch("CREATE TEMP TABLE active (id TEXT PRIMARY KEY);").map_err(|e| e.to_string())?;
        Ok(Db { conn: Mutex::new(conn), path: path.map(str::to_owned) })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one write transaction: committed when it returns Ok, rolled back on Err.
    /// Returns the result and the earliest job it scheduled.
    pub fn write<T>(&self, f: impl FnOnce(&WriteTx) -> ApiResult<T>) -> (ApiResult<T>, Option<i64>) {
        let mut conn = self.lock();
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return (Err(sql_err(e)), None),
        };
        let batch = (rand::random::<i64>() & i64::MAX) | 1;
        let w = WriteTx { tx, earliest_job: Cell::new(None), batch, batch_due: Cell::new(None) };
        match f(&w) {
            Ok(v) => {
                let earliest = w.earliest_job.get();
                match w.tx.commit() {
                    Ok(()) => (Ok(v), earliest),
                    Err(e) => (Err(sql_err(e)), None),
                }
            }
            Err(e) => {
                let _ = w.tx.rollback();
                (Err(e), None)
            }
        }
    }

    /// Reads (no transaction needed: one connection, serialised).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
        let conn = self.lock();
        f(&conn)
    }
}

/// What to do with a `--data` file that cannot be used as it is.
const DAMAGED_HELP: &str =
    "The sandbox does not start on a damaged file. Move it aside (with its -wal and -shm \
files, if any) to start with an empty state, or put back a copy you trust.";

/// An error opening `what`: a file another sandbox holds, a damaged or foreign file says so
/// and what to do; others as they are.
fn damaged_or(what: &str, e: rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
            format!("{what} is in use by another qbitpay-sandbox")
        }
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            format!("{what} is damaged ({e}). {DAMAGED_HELP}")
        }
        Some(rusqlite::ErrorCode::NotADatabase) => format!(
            "{what} is not a SQLite database, or its first page is damaged ({e}). Is it a qbitpay-sandbox \
             data file? {DAMAGED_HELP}"
        ),
        _ => format!("{what}: {e} (is it a qbitpay-sandbox data file?)"),
    }
}

/// The tables `SCHEMA` makes.
fn schema_tables() -> impl Iterator<Item = &'static str> {
    SCHEMA.split("CREATE TABLE IF NOT EXISTS ").skip(1).filter_map(|s| s.split([' ', '(']).next())
}

/// A `--data` file the sandbox may write to: a new one (nothing in it), or one a sandbox made
/// (all of its tables, and its schema version in `meta`). Anything else is another program's
/// database, given by mistake: refused, read only.
fn check_ours(conn: &Connection, what: &str) -> Result<(), String> {
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(|e| damaged_or(what, e));
    if count("SELECT count(*) FROM sqlite_schema")? == 0 {
        return Ok(());
    }
    let names: Vec<String> = schema_tables().map(|t| format!("'{t}'")).collect();
    let tables = count(&format!(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ({})",
        names.join(", ")
    ))?;
    if tables == names.len() as i64 && count("SELECT count(*) FROM meta WHERE key = 'schema_version'")? == 1 {
        return Ok(());
    }
    Err(format!(
        "{what} is a SQLite database, but not a qbitpay-sandbox data file (what it holds is not the \
         sandbox's): the sandbox writes nothing into it. Give --data a new file, or one a sandbox made."
    ))
}

/// SQLite's full check of a `--data` file (every page, every index against its table) before
/// anything is read from it: a damaged file is refused at start rather than answering 500s
/// once a request reaches the damage.
fn check_integrity(conn: &Connection, path: &str) -> Result<(), String> {
    let what = format!("--data {path}");
    let problems = (|| -> rusqlite::Result<Vec<String>> {
        let mut st = conn.prepare("PRAGMA integrity_check(5)")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect()
    })()
    .map_err(|e| damaged_or(&what, e))?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(format!("{what} is damaged (SQLite's integrity check: {}). {DAMAGED_HELP}", problems.join("; ")))
}

pub fn meta_get(c: &Connection, key: &str) -> ApiResult<Option<String>> {
    c.prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .db()?
        .query_row(params![key], |r| r.get(0))
        .optional()
        .db()
}

pub fn meta_set(c: &Connection, key: &str, value: &str) -> ApiResult<()> {
    c.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .db()?
        .execute(params![key, value])
        .db()?;
    Ok(())
}
