// Not a recipe: which sandbox each worker of the fixture got, and that test.use reaches it.
// The two tests wait for each other (files in $BARRIER): they must run at the same time, in
// two workers.
import fs from 'node:fs';
import path from 'node:path';
import { test, expect } from 'qbitpay-sandbox/playwright';

test.describe.configure({ mode: 'parallel' });
test.use({ sandboxOptions: { chargeTtl: 77 } });

for (const n of [1, 2]) {
  test(`worker fixture ${n}`, async ({ sandbox }, info) => {
    const { charge } = await sandbox.trigger('charge.failed', { cbUrl: 'http://127.0.0.1:9/hook' });
    expect(Date.parse(charge.expiresAt) - Date.parse(charge.createdAt)).toBe(77_000);
    info.annotations.push({ type: 'sandbox', description: JSON.stringify({ worker: info.workerIndex, pid: sandbox.pid, url: sandbox.url }) });
    fs.writeFileSync(path.join(process.env.BARRIER, `arrived-${n}`), '');
    await expect.poll(() => fs.existsSync(path.join(process.env.BARRIER, `arrived-${3 - n}`)), { timeout: 60_000 }).toBe(true);
  });
}
