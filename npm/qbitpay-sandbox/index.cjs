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
        const why = stderrText.trim() || `exited (${signal || `code ${code}`}) before listening`;
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

  async function control(method, path, body) {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = new Error(`qbitpay-sandbox: ${method} ${path}: ${res.status} ${json?.message || text.slice(0, 200)}`);
      Object.assign(err, { status: res.status, body: json });
      throw err;
    }
    return json;
  }

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

  return {
    url,
    apiKey: apiKeys[0],
    apiKeys,
    dashboardUrl: `${url}/`,
    pid: child.pid,
    /** Move the sandbox clock forward, running every job that falls due on the way. */
    advanceClock: (seconds) => control('POST', '/_sandbox/clock/advance', { seconds }),
    /** Delete everything of this sandbox's accounts (objects, events, schedule); the clock stays. */
    async reset() {
      const { data } = await control('GET', '/_sandbox/accounts');
      for (const account of data.filter((a) => a.active)) {
        await control('POST', `/_sandbox/accounts/${encodeURIComponent(account.id)}/reset`);
      }
    },
    stop,
    [asyncDispose]: stop,
  };
}

module.exports = { startSandbox, sandboxBinary, currentPlatform, platformPackage, SandboxBinaryError, DEFAULT_API_KEY };
