//! The request loop every method of the client runs: the core builds the request and its
//! attempt loop decides (`client::retry::Attempts`); this file performs what it says: calls
//! `fetch` (the global one, or the `fetch` option), arms each attempt's timeout and the
//! caller's `AbortSignal` (web-sys), reads the body (at once, or as a counted stream), sleeps
//! between attempts (`setTimeout`) and runs the hooks.
//!
//! A call is an async function run by wasm-bindgen-futures: each promise it waits for is a
//! [`Settled`] (settle.rs), and nothing of it outlives the call: the timers and listeners it
//! arms are JavaScript functions (settle.rs's settling function bound to a slot: the
//! attempt's [`Stop`], a wait's two outcomes), removed when the attempt ends.

use super::js;
use super::settle::{Settled, Stop};
use crate::client::page::Cursor;
use crate::client::request::Call;
use crate::client::retry::{Action, Attempts, FinalError, Outcome, Seen, Shape};
use crate::client::{ClientError, Config, Json, Request};
use crate::spec::schema::{Op, Resource};
use js_sys::{Function, JsString, Object, Promise};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortController, AbortSignal};

/// The two hook points of `qp.on(name, hook)`.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Hook {
    Request,
    Response,
}

/// What a client holds: its validated options, the `fetch` option, the hooks.
pub(crate) struct Inner {
    config: Config,
    fetch: Option<Function>,
    hooks: RefCell<Vec<(Hook, Function)>>,
    /// The headers of recent requests (all but the `Idempotency-Key`) as JavaScript objects:
    /// the same for most calls, so each set is made once and copied for each call.
    headers: RefCell<Vec<(HeaderList, Object)>>,
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

/// A call's answer: the parsed body and what `lastResponse` says of it.
pub(crate) struct Answer {
    pub body: JsValue,
    pub last_response: JsValue,
}

impl Inner {
    pub fn new(config: Config, fetch: Option<Function>) -> Inner {
        Inner { config, fetch, hooks: RefCell::new(Vec::new()), headers: RefCell::new(Vec::new()) }
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
    /// and the body as a JavaScript string when it is the caller's own JSON text.
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
            Ok((req, _, signal, body)) => {
                let client = self.clone();
                js::promise(async move {
                    let a = client.send(req, signal, body).await?;
                    js::define_hidden(&a.body, "lastResponse", &a.last_response);
                    Ok(a.body)
                })
            }
            Err(e) => Promise::reject(&js::error(&e, None, None)),
        }
    }

    /// Sends `req`, doing what the core's attempt loop says: send, read, wait, done or fail.
    /// `body`: its body as a JavaScript string, when the caller had it.
    pub async fn send(
        &self,
        req: Request,
        signal: Option<AbortSignal>,
        body: Option<JsValue>,
    ) -> Result<Answer, JsValue> {
        let signal = signal.as_ref();
        // fetch's init: the same for every attempt but its `signal`. The API never
        // redirects: a redirect is an answer the core refuses, and nothing is sent to where it
        // points (Node, Deno and workerd give the 3xx itself; browsers an opaque response of
        // status 0).
        let init = Object::new();
        js::set(&init, "method", &js::with_key(req.method, JsValue::clone));
        let headers = self.headers_of(&req);
        if let Some(key) = &req.idempotency_key {
            js::set(&headers, "Idempotency-Key", &js::idempotency_key(key));
        }
        js::set(&init, "headers", &headers);
        if let Some(body) = body.or_else(|| req.body.as_deref().map(JsValue::from_str)) {
            js::set(&init, "body", &body);
        }
        js::set(&init, "redirect", &js::with_key("manual", JsValue::clone));
        let x = Exchange {
            url: JsValue::from_str(&req.url),
            init,
            attempts: Attempts::new(req, js_sys::Math::random),
        };
        x.run(self, signal).await
    }

    /// `req`'s headers, a fresh object copied from the cache of recent ones (their values
    /// are the client's own: compared by address), without the `Idempotency-Key`.
    fn headers_of(&self, req: &Request) -> Object {
        let listed = || req.headers.iter().filter(|(k, _)| *k != "Idempotency-Key");
        let same = |a: &[(&str, Rc<str>)]| {
            a.len() == listed().count()
                && a.iter().zip(listed()).all(|(x, y)| x.0 == y.0 && Rc::ptr_eq(&x.1, &y.1))
        };
        let mut cache = self.headers.borrow_mut();
        let made = match cache.iter().find(|(k, _)| same(k)) {
            Some((_, o)) => o.clone(),
            None => {
                let list: HeaderList = listed().cloned().collect();
                let o = Object::new();
                for (k, v) in &list {
                    js::set(&o, k, &JsValue::from_str(v));
                }
                if cache.len() >= 4 {
                    cache.remove(0);
                }
                cache.push((list, o.clone()));
                o
            }
        };
        // A copy: a `fetch` option may add to what it is given.
        Object::assign(&Object::new(), &made)
    }

