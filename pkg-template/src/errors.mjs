// The error classes of both entries (`qbitpay` and `qbitpay/webhook`). One module, loaded
// once per runtime by both, so `instanceof` holds whichever entry threw.

export class QbitPayError extends Error {
  /**
   * @param {string} message
   * @param {{type?: string, detail?: unknown, statusCode?: number, requestId?: string,
   *          param?: string, raw?: unknown, code?: string, cause?: unknown}} [fields]
   */
  constructor(message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.type = fields.type ?? this.constructor.defaultType ?? 'api_error';
    this.detail = fields.detail;
    this.statusCode = fields.statusCode;
    this.requestId = fields.requestId;
    this.param = fields.param;
    this.raw = fields.raw;
    if (fields.code !== undefined) this.code = fields.code;
  }

  // What JSON.stringify(err) shows: the fields, never a credential (none is ever stored).
  toJSON() {
    const out = { name: this.name, type: this.type, message: this.message };
    for (const k of ['code', 'statusCode', 'requestId', 'param', 'detail', 'retryAfter']) {
      if (this[k] !== undefined) out[k] = this[k];
    }
    return out;
  }
}

// 400 and 404: a parameter is missing or invalid, or the object does not exist.
export class QbitPayInvalidRequestError extends QbitPayError {
  static defaultType = 'invalid_request_error';
}

// 401 and 403: no valid API key or access token, or not allowed with it.
export class QbitPayAuthenticationError extends QbitPayError {
  static defaultType = 'authentication_error';
}

// 429: slow down; `retryAfter` is in seconds when the server sent Retry-After.
export class QbitPayRateLimitError extends QbitPayError {
  static defaultType = 'rate_limit_error';
  constructor(message, fields = {}) {
    super(message, fields);
    this.retryAfter = fields.retryAfter;
  }
}

// 5xx and anything else unexpected from the server; `code` when the client refused the
// answer (`redirect`, `response_too_large`, `invalid_response`).
export class QbitPayAPIError extends QbitPayError {
  static defaultType = 'api_error';
}

// The request never got an answer: network failure or timeout.
export class QbitPayConnectionError extends QbitPayError {
  static defaultType = 'connection_error';
}

// A webhook was not accepted by verifyWebhook; `code` says why.
export class QbitPaySignatureError extends QbitPayError {
  static defaultType = 'signature_verification_error';
}

// Spelled out so the names survive minifiers.
for (const [cls, name] of [[QbitPayError, 'QbitPayError'],
  [QbitPayInvalidRequestError, 'QbitPayInvalidRequestError'],
  [QbitPayAuthenticationError, 'QbitPayAuthenticationError'], [QbitPayRateLimitError, 'QbitPayRateLimitError'],
  [QbitPayAPIError, 'QbitPayAPIError'], [QbitPayConnectionError, 'QbitPayConnectionError'],
  [QbitPaySignatureError, 'QbitPaySignatureError']]) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}

/** The class for an error kind as the Rust core names it. */
export const errorClasses = {
  invalid_request: QbitPayInvalidRequestError,
  authentication: QbitPayAuthenticationError,
  rate_limit: QbitPayRateLimitError,
  api: QbitPayAPIError,
  connection: QbitPayConnectionError,
  signature: QbitPaySignatureError,
};
