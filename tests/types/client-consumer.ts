// Compiled with `tsc --strict --noEmit` (make test): the client's types as a user sees them.
import {
  QbitPay, QbitPayError, QbitPayInvalidRequestError, QbitPayRateLimitError, QbitPayConnectionError,
} from 'qbitpay';
import type { Charge, ChargeCreateParams, ChargeStatus, Currency, ListPromise, Page, PaymentMethod, RequestOptions, LastResponse, RequestEvent } from 'qbitpay';

export async function consumer(apiKey: string, baseUrl: string): Promise<number> {
  const qp = new QbitPay({ apiKey, baseUrl, timeoutMs: 5000, maxRetries: 3, fetch: (u, i) => fetch(u, i) });
  const browser = new QbitPay({ accessToken: 'tok', baseUrl });

  const params: ChargeCreateParams = {
    amount: 100, currency: 'USD', externalOrderId: 'o-1',
    cbUrl: 'https://shop.example/webhooks', redirectUrl: 'https://shop.example/thanks',
    quoteCurrency: 'PHP', paymentType: 'GCash',
  };
  const ac = new AbortController();
  const opts: RequestOptions = { idempotencyKey: 'k-1', signal: ac.signal, timeoutMs: 1000, maxRetries: 0 };
  const charge: Charge = await qp.charges.create(params, opts);
  const status: ChargeStatus = charge.status;
  const currency: Currency = charge.currency;
  const pm: PaymentMethod | null = charge.paymentMethod;
  const again = await browser.charges.retrieve(charge.id);
  await browser.charges.update(again.id, { status: 'buyerPaid' });

  const list: ListPromise<Charge> = qp.charges.list({ limit: 100, externalOrderId: 'o-1' });
  const page: Page<Charge> = await list;
  const next: Page<Charge> = await page.nextPage();
  const prev = await next.previousPage();
  let n = page.data.length + prev.data.length + (page.hasMore ? 1 : 0);
  for await (const c of qp.charges.list({ limit: 100, ending_before: charge.id })) n += c.amount;
  const all: Charge[] = await qp.charges.list({ startingAfter: charge.id }).toArray({ max: 1000 });
  const { accessToken } = await qp.accessToken.create();

  try {
    await qp.charges.list({ limit: 5 }, { signal: ac.signal });
  } catch (e) {
    if (e instanceof QbitPayRateLimitError) n += e.retryAfter ?? 0;
    else if (e instanceof QbitPayInvalidRequestError) n += (e.param ?? '').length;
    else if (e instanceof QbitPayConnectionError) n += (e.message + String(e.statusCode)).length;
    else if (e instanceof QbitPayError) n += (e.requestId ?? e.type).length;
  }

  // Observability and per-call credentials.
  const lr: LastResponse = (await qp.charges.retrieve(charge.id)).lastResponse;
  const pageStatus: number | undefined = page.lastResponse?.statusCode;
  const hook = (e: RequestEvent) => { n += e.attempt + (e.idempotencyKey ?? '').length; };
  qp.on('request', hook);
  qp.on('response', (e) => { n += (e.statusCode ?? 0) + (e.elapsedMs ?? 0); });
  qp.off('request', hook);
  await qp.charges.retrieve(charge.id, { apiKey: 'sk_other_merchant' });
  await qp.charges.retrieve(charge.id, { accessToken: 'tok' });
  // @ts-expect-error hooks are 'request' or 'response'
  qp.on('reply', hook);
  n += lr.statusCode + (lr.requestId ?? '').length + (lr.headers.get('request-id') ?? '').length + (pageStatus ?? 0);

  // @ts-expect-error currency is a closed union
  await qp.charges.create({ ...params, currency: 'EUR' });
  // @ts-expect-error the only update is buyerPaid
  await qp.charges.update(charge.id, { status: 'closed' });
  // @ts-expect-error toArray needs { max }
  await qp.charges.list().toArray();
  // @ts-expect-error status values are a union
  const s: ChargeStatus = 'paid';
  void [status, currency, pm, all, accessToken, s];
  return n;
}
