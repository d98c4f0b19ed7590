// A local server as a child process of a test: started, its URL read from its first stdout
// line (`… listening on http://127.0.0.1:PORT`), stopped with SIGTERM (SIGKILL after 3 s).
// Used for the sandbox (sandbox.mjs) and the sample shop (tests/e2e/support.mjs).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * @param {{command: string, args?: string[], env?: NodeJS.ProcessEnv, name: string, verbose?: boolean}} o
 * @returns {Promise<{url: string, process: import('node:child_process').ChildProcess, stop(): Promise<void>}>}
 */
export async function startServerProcess({ command, args = [], env, name, verbose = false }) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', verbose ? 'inherit' : 'ignore'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 10 s`)), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected first line from ${name}: ${line}`));
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code}) before listening`)); });
  });
  // Keep draining stdout so the server never blocks on a full pipe.
  lines.on('line', (line) => { if (verbose) console.error(`[${name}] ${line}`); });
  let stopped;
  return {
    url,
    process: child,
    stop() {
      if (!stopped) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 3000);
        stopped = exited.then(() => clearTimeout(force));
      }
      return stopped;
    },
  };
}
