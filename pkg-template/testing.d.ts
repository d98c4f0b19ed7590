// qbitpay/webhook/testing: events and signed deliveries for tests of a webhook handler.
import type { EventOf, EventType, WebhookAlgorithm, Event } from './webhook';

export interface WebhookEventOptions<T extends EventType = EventType> {
  /** Fields over the realistic charge or payout (e.g. `{ externalOrderId: 'order-1' }`). */
  data?: Partial<EventOf<T>['data']> & Record<string, unknown>;
  /** Default: a new `evt_…` id. */
  id?: string;
  /** Default: now. */
  createdAt?: Date | string | number;
  /** Default `false`. */
  livemode?: boolean;
  /** Default 0. */
  pendingWebhooks?: number;
}

/**
 * An event of `type` as QbitPay sends it: a new id, `createdAt` now, and `data` a realistic
 * charge (`charge.*`) or payout (`payout.*`) in the status the event reports, `options.data` over it.
 */
export function webhookEvent<T extends EventType>(type: T, options?: WebhookEventOptions<T>): EventOf<T>;

export interface WebhookDelivery<E = Event> {
  event: E;
  /** The request body: `JSON.stringify(event)`. */
  body: string;
  /** The `QbitPay-Signature` header value. */
  signature: string;
  headers: { 'content-type': 'application/json'; 'qbitpay-signature': string };
  /** The delivery as a fetch API `Request` (POST to `url`, default `http://localhost/webhooks/qbitpay`). */
  request(url?: string): Request;
}

export interface WebhookDeliveryOptions {
  /** The API key that signs it. */
  apiKey: string;
  algorithm?: WebhookAlgorithm;
}

/** A signed delivery of a new event of `type` (options as `webhookEvent`'s). */
export function webhookDelivery<T extends EventType>(
  type: T,
  options: WebhookDeliveryOptions & WebhookEventOptions<T>,
): WebhookDelivery<EventOf<T>>;
/** A signed delivery of `event` (an event of `webhookEvent`, or any object to sign). */
export function webhookDelivery<E extends object>(event: E, options: WebhookDeliveryOptions): WebhookDelivery<E>;
