//! Awaiting a JavaScript promise: [`Settled`], a future woken when the promise settles,
//! and [`Stop`], what ends an attempt.
//!
//! One settling function serves the whole module: each await binds it to the number of a
//! slot (`settle.bind(null, key)`, once for the fulfilment and once for the rejection) and
//! the slot holds the waker, then the outcome. The slot is given back once both the promise
//! has settled and the future has taken its outcome or been dropped. A promise that never
//! settles would keep its slot (and the waiting task): the request loop awaits none that
//! can (what `fetch` and its body give, the global `fetch` or the option, either of which
//! may ignore its signal, is ended by the attempt's [`Stop`], which its timeout always
//! calls; a wait between attempts by its timer).
//!
//! The first outcome a slot receives is kept and any later one dropped (a promise ended by
//! a stop may still settle), and a key whose slot has been given back (counted by its
//! generation) is ignored.

use super::js;
use js_sys::Promise;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortController;

// One closure, bound per await, not wasm-bindgen-futures' `JsFuture` (two closures made and registered for finalisation per await): fewer instructions and crossings (PERFORMANCE.md).
thread_local! {
    static SLOTS: RefCell<Slots> = const { RefCell::new(Slots { settle: None, slots: Vec::new(), free: NONE }) };
}

/// A key: `generation << 24 | slot << 1 | fulfilled` (slots below 2^23 in use at once),
/// exact in an f64 for the 29 bits of generation kept.
const SLOT_BITS: u32 = 23;
const GEN_MASK: u32 = (1 << 29) - 1;
/// The end of the list of free slots.
const NONE: u32 = u32::MAX;

enum State {
    /// Given back; the next free slot.
    Free(u32),
    /// Not settled yet; the waker of the last poll.
    Waiting(Option<Waker>),
    Ready(Result<JsValue, JsValue>),
    /// Not settled yet, and the future is gone.
    Dropped,
    /// An attempt's stop: its controller, the await it ends (slot and generation) and,
    /// once called, the reason it was called with.
    Stop(AbortController, Option<(u32, u32)>, Option<JsValue>),
}

struct Slots {
    /// The settling function, made on first use.
    settle: Option<js::Bindable>,
    /// Each slot's generation and state.
    slots: Vec<(u32, State)>,
    free: u32,
}

impl Slots {
    /// A slot for a new await: its number and generation.
    fn take(&mut self) -> (u32, u32) {
        let i = self.free;
        match self.slots.get_mut(i as usize) {
            Some((_, state)) => {
                if let State::Free(next) = std::mem::replace(state, State::Waiting(None)) {
                    self.free = next;
                }
            }
            None => self.slots.push((0, State::Waiting(None))),
        }
        let i = if i == NONE { self.slots.len() as u32 - 1 } else { i };
        (i, self.slots[i as usize].0)
    }

    fn give_back(&mut self, i: u32) {
        let slot = &mut self.slots[i as usize];
        slot.0 = (slot.0 + 1) & GEN_MASK;
        slot.1 = State::Free(self.free);
        self.free = i;
    }

    /// The first outcome for a slot of generation `gen`: its waker, if a poll left one; for
    /// a stop, also its controller, to abort with the reason.
    fn settle(&mut self, i: u32, gen: u32, outcome: Result<JsValue, JsValue>) -> Settling {
        match self.slots.get_mut(i as usize) {
            Some((g, state)) if *g == gen => match state {
                State::Waiting(w) => {
                    let w = w.take();
                    *state = State::Ready(outcome);
                    (w, None)
                }
                State::Dropped => {
                    self.give_back(i);
                    (None, None)
                }
                State::Stop(controller, watched, reason @ None) => {
                    let why = outcome.unwrap_or_else(|e| e);
                    *reason = Some(why.clone());
                    let abort = Some((controller.clone(), why.clone()));
                    match watched.take() {
                        Some((i, gen)) => (self.settle(i, gen, Err(why)).0, abort),
                        None => (None, abort),
                    }
                }
                _ => (None, None),
            },
            _ => (None, None),
        }
    }

    fn poll(&mut self, i: u32, waker: &Waker) -> Poll<Result<JsValue, JsValue>> {
        let state = &mut self.slots[i as usize].1;
        if let State::Waiting(w) = state {
            if !w.as_ref().is_some_and(|w| w.will_wake(waker)) {
                *w = Some(waker.clone());
            }
            return Poll::Pending;
        }
        match std::mem::replace(state, State::Dropped) {
            State::Ready(r) => {
                self.give_back(i);
                Poll::Ready(r)
            }
            _ => Poll::Pending,
        }
    }

