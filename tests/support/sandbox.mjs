// Start the local QbitPay sandbox (target/debug/qbitpay-sandbox) for a test file:
//   const sb = await startSandbox({ args: ['--rate-limit', '2'] });  // sb.url, sb.apiKey, sb.stop()
// Built by `cargo build -p qbitpay-sandbox` (make test does it); QBITPAY_SANDBOX overrides the path.
// Every server listens on 127.0.0.1 with a port of its own; nothing leaves the machine.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from './server-process.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SANDBOX_BIN = process.env.QBITPAY_SANDBOX || path.join(root, 'target', 'debug', 'qbitpay-sandbox');

/**
 * @param {{args?: string[], apiKeys?: string[], verbose?: boolean}} [o]
 * @returns {Promise<{url: string, apiKey: string, apiKeys: string[], stop(): Promise<void>, process: import('node:child_process').ChildProcess}>}
 */
export async function startSandbox({ args = [], apiKeys, verbose = !!process.env.QBITPAY_SANDBOX_VERBOSE } = {}) {
  if (!existsSync(SANDBOX_BIN)) throw new Error(`no sandbox binary at ${SANDBOX_BIN}: run cargo build -p qbitpay-sandbox`);
  const keys = apiKeys || [`sk_test_${randomBytes(12).toString('hex')}`];
  const argv = ['--host', '127.0.0.1', '--port', '0', ...keys.flatMap((k) => ['--api-key', k]), ...args];
  const server = await startServerProcess({ command: SANDBOX_BIN, args: argv, name: 'sandbox', verbose });
  return { ...server, apiKey: keys[0], apiKeys: keys };
}

/**
 * A `fetch` for the client's `fetch` option that records every request (method, url,
 * headers) before passing it to the global fetch.
 */
export function countingFetch(inner = (...a) => globalThis.fetch(...a)) {
  const calls = [];
  const f = (url, init = {}) => {
    calls.push({ url: String(url), method: init.method || 'GET', headers: { ...(init.headers || {}) }, body: init.body });
    return inner(url, init);
  };
  f.calls = calls;
  return f;
}

/**
 * A `serve(handler)` for a test file: each call starts a stub server (startStubServer), and
 * all of them are stopped after the file's tests (`after` from node:test).
 */
export function stubServers(after) {
  const servers = [];
  after(() => Promise.all(servers.map((s) => s.stop())));
  return async (handler) => {
    const s = await startStubServer(handler);
    servers.push(s);
    return s;
  };
}

/** A local HTTP server that answers nothing (for timeouts) or what `handler` says. */
export async function startStubServer(handler) {
  const http = await import('node:http');
  const sockets = new Set();
  const server = http.createServer((req, res) => { if (handler) handler(req, res); });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stop() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
