// The `QbitPay` client facade. Thin on purpose: it owns what only JavaScript can do
// (fetch, timers, AbortSignal, promises, iteration) and asks the Rust core (the wasm glue
// `qbitpay_client`, one export: `call(json) -> json`, see src/wasm/client.rs) for every
// decision: validation, the request to send, whether and when to retry, the error for an
// answer, pagination cursors.
import { QbitPayError, errorClasses } from './errors.mjs';

/** @param {any} glue the initialised wasm-bindgen module of `qbitpay_client` */
export function clientApi(glue) {
  // JSON serialised once and spliced into core calls as it is (the client's options, a call's args).
  class Raw { constructor(json) { this.json = json; } }
  // The core: `core('name', ...args)` → the parsed answer.
  const core = (...args) => {
    let s = '[';
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      s += (i ? ',' : '') + (a instanceof Raw ? a.json : a === undefined ? 'null' : JSON.stringify(a));
    }
    return JSON.parse(glue.call(s + ']'));
  };
  const TABLE = core('resources');

  const toError = (f, extra) => new (errorClasses[f.kind] || QbitPayError)(f.message, { ...f, ...extra });
  // A request or `{error}` from the core: throws the error.
  const plan = (p) => {
    if (p && p.error) throw toError(p.error);
    return p;
  };
  const aborted = (signal) => toError(core('failure', 'aborted', 0), { cause: signal.reason });

  const random16 = () => {
    const c = globalThis.crypto;
    const b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = (Math.random() * 256) | 0;
    return Array.from(b);
  };

  function runtime() {
    const g = globalThis;
    if (g.Deno && g.Deno.version) return ['deno', g.Deno.version.deno];
    if (g.Bun) return ['bun', g.Bun.version];
    if (g.navigator && g.navigator.userAgent === 'Cloudflare-Workers') return ['workerd', ''];
    if (g.process && g.process.versions && g.process.versions.node) return ['node', g.process.versions.node];
    if (g.document !== undefined) return ['browser', (g.navigator && g.navigator.userAgent) || ''];
    return ['unknown', ''];
  }

  // `[id, params, opts]` for the core, as plain JSON data (checked here so that a BigInt or
  // a cycle is an invalid request, not a crash); the signal stays here (the core sees `true`).
  function encodeArgs(id, params, opts) {
    const o = opts == null || typeof opts !== 'object' ? opts : { ...opts, signal: opts.signal == null ? undefined : true };
    try {
      return new Raw(JSON.stringify([id === undefined ? null : id, params === undefined ? null : params, o === undefined ? null : o]));
    } catch (e) {
      throw new errorClasses.invalid_request('params could not be serialised as JSON', { param: 'params', cause: e });
    }
  }

  function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      const onAbort = () => { clearTimeout(t); reject(aborted(signal)); };
      const t = setTimeout(() => { if (signal) signal.removeEventListener('abort', onAbort); resolve(); }, ms);
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // One call: attempts, retries and backoff as the core decides. Resolves with the parsed body.
  // `url` overrides `p.url` (a kept request with this call's id, see `method`).
  async function send(ctx, p, signal, url = p.url) {
    const fetchFn = ctx.fetch || globalThis.fetch; // looked up at call time
    if (typeof fetchFn !== 'function') throw toError(core('failure', 'network', 0), { message: 'No fetch: pass new QbitPay({ fetch })' });
    for (let attempts = 1; ; attempts++) {
      if (signal && signal.aborted) throw aborted(signal);
      let res, text, status, cause, timedOut = false;
      try {
        // One attempt: settles with the response once its body is read, or rejects when the
        // fetch fails, after `timeoutMs`, or as soon as `signal` aborts (even when a custom
        // fetch ignores the signal it is given). No listener on our own controller: the timer
        // and `signal` abort it and reject directly.
        res = await new Promise((resolve, reject) => {
          const ac = new AbortController();
          const done = () => { clearTimeout(timer); if (signal) signal.removeEventListener('abort', stop); };
          const failed = (e) => { done(); reject(e); };
          const stop = () => { ac.abort(); failed(ac.signal.reason); };
          const timer = setTimeout(() => { timedOut = true; stop(); }, p.timeoutMs);
          if (signal) signal.addEventListener('abort', stop, { once: true });
          try {
            // headers copied: a fetch wrapper may add to them, and a kept request's are shared
            Promise.resolve(fetchFn(url, { method: p.method, headers: { ...p.headers }, body: p.body, signal: ac.signal }))
              .then((r) => r.text().then((t) => { done(); text = t; resolve(r); }))
              .catch(failed);
          } catch (e) { failed(e); }
        });
        status = res.status;
      } catch (e) {
        if (signal && signal.aborted) throw aborted(signal);
        status = timedOut ? -1 : 0;
        cause = e;
      }
      if (status >= 200 && status < 300) {
        try { return JSON.parse(text); } catch { /* the core makes it an API error */ }
      }
      const retryAfter = res ? res.headers.get('retry-after') : null;
      const wait = core('delay', attempts, p.maxRetries, status, retryAfter, Math.random());
      if (wait < 0) {
        if (status <= 0) throw toError(core('failure', status ? 'timeout' : 'network', p.timeoutMs), { cause });
        let raw = text;
        try { raw = JSON.parse(text); } catch { /* keep the text */ }
        throw toError(core('error', ctx.client, status, text, res.headers.get('request-id'), retryAfter), { raw });
      }
      await sleep(wait, signal);
    }
  }

  // ---- Lists ----------------------------------------------------------------------------

  const EMPTY = Object.freeze([]);

  class Page {
    #nav;
    constructor(data, hasMore, nav) {
      this.object = 'list';
      this.data = data;
      this.hasMore = hasMore;
      this.#nav = nav;
    }
    /** The page after this one's last item (older items); empty when there is none. */
    nextPage() { return this.#nav('next', this); }
    /** The page before this one's first item (newer items); empty when there is none. */
    previousPage() { return this.#nav('prev', this); }
  }

  // The page machinery of one list call: loads a page for a plan, finds a page's neighbour.
  function lister(ctx, resource, args, signal) {
    const dirs = new WeakMap();
    const load = async (p) => {
      const body = await send(ctx, p, signal);
      const data = body && Array.isArray(body.data) ? body.data : EMPTY;
      const hm = body && (body.has_more !== undefined ? body.has_more : body.hasMore);
      const page = new Page(data, core('hasMore', p.limit, data.length, typeof hm === 'boolean' ? hm : null), go);
      dirs.set(page, p.dir);
      return page;
    };
    const dirOf = (page) => dirs.get(page) || 'f';
    // The plan for the neighbour of `page` (`which`: next, prev, walk), or null.
    const neighbour = (which, page) => {
      const d = page.data;
      return plan(core('page', ctx.client, resource, args, which, dirOf(page), page.hasMore,
        d.length ? String(d[0].id) : null, d.length ? String(d[d.length - 1].id) : null));
    };
    const go = async (which, page) => {
      const p = neighbour(which, page);
      return p ? load(p) : new Page(EMPTY, false, go);
    };
    return { load, neighbour, dirOf };
  }

  class ListPromise {
    #first; #start; #l;
    constructor(ctx, resource, params, opts) {
      const signal = opts && opts.signal;
      // Validated now, sent on first use.
      let args, p, err;
      try {
        args = encodeArgs(null, params, opts);
        p = plan(core('prepare', ctx.client, resource, 'list', args, null));
      } catch (e) { err = e; }
      this.#l = lister(ctx, resource, args, signal);
      this.#start = () => (err ? Promise.reject(err) : this.#l.load(p));
    }
    // The first page, fetched once and shared; a failed fetch is forgotten so a later await retries.
    #page() {
      return this.#first || (this.#first = this.#start().catch((e) => { this.#first = null; throw e; }));
    }
    then(onFulfilled, onRejected) { return this.#page().then(onFulfilled, onRejected); }
    catch(onRejected) { return this.#page().catch(onRejected); }
    finally(onFinally) { return this.#page().finally(onFinally); }

    /** Every item, fetching each next page only when the previous one is used up. */
    [Symbol.asyncIterator]() {
      let page = null, i = 0, done = false, chain = Promise.resolve();
      const step = async () => {
        for (;;) {
          if (done) return { done: true, value: undefined };
          if (!page) page = await this.#page();
          const n = page.data.length;
          if (i < n) {
            // A backward walk (endingBefore) yields each page oldest first, moving away from the cursor.
            const v = page.data[this.#l.dirOf(page) === 'b' ? n - 1 - i : i];
            i++;
            return { done: false, value: v };
          }
          const p = this.#l.neighbour('walk', page);
          if (!p) { done = true; continue; }
          page = await this.#l.load(p);
          i = 0;
        }
      };
      return {
        // Calls are queued, so concurrent next() calls each get their own item in order.
        next: () => (chain = chain.then(step, step)),
        return: (value) => { done = true; return Promise.resolve({ done: true, value }); },
        [Symbol.asyncIterator]() { return this; },
      };
    }

    /** Up to `max` items (required, at most 10,000). */
    async toArray(opts) {
      const max = core('toArrayMax', opts === undefined ? null : opts);
      if (typeof max !== 'number') throw toError(max.error);
      const out = [];
      for await (const item of this) {
        out.push(item);
        if (out.length >= max) break;
      }
      return out;
    }
  }

  function method(ctx, resource, op, [shape, verb]) {
    // Randomness only for the Idempotency-Key of a POST or PUT.
    const rnd = verb === 'GET' ? () => null : random16;
    // A GET without parameters: the core marks its request (`idAt`) as the same for every
    // call without options but for the `/{id}`, and says which ids go there as they are
    // (`plainId`, e.g. every id the API hands out). Kept (cut at the id) from such a call;
    // later calls with such ids need no core call. Any other id or options: `prepare`.
    let tpl;
    const call = async (id, params, opts) => {
      const p = plan(core('prepare', ctx.client, resource, op, encodeArgs(id, params, opts), rnd()));
      if (p.idAt) {
        const [n, k, plainId] = p.idAt, u = p.url;
        tpl = [p, u.slice(0, u.length - n - k), u.slice(u.length - k), new RegExp(plainId)];
      }
      return send(ctx, p, opts && opts.signal);
    };
    const read = (id, opts) => {
      if (tpl && opts == null) {
        if (shape === 'none') return send(ctx, tpl[0], undefined);
        if (typeof id === 'string' && tpl[3].test(id)) return send(ctx, tpl[0], undefined, tpl[1] + '/' + id + tpl[2]);
      }
      return call(id, undefined, opts);
    };
    switch (shape) {
      case 'list': return (params, opts) => new ListPromise(ctx, resource, params, opts);
      case 'none': return (opts) => read(undefined, opts);
      case 'id': return read;
      case 'idParams': return (id, params, opts) => call(id, params, opts);
      default: return (params, opts) => call(undefined, params, opts);
    }
  }

  class QbitPay {
    /**
     * @param {{apiKey?: string, accessToken?: string, baseUrl?: string, timeoutMs?: number,
     *          maxRetries?: number, fetch?: typeof fetch, dangerouslyAllowBrowser?: boolean}} [options]
     */
    constructor(options) {
      const o = options == null ? {} : options;
      const [rt, rtv] = runtime();
      const opts = typeof o === 'object' ? { ...o, fetch: o.fetch === undefined ? undefined : typeof o.fetch } : o;
      // The validated options, passed to the (stateless) core with every call. Kept in this
      // closure only: the credential is never a property of the client object.
      let client;
      try {
        client = new Raw(JSON.stringify([opts, globalThis.document !== undefined, rt, rtv || '']));
      } catch (e) {
        throw new errorClasses.invalid_request('QbitPay options could not be serialised as JSON', { param: 'options', cause: e });
      }
      plan(core('configure', client));
      const ctx = { client, fetch: o.fetch };
      for (const name of Object.keys(TABLE)) {
        const r = {};
        for (const op of Object.keys(TABLE[name])) r[op] = method(ctx, name, op, TABLE[name][op]);
        Object.defineProperty(this, name, { value: Object.freeze(r), enumerable: true });
      }
    }
  }

  return { QbitPay };
}
