//! Lists: the request `qp.charges.list(params)` returns (awaiting it gives the first page,
//! `for await` walks every item, `toArray({ max })` collects them), its pages, and the
//! iterator of a walk. The cursors, the end of a list and `toArray`'s bound come from
//! `client::page`.

use super::client::{Args, Inner};
use super::js;
use crate::client::page::{self, Dir, Which};
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

/// One list call: validated when made, sent on first use.
pub(crate) struct ListState {
    client: Rc<Inner>,
    resource: &'static Resource,
    op: &'static Op,
    call: Call,
    signal: Option<AbortSignal>,
    first: Result<Request, ClientError>,
    /// The first page, fetched once and shared (forgotten when it failed, so a later
    /// await tries again).
    first_page: RefCell<Option<Promise>>,
    first_data: RefCell<Option<Rc<PageData>>>,
}

/// What a page holds.
pub(crate) struct PageData {
    data: Array,
    has_more: bool,
    dir: Dir,
    first_id: Option<String>,
    last_id: Option<String>,
    last_response: JsValue,
}

impl PageData {
    fn empty() -> Rc<PageData> {
        Rc::new(PageData {
            data: Array::new(),
            has_more: false,
            dir: Dir::Forward,
            first_id: None,
            last_id: None,
            last_response: JsValue::NULL,
        })
    }
}

/// An item's id as a cursor (`String(id)`).
fn id_of(item: &JsValue) -> Option<String> {
    let id = js::get(item, "id");
    id.as_string().or_else(|| id.as_f64().map(crate::client::fmt_num))
}

impl ListState {
    async fn load(&self, req: &Request) -> Result<Rc<PageData>, JsValue> {
        let answer = self.client.send(req, self.signal.as_ref()).await?;
        let data = js::get(&answer.body, "data");
        let data: Array = if Array::is_array(&data) { data.into() } else { Array::new() };
        let server = [js::get(&answer.body, "has_more"), js::get(&answer.body, "hasMore")].into_iter().find_map(|v| v.as_bool());
        let (limit, dir) = req.page.unwrap_or((page::DEFAULT_LIMIT, Dir::Forward));
        let n = data.length();
        Ok(Rc::new(PageData {
            has_more: page::has_more(limit, n, server),
            dir,
            first_id: if n > 0 { id_of(&data.get(0)) } else { None },
            last_id: if n > 0 { id_of(&data.get(n - 1)) } else { None },
            data,
            last_response: answer.last_response,
        }))
    }

    /// The first page as the shared Promise of a `Page`.
    fn first_page(self: &Rc<Self>) -> Promise {
        if let Some(p) = self.first_page.borrow().as_ref() {
            return p.clone();
        }
        let st = self.clone();
        let p = js::promise(async move {
            let loaded = match &st.first {
                Ok(req) => st.load(req).await,
                Err(e) => Err(js::error(e, None, None)),
            };
            match loaded {
                Ok(data) => {
                    *st.first_data.borrow_mut() = Some(data.clone());
                    Ok(Page { list: st.clone(), page: data }.into())
                }
                Err(e) => {
                    *st.first_page.borrow_mut() = None;
                    Err(e)
                }
            }
        });
        *self.first_page.borrow_mut() = Some(p.clone());
        p
    }

    async fn first(self: &Rc<Self>) -> Result<Rc<PageData>, JsValue> {
        JsFuture::from(self.first_page()).await?;
        Ok(self.first_data.borrow().clone().unwrap_or_else(PageData::empty))
    }

    /// The request for a neighbour of `p` (`None`: that side is known to be empty).
    fn neighbour(&self, which: Option<Which>, p: &PageData) -> Result<Option<Request>, JsValue> {
        let (first, last) = (p.first_id.as_deref(), p.last_id.as_deref());
        let cursor = match which {
            Some(w) => page::neighbour(w, p.dir, p.has_more, first, last),
            None => page::walk_next(p.dir, p.has_more, first, last),
        };
        cursor
            .map(|c| self.client.prepare_call(self.resource, self.op, &self.call, Some(c)))
            .transpose()
            .map_err(|e| js::error(&e, None, None))
    }

