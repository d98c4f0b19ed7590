// Real database servers for the webhook handler tests, from Debian's packages (installed by
// tools/bootstrap.sh), started by the test on a free port of 127.0.0.1 with their data in a
// temp dir, never as system services; stop() ends the server and removes its data.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A port that was free a moment ago. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Run `cmd` (its own process group) until a line of its output matches `ready`. */
function startProcess(name, cmd, args, { ready, timeoutMs = 30_000, cleanup = () => {}, signal = 'SIGTERM' }) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const kill = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
  const server = {
    /** The server's process (the leader of its own group). */
    pid: child.pid,
    output: () => out,
    async stop() {
      kill(signal);
      const force = setTimeout(() => kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
      cleanup();
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { server.stop(); reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${out}`)); }, timeoutMs);
    const onData = (d) => {
      out += d;
      if (ready.test(out) && timer) {
        clearTimeout(timer);
        resolve(server);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => { clearTimeout(timer); cleanup(); reject(new Error(`${name} (${cmd}) could not start: ${e.message}; tools/bootstrap.sh servers installs it`)); });
    child.once('exit', (code) => { clearTimeout(timer); if (!ready.test(out)) { cleanup(); reject(new Error(`${name} exited (${code}):\n${out}`)); } });
  });
}

/**
 * redis-server on a free port, nothing saved to disk: `{ url, stop() }`. With `cluster`, a
 * Redis Cluster of this one node (its config in a temp dir): the caller assigns the slots.
 */
export async function startRedis({ cluster = false } = {}) {
  const port = await freePort();
  const dir = cluster ? fs.mkdtempSync(path.join(os.tmpdir(), 'qbitpay-redis-')) : os.tmpdir();
  const clusterArgs = cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1'] : [];
  const server = await startProcess('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice', '--dir', dir, ...clusterArgs],
  { ready: /Ready to accept connections/, cleanup: cluster ? () => fs.rmSync(dir, { recursive: true, force: true }) : undefined });
  return { ...server, url: `redis://127.0.0.1:${port}`, port };
}

/** The directory of PostgreSQL's server programs (Debian: /usr/lib/postgresql/<major>/bin). */
export function postgresBin() {
  const base = '/usr/lib/postgresql';
  const majors = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'postgres'))) : [];
  if (!majors.length) throw new Error('no PostgreSQL server in /usr/lib/postgresql: tools/bootstrap.sh servers installs it');
  return path.join(base, majors.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

/**
 * A throwaway PostgreSQL cluster on a free port (trust authentication, no fsync): `{ url, stop() }`.
 * As root, the server runs as the `postgres` user that Debian's package creates (it refuses root).
 */
export async function startPostgres() {
  const bin = postgresBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qbitpay-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const as = (cmd, args) => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const data = path.join(dir, 'data');
  execFileSync(...as(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']), { stdio: 'pipe' });
  const port = await freePort();
  const server = await startProcess('postgres', ...as(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off']),
  // SIGINT: PostgreSQL's fast shutdown (SIGTERM waits for its clients to leave).
  { ready: /database system is ready to accept connections/, signal: 'SIGINT', cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) });
  return { ...server, url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}
