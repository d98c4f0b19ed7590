// The payout lifecycle through the built package against the sandbox: a buyer's
// charge succeeds and funds the account, three payouts go out (one paid, one cancelled, one
// failed), and the balance, the balance transactions and the `payout.*` webhooks — each
// checked with `verifyWebhook` — tell the same story.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { QbitPay, verifyWebhook, QbitPaySignatureError } from 'qbitpay';
import { startSandbox } from '../support/sandbox.mjs';

const close = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

/** A webhook endpoint on 127.0.0.1. `fail(path, body)` → true answers 500 (the sandbox retries). */
async function receiver(fail = () => false) {
  const got = [];
  const waiters = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const d = { path: req.url, body: Buffer.concat(chunks), signature: req.headers['qbitpay-signature'], status: 200 };
      if (fail(d)) d.status = 500;
      got.push(d);
      res.writeHead(d.status).end();
      for (const w of waiters) w();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  /** Resolves once `pred(got)` holds (10 s at most). */
  const until = (pred, what) => new Promise((resolve, reject) => {
    const check = () => { if (pred(got)) { waiters.delete(check); clearTimeout(timer); resolve(); } };
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`timed out waiting for ${what}`)); }, 10_000);
    waiters.add(check);
    check();
  });
  return { url: `http://127.0.0.1:${server.address().port}`, got, until, stop: () => new Promise((r) => server.close(r)) };
}

