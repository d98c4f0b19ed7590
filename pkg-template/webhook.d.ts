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
  /** Bodies above this many bytes are refused unread (default 1 MiB). */
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

/**
 * Check a delivery's `QbitPay-Signature` against the raw body and your API key, and return
 * the parsed event. Throws `QbitPaySignatureError` (with `code`) when it does not verify.
 * Pass the body exactly as received: a string or bytes, never a parsed object.
 */
export function verifyWebhook<E = Event>(
  rawBody: string | Uint8Array | ArrayBuffer,
  signature: string | string[] | null | undefined,
  apiKey: string,
  options?: VerifyWebhookOptions,
): E;

/** The `QbitPay-Signature` header value QbitPay would send for this body or event (for your tests). */
export function signWebhook(
  rawBodyOrEvent: string | Uint8Array | ArrayBuffer | object,
  apiKey: string,
  options?: SignWebhookOptions,
): string;