    fn has_hooks(&self, hook: Hook) -> bool {
        self.hooks.borrow().iter().any(|(h, _)| *h == hook)
    }

    fn emit(&self, hook: Hook, event: impl FnOnce() -> JsValue) {
        if self.has_hooks(hook) {
            self.call_hooks(hook, &event());
        }
    }

    /// The hooks of `hook`, called with `event` (one copy for both hook points).
    #[inline(never)]
    fn call_hooks(&self, hook: Hook, event: &JsValue) {
        // Copied first: a hook may add or remove hooks.
        let fns: Vec<Function> =
            self.hooks.borrow().iter().filter(|(h, _)| *h == hook).map(|(_, f)| f.clone()).collect();
        for f in fns {
            // A hook that throws does not change the call; one that rejects (an async hook)
            // is no unhandled rejection, which ends a Node process.
            if let Ok(r) = f.call1(&JsValue::UNDEFINED, event) {
                if r.is_object() && js::get(&r, "then").is_function() {
                    js::ignore(r.unchecked_ref());
                }
            }
        }
    }
}

/// One call's exchange with the API: `fetch`'s arguments and the core's attempt loop.
struct Exchange {
    url: JsValue,
    init: Object,
    attempts: Attempts<Request>,
}

/// How an attempt that got an answer ended: the call's answer, or the next action.
enum Attempted {
    Answer(Answer),
    Next(Action),
}

/// Why an attempt got no answer.
enum NoAnswer {
    /// The caller's signal: final at once, with its reason as the cause.
    Aborted(JsValue),
    Timeout(JsValue),
    Network(JsValue),
}

impl Exchange {
    /// The attempts, as the core says: send, read, wait, done or fail.
    async fn run(mut self, client: &Inner, signal: Option<&AbortSignal>) -> Result<Answer, JsValue> {
        let mut action = self.attempts.start();
        // Why the last attempt got no answer (the error's `cause`).
        let mut cause = None;
        loop {
            action = match action {
                Action::Send(n) => {
                    if let Some(s) = signal.filter(|s| s.aborted()) {
                        return Err(aborted(s.reason()));
                    }
                    cause = None;
                    client.emit(Hook::Request, || request_event(self.attempts.request(), n));
                    match self.attempt(client, n, signal).await {
                        Ok(Attempted::Answer(a)) => return Ok(a),
                        Ok(Attempted::Next(next)) => next,
                        Err(NoAnswer::Aborted(reason)) => return Err(aborted(reason)),
                        Err(NoAnswer::Timeout(c)) => {
                            cause = Some(c);
                            self.attempts.next(Seen::NoAnswer(Outcome::Timeout))
                        }
                        Err(NoAnswer::Network(c)) => {
                            cause = Some(c);
                            self.attempts.next(Seen::NoAnswer(Outcome::Network))
                        }
                    }
                }
                Action::Wait(ms) => {
                    sleep(ms, signal).await?;
                    self.attempts.next(Seen::Waited)
                }
                Action::Fail(f) => {
                    let FinalError { error, raw } = *f;
                    return Err(js::error(&error, raw.as_ref().map(js::to_js), cause));
                }
                Action::Read { .. } | Action::Done => unreachable!("asked for within an attempt only"),
            };
        }
    }

    /// Attempt `n`, bounded by the request's timeout and the caller's signal (both abort
    /// the attempt's own controller, which stops `fetch` and the body read).
    async fn attempt(
        &mut self,
        client: &Inner,
        n: u32,
        signal: Option<&AbortSignal>,
    ) -> Result<Attempted, NoAnswer> {
        // Aborted since the loop looked (by a request hook): a listener added now never fires.
        if let Some(s) = signal.filter(|s| s.aborted()) {
            return Err(NoAnswer::Aborted(s.reason()));
        }
        let controller = AbortController::new().map_err(NoAnswer::Network)?;
        // The timeout and the caller's signal call `stop.trigger`, which aborts the controller.
        // Another library's fetch (the option, or one put in place of the global one) may
        // ignore its signal: what it and its Response give is also ended by the stop.
        let stop = Stop::new(&controller);
        let trigger = &stop.trigger;
        let timer = js::set_timeout(trigger, self.attempts.request().timeout_ms);
        if let Some(s) = signal {
            let _ = s.add_event_listener_with_callback("abort", trigger);
        }
        let result = self.exchange(client, n, &controller, &stop).await;
        js::clear_timeout(&timer);
        if let Some(s) = signal {
            let _ = s.remove_event_listener_with_callback("abort", trigger);
        }
        result.map_err(|cause| match signal {
            Some(s) if s.aborted() => NoAnswer::Aborted(s.reason()),
            _ if controller.signal().aborted() => NoAnswer::Timeout(controller.signal().reason()),
            _ => NoAnswer::Network(cause),
        })
    }

