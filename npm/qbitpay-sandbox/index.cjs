'use strict';
// startSandbox(): the sandbox binary as a child process of a test runner or script, on a port
// of its own, stopped by stop() or, at the latest, when this process exits.

const { spawn } = require('node:child_process');
const { createInterface } = require('node:readline');
const { sandboxBinary, currentPlatform, platformPackage, SandboxBinaryError } = require('./lib/binary.cjs');

/** The key of the sandbox's one account when no `apiKeys` are given (as the binary's own default). */
const DEFAULT_API_KEY = 'sk_test_qbitpay_demo';

// Options of startSandbox itself; every other option is a flag of the binary.
const OWN_OPTIONS = new Set(['apiKeys', 'apiKey', 'binary', 'args', 'env', 'cwd', 'stderr', 'startTimeout']);
const STDERR_KEPT = 64 * 1024;
const STOP_GRACE_MS = 10_000; // the binary gives open requests 5 s and its log 1 s

const asyncDispose = Symbol.asyncDispose || Symbol.for('nodejs.asyncDispose');
const kebab = (name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (flag) => flag.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
const list = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** `{ autoConfirmAfter: 2, allowRemoteWebhooks: true }` → `['--auto-confirm-after=2', '--allow-remote-webhooks']`. */
function flags(options) {
  const argv = [];
  for (const [name, value] of Object.entries(options)) {
    if (OWN_OPTIONS.has(name)) continue;
    for (const v of list(value)) {
      if (v === false) continue;
      if (v === true) argv.push(`--${kebab(name)}`);
      else if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) argv.push(`--${kebab(name)}=${v}`);
      else throw new TypeError(`startSandbox: option ${name} must be a string, a finite number or a boolean (got ${String(v)})`);
    }
  }
  return argv;
}

/** The binary's refusal of an unknown flag made from an option, told in the option's name. */
function unknownOption(why, options) {
  const flag = /unexpected argument '--([a-z0-9-]+)/.exec(why)?.[1];
  const option = flag && Object.keys(options).find((name) => !OWN_OPTIONS.has(name) && kebab(name) === flag);
  if (!option) return why;
  const similar = /a similar argument exists: '--([a-z0-9-]+)'/.exec(why)?.[1];
  return `qbitpay-sandbox: startSandbox() has no option ${option}${similar ? ` (did you mean ${camel(similar)}?)` : ''}: `
    + `the options are the sandbox's flags in camelCase (npx qbitpay-sandbox --help).\n${why}`;
}

/** One function per line of a stream (also draining it). */
function onLines(stream, fn) {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', fn);
}

/**
 * Start a sandbox and resolve once it listens.
 * @param {import('./index').SandboxOptions} [options]
 * @returns {Promise<import('./index').Sandbox>}
 */
async function startSandbox(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError('startSandbox: options must be an object');
  const apiKeys = [...new Set([...list(options.apiKeys), ...list(options.apiKey)])];
  for (const k of apiKeys) if (typeof k !== 'string') throw new TypeError('startSandbox: apiKeys must be strings');
  if (apiKeys.length === 0) apiKeys.push(DEFAULT_API_KEY);
  const argv = [...apiKeys.map((k) => `--api-key=${k}`), ...flags(options), ...list(options.args).map(String), '--exit-on-stdin-close'];
  const binary = options.binary || sandboxBinary();
  const startTimeout = options.startTimeout ?? 30_000;
  const sink =
    typeof options.stderr === 'function' ? options.stderr
      : options.stderr === 'inherit' ? (line) => process.stderr.write(`${line}\n`)
        : null;

  // stdin: a pipe only this process holds (--exit-on-stdin-close), so the sandbox also goes
  // when this process dies without stop(), even by SIGKILL.
  const child = spawn(binary, argv, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env || process.env,
    cwd: options.cwd,
    windowsHide: true,
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stdin.on('error', () => {}); // EPIPE once the sandbox is gone
  let stderrText = '';
  onLines(child.stderr, (line) => {
    if (stderrText.length < STDERR_KEPT) stderrText += `${line}\n`;
    if (sink) sink(line);
  });

  let url;
  try {
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`qbitpay-sandbox did not start within ${startTimeout} ms`)), startTimeout);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`qbitpay-sandbox: cannot run ${binary}: ${e.message}`));
      });
      let first = true;
      onLines(child.stdout, (line) => {
        if (!first) return;
        first = false;
        clearTimeout(timer);
        const m = /listening on (http:\/\/\S+)$/.exec(line);
        if (m) resolve(m[1]);
        else reject(new Error(`qbitpay-sandbox: unexpected first line on stdout: ${line}`));
      });
      exited.then(async ({ code, signal }) => {
        clearTimeout(timer);
        // The binary's own words (stderr ends when it exits; wait for the last lines).
        await new Promise((r) => (child.stderr.readableEnded ? r() : child.stderr.once('close', r)));
        const why = unknownOption(stderrText.trim() || `exited (${signal || `code ${code}`}) before listening`, options);
        const err = new Error(why.startsWith('qbitpay-sandbox') ? why : `qbitpay-sandbox: ${why}`);
        Object.assign(err, { exitCode: code, signal, stderr: stderrText });
        reject(err);
      });
    });
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    throw e;
  }

  // From here on the sandbox does not keep this process alive: a script or runner that
  // forgets stop() still exits, and the sandbox with it (its stdin closes).
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) s.unref?.();

  let stopping;
  const stop = () => {
    if (!stopping) {
      child.ref();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      stopping = exited.then(() => clearTimeout(force));
    }
    return stopping;
  };

  const control = connectSandbox({ url, apiKey: apiKeys[0] });
  return {
    ...control,
    apiKeys,
    pid: child.pid,
    /** Delete everything of this sandbox's accounts (objects, events, schedule); the clock stays. */
    async reset() {
      const { data } = await request(url, null, 'GET', '/_sandbox/accounts');
      for (const account of data.filter((a) => a.active)) {
        await request(url, null, 'POST', `/_sandbox/accounts/${encodeURIComponent(account.id)}/reset`);
      }
    },
    stop,
    [asyncDispose]: stop,
  };
}

