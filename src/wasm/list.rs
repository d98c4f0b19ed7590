//! Lists: the request `qp.charges.list(params)` returns (awaiting it gives the first page,
//! `for await` walks every item, `toArray({ max })` collects them), its pages, and the
//! iterator of a walk. The walk, the cursors, the end of a list, the circles refused and
//! `toArray`'s bound are decided by `client::page`; this file fetches what it asks for.
//!
//! Rust holds no page's items for longer than a walk needs them: a JavaScript object that
//! Rust refers to lives until a collection has run the finaliser of the object that holds
//! the Rust one, and none runs while promises that settle at once keep the thread
//! (PERFORMANCE.md: lists). So a page's items are properties of its JavaScript object, a
//! list request holds its first page only while it is being fetched, and a walk lets go of
//! its page when it ends.

use super::fetch::{Answer, Inner, JsCall};
use super::js;
use crate::client::page::{self, Cursor, PageInfo, Trail, Which};
use crate::client::request::Call;
use crate::client::{ClientError, Request};
use crate::spec::schema::{Op, Resource};
use js_sys::{Array, Function, Object, Promise};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

/// One list call, validated when made: what its list request, pages and walks fetch with.
struct ListState {
    client: Rc<Inner>,
    resource: &'static Resource,
    op: &'static Op,
    call: Call,
    signal: Option<AbortSignal>,
    /// The first page's request, or why the call is refused.
    first: Result<Request, ClientError>,
}

/// A page as it arrived: its items, its place in the list and its `lastResponse`.
struct Loaded {
    data: Array,
    info: PageInfo,
    last_response: JsValue,
}

/// An item's id as a cursor (`String(id)`); one longer than a cursor can be is never
/// copied: `None`, its length in `too_long`.
fn id_of(item: &JsValue, too_long: &mut usize) -> Option<String> {
    let id = js::get(item, "id");
    if let Some(s) = id.dyn_ref::<js_sys::JsString>() {
        // `length` through Array's binding, the same `x.length` in JavaScript: one import fewer.
        let len = s.unchecked_ref::<Array>().length() as usize;
        if len > page::MAX_CURSOR_CHARS {
            *too_long = len;
            return None;
        }
        return s.as_string();
    }
    id.as_f64().map(crate::client::fmt_num)
}

impl ListState {
    /// The page an answer is, fetched with `page` (the request's limit and cursor) after
    /// the chain `from`.
    fn page_from(
        &self,
        answer: Answer,
        page: Option<&(u32, Option<Cursor>)>,
        from: &Trail,
    ) -> Result<Loaded, JsValue> {
        let body = &answer.body;
        // The core accepted it as a list object: `data` is an array.
        let data: Array = js::get(body, "data").unchecked_into();
        let server =
            [js::get(body, "has_more"), js::get(body, "hasMore")].into_iter().find_map(|v| v.as_bool());
        let n = data.length();
        let secret = self.first.as_ref().map_or("", |r| r.auth.secret());
        let mut too_long = 0;
        let (first_id, last_id) = if n > 0 {
            (id_of(&data.get(0), &mut too_long), id_of(&data.get(n - 1), &mut too_long))
        } else {
            (None, None)
        };
        let info = match too_long {
            0 => PageInfo::new(page, n, server, first_id, last_id, from, &[secret]),
            len => Err(page::cursor_too_long(len, &[secret])),
        };
        let info = info.map_err(|e| js::error(&e, None, None))?;
        Ok(Loaded { data, info, last_response: answer.last_response })
    }

    /// Fetches the page `req` asks for, after the chain `from`.
    async fn load(&self, req: Request, from: Trail) -> Result<Loaded, JsValue> {
        let page = req.page.clone();
        let answer = self.client.send(req, self.signal.clone(), None).await?;
        self.page_from(answer, page.as_ref(), &from)
    }

    /// The first page.
    async fn load_first(&self) -> Result<Loaded, JsValue> {
        match &self.first {
            Ok(req) => self.load(req.clone(), Trail::default()).await,
            Err(e) => Err(js::error(e, None, None)),
        }
    }

