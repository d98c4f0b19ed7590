//! Handling a delivery (`createWebhookHandler`): the outcome and the HTTP answer, decided from
//! what the verifier, the clock, the store and the user's handler said. Sans-IO: the caller
//! does what each [`Action`] asks (claim the event in its store, read the object's newest
//! event, run the handler, mark the event done or release it) and brings the result back as
//! the next [`Step`]. Nothing here waits, stores or reads a clock.
//!
//! The signature has no timestamp and no nonce: a delivery that verified once verifies for
//! ever, and the sender retries a refused one. So an event's effect runs once only if its id
//! is remembered: an event is accepted only while it is younger than the window (`max_age`),
//! and its id, once processed, is remembered until the event is older than that. A replay is
//! then always either remembered (`duplicate`) or too old (`too_old`).
//!
//! The signature covers `key=value` pieces joined with `&`, strings written as they are, so one
//! signature fits several bodies: the pieces after `id` folded into its value (`"id":
//! "evt_1&livemode=false"`), or `data` written as a string of its JSON. An event is taken only
//! in the shape the sender makes (an `id` without `&`, `data` an object): then its `id`,
//! `createdAt`, `data` and `type` are the very pieces that were signed, and a replay cannot
//! come back under a new id.

use super::error::SignatureErrorCode;
use super::timestamp::parse_millis;

/// How long past the window a processed id is kept, for clocks of the processes sharing a
/// store that differ by up to this much (one judges the age, another set the expiry).
pub const CLOCK_TOLERANCE_MS: f64 = 5.0 * 60.0 * 1000.0;

/// How a delivery ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The handler ran and returned; the event is remembered as done.
    Processed,
    /// Done already (a retry or a replay): acknowledged, not run again.
    Duplicate,
    /// No handler for its type: acknowledged, nothing run or stored.
    Ignored,
    /// An event processed already for the same object is newer, and the handler was told to
    /// acknowledge such events without running them; remembered as done.
    Stale,
    /// Not a signed event (signature, size, body; the verifier's code): refused, nothing run.
    Rejected(SignatureErrorCode),
    /// `createdAt` further from now than the window: refused, nothing run.
    TooOld,
    /// Another delivery of the event holds its claim (still running): the sender retries later.
    Busy,
    /// The handler threw: its claim is released so that the sender's retry runs it again.
    Failed,
    /// The store failed: nothing was run (or the claim was released); the sender retries.
    Unavailable,
}

impl Outcome {
    /// The HTTP status of the answer: 2xx stops the sender's retries, anything else has it
    /// retry (up to 5 more times, 15 minutes apart).
    pub fn status(self) -> u16 {
        match self {
            Outcome::Processed | Outcome::Duplicate | Outcome::Ignored | Outcome::Stale => 200,
            Outcome::Rejected(_) | Outcome::TooOld => 400,
            Outcome::Busy => 409,
            Outcome::Failed => 500,
            Outcome::Unavailable => 503,
        }
    }

    /// Its place in [`OUTCOMES`].
    pub fn index(self) -> usize {
        let same = |o: &Outcome| core::mem::discriminant(o) == core::mem::discriminant(&self);
        OUTCOMES.iter().position(same).unwrap_or(0)
    }

    /// Its name in the JavaScript API and in the answer's body.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Processed => "processed",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
            Outcome::Stale => "stale",
            Outcome::Rejected(_) => "rejected",
            Outcome::TooOld => "too_old",
            Outcome::Busy => "busy",
            Outcome::Failed => "failed",
            Outcome::Unavailable => "unavailable",
        }
    }
}

/// Every outcome, in the order the JavaScript facade names them by index.
pub const OUTCOMES: [Outcome; 9] = [
    Outcome::Processed,
    Outcome::Duplicate,
    Outcome::Ignored,
    Outcome::Stale,
    Outcome::Rejected(SignatureErrorCode::InvalidPayload),
    Outcome::TooOld,
    Outcome::Busy,
    Outcome::Failed,
    Outcome::Unavailable,
];

/// The verifier's codes, in the order the facade names them by index (their declaration order:
/// a code's index is `code as usize`).
pub const CODES: [SignatureErrorCode; 7] = [
    SignatureErrorCode::MissingSignature,
    SignatureErrorCode::MalformedSignature,
    SignatureErrorCode::SignatureMismatch,
    SignatureErrorCode::InvalidPayload,
    SignatureErrorCode::PayloadTooLarge,
    SignatureErrorCode::EventTooOld,
    SignatureErrorCode::InvalidArgument,
];

