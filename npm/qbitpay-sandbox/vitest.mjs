// `qbitpay-sandbox/vitest`: Vitest's `test` with a `sandbox` fixture, one sandbox per test
// file (started when a test first asks for it, stopped after the file), configured by
// `sandboxOptions` (test.override({ sandboxOptions: { ... } }) at the top of a file).
import { test as base } from 'vitest';
import fixture from './lib/fixture.cjs';

export { expect } from 'vitest';

export const test = base.extend({
  sandboxOptions: [{}, { scope: 'file' }],
  sandbox: [fixture.sandboxFixture, { scope: 'file' }],
});
