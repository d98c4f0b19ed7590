#!/usr/bin/env node
'use strict';
// `npx qbitpay-sandbox [flags]`: runs this platform's sandbox binary with the same arguments,
// standard streams and exit status (`--help` lists the flags).
// `npx qbitpay-sandbox trigger <type> --url URL --api-key KEY [...]`: makes an event happen in
// a running sandbox, through its control API (the client of connectSandbox()).

const { spawn } = require('node:child_process');
const { sandboxBinary, SandboxBinaryError } = require('../lib/binary.cjs');

function run(args) {
  let binary;
  try {
    binary = sandboxBinary();
  } catch (e) {
    if (!(e instanceof SandboxBinaryError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }

  const child = spawn(binary, args, { stdio: 'inherit', windowsHide: true });
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
}

const TRIGGER_USAGE = `Usage: qbitpay-sandbox trigger <type> --url URL --api-key KEY [options]

Makes an event of <type> happen in the sandbox at URL, in the account of KEY, through the
same state changes as the API and the dashboard (a charge is created, paid, confirmed,
disputed...; a payout created and moved on), and delivers its signed webhooks. Prints the
ids of the events it made, one per line (oldest first).

Types: charge.succeeded, charge.expired, charge.failed, charge.dispute.created,
  charge.dispute.closed, payout.pending, payout.inTransition, payout.paid, payout.failed,
  payout.cancelled

Options:
  --url URL          the sandbox (http://127.0.0.1:PORT, as its first line printed)
  --api-key KEY      an API key the sandbox was started with (its account)
  --cb-url URL       where the events of a new charge or payout go (else the sandbox's
                     --webhook-url; with neither they are made, not delivered)
  --charge ID        move this charge on instead of creating one
  --payout ID        move this payout on instead of creating one
  --amount N         the amount of a new charge (USD) or payout (USDT); default 10
  --json             print the whole result (the object and its events) as JSON
  -h, --help         this text

Exit status: 0 done; 1 the sandbox refused (unknown type or object, a state that cannot
give the event) or could not be reached; 2 a usage error.`;

function trigger(argv) {
  const { parseArgs } = require('node:util');
  const usage = (why) => {
    process.stderr.write(`qbitpay-sandbox trigger: ${why}\n\n${TRIGGER_USAGE}\n`);
    process.exit(2);
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        'api-key': { type: 'string' },
        'cb-url': { type: 'string' },
        charge: { type: 'string' },
        payout: { type: 'string' },
        amount: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return usage(e.message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    process.stdout.write(`${TRIGGER_USAGE}\n`);
    return;
  }
  if (positionals.length !== 1) return usage(positionals.length ? `one event type, not ${positionals.join(' ')}` : 'which event type?');
  if (!o.url) return usage('--url is required (the sandbox\'s URL)');
  if (!o['api-key']) return usage('--api-key is required (a key the sandbox was started with)');
  let amount;
  if (o.amount !== undefined) {
    amount = Number(o.amount);
    if (o.amount.trim() === '' || !Number.isFinite(amount)) return usage(`--amount must be a number, not ${o.amount}`);
  }
  const { connectSandbox, DEFAULT_API_KEY } = require('../index.cjs');
  let sandbox;
  try {
    sandbox = connectSandbox({ url: o.url, apiKey: o['api-key'] });
  } catch (e) {
    return usage(e.message.replace(/^connectSandbox: url/, '--url').replace(/^connectSandbox: apiKey/, '--api-key'));
  }
  sandbox
    .trigger(positionals[0], { cbUrl: o['cb-url'], charge: o.charge, payout: o.payout, amount })
    .then((result) => {
      process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : result.events.map((e) => `${e.id}\n`).join(''));
      if (result.events.some((e) => !e.webhook.url)) {
        process.stderr.write('qbitpay-sandbox trigger: made, not delivered: no --cb-url, and the sandbox has no --webhook-url\n');
      }
    })
    .catch((e) => {
      let said = e.body?.message ? `${e.body.message} (HTTP ${e.status})` : e.message.replace(/^qbitpay-sandbox: /, '');
      if (e.status === 401) said += `: --api-key must be one the sandbox was started with (${DEFAULT_API_KEY} when it had none)`;
      process.stderr.write(`qbitpay-sandbox trigger: ${said}\n`);
      process.exitCode = 1;
    });
}

if (process.argv[2] === 'trigger') {
  trigger(process.argv.slice(3));
} else {
  run(process.argv.slice(2));
}
