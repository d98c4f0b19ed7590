// The sample merchant backend: what a shop's server does with QbitPay.
//
//   QBITPAY_API_KEY=sk_test_… QBITPAY_BASE_URL=http://127.0.0.1:PORT node www/server.mjs
//   stdout, first line: merchant backend listening on http://127.0.0.1:PORT
//
// It holds the API key and never lets it out: the browser gets a short-lived access token
// (read charges, mark one paid) and talks to QbitPay with it directly.
//
//   GET  /                    the shop page (www/public/)
//   GET  /qbitpay/esm/*, /qbitpay/wasm/*   the browser's copy of the `qbitpay` package
//   GET  /api/config          the QbitPay base URL for the browser, the catalogue, sandbox health
//   POST /api/session         a fresh access token for the browser
//   POST /api/checkout        {items: [{sku, qty}], paymentType} → a charge + an access token
//   POST /webhooks/qbitpay    a delivery: verified on the RAW body with qbitpay/webhook (400 if not)
//   GET  /api/events          server-sent events: every delivery (verified or rejected), sandbox up/down
//   POST /api/demo/forge      demo only: posts a tampered copy of the last event to /webhooks/qbitpay
//
// Env: QBITPAY_API_KEY (required), QBITPAY_BASE_URL (required: the sandbox's URL),
// PORT (default 8080; 0 = a free one). Listens on 127.0.0.1 only.

import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QbitPay, QbitPayAuthenticationError, QbitPayConnectionError, QbitPayError } from 'qbitpay';
import { verifyWebhook, signWebhook, QbitPaySignatureError } from 'qbitpay/webhook';

const here = path.dirname(fileURLToPath(import.meta.url));
const PUBLIC_DIR = path.join(here, 'public');

// The catalogue lives on the server: the browser sends SKUs and quantities, never prices.
export const CATALOGUE = [
  { sku: 'sencha', name: 'First-flush Sencha', blurb: 'Grassy, sweet, steamed in Shizuoka. 50 g tin.', price: 14.5, art: 'tin-green' },
  { sku: 'hojicha', name: 'Roasted Hojicha', blurb: 'Low caffeine, toasty and warm. 80 g pouch.', price: 12, art: 'pouch' },
  { sku: 'cup', name: 'Kiln-fired Cup', blurb: 'Hand-thrown stoneware, ash glaze. 180 ml.', price: 26, art: 'cup' },
  { sku: 'kettle', name: 'Cast-iron Kettle', blurb: 'Enamelled inside, 0.8 l, for every stove.', price: 64, art: 'kettle' },
];
const PAYMENT_TYPES = {
  PayPal: { quoteCurrency: 'USD' },
  Alipay: { quoteCurrency: 'CNY' },
  GCash: { quoteCurrency: 'PHP' },
};
const CURRENCY = 'USD';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
};

/** Where the installed `qbitpay` package is (node_modules/qbitpay → pkg/ in this repo). */
async function packageDir() {
  const require = createRequire(import.meta.url);
  return path.dirname(await realpath(require.resolve('qbitpay/package.json')));
}

const IMPORT_MAP = JSON.stringify({ imports: { qbitpay: '/qbitpay/esm/index.browser.mjs' } });

/**
 * @param {{apiKey: string, baseUrl: string, port?: number, log?: (line: string) => void}} o
 * @returns {Promise<{url: string, close(): Promise<void>}>}
 */
