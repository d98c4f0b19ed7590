// The ESM entry of `qbitpay-sandbox/playwright`: the CommonJS module's exports (one
// implementation, one @playwright/test for `import` and `require`).
import api from './playwright.cjs';

export * from '@playwright/test';
export const { test, expect } = api;
