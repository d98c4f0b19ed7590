// createWebhookHandler, through the built package, against what an unlucky user or a hostile
// network meets: a store that stops answering (a real redis-server paused mid-run, node-redis
// and ioredis), a peer that leaves mid-body (a real socket), a flood of forged deliveries,
// and a Redis Cluster (one real cluster-mode redis-server) through either client.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createClient, createCluster } from 'redis';
import Redis from 'ioredis';
import * as webhook from 'qbitpay/webhook';
import { webhookDelivery } from 'qbitpay/webhook/testing';
import { startRedis } from './servers.mjs';

const apiKey = 'sk_test_hostile_handler';
let redis;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  if (redis) {
    try { process.kill(-redis.pid, 'SIGCONT'); } catch { /* gone */ }
    await redis.stop();
  }
});

/** `promise`, or a rejection after `ms`: what the test waits at most. */
const within = (promise, ms, what) => Promise.race([promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref())]);

test('a store that stops answering (redis-server paused): 503 within the lease, reported; nothing run; later processed once', async () => {
  const nodeRedis = await createClient({ url: redis.url }).connect();
  const ioredis = new Redis(redis.url);
  try {
    const cases = [['node-redis', nodeRedis], ['ioredis', ioredis]].map(([name, client]) => {
      const c = { name, ran: [], errors: [], d: webhookDelivery('charge.succeeded', { apiKey }) };
      c.h = webhook.createWebhookHandler({ apiKey, leaseSeconds: 2, store: webhook.redisStore(client, { prefix: `paused-${name}:` }),
        onError: (e, { stage }) => c.errors.push([stage, e.message]), on: { 'charge.succeeded': (e) => { c.ran.push(e.id); } } });
      return c;
    });
    process.kill(-redis.pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      await Promise.all(cases.map(async (c) => { c.r = await within(c.h.handle(c.d.body, c.d.signature), 10_000, c.name); }));
      assert.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms`);
    } finally {
      process.kill(-redis.pid, 'SIGCONT');
    }
    for (const { name, r, ran, errors } of cases) {
      assert.deepEqual([r.status, r.outcome], [503, 'unavailable'], name);
      assert.deepEqual(ran, [], `${name}: not run`);
      assert.equal(errors[0]?.[0], 'claim', name);
      assert.match(errors[0][1], /store\.claim\(\) did not answer within 1000 ms \(half of leaseSeconds\)/, name);
    }
    // The sender's retry, once the claims that landed late have run out: run once.
    await new Promise((res) => setTimeout(res, 2100));
    for (const { name, h, d, ran } of cases) {
      assert.equal((await h.handle(d.body, d.signature)).outcome, 'processed', name);
      assert.equal((await h.handle(d.body, d.signature)).outcome, 'duplicate', name);
      assert.deepEqual(ran, [d.event.id], name);
    }
  } finally {
    await nodeRedis.quit();
    ioredis.disconnect();
  }
});

test('node(req, res) on a real socket: a paused store still gets the delivery an answer', async () => {
  const client = await createClient({ url: redis.url }).connect();
  const h = webhook.createWebhookHandler({ apiKey, leaseSeconds: 2, store: webhook.redisStore(client, { prefix: 'paused-http:' }),
    onError: () => {}, on: { 'charge.succeeded': () => {} } });
  const server = http.createServer((req, res) => h.node(req, res));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const d = webhookDelivery('charge.succeeded', { apiKey });
    process.kill(-redis.pid, 'SIGSTOP');
    let res;
    try {
      res = await within(fetch(`http://127.0.0.1:${server.address().port}/`, { method: 'POST', body: d.body, headers: d.headers }), 10_000, 'node face');
    } finally {
      process.kill(-redis.pid, 'SIGCONT');
    }
    assert.deepEqual([res.status, await res.json()], [503, { outcome: 'unavailable' }]);
  } finally {
    server.close();
    await client.quit();
  }
});

