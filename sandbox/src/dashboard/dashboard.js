// The sandbox dashboard: reads the JSON control API under /_sandbox/ (polled, with ETags)
// and drives it. No API key: accounts are named by their id; the page never sees a key.
(function () {
  'use strict';
  const $ = (s) => document.querySelector(s);
  const state = { accounts: [], account: null, data: null, tag: null, clockAt: 0, clockMs: 0, offset: 0, busy: false };

  // ---- DOM helpers (text only: every value goes in as text, never as HTML) ---------------
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('data-')) el.setAttribute(k, v);
      else if (k === 'title') el.title = v;
      else if (k === 'onclick') el.addEventListener('click', v);
      else el.setAttribute(k, v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid.nodeType ? kid : String(kid));
    return el;
  }
  const ms = (iso) => (iso ? Date.parse(iso) : NaN);
  const pad = (n) => String(n).padStart(2, '0');
  function fmt(iso) {
    const t = ms(iso);
    if (Number.isNaN(t)) return '–';
    const d = new Date(t);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  }
  function span(secs) {
    const s = Math.abs(Math.round(secs));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  }
  const sandboxNow = () => state.clockMs + (Date.now() - state.clockAt);
  function rel(iso) {
    const t = ms(iso);
    if (Number.isNaN(t)) return '';
    const d = (t - sandboxNow()) / 1000;
    return d >= 0 ? `in ${span(d)}` : `${span(d)} ago`;
  }
  const money = (n, cur) => `${Number(n).toLocaleString('en-US', { maximumFractionDigits: 8 })}${cur ? ` ${cur}` : ''}`;
  const chip = (status) => h('span', { class: `status s-${status}`, 'data-status': status }, status);

  function toast(text, bad) {
    const t = h('div', { class: `toast${bad ? ' bad' : ''}` }, text);
    $('#toasts').append(t);
    setTimeout(() => t.remove(), bad ? 6000 : 3000);
  }

  // ---- the control API ----------------------------------------------------------------------
  async function call(method, path, body) {
    const init = { method, headers: {}, cache: 'no-store' };
    if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    const r = await fetch(path, init);
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.message || `${method} ${path}: HTTP ${r.status}`);
    return data;
  }
  async function act(label, method, path, body) {
    if (state.busy) return;
    state.busy = true;
    document.body.classList.add('busy');
    try {
      const r = await call(method, path, body);
      toast(label(r));
    } catch (e) {
      toast(e.message, true);
    } finally {
      state.busy = false;
      document.body.classList.remove('busy');
      await refresh(true);
    }
  }
  const acctPath = () => `/_sandbox/accounts/${encodeURIComponent(state.account)}`;

  // ---- rendering ---------------------------------------------------------------------------
  function setClock(c) {
    state.clockMs = c.nowMs; state.clockAt = Date.now(); state.offset = c.offsetSeconds;
    tickClock();
  }
  function tickClock() {
    $('#clock-now').textContent = `${fmt(new Date(sandboxNow()).toISOString())} UTC`;
    $('#clock-offset').textContent = state.offset > 0 ? `(${span(state.offset)} ahead of the wall clock)` : '(the wall clock)';
    $('#clock-now').dataset.ms = String(state.clockMs);
  }

  function renderAccounts() {
    const sel = $('#account-select');
    const want = state.accounts.map((a) => `${a.id}|${a.keyHint}|${a.active}`).join(',');
    if (sel.dataset.list !== want) {
      sel.replaceChildren(...state.accounts.map((a) => h('option', { value: a.id }, `${a.id}${a.keyHint ? ` (${a.keyHint})` : ''}${a.active ? '' : ' · key not given'}`)));
      sel.dataset.list = want;
    }
    sel.value = state.account || '';
  }

  const CHARGE_ACTIONS = {
    pending: ['pay', 'confirm', 'expire', 'fail'],
    buyerPaid: ['confirm', 'fail', 'dispute'],
    sellerConfirmed: ['dispute'],
    closed: ['dispute'],
    dispute: ['resolve'],
  };
  const PAYOUT_ACTIONS = { pending: ['transit', 'fail', 'cancel'], inTransit: ['pay', 'fail'] };
  const LABEL = { pay: 'pay', confirm: 'confirm', expire: 'expire', fail: 'fail', dispute: 'dispute', resolve: 'resolve', transit: 'in transit', cancel: 'cancel' };

  function buttons(kind, id, actions, active) {
    return h('div', { class: 'actions' }, (actions || []).map((a) => h('button', {
      'data-action': a, disabled: active ? null : 'disabled',
      title: kind === 'charges' ? `Move this charge on: ${a}` : `Move this payout on: ${a === 'pay' ? 'paid' : a}`,
      onclick: () => act((r) => `${id} is now ${r.status}`, 'POST', `${acctPath()}/${kind}/${encodeURIComponent(id)}/${a}`),
    }, kind === 'payouts' && a === 'pay' ? 'paid' : LABEL[a])));
  }

  function table(sel, rows, emptySel) {
    $(`${sel} tbody`).replaceChildren(...rows);
    $(emptySel).hidden = rows.length > 0;
    $(sel).hidden = rows.length === 0;
  }

  function renderAccount() {
    const d = state.data;
    if (!d) return;
    const active = d.active;
    $('#account-id').textContent = d.id;
    $('#account-key').textContent = d.keyHint || 'a short key (no hint shown)';
    $('#account-active').textContent = active ? 'active' : 'its key was not given at start: read only';
    const n = (k, word) => `${d.counts[k]} ${word}${d.counts[k] === 1 ? '' : 's'}`;
    $('#account-counts').textContent = `${n('charges', 'charge')} · ${n('payouts', 'payout')} · ${n('events', 'event')}`;
    $('#balance-available').textContent = money(d.balance.available, d.balance.currency);
    $('#balance-pending').textContent = money(d.balance.pending, d.balance.currency);

    table('#txns', d.balanceTransactions.map((t) => h('tr', { 'data-id': t.id },
      h('td', {}, h('code', {}, t.id), h('div', { class: 'muted small' }, t.description)),
      h('td', {}, t.type), h('td', { class: t.net < 0 ? 'neg num' : 'num' }, money(t.net)),
      h('td', {}, chip(t.status)), h('td', { title: t.createdAt }, fmt(t.createdAt)))), '#txns-empty');

    table('#charges', d.charges.map((c) => h('tr', { 'data-id': c.id, 'data-status': c.status },
      h('td', {}, h('code', {}, c.id)), h('td', {}, c.externalOrderId),
      h('td', { class: 'num' }, money(c.amount, c.currency)), h('td', {}, chip(c.status)),
      h('td', { title: c.createdAt }, fmt(c.createdAt)),
      h('td', { title: c.expiresAt }, c.status === 'pending' ? rel(c.expiresAt) : fmt(c.expiresAt)),
      h('td', {}, buttons('charges', c.id, CHARGE_ACTIONS[c.status], active)))), '#charges-empty');

    table('#payouts', d.payouts.map((p) => h('tr', { 'data-id': p.id, 'data-status': p.status },
      h('td', {}, h('code', {}, p.id)), h('td', { class: 'num' }, money(p.amount, p.currency)),
      h('td', {}, p.type), h('td', {}, chip(p.status)), h('td', { title: p.arrivalDate }, fmt(p.arrivalDate)),
      h('td', {}, buttons('payouts', p.id, PAYOUT_ACTIONS[p.status], active)))), '#payouts-empty');

    const evs = d.events.map((e) => {
      const w = e.webhook;
      const attempts = e.attempts.map((a, i) => h('tr', { 'data-status-code': a.statusCode ?? '', class: a.statusCode >= 200 && a.statusCode < 300 ? 'ok' : 'bad' },
        h('td', {}, String(i + 1), a.manual ? h('span', { class: 'muted small' }, ' resend') : null),
        h('td', { title: a.at }, fmt(a.at)), h('td', { class: 'url' }, a.url),
        h('td', { class: 'result' }, a.statusCode ? `HTTP ${a.statusCode}` : a.error),
        h('td', { class: 'num' }, `${a.latencyMs} ms`),
        h('td', { title: a.nextRetryAt || '' }, !a.nextRetryAt ? '–' : i === e.attempts.length - 1 ? `${fmt(a.nextRetryAt)} (${rel(a.nextRetryAt)})` : fmt(a.nextRetryAt))));
      return h('article', { class: 'event', 'data-id': e.id, 'data-type': e.type },
        h('div', { class: 'row spread' },
          h('div', {}, h('b', {}, e.type), ' ', h('code', {}, e.id), ' ', h('span', { class: 'muted' }, fmt(e.createdAt)),
            e.data && e.data.id ? h('span', { class: 'muted' }, ' · ', e.data.id) : null),
          h('div', { class: 'row' },
            h('span', { class: `delivery d-${w.status}`, 'data-status': w.status }, w.status),
            w.nextAttemptAt ? h('span', { class: 'muted small next' }, `next attempt ${rel(w.nextAttemptAt)}`) : null,
            h('button', {
              'data-action': 'resend', disabled: active && (w.url || '') !== '' ? null : 'disabled',
              title: 'Send this event again now (one attempt, no retries)',
              onclick: () => act((r) => `resent ${e.id}: ${r.attempt.statusCode ? `HTTP ${r.attempt.statusCode}` : r.attempt.error}`, 'POST', `${acctPath()}/events/${encodeURIComponent(e.id)}/resend`),
            }, 'Resend'))),
        h('div', { class: 'muted small' }, w.url ? `to ${w.url}` : 'no webhook URL', w.lastError && !e.attempts.length ? ` · ${w.lastError}` : ''),
        attempts.length ? h('table', { class: 'attempts' },
          h('thead', {}, h('tr', {}, ['#', 'Time', 'URL', 'Result', 'Latency', 'Next retry'].map((t) => h('th', {}, t)))),
          h('tbody', {}, attempts)) : null);
    });
    $('#events').replaceChildren(...evs);
    $('#events-empty').hidden = evs.length > 0;
    $('#reset-btn').disabled = false;
  }

  // ---- polling ----------------------------------------------------------------------------
  async function refresh(force) {
    try {
      const list = await call('GET', '/_sandbox/accounts');
      state.accounts = list.data;
      setClock(list.clock);
      if (!state.account || !state.accounts.some((a) => a.id === state.account)) {
        const fromHash = location.hash.slice(1);
        const pick = state.accounts.find((a) => a.id === fromHash) || state.accounts.find((a) => a.active) || state.accounts[0];
        state.account = pick ? pick.id : null;
      }
      renderAccounts();
      if (!state.account) return;
      const headers = force || !state.tag ? {} : { 'If-None-Match': state.tag };
      const r = await fetch(acctPath(), { headers, cache: 'no-store' });
      if (r.status === 304) return;
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      state.tag = r.headers.get('ETag');
      state.data = await r.json();
      setClock(state.data.clock);
      renderAccount();
      $('#banner').hidden = true;
      document.body.dataset.loaded = 'true';
    } catch (e) {
      const b = $('#banner');
      b.textContent = `The sandbox is not answering (${e.message}); retrying…`;
      b.hidden = false;
    }
  }

  // ---- wiring -----------------------------------------------------------------------------
  $('#account-select').addEventListener('change', (ev) => {
    state.account = ev.target.value; state.tag = null; location.hash = state.account;
    refresh(true);
  });
  const advance = (seconds) => act((r) => `clock advanced ${span(seconds)}: ${r.ran.length} scheduled job(s) ran`, 'POST', '/_sandbox/clock/advance', { seconds });
  document.querySelectorAll('.advance-preset').forEach((b) => b.addEventListener('click', () => advance(Number(b.dataset.seconds))));
  $('#advance-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const n = Number($('#advance-seconds').value);
    if (!(n > 0)) { toast('Enter a number of seconds greater than 0', true); return; }
    advance(n);
  });
  let armed = null;
  $('#reset-btn').addEventListener('click', () => {
    const b = $('#reset-btn');
    if (!armed) {
      b.textContent = 'Click again to delete everything of this account';
      b.classList.add('armed');
      armed = setTimeout(() => { armed = null; b.textContent = 'Reset account'; b.classList.remove('armed'); }, 4000);
      return;
    }
    clearTimeout(armed); armed = null; b.textContent = 'Reset account'; b.classList.remove('armed');
    act(() => `${state.account} reset`, 'POST', `${acctPath()}/reset`);
  });

  refresh(true);
  setInterval(() => { if (!state.busy) refresh(false); }, 1000);
  setInterval(tickClock, 1000);
})();
