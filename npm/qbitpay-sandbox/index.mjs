// The ESM entry: the CommonJS module's exports (one implementation for `import` and `require`).
import api from './index.cjs';

export const { startSandbox, connectSandbox, SandboxError, sandboxBinary, currentPlatform, platformPackage, SandboxBinaryError, DEFAULT_API_KEY } = api;
