// Types of the `QbitPay` API client (issue 4). The error classes are in ./errors.

export type Currency = 'USD' | 'USDT';
export type BaseCurrency = 'BTC' | 'USDT';
export type QuoteCurrency = 'CNY' | 'USD' | 'PHP';
export type ChargeStatus = 'pending' | 'buyerPaid' | 'sellerConfirmed' | 'closed' | 'cancelled' | 'dispute';
/** CNY: Alipay, Yunshanfu, bankAccount; USD: PayPal, bankAccount; PHP: Coins.ph, GCash. */
export type PaymentType = 'Alipay' | 'Yunshanfu' | 'bankAccount' | 'PayPal' | 'Coins.ph' | 'GCash';
export type PaymentMethodType = PaymentType | 'wallet';

/** How a payer pays or a payee receives (embedded in charges and payouts). */
export interface PaymentMethod {
  object: 'paymentMethod';
  type: PaymentMethodType;
  currency?: string;
  status?: string;
  typeLabel?: { en: string; zh: string };
  alipayQRCodeUrl?: string;
  qrCodeImgUrl?: string;
  bankName?: string;
  accountNum?: string;
  bankRoutingNum?: string;
  bankDetailName?: string;
  bankAddr?: string;
  city?: string;
  state?: string;
  country?: string;
  postalCode?: string;
  addr?: string;
  swift?: string;
}

/** A payment to collect. */
export interface Charge {
  id: string;
  object: 'charge';
  /** ISO 8601. */
  createdAt: string;
  paid: boolean;
  status: ChargeStatus;
  amount: number;
  currency: Currency;
  price: number;
  fee: number;
  baseAmount: number;
  baseCurrency: BaseCurrency;
  totalCost: number;
  quoteCurrency: QuoteCurrency;
  externalOrderId: string;
  /** The hosted payment page; a browser appends `&accessToken=<token>`. */
  paymentPageUrl: string;
  cbUrl: string;
  redirectUrl: string;
  paymentMethod: PaymentMethod | null;
  payerName: string | null;
  expiresAt: string;
}

export interface ChargeCreateParams {
  /** A finite number > 0, in units of `currency`. */
  amount: number;
  currency: Currency;
  externalOrderId: string;
  /** Absolute http(s) URL that receives the webhooks of this charge. */
  cbUrl: string;
  /** Absolute http(s) URL the payer returns to. */
  redirectUrl: string;
  /** Default `BTC`. */
  baseCurrency?: BaseCurrency;
  /** Default `CNY`. */
  quoteCurrency?: QuoteCurrency;
  /** Must suit `quoteCurrency` (see {@link PaymentType}). */
  paymentType?: PaymentType;
  payerName?: string;
}

export interface ChargeUpdateParams {
  /** The only update: a pending charge the buyer says they paid. */
  status: 'buyerPaid';
}

/** Pagination parameters of every list; cursors also accepted in the wire spelling. */
export interface ListParams {
  /** 1..100, default 10. */
  limit?: number;
  /** Items older than this id (the next page). */
  startingAfter?: string;
  starting_after?: string;
  /** Items newer than this id (the previous page); an iteration then walks towards newer items. */
  endingBefore?: string;
  ending_before?: string;
}

export interface ChargeListParams extends ListParams {
  externalOrderId?: string;
}

/** Per-call options. */
export interface RequestOptions {
  /** Sent as `Idempotency-Key` on POST and PUT; one is generated per call otherwise. */
  idempotencyKey?: string;
  /** Cancels the request and any pending retry at once (rejects with `QbitPayConnectionError`, `code: 'aborted'`). */
  signal?: AbortSignal;
  /** Bounds each attempt; default the client's (30 000). */
  timeoutMs?: number;
  /** Retries of network errors, timeouts, 409, 429 and 5xx; default the client's (2), at most 10. */
  maxRetries?: number;
}

/** Options of a list call (no idempotency: lists are GETs). */
export type ListOptions = Omit<RequestOptions, 'idempotencyKey'>;

export interface QbitPayOptions {
  /** Server side only: HTTP Basic auth. Exactly one of `apiKey` and `accessToken`. */
  apiKey?: string;
  /** Browser side: `Authorization: Bearer`, scope limited to reading charges and marking them buyerPaid. */
  accessToken?: string;
  /** Default `https://matrix-content-s.ailingual.cn`. */
  baseUrl?: string;
  /** Per attempt, default 30 000. */
  timeoutMs?: number;
  /** Default 2, at most 10. */
  maxRetries?: number;
  /** Default: `globalThis.fetch`, looked up at each call. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Allow an `apiKey` where a global `document` exists. Don't: use an access token. */
  dangerouslyAllowBrowser?: boolean;
}

/** One page of a list, newest first. */
export interface Page<T> {
  object: 'list';
  data: T[];
  /** Whether more items may follow in the direction this page was fetched. */
  hasMore: boolean;
  /** The page of items older than this page's last; an empty page (no request) when there is none. */
  nextPage(): Promise<Page<T>>;
  /** The page of items newer than this page's first; an empty page (no request) when there is none. */
  previousPage(): Promise<Page<T>>;
}

/**
 * What `list()` returns: awaiting it gives the first page; iterating it with `for await`
 * gives every item, fetching each next page only when needed.
 */
export interface ListPromise<T> extends PromiseLike<Page<T>>, AsyncIterable<T> {
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<Page<T> | R>;
  finally(onFinally?: (() => void) | null): Promise<Page<T>>;
  [Symbol.asyncIterator](): AsyncIterator<T, undefined>;
  /** Up to `max` items (required, 1..10 000). */
  toArray(options: { max: number }): Promise<T[]>;
}

export interface ChargesResource {
  create(params: ChargeCreateParams, options?: RequestOptions): Promise<Charge>;
  retrieve(id: string, options?: RequestOptions): Promise<Charge>;
  update(id: string, params: ChargeUpdateParams, options?: RequestOptions): Promise<Charge>;
  list(params?: ChargeListParams, options?: ListOptions): ListPromise<Charge>;
}

export interface AccessToken {
  /** A JWT for `new QbitPay({ accessToken })` in the browser and `&accessToken=` on the payment page. */
  accessToken: string;
}

export interface AccessTokenResource {
  /** With the API key, on your server. */
  create(options?: RequestOptions): Promise<AccessToken>;
}

export class QbitPay {
  constructor(options: QbitPayOptions);
  readonly charges: ChargesResource;
  readonly accessToken: AccessTokenResource;
}
