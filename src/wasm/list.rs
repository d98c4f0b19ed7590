//! Lists: what `qp.charges.list(params)` hands to `list.js`, whose JavaScript objects users
//! get (the list request: awaiting it gives the first page, `for await` walks every item,
//! `toArray({ max })` collects them; its pages; the iterator of a walk). The walk, the
//! cursors, the end of a list, the circles refused and `toArray`'s bound are decided by
//! `client::page`; this file fetches what it asks for.
//!
//! No Rust object here holds a page's items or any object of the caller's: a JavaScript object
//! that Rust refers to lives until a full garbage collection has run the finaliser of what
//! holds it (PERFORMANCE.md: lists), so the items live in the JavaScript objects of list.js
//! and die with them.

use super::fetch::{Inner, JsCall};
use super::js;
use crate::client::page::{self, PageInfo, Trail, Which};
use crate::client::request::Call;
use crate::client::{ClientError, Request};
use crate::spec::schema::{Op, Resource};
use js_sys::{Array, Object, Promise};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

#[wasm_bindgen(module = "/src/wasm/list.js")]
extern "C" {
    /// The list request users get for a list call.
    #[wasm_bindgen(js_name = listRequest)]
    fn list_request(call: ListCall) -> JsValue;
}

/// What every page of one list call needs to fetch its neighbours.
struct ListState {
    client: Rc<Inner>,
    resource: &'static Resource,
    op: &'static Op,
    call: Call,
    signal: Option<AbortSignal>,
    /// The first page's request, or why the call is refused (validated when made).
    first: Result<Request, ClientError>,
}

/// An item's id as a cursor (`String(id)`).
fn id_of(item: &JsValue) -> Option<String> {
    let id = js::get(item, "id");
    id.as_string().or_else(|| id.as_f64().map(crate::client::fmt_num))
}

impl ListState {
    /// The page an answer's body is, fetched with `page` (the request's limit and cursor)
    /// after the chain `from`: its items, its place in the list and its `lastResponse`.
    fn page_from(
        &self,
        body: &JsValue,
        page: Option<&(u32, Option<page::Cursor>)>,
        from: &Trail,
    ) -> Result<(Array, PageInfo, JsValue), JsValue> {
        // The core accepted it as a list object: `data` is an array.
        let data: Array = js::get(body, "data").unchecked_into();
        let server =
            [js::get(body, "has_more"), js::get(body, "hasMore")].into_iter().find_map(|v| v.as_bool());
        let n = data.length();
        let (first_id, last_id) =
            if n > 0 { (id_of(&data.get(0)), id_of(&data.get(n - 1))) } else { (None, None) };
        let secret = self.first.as_ref().map_or("", |r| r.auth.secret());
        let info = PageInfo::new(page, n, server, first_id, last_id, from, &[secret])
            .map_err(|e| js::error(&e, None, None))?;
        Ok((data, info, js::get(body, "lastResponse")))
    }

    /// The page `req` asks for, after the chain `from`.
    async fn load(&self, req: Request, from: &Trail) -> Result<(Array, PageInfo, JsValue), JsValue> {
        let page = req.page.clone();
        let body = JsFuture::from(self.client.send(req, self.signal.as_ref(), None)).await?;
        self.page_from(&body, page.as_ref(), from)
    }

    /// The page at `cursor` after the chain `from` (`None`: that side is known to be empty,
    /// no request).
    async fn load_at(
        &self,
        cursor: Option<page::Cursor>,
        from: &Trail,
    ) -> Result<(Array, PageInfo, JsValue), JsValue> {
        match cursor {
            None => Ok((Array::new(), PageInfo::default(), JsValue::NULL)),
            Some(c) => {
                let req = self
                    .client
                    .prepare_call(self.resource, self.op, &self.call, Some(c))
                    .map_err(|e| js::error(&e, None, None))?;
                self.load(req, from).await
            }
        }
    }
}

/// A loaded page as list.js takes it: `{ data, hasMore, lastResponse, state }` (`state`: its
/// [`PageState`]).
fn page_of((data, info, last_response): (Array, PageInfo, JsValue)) -> JsValue {
    let o = Object::new();
    js::set(&o, "hasMore", &JsValue::from(info.has_more));
    js::set(&o, "data", &data);
    js::set(&o, "lastResponse", &last_response);
    js::set(&o, "state", &PageState { info }.into());
    o.into()
}

/// One list call, validated when made: what its list request, pages and walks fetch with.
#[wasm_bindgen(skip_typescript)]
pub struct ListCall {
    state: Rc<ListState>,
}

