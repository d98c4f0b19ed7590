//! The `qbitpay/webhook` module: verify and sign, nothing else, so an edge function loads
//! only this. Numbers cross, never strings or objects: JavaScript asks for room with
//! `alloc`, writes the body, signature and key into wasm memory itself (`encodeInto`), and
//! gets back a status code, with details (and a signature) in a fixed result area. That
//! keeps wasm-bindgen's glue to a few lines, and the messages people read live in the JS
//! facade (pkg-template/src/webhook.mjs), out of the module every edge function loads.
//!
//! Every allocation lives for one call: `verify` and `sign` rewind the arena as they
//! return (src/wasm/bare.rs), so the inputs JS wrote are freed with them.

use crate::webhook::canonical::{canonicalise, Canonical, PayloadError, PayloadErrorKind};
use crate::webhook::number::host;
use crate::webhook::digest::{constant_time_eq, decode_hex_bytes, hex_upper};
use crate::webhook::timestamp::parse_millis_bytes;
use crate::webhook::Algorithm;
use core::cell::UnsafeCell;
use wasm_bindgen::prelude::*;

/// The result area JS reads after a call (`result()` gives its address):
/// `[0]` payload error kind, `[1]` its byte offset, `[2]` the unexpected byte,
/// `[3]` the event's `createdAt` in ms (NaN when absent or invalid), `[4]` 1 if the body
/// holds a raw U+FFFD (else 0; set whenever the body was read), `[5]`, `[6]` the numbers
/// JS is asked to print (`NEED_NUMBERS`); as bytes from byte 32 (over `[4..12]`): the
/// signature `sign` wrote (up to 64 ASCII bytes).
struct ResultArea(UnsafeCell<[f64; 12]>);

// wasm32 without threads: one thread touches it.
unsafe impl Sync for ResultArea {}

static RESULT: ResultArea = ResultArea(UnsafeCell::new([0.0; 12]));

const OK: u32 = 0;
const MISMATCH: u32 = 1;
const INVALID_PAYLOAD: u32 = 2;
const MALFORMED_SIGNATURE: u32 = 3;
/// Some numbers need JavaScript to print them: (offset in the body, length) pairs listed at
/// the address in `[6]` (count at `[5]`, at most `host::BATCH`); the facade prints them and makes
/// the call again (inputs written anew) after `answers`.
const NEED_NUMBERS: u32 = 4;

/// The end of a call: everything it allocated goes, the inputs JS wrote included.
fn finish(status: u32, body: *const u8) -> u32 {
    if status == NEED_NUMBERS {
        let (list, count) = host::pending(body);
        area()[5] = count as f64;
        area()[6] = list as usize as f64;
    }
    host::reset();
    #[cfg(target_arch = "wasm32")]
    crate::wasm::bare::rewind();
    status
}

/// The body read once, or why not (numbers still to print count as not yet).
fn read(body: &[u8]) -> Result<Canonical, u32> {
    let canonical = canonicalise(body).map_err(payload_error)?;
    if host::incomplete() {
        Err(NEED_NUMBERS)
    } else {
        Ok(canonical)
    }
}

/// JavaScript's `String(Number(literal))` for every number listed so far (this call's and
/// the earlier ones'), as `len, bytes…` in a buffer from `alloc`, for the next call to use.
#[wasm_bindgen]
pub fn answers(at: *const u8, len: usize) {
    host::set_answers(at, len);
}

fn area() -> &'static mut [f64; 12] {
    // SAFETY: single-threaded; no reference outlives the call that takes it.
    unsafe { &mut *RESULT.0.get() }
}

fn algorithm(code: u8) -> Algorithm {
    if code == 1 {
        Algorithm::HmacSha256
    } else {
        Algorithm::Md5
    }
}

/// # Safety
/// `ptr..ptr+len` was handed out by `alloc` in this call (or `len` is 0).
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        core::slice::from_raw_parts(ptr, len)
    }
}

