/** Fields every QbitPay error may carry. Credentials never appear in any of them. */
export interface QbitPayErrorFields {
  type?: string;
  detail?: unknown;
  statusCode?: number;
  requestId?: string;
  param?: string;
  raw?: unknown;
  code?: string;
  retryAfter?: number;
  cause?: unknown;
}

export class QbitPayError extends Error {
  constructor(message: string, fields?: QbitPayErrorFields);
  /** `invalid_request_error`, `authentication_error`, `rate_limit_error`, `api_error`, `connection_error` or `signature_verification_error`. */
  readonly type: string;
  readonly detail?: unknown;
  /** HTTP status, when the server answered. */
  readonly statusCode?: number;
  /** The server's `Request-Id`, to quote when asking for support. */
  readonly requestId?: string;
  /** The parameter at fault, e.g. `amount` or `destination.addr`. */
  readonly param?: string;
  /** The error body as the server sent it. */
  readonly raw?: unknown;
  /**
   * What went wrong, where a subclass or case says more; `wasm_unavailable`: the WebAssembly
   * module could not be loaded (in a browser, usually a Content-Security-Policy without
   * `'wasm-unsafe-eval'` in `script-src`), thrown by every call that needs it; `cause` is the
   * load error.
   */
  readonly code?: string;
  toJSON(): Record<string, unknown>;
}
/** 400 and 404, and parameters refused before any request is sent. */
export class QbitPayInvalidRequestError extends QbitPayError {}
/** 401 and 403. */
export class QbitPayAuthenticationError extends QbitPayError {}
/** 429. */
export class QbitPayRateLimitError extends QbitPayError {
  /** Seconds the server asked to wait (Retry-After, in seconds or an HTTP date), when it said. */
  readonly retryAfter?: number;
}
/** 5xx and any other unexpected answer. */
export class QbitPayAPIError extends QbitPayError {
  /**
   * Set when the client refused the answer whatever its status: `redirect` (never followed;
   * the message names the status and the Location's origin), `response_too_large` (over
   * `maxResponseBytes`, or a 2xx of more JSON values than one for every 64 bytes of it), `invalid_response` (a 2xx that is not the object the call expects;
   * `raw` holds the start of the body), `cursor_not_advancing` (a list page that ends at the
   * cursor it was fetched from, or one fetched before: the message names the cursor; a walk
   * stops there instead of fetching it again forever; or a page that says more items follow
   * but has no item id at its end to fetch them after).
   */
  readonly code?: 'redirect' | 'response_too_large' | 'invalid_response' | 'cursor_not_advancing';
}
/** No answer: network failure or timeout. */
export class QbitPayConnectionError extends QbitPayError {
  /** Why no response arrived: the attempt timed out, the network failed, or `signal` aborted it. */
  readonly code?: 'timeout' | 'network' | 'aborted';
}

export type SignatureErrorCode =
  | 'missing_signature'
  | 'malformed_signature'
  | 'signature_mismatch'
  | 'invalid_payload'
  | 'payload_too_large'
  | 'event_too_old';

/** A webhook delivery that verifyWebhook refused. */
export class QbitPaySignatureError extends QbitPayError {
  readonly code: SignatureErrorCode;
}