export async function startMerchantServer({ apiKey, baseUrl, port = 8080, log = (l) => console.error(l) }) {
  if (!apiKey) throw new Error('QBITPAY_API_KEY is required');
  if (!baseUrl) throw new Error('QBITPAY_BASE_URL is required (the sandbox URL)');
  baseUrl = baseUrl.replace(/\/+$/, '');
  const qbitpay = new QbitPay({ apiKey, baseUrl, maxRetries: 1, timeoutMs: 8000 });
  const pkgDir = await packageDir();

  // The page is the same for every request except for the CSP, which names the sandbox:
  // the page may talk to itself and to QbitPay, nothing else (no CDN, no fonts).
  const importMapHash = createHash('sha256').update(IMPORT_MAP).digest('base64');
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' 'sha256-${importMapHash}'`,
    `connect-src 'self' ${baseUrl}`,
    `frame-src 'self' ${baseUrl}`, // the hosted page, then its redirect back here
    `img-src 'self' data: ${baseUrl}`,
    "style-src 'self'",
    "frame-ancestors 'self'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');

  // ---- Deliveries and live updates -------------------------------------------------------
  const deliveries = []; // newest last, at most 100
  const seenEvents = new Set();
  const orders = new Map(); // externalOrderId → {items, total, fulfilled}
  const streams = new Set();
  let seq = 0;
  let sandboxUp = null;

  const send = (res, event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const broadcast = (event, data) => { for (const res of streams) send(res, event, data); };

  function record(entry) {
    entry.seq = ++seq;
    entry.at = new Date().toISOString();
    deliveries.push(entry);
    if (deliveries.length > 100) deliveries.shift();
    broadcast('delivery', entry);
    return entry;
  }

  async function checkSandbox() {
    let up = false;
    try {
      const r = await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(1500) });
      up = r.ok;
      await r.body?.cancel();
    } catch { up = false; }
    if (up !== sandboxUp) {
      sandboxUp = up;
      broadcast('sandbox', { up, url: baseUrl });
    }
    return up;
  }
  // Watch the sandbox only while someone is looking.
  const health = setInterval(() => { if (streams.size) checkSandbox(); }, 2000);
  health.unref();

  // ---- Helpers ---------------------------------------------------------------------------
  const scrub = (s) => String(s ?? '').split(apiKey).join('[api key]');

  function json(res, status, body) {
    const text = scrub(JSON.stringify(body));
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(text);
  }

  /** A QbitPay failure as the browser should see it (never the key, never a stack). */
  function upstream(res, err) {
    if (err instanceof QbitPayConnectionError) {
      sandboxUp = false;
      broadcast('sandbox', { up: false, url: baseUrl });
      return json(res, 502, { error: 'sandbox_unreachable', message: `QbitPay is not reachable at ${baseUrl}` });
    }
    if (err instanceof QbitPayAuthenticationError) {
      return json(res, 502, { error: 'merchant_auth', message: 'QbitPay refused this shop\'s API key' });
    }
    if (err instanceof QbitPayError) {
      return json(res, 502, { error: 'qbitpay_error', message: scrub(err.message), type: err.type, requestId: err.requestId });
    }
    log(`error: ${scrub(err && err.stack)}`);
    return json(res, 500, { error: 'internal', message: 'internal error' });
  }

  async function readBody(req, limit) {
    const chunks = [];
    let size = 0;
    for await (const c of req) {
      size += c.length;
      if (size > limit) return null;
      chunks.push(c);
    }
    return Buffer.concat(chunks);
  }

  /** The origin the browser used (for redirectUrl), if it is a loopback one; else ours. */
  function browserOrigin(req, self) {
    const host = req.headers.host || '';
    return /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(host) && host.endsWith(`:${self.port}`) ? `http://${host}` : self.url;
  }

  async function serveFile(res, dir, name, extraHeaders = {}) {
    // Only plain file names of the directory itself: no paths, no dot files.
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) return notFound(res);
    const type = MIME[path.extname(name)];
    if (!type) return notFound(res);
    let body;
    try {
      if (!(await readdir(dir)).includes(name)) return notFound(res);
      body = await readFile(path.join(dir, name));
    } catch { return notFound(res); }
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...extraHeaders });
    res.end(body);
  }
  const notFound = (res) => json(res, 404, { error: 'not_found' });

  // ---- Routes ----------------------------------------------------------------------------
  async function handle(req, res, self) {
    const url = new URL(req.url, 'http://x');
    const route = `${req.method} ${url.pathname}`;

    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
      const html = (await readFile(path.join(PUBLIC_DIR, 'index.html'), 'utf8')).replace('__IMPORT_MAP__', IMPORT_MAP);
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Security-Policy': csp,
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
      });
      return res.end(html);
    }
    if (req.method === 'GET' && url.pathname.startsWith('/qbitpay/esm/')) return serveFile(res, path.join(pkgDir, 'esm'), url.pathname.slice(13));
    if (req.method === 'GET' && url.pathname.startsWith('/qbitpay/wasm/')) return serveFile(res, path.join(pkgDir, 'wasm'), url.pathname.slice(14));

    switch (route) {
      case 'GET /api/config':
        return json(res, 200, {
          sandboxUrl: baseUrl,
          sandboxUp: await checkSandbox(),
          currency: CURRENCY,
          catalogue: CATALOGUE,
          paymentTypes: Object.entries(PAYMENT_TYPES).map(([type, v]) => ({ type, ...v })),
        });

      // A fresh token for the page (after expiry, or a sandbox restart). A token reads every
      // charge of the account and may mark a pending one paid: a real shop issues it only to
      // the buyer's own session (cookie) and keeps charge listings in its back office.
      case 'POST /api/session': {
        try {
          const { accessToken } = await qbitpay.accessToken.create();
          return json(res, 200, { accessToken });
        } catch (err) { return upstream(res, err); }
      }

      case 'POST /api/checkout': {
        const raw = await readBody(req, 16 * 1024);
        let input;
        try { input = JSON.parse(raw ? raw.toString('utf8') : ''); } catch { return json(res, 400, { error: 'bad_request', message: 'send JSON' }); }
        const items = Array.isArray(input?.items) ? input.items : [];
        const lines = [];
        for (const it of items) {
          const product = CATALOGUE.find((p) => p.sku === it?.sku);
          const qty = Number(it?.qty);
          if (!product || !Number.isInteger(qty) || qty < 1 || qty > 20) return json(res, 400, { error: 'bad_request', message: 'unknown item or quantity' });
          lines.push({ sku: product.sku, name: product.name, qty, price: product.price });
        }
        if (!lines.length) return json(res, 400, { error: 'empty_cart', message: 'the cart is empty' });
        const paymentType = PAYMENT_TYPES[input?.paymentType] ? input.paymentType : 'PayPal';
        const total = Math.round(lines.reduce((s, l) => s + l.qty * l.price * 100, 0)) / 100;
        const orderId = `order_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
        const origin = browserOrigin(req, self);
        try {
          const charge = await qbitpay.charges.create({
            amount: total,
            currency: CURRENCY,
            externalOrderId: orderId,
            cbUrl: `${self.url}/webhooks/qbitpay`,
            redirectUrl: `${origin}/?order=${orderId}`,
            quoteCurrency: PAYMENT_TYPES[paymentType].quoteCurrency,
            paymentType,
          });
          orders.set(orderId, { lines, total, chargeId: charge.id, fulfilled: false });
          const { accessToken } = await qbitpay.accessToken.create();
          log(`checkout ${orderId}: ${charge.id} ${total} ${CURRENCY}`);
          return json(res, 200, { charge, accessToken, order: { id: orderId, lines, total } });
        } catch (err) { return upstream(res, err); }
      }

      case 'POST /webhooks/qbitpay': {
        // The signature covers the exact bytes: verify the raw body, parse nothing before.
        const raw = await readBody(req, 1024 * 1024);
        if (raw === null) {
          record({ verified: false, code: 'payload_too_large', message: 'body over 1 MiB' });
          return json(res, 413, { error: 'payload_too_large' });
        }
        const signature = req.headers['qbitpay-signature'];
        let event;
        try {
          event = verifyWebhook(raw, signature, apiKey);
        } catch (err) {
          if (!(err instanceof QbitPaySignatureError)) return upstream(res, err);
          // What the delivery claimed to be, for the timeline only: never acted upon.
          let claimed = {};
          try { claimed = JSON.parse(raw.toString('utf8')); } catch { /* not JSON */ }
          const d = claimed && typeof claimed.data === 'object' && claimed.data ? claimed.data : {};
          const entry = record({
            verified: false,
            code: err.code,
            message: scrub(err.message),
            eventId: str(claimed?.id), type: str(claimed?.type),
            chargeId: str(d.id), orderId: str(d.externalOrderId), amount: num(d.amount), currency: str(d.currency),
          });
          log(`webhook rejected (${err.code}) #${entry.seq}`);
          res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
          return res.end(err.code);
        }
        const d = event.data && typeof event.data === 'object' ? event.data : {};
        const duplicate = seenEvents.has(event.id);
        seenEvents.add(event.id);
        let fulfilled = false;
        const order = orders.get(d.externalOrderId);
        // Fulfil only what this shop asked for: its charge, for the order's amount and currency.
        const matches = order && d.id === order.chargeId && d.amount === order.total && d.currency === CURRENCY;
        if (!duplicate && event.type === 'charge.succeeded' && matches && !order.fulfilled) {
          order.fulfilled = fulfilled = true; // here a real shop ships the order
        }
        record({
          verified: true, duplicate, fulfilled,
          eventId: str(event.id), type: str(event.type), createdAt: str(event.createdAt),
          chargeId: str(d.id), orderId: str(d.externalOrderId), status: str(d.status),
          amount: num(d.amount), currency: str(d.currency), attempt: (Number(event.pendingWebhooks) || 0) + 1,
        });
        log(`webhook verified ${event.type} ${d.id || ''}${duplicate ? ' (duplicate)' : ''}`);
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        return res.end('ok');
      }

      case 'GET /api/events': {
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-store',
          'X-Accel-Buffering': 'no',
        });
        res.write('retry: 2000\n\n');
        send(res, 'hello', { deliveries: deliveries.slice(-30), sandbox: { up: sandboxUp, url: baseUrl } });
        streams.add(res);
        const ping = setInterval(() => res.write(': ping\n\n'), 15000);
        req.on('close', () => { clearInterval(ping); streams.delete(res); });
        return undefined;
      }

      case 'POST /api/demo/forge': {
        // Demo only: what an attacker might try. Take the last real event (or make one up),
        // say it was paid ten times over, sign with a key that is not ours, post it to ourselves.
        const last = [...deliveries].reverse().find((x) => x.verified && x.chargeId);
        const forged = {
          id: `evt_forged${randomBytes(8).toString('hex')}`,
          type: 'charge.succeeded',
          object: 'event',
          createdAt: new Date().toISOString(),
          pendingWebhooks: 0,
          livemode: false,
          data: {
            id: last?.chargeId || 'ch_forged', object: 'charge', status: 'closed', paid: true,
            amount: (last?.amount || 100) * 10, currency: CURRENCY, externalOrderId: last?.orderId || 'order_forged',
          },
        };
        const body = JSON.stringify(forged);
        const r = await fetch(`${self.url}/webhooks/qbitpay`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'QbitPay-Signature': signWebhook(body, 'sk_test_not_the_merchants_key') },
          body,
        });
        return json(res, 200, { status: r.status, answer: await r.text() });
      }

      default:
        if (req.method === 'GET') return serveFile(res, PUBLIC_DIR, url.pathname.slice(1));
        return json(res, 404, { error: 'not_found' });
    }
  }

  const self = { port: 0, url: '' };
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    handle(req, res, self).catch((err) => {
      log(`error: ${scrub(err && err.stack)}`);
      if (!res.headersSent) json(res, 500, { error: 'internal', message: 'internal error' });
      else res.destroy();
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  self.port = server.address().port;
  self.url = `http://127.0.0.1:${self.port}`;
  checkSandbox();
  return {
    url: self.url,
    close() {
      clearInterval(health);
      for (const res of streams) res.end();
      const closed = new Promise((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      return closed;
    },
  };
}

const str = (v) => (typeof v === 'string' ? v.slice(0, 200) : undefined);
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

// ---- As a program ------------------------------------------------------------------------
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = process.env.PORT === undefined ? 8080 : Number(process.env.PORT);
  let server;
  try {
    server = await startMerchantServer({ apiKey: process.env.QBITPAY_API_KEY, baseUrl: process.env.QBITPAY_BASE_URL, port });
  } catch (err) {
    console.error(err.code === 'EADDRINUSE' ? `port ${port} is in use: set PORT (or DEMO_PORT for make demo)` : err.message);
    process.exit(1);
  }
  console.log(`merchant backend listening on ${server.url}`);
  const stop = () => server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
