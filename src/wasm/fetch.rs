//! The request loop every method of the client runs: the core builds the request and its
//! attempt loop decides (`client::retry::Attempts`); `send.js` performs what it says (calls
//! `fetch`, the global one or the `fetch` option, arms the timeout and the caller's
//! `AbortSignal`, reads the body counted, sleeps between attempts) and asks this file's
//! [`Exchange`] at each turn. The loop is JavaScript because each await of a Rust future
//! costs closures and a promise of its own (PERFORMANCE.md: the client's CPU per call);
//! every decision, hook and error is made here and in the core.

use super::js;
use crate::client::page::Cursor;
use crate::client::request::Call;
use crate::client::retry::{Action, Attempts, FinalError, Outcome, Seen, Shape};
use crate::client::{ClientError, Config, Json, Request};
use crate::spec::schema::{Op, Resource};
use js_sys::{Function, Object, Promise};
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

#[wasm_bindgen(module = "/src/wasm/send.js")]
extern "C" {
    /// One call's attempts, as the exchange says; a Promise of the parsed answer (with
    /// `lastResponse`), or of the call's error.
    #[wasm_bindgen(js_name = send)]
    #[allow(clippy::too_many_arguments)]
    fn send_js(
        exchange: Exchange,
        url: &JsValue,
        method: &JsValue,
        headers: &JsValue,
        idempotency_key: &JsValue,
        body: &JsValue,
        timeout_ms: f64,
        fetch: &JsValue,
        signal: &JsValue,
    ) -> Promise;
}

/// The two hook points of `qp.on(name, hook)`.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Hook {
    Request,
    Response,
}

/// What a client holds: its validated options, the `fetch` option, the hooks.
pub(crate) struct Inner {
    config: Config,
    fetch: JsValue,
    hooks: RefCell<Vec<(Hook, Function)>>,
    /// The headers of recent requests (all but the `Idempotency-Key`) as JavaScript objects:
    /// the same for most calls, so each set is made once; send.js copies it for each call.
    headers: RefCell<Vec<(HeaderList, JsValue)>>,
}

/// A request's headers by name.
type HeaderList = Vec<(&'static str, Rc<str>)>;

/// One call's arguments as JavaScript passed them (`undefined` when absent); the core's
/// [`Call`] is the same as JSON.
#[derive(Default)]
pub(crate) struct JsCall {
    pub id: JsValue,
    pub params: JsValue,
    pub opts: JsValue,
}

/// What request hooks see (never a credential or a body).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestEvent<'a> {
    method: &'a str,
    path: &'a str,
    attempt: u32,
    idempotency_key: Option<&'a str>,
}

/// What response hooks see: the request's fields and the answer's. (Fields repeated rather
/// than `#[serde(flatten)]`, which serialises through a map: more code.)
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseEvent<'a> {
    method: &'a str,
    path: &'a str,
    attempt: u32,
    idempotency_key: Option<&'a str>,
    status_code: u16,
    request_id: Option<&'a str>,
    elapsed_ms: f64,
}

impl Inner {
    pub fn new(config: Config, fetch: Option<Function>) -> Inner {
        Inner {
            config,
            fetch: fetch.map_or(JsValue::UNDEFINED, JsValue::from),
            hooks: RefCell::new(Vec::new()),
            headers: RefCell::new(Vec::new()),
        }
    }

    pub fn add_hook(&self, hook: Hook, f: Function) {
        self.hooks.borrow_mut().push((hook, f));
    }

    /// Removes the first `f` added for `hook`, if any.
    pub fn remove_hook(&self, hook: Hook, f: &Function) {
        let mut hooks = self.hooks.borrow_mut();
        if let Some(i) = hooks.iter().position(|(h, g)| *h == hook && JsValue::from(g) == JsValue::from(f)) {
            hooks.remove(i);
        }
    }

