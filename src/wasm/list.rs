//! Lists: the request `qp.charges.list(params)` returns (awaiting it gives the first page,
//! `for await` walks every item, `toArray({ max })` collects them), its pages, and the
//! iterator of a walk. The walk, the cursors, the end of a list and `toArray`'s bound are
//! decided by `client::page`; this file fetches what it asks for.
//!
//! Nothing Rust holds refers back to a JavaScript object that holds Rust (a `Page` or a
//! `ListRequest`): each answer is kept as its data, and a fresh `Page` is made for whoever
//! asks. So the collector frees every list, page and iterator that JavaScript drops, with
//! no `free()`.

use super::fetch::{Inner, JsCall};
use super::js;
use crate::client::page::{self, PageInfo, Step, Which};
use crate::client::request::Call;
use crate::client::schema::{Op, Resource};
use crate::client::{ClientError, Request};
use js_sys::{Array, Object, Promise};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

/// What every page of one list call needs to fetch its neighbours.
pub(crate) struct ListCall {
    client: Rc<Inner>,
    resource: &'static Resource,
    op: &'static Op,
    call: Call,
    signal: Option<AbortSignal>,
}

/// The first page: not asked for yet, being fetched (a Promise of `undefined` that awaits
/// share), or fetched.
enum First {
    Idle,
    Loading(Promise),
    Ready(Rc<PageData>),
}

/// One list call: validated when made, sent on first use, its first page fetched once.
pub(crate) struct ListState {
    list: Rc<ListCall>,
    first: Result<Request, ClientError>,
    first_page: RefCell<First>,
}

/// What a page holds.
pub(crate) struct PageData {
    data: Array,
    info: PageInfo,
    last_response: JsValue,
}

impl PageData {
    fn empty() -> Rc<PageData> {
        Rc::new(PageData { data: Array::new(), info: PageInfo::default(), last_response: JsValue::NULL })
    }
}

/// An item's id as a cursor (`String(id)`).
fn id_of(item: &JsValue) -> Option<String> {
    let id = js::get(item, "id");
    id.as_string().or_else(|| id.as_f64().map(crate::client::fmt_num))
}

impl ListCall {
    async fn load(&self, req: &Request) -> Result<Rc<PageData>, JsValue> {
        let answer = self.client.send(req, self.signal.as_ref()).await?;
        // The core accepted it as a list object: `data` is an array.
        let data: Array = js::get(&answer.body, "data").unchecked_into();
        let server = [js::get(&answer.body, "has_more"), js::get(&answer.body, "hasMore")]
            .into_iter()
            .find_map(|v| v.as_bool());
        let n = data.length();
        let (first_id, last_id) =
            if n > 0 { (id_of(&data.get(0)), id_of(&data.get(n - 1))) } else { (None, None) };
        let info = PageInfo::new(req.page.as_ref(), n, server, first_id, last_id, &[req.auth.secret()])
            .map_err(|e| js::error(&e, None, None))?;
        Ok(Rc::new(PageData { data, info, last_response: answer.last_response }))
    }

    /// The page at `cursor` (`None`: that side is known to be empty, no request).
    async fn load_at(&self, cursor: Option<page::Cursor>) -> Result<Rc<PageData>, JsValue> {
        match cursor {
            None => Ok(PageData::empty()),
            Some(c) => {
                let req = self
                    .client
                    .prepare_call(self.resource, self.op, &self.call, Some(c))
                    .map_err(|e| js::error(&e, None, None))?;
                self.load(&req).await
            }
        }
    }

    fn page(self: &Rc<Self>, data: Rc<PageData>) -> JsValue {
        Page { list: self.clone(), page: data }.into()
    }
}

