// The objects a list call gives: the list request (a thenable of the first page, an async
// iterable of every item, `toArray`), its pages and the iterator of a walk. They hold the
// items; every fetch and every decision (cursors, the end of a list, circles, `toArray`'s
// bound) is the ListCall's, PageState's and Walker's of src/wasm/list.rs. (JavaScript objects,
// not Rust ones: see src/wasm/list.rs.)

// A walk's step codes besides an item's index (Walker.step).
const FIRST = -1;
const END = -3;
const NEXT = 0;
const PREVIOUS = 1;

/** The list request for a ListCall. */
export function listRequest(call) {
  return new ListRequest(call);
}

let stateOf;

class Page {
  #call;
  #state;

  constructor(call, { data, hasMore, lastResponse, state }) {
    this.object = 'list';
    this.data = data;
    this.hasMore = hasMore;
    // `{ statusCode, requestId, headers }` of the answer (`null` for an empty page that needed no request).
    Object.defineProperty(this, 'lastResponse', { value: lastResponse, configurable: true });
    this.#call = call;
    this.#state = state;
  }

  static {
    stateOf = (page) => page.#state;
  }

  /** The page after this one's last item (older items); empty when there is none. */
  nextPage() {
    return this.#neighbour(NEXT);
  }

  /** The page before this one's first item (newer items); empty when there is none. */
  previousPage() {
    return this.#neighbour(PREVIOUS);
  }

  #neighbour(which) {
    if (!this.#state) return Promise.reject(new TypeError('this page was freed: free() ends its navigation'));
    return this.#call.neighbour(this.#state, which).then((raw) => new Page(this.#call, raw));
  }

  /** Releases the page's place in its list (its cursors) now rather than when it is collected. */
  free() {
    const state = this.#state;
    this.#state = null;
    state?.free();
  }

  [Symbol.dispose]() {
    this.free();
  }

  toJSON() {
    return { object: 'list', data: this.data, hasMore: this.hasMore };
  }
}

class ListRequest {
  #call;
  #first;

  constructor(call) {
    this.#call = call;
  }

  /** The first page, fetched once; a failure is forgotten, so that a later await tries again. */
  #firstPage() {
    if (!this.#first) {
      const p = this.#call.first().then((body) => new Page(this.#call, this.#call.firstPage(body)));
      this.#first = p;
      p.catch(() => {
        if (this.#first === p) this.#first = undefined;
      });
    }
    return this.#first;
  }

  then(onFulfilled, onRejected) {
    return this.#firstPage().then(onFulfilled, onRejected);
  }

  catch(onRejected) {
    return this.#firstPage().catch(onRejected);
  }

  finally(onFinally) {
    return this.#firstPage().finally(onFinally);
  }

  /** A walk over every item. */
  [Symbol.asyncIterator]() {
    return new ListIterator(this.#call, () => this.#firstPage());
  }

  /** Forgets the first page, if fetched (pages and walks handed out keep working). */
  free() {
    this.#first = undefined;
  }

  [Symbol.dispose]() {
    this.free();
  }

  /** Up to `max` items (required, at most 10,000). */
  async toArray(opts) {
    const max = this.#call.toArrayMax(opts);
    const out = [];
    for await (const item of this) {
      out.push(item);
      if (out.length >= max) break;
    }
    return out;
  }
}

/** The async iterator of a list's items. Calls to `next()` are queued, so concurrent calls each get their own item, in order. */
class ListIterator {
  #call;
  #walker;
  #firstPage;
  #data = [];
  #queue = Promise.resolve();
  #waiting = 0;

  constructor(call, firstPage) {
    this.#call = call;
    this.#walker = call.walk();
    this.#firstPage = firstPage;
  }

  next() {
    // Most items are in the page at hand: answered at once.
    if (this.#waiting === 0 && this.#walker) {
      const i = this.#walker.ready();
      if (i >= 0) return Promise.resolve({ done: false, value: this.#data[i] });
    }
    this.#waiting++;
    const p = this.#queue.then(() => this.#step()).finally(() => { this.#waiting--; });
    this.#queue = p.catch(() => {});
    return p;
  }

  async #step() {
    for (;;) {
      // (Ended, also while a page was awaited.)
      if (!this.#walker) return { done: true, value: undefined };
      const i = this.#walker.step();
      if (i >= 0) return { done: false, value: this.#data[i] };
      if (i === END) {
        this.#end();
        return { done: true, value: undefined };
      }
      if (i === FIRST) {
        let page = await this.#firstPage();
        // A first page freed by its holder: fetched again for the walk.
        if (!stateOf(page)) page = new Page(this.#call, this.#call.firstPage(await this.#call.first()));
        if (!this.#walker) continue;
        this.#data = page.data;
        this.#walker.loaded(stateOf(page));
      } else {
        const data = await this.#walker.fetch();
        if (this.#walker) this.#data = data;
      }
    }
  }

  /** The walk is over: its Walker (its cursors) released at once, not when collected. */
  #end() {
    const walker = this.#walker;
    this.#walker = null;
    this.#data = [];
    walker?.free();
  }

  return(value) {
    this.#end();
    return Promise.resolve({ done: true, value });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
