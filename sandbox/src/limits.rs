//! Every numeric bound the sandbox enforces on what it receives, in one place.

/// Request bodies (a charge or payout is well under 4 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The request target; longer gets a JSON 414 (hyper answers an empty 414 past 64 KiB itself).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// All request header lines together; more gets a JSON 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Header lines per request; hyper answers an empty 431 past it before any handler runs.
pub const MAX_HEADERS: usize = 100;

/// `POST /_sandbox/clock/advance` `seconds`: ten years at most per call.
pub const ADVANCE_MAX_SECONDS: f64 = 10.0 * 366.0 * 86400.0;
/// Sandbox time never passes 9999-12-31T23:59:59.999Z (timestamps keep four-digit years).
pub const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// Durations in flags (seconds), and the retry count.
pub const MAX_FLAG_SECONDS: f64 = 1.0e9;
pub const MAX_WEBHOOK_RETRIES: u32 = 100;
/// `--webhook-duplicates`: copies of each delivery.
pub const MAX_WEBHOOK_DUPLICATES: u32 = 10;
pub const MAX_RATE_LIMIT: f64 = 1.0e6;
/// `--max-connections`.
pub const MAX_CONNECTIONS: usize = 100_000;