    /// `fetch`, then the answer's head and body through the core; rejects when either
    /// fails or the attempt's controller aborts.
    async fn exchange(
        &mut self,
        client: &Inner,
        n: u32,
        controller: &AbortController,
        stop: &Stop,
    ) -> Result<Attempted, JsValue> {
        let started = if client.has_hooks(Hook::Response) { js::now_ms() } else { 0.0 };
        js::set(&self.init, "signal", &controller.signal());
        // Either may answer with a value rather than a Promise (taken as `Promise.resolve` takes it).
        let response = match &client.fetch {
            None => js::global_fetch(&self.url, &self.init)?,
            Some(f) => f.call2(&JsValue::UNDEFINED, &self.url, &self.init)?.unchecked_into(),
        };
        let response = Settled::new(&response, Some(stop)).await?;
        // Anything but a Response (a forgotten `return`, a test's partial mock put in place of
        // the global `fetch`) is a failed attempt, not an exception thrown through the module
        // by the getters below. The values looked at are the ones used.
        let status = js::get(&response, "status").as_f64();
        let raw_headers = js::get(&response, "headers");
        let get = js::get(&raw_headers, "get");
        let Some(status) = status.filter(|_| get.is_function()) else {
            return Err(js_sys::TypeError::new("fetch answered with something that is not a Response").into());
        };
        let status = status as u16;
        let raw_headers: web_sys::Headers = raw_headers.unchecked_into();
        // Duck-typed: a fetch of another library (node-fetch) answers with its own Response class.
        let response: web_sys::Response = response.unchecked_into();
        // The first lookup: headers whose `get` throws are a failed attempt (the core's
        // lookups below would throw through the module).
        let given = js::header(&raw_headers, "request-id")?;
        let given_text = given.as_string();
        let redacted = given_text.as_deref().map(|id| self.attempts.request().redact(id));
        // The string JavaScript gave, when nothing was cut from it.
        let request_id = match &redacted {
            Some(r) if given_text.as_ref() == Some(r) => given,
            Some(r) => JsValue::from_str(r),
            None => JsValue::NULL,
        };
        let opaque_redirect =
            status == 0 && js::get(&response, "type").as_string().as_deref() == Some("opaqueredirect");
        // Headers whose `get` is not this realm's own (another library's, a subclass's, a
        // test's mock) may throw for a name the first lookup did not ask: the attempt fails,
        // as when the first one throws.
        let native = js::is_native_headers_get(&get);
        let headers = gloo_net::http::Headers::from_raw(raw_headers.clone());
        let thrown = Cell::new(None);
        let header = |name: &str| match native {
            true => headers.get(name),
            false => js::header_named(&raw_headers, name).map_err(|e| thrown.set(Some(e))).ok()?.as_string(),
        };
        let mut next = self.attempts.next(Seen::Head {
            status,
            opaque_redirect,
            request_id: redacted.as_deref(),
            header: &header,
        });
        if let Some(e) = thrown.take() {
            return Err(e);
        }
        let mut body = JsValue::UNDEFINED;
        if let Action::Read { limit, whole } = next {
            next = match read_body(&response, limit, whole, stop).await? {
                None => {
                    controller.abort();
                    self.attempts.next(Seen::Overflow)
                }
                Some(text) => 'read: {
                    let t = text.unchecked_ref::<JsString>();
                    // At most what the core reads of it: nothing more is copied into the module.
                    let head = |n: usize| {
                        let end = n.min(u32::MAX as usize) as u32;
                        t.slice(0, end).as_string().unwrap_or_default()
                    };
                    // A 2xx body that holds more values than a parse may make: refused unparsed.
                    let parse = match (200..300).contains(&status) {
                        true => self
                            .attempts
                            .parse_body(t.length().into(), &head, &|max| js::count_values(t, max)),
                        false => Ok(false),
                    };
                    let shape = match parse {
                        Err(refused) => break 'read refused,
                        Ok(true) => {
                            body = js::json_parse(&text).unwrap_or(JsValue::UNDEFINED);
                            shape_of(&body, self.attempts.request().page.is_some())
                        }
                        Ok(false) => Shape::Other,
                    };
                    self.attempts.next(Seen::Body { shape, text: &head })
                }
            };
        } else {
            // Refused without reading: the connection is closed, not drained.
            controller.abort();
            // Another library's body may not heed the controller.
            let body = js::get(&response, "body");
            if js::get(&body, "cancel").is_function() {
                if let Ok(p) = body.unchecked_into::<js::Stream>().cancel() {
                    js::ignore(&p);
                }
            }
        }
        client.emit(Hook::Response, || {
            let req = self.attempts.request();
            js::response_event(
                request_event(req, n),
                status,
                self.attempts.request_id(),
                js::now_ms() - started,
            )
        });
        Ok(match next {
            Action::Done => Attempted::Answer(Answer {
                body,
                last_response: js::last_response(status, &request_id, &raw_headers),
            }),
            other => Attempted::Next(other),
        })
    }
}

