import type { Charge, Payout } from './client';
import type { SignatureErrorCode } from './errors';

export * from './errors';
export type { Charge, Payout } from './client';

export type WebhookAlgorithm = 'md5' | 'hmac-sha256';

export interface VerifyWebhookOptions {
  /** The signature scheme; `md5` (the default) or `hmac-sha256`. */
  algorithm?: WebhookAlgorithm;
  /**
   * Refuse events whose `createdAt` is further than this from `now`. Off by default:
   * QbitPay retries a delivery for over an hour with the original `createdAt`.
   */
  maxAgeSeconds?: number;
  /** The time to judge `maxAgeSeconds` against; defaults to `Date.now()`. */
  now?: Date | number;
  /**
   * Raw bodies above this many bytes are refused unread (default 1 MiB). A parsed event
   * was bounded by the parser that made it (e.g. `express.json({ limit })`).
   */
  maxBytes?: number;
}

export interface SignWebhookOptions {
  algorithm?: WebhookAlgorithm;
}

/** A webhook event as QbitPay delivers it. */
export interface WebhookEvent<T = Record<string, unknown>> {
  id: string;
  object: 'event';
  type: string;
  createdAt: string;
  pendingWebhooks: number;
  livemode: boolean;
  data: T;
  [key: string]: unknown;
}

export type ChargeEventType =
  | 'charge.succeeded'
  | 'charge.expired'
  | 'charge.failed'
  | 'charge.dispute.created'
  | 'charge.dispute.closed';
export type PayoutEventType =
  | 'payout.pending'
  | 'payout.inTransition'
  | 'payout.paid'
  | 'payout.failed'
  | 'payout.cancelled';
/** Every event type of the API. */
export type EventType = ChargeEventType | PayoutEventType;

interface EventFields {
  id: string;
  object: 'event';
  createdAt: string;
  /** Failed delivery attempts so far. */
  pendingWebhooks: number;
  livemode: boolean;
}
/** A `charge.*` event: `data` is the charge after the change. */
export interface ChargeEvent extends EventFields {
  type: ChargeEventType;
  data: Charge;
}
/** A `payout.*` event: `data` is the payout after the change. */
export interface PayoutEvent extends EventFields {
  type: PayoutEventType;
  data: Payout;
}
/** A webhook event: `switch (event.type)` narrows `data` to a `Charge` or a `Payout`. */
export type Event = ChargeEvent | PayoutEvent;

/** One API key, or several while you rotate keys: a delivery signed with any of them is accepted. */
export type WebhookApiKey = string | readonly string[];

/**
 * Check a delivery's `QbitPay-Signature` against the body and your API key, and return the
 * event. Throws `QbitPaySignatureError` (with `code`) when it does not verify.
 *
 * `rawBody` is the body as received (a string or bytes), or the event your JSON body
 * parser returned (`express.json()`, `await request.json()`), which is returned as is: the
 * signature covers a re-serialisation of the parsed event, so both verify exactly.
 */
export function verifyWebhook<E = Event>(
  rawBody: string | Uint8Array | ArrayBuffer | ArrayBufferView | object,
  signature: string | string[] | null | undefined,
  apiKey: WebhookApiKey,
  options?: VerifyWebhookOptions,
): E;

/**
 * Check a fetch API `Request` (Cloudflare Workers, Deno.serve, Bun.serve, Next.js route
 * handlers, Hono): reads its body once and its `QbitPay-Signature` header, and resolves to
 * the event. Rejects with `QbitPaySignatureError` when it does not verify.
 */
export function verifyWebhookRequest<E = Event>(
  request: Request,
  apiKey: WebhookApiKey,
  options?: VerifyWebhookOptions,
): Promise<E>;

/** The `QbitPay-Signature` header value QbitPay would send for this body or event (for your tests). */
export function signWebhook(
  rawBodyOrEvent: string | Uint8Array | ArrayBuffer | ArrayBufferView | object,
  apiKey: string,
  options?: SignWebhookOptions,
): string;

// ---- createWebhookHandler ----------------------------------------------------------------

/** The event of type `T`: `data` is a `Charge` for `charge.*`, a `Payout` for `payout.*`. */
export type EventOf<T extends EventType> = (T extends ChargeEventType ? ChargeEvent : PayoutEvent) & { type: T };

