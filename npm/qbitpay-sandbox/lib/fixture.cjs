'use strict';
// The `sandbox` fixture of the Playwright and Vitest entries: a sandbox started with the
// `sandboxOptions` fixture's value, handed to the tests, stopped after them (also when they
// fail). Both runners read the fixtures a fixture needs from its first parameter's pattern.

const { startSandbox } = require('../index.cjs');

async function sandboxFixture({ sandboxOptions }, use) {
  const sandbox = await startSandbox(sandboxOptions);
  try {
    await use(sandbox);
  } finally {
    await sandbox.stop();
  }
}

module.exports = { sandboxFixture };
