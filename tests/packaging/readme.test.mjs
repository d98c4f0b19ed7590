// The README's framework quick starts and its esbuild recipe are what the packaging tests
// build and run: every code block marked <!-- tests/packaging/fixtures/... --> is that file,
// byte for byte.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.mjs';

test('README quick starts are the tested fixture files', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^<!-- (tests\/packaging\/fixtures\/\S+) -->\n```\w+\n([\s\S]*?)^```$/gm)];
  const apps = new Set(blocks.map(([, file]) => file.split('/')[3]));
  assert.deepEqual([...apps].sort(), ['browser', 'express', 'hono', 'next'], 'a quick start for Next.js, Express and Hono; the esbuild recipe');
  for (const [, file, code] of blocks) {
    assert.equal(code, fs.readFileSync(path.join(ROOT, file), 'utf8'), `README block = ${file}`);
  }
});