    /// The page at `cursor` after the chain `from` (`None`: that side is known to be empty,
    /// no request).
    async fn load_at(&self, cursor: Option<Cursor>, from: Trail) -> Result<Loaded, JsValue> {
        let Some(c) = cursor else {
            return Ok(Loaded {
                data: Array::new(),
                info: PageInfo::default(),
                last_response: JsValue::NULL,
            });
        };
        let req = self
            .client
            .prepare_call(self.resource, self.op, &self.call, Some(c))
            .map_err(|e| js::error(&e, None, None))?;
        self.load(req, from).await
    }
}

/// `qp.charges.list(params)`: a thenable of the first page that is also an async iterable
/// of every item (the facade names `iterate` `[Symbol.asyncIterator]`).
#[wasm_bindgen(skip_typescript)]
pub struct ListRequest {
    state: Rc<ListState>,
    /// The first page while it is being fetched: awaits made meanwhile share it.
    first: Rc<RefCell<Option<Promise>>>,
}

impl ListRequest {
    pub(crate) fn new(
        client: &Rc<Inner>,
        resource: &'static Resource,
        op: &'static Op,
        params: JsValue,
        opts: JsValue,
    ) -> ListRequest {
        let args = JsCall { params, opts, ..JsCall::default() };
        let (first, call, signal) = match client.prepare(resource, op, &args, None) {
            Ok((req, call, signal, _)) => (Ok(req), call, signal),
            Err(e) => (Err(e), Call::default(), None),
        };
        let state = ListState { client: client.clone(), resource, op, call, signal, first };
        ListRequest { state: Rc::new(state), first: Rc::default() }
    }

    /// The first page: fetched on each use, shared by the uses while it is in flight.
    fn first_page(&self) -> js::Thenable {
        if let Some(p) = &*self.first.borrow() {
            return p.clone().unchecked_into();
        }
        let (cell, list) = (self.first.clone(), self.state.clone());
        // Run from a microtask (never within this call): the Promise is in the cell first.
        let promise = js::promise(async move {
            let loaded = list.load_first().await;
            cell.borrow_mut().take();
            loaded.map(|l| Page::of(&list, l))
        });
        *self.first.borrow_mut() = Some(promise.clone());
        promise.unchecked_into()
    }
}

#[wasm_bindgen]
impl ListRequest {
    pub fn then(&self, on_fulfilled: JsValue, on_rejected: JsValue) -> Promise {
        self.first_page().then_with(&on_fulfilled, &on_rejected)
    }

    pub fn catch(&self, on_rejected: JsValue) -> Promise {
        self.first_page().catch_with(&on_rejected)
    }

    pub fn finally(&self, on_finally: JsValue) -> Promise {
        self.first_page().finally_with(&on_finally)
    }

    /// A walk over every item (the facade makes it `[Symbol.asyncIterator]`).
    pub fn iterate(&self) -> ListIterator {
        ListIterator { walker: RefCell::new(Some(Walker::new(&self.state))) }
    }

    /// Up to `max` items (required, at most 10,000).
    #[wasm_bindgen(js_name = toArray)]
    pub fn to_array(&self, opts: JsValue) -> Promise {
        let max = match js::to_json(&opts, "opts").and_then(|o| page::to_array_max(&o)) {
            Ok(max) => max,
            Err(e) => return Promise::reject(&js::error(&e, None, None)),
        };
        let walker = Walker::new(&self.state);
        Promise::new(&mut |resolve, reject| {
            walker.wait(Waiter::Collect { out: Array::new(), max, resolve, reject })
        })
    }

    /// Lets go of the first page in flight (awaits made already keep it); the list request
    /// keeps working. (Not wasm-bindgen's own `free`, after which the object is unusable.)
    pub fn free(&self) {
        self.first.borrow_mut().take();
    }
}

/// A page of a list. Its items, `hasMore` and `lastResponse` are properties of the
/// JavaScript object a caller gets, whose prototype is the Page (`Page::of`); Rust keeps its
/// place in the list.
#[wasm_bindgen(skip_typescript)]
pub struct Page {
    list: Rc<ListState>,
    /// `None` once freed.
    info: RefCell<Option<PageInfo>>,
}