fn payload_error(e: PayloadError) -> u32 {
    use PayloadErrorKind::*;
    let r = area();
    let (kind, byte) = match e.kind {
        UnexpectedEnd => (0, 0),
        UnexpectedByte(b) => (1, b),
        InvalidUtf8 => (2, 0),
        InvalidEscape => (3, 0),
        ControlCharacter => (4, 0),
        InvalidNumber => (5, 0),
        NotAnObject => (6, 0),
        TooDeep => (7, 0),
    };
    r[0] = kind as f64;
    r[1] = e.offset as f64;
    r[2] = byte as f64;
    INVALID_PAYLOAD
}

/// The address of the result area.
#[wasm_bindgen]
pub fn result() -> *const f64 {
    RESULT.0.get() as *const f64
}

/// Room for `len` bytes of input, alive until the next `verify` or `sign` returns.
#[wasm_bindgen]
pub fn alloc(len: usize) -> *mut u8 {
    // SAFETY: a non-zero size with alignment 1 is a valid layout.
    unsafe { alloc::alloc::alloc(core::alloc::Layout::from_size_align_unchecked(len.max(1), 1)) }
}

/// Grow the newest input buffer to `new` bytes (it may move; the bytes are kept).
#[wasm_bindgen]
pub fn realloc(ptr: *mut u8, old: usize, new: usize) -> *mut u8 {
    // SAFETY: `ptr` came from `alloc` with `old` bytes (at least 1).
    unsafe { alloc::alloc::realloc(ptr, core::alloc::Layout::from_size_align_unchecked(old.max(1), 1), new.max(1)) }
}

/// Drop this call's inputs when the facade gives up between `alloc` and `verify`/`sign`
/// (a check that throws in JavaScript): nothing of an abandoned call stays allocated.
#[wasm_bindgen]
pub fn release() {
    finish(OK, core::ptr::null());
}

/// Check a body against a signature (hex of either case, already trimmed and of the
/// algorithm's length: the facade checks its syntax) and key. With `created`, also parse
/// the event's `createdAt` into the result area. Returns `OK`, `MISMATCH`,
/// `INVALID_PAYLOAD` (details in the result area) or `MALFORMED_SIGNATURE`.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn verify(body: *const u8, body_len: usize, sig: *const u8, sig_len: usize, key: *const u8, key_len: usize, alg: u8, created: bool) -> u32 {
    // SAFETY: JS wrote these ranges into buffers from `alloc` just before this call.
    let (body, sig, key) = unsafe { (bytes(body, body_len), bytes(sig, sig_len), bytes(key, key_len)) };
    finish(check(body, sig, key, algorithm(alg), created), body.as_ptr())
}

fn check(body: &[u8], sig: &[u8], key: &[u8], alg: Algorithm, created: bool) -> u32 {
    let Some(given) = decode_hex_bytes(sig) else {
        return MALFORMED_SIGNATURE;
    };
    let canonical = match read(body) {
        Ok(c) => c,
        Err(status) => return status,
    };
    area()[4] = f64::from(u8::from(canonical.has_replacement_char()));
    let expected = alg.digest_with(key, &mut |sink| canonical.write(sink));
    if !constant_time_eq(&expected, &given) {
        return MISMATCH;
    }
    if created {
        area()[3] = canonical.created_at_bytes().and_then(parse_millis_bytes).unwrap_or(f64::NAN);
    }
    OK
}

/// The signature header value of a body: `OK` with its hex (upper case, 32 or 64 bytes)
/// at byte 32 of the result area, or `INVALID_PAYLOAD`.
#[wasm_bindgen]
pub fn sign(body: *const u8, body_len: usize, key: *const u8, key_len: usize, alg: u8) -> u32 {
    // SAFETY: as in `verify`.
    let (body, key) = unsafe { (bytes(body, body_len), bytes(key, key_len)) };
    let status = match read(body) {
        Err(status) => status,
        Ok(canonical) => {
            let hex = hex_upper(&algorithm(alg).digest_with(key, &mut |sink| canonical.write(sink)));
            // SAFETY: the area is 96 bytes; a signature is at most 64 bytes from byte 32.
            unsafe { core::ptr::copy_nonoverlapping(hex.as_ptr(), (RESULT.0.get() as *mut u8).add(32), hex.len()) };
            OK
        }
    };
    finish(status, body.as_ptr())
}