/// The store's answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Nobody held the event (or the holder's lease ran out): it is this delivery's now.
    Claimed,
    /// Processed already.
    Done,
    /// Held by another delivery whose lease runs.
    Busy,
}

/// What just happened to the delivery.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step<'a> {
    /// The verifier's verdict, with the window as its `maxAgeSeconds` (so an event outside
    /// the window is its `event_too_old`).
    Verified {
        /// The event's `createdAt` when it verified, or the verifier's refusal.
        verdict: Result<&'a str, SignatureErrorCode>,
        /// The event's `id` when it is a string (else `None`).
        id: Option<&'a str>,
        /// Its `data` is an object (not a string, an array or null).
        data_is_object: bool,
        /// A handler exists for its `type`.
        handled: bool,
        now_ms: f64,
        max_age_ms: f64,
    },
    /// The store answered the claim (`None`: it threw).
    Claimed {
        answer: Option<Claim>,
        /// The event's object has an id (`data.id`), whose newest event can be read.
        has_object: bool,
    },
    /// The store answered the read of the newest `createdAt` processed for the object
    /// (`Err`: it threw).
    NewestRead { created_ms: f64, newest: Result<Option<f64>, ()>, acknowledge_stale: bool },
    /// The user's handler returned (`true`) or threw.
    Ran { ok: bool },
}

/// What the caller does next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Answer with the outcome: nothing (more) to run or store.
    Answer(Outcome),
    /// Claim the event's id in the store for the lease; remember it, once done, for
    /// `remember_ms` (until it is older than the window, and the clock tolerance).
    Claim { created_ms: f64, remember_ms: f64 },
    /// Read the newest `createdAt` processed for the event's object.
    ReadNewest,
    /// Run the handler; `stale`: an event created later for the same object was processed.
    Run { stale: bool },
    /// Mark the event done in the store (with its object's `createdAt`; tried again a few
    /// times when it fails, as a claim left behind lets a replay run the event again once its
    /// lease ends), then answer with the outcome, whatever the store says: the handler's
    /// effect happened.
    MarkDone(Outcome),
    /// Release the claim, then answer with the outcome, whatever the store says (a claim
    /// left behind ends with its lease).
    Release(Outcome),
}

/// The next action after `step`.
pub fn next(step: Step) -> Action {
    match step {
        Step::Verified { verdict: Err(SignatureErrorCode::EventTooOld), .. } => {
            Action::Answer(Outcome::TooOld)
        }
        Step::Verified { verdict: Err(code), .. } => Action::Answer(Outcome::Rejected(code)),
        Step::Verified { id, data_is_object, .. } if !data_is_object || !id.is_some_and(is_event_id) => {
            Action::Answer(Outcome::Rejected(SignatureErrorCode::InvalidPayload))
        }
        Step::Verified { verdict: Ok(created_at), handled, now_ms, max_age_ms, .. } => {
            // The verifier checked createdAt against the window already.
            match parse_millis(created_at) {
                None => Action::Answer(Outcome::Rejected(SignatureErrorCode::InvalidPayload)),
                Some(_) if !handled => Action::Answer(Outcome::Ignored),
                Some(created_ms) => {
                    Action::Claim { created_ms, remember_ms: remember_ms(created_ms, now_ms, max_age_ms) }
                }
            }
        }
        Step::Claimed { answer: None, .. } => Action::Answer(Outcome::Unavailable),
        Step::Claimed { answer: Some(Claim::Done), .. } => Action::Answer(Outcome::Duplicate),
        Step::Claimed { answer: Some(Claim::Busy), .. } => Action::Answer(Outcome::Busy),
        Step::Claimed { answer: Some(Claim::Claimed), has_object: true } => Action::ReadNewest,
        Step::Claimed { answer: Some(Claim::Claimed), has_object: false } => Action::Run { stale: false },
        // A store that answers the claim but not the read is failing: let the sender retry.
        Step::NewestRead { newest: Err(()), .. } => Action::Release(Outcome::Unavailable),
        Step::NewestRead { created_ms, newest: Ok(newest), acknowledge_stale } => {
            // Strictly older: two events of one instant are in no order.
            let stale = newest.is_some_and(|n| created_ms < n);
            if stale && acknowledge_stale {
                Action::MarkDone(Outcome::Stale)
            } else {
                Action::Run { stale }
            }
        }
        Step::Ran { ok: true } => Action::MarkDone(Outcome::Processed),
        Step::Ran { ok: false } => Action::Release(Outcome::Failed),
    }
}

