// `await using` support: `[Symbol.asyncDispose]()`, declared as @types/node does, so projects
// whose `lib` predates ES2025's explicit resource management compile too.
declare global {
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol;
  }
}

/**
 * Options of `startSandbox()`. Every option that is not one of startSandbox's own (`apiKeys`,
 * `binary`, `args`, `env`, `cwd`, `stderr`, `startTimeout`) is a flag of the binary, named in
 * camelCase: `autoConfirmAfter: 2` is `--auto-confirm-after=2`, `true` is a flag without a value.
 * `npx qbitpay-sandbox --help` lists them all; a misspelt option does not compile (and is
 * refused at start, named as you spelt it).
 */
export interface SandboxOptions {
  /** The accounts: one per API key. Default: one account with `DEFAULT_API_KEY`. */
  apiKeys?: string | readonly string[];
  /** One more key (as in `apiKeys`; `connectSandbox()` spells it this way). */
  apiKey?: string;
  /** Keep the state in this SQLite file (it survives restarts; one sandbox per file). Default: in memory. */
  data?: string;
  /** Listen address. Default `127.0.0.1`. */
  host?: string;
  /** Default 0: a free port, so parallel workers never collide. */
  port?: number;
  /** A charge marked buyerPaid becomes paid (sellerConfirmed) after this many seconds, closed as many later. Default: never. */
  autoConfirmAfter?: number;
  /** A pending charge expires (cancelled, `charge.expired`) this many seconds after creation. Default 1800. */
  chargeTtl?: number;
  /** Seconds between webhook delivery attempts. Default 900. */
  webhookRetryInterval?: number;
  /** Retries after a failed first delivery attempt. Default 5. */
  webhookRetries?: number;
  /** Where events go that have no URL of their own (payout events, `events/test` without `cbUrl`). */
  webhookUrl?: string;
  /** Webhook signature algorithm. Default `md5`. */
  webhookAlgorithm?: 'md5' | 'hmac-sha256';
  /** Deliver webhooks to non-loopback hosts too. */
  allowRemoteWebhooks?: boolean;
  /** Payout pending → inTransit after this many seconds. Default 5. */
  payoutTransitAfter?: number;
  /** Payout inTransit → paid this many seconds later. Default 5. */
  payoutPaidAfter?: number;
  /** Lifetime of access tokens in seconds. Default 7200. */
  accessTokenTtl?: number;
  /** Requests per second per account; over it 429 with Retry-After. Default: no limit. */
  rateLimit?: number;
  /** Fraction (0..1) of API requests that fail (503, or a dropped connection). Default 0. */
  faultRate?: number;
  /** Send each webhook delivery this many times at once (1 to 10; the same body and signature). Default 1. */
  webhookDuplicates?: number;
  /** Send the deliveries one action causes (a request, a trigger, a clock advance) newest first. */
  webhookReorder?: boolean;
  /** Seconds of sandbox time between an event and its first delivery attempt. Default 0. */
  webhookDelay?: number;
  /** Seconds one delivery attempt may take before it counts as failed. Default 10. */
  webhookTimeout?: number;
  /** Seconds a connection may take to send a request's headers (or its body, else 408), or stay idle, before it is closed. Default 10. */
  headerTimeout?: number;
  /** Open connections at most; past it new ones are refused (503) and closed. Default 1024. */
  maxConnections?: number;
  /** The binary to run. Default: `$QBITPAY_SANDBOX_BINARY`, else the one of this platform's package. */
  binary?: string;
  /** More command-line arguments, as they are. */
  args?: string[];
  /** The sandbox's environment. Default: this process's. */
  env?: Record<string, string | undefined>;
  /** The sandbox's working directory (a relative `data` path is relative to it). */
  cwd?: string;
  /**
   * Its log (one line per request and per webhook attempt): dropped by default (read anyway,
   * so the sandbox never blocks on it), `'inherit'` to print it, or a function called per line.
   */
  stderr?: 'ignore' | 'inherit' | ((line: string) => void);
  /** Milliseconds to wait for it to listen. Default 30000. */
  startTimeout?: number;
}

/** One job the clock ran on its way. */
export interface SandboxJobRun {
  at: string;
  job: string;
  account: string;
  target: string;
  outcome: string;
  [key: string]: unknown;
}

/** What `advanceClock()` resolves to: the new sandbox time and the jobs that ran. */
export interface SandboxClock {
  object: 'clock';
  now: string;
  nowMs: number;
  offsetSeconds: number;
  ran: SandboxJobRun[];
}

/** The event types the sandbox sends (`trigger` makes any of them). */
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
export type SandboxEventType = ChargeEventType | PayoutEventType;

/**
 * A charge as the sandbox returns and delivers it: the fields a test reads, typed as the
 * `qbitpay` client's `Charge` types them (which has every field).
 */