    /// The future of slot `i` is gone: given back now if settled, else when it settles.
    fn drop_slot(&mut self, i: u32) {
        if let State::Ready(_) = std::mem::replace(&mut self.slots[i as usize].1, State::Dropped) {
            self.give_back(i);
        }
    }
}

/// A waker to wake, a controller to abort (with a reason).
type Settling = (Option<Waker>, Option<(AbortController, JsValue)>);

/// What the bound functions call: `key`, then the value or the reason.
fn settle(key: f64, value: JsValue) {
    let key = key as u64;
    let outcome = if key & 1 == 1 { Ok(value) } else { Err(value) };
    let (i, gen) = ((key >> 1) as u32 & ((1 << SLOT_BITS) - 1), (key >> (SLOT_BITS + 1)) as u32);
    let (waker, abort) = SLOTS.with(|s| s.borrow_mut().settle(i, gen, outcome));
    // Outside the borrow: the signal's listeners run at once, and may call the module.
    if let Some((controller, reason)) = abort {
        controller.abort_with_reason(&reason);
    }
    if let Some(w) = waker {
        w.wake();
    }
}

/// Takes a slot: its number, the key of its rejection (its fulfilment's is one more) and the
/// settling function.
fn bound(s: &mut Slots) -> (u32, f64, &js::Bindable) {
    let (slot, gen) = s.take();
    let f = s.settle.get_or_insert_with(|| {
        Closure::<dyn FnMut(f64, JsValue)>::new(settle).into_js_value().unchecked_into()
    });
    (slot, ((gen as u64) << (SLOT_BITS + 1) | (slot as u64) << 1) as f64, f)
}

/// An attempt's stop: a function (`trigger`) that the attempt's timer and the caller's
/// signal call, which aborts the attempt's controller with what it was called with, and
/// rejects the await that watches it then (and any later one) with the same reason.
pub struct Stop {
    slot: u32,
    pub trigger: js_sys::Function,
}

impl Stop {
    pub fn new(controller: &AbortController) -> Stop {
        SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            let (slot, key, f) = bound(&mut s);
            let trigger = f.bind1(&JsValue::NULL, key);
            s.slots[slot as usize].1 = State::Stop(controller.clone(), None, None);
            Stop { slot, trigger }
        })
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        // What it held is dropped outside the borrow.
        let _held = SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            let held = std::mem::replace(&mut s.slots[self.slot as usize].1, State::Dropped);
            s.give_back(self.slot);
            held
        });
    }
}

/// A future of a promise's outcome (`Ok` its value, `Err` its reason), polled by one task.
pub struct Settled {
    /// Its slot, `NONE` once the outcome is taken (and the slot given back).
    slot: u32,
}

impl Settled {
    /// Watches `promise`, and `stop` when given (rejected at once if it was called already).
    /// What `fetch` gives may be anything: a value without `then`, or whose `then` throws,
    /// is taken as `Promise.resolve` takes it.
    pub fn new(promise: &Promise, stop: Option<&Stop>) -> Settled {
        let (settled, fulfilled, rejected) = Settled::pending();
        // Outside the borrow: a `then` of the caller's may call back into the module.
        if promise.unchecked_ref::<js::Thenable>().then2(&fulfilled, &rejected).is_err() {
            // (A native Promise whose own `then` throws is the same Promise again: the await
            // then ends with the attempt's stop.)
            let _ = Promise::resolve(promise).unchecked_ref::<js::Thenable>().then2(&fulfilled, &rejected);
        }
        if let Some(stop) = stop {
            SLOTS.with(|s| {
                let mut s = s.borrow_mut();
                let gen = s.slots[settled.slot as usize].0;
                if let State::Stop(_, watched, reason) = &mut s.slots[stop.slot as usize].1 {
                    match reason {
                        Some(r) => {
                            let r = Err(r.clone());
                            s.slots[settled.slot as usize].1 = State::Ready(r);
                        }
                        None => *watched = Some((settled.slot, gen)),
                    }
                }
            });
        }
        settled
    }

    /// A future settled by the first call of either function returned with it (fulfilled,
    /// rejected), as a Promise's resolving functions, without the Promise.
    pub fn pending() -> (Settled, js_sys::Function, js_sys::Function) {
        SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            let (slot, key, f) = bound(&mut s);
            (Settled { slot }, f.bind1(&JsValue::NULL, key + 1.0), f.bind1(&JsValue::NULL, key))
        })
    }
}

impl Future for Settled {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let r = SLOTS.with(|s| s.borrow_mut().poll(self.slot, cx.waker()));
        if r.is_ready() {
            self.slot = NONE;
        }
        r
    }
}

impl Drop for Settled {
    fn drop(&mut self) {
        if self.slot != NONE {
            SLOTS.with(|s| s.borrow_mut().drop_slot(self.slot));
        }
    }
}