    async fn go(self: Rc<Self>, which: Which, from: Rc<PageData>) -> Result<JsValue, JsValue> {
        let data = match self.neighbour(Some(which), &from)? {
            Some(req) => self.load(&req).await?,
            None => PageData::empty(),
        };
        Ok(Page { list: self, page: data }.into())
    }
}

/// `qp.charges.list(params)`: a Promise of the first page that is also an async iterable
/// of every item.
#[wasm_bindgen(skip_typescript)]
pub struct ListRequest {
    state: Rc<ListState>,
}

impl ListRequest {
    pub(crate) fn new(client: &Rc<Inner>, resource: &'static Resource, op: &'static Op, params: JsValue, opts: JsValue) -> ListRequest {
        let args = Args { params, opts, ..Args::default() };
        let (first, call, signal) = match client.prepare(resource, op, &args, None) {
            Ok((req, call, signal)) => (Ok(req), call, signal),
            Err(e) => (Err(e), Call::default(), None),
        };
        let state = ListState {
            client: client.clone(),
            resource,
            op,
            call,
            signal,
            first,
            first_page: RefCell::new(None),
            first_data: RefCell::new(None),
        };
        ListRequest { state: Rc::new(state) }
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
        let walk = Walk::new(self.state.clone());
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
    list: Rc<ListState>,
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
        self.page.has_more
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
        js::promise(self.list.clone().go(Which::Next, self.page.clone()))
    }

    /// The page before this one's first item (newer items); empty when there is none.
    #[wasm_bindgen(js_name = previousPage)]
    pub fn previous_page(&self) -> Promise {
        js::promise(self.list.clone().go(Which::Previous, self.page.clone()))
    }

    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsValue {
        let o = Object::new();
        js::set(&o, "object", &JsValue::from_str("list"));
        js::set(&o, "data", &self.page.data);
        js::set(&o, "hasMore", &JsValue::from(self.page.has_more));
        o.into()
    }
}

/// Where a walk is: the page and the index of the next item in it.
struct Walk {
    list: Rc<ListState>,
    page: RefCell<Option<Rc<PageData>>>,
    i: Cell<u32>,
    done: Cell<bool>,
}

impl Walk {
    fn new(list: Rc<ListState>) -> Rc<Walk> {
        Rc::new(Walk { list, page: RefCell::new(None), i: Cell::new(0), done: Cell::new(false) })
    }

    /// The next item of the current page, without waiting: `None` when the walk has to
    /// fetch (or find the end) first.
    fn ready(&self) -> Option<JsValue> {
        let page = self.page.borrow();
        let p = page.as_ref()?;
        let (n, i) = (p.data.length(), self.i.get());
        if self.done.get() || i >= n {
            return None;
        }
        self.i.set(i + 1);
        // A backward walk (endingBefore) yields each page oldest first, moving away from the
        // cursor.
        Some(p.data.get(if p.dir == Dir::Backward { n - 1 - i } else { i }))
    }

    /// The next item, fetching the next page only when this one is used up.
    async fn step(&self) -> Result<Option<JsValue>, JsValue> {
        loop {
            if self.done.get() {
                return Ok(None);
            }
            let current = self.page.borrow().clone();
            let p = match current {
                Some(p) => p,
                None => {
                    let p = self.list.first().await?;
                    *self.page.borrow_mut() = Some(p.clone());
                    p
                }
            };
            if let Some(v) = self.ready() {
                return Ok(Some(v));
            }
            match self.list.neighbour(None, &p)? {
                None => self.done.set(true),
                Some(req) => {
                    let next = self.list.load(&req).await?;
                    *self.page.borrow_mut() = Some(next);
                    self.i.set(0);
                }
            }
        }
    }
}

/// The async iterator of a list's items. Calls to `next()` are queued, so concurrent
/// calls each get their own item, in order.
#[wasm_bindgen(skip_typescript)]
pub struct ListIterator {
    walk: Rc<Walk>,
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
        ListIterator { walk: Walk::new(list), queue: RefCell::new(Promise::resolve(&JsValue::UNDEFINED)), waiting: Rc::new(Cell::new(0)) }
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
        self.walk.done.set(true);
        Promise::resolve(&result(true, &value))
    }
}
