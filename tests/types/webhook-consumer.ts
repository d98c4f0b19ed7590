// Type-checks the webhook inputs as users write them (tsc --strict, in make test).
import { verifyWebhook, verifyWebhookRequest, signWebhook, QbitPaySignatureError, type Event } from 'qbitpay/webhook';
import * as index from 'qbitpay';

declare const raw: string;
declare const bytes: Uint8Array;
declare const parsed: unknown;
declare const request: Request;

export async function handle(): Promise<string> {
  const a: Event = verifyWebhook(raw, 'SIG', 'key');
  const b = verifyWebhook(bytes, ['SIG'], ['old-key', 'new-key'], { maxAgeSeconds: 300, algorithm: 'hmac-sha256' });
  const c = verifyWebhook(parsed as object, null, 'key');
  const d: Event = await verifyWebhookRequest(request, ['old-key', 'new-key']);
  const e = await index.verifyWebhookRequest<{ id: string }>(request, 'key', { maxBytes: 1 << 16 });
  try {
    verifyWebhook(raw, undefined, 'key');
  } catch (err) {
    if (err instanceof QbitPaySignatureError) return err.code ?? '';
  }
  return [a.type, b.type, c.type, d.id, e.id, signWebhook({ id: 'evt' }, 'key')].join();
}