/// The body as a JavaScript string: at once with `text()` when the core says `whole` (the
/// `fetch` implementation holds it to its declared length), else read as a stream and
/// counted, `None` as soon as it passes `limit` (the stream is cancelled); the bytes stay in
/// JavaScript, decoded chunk by chunk. A Response without a WHATWG stream (another
/// library's `fetch`) is read with `text()`. A stream whose read fails or stops is cancelled
/// (a `fetch` option's may not heed the attempt's signal).
async fn read_body(
    response: &web_sys::Response,
    limit: u64,
    whole: bool,
    stop: &Stop,
) -> Result<Option<JsValue>, JsValue> {
    let stream = if whole { JsValue::UNDEFINED } else { js::get(response, "body") };
    if !js::get(&stream, "getReader").is_function() {
        let text = Settled::new(&response.text()?, Some(stop)).await?;
        // Another library's Response may give anything: a failed attempt, not a throw later.
        if !text.is_string() {
            return Err(js_sys::TypeError::new("fetch answered with a body that is not text").into());
        }
        return Ok(Some(text));
    }
    let reader = stream.unchecked_into::<js::Stream>().get_reader()?;
    let decoder = js::TextDecoder::new()?;
    let mut text = JsString::from("");
    let mut read = 0u64;
    loop {
        let next = match reader.read() {
            Ok(p) => Settled::new(&p, Some(stop)).await,
            Err(e) => Err(e),
        };
        let chunk = match next {
            Ok(chunk) => chunk,
            Err(e) => {
                // Stopped or failed: let go of the stream.
                cancel(&reader);
                return Err(e);
            }
        };
        if js::get(&chunk, "done").is_truthy() {
            return Ok(Some(text.concat(&decoder.decode()).into()));
        }
        let value = js::get(&chunk, "value");
        read += js::get(&value, "byteLength").as_f64().unwrap_or(0.0) as u64;
        if read > limit {
            cancel(&reader);
            return Ok(None);
        }
        text = text.concat(&decoder.decode_chunk(&value, &js::stream_option()));
    }
}

/// Lets go of a body's stream: settled either way (a rejection nobody handles would reach
/// the process).
fn cancel(reader: &js::Reader) {
    if let Ok(p) = reader.unchecked_ref::<js::Stream>().cancel() {
        js::ignore(&p);
    }
}

/// Waits `ms`, or rejects at once with the aborted-call error when `signal` aborts.
async fn sleep(ms: f64, signal: Option<&AbortSignal>) -> Result<(), JsValue> {
    // Aborted during the attempt after its answer was in (by a response hook): its listener
    // is gone, and one added now never fires.
    if let Some(s) = signal.filter(|s| s.aborted()) {
        return Err(aborted(s.reason()));
    }
    let (wait, resolve, reject) = Settled::pending();
    let timer = js::set_timeout(&resolve, ms);
    if let Some(s) = signal {
        let _ = s.add_event_listener_with_callback("abort", &reject);
    }
    let result = wait.await;
    if let Some(s) = signal {
        let _ = s.remove_event_listener_with_callback("abort", &reject);
    }
    if result.is_err() {
        js::clear_timeout(&timer);
        return Err(aborted(signal.map_or(JsValue::UNDEFINED, |s| s.reason())));
    }
    Ok(())
}

fn request_event(req: &Request, attempt: u32) -> JsValue {
    js::request_event(req.method, &req.redact(&req.path), attempt, req.idempotency_key.as_deref())
}

/// The aborted-call error, its cause the signal's reason.
fn aborted(reason: JsValue) -> JsValue {
    js::error(&ClientError::connection("aborted", 0.0, None), None, Some(reason))
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
    let mut json = js::options_to_json(opts, "opts")?;
    let signal = if opts.is_object() { js::get(opts, "signal") } else { JsValue::UNDEFINED };
    if signal.is_undefined() || signal.is_null() {
        // `JSON.stringify` left it out or wrote `null`: absent to the core's check.
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
