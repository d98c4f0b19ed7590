import type { Charge, Payout } from './client';

export * from './errors';

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
