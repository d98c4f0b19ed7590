// What createWebhookHandler runs per delivery: verify it, claim its event in the store, run the
// user's handler once, answer. Every decision (the outcome, its HTTP status, how long an id is
// remembered, whether an event is stale) is the Rust core's (src/webhook/handler.rs), asked
// through the module's handlerStep; this file reads bodies, awaits the store and the handler
// between steps, and writes the answers. Loaded on the first delivery (handler.mjs).

import { QbitPaySignatureError } from './errors.mjs';

export { memory, redis, d1 } from './store-impls.mjs';

// handlerStep's protocol (src/wasm/handler.rs): the step kinds, their flags, the actions.
const VERIFIED = 0, CLAIMED = 1, NEWEST_READ = 2, RAN = 3;
const FLAG0 = 16, FLAG1 = 32, FLAG2 = 64, FLAG3 = 128;
const ANSWER = 0, CLAIM = 1, READ_NEWEST = 2, RUN_STALE = 4, MARK_DONE = 5; // 3: run, 6: release
// The names of what it returns by index (held to the Rust core's by a host test: src/webhook/handler.rs).
const OUTCOMES = ['processed', 'duplicate', 'ignored', 'stale', 'rejected', 'too_old', 'busy', 'failed', 'unavailable'];
const CODES = ['missing_signature', 'malformed_signature', 'signature_mismatch', 'invalid_payload', 'payload_too_large', 'event_too_old', 'invalid_argument'];
const CLAIM_ANSWERS = ['claimed', 'done', 'busy'];
const JSON_TYPE = { 'content-type': 'application/json' };