impl Page {
    /// The page object of `loaded`.
    fn of(list: &Rc<ListState>, loaded: Loaded) -> JsValue {
        let Loaded { data, info, last_response } = loaded;
        let has_more = info.has_more;
        let class: JsValue = Page { list: list.clone(), info: RefCell::new(Some(info)) }.into();
        // The items on an object whose prototype is the Page, not on the Page itself: V8
        // keeps whatever is registered for finalisation alive through every minor collection
        // (copied, then promoted), and the page's items with it (PERFORMANCE.md: lists).
        let page: JsValue = Object::create(class.unchecked_ref::<Object>()).into();
        js::set(&page, "object", &js::with_key("list", JsValue::clone));
        js::set(&page, "data", &data);
        js::set(&page, "hasMore", &JsValue::from(has_more));
        js::define_hidden(&page, "lastResponse", &last_response);
        page
    }

    fn neighbour(&self, which: Which) -> Promise {
        let Some(info) = &*self.info.borrow() else {
            return Promise::reject(
                &js_sys::TypeError::new("this page was freed: free() ends its navigation").into(),
            );
        };
        let cursor = match info.neighbour(which) {
            Ok(c) => c,
            Err(e) => return Promise::reject(&js::error(&e, None, None)),
        };
        let (from, list) = (info.trail_towards(which), self.list.clone());
        js::promise(async move { list.load_at(cursor, from).await.map(|l| Page::of(&list, l)) })
    }
}

#[wasm_bindgen]
impl Page {
    /// The page after this one's last item (older items); empty when there is none.
    #[wasm_bindgen(js_name = nextPage)]
    pub fn next_page(&self) -> Promise {
        self.neighbour(Which::Next)
    }

    /// The page before this one's first item (newer items); empty when there is none.
    #[wasm_bindgen(js_name = previousPage)]
    pub fn previous_page(&self) -> Promise {
        self.neighbour(Which::Previous)
    }

    /// Lets go of the page's place in its list (its cursors) now; its items stay. (Not
    /// wasm-bindgen's own `free`, after which even they would be out of reach of its methods.)
    pub fn free(&self) {
        self.info.borrow_mut().take();
    }
}

/// Who waits for a walk: a `next()`, or `toArray` collecting up to `max` items.
enum Waiter {
    Next { resolve: Function, reject: Function },
    Collect { out: Array, max: u32, resolve: Function, reject: Function },
}

/// A walk in progress: the core's [`page::Walk`], the items of the page it is in, and who
/// waits for it, in order.
struct Walker {
    list: Rc<ListState>,
    state: RefCell<WalkState>,
}

struct WalkState {
    walk: page::Walk,
    data: Array,
    waiting: VecDeque<Waiter>,
    /// A page is being fetched.
    loading: bool,
    ended: bool,
}

/// `{ done, value }`.
fn result(done: bool, value: &JsValue) -> JsValue {
    let o = Object::new();
    js::set(&o, "done", &JsValue::from(done));
    js::set(&o, "value", value);
    o.into()
}

impl Walker {
    fn new(list: &Rc<ListState>) -> Rc<Walker> {
        let state = WalkState {
            walk: page::Walk::default(),
            data: Array::new(),
            waiting: VecDeque::new(),
            loading: false,
            ended: false,
        };
        Rc::new(Walker { list: list.clone(), state: RefCell::new(state) })
    }

    fn wait(self: &Rc<Self>, w: Waiter) {
        self.state.borrow_mut().waiting.push_back(w);
        self.pump();
    }