/// An `id` the sender could have made: not empty. (One with `&` never verifies: the verifier
/// refuses events whose signing string reads more than one way.)
pub fn is_event_id(id: &str) -> bool {
    !id.is_empty()
}

/// How long, from now, a processed event's id must be remembered: until the event is older
/// than the window (when a replay of it is refused as too old), plus the clock tolerance.
/// At least one second (an event at the window's edge).
pub fn remember_ms(created_ms: f64, now_ms: f64, max_age_ms: f64) -> f64 {
    (created_ms + max_age_ms - now_ms + CLOCK_TOLERANCE_MS).max(1000.0).ceil()
}

#[cfg(test)]
mod tests {
    use super::*;
    use SignatureErrorCode as Code;

    const CREATED: &str = "2019-02-25T16:13:12.278Z";
    const CREATED_MS: f64 = 1_551_111_192_278.0;
    const DAY: f64 = 86_400_000.0;

    fn verified(verdict: Result<&str, Code>, has_id: bool, handled: bool) -> Action {
        shaped(verdict, has_id.then_some("evt_1"), true, handled)
    }

    fn shaped(verdict: Result<&str, Code>, id: Option<&str>, data_is_object: bool, handled: bool) -> Action {
        let (now_ms, max_age_ms) = (CREATED_MS + 1000.0, 3.0 * DAY);
        next(Step::Verified { verdict, id, data_is_object, handled, now_ms, max_age_ms })
    }

    #[test]
    fn a_refused_delivery_is_answered_without_the_store() {
        for code in [
            Code::MissingSignature,
            Code::MalformedSignature,
            Code::SignatureMismatch,
            Code::InvalidPayload,
            Code::PayloadTooLarge,
            Code::InvalidArgument,
        ] {
            assert_eq!(verified(Err(code), true, true), Action::Answer(Outcome::Rejected(code)), "{code:?}");
        }
        assert_eq!(verified(Err(Code::EventTooOld), true, true), Action::Answer(Outcome::TooOld));
        // Verified, but no id to remember it by, or no createdAt the window can be judged on.
        let not_an_event = Action::Answer(Outcome::Rejected(Code::InvalidPayload));
        assert_eq!(verified(Ok(CREATED), false, true), not_an_event);
        assert_eq!(verified(Ok("yesterday"), true, true), not_an_event);
    }

    #[test]
    fn only_the_shape_the_sender_makes_is_taken() {
        let not_an_event = Action::Answer(Outcome::Rejected(Code::InvalidPayload));
        // No id to remember it by, or no data object (a verified event without `data`).
        for (id, data_is_object) in [(None, true), (Some(""), true), (Some("evt_1"), false)] {
            assert_eq!(
                shaped(Ok(CREATED), id, data_is_object, true),
                not_an_event,
                "{id:?} {data_is_object}"
            );
            assert_eq!(shaped(Ok(CREATED), id, data_is_object, false), not_an_event, "not even ignored");
        }
        assert!(matches!(shaped(Ok(CREATED), Some("evt_1=x"), true, true), Action::Claim { .. }));
    }

    #[test]
    fn an_event_without_a_handler_is_acknowledged_unclaimed() {
        assert_eq!(verified(Ok(CREATED), true, false), Action::Answer(Outcome::Ignored));
    }

    #[test]
    fn a_handled_event_is_claimed_and_remembered_until_it_is_too_old() {
        let Action::Claim { created_ms, remember_ms } = verified(Ok(CREATED), true, true) else { panic!() };
        assert_eq!(created_ms, CREATED_MS);
        // Created 1 s ago, a 3-day window: 3 days less 1 s, and the tolerance.
        assert_eq!(remember_ms, 3.0 * DAY - 1000.0 + CLOCK_TOLERANCE_MS);
        // At the window's edge (the verifier accepts an age equal to it): the tolerance, at least a second.
        assert_eq!(super::remember_ms(0.0, DAY, DAY), CLOCK_TOLERANCE_MS);
        assert_eq!(super::remember_ms(0.0, DAY + CLOCK_TOLERANCE_MS, DAY), 1000.0);
        // From the future (clocks apart; accepted within the window): longer than the window.
        assert_eq!(super::remember_ms(DAY, 0.0, DAY), 2.0 * DAY + CLOCK_TOLERANCE_MS);
        assert_eq!(super::remember_ms(0.0, 0.5, 1.0), CLOCK_TOLERANCE_MS + 1.0);
    }

