// What createWebhookHandler and the stores run per delivery is loaded on first use: an app
// that only verifies loads none of it (Node's require, and an ES module entry as Deno, Bun and
// browsers load it), while the options are still checked when createWebhookHandler is called.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VECTOR } from './ref-signer.mjs';

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('qbitpay/package.json'));
const { apiKey, body, signature } = VECTOR;

// One child per run: a fresh module graph, whose loads it reports.
const child = (args, script) => JSON.parse(execFileSync(process.execPath, [...args, '--input-type=module', '-e', script],
  { cwd: pkgDir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }));

const steps = (loaded) => `
const out = {};
const { verifyWebhook, createWebhookHandler, memoryStore } = m;
out.verified = verifyWebhook(${JSON.stringify(body)}, ${JSON.stringify(signature)}, ${JSON.stringify(apiKey)}, { maxAgeSeconds: null }).id;
out.afterVerify = ${loaded};
try { createWebhookHandler({ apiKey: ${JSON.stringify(apiKey)}, on: { 'no.such': () => {} } }); } catch (e) { out.typeError = e instanceof TypeError && e.message; }
const store = memoryStore();
const h = createWebhookHandler({ apiKey: ${JSON.stringify(apiKey)}, store, on: { 'charge.succeeded': () => {} }, maxAgeSeconds: 1e12 });
out.faces = Object.keys(h);
out.afterCreate = ${loaded};
out.answer = await h.handle(${JSON.stringify(body)}, ${JSON.stringify(signature)});
out.afterDelivery = ${loaded};
out.claimAgain = await store.claim('evt_x', 't', 1000);
process.stdout.write(JSON.stringify(out));
`;

function check(out) {
  assert.equal(typeof out.verified, 'string');
  assert.equal(out.afterVerify, false, 'verifying loads no handler code');
  assert.match(out.typeError, /^createWebhookHandler: options\.on has a handler for "no\.such"/);
  assert.deepEqual(out.faces, ['handle', 'fetch', 'node']);
  assert.equal(out.afterCreate, false, 'creating a handler and a store loads nothing yet');
  assert.equal(out.answer.outcome, 'processed');
  assert.equal(out.answer.status, 200);
  assert.equal(out.afterDelivery, true);
  assert.equal(out.claimAgain, 'claimed');
}

test('Node (require): cjs/delivery.cjs is required on the first delivery, not before', () => {
  check(child([], `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(pkgDir, 'package.json'))});
const m = require('qbitpay/webhook');
${steps("Object.keys(require.cache).some((f) => f.endsWith('delivery.cjs'))")}`));
});

test('ES module entry (Deno, Bun): esm/delivery.mjs is imported on the first delivery, not before', () => {
  // A resolve hook (on the loader thread) tells the main thread each URL resolved.
  const hooks = `data:text/javascript,${encodeURIComponent(`let port;
export function initialize(data) { port = data.port; }
export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); port.postMessage(r.url); return r; }`)}`;
  check(child([], `import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const urls = [];
port1.on('message', (u) => urls.push(u));
port1.unref();
register(${JSON.stringify(hooks)}, { data: { port: port2 }, transferList: [port2] });
const m = await import(${JSON.stringify(pathToFileURL(join(pkgDir, 'esm', 'webhook.fs.mjs')).href)});
const settle = () => new Promise((r) => setTimeout(r, 50));
const seen = async () => (await settle(), urls.some((u) => u.endsWith('/esm/delivery.mjs')));
${steps('await seen()')}`));
});