    /// Validates a call and builds its request; nothing is sent. Also the caller's signal,
    /// and the body as a JavaScript string when it is one already.
    pub fn prepare(
        &self,
        resource: &Resource,
        op: &Op,
        args: &JsCall,
        cursor: Option<Cursor>,
    ) -> Result<(Request, Call, Option<AbortSignal>, Option<JsValue>), ClientError> {
        let (opts, signal) = call_options(&args.opts)?;
        let (params, text) = js::to_json_text(&args.params, "params")?;
        let (params_text, text_js) = text.unzip();
        let call = Call { id: js::to_json(&args.id, "id")?, params, opts, params_text };
        let req = self.prepare_call(resource, op, &call, cursor)?;
        // The body is the caller's own JSON text: as the JavaScript string it came as.
        let body = text_js.filter(|_| req.body.is_some() && req.body == call.params_text);
        Ok((req, call, signal, body))
    }

    pub fn prepare_call(
        &self,
        resource: &Resource,
        op: &Op,
        call: &Call,
        cursor: Option<Cursor>,
    ) -> Result<Request, ClientError> {
        self.config.prepare(resource, op, call, cursor, js::new_idempotency_key)
    }

    /// `resource.op(...)` as a Promise of the parsed answer (with `lastResponse`).
    pub fn call(self: &Rc<Self>, resource: &Resource, op: &Op, args: JsCall) -> Promise {
        match self.prepare(resource, op, &args, None) {
            Ok((req, _, signal, body)) => self.send(req, signal.as_ref(), body),
            Err(e) => Promise::reject(&js::error(&e, None, None)),
        }
    }

    /// Sends `req` with its retries: a Promise of the parsed answer (with `lastResponse`).
    /// `body`: its body as a JavaScript string, when the caller has one.
    pub fn send(
        self: &Rc<Self>,
        req: Request,
        signal: Option<&AbortSignal>,
        body: Option<JsValue>,
    ) -> Promise {
        let url = JsValue::from_str(&req.url);
        let method = js::with_key(req.method, JsValue::clone);
        let key = req.idempotency_key.as_deref().map_or(JsValue::UNDEFINED, js::idempotency_key);
        let body = body.or_else(|| req.body.as_deref().map(JsValue::from_str)).unwrap_or(JsValue::UNDEFINED);
        let headers = self.headers_of(&req);
        let timeout_ms = req.timeout_ms;
        let mut exchange = Exchange::new(self, req);
        // The first attempt's turn (send.js asks only before the next ones), unless the call
        // is aborted already: then send.js refuses it without an attempt.
        if !signal.is_some_and(AbortSignal::aborted) {
            exchange.sending();
        }
        let signal: &JsValue = match signal {
            Some(s) => s.as_ref(),
            None => &JsValue::UNDEFINED,
        };
        send_js(exchange, &url, &method, &headers, &key, &body, timeout_ms, &self.fetch, signal)
    }

    /// `req`'s headers but the `Idempotency-Key`, as a JavaScript object, from the cache of
    /// recent ones when it is there (their values are the client's own: compared by address).
    fn headers_of(&self, req: &Request) -> JsValue {
        let listed = || req.headers.iter().filter(|(k, _)| *k != "Idempotency-Key");
        let same = |a: &[(&str, Rc<str>)]| {
            a.len() == listed().count()
                && a.iter().zip(listed()).all(|(x, y)| x.0 == y.0 && Rc::ptr_eq(&x.1, &y.1))
        };
        let mut cache = self.headers.borrow_mut();
        if let Some((_, js)) = cache.iter().find(|(k, _)| same(k)) {
            return js.clone();
        }
        let list: HeaderList = listed().cloned().collect();
        let headers = Object::new();
        for (k, v) in &list {
            js::set(&headers, k, &JsValue::from_str(v));
        }
        if cache.len() >= 4 {
            cache.remove(0);
        }
        cache.push((list, headers.clone().into()));
        headers.into()
    }

    fn has_hooks(&self, hook: Hook) -> bool {
        self.hooks.borrow().iter().any(|(h, _)| *h == hook)
    }

    fn emit(&self, hook: Hook, event: impl FnOnce() -> JsValue) {
        if !self.has_hooks(hook) {
            return;
        }
        let event = event();
        // Copied first: a hook may add or remove hooks.
        let fns: Vec<Function> =
            self.hooks.borrow().iter().filter(|(h, _)| *h == hook).map(|(_, f)| f.clone()).collect();
        for f in fns {
            // A hook that throws does not change the call.
            let _ = f.call1(&JsValue::UNDEFINED, &event);
        }
    }
}

