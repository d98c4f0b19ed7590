// `make demo`: start the QbitPay sandbox and the sample merchant backend, print the URL to
// open; Ctrl-C (or SIGTERM) stops both. Both listen on 127.0.0.1 only.
//
// Env: DEMO_PORT (merchant backend, default 8080), SANDBOX_PORT (default 0: a free port),
//      QBITPAY_API_KEY (default sk_test_qbitpay_demo), AUTO_CONFIRM_SECS (default 2),
//      QBITPAY_SANDBOX (the sandbox binary; default target/sandbox, else target/debug).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = process.env.QBITPAY_SANDBOX
  || [path.join(root, 'target', 'sandbox', 'qbitpay-sandbox'), path.join(root, 'target', 'debug', 'qbitpay-sandbox')].find(existsSync);
if (!bin || !existsSync(bin)) {
  console.error('no qbitpay-sandbox binary: run `cargo build -p qbitpay-sandbox --profile sandbox` (make demo does)');
  process.exit(1);
}
const apiKey = process.env.QBITPAY_API_KEY || 'sk_test_qbitpay_demo';
const demoPort = process.env.DEMO_PORT || '8080';
const sandboxPort = process.env.SANDBOX_PORT || '0';
const autoConfirm = process.env.AUTO_CONFIRM_SECS || '2';

const children = new Set();
let stopping = false;

/** Spawn a server and resolve with the URL in its first stdout line. */
function start(name, cmd, args, env, pattern) {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  // Logs, prefixed; the shop's health checks of the sandbox (GET / every 2 s) left out.
  const prefix = (stream, out) => createInterface({ input: stream }).on('line', (l) => {
    if (!/^GET \/ 200 /.test(l)) out.write(`[${name}] ${l}\n`);
  });
  const lines = createInterface({ input: child.stdout });
  prefix(child.stderr, process.stderr);
  child.once('exit', (code, signal) => {
    children.delete(child);
    // A Ctrl-C reaches the children too: give our own SIGINT handler a moment to run first.
    setTimeout(() => {
      if (stopping) return;
      console.error(`${name} exited (${signal || code}); stopping the demo`);
      shutdown(1);
    }, 200);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 15 s`)), 15_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = pattern.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`${name}: unexpected first line: ${line}`));
      lines.on('line', (l) => process.stdout.write(`[${name}] ${l}\n`));
    });
    child.once('exit', () => { clearTimeout(timer); reject(new Error(`${name} exited before listening`)); });
  });
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  const waits = [...children].map((c) => new Promise((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once('exit', r);
    c.kill('SIGTERM');
    setTimeout(() => { c.kill('SIGKILL'); r(); }, 4000).unref();
  }));
  await Promise.all(waits);
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('SIGHUP', () => shutdown(0));
// Last resort (an uncaught error, process.exit elsewhere): never leave a server behind.
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

try {
  const sandboxUrl = await start('sandbox', bin, [
    '--host', '127.0.0.1', '--port', sandboxPort, '--api-key', apiKey,
    '--auto-confirm-after', autoConfirm, '--webhook-retry-interval', '5',
  ], {}, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  const shopUrl = await start('shop', process.execPath, [path.join(root, 'www', 'server.mjs')], {
    QBITPAY_API_KEY: apiKey, QBITPAY_BASE_URL: sandboxUrl, PORT: demoPort,
  }, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  console.log(`
  Kettle & Kiln, the QbitPay sample checkout, is running.

    Open               ${shopUrl}/
    Sandbox dashboard  ${sandboxUrl}/  (charges, webhook deliveries, the clock)

  QbitPay sandbox   ${sandboxUrl}  (API key ${apiKey}, auto-confirm after ${autoConfirm} s)
  Merchant backend  ${shopUrl}  (www/server.mjs)
  Ctrl-C stops both.
`);
} catch (err) {
  console.error(`make demo: ${err.message}`);
  await shutdown(1);
}
