import type {
  TestType,
  PlaywrightTestArgs,
  PlaywrightTestOptions,
  PlaywrightWorkerArgs,
  PlaywrightWorkerOptions,
} from '@playwright/test';
import type { Sandbox, SandboxOptions } from './index';

export * from '@playwright/test';

/** The worker fixtures `qbitpay-sandbox/playwright` adds. */
export interface SandboxWorkerFixtures {
  /** This worker's sandbox: started when a test first asks for it, stopped when the worker ends. */
  sandbox: Sandbox;
  /** `startSandbox()`'s options for this worker's sandbox: `test.use({ sandboxOptions: { ... } })`. Default `{}`. */
  sandboxOptions: SandboxOptions;
}

/** Playwright Test's `test`, with the worker-scoped `sandbox` fixture. */
export declare const test: TestType<
  PlaywrightTestArgs & PlaywrightTestOptions,
  PlaywrightWorkerArgs & PlaywrightWorkerOptions & SandboxWorkerFixtures
>;
