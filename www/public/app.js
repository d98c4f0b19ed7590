// The shop page. It holds an access token (never the API key): with it the `qbitpay`
// client, loaded in this browser as an ES module, reads charges straight from QbitPay.
import { QbitPay, QbitPayAuthenticationError, QbitPayConnectionError } from 'qbitpay';

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 5;
const TERMINAL = new Set(['closed', 'cancelled']);
const STEPS = ['pending', 'buyerPaid', 'sellerConfirmed', 'closed'];
const STATUS_LABEL = {
  pending: 'Awaiting payment', buyerPaid: 'Payment reported', sellerConfirmed: 'Confirmed',
  closed: 'Complete', cancelled: 'Cancelled', dispute: 'In dispute',
};
const STATUS_NOTE = {
  pending: 'Waiting for your payment on the QbitPay page.',
  buyerPaid: 'You reported the payment. QbitPay is confirming it with the seller…',
  sellerConfirmed: 'Payment confirmed: we are packing your order.',
  closed: 'All done. Thank you for your order!',
  cancelled: 'This charge expired or failed. Your cart is still here: try again.',
  dispute: 'This payment is in dispute. We will be in touch.',
};

// ---- Small helpers -------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) e.append(c);
  return e;
}
function money(amount, currency = 'USD') {
  if (typeof amount !== 'number') return '—';
  try { return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount); }
  catch { return `${amount.toFixed(2)} ${currency}`; }
}
const clock = (d) => new Date(d).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const shortDate = (d) => new Date(d).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const shortId = (id) => (id && id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id || '—');
function toast(text, kind = 'info') {
  const t = el('div', { class: `toast ${kind}`, text });
  $('toasts').append(t);
  setTimeout(() => t.classList.add('out'), 3600);
  setTimeout(() => t.remove(), 4000);
}
async function post(path, body) {
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  } catch {
    throw Object.assign(new Error('The shop\'s server is not answering.'), { error: 'backend_unreachable' });
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.message || `HTTP ${res.status}`), data, { status: res.status });
  return data;
}

// ---- The iframe's return leg ---------------------------------------------------------------
// After "I have paid" the hosted page sends the payer to redirectUrl (this page, ?order=…).
// Inside the checkout iframe that means: tell the shop window, which closes the dialog.
const returnedOrder = new URLSearchParams(location.search).get('order');
if (returnedOrder && window.parent !== window) {
  window.parent.postMessage({ type: 'qbitpay:return', order: returnedOrder }, location.origin);
  document.body.className = 'embedded';
  document.body.replaceChildren(el('div', { class: 'returning', text: 'Payment reported. Back to the shop…' }));
} else {
  main();
}