/** What a handler is told besides the event. */
export interface WebhookContext {
  /**
   * An event created later for the same object (`event.data.id`) was processed already: this
   * one is older news (deliveries arrive out of order when one was retried). With
   * `staleEvents: 'acknowledge'` such events are answered without running the handler.
   */
  stale: boolean;
}

/** A handler per event type; a type without one is acknowledged (`ignored`) and not stored. */
export type WebhookHandlers = {
  [T in EventType]?: (event: EventOf<T>, ctx: WebhookContext) => unknown;
};

/**
 * How a delivery ended, and the HTTP status it is answered with:
 * - `processed` (200): the handler ran and returned; the event is remembered as done;
 * - `duplicate` (200): done already (a retry or a replay), not run again;
 * - `ignored` (200): no handler for its type;
 * - `stale` (200): older than an event processed for the same object, acknowledged without
 *   running (with `staleEvents: 'acknowledge'`);
 * - `rejected` (400): not a signed event (`code` says why: signature, size, body), not run;
 * - `too_old` (400): `createdAt` further from now than `maxAgeSeconds`, not run;
 * - `busy` (409): another delivery of the event is running it; the sender retries later;
 * - `failed` (500): the handler threw; its claim is released, the sender retries;
 * - `unavailable` (503): the store failed, or did not answer within half of `leaseSeconds`; the sender retries.
 */
export type WebhookOutcome =
  | 'processed'
  | 'duplicate'
  | 'ignored'
  | 'stale'
  | 'rejected'
  | 'too_old'
  | 'busy'
  | 'failed'
  | 'unavailable';

export interface WebhookResult {
  /** The HTTP status to answer with (2xx stops the sender's retries). */
  status: 200 | 400 | 409 | 500 | 503;
  outcome: WebhookOutcome;
  /** Why a delivery was `rejected` (the verifier's `QbitPaySignatureError` code). */
  code?: SignatureErrorCode;
  /** The event, when the delivery verified. */
  event?: Event;
}

/** Where `onError` was called from. */
export type WebhookErrorStage = 'handler' | 'lease' | 'claim' | 'newest' | 'done' | 'release' | 'internal';

/**
 * Where a handler remembers events. Every method may return a promise. Write your own for
 * another database: `claim` must be atomic (one winner among concurrent callers).
 */
export interface WebhookStore {
  /**
   * Claim `eventId` for `leaseMs` under `token`: `'claimed'` when nobody holds it (or the
   * holder's lease has run out), `'done'` when it was marked done and has not expired,
   * `'busy'` when another claim holds it.
   */
  claim(eventId: string, token: string, leaseMs: number): 'claimed' | 'done' | 'busy' | Promise<'claimed' | 'done' | 'busy'>;
  /**
   * Mark `eventId` done for `ttlMs` (until the event is older than the window), and, with
   * `object`, raise the object's newest `createdAt` (milliseconds) to it, kept as long.
   * Called again, a few times, when it throws.
   */
  done(eventId: string, ttlMs: number, object?: { id: string; createdAt: number }): unknown;
  /** Drop the claim on `eventId` if `token` still holds it (not a done mark, not another's claim). */
  release(eventId: string, token: string): unknown;
  /** The newest `createdAt` (milliseconds) marked done for the object, if any and not expired. */
  newest(objectId: string): number | null | undefined | Promise<number | null | undefined>;
}

export interface WebhookHandlerOptions {
  /** Your API key (the signing secret), or several while you rotate keys. */
  apiKey: WebhookApiKey;
  /** The handlers by event type: `{ 'charge.succeeded': async (event) => ... }`. */
  on: WebhookHandlers;
  /**
   * Where events are remembered: `memoryStore()` by default (this process only). With more
   * than one process or machine, a shared one: `redisStore(client)`, `d1Store(env.DB)`, yours.
   */
  store?: WebhookStore;
  /**
   * The window, in seconds (default 3 days, 259200): an event whose `createdAt` is further
   * from now is refused (`too_old`), and a processed event's id is remembered until then, so
   * a replay is always either remembered or too old. Keep it above the sender's retry span
   * (5 retries, 15 minutes apart).
   */
  maxAgeSeconds?: number;
  /**
   * How long a claim holds an event while its handler runs (default 60): a delivery of the
   * same event meanwhile is answered `busy` (409). A process that dies mid-handler holds the
   * event no longer than this. Keep it above your handler's longest run. Each call of the
   * store is given half of it: one that has not answered by then counts as failed (503).
   */
  leaseSeconds?: number;
  /** `'run'` (default): run stale events with `ctx.stale`; `'acknowledge'`: answer them without running. */
  staleEvents?: 'run' | 'acknowledge';
  /** The signature scheme; `md5` (the default) or `hmac-sha256`. */
  algorithm?: WebhookAlgorithm;
  /** Bodies above this many bytes are refused unread (default 1 MiB). */
  maxBytes?: number;
  /**
   * Told what the answer does not say: a handler that threw, a store that failed. By default
   * `console.error`. Never given the API key.
   */
  onError?: (error: unknown, info: { stage: WebhookErrorStage; event?: Event }) => void;
  /**
   * The clock the window is judged by, in milliseconds (default `Date.now`). In tests against a
   * sandbox whose clock `advanceClock()` moved: `() => Date.now() + offsetSeconds * 1000`.
   */
  now?: () => number;
}

