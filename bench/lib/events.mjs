// Realistic QbitPay charge events of a chosen size, deterministic (same bytes every run):
// a charge with a nested paymentMethod, billing details, metadata, line items with products
// and tax rates, refunds. Sizes grow by adding line items.

const NAMES = ['Zoë Müller', 'Ana Núñez', '山田 太郎', 'John O\'Neil', 'Åsa Öberg', 'Chloé Lefèvre', 'Ivan Petrov', 'Mia Wong'];
const PRODUCTS = ['Espresso beans 1 kg', 'Ceramic pour-over "V60"', 'Hand grinder — steel burrs', 'Filter papers ×100',
  'Gooseneck kettle 1.2 L', 'Café au lait bowl', 'Cold brew bottle', 'Barista apron (M)'];

function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function id(rand, prefix, n = 14) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = prefix;
  for (let i = 0; i < n; i++) s += abc[Math.floor(rand() * abc.length)];
  return s;
}

function item(rand, i) {
  const unit = Math.round(rand() * 10000) / 100;
  const qty = 1 + Math.floor(rand() * 4);
  return {
    id: id(rand, 'li_'),
    object: 'line_item',
    description: PRODUCTS[i % PRODUCTS.length],
    quantity: qty,
    unitAmount: unit,
    amount: Math.round(unit * qty * 100) / 100,
    currency: 'USD',
    discountable: i % 3 !== 0,
    taxRates: [{ id: id(rand, 'txr_'), displayName: 'VAT', percentage: 19.5, inclusive: false, jurisdiction: 'DE' }],
    product: {
      id: id(rand, 'prod_'),
      name: PRODUCTS[(i * 7) % PRODUCTS.length],
      images: [`https://cdn.qbitpay.example/img/${id(rand, '', 10)}.jpg`],
      metadata: { sku: `SKU-${10000 + i}`, warehouse: i % 2 ? 'FRA-1' : 'AMS-2' },
    },
    period: { start: 1551111192 + i * 60, end: 1553703192 + i * 60 },
  };
}

/** A charge.succeeded event body of about `targetBytes` bytes (JSON text). */
export function chargeEvent(targetBytes, seed = 1) {
  const rand = lcg(seed);
  const name = NAMES[seed % NAMES.length];
  const data = {
    id: id(rand, 'ch_'),
    object: 'charge',
    createdAt: '2019-02-25T16:13:12.278Z',
    paid: true,
    status: 'succeeded',
    amount: 0,
    amountRefunded: 0,
    currency: 'USD',
    description: `Order for ${name}`,
    externalOrderId: id(rand, 'ord_'),
    paymentPageUrl: `https://qbitpay.example/?zh#/otc/payment?tradeId=${id(rand, '', 20)}`,
    cbUrl: 'https://api.merchant.example/webhooks/qbitpay',
    redirectUrl: 'https://shop.merchant.example/thanks',
    paymentMethod: {
      id: id(rand, 'pm_'),
      type: 'card',
      card: {
        brand: 'visa', last4: '4242', expMonth: 12, expYear: 2031, country: 'DE', funding: 'credit',
        fingerprint: id(rand, '', 16), checks: { cvcCheck: 'pass', addressLine1Check: null, addressPostalCodeCheck: 'pass' },
        threeDSecure: { authenticated: true, version: '2.2.0' },
      },
      billingDetails: {
        name, email: 'customer@example.com', phone: '+49 30 1234567',
        address: { line1: 'Unter den Linden 1', line2: null, city: 'Berlin', postalCode: '10117', state: null, country: 'DE' },
      },
    },
    metadata: { orderNote: 'Leave at the door — thanks! ☕', channel: 'web', abTest: 'checkout-v2' },
    outcome: { networkStatus: 'approved_by_network', riskLevel: 'normal', riskScore: 23, sellerMessage: 'Payment complete.' },
    items: [],
    refunds: { object: 'list', data: [], hasMore: false, totalCount: 0 },
  };
  const event = {
    id: id(rand, 'evt_'),
    type: 'charge.succeeded',
    createdAt: '2019-02-25T16:13:12.278Z',
    object: 'event',
    pendingWebhooks: 1,
    livemode: false,
    apiVersion: '2019-02-01',
    request: { id: id(rand, 'req_'), idempotencyKey: null },
    data,
  };
  // Small targets: a leaner charge (the ~1 KB event is the spec's example plus a card).
  const optional = [() => delete data.refunds, () => delete data.outcome, () => delete event.request,
    () => delete data.paymentMethod.card.threeDSecure, () => delete data.metadata, () => delete event.apiVersion,
    () => delete data.paymentMethod.billingDetails.address, () => delete data.description];
  for (const drop of optional) {
    if (JSON.stringify(event).length <= targetBytes * 1.05) break;
    drop();
  }
  let total = 0;
  for (let i = 0; JSON.stringify(event).length < targetBytes; i++) {
    const it = item(rand, i);
    data.items.push(it);
    total += it.amount;
    data.amount = Math.round(total * 100) / 100;
    // Coarse steps are fine for big targets; go one item at a time near the end.
    if (targetBytes > 50_000 && JSON.stringify(event).length < targetBytes * 0.9) {
      for (let k = 0; k < 50; k++) data.items.push(item(rand, ++i));
    }
  }
  if (data.items.length > 0 && JSON.stringify(event).length > targetBytes * 1.15) data.items.pop();
  data.amount = Math.round(data.items.reduce((sum, it) => sum + it.amount, 0) * 100) / 100;
  return JSON.stringify(event);
}