test('node(req, res): a peer that goes away mid-body is let go: nothing run, nothing reported, nothing left waiting', async () => {
  const reported = [];
  let ran = 0;
  const h = webhook.createWebhookHandler({ apiKey, onError: (e, { stage }) => reported.push([stage, e.message]), on: { 'charge.succeeded': () => { ran++; } } });
  let settled = 0;
  const server = http.createServer((req, res) => h.node(req, res).then(() => { settled++; }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const d = webhookDelivery('charge.succeeded', { apiKey });
  const heads = [
    `POST / HTTP/1.1\r\nHost: x\r\nQbitPay-Signature: ${d.signature}\r\nContent-Length: ${Buffer.byteLength(d.body)}\r\n\r\n${d.body.slice(0, 40)}`,
    `POST / HTTP/1.1\r\nHost: x\r\nQbitPay-Signature: ${d.signature}\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n${d.body.slice(0, 40)}\r\n`,
  ];
  try {
    for (const head of heads) {
      const socket = (await import('node:net')).connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(head);
      await new Promise((r) => setTimeout(r, 150));
      socket.destroy();
    }
    const end = Date.now() + 5000;
    while (settled < heads.length && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, heads.length, 'every node() call settled');
    assert.deepEqual(reported, [], 'a peer that left is no error of the app');
    assert.equal(ran, 0);
  } finally {
    server.close();
  }
});

test('a flood of forged deliveries with distinct ids never reaches the store: memoryStore at a small bound still takes real ones', async () => {
  const store = webhook.memoryStore({ max: 2 });
  const touched = [];
  const spy = Object.fromEntries(['claim', 'done', 'release', 'newest'].map((m) => [m, (...a) => { touched.push(m); return store[m](...a); }]));
  let ran = 0;
  const h = webhook.createWebhookHandler({ apiKey, store: spy, on: { 'charge.succeeded': () => { ran++; } } });
  for (let i = 0; i < 2000; i++) {
    const forged = webhookDelivery('charge.succeeded', { apiKey: `sk_test_forger_${i % 7}` });
    assert.equal((await h.handle(forged.body, forged.signature)).status, 400);
  }
  assert.deepEqual(touched, []);
  for (const d of [webhookDelivery('charge.succeeded', { apiKey }), webhookDelivery('charge.succeeded', { apiKey })]) {
    assert.equal((await h.handle(d.body, d.signature)).outcome, 'processed');
  }
  assert.equal(ran, 2);
});

test('redisStore on a Redis Cluster (node-redis createCluster, ioredis Cluster): each event once', async () => {
  const node = await startRedis({ cluster: true });
  const setup = await createClient({ url: node.url }).connect();
  let cluster;
  let ioCluster;
  try {
    await setup.sendCommand(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
    for (let i = 0; !(await setup.sendCommand(['CLUSTER', 'INFO'])).includes('cluster_state:ok'); i++) {
      assert.ok(i < 200, 'the one-node cluster comes up');
      await new Promise((r) => setTimeout(r, 50));
    }
    cluster = await createCluster({ rootNodes: [{ url: node.url }] }).connect();
    ioCluster = new Redis.Cluster([{ host: '127.0.0.1', port: node.port }]);
    for (const [name, client] of [['node-redis', cluster], ['ioredis', ioCluster]]) {
      const errors = [];
      const ran = [];
      const h = webhook.createWebhookHandler({ apiKey, store: webhook.redisStore(client, { prefix: `cluster-${name}:` }),
        onError: (e, { stage }) => errors.push(`${stage}: ${e.message}`), on: { 'charge.succeeded': (e) => { ran.push(e.id); } } });
      const d = webhookDelivery('charge.succeeded', { apiKey });
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => h.handle(d.body, d.signature).then((r) => r.outcome)));
      assert.deepEqual(errors, [], name);
      assert.equal(outcomes.filter((o) => o === 'processed').length, 1, `${name}: ${outcomes}`);
      assert.equal((await h.handle(d.body, d.signature)).outcome, 'duplicate', name);
      assert.deepEqual(ran, [d.event.id], name);
    }
  } finally {
    await cluster?.quit();
    ioCluster?.disconnect();
    await setup.quit();
    await node.stop();
  }
});
