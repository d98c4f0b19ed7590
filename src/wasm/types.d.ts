import type { WebhookEvent } from '../webhook';

// The classes have `[Symbol.dispose]()` (= `free()`); declared as @types/node does, so
// projects whose `lib` predates ES2025's explicit resource management compile too.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

export type Currency = 'USD' | 'USDT';
export type BaseCurrency = 'BTC' | 'USDT';
export type QuoteCurrency = 'CNY' | 'USD' | 'PHP';
export type ChargeStatus = 'pending' | 'buyerPaid' | 'sellerConfirmed' | 'closed' | 'cancelled' | 'dispute';
/** CNY: Alipay, Yunshanfu, bankAccount; USD: PayPal, bankAccount; PHP: Coins.ph, GCash. */
export type PaymentType = 'Alipay' | 'Yunshanfu' | 'bankAccount' | 'PayPal' | 'Coins.ph' | 'GCash';
export type PaymentMethodType = PaymentType | 'wallet';

/** A bank's optional details, on a payment method and on a `bankAccount` payout destination. */
export interface BankDetails {
  bankRoutingNum?: string;
  bankDetailName?: string;
  bankAddr?: string;
  city?: string;
  state?: string;
  country?: string;
  postalCode?: string;
  swift?: string;
}

/** The details a payment method may carry; which ones depends on the type and the server. */
export interface PaymentMethodDetails extends BankDetails {
  object: 'paymentMethod';
  currency?: string;
  status?: string;
  typeLabel?: { en: string; zh: string };
  /** The payee, on a payout's destination. */
  payerName?: string;
  alipayQRCodeUrl?: string;
  qrCodeImgUrl?: string;
  bankName?: string;
  accountNum?: string;
  addr?: string;
}

/** A payment method of one type (`PaymentMethodOf<'wallet'>`). */
export type PaymentMethodOf<T extends PaymentMethodType> = { [K in T]: PaymentMethodDetails & { type: K } }[T];

/**
 * How a payer pays or a payee receives (embedded in a charge or a payout): a union by
 * `type`, so `switch (pm.type)` narrows it.
 */
export type PaymentMethod = PaymentMethodOf<PaymentMethodType>;

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
  /** From 0.01 to 1000000, in units of `currency`. */
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
  /** The largest answer body read, in bytes; default the client's (8 MiB). */
  maxResponseBytes?: number;
  /** This call's credential instead of the client's (a platform acting for several merchants): exactly one of the two. */
  apiKey?: string;
  accessToken?: string;
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
  /**
   * The largest answer body read, in bytes (default 8 MiB, far above any answer of the API).
   * A larger one is refused (`QbitPayAPIError`, `code: 'response_too_large'`): a declared
   * Content-Length before reading, otherwise as soon as the count passes it.
   */
  maxResponseBytes?: number;
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
  /** The answer this page came from (`null` for an empty page that needed no request). Not enumerable. */
  readonly lastResponse: LastResponse | null;
  /** Releases the page's memory now rather than when it is collected. Never needed. */
  free(): void;
  [Symbol.dispose](): void;
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
  /**
   * Releases the list's memory now rather than when it is collected (pages and walks
   * already handed out keep working). Never needed: lists, pages and walks are collected
   * like any object.
   */
  free(): void;
  [Symbol.dispose](): void;
}

export interface AccessToken {
  /** A JWT for `new QbitPay({ accessToken })` in the browser and `&accessToken=` on the payment page. */
  accessToken: string;
}

// ---- Accounts, balances, balance transactions -------------------------------------------

/** `accounts.retrieve()`: the merchant's fee rates and limits. */
export interface Account {
  feeRates: { payout: number; pay: number; trade: number; withdrawToken: number };
  limit: {
    pay: { currency: string; min: number; max: number };
    payout: { currency: string; min: number };
    withdrawToken: { currency: string; min: number };
  };
}

/** `balances.retrieve()`. */
export interface Balance {
  id: string;
  object: 'balance';
  currency: string;
  /** What a payout can use now. */
  available: number;
  /** Credits not available yet. */
  pending: number;
}

export type BalanceTransactionType = 'charge' | 'payout' | 'payout_cancel' | 'payout_failure';
export type BalanceTransactionStatus = 'pending' | 'available';

/** Every change of the balance. */
export interface BalanceTransaction {
  id: string;
  object: 'balanceTransaction';
  currency: string;
  /** Signed: a payout is negative. */
  amount: number;
  fee: number;
  /** `amount - fee` for a charge, `-(amount + fee)` for a payout. */
  net: number;
  availableOn: string;
  createdAt: string;
  type: BalanceTransactionType;
  /** The id of the charge or payout. */
  source: string;
  status: BalanceTransactionStatus;
  description: string;
}