/// A page's place in its list: the core's [`PageInfo`].
#[wasm_bindgen(skip_typescript)]
pub struct PageState {
    info: PageInfo,
}

/// A list request for `resource.op(params, opts)` (list.js's object).
pub(crate) fn list(
    client: &Rc<Inner>,
    resource: &'static Resource,
    op: &'static Op,
    params: JsValue,
    opts: JsValue,
) -> JsValue {
    let args = JsCall { params, opts, ..JsCall::default() };
    let (first, call, signal) = match client.prepare(resource, op, &args, None) {
        Ok((req, call, signal, _)) => (Ok(req), call, signal),
        Err(e) => (Err(e), Call::default(), None),
    };
    let state = ListState { client: client.clone(), resource, op, call, signal, first };
    list_request(ListCall { state: Rc::new(state) })
}

#[wasm_bindgen]
impl ListCall {
    /// A Promise of the first page's answer (sent again on each call: list.js keeps the
    /// page), which [`ListCall::first_page`] makes a page of. (Chained in list.js, not
    /// awaited here: the page a list request awaits is the one most fetched.)
    pub fn first(&self) -> Promise {
        match self.state.first.clone() {
            Ok(req) => self.state.client.send(req, self.state.signal.as_ref(), None),
            Err(e) => Promise::reject(&js::error(&e, None, None)),
        }
    }

    /// The first page, from [`ListCall::first`]'s answer.
    #[wasm_bindgen(js_name = firstPage)]
    pub fn first_page(&self, body: &JsValue) -> Result<JsValue, JsValue> {
        let page = self.state.first.as_ref().ok().and_then(|r| r.page.as_ref());
        Ok(page_of(self.state.page_from(body, page, &Trail::default())?))
    }

    /// A Promise of the page after (`which` 0) or before (1) the page `of`.
    pub fn neighbour(&self, of: &PageState, which: u32) -> Promise {
        let which = if which == 0 { Which::Next } else { Which::Previous };
        let (st, cursor, from) = (self.state.clone(), of.info.neighbour(which), of.info.trail_towards(which));
        js::promise(async move { Ok(page_of(st.load_at(cursor, &from).await?)) })
    }

    /// A new walk over every item.
    pub fn walk(&self) -> Walker {
        Walker { list: self.state.clone(), walk: Rc::default(), onward: RefCell::new(None) }
    }

    /// `toArray`'s `max` (required, at most 10,000), or the error saying why not.
    #[wasm_bindgen(js_name = toArrayMax)]
    pub fn to_array_max(&self, opts: &JsValue) -> Result<u32, JsValue> {
        js::to_json(opts, "opts").and_then(|o| page::to_array_max(&o)).map_err(|e| js::error(&e, None, None))
    }
}

/// Where a walk's next item comes from (`Walker::step`): an index of the page at hand, or
/// one of these.
const FIRST: i32 = -1;
const FETCH: i32 = -2;
const END: i32 = -3;

/// A walk in progress: the core's [`page::Walk`]; list.js holds the items of its page.
#[wasm_bindgen(skip_typescript)]
pub struct Walker {
    list: Rc<ListState>,
    walk: Rc<RefCell<page::Walk>>,
    /// The cursor of the page to fetch next (`FETCH`).
    onward: RefCell<Option<page::Cursor>>,
}

#[wasm_bindgen]
impl Walker {
    /// The next item's index if it is in the page at hand, else -1 (nothing changes).
    pub fn ready(&self) -> i32 {
        self.walk.borrow_mut().ready().map_or(-1, |i| i as i32)
    }

    /// The next item's index, or what the walk needs first: the list's first page (`FIRST`,
    /// then [`Walker::loaded`]), the next page ([`Walker::fetch`]), or nothing more (`END`).
    pub fn step(&self) -> i32 {
        match self.walk.borrow_mut().step() {
            page::Step::Item(i) => i as i32,
            page::Step::First => FIRST,
            page::Step::Fetch(c) => {
                *self.onward.borrow_mut() = Some(c);
                FETCH
            }
            page::Step::End => END,
        }
    }

    /// The first page, as the list request fetched it.
    pub fn loaded(&self, page: &PageState) {
        self.walk.borrow_mut().loaded(page.info.clone());
    }

    /// A Promise of the items of the page the walk goes to next (`FETCH`).
    pub fn fetch(&self) -> Promise {
        let (cursor, from) = (self.onward.borrow_mut().take(), self.walk.borrow().trail());
        let (list, walk) = (self.list.clone(), self.walk.clone());
        js::promise(async move {
            let (data, info, _) = list.load_at(cursor, &from).await?;
            walk.borrow_mut().loaded(info);
            Ok(data.into())
        })
    }
}