export interface SandboxCharge {
  id: string;
  object: 'charge';
  createdAt: string;
  status: 'pending' | 'buyerPaid' | 'sellerConfirmed' | 'closed' | 'cancelled' | 'dispute';
  /** True once confirmed (`sellerConfirmed`): the balance was credited. */
  paid: boolean;
  amount: number;
  currency: 'USD' | 'USDT';
  externalOrderId: string;
  /** The hosted payment page; a buyer's browser appends `&accessToken=<token>`. */
  paymentPageUrl: string;
  cbUrl: string;
  redirectUrl: string;
  expiresAt: string;
  [field: string]: unknown;
}

/** A payout as the sandbox returns and delivers it (typed as the `qbitpay` client's `Payout`). */
export interface SandboxPayout {
  id: string;
  object: 'payout';
  createdAt: string;
  status: 'pending' | 'inTransit' | 'paid' | 'cancelled' | 'failed';
  amount: number;
  fee: number;
  currency: 'USD' | 'USDT';
  externalOrderId: string | null;
  description: string | null;
  arrivalDate: string;
  [field: string]: unknown;
}

/** A charge or a payout. */
export type SandboxObject = SandboxCharge | SandboxPayout;

interface SandboxEventFields {
  id: string;
  object: 'event';
  /** Sandbox time; the events of one change are each later than the one before. */
  createdAt: string;
  pendingWebhooks: number;
  livemode: false;
}
/** A `charge.*` event: `data` is the charge after the change. */
export interface SandboxChargeEvent<T extends ChargeEventType = ChargeEventType> extends SandboxEventFields {
  type: T;
  data: SandboxCharge;
}
/** A `payout.*` event: `data` is the payout after the change. */
export interface SandboxPayoutEvent<T extends PayoutEventType = PayoutEventType> extends SandboxEventFields {
  type: T;
  data: SandboxPayout;
}
/** The event `GET /api/v1/events/test` sends. */
export interface SandboxTestEvent extends SandboxEventFields {
  type: 'test';
  data: { object: 'test'; message: string; createdAt: string };
}

/**
 * An event as it is delivered: the body the webhook endpoint receives. `SandboxEvent<'payout.paid'>`
 * is that type's; the default, any of them: `switch (event.type)` narrows `data`.
 */
export type SandboxEvent<T extends SandboxEventType | 'test' = SandboxEventType | 'test'> = T extends ChargeEventType
  ? SandboxChargeEvent<T>
  : T extends PayoutEventType
    ? SandboxPayoutEvent<T>
    : SandboxTestEvent;

/** One HTTP request of a delivery (or one the sandbox refused to send: `error` says why). */
export interface DeliveryAttempt {
  /** Sandbox time. */
  at: string;
  url: string;
  /** The receiver's answer; `null` when none came (`error` says why: timeout, connection refused, not sent). */
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  nextRetryAt: string | null;
  /** Sent by `replay()` or the dashboard, not by the schedule. */
  manual: boolean;
  /** A request went out; false when the sandbox refused the URL (`error` says why). */
  sent: boolean;
}

/** Where an event's delivery stands. */
export interface WebhookState {
  url: string | null;
  status: 'none' | 'pending' | 'sending' | 'succeeded' | 'failed' | 'undeliverable';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
}

/** An event and its delivery: what `deliveries()` lists and `waitForWebhook()` resolves. */
export interface Delivery<E extends SandboxEvent = SandboxEvent> {
  event: E;
  webhook: WebhookState;
  /** Oldest first; the newest 100 (`webhook.attempts` counts them all). */
  attempts: DeliveryAttempt[];
}

/**
 * Which events: a type, the id of the charge or payout they are about (or the object), an
 * event id. A filter with a type types the events found (`data` a charge or a payout).
 */
export type DeliveryFilter<T extends SandboxEventType | 'test' = SandboxEventType | 'test'> =
  | T
  | {
      type?: T;
      objectId?: string | { id: string };
      eventId?: string;
    };

export interface TriggerOptions {
  /** Where the events of a new charge or payout go. Default: the sandbox's `webhookUrl`; with neither, they are made and not delivered. */
  cbUrl?: string;
  /** The amount of a new charge (USD) or payout (USDT). Default 10. */
  amount?: number;
}

export interface ChargeTriggerOptions extends TriggerOptions {
  /** Move this charge on (its id, or the charge) instead of creating one. */
  charge?: string | { id: string };
}

export interface PayoutTriggerOptions extends TriggerOptions {
  /** Move this payout on (its id, or the payout) instead of creating one. */
  payout?: string | { id: string };
}

/** What `trigger()` resolves to: the object as it was left, and the events made, oldest first. */
export interface ChargeTriggerResult {
  object: 'trigger';
  type: ChargeEventType;
  charge: SandboxCharge;
  events: (SandboxChargeEvent & { webhook: Omit<WebhookState, 'nextAttemptAt'> })[];
}
export interface PayoutTriggerResult {
  object: 'trigger';
  type: PayoutEventType;
  payout: SandboxPayout;
  /** The payout's events; first a `charge.succeeded` when a charge had to fund the balance. */
  events: ((SandboxChargeEvent | SandboxPayoutEvent) & { webhook: Omit<WebhookState, 'nextAttemptAt'> })[];
}

