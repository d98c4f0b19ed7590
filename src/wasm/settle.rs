//! Awaiting a JavaScript promise: [`Settled`], a future woken when the promise settles.
//!
//! One settling function serves the whole module: each await binds it to the number of a
//! slot (`settle.bind(null, key)`, once for the fulfilment and once for the rejection) and
//! the slot holds the waker, then the outcome. The slot is given back once both the promise
//! has settled and the future has taken its outcome or been dropped. A promise that never
//! settles would keep its slot (and the waiting task): the request loop awaits none that
//! can (the global `fetch` and its body end when the attempt's controller aborts, which its
//! timeout always does; a `fetch` option's are also watched with the attempt's stop
//! promise, which the timeout rejects; a wait between attempts ends by its timer).
//!
//! The first outcome a slot receives is kept and any later one dropped (a promise watched
//! with a stop may still settle), and a key whose slot has been given back (counted by its
//! generation) is ignored.

use super::js;
use js_sys::Promise;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

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

    /// The first outcome for a slot of generation `gen`: its waker, if a poll left one.
    fn settle(&mut self, i: u32, gen: u32, outcome: Result<JsValue, JsValue>) -> Option<Waker> {
        match self.slots.get_mut(i as usize) {
            Some((g, state)) if *g == gen => match state {
                State::Waiting(w) => {
                    let w = w.take();
                    *state = State::Ready(outcome);
                    w
                }
                State::Dropped => {
                    self.give_back(i);
                    None
                }
                _ => None,
            },
            _ => None,
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

/// What the bound functions call: `key`, then the value or the reason.
fn settle(key: f64, value: JsValue) {
    let key = key as u64;
    let outcome = if key & 1 == 1 { Ok(value) } else { Err(value) };
    let (i, gen) = ((key >> 1) as u32 & ((1 << SLOT_BITS) - 1), (key >> (SLOT_BITS + 1)) as u32);
    if let Some(w) = SLOTS.with(|s| s.borrow_mut().settle(i, gen, outcome)) {
        w.wake();
    }
}

/// A future of a promise's outcome (`Ok` its value, `Err` its reason), polled by one task.
pub struct Settled {
    /// Its slot, `NONE` once the outcome is taken (and the slot given back).
    slot: u32,
}

impl Settled {
    /// Watches `promise` (a native Promise: its `then` neither throws nor calls back at
    /// once), and the rejection of `stop` when given.
    pub fn new(promise: &Promise, stop: Option<&Promise>) -> Settled {
        let (settled, fulfilled, rejected) = Settled::pending();
        // Outside the borrow: the module stays usable if it throws (a replaced `fetch` that
        // gave something without `then`).
        promise.unchecked_ref::<js::Thenable>().then2(&fulfilled, &rejected);
        if let Some(stop) = stop {
            stop.unchecked_ref::<js::Thenable>().then2(&JsValue::UNDEFINED, &rejected);
        }
        settled
    }

    /// A future settled by the first call of either function returned with it (fulfilled,
    /// rejected), as a Promise's resolving functions, without the Promise.
    pub fn pending() -> (Settled, js_sys::Function, js_sys::Function) {
        SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            let (slot, gen) = s.take();
            let f = s.settle.get_or_insert_with(|| {
                Closure::<dyn FnMut(f64, JsValue)>::new(settle).into_js_value().unchecked_into()
            });
            // The key of the rejection; the fulfilment's is one more.
            let key = ((gen as u64) << (SLOT_BITS + 1) | (slot as u64) << 1) as f64;
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