impl ListState {
    /// The first page, fetched once; a failure is forgotten so that a later await tries again.
    async fn first(self: &Rc<Self>) -> Result<Rc<PageData>, JsValue> {
        loop {
            let pending = match &*self.first_page.borrow() {
                First::Ready(p) => return Ok(p.clone()),
                First::Loading(p) => Some(p.clone()),
                First::Idle => None,
            };
            match pending {
                Some(p) => {
                    JsFuture::from(p).await?;
                }
                None => {
                    let st = self.clone();
                    let p = js::promise(async move {
                        let loaded = match &st.first {
                            Ok(req) => st.list.load(req).await,
                            Err(e) => Err(js::error(e, None, None)),
                        };
                        let (state, result) = match loaded {
                            Ok(data) => (First::Ready(data), Ok(JsValue::UNDEFINED)),
                            Err(e) => (First::Idle, Err(e)),
                        };
                        *st.first_page.borrow_mut() = state;
                        result
                    });
                    *self.first_page.borrow_mut() = First::Loading(p);
                }
            }
        }
    }

    /// A Promise of a new `Page` of the first page.
    fn first_page(self: &Rc<Self>) -> Promise {
        if let First::Ready(p) = &*self.first_page.borrow() {
            return Promise::resolve(&self.list.page(p.clone()));
        }
        let st = self.clone();
        js::promise(async move {
            let data = st.first().await?;
            Ok(st.list.page(data))
        })
    }
}

/// `qp.charges.list(params)`: a Promise of the first page that is also an async iterable
/// of every item.
#[wasm_bindgen(skip_typescript)]
pub struct ListRequest {
    state: Rc<ListState>,
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
            Ok((req, call, signal)) => (Ok(req), call, signal),
            Err(e) => (Err(e), Call::default(), None),
        };
        let list = Rc::new(ListCall { client: client.clone(), resource, op, call, signal });
        ListRequest { state: Rc::new(ListState { list, first, first_page: RefCell::new(First::Idle) }) }
    }
}

#[wasm_bindgen]
impl ListRequest {
    pub fn then(&self, on_fulfilled: JsValue, on_rejected: JsValue) -> Promise {
        self.state.first_page().unchecked_ref::<js::Thenable>().then_with(&on_fulfilled, &on_rejected)
    }

    pub fn catch(&self, on_rejected: JsValue) -> Promise {
        self.state.first_page().unchecked_ref::<js::Thenable>().catch_with(&on_rejected)
    }

    pub fn finally(&self, on_finally: JsValue) -> Promise {
        self.state.first_page().unchecked_ref::<js::Thenable>().finally_with(&on_finally)
    }

    /// A walk over every item (the facade makes it `[Symbol.asyncIterator]`).
    pub fn iterate(&self) -> ListIterator {
        ListIterator::new(self.state.clone())
    }

    /// Up to `max` items (required, at most 10,000).
    #[wasm_bindgen(js_name = toArray)]
    pub fn to_array(&self, opts: JsValue) -> Promise {
        let max = js::to_json(&opts, "opts").and_then(|o| page::to_array_max(&o));
        let walk = Walker::new(self.state.clone());
        js::promise(async move {
            let max = max.map_err(|e| js::error(&e, None, None))?;
            let out = Array::new();
            while out.length() < max {
                match walk.step().await? {
                    Some(item) => out.push(&item),
                    None => break,
                };
            }
            Ok(out.into())
        })
    }
}

/// A page of a list.
#[wasm_bindgen(skip_typescript)]
pub struct Page {
    list: Rc<ListCall>,
    page: Rc<PageData>,
}

#[wasm_bindgen]
impl Page {
    #[wasm_bindgen(getter)]
    pub fn object(&self) -> String {
        "list".into()
    }

    #[wasm_bindgen(getter)]
    pub fn data(&self) -> Array {
        self.page.data.clone()
    }

    #[wasm_bindgen(getter, js_name = hasMore)]
    pub fn has_more(&self) -> bool {
        self.page.info.has_more
    }