    /// Serves the waiters in order, from the page at hand, fetching the next page when it
    /// is used up (one fetch at a time).
    fn pump(self: &Rc<Self>) {
        loop {
            let mut s = self.state.borrow_mut();
            if s.loading || s.waiting.is_empty() {
                return;
            }
            if s.ended {
                drop(s);
                return self.end();
            }
            match s.walk.step() {
                page::Step::Item(i) => {
                    let item = s.data.get(i);
                    let done = match s.waiting.front_mut() {
                        Some(Waiter::Next { resolve, .. }) => {
                            let _ = resolve.call1(&JsValue::UNDEFINED, &result(false, &item));
                            true
                        }
                        Some(Waiter::Collect { out, max, resolve, .. }) => {
                            out.push(&item);
                            let full = out.length() >= *max;
                            if full {
                                let _ = resolve.call1(&JsValue::UNDEFINED, out);
                                s.ended = true;
                            }
                            full
                        }
                        None => false,
                    };
                    if done {
                        s.waiting.pop_front();
                    }
                }
                page::Step::End => {
                    s.ended = true;
                    drop(s);
                    return self.end();
                }
                // The first waiter gets the error; the walk then ends for the next ones.
                page::Step::Fail(e) => {
                    if let Some(Waiter::Next { reject, .. } | Waiter::Collect { reject, .. }) =
                        s.waiting.pop_front()
                    {
                        let _ = reject.call1(&JsValue::UNDEFINED, &js::error(&e, None, None));
                    }
                }
                page::Step::First => {
                    s.loading = true;
                    drop(s);
                    let me = self.clone();
                    return js::spawn(async move {
                        let loaded = me.list.load_first().await;
                        me.loaded(loaded);
                    });
                }
                page::Step::Fetch(c) => {
                    s.loading = true;
                    let from = s.walk.trail();
                    drop(s);
                    let me = self.clone();
                    return js::spawn(async move {
                        let loaded = me.list.load_at(Some(c), from).await;
                        me.loaded(loaded);
                    });
                }
            }
        }
    }

    /// A page (or why none) for the walk: the first waiter gets the error; the next ones
    /// step again.
    fn loaded(self: &Rc<Self>, loaded: Result<Loaded, JsValue>) {
        let mut s = self.state.borrow_mut();
        s.loading = false;
        match loaded {
            _ if s.ended => {}
            Ok(l) => {
                s.data = l.data;
                s.walk.loaded(l.info);
            }
            Err(e) => {
                if let Some(Waiter::Next { reject, .. } | Waiter::Collect { reject, .. }) =
                    s.waiting.pop_front()
                {
                    let _ = reject.call1(&JsValue::UNDEFINED, &e);
                }
            }
        }
        drop(s);
        self.pump();
    }

    /// The walk is over: its page and cursors go; whoever waits gets the end.
    fn end(&self) {
        let waiting = {
            let mut s = self.state.borrow_mut();
            s.ended = true;
            s.walk = page::Walk::default();
            s.data = Array::new();
            std::mem::take(&mut s.waiting)
        };
        for w in waiting {
            let _ = match w {
                Waiter::Next { resolve, .. } => {
                    resolve.call1(&JsValue::UNDEFINED, &result(true, &JsValue::UNDEFINED))
                }
                Waiter::Collect { out, resolve, .. } => resolve.call1(&JsValue::UNDEFINED, &out),
            };
        }
    }
}

/// The async iterator of a list's items. Calls to `next()` are served in order, so
/// concurrent calls each get their own item.
#[wasm_bindgen(skip_typescript)]
pub struct ListIterator {
    /// `None` once the walk is over.
    walker: RefCell<Option<Rc<Walker>>>,
}

#[wasm_bindgen]
impl ListIterator {
    pub fn next(&self) -> Promise {
        let Some(w) = self.walker.borrow().clone() else {
            return Promise::resolve(&result(true, &JsValue::UNDEFINED));
        };
        {
            let mut s = w.state.borrow_mut();
            if s.ended {
                drop(s);
                // The walk ended at its last item: its walker goes.
                self.walker.borrow_mut().take();
                return Promise::resolve(&result(true, &JsValue::UNDEFINED));
            }
            // Most items are in the page at hand: answered at once.
            if s.waiting.is_empty() && !s.loading {
                if let Some(i) = s.walk.ready() {
                    return Promise::resolve(&result(false, &s.data.get(i)));
                }
            }
        }
        let promise = Promise::new(&mut |resolve, reject| w.wait(Waiter::Next { resolve, reject }));
        if w.state.borrow().ended {
            self.walker.borrow_mut().take();
        }
        promise
    }

    /// Ends the walk (also while a page is awaited: that `next()` gets the end).
    #[wasm_bindgen(js_name = return)]
    pub fn finish(&self, value: JsValue) -> Promise {
        if let Some(w) = self.walker.borrow_mut().take() {
            w.end();
        }
        Promise::resolve(&result(true, &value))
    }
}