/// What the attempt loop asks `send.js` to do (the codes it compares with; a read is
/// asked by [`Exchange::head`]'s limit, and a call done is [`Exchange::body`]'s request id).
const DONE: u32 = 1;
const WAIT: u32 = 2;
const FAIL: u32 = 3;

/// One call's exchange with the API, as `send.js` drives it: the request, the core's
/// attempt loop ([`Attempts`]) and what the last step said. `send.js` frees it when the
/// call settles.
#[wasm_bindgen(skip_typescript)]
pub struct Exchange {
    client: Rc<Inner>,
    attempts: Attempts<Request>,
    /// The attempt being made (1 for the first; 0 before it).
    attempt: u32,
    /// When it was sent (only read when a response hook is listening).
    started: f64,
    /// What the attempt loop said last.
    action: Action,
    /// Why the last attempt got no answer (the error's `cause`).
    cause: Option<JsValue>,
    /// The last answer's request id as JavaScript gets it (`null` without one).
    request_id: JsValue,
}

impl Exchange {
    fn new(client: &Rc<Inner>, req: Request) -> Exchange {
        Exchange {
            client: client.clone(),
            attempts: Attempts::new(req, js_sys::Math::random),
            attempt: 0,
            started: 0.0,
            action: Action::Done,
            cause: None,
            request_id: JsValue::NULL,
        }
    }

    /// The code of `action` for `send.js`, which is kept for the getters that follow it.
    fn act(&mut self, action: Action) -> u32 {
        let code = match action {
            Action::Read { .. } => 0,
            Action::Done => DONE,
            Action::Wait(_) => WAIT,
            Action::Fail(_) => FAIL,
            Action::Send(_) => unreachable!("sending() asks for the next attempt"),
        };
        self.action = action;
        code
    }

    fn request_event(&self) -> RequestEvent<'_> {
        let req = self.attempts.request();
        RequestEvent {
            method: req.method,
            path: &req.path,
            attempt: self.attempt,
            idempotency_key: req.idempotency_key.as_deref(),
        }
    }

    /// The answer is read (or refused): the response hook.
    fn answered(&self) {
        self.client.emit(Hook::Response, || {
            let RequestEvent { method, path, attempt, idempotency_key } = self.request_event();
            js::to_js(&ResponseEvent {
                method,
                path,
                attempt,
                idempotency_key,
                status_code: self.attempts.status(),
                request_id: self.attempts.request_id(),
                elapsed_ms: js::now_ms() - self.started,
            })
        });
    }
}

#[wasm_bindgen]
impl Exchange {
    /// Before each attempt (the first, when the exchange is made; the next ones, after a
    /// wait): the request hook.
    pub fn sending(&mut self) {
        let action = if self.attempt == 0 { self.attempts.start() } else { self.attempts.next(Seen::Waited) };
        if let Action::Send(n) = action {
            self.attempt = n;
        }
        self.cause = None;
        if self.client.has_hooks(Hook::Response) {
            self.started = js::now_ms();
        }
        self.client.emit(Hook::Request, || js::to_js(&self.request_event()));
    }

    /// An answer's head: its status, its headers and whether it is a browser's opaque
    /// redirect (status 0); the headers every answer is asked for come as their values
    /// (one crossing each fewer), the others are read from `headers` when the core asks.
    /// Returns how to read the body: at most this many bytes, counted as it streams in, or
    /// (negative) at once; 0: not at all, the call fails ([`Exchange::error`]).
    pub fn head(
        &mut self,
        status: u16,
        headers: web_sys::Headers,
        opaque_redirect: bool,
        request_id: JsValue,
        content_length: Option<String>,
        content_encoding: Option<String>,
    ) -> f64 {
        let headers = gloo_net::http::Headers::from_raw(headers);
        let given = request_id.as_string();
        let redacted = given.as_deref().map(|id| self.attempts.request().redact(id));
        // The string JavaScript gave, when nothing was cut from it.
        self.request_id = match (&given, &redacted) {
            (Some(g), Some(r)) if g == r => request_id,
            (_, Some(r)) => JsValue::from_str(r),
            _ => JsValue::NULL,
        };
        let header = |name: &str| match name {
            "content-length" => content_length.clone(),
            "content-encoding" => content_encoding.clone(),
            _ => headers.get(name),
        };
        let next = self.attempts.next(Seen::Head {
            status,
            opaque_redirect,
            request_id: redacted.as_deref(),
            header: &header,
        });
        let read = match next {
            Action::Read { limit, whole: true } => -(limit as f64),
            Action::Read { limit, whole: false } => limit as f64,
            _ => {
                self.answered();
                0.0
            }
        };
        self.act(next);
        read
    }

