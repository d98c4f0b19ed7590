// sandbox/Dockerfile without a container engine (this machine has none): its instructions are
// read as Docker would for each architecture (the stage TARGETARCH picks, the ADD of a tarball
// from the build context dist/, which Docker unpacks), the image's file system is laid out
// from them, and the README's `docker run` runs as a container would: the ENTRYPOINT and the
// run's arguments, chrooted into exactly those files, with an empty environment, in a network
// namespace of its own, answering on the EXPOSEd port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT as root, DIST as dist, VERSION as version } from '../support/tarballs.mjs';

const work = path.join(root, 'tests', '.tmp', 'docker');
const dockerfile = fs.readFileSync(path.join(root, 'sandbox', 'Dockerfile'), 'utf8');
// The README's recipe, and the Dockerfile's own comment says the same.
const recipe = /```sh\n(make dist\ndocker build -f sandbox\/Dockerfile [^\n]*\ndocker run [^\n]*\n)```/.exec(fs.readFileSync(path.join(root, 'README.md'), 'utf8'))?.[1];

/** The Dockerfile's instructions ({op, args}), comments and blank lines left out. */
const instructions = dockerfile.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'))
  .map((l) => { const [op, ...rest] = l.trim().split(/\s+/); return { op: op.toUpperCase(), args: rest.join(' ') }; });

/** The stages, by name, and the final one for `targetarch` (its FROM resolved). */
function image(targetarch) {
  const stages = [];
  for (const i of instructions) {
    if (i.op === 'FROM') {
      const [from, , name] = i.args.replaceAll('${TARGETARCH}', targetarch).split(/\s+/);
      stages.push({ from, name, steps: [] });
    } else if (stages.length) stages.at(-1).steps.push(i);
  }
  const chain = [stages.at(-1)];
  while (chain[0].from !== 'scratch') {
    const base = stages.find((s) => s.name === chain[0].from);
    assert.ok(base, `FROM ${chain[0].from}: no such stage`);
    chain.unshift(base);
  }
  return chain.flatMap((s) => s.steps);
}

/** What a glob of the build context (dist/) matches: Docker's ADD takes each file it names. */
const inContext = (glob) => {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}$`);
  return fs.readdirSync(dist).filter((f) => re.test(f));
};

test('each architecture: FROM scratch, the one tarball of its platform from dist/, EXPOSE, ENTRYPOINT', () => {
  assert.ok(recipe, 'README.md: make dist, docker build, docker run');
  assert.ok(dockerfile.includes(recipe.trimEnd().replace(/^/gm, '#   ')), 'the Dockerfile shows the README\'s commands');
  assert.match(recipe, /^docker build -f sandbox\/Dockerfile -t qbitpay-sandbox dist$/m, 'the build context is dist/');
  for (const [arch, platform] of [['amd64', 'linux-x64'], ['arm64', 'linux-arm64']]) {
    const steps = image(arch);
    const adds = steps.filter((s) => s.op === 'ADD' || s.op === 'COPY');
    assert.equal(adds.length, 1, `${arch}: one file added`);
    const [src, dest] = adds[0].args.split(/\s+/);
    assert.deepEqual([adds[0].op, inContext(src), dest], ['ADD', [`qbitpay-sandbox-${platform}-${version}.tgz`], '/'], arch);
    assert.equal(steps.find((s) => s.op === 'EXPOSE')?.args, '4010');
    const entry = JSON.parse(steps.find((s) => s.op === 'ENTRYPOINT').args);
    assert.deepEqual(entry, ['/package/bin/qbitpay-sandbox', '--host', '0.0.0.0', '--port', '4010']);
    assert.ok(!steps.some((s) => s.op === 'RUN'), 'nothing to run in an empty image');
  }
});

test('the amd64 image, as laid out from its instructions, serves on the EXPOSEd port in a container of its own', () => {
  const steps = image('amd64');
  const rootfs = path.join(work, 'rootfs');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(rootfs, { recursive: true });
  const [src] = steps.find((s) => s.op === 'ADD').args.split(/\s+/);
  for (const f of inContext(src)) execFileSync('tar', ['xzf', path.join(dist, f), '-C', rootfs]); // ADD unpacks a local tar.gz
  const files = execFileSync('find', ['.', '-type', 'f'], { cwd: rootfs, encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(files, ['./package/LICENSE', './package/README.md', './package/bin/qbitpay-sandbox', './package/package.json']);
  const entry = JSON.parse(steps.find((s) => s.op === 'ENTRYPOINT').args);
  const port = steps.find((s) => s.op === 'EXPOSE').args;
  const run = /^docker run --rm -p (\d+):(\d+) qbitpay-sandbox (.*)$/m.exec(recipe);
  assert.ok(run, recipe);
  assert.equal(run[2], port, 'the run publishes the EXPOSEd port');
  const key = /--api-key (\S+)/.exec(run[3])[1];
  const script = `set -e
ip link set lo up
env -i "$(command -v chroot)" ${rootfs} ${entry.join(' ')} ${run[3]} >out 2>err &
pid=$!
for i in $(seq 100); do [ -s out ] && break; sleep 0.1; done
echo "first: $(head -n 1 out)"
echo "api: $(curl -s -o /dev/null -w '%{http_code}' -u ${key}: http://127.0.0.1:${port}/api/v1/balances/show)"
echo "nokey: $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${port}/api/v1/balances/show)"
echo "info: $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${port}/_sandbox/info)"
kill $pid; wait $pid || true
`;
  const r = spawnSync('unshare', ['--net', 'sh', '-c', script], { cwd: work, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr + fs.readFileSync(path.join(work, 'err'), 'utf8'));
  assert.equal(r.stdout, `first: qbitpay-sandbox listening on http://127.0.0.1:${port}\napi: 200\nnokey: 401\ninfo: 200\n`,
    fs.readFileSync(path.join(work, 'err'), 'utf8'));
});
