// One call's attempts, performed as the core's attempt loop says (src/client/retry.rs, through
// the Exchange of src/wasm/fetch.rs): fetch with a timeout and the caller's signal, read the
// body counted, wait between attempts. Nothing is decided here: each step reports what it saw
// and gets the next action. (JavaScript, not Rust futures: see src/wasm/fetch.rs.)

// The exchange's action codes (a read is asked for by head()'s limit).
const DONE = 1;
const FAIL = 3;

/**
 * @param {import('./fetch').Exchange} x the call's exchange (freed here when the call settles)
 * @param {string} url the request's, and its method, headers (all but the Idempotency-Key,
 *   shared by calls: copied), Idempotency-Key and body (`undefined` without)
 * @param {number} timeoutMs each attempt's
 * @param {typeof fetch | undefined} fetchFn the client's `fetch` option
 * @param {AbortSignal | undefined} signal the caller's
 */
export async function send(x, url, method, headers, idempotencyKey, body, timeoutMs, fetchFn, signal) {
  // The API never redirects: a redirect is an answer the exchange refuses, and nothing is
  // sent to where it points (Node, Deno and workerd give the 3xx itself; browsers an opaque
  // response of status 0).
  const init = body === undefined ? { method, headers: { ...headers }, redirect: 'manual', signal: undefined }
    : { method, headers: { ...headers }, body, redirect: 'manual', signal: undefined };
  if (idempotencyKey !== undefined) init.headers['Idempotency-Key'] = idempotencyKey;
  try {
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw x.aborted(signal.reason);
      // (The exchange made the first attempt's turn.)
      if (attempt > 1) x.sending();
      const controller = new AbortController();
      // The `fetch` option may ignore its signal: what it is awaited for is also rejected
      // when the attempt is stopped (`fail`).
      let fail;
      const raced = fetchFn && ((promise) => new Promise((resolve, reject) => {
        fail = reject;
        promise.then(resolve, reject);
      }));
      // `abort()` without an argument: an event listener's event must not become the reason.
      const stop = () => {
        controller.abort();
        fail?.(controller.signal.reason);
      };
      const timer = setTimeout(stop, timeoutMs);
      signal?.addEventListener('abort', stop);
      init.signal = controller.signal;
      let action;
      let parsed;
      let res;
      let requestId;
      try {
        res = await (fetchFn ? raced(fetchFn(url, init)) : fetch(url, init));
        const h = res.headers;
        const limit = x.head(res.status, h, res.type === 'opaqueredirect', h.get('request-id'), h.get('content-length'),
          h.get('content-encoding'));
        if (limit === 0) {
          // Refused without reading: the connection is closed, not drained.
          controller.abort();
          action = FAIL;
        } else {
          const text = await readText(res, Math.abs(limit), limit < 0, raced);
          if (text === null) {
            controller.abort();
            action = x.overflow();
          } else {
            if (res.status >= 200 && res.status < 300) {
              try { parsed = JSON.parse(text); } catch { /* not JSON: the exchange says what to do */ }
            }
            action = x.body(text, parsed);
            if (typeof action !== 'number') {
              requestId = action;
              action = DONE;
            }
          }
        }
      } catch (cause) {
        if (signal?.aborted) throw x.aborted(signal.reason);
        action = x.noAnswer(controller.signal.aborted, cause);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', stop);
      }
      if (action === DONE) {
        Object.defineProperty(parsed, 'lastResponse',
          { value: { statusCode: res.status, requestId, headers: res.headers }, configurable: true });
        return parsed;
      }
      if (action === FAIL) throw x.error();
      await pause(x.delay, signal, x);
    }
  } finally {
    x.free();
  }
}

/**
 * The body as a string: at once with `text()` when the exchange says `whole` (the server
 * declared a length within the limit and no content encoding), else read as a stream and
 * counted, `null` as soon as it passes `limit` (the stream is cancelled). A Response without
 * a WHATWG stream (another library's `fetch`) is read with `text()`. `raced`: what a read
 * is awaited through (the `fetch` option's reads may ignore the signal too).
 */
async function readText(res, limit, whole, raced) {
  const stream = whole ? null : res.body;
  if (typeof stream?.getReader !== 'function') return raced ? raced(res.text()) : res.text();
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let read = 0;
  for (;;) {
    const { done, value } = await (raced ? raced(reader.read()) : reader.read());
    if (done) return text + decoder.decode();
    read += value.byteLength;
    if (read > limit) {
      reader.cancel().catch(() => {});
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** Waits `ms`, or rejects at once with the aborted-call error when `signal` aborts. */
function pause(ms, signal, x) {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(x.aborted(signal.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
