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
 * camelCase: `autoConfirmAfter: 2` is `--auto-confirm-after=2`, `true` is a flag without a value,
 * an array repeats the flag. `npx qbitpay-sandbox --help` lists them all.
 */
export interface SandboxOptions {
  /** The accounts: one per API key. Default: one account with `DEFAULT_API_KEY`. */
  apiKeys?: string | string[];
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
  /** Any other flag of the binary. */
  [flag: string]: string | number | boolean | readonly (string | number)[] | ((line: string) => void) | Record<string, string | undefined> | undefined;
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

export interface Sandbox {
  /** `http://127.0.0.1:PORT`: the client's `baseUrl`. */
  readonly url: string;
  /** The first of `apiKeys`. */
  readonly apiKey: string;
  /** One account per key. */
  readonly apiKeys: readonly string[];
  /** The dashboard: accounts, charges, payouts, events and every webhook attempt; buttons to move them on. */
  readonly dashboardUrl: string;
  /** The sandbox's process id. */
  readonly pid: number;
  /**
   * Move the sandbox clock forward (seconds > 0) and run every job that falls due on the way
   * (charge expiry, auto-confirm, payout steps, webhook retries) before resolving.
   */
  advanceClock(seconds: number): Promise<SandboxClock>;
  /** Delete every object, event and scheduled job of this sandbox's accounts. The clock stays where it is. */
  reset(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s); resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

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