// ---------------------------------------------------------------- the control API

/** An error the sandbox answered (`status`, `type`, `param` as in its JSON), or that it could not be reached. */
class SandboxError extends Error {
  constructor(message, { status, body, cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = 'SandboxError';
    this.status = status;
    this.type = body?.type;
    this.param = body?.param;
    this.body = body;
  }
}

/** One call of the control API: the JSON answer, or a SandboxError. `apiKey` null: no credentials. */
async function request(url, apiKey, method, path, body) {
  const headers = {};
  if (apiKey !== null) headers.authorization = `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  let text;
  for (let attempt = 1; ; attempt++) {
    try {
      res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      text = await res.text();
      break;
    } catch (e) {
      const why = e?.cause?.code || e?.cause?.message || e?.message || String(e);
      // A kept-alive connection the sandbox closed while this process was busy (a blocking
      // call in a test): a read is sent again once; a change is not (it may have been made).
      if (method === 'GET' && attempt === 1 && /^(UND_ERR_SOCKET|ECONNRESET|EPIPE)$/.test(why)) continue;
      throw new SandboxError(`qbitpay-sandbox: cannot reach the sandbox at ${url} (${why}): is it running?`, { cause: e });
    }
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const what = json?.message || text.slice(0, 200);
    throw new SandboxError(`qbitpay-sandbox: ${method} ${path.split('?')[0]}: ${res.status} ${what}`, { status: res.status, body: json });
  }
  if (json === undefined) throw new SandboxError(`qbitpay-sandbox: ${method} ${path}: not the sandbox's JSON (is ${url} a qbitpay-sandbox?)`, { status: res.status });
  return json;
}

const FILTERS = ['type', 'objectId', 'eventId'];

/** `'charge.succeeded'` or `{ type, objectId, eventId }` (an `object` with an `id` is taken for its id). */
function filterOf(filter, who) {
  if (filter === undefined || filter === null) return {};
  if (typeof filter === 'string') return { type: filter };
  if (typeof filter !== 'object') throw new TypeError(`${who}: the filter must be an event type or { type, objectId, eventId }`);
  const out = {};
  for (const [k, v] of Object.entries(filter)) {
    if (v === undefined) continue;
    if (!FILTERS.includes(k)) throw new TypeError(`${who}: unknown filter ${k} (filters: ${FILTERS.join(', ')})`);
    const value = v && typeof v === 'object' && typeof v.id === 'string' ? v.id : v;
    if (typeof value !== 'string' || value === '') throw new TypeError(`${who}: ${k} must be a non-empty string`);
    out[k] = value;
  }
  return out;
}

const describeFilter = (f) =>
  [f.type || 'event', f.objectId && `of ${f.objectId}`, f.eventId && `(${f.eventId})`].filter(Boolean).join(' ');

/** One line of what a delivery came to. */
function describeDelivery({ event, webhook, attempts }) {
  const last = attempts[attempts.length - 1];
  const about = event.data?.id ? ` (${event.data.id})` : '';
  let state;
  if (last?.statusCode != null) state = `HTTP ${last.statusCode}`;
  else if (last?.error) state = last.error;
  else if (!webhook.url) state = 'no webhook URL: the object has no cbUrl and the sandbox no webhookUrl';
  else if (webhook.nextAttemptAt) state = `not sent yet (due ${webhook.nextAttemptAt} sandbox time: advanceClock() to send it now)`;
  else state = webhook.status;
  const n = attempts.length;
  return `${event.id} ${event.type}${about} → ${state}${n > 1 ? ` (${n} attempts)` : ''}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A URL's hostname (as WHATWG URL writes it) that names this machine, as the sandbox's own rule has it. */
function isLoopbackHost(hostname) {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || (h.endsWith('.localhost') && !h.startsWith('.') && !h.includes('..')) || h === '[::1]'
    || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The control methods for a sandbox running elsewhere (a globalSetup, Playwright's
 * webServer, `npx qbitpay-sandbox`), acting for the account of `apiKey`.
 * @param {{ url: string, apiKey: string }} options
 * @returns {import('./index').SandboxControl}
 */
function connectSandbox(options) {
  const { url: given, apiKey } = options || {};
  let url;
  try {
    url = new URL(given);
  } catch {
    throw new TypeError(`connectSandbox: url must be the sandbox's URL (http://127.0.0.1:PORT), not ${JSON.stringify(given)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`connectSandbox: url must be http(s), not ${given}`);
  // The sandbox answers only on this machine: the key is never sent anywhere else.
  if (!isLoopbackHost(url.hostname)) {
    throw new TypeError(`connectSandbox: url must be a loopback address (http://127.0.0.1:PORT, http://localhost:PORT), where the sandbox answers; not ${url.host}`);
  }
  if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('connectSandbox: apiKey must be the API key of an account of the sandbox');
  const base = url.origin;
  const call = (method, path, body) => request(base, apiKey, method, path, body);

  async function deliveries(filter, limit = 1000) {
    const q = new URLSearchParams({ ...filterOf(filter, 'deliveries'), limit: String(limit) }).toString();
    return (await call('GET', `/_sandbox/deliveries?${q}`)).data;
  }

  return {
    url: base,
    apiKey,
    dashboardUrl: `${base}/`,
    /** Move the sandbox clock forward, running every job that falls due on the way. */
    advanceClock: (seconds) => request(base, null, 'POST', '/_sandbox/clock/advance', { seconds }),
    /** Make an event of `type` happen (a new charge or payout, or the one named), with its deliveries. */
    async trigger(type, opts = {}) {
      if (typeof type !== 'string') throw new TypeError('trigger: type must be an event type such as charge.succeeded');
      if (opts === null || typeof opts !== 'object') throw new TypeError('trigger: options must be an object');
      const body = { type };
      for (const [k, v] of Object.entries(opts)) {
        if (v === undefined) continue;
        body[k] = (k === 'charge' || k === 'payout') && v && typeof v === 'object' ? v.id : v;
      }
      return call('POST', '/_sandbox/trigger', body);
    },
    /** The account's events that match, oldest first, each `{ event, webhook, attempts }`. */
    deliveries: (filter) => deliveries(filter),
    /** Resolves `{ event, webhook, attempts }` once a matching event has been sent to its URL (whatever came back). */
    async waitForWebhook(filter, { timeout = 10_000, interval = 50 } = {}) {
      const f = filterOf(filter, 'waitForWebhook');
      if (!(Number.isFinite(timeout) && timeout >= 0)) throw new TypeError('waitForWebhook: timeout must be milliseconds');
      const end = Date.now() + timeout;
      for (;;) {
        const seen = await deliveries(f, 100);
        const sent = seen.filter((d) => d.attempts.some((a) => a.sent));
        if (sent.length) return sent[sent.length - 1];
        if (Date.now() >= end) {
          let saw;
          if (seen.length) saw = `It saw:\n  ${seen.slice(-10).map(describeDelivery).join('\n  ')}`;
          else {
            const any = await deliveries({}, 5);
            saw = any.length
              ? `No event matches; the account's latest:\n  ${any.map(describeDelivery).join('\n  ')}`
              : 'The account has no events.';
          }
          const err = new SandboxError(`qbitpay-sandbox: waitForWebhook: no ${describeFilter(f)} was sent within ${timeout} ms. ${saw}`);
          err.seen = seen;
          throw err;
        }
        await sleep(Math.min(Math.max(10, Number(interval) || 0), Math.max(0, end - Date.now())));
      }
    },
    /** Send an event again now, once: the same id, body and signature. */
    async replay(eventId) {
      if (typeof eventId !== 'string' || eventId === '') throw new TypeError('replay: eventId must be an event id (evt_…)');
      return call('POST', `/_sandbox/events/${encodeURIComponent(eventId)}/replay`);
    },
    /** Delete everything of this key's account (objects, events, schedule); the clock stays. */
    async reset() {
      await call('POST', '/_sandbox/reset');
    },
  };
}

module.exports = {
  startSandbox,
  connectSandbox,
  SandboxError,
  sandboxBinary,
  currentPlatform,
  platformPackage,
  SandboxBinaryError,
  DEFAULT_API_KEY,
};