    /// The body, read within the limit: its text, and for a 2xx `JSON.parse` of it
    /// (`undefined` when it is not JSON). Returns the next action's code, or (the call is
    /// done) the answer's request id for `lastResponse`: a string or `null` (one crossing
    /// fewer).
    pub fn body(&mut self, text: JsValue, parsed: &JsValue) -> JsValue {
        let status = self.attempts.status();
        let list = self.attempts.request().page.is_some();
        let shape = if (200..300).contains(&status) { shape_of(parsed, list) } else { Shape::Other };
        let next = self.attempts.next(Seen::Body { shape, text: &|| text.as_string().unwrap_or_default() });
        self.answered();
        match next {
            Action::Done => self.request_id.clone(),
            next => self.act(next).into(),
        }
    }

    /// The body went past the limit while it was read.
    pub fn overflow(&mut self) -> u32 {
        let next = self.attempts.next(Seen::Overflow);
        self.answered();
        self.act(next)
    }

    /// The attempt got no answer: its timeout fired (`timeout`), or `fetch` or the body read
    /// failed (`cause`).
    #[wasm_bindgen(js_name = noAnswer)]
    pub fn no_answer(&mut self, timeout: bool, cause: JsValue) -> u32 {
        self.cause = Some(cause);
        let outcome = if timeout { Outcome::Timeout } else { Outcome::Network };
        let next = self.attempts.next(Seen::NoAnswer(outcome));
        self.act(next)
    }

    /// How long to wait before the next attempt (`WAIT`), in milliseconds.
    #[wasm_bindgen(getter)]
    pub fn delay(&self) -> f64 {
        match self.action {
            Action::Wait(ms) => ms,
            _ => 0.0,
        }
    }

    /// The error the call ends with (`FAIL`).
    pub fn error(&mut self) -> JsValue {
        match std::mem::replace(&mut self.action, Action::Done) {
            Action::Fail(f) => {
                let FinalError { error, raw } = *f;
                js::error(&error, raw.as_ref().map(js::to_js), self.cause.take())
            }
            _ => js::error(&ClientError::new(crate::client::ErrorKind::Api, "no error"), None, None),
        }
    }

    /// The error of a call the caller's signal aborted, its cause the signal's reason.
    pub fn aborted(&self, reason: JsValue) -> JsValue {
        js::error(&ClientError::connection("aborted", 0.0, None), None, Some(reason))
    }
}

/// What a parsed 2xx body is, for the core's success rule (`data` looked at for lists only).
fn shape_of(body: &JsValue, list: bool) -> Shape {
    if body.is_object() && !js_sys::Array::is_array(body) {
        Shape::Object { data_array: list && js_sys::Array::is_array(&js::get(body, "data")) }
    } else {
        Shape::Other
    }
}

/// Per-call options as JSON for the core (`signal` as `true`), and the signal itself.
fn call_options(opts: &JsValue) -> Result<(Json, Option<AbortSignal>), ClientError> {
    let mut json = js::to_json(opts, "opts")?;
    let signal = if opts.is_object() { js::get(opts, "signal") } else { JsValue::UNDEFINED };
    if signal.is_undefined() || signal.is_null() {
        if let Json::Object(m) = &mut json {
            m.shift_remove("signal");
        }
        return Ok((json, None));
    }
    let signal = signal
        .dyn_into::<AbortSignal>()
        .map_err(|_| ClientError::invalid("signal", "Invalid signal: must be an AbortSignal"))?;
    if let Json::Object(m) = &mut json {
        m.insert("signal".into(), Json::Bool(true));
    }
    Ok((json, Some(signal)))
}