/** Filters of a list of balance transactions: `source` (a charge or payout id) goes with `type`. */
export type BalanceTransactionListParams = ListParams & { status?: BalanceTransactionStatus } & (
  | { type?: BalanceTransactionType; source?: undefined }
  | { type: BalanceTransactionType; source: string }
);

// ---- Payouts ----------------------------------------------------------------------------

export type PayoutStatus = 'pending' | 'inTransit' | 'paid' | 'cancelled' | 'failed';
/** Where a payout can go (`destination.type`). */
export type DestinationType = 'bankAccount' | 'wallet' | 'Alipay' | 'PayPal' | 'Coins.ph' | 'GCash';

/** A bank transfer: `payerName`, `bankAccountNum` and `bankName` required. */
export interface BankAccountDestination extends BankDetails {
  type: 'bankAccount';
  payerName: string;
  bankAccountNum: string;
  bankName: string;
}

/** A crypto wallet: `payerName` and `addr` required. */
export interface WalletDestination {
  type: 'wallet';
  payerName: string;
  addr: string;
}

/** An account at Alipay, PayPal, Coins.ph or GCash: `payerName` and `bankAccountNum` (the account) required. */
export interface AccountDestination {
  type: 'Alipay' | 'PayPal' | 'Coins.ph' | 'GCash';
  payerName: string;
  bankAccountNum: string;
}

/** A payout's `destination`, by `type`; a missing field is refused before sending (`param: 'destination.addr'`). */
export type PayoutDestination = BankAccountDestination | WalletDestination | AccountDestination;

export interface PayoutCreateParams {
  /** From 1 to 1000000000, in units of `currency`. */
  amount: number;
  currency: Currency;
  destination: PayoutDestination;
  description?: string;
  externalOrderId?: string;
}

/** Money sent out. */
export interface Payout {
  id: string;
  object: 'payout';
  createdAt: string;
  amount: number;
  fee: number;
  currency: Currency;
  description: string | null;
  status: PayoutStatus;
  /** `destination.type`. */
  type: DestinationType;
  arrivalDate: string;
  externalOrderId: string | null;
  /** Where the money goes; the account number comes back as `accountNum`. */
  destination: PaymentMethodOf<DestinationType>;
}

export interface PayoutListParams extends ListParams {
  /** A destination's type, account number or address. */
  destination?: string;
  status?: PayoutStatus;
}

// ---- Markets, events ----------------------------------------------------------------------

export type TickerSide = 'ask' | 'bid';
/** `BASE/QUOTE`, e.g. `USDT/CNY`. */
export type MarketSymbol = `${BaseCurrency}/${QuoteCurrency}`;

export interface TickerParams<S extends TickerSide = TickerSide> {
  symbol: MarketSymbol;
  side: S;
}

/** A price, valid for 30 s; the field is the side asked for. */
export type Ticker<S extends TickerSide = TickerSide> = {
  symbol: MarketSymbol;
  /** Milliseconds since the epoch. */
  timestamp: number;
} & (S extends 'ask' ? { ask: number } : { bid: number });

export interface EventTestParams {
  /** Where to send the test event; default the account's configured URL. */
  cbUrl?: string;
}

/** What `events.test()` answers: the test event it sent (`livemode: false`). */
export type TestEventResult = WebhookEvent;

/** What an answer was: on every returned object (not enumerable, so not in `JSON.stringify`) and page. */
export interface LastResponse {
  statusCode: number;
  /** The `Request-Id` header. */
  requestId: string | null;
  headers: Headers;
}

/** A returned object: the server's fields (unknown ones too) and its `lastResponse`. */
export type Returned<T> = T & { readonly lastResponse: LastResponse };

/** What a `request` hook gets, before each attempt. Never a credential or a body. */
export interface RequestEvent {
  method: 'GET' | 'POST' | 'PUT';
  /** The path and query, e.g. `/api/v1/charges/ch_1`. */
  path: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The `Idempotency-Key` of a POST or PUT (the same on every attempt of a call). */
  idempotencyKey: string | null;
}

/** What a `response` hook gets, after each answer. */
export interface ResponseEvent extends RequestEvent {
  statusCode: number;
  requestId: string | null;
  /** From sending the attempt to its whole body read. */
  elapsedMs: number;
}

export type HookName = 'request' | 'response';

/** Markets: `ticker` is typed by the side asked for. */
export interface Markets {
  /** The price of one side of a market (`symbol`, e.g. `USDT/CNY`). */
  ticker<S extends TickerSide>(params: TickerParams<S>, options?: RequestOptions): Promise<Returned<Ticker<S>>>;
}
