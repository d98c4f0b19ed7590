// Type-checks createWebhookHandler, its stores and the test helpers as users write them (tsc --strict, in make test).
/// <reference types="node" />
import {
  createWebhookHandler, memoryStore, redisStore, d1Store,
  type WebhookStore, type WebhookResult, type WebhookOutcome, type Charge, type Payout,
} from 'qbitpay/webhook';
import * as index from 'qbitpay';
import { webhookDelivery, webhookEvent } from 'qbitpay/webhook/testing';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { createClient, createCluster } from 'redis';
import type Redis from 'ioredis';

declare const redisClient: { sendCommand(args: string[]): Promise<unknown> };
declare const ioredisClient: { call(...args: string[]): Promise<unknown> };
declare const db: { prepare(q: string): { bind(...v: unknown[]): any }; batch(s: any[]): Promise<unknown> };
declare const req: IncomingMessage;
declare const res: ServerResponse;
declare const request: Request;

const paidOrders: string[] = [];

export const handler = createWebhookHandler({
  apiKey: ['sk_old', 'sk_new'],
  store: redisStore(redisClient, { prefix: 'shop:' }),
  maxAgeSeconds: 86400,
  leaseSeconds: 30,
  staleEvents: 'acknowledge',
  onError: (error, { stage, event }) => console.warn(stage, event?.id, error),
  on: {
    'charge.succeeded': async (event, ctx) => {
      // event.data is a Charge: its fields, typed.
      const charge: Charge = event.data;
      const order: string = charge.externalOrderId;
      const stale: boolean = ctx.stale;
      if (!stale) paidOrders.push(order);
      // @ts-expect-error a charge has no destination (that is a payout's)
      event.data.destination;
    },
    'payout.paid': (event) => {
      const payout: Payout = event.data;
      const type: 'payout.paid' = event.type;
      return [payout.destination.type, type];
    },
    // @ts-expect-error a misspelt event type does not compile
    'charge.succeded': () => {},
  },
});

createWebhookHandler({
  apiKey: 'sk',
  on: {
    // @ts-expect-error the handler of a payout event gets a payout, not a charge
    'payout.failed': (event: { data: Charge }) => event.data.paymentPageUrl,
  },
});

export async function faces(): Promise<WebhookOutcome[]> {
  const r: WebhookResult = await handler.handle('{"id":"evt"}', 'SIG');
  const fromBytes = await handler.handle(new Uint8Array(), ['SIG']);
  const fromParsed = await handler.handle({ id: 'evt' }, null);
  const response: Response = await handler.fetch(request);
  await handler.node(req, res);
  const status: 200 | 400 | 409 | 500 | 503 = r.status;
  if (r.outcome === 'rejected') r.code?.toUpperCase();
  if (r.event?.type === 'payout.paid') r.event.data.arrivalDate.toUpperCase();
  // @ts-expect-error an outcome that does not exist
  const nope: WebhookOutcome = 'done';
  return [r.outcome, fromBytes.outcome, fromParsed.outcome, String(response.status + status) as WebhookOutcome, nope];
}

// Stores: the built-in ones and one of your own.
const own: WebhookStore = {
  claim: async (id, token, leaseMs) => (id && token && leaseMs ? 'claimed' : 'busy'),
  done: async (id, ttlMs, object) => [id, ttlMs, object?.id, object?.createdAt.toFixed()],
  release: async () => {},
  newest: async () => undefined,
};
export const stores: WebhookStore[] = [memoryStore(), memoryStore({ max: 10 }), redisStore(ioredisClient), d1Store(db, { table: 'hooks' }), own];
index.createWebhookHandler({ apiKey: 'sk', on: {}, store: index.memoryStore() });
// @ts-expect-error a claim answers 'claimed', 'done' or 'busy'
export const wrong: WebhookStore = { ...own, claim: async () => 'ok' };

// The test helpers: events of each type, their data narrowed.
const e = webhookEvent('payout.inTransition', { data: { amount: 5 } });
const status: 'pending' | 'inTransit' | 'paid' | 'cancelled' | 'failed' = e.data.status;
const d = webhookDelivery('charge.succeeded', { apiKey: 'sk', createdAt: new Date(), data: { externalOrderId: 'o-1' } });
const sig: string = d.headers['qbitpay-signature'];
const order: string = d.event.data.externalOrderId;
const r2: Request = d.request('http://localhost/webhooks');
webhookDelivery(e, { apiKey: 'sk', algorithm: 'hmac-sha256' });
// @ts-expect-error a misspelt event type
webhookEvent('charge.succeded');
// @ts-expect-error the key that signs it is required
webhookDelivery('charge.succeeded', {});
export const helpers = [status, sig, order, r2];

// The real clients, as the libraries type them: node-redis (a client, a cluster) and ioredis (Redis, Cluster).
declare const nodeRedis: ReturnType<typeof createClient>;
declare const nodeRedisCluster: ReturnType<typeof createCluster>;
declare const ioredis: Redis;
declare const ioredisCluster: InstanceType<typeof Redis.Cluster>;
export const realClients: WebhookStore[] = [redisStore(nodeRedis), redisStore(nodeRedisCluster), redisStore(ioredis), redisStore(ioredisCluster)];
