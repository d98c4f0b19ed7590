//! `createWebhookHandler`'s decisions (`crate::webhook::handler`) for JavaScript: one export,
//! numbers (and one string) in, numbers out. The facade (pkg-template/src/handler.mjs) awaits
//! the store and the user's handler between steps and brings their results back here; it
//! names outcomes and codes by their index (held to the core's order by a host test).

use crate::webhook::handler::{next, Action, Claim, Outcome, Step, CODES};
use crate::webhook::SignatureErrorCode;
use wasm_bindgen::prelude::*;

/// One step of handling a delivery. `step`: its kind in the low 4 bits, flags above (bit n is
/// `16 << n`); the kinds and their inputs:
///
/// - 0, verified (flag 0): `text` the event's `createdAt`, `id` its id, `x` now, `y` the window
///   (ms), flag 1 its id is a string, flag 2 a handler for its type, flag 3 its `data` is an
///   object; or refused: `x` the verifier's code;
/// - 1, claim answered: `x` the store's answer (0 claimed, 1 done, 2 busy, else none of
///   them), flag 0 the store threw, flag 1 the event's object has an id;
/// - 2, newest read: `x` the event's `createdAt`, `y` the newest (ms; NaN: none), flag 0 the
///   store threw, flag 1 acknowledge stale events;
/// - 3, handler ran: flag 0 it threw.
///
/// Returns `[action, ...]`: 0 answer, 5 mark done then answer, 6 release then answer, each
/// with `outcome, status, code` (places in the core's `OUTCOMES` and `CODES`; code -1
/// unless rejected); 1 claim, with `createdMs, rememberMs`; 2 read the newest; 3 run; 4 run stale.
#[wasm_bindgen(js_name = handlerStep)]
pub fn handler_step(step: u32, text: &str, id: &str, x: f64, y: f64) -> Vec<f64> {
    let flag = |n: u32| step & (16 << n) != 0;
    let action = next(match step & 15 {
        0 => Step::Verified {
            verdict: if flag(0) {
                Ok(text)
            } else {
                Err(CODES.get(x as usize).copied().unwrap_or(SignatureErrorCode::InvalidPayload))
            },
            id: flag(1).then_some(id),
            data_is_object: flag(3),
            handled: flag(2),
            now_ms: x,
            max_age_ms: y,
        },
        1 => Step::Claimed {
            answer: match x {
                _ if flag(0) => None,
                0.0 => Some(Claim::Claimed),
                1.0 => Some(Claim::Done),
                2.0 => Some(Claim::Busy),
                // A store's answer that is none of these: as if it had failed.
                _ => None,
            },
            has_object: flag(1),
        },
        2 => Step::NewestRead {
            created_ms: x,
            newest: if flag(0) { Err(()) } else { Ok(Some(y).filter(|n| !n.is_nan())) },
            acknowledge_stale: flag(1),
        },
        _ => Step::Ran { ok: !flag(0) },
    });
    let (n, o) = match action {
        Action::Answer(o) => (0.0, o),
        Action::Claim { created_ms, remember_ms } => return vec![1.0, created_ms, remember_ms],
        Action::ReadNewest => return vec![2.0],
        Action::Run { stale } => return vec![if stale { 4.0 } else { 3.0 }],
        Action::MarkDone(o) => (5.0, o),
        Action::Release(o) => (6.0, o),
    };
    let code = match o {
        Outcome::Rejected(c) => c as u8 as f64,
        _ => -1.0,
    };
    vec![n, o.index() as f64, o.status().into(), code]
}
