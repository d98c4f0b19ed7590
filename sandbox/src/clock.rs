//! Sandbox time: the wall clock plus an offset that `POST /_sandbox/clock/advance` grows
//! (stored, so it survives a restart). Every timestamp, expiry and schedule uses it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub struct Clock {
    offset_ms: AtomicI64,
    last_ms: AtomicI64,
    /// While an advance runs a job: the job's due time (time stands still); else i64::MIN.
    pinned_ms: AtomicI64,
}

impl Clock {
    pub fn new(offset_ms: i64) -> Clock {
        Clock {
            offset_ms: AtomicI64::new(offset_ms),
            last_ms: AtomicI64::new(0),
            pinned_ms: AtomicI64::new(i64::MIN),
        }
    }

    /// Sandbox milliseconds since the epoch.
    pub fn now(&self) -> i64 {
        let pinned = self.pinned_ms.load(Ordering::SeqCst);
        if pinned != i64::MIN {
            return pinned;
        }
        wall_ms() + self.offset_ms.load(Ordering::SeqCst)
    }

    /// Stops sandbox time at `t` (not before now) until `advance_to`.
    pub fn pin(&self, t: i64) {
        let t = t.max(self.now());
        self.pinned_ms.store(t, Ordering::SeqCst);
    }

    /// Sandbox milliseconds, each tick later than the previous one: objects keep their order,
    /// and the events of one change (a trigger's `charge.succeeded` then `charge.dispute.created`)
    /// have distinct `createdAt`s, so a receiver can tell the older one.
    pub fn tick(&self) -> i64 {
        let now = self.now();
        let next = |prev: i64| (prev + 1).max(now);
        match self.last_ms.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |p| Some(next(p))) {
            Ok(prev) | Err(prev) => next(prev),
        }
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }

    /// Moves sandbox time forward to at least `t` (never back) and lets it run again;
    /// returns the new offset.
    pub fn advance_to(&self, t: i64) -> i64 {
        let t = t.max(self.now());
        let want = t - wall_ms();
        let prev = self.offset_ms.fetch_max(want, Ordering::SeqCst);
        self.pinned_ms.store(i64::MIN, Ordering::SeqCst);
        prev.max(want)
    }
}