/** What `replay()` resolves to: the delivery, and the attempt it made. */
export interface Replay extends Delivery {
  attempt: DeliveryAttempt;
}

export interface WaitOptions {
  /** Milliseconds to wait. Default 10000. */
  timeout?: number;
  /** Milliseconds between looks (10 at least). Default 50. */
  interval?: number;
}

/** The control methods, for one account of a sandbox (`startSandbox()`'s first key, or `connectSandbox()`'s). */
export interface SandboxControl {
  /** `http://127.0.0.1:PORT`: the client's `baseUrl`. */
  readonly url: string;
  /** The key of the account these methods act for. */
  readonly apiKey: string;
  /** The dashboard: accounts, charges, payouts, events and every webhook attempt; buttons to move them on. */
  readonly dashboardUrl: string;
  /**
   * Move the sandbox clock forward (seconds > 0) and run every job that falls due on the way
   * (charge expiry, auto-confirm, payout steps, webhook retries) before resolving.
   */
  advanceClock(seconds: number): Promise<SandboxClock>;
  /**
   * Make an event of `type` happen, through the same state changes as the API and the dashboard
   * (a new charge or payout, or the one named), and deliver its signed webhooks.
   */
  trigger<T extends SandboxEventType>(
    type: T,
    options?: T extends ChargeEventType ? ChargeTriggerOptions : PayoutTriggerOptions,
  ): Promise<T extends ChargeEventType ? ChargeTriggerResult : PayoutTriggerResult>;
  /** The account's events that match (the newest 1000), oldest first, with every delivery attempt. */
  deliveries<T extends SandboxEventType | 'test' = SandboxEventType | 'test'>(
    filter?: DeliveryFilter<T>,
  ): Promise<Delivery<SandboxEvent<T>>[]>;
  /**
   * Resolves once a matching event has been sent to its URL (whatever came back: look at
   * `attempts`, `statusCode` or `error`); the newest such event when several match. Rejects
   * after `timeout` with what it saw (events not sent yet and when they are due, URLs the
   * sandbox does not send to and why).
   */
  waitForWebhook<T extends SandboxEventType | 'test' = SandboxEventType | 'test'>(
    filter: DeliveryFilter<T>,
    options?: WaitOptions,
  ): Promise<Delivery<SandboxEvent<T>>>;
  /** Send an event again now, once: the same id, body and signature. */
  replay(eventId: string): Promise<Replay>;
  /** Delete every object, event and scheduled job of the account(s). The clock stays where it is. */
  reset(): Promise<void>;
}

export interface Sandbox extends SandboxControl {
  /** The first of `apiKeys`: the account the control methods act for. */
  readonly apiKey: string;
  /** One account per key. */
  readonly apiKeys: readonly string[];
  /** The sandbox's process id. */
  readonly pid: number;
  /** Delete every object, event and scheduled job of all this sandbox's accounts. The clock stays where it is. */
  reset(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s); resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** An answer of the sandbox's control API that is an error (`status`, and its `type` and `param`), or no answer. */
export declare class SandboxError extends Error {
  readonly name: 'SandboxError';
  /** The HTTP status; undefined when the sandbox could not be reached (or a wait timed out). */
  readonly status?: number;
  readonly type?: string;
  /** The parameter the sandbox named: `type`, `charge`, `cbUrl`, `amount`... */
  readonly param?: string;
  readonly body?: unknown;
  /** A timed-out `waitForWebhook()`: the matching events it saw. */
  readonly seen?: Delivery[];
}

/**
 * The control methods of a sandbox started elsewhere (a Vitest or Jest globalSetup,
 * Playwright's webServer, `npx qbitpay-sandbox`), for the account of `apiKey`. Nothing is
 * sent until a method is called. `url` must be a loopback address (the sandbox answers only
 * on this machine; the key is sent nowhere else): a TypeError otherwise.
 */
export declare function connectSandbox(options: { url: string; apiKey: string }): SandboxControl;

/**
 * Start a sandbox on a free port and resolve once it listens. Rejects with the binary's own
 * message (an unknown flag, a port in use, a `data` file used by another sandbox) when it
 * cannot start. If this process exits without `stop()`, the sandbox exits too.
 */
export declare function startSandbox(options?: SandboxOptions): Promise<Sandbox>;

/** The path of the binary `startSandbox()` and `npx qbitpay-sandbox` run. Throws `SandboxBinaryError` when there is none. */
export declare function sandboxBinary(): string;

/** This machine's platform as the packages name it: `linux-x64`, `darwin-arm64`, `win32-x64`… */
export declare function currentPlatform(): string;

/** The package with the binary for a platform: `@qbitpay/sandbox-linux-x64`. */
export declare function platformPackage(platform: string): string;

/** No binary for this platform (its package was not installed), or `QBITPAY_SANDBOX_BINARY` names no file. */
export declare class SandboxBinaryError extends Error {
  readonly code: 'QBITPAY_SANDBOX_NO_BINARY';
}

/** `sk_test_qbitpay_demo`: the key of the one account when no `apiKeys` are given. */
export declare const DEFAULT_API_KEY: 'sk_test_qbitpay_demo';
