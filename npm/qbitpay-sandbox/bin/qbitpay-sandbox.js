#!/usr/bin/env node
'use strict';
// `npx qbitpay-sandbox [flags]`: runs this platform's sandbox binary with the same arguments,
// standard streams and exit status (`--help` lists the flags).

const { spawn } = require('node:child_process');
const { sandboxBinary, SandboxBinaryError } = require('../lib/binary.cjs');

let binary;
try {
  binary = sandboxBinary();
} catch (e) {
  if (!(e instanceof SandboxBinaryError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', windowsHide: true });
// A signal for this process is meant for the server: pass it on, then leave as it left.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of SIGNALS) process.on(signal, () => child.kill(signal));
// Under npm (npx, npm run) this runs in a `sh -c` that npm signals on SIGTERM and that dies
// without passing the signal on: when that shell is gone, the server goes too.
if (process.env.npm_command && process.platform !== 'win32') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) child.kill('SIGTERM');
  }, 250).unref();
}
child.on('error', (e) => {
  process.stderr.write(`qbitpay-sandbox: cannot run ${binary}: ${e.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    for (const s of SIGNALS) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  } else {
    process.exit(code);
  }
});
