// The READMEs' framework quick starts, webhook recipes and esbuild recipe are what the
// packaging tests build and run: every code block marked <!-- tests/packaging/fixtures/... -->
// is that file, byte for byte (README.md, and the npm package's pkg-template/README.md).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.mjs';

function blocks(readme) {
  const text = fs.readFileSync(path.join(ROOT, readme), 'utf8');
  return [...text.matchAll(/^<!-- (tests\/packaging\/fixtures\/\S+) -->\n```\w+\n([\s\S]*?)^```$/gm)];
}

function check(readme, wantApps) {
  const found = blocks(readme);
  assert.deepEqual([...new Set(found.map(([, file]) => file.split('/')[3]))].sort(), wantApps, `${readme}: the apps its blocks come from`);
  for (const [, file, code] of found) {
    assert.equal(code, fs.readFileSync(path.join(ROOT, file), 'utf8'), `${readme} block = ${file}`);
  }
  return found.map(([, file]) => file);
}

test('README quick starts and webhook recipes are the tested fixture files', () => {
  // Next.js, Express and Hono quick starts; the esbuild recipe; a webhook handler per framework.
  const files = check('README.md', ['browser', 'express', 'hono', 'next', 'webhooks']);
  for (const recipe of ['http.js', 'express.js', 'fastify.js', 'worker.js', 'wrangler.jsonc', 'postgres.js', 'webhooks.test.js']) {
    assert.ok(files.includes(`tests/packaging/fixtures/webhooks/${recipe}`), `README.md shows webhooks/${recipe}`);
  }
});

test('the npm README\'s webhook recipes are the tested fixture files', () => {
  const files = check('pkg-template/README.md', ['next', 'webhooks']);
  assert.ok(files.includes('tests/packaging/fixtures/webhooks/http.js'), 'the handler first');
});