function main() {
  let config = null;
  let token = null;
  let client = null;
  let charge = null;
  let pollTimer = null;
  let sandboxUp = null;
  const cart = new Map();
  let recent = { page: null, index: 0, dir: 'next', noOlder: false };

  // ---- State banners -----------------------------------------------------------------------
  function markSandbox(up) {
    if (up === sandboxUp) return;
    const was = sandboxUp;
    sandboxUp = up;
    const s = $('sandbox-state');
    s.dataset.state = up ? 'up' : 'down';
    s.lastElementChild.textContent = up ? 'QbitPay connected' : 'QbitPay unreachable';
    $('down-url').textContent = config ? config.sandboxUrl : '';
    $('banner-down').hidden = up;
    $('open-pay').disabled = !up;
    updatePay();
    if (up && was === false) recover();
  }
  async function recover() {
    try {
      await newSession(); // a restarted sandbox has forgotten every token it issued
      await loadRecent();
      if (charge) await refreshCharge();
    } catch { /* the banners say what is wrong */ }
  }
  function showExpired() {
    $('banner-expired').hidden = false;
    document.body.classList.add('token-expired');
    stopPolling();
  }

  // ---- The browser's QbitPay client (access token only) ------------------------------------
  function useToken(t) {
    token = t;
    client = new QbitPay({ accessToken: t, baseUrl: config.sandboxUrl, maxRetries: 1, timeoutMs: 8000 });
    $('banner-expired').hidden = true;
    document.body.classList.remove('token-expired');
  }
  async function newSession() {
    try {
      const { accessToken } = await post('/api/session');
      useToken(accessToken);
    } catch (e) {
      if (e.error === 'sandbox_unreachable') markSandbox(false);
      throw e;
    }
  }
  /** Run `fn(client)`; turn a failure into the page state it means. */
  async function viaClient(fn) {
    if (!client) throw new Error('no session yet');
    try {
      const v = await fn(client);
      markSandbox(true);
      return v;
    } catch (e) {
      if (e instanceof QbitPayAuthenticationError) showExpired();
      else if (e instanceof QbitPayConnectionError) markSandbox(false);
      else toast(e.message, 'error');
      throw e;
    }
  }

  // ---- Catalogue and cart ------------------------------------------------------------------
  function renderProducts() {
    const grid = $('products');
    grid.replaceChildren(...config.catalogue.map((p) => {
      const qty = cart.get(p.sku) || 0;
      return el('article', { class: 'product', 'data-sku': p.sku },
        el('div', { class: `art art-${p.art}` }, artSvg(p.art)),
        el('div', { class: 'product-body' },
          el('h3', { text: p.name }),
          el('p', { text: p.blurb }),
          el('div', { class: 'product-foot' },
            el('span', { class: 'price', text: money(p.price, config.currency) }),
            qty
              ? el('div', { class: 'stepper' },
                el('button', { type: 'button', 'aria-label': `One less ${p.name}`, text: '−', onclick: () => setQty(p.sku, qty - 1) }),
                el('span', { text: String(qty) }),
                el('button', { type: 'button', 'aria-label': `One more ${p.name}`, text: '+', onclick: () => setQty(p.sku, qty + 1) }))
              : el('button', { type: 'button', class: 'btn small add', text: 'Add to cart', onclick: () => setQty(p.sku, 1) }))));
    }));
  }
  function setQty(sku, qty) {
    if (qty <= 0) cart.delete(sku);
    else cart.set(sku, Math.min(qty, 20));
    renderProducts();
    renderCart();
  }
  function cartTotal() {
    let cents = 0;
    for (const [sku, qty] of cart) cents += Math.round(config.catalogue.find((p) => p.sku === sku).price * 100) * qty;
    return cents / 100;
  }
  function renderCart() {
    const lines = [...cart].map(([sku, qty]) => {
      const p = config.catalogue.find((x) => x.sku === sku);
      return el('li', {},
        el('span', { class: 'qty', text: `${qty}×` }),
        el('span', { class: 'name', text: p.name }),
        el('span', { class: 'amt', text: money(p.price * qty, config.currency) }),
        el('button', { type: 'button', class: 'icon', 'aria-label': `Remove ${p.name}`, text: '✕', onclick: () => setQty(sku, 0) }));
    });
    $('cart-lines').replaceChildren(...lines);
    const count = [...cart.values()].reduce((a, b) => a + b, 0);
    $('cart-count').textContent = String(count);
    $('cart-empty').hidden = count > 0;
    $('cart-totals').hidden = count === 0;
    $('cart-subtotal').textContent = money(cartTotal(), config.currency);
    $('cart-total').textContent = money(cartTotal(), config.currency);
    updatePay();
  }
  let paying = false;
  function updatePay() {
    const b = $('pay');
    b.disabled = paying || cart.size === 0 || !config;
    b.textContent = paying ? 'Creating your charge…' : cart.size ? `Pay ${money(cartTotal(), config.currency)} with QbitPay` : 'Pay with QbitPay';
  }

  // ---- Checkout ----------------------------------------------------------------------------
  async function checkout() {
    paying = true;
    updatePay();
    $('pay-error').hidden = true;
    try {
      const r = await post('/api/checkout', {
        items: [...cart].map(([sku, qty]) => ({ sku, qty })),
        paymentType: $('payment-type').value,
      });
      markSandbox(true);
      useToken(r.accessToken);
      setCharge(r.charge);
      openPayment();
      loadRecent().catch(() => {});
    } catch (e) {
      if (e.error === 'sandbox_unreachable') markSandbox(false);
      $('pay-error').textContent = e.error === 'sandbox_unreachable'
        ? 'We could not reach QbitPay to create your charge. Nothing was charged; try again in a moment.'
        : `Checkout failed: ${e.message}`;
      $('pay-error').hidden = false;
    } finally {
      paying = false;
      updatePay();
    }
  }

  function paymentUrl() {
    const u = new URL(charge.paymentPageUrl);
    u.searchParams.set('accessToken', token);
    return u.href;
  }
  function setCharge(c) {
    charge = c;
    renderCharge();
    if (!TERMINAL.has(c.status)) startPolling();
  }
  function renderCharge() {
    const c = charge;
    $('charge').hidden = false;
    $('charge').dataset.status = c.status;
    const st = $('charge-status');
    st.dataset.status = c.status;
    st.textContent = STATUS_LABEL[c.status] || c.status;
    st.title = `status: ${c.status}`;
    $('charge-amount').replaceChildren(money(c.amount, c.currency));
    if (c.quoteCurrency && c.quoteCurrency !== c.currency && typeof c.totalCost === 'number') {
      $('charge-amount').append(el('small', { text: ` ≈ ${c.totalCost.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${c.quoteCurrency}` }));
    }
    const at = STEPS.indexOf(c.status);
    for (const li of $('charge-steps').children) {
      const i = STEPS.indexOf(li.dataset.step);
      li.className = at < 0 ? (c.status === 'cancelled' ? 'off' : '') : i < at ? 'done' : i === at ? (c.status === 'closed' ? 'done' : 'now') : '';
    }
    $('charge-order').textContent = c.externalOrderId;
    $('charge-id').textContent = c.id;
    $('charge-method').textContent = c.paymentMethod?.typeLabel?.en || c.paymentMethod?.type || '—';
    $('charge-note').textContent = STATUS_NOTE[c.status] || '';
    const pending = c.status === 'pending';
    $('open-pay').hidden = !pending;
    $('open-pay-tab').hidden = !pending;
    if (pending && token) $('open-pay-tab').href = paymentUrl();
    renderExpiry();
    markCurrentRow();
  }
  function renderExpiry() {
    if (!charge) return;
    const e = $('charge-expiry');
    if (charge.status !== 'pending') { e.textContent = charge.paid || charge.status === 'closed' ? 'Paid' : '—'; return; }
    const ms = Date.parse(charge.expiresAt) - Date.now();
    if (ms <= 0) { e.textContent = 'Expired'; return; }
    const m = Math.floor(ms / 60000);
    const s = Math.floor(ms / 1000) % 60;
    e.textContent = `in ${m}:${String(s).padStart(2, '0')} (at ${clock(charge.expiresAt)})`;
  }
  setInterval(renderExpiry, 1000);

  async function refreshCharge() {
    if (!charge || !client) return;
    const c = await viaClient((q) => q.charges.retrieve(charge.id));
    const changed = c.status !== charge.status;
    charge = c;
    renderCharge();
    if (changed && c.paid && cart.size) { cart.clear(); renderProducts(); renderCart(); } // the order is paid for
    $('charge-checked').textContent = `Status read in your browser with the access token at ${clock(Date.now())}.`;
    if (changed && c.status === 'closed') {
      toast('Payment complete. Thank you!', 'ok');
      if (recent.index === 0) loadRecent().catch(() => {});
    }
    if (TERMINAL.has(c.status)) stopPolling();
  }
  function startPolling() {
    stopPolling();
    pollTimer = setInterval(() => { refreshCharge().catch(() => {}); }, 1500);
  }
  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  // ---- The hosted payment page, in a dialog ------------------------------------------------
  function openPayment() {
    $('pay-frame').src = paymentUrl();
    $('pay-modal').hidden = false;
    document.body.classList.add('modal-open');
  }
  function closeModal() {
    $('pay-modal').hidden = true;
    $('pay-frame').src = 'about:blank';
    document.body.classList.remove('modal-open');
  }
  window.addEventListener('message', (e) => {
    if (e.origin !== location.origin || e.data?.type !== 'qbitpay:return') return;
    closeModal();
    toast('Payment reported. Waiting for QbitPay to confirm it…', 'ok');
    refreshCharge().catch(() => {});
    if (!pollTimer && charge && !TERMINAL.has(charge.status)) startPolling();
  });

  // ---- Webhook timeline (server-sent events from the shop's server) ------------------------
  const shown = new Map();
  function addDelivery(d, quiet) {
    if (shown.has(d.seq)) return;
    const ok = d.verified;
    const what = [
      d.chargeId && el('span', { class: 'mono', text: shortId(d.chargeId) }),
      typeof d.amount === 'number' && el('span', { text: money(d.amount, d.currency || 'USD') }),
      d.status && el('span', { text: `status ${d.status}` }),
      d.attempt > 1 && el('span', { text: `attempt ${d.attempt}` }),
    ].filter(Boolean);
    const li = el('li', { class: ok ? 'verified' : 'rejected', 'data-verified': String(ok), 'data-type': d.type || '', 'data-seq': String(d.seq) },
      el('span', { class: 'dot', 'aria-hidden': 'true' }),
      el('div', { class: 'tl-body' },
        el('div', { class: 'tl-head' },
          el('span', { class: 'tl-type', text: d.type || 'unreadable delivery' }),
          el('span', { class: `tag ${ok ? 'ok' : 'bad'}`, text: ok ? 'verified' : `rejected · ${d.code}` }),
          el('time', { datetime: d.at, text: clock(d.at) })),
        what.length ? el('div', { class: 'tl-meta' }, what) : null,
        ok && d.fulfilled ? el('div', { class: 'tl-note ok', text: `Order ${d.orderId} fulfilled.` }) : null,
        ok && d.duplicate ? el('div', { class: 'tl-note', text: 'Already processed: acknowledged, not applied twice.' }) : null,
        !ok ? el('div', { class: 'tl-note bad', text: 'Signature did not verify: answered 400 and ignored.' }) : null));
    shown.set(d.seq, li);
    $('timeline').prepend(li);
    while ($('timeline').children.length > 30) $('timeline').lastElementChild.remove();
    $('timeline-empty').hidden = true;
    if (quiet) return;
    if (!ok) {
      $('rejected-text').textContent = `A delivery claiming ${d.type || 'to be an event'}${d.chargeId ? ` for ${shortId(d.chargeId)}` : ''} failed verification (${d.code}); the shop ignored it.`;
      $('banner-rejected').hidden = false;
    } else if (charge && d.chargeId === charge.id) {
      refreshCharge().catch(() => {});
    }
  }
  function connectEvents() {
    const es = new EventSource('/api/events');
    es.addEventListener('hello', (e) => {
      const d = JSON.parse(e.data);
      for (const x of d.deliveries) addDelivery(x, true);
      if (d.sandbox.up !== null) markSandbox(d.sandbox.up);
    });
    es.addEventListener('delivery', (e) => addDelivery(JSON.parse(e.data), false));
    es.addEventListener('sandbox', (e) => markSandbox(JSON.parse(e.data).up));
    es.onopen = () => { $('live').className = 'live on'; $('live').lastChild.textContent = 'live'; };
    es.onerror = () => { $('live').className = 'live off'; $('live').lastChild.textContent = 'reconnecting'; };
  }

  // ---- Recent charges, paged by the browser client -----------------------------------------
  async function loadRecent() {
    const page = await viaClient((q) => q.charges.list({ limit: PAGE_SIZE }));
    recent = { page, index: 0, dir: 'next', noOlder: false };
    renderRecent();
  }
  async function olderPage() {
    const page = await viaClient(() => recent.page.nextPage());
    if (!page.data.length) { recent.noOlder = true; renderRecent(); return; }
    recent = { page, index: recent.index + 1, dir: 'next', noOlder: false };
    renderRecent();
  }
  async function newerPage() {
    // Back to the first page: list afresh, which also shows charges created meanwhile.
    if (recent.index <= 1) return loadRecent();
    const page = await viaClient(() => recent.page.previousPage());
    if (!page.data.length) return loadRecent();
    recent = { page, index: recent.index - 1, dir: 'prev', noOlder: false };
    renderRecent();
  }
  function renderRecent() {
    const { page, index, dir } = recent;
    const rows = page.data.map((c) => el('tr', { 'data-id': c.id, class: charge && c.id === charge.id ? 'current' : null },
      el('td', { text: shortDate(c.createdAt) }),
      el('td', { class: 'mono', text: c.externalOrderId }),
      el('td', { text: c.paymentMethod?.typeLabel?.en || c.paymentMethod?.type || '—' }),
      el('td', { class: 'num', text: money(c.amount, c.currency) }),
      el('td', {}, el('span', { class: 'status', 'data-status': c.status, text: STATUS_LABEL[c.status] || c.status })),
      el('td', { class: 'mono', title: c.id, text: shortId(c.id) })));
    $('recent').tBodies[0].replaceChildren(...rows);
    $('recent-empty').hidden = page.data.length > 0;
    $('page-label').textContent = page.data.length ? `Page ${index + 1}` : '—';
    $('prev').disabled = index === 0;
    $('next').disabled = recent.noOlder || (dir === 'next' ? !page.hasMore : false);
  }
  function markCurrentRow() {
    for (const tr of $('recent').tBodies[0].rows) tr.classList.toggle('current', !!charge && tr.dataset.id === charge.id);
  }

  // ---- Wiring ------------------------------------------------------------------------------
  $('pay').addEventListener('click', checkout);
  $('open-pay').addEventListener('click', async () => {
    if (!charge || !token) return;
    // Check the token first: an expired one would only get a refusal from the payment page.
    try { await refreshCharge(); } catch { return; }
    if (charge.status === 'pending') openPayment();
  });
  $('close-modal').addEventListener('click', () => { closeModal(); refreshCharge().catch(() => {}); });
  $('pay-modal').addEventListener('click', (e) => { if (e.target === $('pay-modal')) closeModal(); });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !$('pay-modal').hidden) closeModal(); });
  $('next').addEventListener('click', () => olderPage().catch(() => {}));
  $('prev').addEventListener('click', () => newerPage().catch(() => {}));
  $('dismiss-rejected').addEventListener('click', () => { $('banner-rejected').hidden = true; });
  $('retry-down').addEventListener('click', async () => {
    try {
      const r = await fetch('/api/config').then((x) => x.json());
      markSandbox(r.sandboxUp);
      if (r.sandboxUp) recover();
      else toast('Still no answer from QbitPay.', 'error');
    } catch { toast('The shop\'s server is not answering.', 'error'); }
  });
  $('renew-token').addEventListener('click', async () => {
    try {
      await newSession();
      toast('New access token: session renewed.', 'ok');
      await loadRecent();
      if (charge) { await refreshCharge(); if (!TERMINAL.has(charge.status)) startPolling(); }
    } catch (e) { toast(`Could not renew the session: ${e.message}`, 'error'); }
  });
  $('forge').addEventListener('click', async () => {
    try {
      const r = await post('/api/demo/forge');
      toast(`Forged delivery sent: the shop answered ${r.status} ${r.answer}.`, 'info');
    } catch (e) { toast(e.message, 'error'); }
  });

  (async () => {
    try {
      config = await fetch('/api/config').then((r) => r.json());
    } catch {
      toast('The shop\'s server is not answering.', 'error');
      return;
    }
    renderProducts();
    renderCart();
    connectEvents();
    markSandbox(config.sandboxUp);
    if (!config.sandboxUp) return; // recover() runs when it comes back
    try {
      await newSession();
      await loadRecent();
      if (returnedOrder) {
        // Back from the payment page in a tab of its own: find the charge by our order id.
        history.replaceState(null, '', '/');
        const page = await viaClient((q) => q.charges.list({ externalOrderId: returnedOrder, limit: 1 }));
        if (page.data[0]) {
          $('banner-return').hidden = false;
          $('return-text').textContent = `Your payment for order ${returnedOrder} was reported; the status below updates when QbitPay confirms it.`;
          setCharge(page.data[0]);
        }
      }
    } catch { /* the banners say what is wrong */ }
  })();
}

