// Compiled with `tsc --strict --noEmit` (make test): the API families (accounts,
// balances, balanceTransactions, payouts, markets, events) and the webhook Event union.
import { QbitPay, QbitPayAuthenticationError, QbitPayInvalidRequestError, verifyWebhook } from 'qbitpay';
import { verifyWebhook as verifyStandalone } from 'qbitpay/webhook';
import type {
  Account, Balance, BalanceTransaction, BalanceTransactionType, Charge, DestinationType, Event, EventType,
  ListPromise, Page, PaymentMethod, PaymentMethodOf, Payout, PayoutCreateParams, PayoutDestination, PayoutStatus,
  Ticker, TestEventResult,
} from 'qbitpay';

export async function families(apiKey: string, baseUrl: string, body: string, sig: string): Promise<number> {
  const qp = new QbitPay({ apiKey, baseUrl });
  let n = 0;

  const account: Account = await qp.accounts.retrieve();
  n += account.feeRates.payout + account.limit.payout.min + account.limit.pay.max;
  const balance: Balance = await qp.balances.retrieve({ timeoutMs: 5000 });
  n += balance.available + balance.pending;

  const txns: ListPromise<BalanceTransaction> = qp.balanceTransactions.list({ type: 'payout', source: 'po_1', status: 'pending', limit: 5 });
  const page: Page<BalanceTransaction> = await txns;
  for (const t of page.data) {
    const ty: BalanceTransactionType = t.type;
    n += t.net + t.fee + ty.length;
  }
  for await (const t of qp.balanceTransactions.list({ status: 'available' })) n += t.amount;
  const one: BalanceTransaction = await qp.balanceTransactions.retrieve(page.data[0].id);

  const destinations: PayoutDestination[] = [
    { type: 'bankAccount', payerName: 'Ann', bankAccountNum: '6222', bankName: 'Bank', swift: 'BKCHCNBJ' },
    { type: 'wallet', payerName: 'Ann', addr: 'TWallet1' },
    { type: 'Alipay', payerName: 'Ann', bankAccountNum: 'ann@example.com' },
    { type: 'PayPal', payerName: 'Ann', bankAccountNum: 'ann@example.com' },
    { type: 'Coins.ph', payerName: 'Ann', bankAccountNum: '09170000000' },
    { type: 'GCash', payerName: 'Ann', bankAccountNum: '09170000000' },
  ];
  const params: PayoutCreateParams = { amount: 10, currency: 'USDT', destination: destinations[1], description: 'rent', externalOrderId: 'p-1' };
  const payout: Payout = await qp.payouts.create(params, { idempotencyKey: 'p-1' });
  const status: PayoutStatus = payout.status;
  const dtype: DestinationType = payout.type;
  const dest: PaymentMethodOf<DestinationType> = payout.destination;
  if (dest.type === 'wallet') n += (dest.addr ?? '').length;
  const again: Payout = await qp.payouts.retrieve(payout.id);
  const paid: Payout[] = await qp.payouts.list({ status: 'paid', destination: 'TWallet1' }).toArray({ max: 100 });

  const ask: Ticker<'ask'> = await qp.markets.ticker({ symbol: 'USDT/CNY', side: 'ask' });
  n += ask.ask + ask.timestamp;
  const bid = await qp.markets.ticker({ symbol: 'BTC/PHP', side: 'bid' });
  n += bid.bid;
  const test: TestEventResult = await qp.events.test({ cbUrl: 'http://127.0.0.1:8000/hook' });
  await qp.events.test();
  n += test.id.length;

  // Webhooks: the Event union narrows data by type.
  const event: Event = verifyWebhook(body, sig, apiKey);
  const type: EventType = event.type;
  switch (event.type) {
    case 'charge.succeeded':
    case 'charge.dispute.created': {
      const c: Charge = event.data;
      n += c.amount;
      break;
    }
    case 'payout.paid':
    case 'payout.inTransition': {
      const p: Payout = event.data;
      n += p.fee;
      break;
    }
  }
  const e2 = verifyStandalone(body, sig, apiKey);
  if (e2.type === 'payout.failed') n += e2.data.amount;
  const pm: PaymentMethod | null = (await qp.charges.retrieve('ch_1')).paymentMethod;
  if (pm && pm.type === 'bankAccount') n += (pm.bankName ?? '').length;

  try {
    await new QbitPay({ accessToken: 'tok', baseUrl }).balances.retrieve();
  } catch (e) {
    if (e instanceof QbitPayAuthenticationError) n += e.statusCode ?? 0;
    else if (e instanceof QbitPayInvalidRequestError) n += (e.param ?? '').length;
  }

  // @ts-expect-error a wallet needs addr
  await qp.payouts.create({ amount: 1, currency: 'USD', destination: { type: 'wallet', payerName: 'Ann' } });
  // @ts-expect-error a bank account needs bankName
  await qp.payouts.create({ amount: 1, currency: 'USD', destination: { type: 'bankAccount', payerName: 'A', bankAccountNum: '1' } });
  // @ts-expect-error Alipay is paid to bankAccountNum, not addr
  await qp.payouts.create({ amount: 1, currency: 'USD', destination: { type: 'Alipay', payerName: 'A', addr: 'x' } });
  // @ts-expect-error no such destination type
  await qp.payouts.create({ amount: 1, currency: 'USD', destination: { type: 'Yunshanfu', payerName: 'A', bankAccountNum: '1' } });
  // @ts-expect-error destination is required
  await qp.payouts.create({ amount: 1, currency: 'USD' });
  // @ts-expect-error side is ask or bid
  await qp.markets.ticker({ symbol: 'USDT/CNY', side: 'buy' });
  // @ts-expect-error symbol is BASE/QUOTE
  await qp.markets.ticker({ symbol: 'ETH/CNY', side: 'ask' });
  // @ts-expect-error an ask ticker has no bid
  n += ask.bid;
  // @ts-expect-error source filters need type
  qp.balanceTransactions.list({ source: 'ch_1' });
  // @ts-expect-error payout statuses are a union
  qp.payouts.list({ status: 'done' });
  // @ts-expect-error accounts.retrieve takes no id
  await qp.accounts.retrieve('acct_1');
  // @ts-expect-error payouts cannot be updated
  qp.payouts.update;
  // @ts-expect-error event types are a union
  const bad: EventType = 'payout.sent';
  void [one, status, dtype, again, paid, type, bad];
  return n;
}