    #[test]
    fn the_claim_answer_decides_whether_it_runs() {
        let claimed = |answer, has_object| next(Step::Claimed { answer, has_object });
        assert_eq!(claimed(Some(Claim::Done), true), Action::Answer(Outcome::Duplicate));
        assert_eq!(claimed(Some(Claim::Busy), true), Action::Answer(Outcome::Busy));
        assert_eq!(claimed(None, true), Action::Answer(Outcome::Unavailable));
        assert_eq!(claimed(Some(Claim::Claimed), true), Action::ReadNewest);
        assert_eq!(claimed(Some(Claim::Claimed), false), Action::Run { stale: false });
    }

    #[test]
    fn an_event_older_than_one_processed_for_its_object_is_stale() {
        let read = |newest, acknowledge_stale| {
            next(Step::NewestRead { created_ms: 100.0, newest, acknowledge_stale })
        };
        assert_eq!(read(Ok(None), false), Action::Run { stale: false });
        assert_eq!(read(Ok(Some(99.0)), false), Action::Run { stale: false });
        assert_eq!(read(Ok(Some(100.0)), false), Action::Run { stale: false }, "the same instant: not stale");
        assert_eq!(read(Ok(Some(101.0)), false), Action::Run { stale: true });
        assert_eq!(read(Ok(Some(101.0)), true), Action::MarkDone(Outcome::Stale));
        assert_eq!(read(Ok(Some(99.0)), true), Action::Run { stale: false });
        assert_eq!(read(Err(()), false), Action::Release(Outcome::Unavailable));
    }

    #[test]
    fn the_handler_result_decides_done_or_released() {
        assert_eq!(next(Step::Ran { ok: true }), Action::MarkDone(Outcome::Processed));
        assert_eq!(next(Step::Ran { ok: false }), Action::Release(Outcome::Failed));
    }

    #[test]
    fn only_what_the_sender_must_not_retry_is_2xx() {
        let table: Vec<(&str, u16)> = OUTCOMES.iter().map(|o| (o.name(), o.status())).collect();
        assert_eq!(
            table,
            [
                ("processed", 200),
                ("duplicate", 200),
                ("ignored", 200),
                ("stale", 200),
                ("rejected", 400),
                ("too_old", 400),
                ("busy", 409),
                ("failed", 500),
                ("unavailable", 503),
            ]
        );
        for (i, o) in OUTCOMES.iter().enumerate() {
            assert_eq!(o.index(), i);
        }
        assert_eq!(Outcome::Rejected(Code::SignatureMismatch).index(), 4, "whatever its code");
    }

    /// The names the JavaScript facade gives the indexes the binding returns, and the event
    /// types it accepts handlers for, are the core's.
    #[test]
    fn the_facade_names_what_the_core_decides() {
        // handler.mjs checks the options; delivery.mjs (loaded on the first delivery) answers.
        let facade = concat!(
            include_str!("../../pkg-template/src/handler.mjs"),
            include_str!("../../pkg-template/src/delivery.mjs")
        );
        let list = |name: &str| -> Vec<String> {
            let start = facade
                .find(&format!("const {name} = ["))
                .unwrap_or_else(|| panic!("{name} in handler.mjs or delivery.mjs"));
            let body = &facade[start..];
            let body = &body[body.find('[').unwrap() + 1..body.find(']').unwrap()];
            body.split(',')
                .map(|s| s.trim().trim_matches('\'').to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        assert_eq!(list("OUTCOMES"), OUTCOMES.map(|o| o.name().to_owned()));
        assert_eq!(list("CODES"), CODES.map(|c| c.as_str().to_owned()));
        for (i, c) in CODES.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c:?}");
        }
        let types: Vec<&str> =
            crate::spec::CHARGE_EVENT_TYPES.iter().chain(crate::spec::PAYOUT_EVENT_TYPES).copied().collect();
        assert_eq!(list("EVENT_TYPES"), types);
    }
}