/** A webhook endpoint: one handler, three ways to call it. */
export interface WebhookHandler {
  /**
   * Handle a delivery: `body` as received (a string or bytes) or the event your JSON body
   * parser returned, `signature` the `QbitPay-Signature` header. Resolves to the answer to
   * send; rejects only when it could not decide one.
   */
  handle(
    body: string | Uint8Array | ArrayBuffer | ArrayBufferView | object,
    signature: string | string[] | null | undefined,
  ): Promise<WebhookResult>;
  /**
   * For fetch API servers (Cloudflare Workers, Deno, Bun, Next.js route handlers, Hono's
   * `c.req.raw`): reads the Request (at most `maxBytes`) and resolves to the answer, a JSON
   * `{ outcome, code? }` with the status.
   */
  fetch(request: Request): Promise<Response>;
  /**
   * For Node's `http` and Express (with or without a body parser before it: `req.body` when
   * one ran, else the stream, at most `maxBytes`): writes the answer to `res`.
   */
  node(req: NodeRequestLike, res: NodeResponseLike): Promise<void>;
}

/** What `node()` reads of Node's `IncomingMessage` (an Express `req` is one). */
export interface NodeRequestLike extends AsyncIterable<unknown> {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  readableEnded?: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  pause(): unknown;
}
/** What `node()` writes of Node's `ServerResponse` (an Express `res` is one). */
export interface NodeResponseLike {
  statusCode: number;
  readonly headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/**
 * A webhook endpoint that runs each event's effect once: it verifies the delivery, refuses
 * events older than `maxAgeSeconds`, claims the event's id in `store`, runs `on[event.type]`,
 * marks the id done (or releases it when the handler throws) and answers (see
 * `WebhookOutcome`). Throws a `TypeError` for a bad option (a misspelt event type in `on`).
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler;

/**
 * Events remembered in this process (one process only; the default store). At most `max`
 * (default 100,000) events at a time: at the bound, a new event's claim fails (answered 503,
 * the sender retries later) until older ones expire. An id is never forgotten early.
 */
export function memoryStore(options?: { max?: number }): WebhookStore;

/**
 * A connected client of node-redis (`redis` v4 or v5: `createClient()` or `createCluster()`)
 * or of ioredis (`new Redis()` or `new Redis.Cluster()`).
 */
export type RedisClientLike =
  | { call(command: string, ...args: string[]): Promise<unknown> }
  | { sendCommand(args: string[]): Promise<unknown> }
  | {
      sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
      readonly masters: unknown;
      readonly slots: unknown;
    };

/**
 * Events remembered in Redis, shared by every process and machine using it; claims are
 * atomic (a Lua script per key, so Redis Cluster works too). Keys start with `prefix`
 * (default `qbitpay:webhook:`) and expire by themselves.
 */
export function redisStore(client: RedisClientLike, options?: { prefix?: string }): WebhookStore;

/** A Cloudflare D1 database binding. */
export interface D1DatabaseLike {
  prepare(query: string): { bind(...values: unknown[]): any };
  batch(statements: any[]): Promise<unknown>;
}

/**
 * Events remembered in Cloudflare D1 (`env.DB`), shared by every Worker bound to it. Two
 * tables (`<table>_events`, `<table>_objects`; default `qbitpay_webhook`), created on first use;
 * expired rows are deleted as new events are marked done.
 */
export function d1Store(db: D1DatabaseLike, options?: { table?: string }): WebhookStore;