test('fund with a succeeded charge, pay out; balance, balanceTransactions and verified payout.* webhooks agree', async (t) => {
  // The first delivery of each payout.paid is refused: the sandbox retries it (same event).
  const refusedOnce = new Set();
  const rx = await receiver((d) => {
    const ev = JSON.parse(d.body);
    if (ev.type !== 'payout.paid' || refusedOnce.has(ev.id)) return false;
    refusedOnce.add(ev.id);
    return true;
  });
  t.after(() => rx.stop());
  const sb = await startSandbox({
    args: [
      '--auto-confirm-after', '0.2',
      '--webhook-url', `${rx.url}/payouts`, // payout events have no cbUrl of their own
      '--payout-transit-after', '0.8', '--payout-paid-after', '0.4',
      '--webhook-retry-interval', '0.2',
    ],
  });
  t.after(() => sb.stop());
  const qp = new QbitPay({ apiKey: sb.apiKey, baseUrl: sb.url });
  const events = () => rx.got.map((d) => ({ ...d, event: verifyWebhook(d.body, d.signature, sb.apiKey) }));

  // 1. A buyer pays a charge through an access-token client; the sandbox confirms it.
  const charge = await qp.charges.create({
    amount: 200, currency: 'USD', externalOrderId: 'order-lifecycle',
    cbUrl: `${rx.url}/charges`, redirectUrl: 'https://shop.example/thanks',
  });
  const { accessToken } = await qp.accessToken.create();
  await new QbitPay({ accessToken, baseUrl: sb.url }).charges.update(charge.id, { status: 'buyerPaid' });
  await rx.until((g) => g.some((d) => d.path === '/charges'), 'charge.succeeded');
  const [succeeded] = events().filter((d) => d.path === '/charges');
  assert.equal(succeeded.event.type, 'charge.succeeded');
  assert.equal(succeeded.event.data.id, charge.id);
  assert.equal(succeeded.event.data.paid, true);
  assert.equal(succeeded.event.data.status, 'sellerConfirmed');
  const credited = charge.amount - charge.fee; // 200 - 1 % = 198
  close(credited, 198, 'credit');

  let bal = await qp.balances.retrieve();
  assert.deepEqual([bal.available, bal.pending], [credited, 0]);
  const chargeTxns = (await qp.balanceTransactions.list({ type: 'charge', source: charge.id })).data;
  assert.equal(chargeTxns.length, 1);
  assert.deepEqual([chargeTxns[0].amount, chargeTxns[0].fee, chargeTxns[0].net, chargeTxns[0].status], [200, charge.fee, credited, 'available']);

  // 2. Three payouts: p1 runs its course; p2 is cancelled and p3 fails while pending.
  const p1 = await qp.payouts.create({
    amount: 100, currency: 'USDT', externalOrderId: 'payout-1', description: 'supplier',
    destination: { type: 'bankAccount', payerName: 'Supplier Ltd', bankAccountNum: '6222000011112222', bankName: 'Sandbox Bank' },
  });
  const p2 = await qp.payouts.create({ amount: 20, currency: 'USD', destination: { type: 'wallet', payerName: 'Ann', addr: 'TWallet2' } });
  const p3 = await qp.payouts.create({ amount: 30, currency: 'USDT', destination: { type: 'GCash', payerName: 'Bo', bankAccountNum: '09170000000' } });
  for (const p of [p1, p2, p3]) {
    assert.equal(p.status, 'pending');
    close(p.fee, p.amount * 0.005, 'payout fee');
  }
  const debit = (p) => p.amount + p.fee;
  bal = await qp.balances.retrieve();
  close(bal.available, credited - debit(p1) - debit(p2) - debit(p3), 'debited at once');
  for (const p of [p1, p2, p3]) {
    const { data } = await qp.balanceTransactions.list({ type: 'payout', source: p.id });
    assert.equal(data.length, 1);
    assert.equal(data[0].status, 'pending');
    close(data[0].net, -debit(p), 'payout txn net');
  }
  const sandboxPost = async (path) => {
    const res = await fetch(sb.url + path, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${sb.apiKey}:`).toString('base64')}` } });
    assert.equal(res.status, 200, await res.text());
  };
  await sandboxPost(`/sandbox/payouts/${p2.id}/cancel`);
  await sandboxPost(`/sandbox/payouts/${p3.id}/fail`);

  // 3. Every payout reaches its end; p1's payout.paid arrives on the retry.
  await rx.until((g) => g.filter((d) => d.status === 200 && d.path === '/payouts').length >= 7, 'seven payout events');
  const delivered = events().filter((d) => d.path === '/payouts');
  for (const d of delivered) assert.ok(d.event.type.startsWith('payout.'), d.event.type);

  // The refused payout.paid came again: the same event, signed again, pendingWebhooks 1.
  const paidDeliveries = delivered.filter((d) => d.event.type === 'payout.paid');
  assert.deepEqual(paidDeliveries.map((d) => [d.status, d.event.pendingWebhooks]), [[500, 0], [200, 1]]);
  assert.equal(paidDeliveries[0].event.id, paidDeliveries[1].event.id);
  assert.deepEqual(paidDeliveries[0].event.data, paidDeliveries[1].event.data);

  // One acknowledged event per change, in lifecycle order, data = the payout after the change.
  const acked = delivered.filter((d) => d.status === 200).map((d) => d.event);
  assert.equal(new Set(acked.map((e) => e.id)).size, acked.length, 'no event acknowledged twice');
  const statusOf = { 'payout.pending': 'pending', 'payout.inTransition': 'inTransit', 'payout.paid': 'paid', 'payout.cancelled': 'cancelled', 'payout.failed': 'failed' };
  const expected = new Map([
    [p1.id, ['payout.pending', 'payout.inTransition', 'payout.paid']],
    [p2.id, ['payout.pending', 'payout.cancelled']],
    [p3.id, ['payout.pending', 'payout.failed']],
  ]);
  for (const [id, types] of expected) {
    const mine = acked.filter((e) => e.data.id === id).sort((a, b) => types.indexOf(a.type) - types.indexOf(b.type));
    assert.deepEqual(mine.map((e) => e.type), types, id);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i - 1].createdAt <= mine[i].createdAt, `${id}: createdAt in lifecycle order`);
    const created = [p1, p2, p3].find((p) => p.id === id);
    for (const e of mine) {
      assert.equal(e.object, 'event');
      assert.equal(e.data.object, 'payout');
      assert.equal(e.data.status, statusOf[e.type]);
      assert.deepEqual([e.data.amount, e.data.fee, e.data.currency, e.data.type], [created.amount, created.fee, created.currency, created.type]);
    }
    // The API agrees with the last event.
    const now = await qp.payouts.retrieve(id);
    assert.deepEqual(now, mine.at(-1).data);
  }
  assert.equal(acked.length, 7);

  // A tampered delivery does not verify.
  const body = paidDeliveries[1].body.toString().replace('"amount":100', '"amount":1000');
  assert.throws(() => verifyWebhook(body, paidDeliveries[1].signature, sb.apiKey), (e) => e instanceof QbitPaySignatureError && e.code === 'signature_mismatch');

  // 4. The balance and its transactions: p1 is paid (its debit settled), p2 and p3 refunded.
  bal = await qp.balances.retrieve();
  close(bal.available, credited - debit(p1), 'final available');
  assert.equal(bal.pending, 0);
  const txns = await qp.balanceTransactions.list({ limit: 100 }).toArray({ max: 100 });
  close(txns.reduce((s, x) => s + x.net, 0), bal.available + bal.pending, 'sum of nets = balance');
  const bySource = (id) => txns.filter((x) => x.source === id).map((x) => [x.type, x.status, x.net]).sort();
  assert.deepEqual(bySource(p1.id), [['payout', 'available', -debit(p1)]]);
  assert.deepEqual(bySource(p2.id), [['payout', 'available', -debit(p2)], ['payout_cancel', 'available', debit(p2)]]);
  assert.deepEqual(bySource(p3.id), [['payout', 'available', -debit(p3)], ['payout_failure', 'available', debit(p3)]]);
  assert.deepEqual((await qp.balanceTransactions.list({ type: 'payout_cancel' })).data.map((x) => x.source), [p2.id]);
  assert.deepEqual((await qp.balanceTransactions.list({ type: 'payout_failure', source: p3.id })).data.length, 1);
  assert.deepEqual((await qp.balanceTransactions.list({ status: 'pending' })).data, []);
  // The list filters see the same ends.
  assert.deepEqual((await qp.payouts.list({ status: 'paid' })).data.map((p) => p.id), [p1.id]);
  assert.deepEqual((await qp.payouts.list({ status: 'cancelled' })).data.map((p) => p.id), [p2.id]);
  assert.deepEqual((await qp.payouts.list({ status: 'failed' })).data.map((p) => p.id), [p3.id]);
  assert.deepEqual((await qp.payouts.list({ limit: 100 })).data.map((p) => p.id), [p3.id, p2.id, p1.id]);
});
