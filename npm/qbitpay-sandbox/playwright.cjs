'use strict';
// `qbitpay-sandbox/playwright`: Playwright Test's `test` with a `sandbox` fixture, one sandbox
// per worker (started on first use, stopped when the worker ends), configured by the worker
// option `sandboxOptions` (test.use or the config's `use`); everything else of
// @playwright/test as it is.

const playwright = require('@playwright/test');
const { sandboxFixture } = require('./lib/fixture.cjs');

const test = playwright.test.extend({
  sandboxOptions: [{}, { scope: 'worker', option: true }],
  sandbox: [sandboxFixture, { scope: 'worker', timeout: 60_000 }],
});

module.exports = { ...playwright, test };
