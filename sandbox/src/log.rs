//! Logging that never blocks request handling: lines go into a bounded channel that one
//! writer thread drains to stderr. When stderr is not drained (a parent that never reads
//! the pipe) the channel fills and further lines are dropped and counted, not waited for.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Lines held while stderr is slow or blocked (then dropped).
const CAPACITY: usize = 1024;

enum Msg {
    Line(String),
    Flush(SyncSender<()>),
}

struct Logger {
    tx: SyncSender<Msg>,
    dropped: AtomicU64,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();
static RX: Mutex<Option<Receiver<Msg>>> = Mutex::new(None);

fn logger() -> &'static Logger {
    LOGGER.get_or_init(|| {
        let (tx, rx) = sync_channel(CAPACITY);
        *RX.lock().unwrap_or_else(|p| p.into_inner()) = Some(rx);
        std::thread::Builder::new().name("log".into()).spawn(writer).expect("log thread");
        Logger { tx, dropped: AtomicU64::new(0) }
    })
}

fn writer() {
    let Some(rx) = RX.lock().unwrap_or_else(|p| p.into_inner()).take() else { return };
    let mut err = std::io::stderr();
    let mut buf = String::new();
    // One write per batch of queued lines (not one per line).
    while let Ok(first) = rx.recv() {
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Line(l) => {
                    let dropped = LOGGER.get().map(|l| l.dropped.swap(0, Ordering::Relaxed)).unwrap_or(0);
                    if dropped > 0 {
                        buf.push_str(&format!("qbitpay-sandbox: {dropped} log line(s) dropped: stderr is not being read fast enough\n"));
                    }
                    buf.push_str(&l);
                    buf.push('\n');
                }
                Msg::Flush(done) => flushes.push(done),
            }
            next = if buf.len() < 64 * 1024 { rx.try_recv().ok() } else { None };
        }
        let _ = err.write_all(buf.as_bytes());
        let _ = err.flush();
        buf.clear();
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Queue one line for stderr; drops it (and counts the drop) when the queue is full.
pub fn line(s: String) {
    let l = logger();
    match l.tx.try_send(Msg::Line(s)) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
            l.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Wait (at most `timeout`) until every queued line is written: at exit, so that a parent
/// that reads stderr sees the last lines. Gives up when stderr is blocked.
pub fn flush(timeout: Duration) {
    let Some(l) = LOGGER.get() else { return };
    let (done_tx, done_rx) = sync_channel(1);
    let deadline = std::time::Instant::now() + timeout;
    let mut msg = Msg::Flush(done_tx);
    loop {
        match l.tx.try_send(msg) {
            Ok(()) => break,
            Err(TrySendError::Full(m)) => {
                if std::time::Instant::now() >= deadline {
                    return;
                }
                msg = m;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
    let _ = done_rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()));
}

/// `log!("GET {} 200", path)`: one line on stderr, without ever blocking the caller.
#[macro_export]
macro_rules! log {
    ($($t:tt)*) => { $crate::log::line(format!($($t)*)) };
}