    /// `{ statusCode, requestId, headers }` of the answer this page came from (`null` for an
    /// empty page that needed no request).
    #[wasm_bindgen(getter, js_name = lastResponse)]
    pub fn last_response(&self) -> JsValue {
        self.page.last_response.clone()
    }

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

    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsValue {
        let o = Object::new();
        js::set(&o, "object", &JsValue::from_str("list"));
        js::set(&o, "data", &self.page.data);
        js::set(&o, "hasMore", &JsValue::from(self.page.info.has_more));
        o.into()
    }
}

impl Page {
    fn neighbour(&self, which: Which) -> Promise {
        let (list, cursor) = (self.list.clone(), self.page.info.neighbour(which));
        js::promise(async move {
            let data = list.load_at(cursor).await?;
            Ok(list.page(data))
        })
    }
}

/// A walk in progress: the core's `Walk` and the page it is in.
struct Walker {
    list: Rc<ListState>,
    walk: RefCell<page::Walk>,
    data: RefCell<Array>,
}

impl Walker {
    fn new(list: Rc<ListState>) -> Rc<Walker> {
        Rc::new(Walker { list, walk: RefCell::new(page::Walk::default()), data: RefCell::new(Array::new()) })
    }

    fn load(&self, p: &PageData) {
        *self.data.borrow_mut() = p.data.clone();
        self.walk.borrow_mut().loaded(p.info.clone());
    }

    /// The next item of the current page, without waiting: `None` when the walk has to
    /// fetch (or find the end) first.
    fn ready(&self) -> Option<JsValue> {
        let i = self.walk.borrow_mut().ready()?;
        Some(self.data.borrow().get(i))
    }

    /// The next item, fetching the next page only when this one is used up.
    async fn step(&self) -> Result<Option<JsValue>, JsValue> {
        loop {
            let step = self.walk.borrow_mut().next_step();
            let page = match step {
                Step::Item(i) => return Ok(Some(self.data.borrow().get(i))),
                Step::End => return Ok(None),
                Step::First => self.list.first().await?,
                Step::Fetch(c) => self.list.list.load_at(Some(c)).await?,
            };
            self.load(&page);
        }
    }
}

/// The async iterator of a list's items. Calls to `next()` are queued, so concurrent
/// calls each get their own item, in order.
#[wasm_bindgen(skip_typescript)]
pub struct ListIterator {
    walk: Rc<Walker>,
    /// The last `next()` that had to wait (a page load), and how many such are unsettled:
    /// while any is, later calls queue behind it.
    queue: RefCell<Promise>,
    waiting: Rc<Cell<u32>>,
}

fn result(done: bool, value: &JsValue) -> JsValue {
    let o = Object::new();
    js::set(&o, "done", &JsValue::from(done));
    js::set(&o, "value", value);
    o.into()
}

impl ListIterator {
    fn new(list: Rc<ListState>) -> ListIterator {
        ListIterator {
            walk: Walker::new(list),
            queue: RefCell::new(Promise::resolve(&JsValue::UNDEFINED)),
            waiting: Rc::new(Cell::new(0)),
        }
    }
}

#[wasm_bindgen]
impl ListIterator {
    pub fn next(&self) -> Promise {
        // Most items are in the page at hand: answered at once (measured: a walk of 5,000
        // items 1.39× a raw loop when every item went through a future, budget 1.15×).
        if self.waiting.get() == 0 {
            if let Some(v) = self.walk.ready() {
                return Promise::resolve(&result(false, &v));
            }
        }
        let before = self.queue.borrow().clone();
        let (walk, waiting) = (self.walk.clone(), self.waiting.clone());
        waiting.set(waiting.get() + 1);
        let p = js::promise(async move {
            let _ = JsFuture::from(before).await;
            let step = walk.step().await;
            waiting.set(waiting.get() - 1);
            Ok(match step? {
                Some(v) => result(false, &v),
                None => result(true, &JsValue::UNDEFINED),
            })
        });
        *self.queue.borrow_mut() = p.clone();
        p
    }

    #[wasm_bindgen(js_name = return)]
    pub fn finish(&self, value: JsValue) -> Promise {
        self.walk.walk.borrow_mut().stop();
        Promise::resolve(&result(true, &value))
    }
}
