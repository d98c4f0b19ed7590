import type { TestAPI } from 'vitest';
import type { Sandbox, SandboxOptions } from './index';

export { expect } from 'vitest';

/** The fixtures `qbitpay-sandbox/vitest` adds (file-scoped). */
export interface SandboxFixtures {
  /** This file's sandbox: started when a test first asks for it, stopped after the file. */
  sandbox: Sandbox;
  /** `startSandbox()`'s options for this file's sandbox: `test.override({ sandboxOptions: { ... } })` (Vitest 3.2: `test.scoped`). Default `{}`. */
  sandboxOptions: SandboxOptions;
}

/** Vitest's `test`, with the file-scoped `sandbox` fixture. */
export declare const test: TestAPI<SandboxFixtures>;