// ---- Product art (inline, no external images) ----------------------------------------------
function artSvg(kind) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 120 90');
  svg.setAttribute('aria-hidden', 'true');
  const shapes = {
    'tin-green': [
      ['ellipse', { cx: 60, cy: 80, rx: 30, ry: 4, fill: 'rgba(0,0,0,.12)' }],
      ['rect', { x: 38, y: 22, width: 44, height: 58, rx: 6, fill: '#2f6b45' }],
      ['rect', { x: 36, y: 16, width: 48, height: 12, rx: 4, fill: '#234f34' }],
      ['rect', { x: 38, y: 40, width: 44, height: 22, fill: '#e9dcc3' }],
      ['path', { d: 'M60 44c6 3 7 10 0 14-7-4-6-11 0-14z', fill: '#2f6b45' }],
    ],
    pouch: [
      ['ellipse', { cx: 60, cy: 81, rx: 30, ry: 4, fill: 'rgba(0,0,0,.12)' }],
      ['path', { d: 'M36 24h48l4 56H32z', fill: '#8a5a3b' }],
      ['rect', { x: 36, y: 18, width: 48, height: 8, rx: 2, fill: '#6e452c' }],
      ['rect', { x: 44, y: 40, width: 32, height: 24, rx: 3, fill: '#f2e6cf' }],
      ['path', { d: 'M52 56c2-8 14-8 16 0', stroke: '#8a5a3b', 'stroke-width': 3, fill: 'none', 'stroke-linecap': 'round' }],
    ],
    cup: [
      ['ellipse', { cx: 60, cy: 80, rx: 30, ry: 4, fill: 'rgba(0,0,0,.12)' }],
      ['path', { d: 'M34 32h52l-5 40a8 8 0 0 1-8 7H47a8 8 0 0 1-8-7z', fill: '#b9c4c9' }],
      ['path', { d: 'M34 32h52l-2 14H36z', fill: '#7d8f98' }],
      ['ellipse', { cx: 60, cy: 32, rx: 26, ry: 5, fill: '#5e6f58' }],
      ['path', { d: 'M50 22c3-4-2-6 1-10M62 22c3-4-2-6 1-10', stroke: '#a3b1a0', 'stroke-width': 2, fill: 'none', 'stroke-linecap': 'round' }],
    ],
    kettle: [
      ['ellipse', { cx: 60, cy: 81, rx: 34, ry: 4, fill: 'rgba(0,0,0,.14)' }],
      ['path', { d: 'M30 50a30 26 0 0 1 60 0v16a12 12 0 0 1-12 12H42a12 12 0 0 1-12-12z', fill: '#2b2f33' }],
      ['path', { d: 'M88 52l16-10-3 8-11 12z', fill: '#2b2f33' }],
      ['path', { d: 'M40 30c4-16 36-16 40 0', stroke: '#2b2f33', 'stroke-width': 4, fill: 'none' }],
      ['circle', { cx: 60, cy: 26, r: 4, fill: '#c9a86a' }],
      ['path', { d: 'M36 56h48', stroke: '#3d434a', 'stroke-width': 2 }],
    ],
  }[kind] || [];
  for (const [tag, attrs] of shapes) {
    const s = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, String(v));
    svg.append(s);
  }
  return svg;
}