/** The handler's faces for createWebhookHandler's checked options (`settings`). */
export function deliveries(glue, verifyWebhook, settings) {
  const { apiKey, on, store, staleEvents, now, maxAgeSeconds, leaseSeconds, onError = logError, verifyOptions, limit } = settings;
  const leaseMs = leaseSeconds * 1000;
  // The store answers the claim and the read of the object's newest event within half the lease
  // (a claim that answers later may have run out already), and each write within as long.
  const storeWaitMs = leaseMs / 2;

  /** Tell the app what it cannot see in the answer; its own mistakes there change nothing here. */
  function report(error, stage, event) {
    try {
      // An async onError that rejects would be an unhandled rejection: the end of a Node process.
      const told = onError(error, { stage, event });
      if (typeof told?.then === 'function') Promise.resolve(told).catch(() => {});
    } catch { /* the answer is decided */ }
  }

  /**
   * A store call; resolves to [value] or, when it threw, rejected or gave no answer by `deadline`
   * (performance.now() ms), to [] after reporting it. A store that stops answering (a Redis client
   * queueing while its server is away) gets the delivery a 503, not a request that hangs.
   */
  async function ask(stage, event, call, deadline) {
    let timer;
    try {
      const answer = Promise.resolve().then(call);
      answer.catch(() => {}); // what it says after the deadline is not heard
      const late = new Promise((_, reject) => {
        const why = `store.${stage}() did not answer within ${storeWaitMs} ms (half of leaseSeconds)`;
        timer = setTimeout(() => reject(new Error(why)), Math.max(0, deadline - performance.now()));
      });
      return [await Promise.race([answer, late])];
    } catch (e) {
      report(e, stage, event);
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  async function handle(body, signature) {
    const at = +now();
    let event;
    let verdict;
    try {
      event = verifyWebhook(body, signature, apiKey, { ...verifyOptions, now: at });
    } catch (e) {
      if (!(e instanceof QbitPaySignatureError)) throw e;
      verdict = e.code;
    }
    const id = event?.id;
    const data = event?.data;
    const dataIsObject = typeof data === 'object' && data !== null && !Array.isArray(data);
    const objectId = dataIsObject ? data.id : undefined;
    const hasObject = typeof objectId === 'string' && objectId !== '';
    const run = event && Object.hasOwn(on, event.type) && typeof on[event.type] === 'function' ? on[event.type] : null;
    let next = verdict === undefined
      ? glue.handlerStep(VERIFIED | FLAG0 | (typeof id === 'string' ? FLAG1 : 0) | (run ? FLAG2 : 0) | (dataIsObject ? FLAG3 : 0),
        String(event.createdAt), typeof id === 'string' ? id : '', at, maxAgeSeconds * 1000)
      : glue.handlerStep(VERIFIED, '', '', CODES.indexOf(verdict), 0);
    let createdMs;
    let rememberMs;
    let token;
    const claimDeadline = performance.now() + storeWaitMs;
    const writeDeadline = () => performance.now() + storeWaitMs;
    for (;;) {
      const [action] = next;
      if (action === ANSWER || action > RUN_STALE) {
        // Whatever the store says now, the answer stands (the effect happened; a claim left behind ends with its lease).
        if (action === MARK_DONE) {
          // Tried again on failure, a few times within the write's deadline: a claim left behind
          // lets a replay of the event run it again once the lease ends.
          const deadline = writeDeadline();
          const object = hasObject ? { id: objectId, createdAt: createdMs } : undefined;
          for (let wait = 50; !(await ask('done', event, () => store.done(id, rememberMs, object), deadline)).length; wait *= 2) {
            if (wait > 400 || performance.now() + wait >= deadline) break; // 5 tries, 0.75 s apart at most
            await new Promise((resolve) => setTimeout(resolve, wait));
          }
        } else if (action !== ANSWER) {
          await ask('release', event, () => store.release(id, token), writeDeadline());
        }
        const [, outcome, status, code] = next;
        return { status, outcome: OUTCOMES[outcome], ...(code >= 0 ? { code: CODES[code] } : {}), ...(event ? { event } : {}) };
      }
      if (action === CLAIM) {
        [, createdMs, rememberMs] = next;
        token = crypto.randomUUID();
        const [answer] = await ask('claim', event, () => store.claim(id, token, leaseMs), claimDeadline);
        const known = CLAIM_ANSWERS.indexOf(answer);
        if (answer !== undefined && known < 0) {
          report(new TypeError(`store.claim() answered ${JSON.stringify(answer)}, not 'claimed', 'done' or 'busy'`), 'claim', event);
        }
        next = glue.handlerStep(CLAIMED | (answer === undefined ? FLAG0 : 0) | (hasObject ? FLAG1 : 0), '', '', known, 0);
      } else if (action === READ_NEWEST) {
        const read = await ask('newest', event, () => store.newest(objectId), claimDeadline);
        const newest = typeof read[0] === 'number' ? read[0] : NaN;
        next = glue.handlerStep(NEWEST_READ | (read.length ? 0 : FLAG0) | (staleEvents === 'acknowledge' ? FLAG1 : 0), '', '', createdMs, newest);
      } else {
        let threw = 0;
        const started = performance.now();
        try {
          await run.call(on, event, { stale: action === RUN_STALE });
        } catch (e) {
          report(e, 'handler', event);
          threw = FLAG0;
        }
        const ranMs = performance.now() - started;
        if (ranMs > leaseMs) {
          // Its claim ran out meanwhile: a retry or a replay of the event may have run it too.
          report(new Error(`the handler ran ${Math.round(ranMs / 1000)} s, beyond leaseSeconds (${leaseSeconds}): another delivery of the event may have run it meanwhile; raise leaseSeconds`), 'lease', event);
        }
        next = glue.handlerStep(RAN | threw, '', '', 0, 0);
      }
    }
  }

  const answerBody = (r) => JSON.stringify(r.code ? { outcome: r.outcome, code: r.code } : { outcome: r.outcome });

  return {
    handle(body, signature) {
      return handle(body, signature);
    },

    async fetch(request) {
      if (typeof request?.headers?.get !== 'function') throw new TypeError('fetch: request must be a fetch API Request');
      let r;
      try {
        r = await handle(await readAll(request.body, limit), request.headers.get('qbitpay-signature'));
      } catch (e) {
        report(e, 'internal');
        r = { status: 500, outcome: 'failed' };
      }
      return new Response(answerBody(r), { status: r.status, headers: JSON_TYPE });
    },

    async node(req, res) {
      let r;
      let unread = false;
      try {
        // A body parser ran before us (Express, body-parser, Fastify's raw request): its result; else the stream.
        let body = req.body;
        if (body === undefined) {
          body = await readNode(req, limit);
          unread = body.length > limit;
        }
        r = await handle(body, req.headers['qbitpay-signature']);
      } catch (e) {
        // A peer that left before its body ended: nothing ran, nobody to answer, nothing for the app to hear.
        if (req.destroyed && !req.complete) return;
        report(e, 'internal');
        r = { status: 500, outcome: 'failed' };
      }
      if (res.headersSent) return;
      res.statusCode = r.status;
      res.setHeader('content-type', 'application/json');
      // The rest of an oversized body is not read: the connection closes after the answer.
      if (unread) res.setHeader('connection', 'close');
      res.end(answerBody(r));
    },
  };
}

function logError(error, { stage, event }) {
  const what = stage === 'handler' ? `the handler of ${event.type} ${event.id} threw`
    : stage === 'lease' ? `the handler of ${event.type} ${event.id} outlasted its claim`
    : stage === 'internal' ? 'a delivery could not be handled' : `the store's ${stage}() failed`;
  console.error(`qbitpay: createWebhookHandler: ${what}:`, error);
}

/** A fetch body stream read up to one byte past `limit` (so that the verifier sees it is too large). */
async function readAll(stream, limit) {
  const chunks = [];
  let size = 0;
  if (stream) {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        break;
      }
    }
  }
  return concat(chunks, size);
}

/** A Node request stream read the same way; what is past the limit stays unread. */
function readNode(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const finish = (error) => {
      req.off('data', onData).off('end', finish).off('error', finish);
      if (error) reject(error);
      else resolve(concat(chunks, size));
    };
    const onData = (chunk) => {
      const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
      chunks.push(bytes);
      size += bytes.byteLength;
      if (size > limit) {
        req.pause();
        finish();
      }
    };
    if (req.readableEnded) return resolve(new Uint8Array(0));
    req.on('data', onData).on('end', finish).on('error', finish);
  });
}

function concat(chunks, size) {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
