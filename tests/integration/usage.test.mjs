// SPDX-License-Identifier: ISC
// Usage counters of running bridges (issue 6): usage files in a private
// $XDG_RUNTIME_DIR for this live node process, a process that cannot
// exist, a corrupt file and a stale temporary; the real `mcp-bridge status
// --json` and `status` read them, drop the dead ones, skip the corrupt one
// with one line, and never change status's exit code (0 signed in, 1 not,
// 2 error). The last test makes real calls through an aggregating `run`
// (two official-SDK hosted servers) and reads its counters back.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runBridge, sanitizerReport, HostedServer, connectBridge, closeAndCheck, waitUntil } from './lib.mjs';

const DEAD_PID = 2147483646; // above any pid_max, so never a live process
const BOUNDS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

const dirs = [];
const children = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function bucket(ms) {
  const i = BOUNDS.findIndex((b) => ms <= b);
  return i === -1 ? BOUNDS.length : i;
}

/** Counters of a list of [error, ms] calls, as the bridge writes them. */
function counters(calls) {
  const c = { calls: 0, errors: 0, ms_sum: 0, ms_max: 0, hist: Array(12).fill(0) };
  for (const [err, ms] of calls) {
    c.calls++;
    c.errors += err;
    c.ms_sum += ms;
    c.ms_max = Math.max(c.ms_max, ms);
    c.hist[bucket(ms)]++;
  }
  return c;
}

/** A version-1 usage document; servers = { id: { tool: [[error, ms], ...] } }. */
function usageDoc(pid, servers, started = Math.floor(Date.now() / 1000) - 3700) {
  const out = { v: 1, pid, started, updated: started + 60, servers: {} };
  for (const [id, tools] of Object.entries(servers)) {
    const s = counters(Object.values(tools).flat());
    s.tools = Object.fromEntries(Object.entries(tools).map(([t, c]) => [t, counters(c)]));
    out.servers[id] = s;
  }
  return JSON.stringify(out);
}

/** A private runtime dir with its mcp-bridge/ subdirectory (0700). */
function runtimeDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpb-usage-'));
  dirs.push(d);
  fs.mkdirSync(path.join(d, 'mcp-bridge'), { mode: 0o700 });
  fs.mkdirSync(path.join(d, 'home'));
  return d;
}

function put(rt, name, text) {
  fs.writeFileSync(path.join(rt, 'mcp-bridge', name), text, { mode: 0o600 });
}

/** Another live process (its pid is alive for the whole test). */
function livePid() {
  const c = spawn('sleep', ['120'], { stdio: 'ignore' });
  children.push(c);
  return c.pid;
}

const PRESTO = {
  presto: { query: [[0, 40], [0, 45], [1, 400], [0, 31000]], tables: [[0, 5]] },
  jira: { search: [[0, 12], [0, 20]] },
};

function env(rt, extra = {}) {
  return {
    XDG_RUNTIME_DIR: rt, HOME: path.join(rt, 'home'), XDG_CONFIG_HOME: path.join(rt, 'home'),
    XDG_STATE_HOME: path.join(rt, 'home', 'state'),
    MCP_BRIDGE_SYSTEM_CONFIG: path.join(rt, 'no-system.json'), ...extra,
  };
}

/** Live bridge (this process), a dead one, a corrupt live one, a stale temporary. */
function scene() {
  const rt = runtimeDir();
  const other = livePid();
  put(rt, `usage-${process.pid}.json`, usageDoc(process.pid, PRESTO));
  put(rt, `usage-${DEAD_PID}.json`, usageDoc(DEAD_PID, { gone: { x: [[0, 1]] } }));
  put(rt, `usage-${other}.json`, '{"v":1,"pid":' + other + ',"servers":{"s":{"calls":1}}}');
  put(rt, `usage-${process.pid}.json.tmp${DEAD_PID}`, '{');
  return { rt, other };
}

test('status --json: bridges of live processes, dead ones removed, corrupt ones skipped with one line', async () => {
  const { rt, other } = scene();
  const r = await runBridge(['status', '--json'], { env: env(rt, { MCP_BRIDGE_ACCESS_TOKEN: 'not-a-real-token' }) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sanitizerReport(r.stderr), null);
  const st = JSON.parse(r.stdout);
  assert.equal(st.signed_in, true);
  assert.equal(st.bridges.length, 1, r.stdout);
  const b = st.bridges[0];
  assert.equal(b.pid, process.pid);
  assert.equal(b.v, 1);
  assert.ok(b.updated >= b.started);
  const p = b.servers.presto;
  assert.deepEqual([p.calls, p.errors, p.ms_sum, p.ms_max], [5, 1, 31490, 31000]);
  assert.deepEqual(p.hist, [1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  const q = p.tools.query;
  assert.deepEqual([q.calls, q.errors, q.ms_max], [4, 1, 31000]);
  // p50: rank 2 of 4, the 2nd of the 2 calls in (25, 50] -> 25 + 25 * 2/2
  assert.equal(q.p50, 50);
  // p95: rank 4, the open bucket (30 s, max 31 s] -> the max
  assert.equal(q.p95, 31000);
  assert.deepEqual(Object.keys(b.servers), ['presto', 'jira']);
  assert.deepEqual(Object.keys(q), ['calls', 'errors', 'ms_sum', 'ms_max', 'p50', 'p95', 'hist']);
  assert.equal(b.servers.jira.tools.search.p95, 20);

  const left = fs.readdirSync(path.join(rt, 'mcp-bridge')).sort();
  assert.deepEqual(left, [`usage-${other}.json`, `usage-${process.pid}.json`].sort(),
    'the dead process file and the stale temporary are removed, the corrupt live one kept');
  const lines = r.stderr.split('\n').filter((l) => l.includes(`usage-${other}.json`));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /usage: .*usage-\d+\.json: .*\(skipped\)/);
  assert.ok(!r.stdout.includes('not-a-real-token') && !r.stderr.includes('not-a-real-token'));
});

test('status: one line per bridge with pid, calls, errors, then the top tools', async () => {
  const { rt } = scene();
  const second = livePid();
  put(rt, `usage-${second}.json`, usageDoc(second, { wiki: { page: [[0, 3]] } }));
  const r = await runBridge(['status'], { env: env(rt, { MCP_BRIDGE_ACCESS_TOKEN: 'x' }) });
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^bridges: 2 running$/m);
  assert.match(out, new RegExp(`^bridge ${process.pid}: up 1h 0[12]m, 7 calls, 1 error, 2 servers$`, 'm'));
  assert.match(out, new RegExp(`^bridge ${second}: up 1h 0[12]m, 1 call, 0 errors, 1 server$`, 'm'));
  const mine = out.split(`bridge ${process.pid}:`)[1].split('\n').slice(1, 4);
  assert.deepEqual(mine, [
    '  presto__query: 4 calls, 1 error, p50 50 ms, p95 31000 ms',
    '  jira__search: 2 calls, 0 errors, p50 15 ms, p95 20 ms',
    '  presto__tables: 1 call, 0 errors, p50 5 ms, p95 5 ms',
  ]);
});

test('the bridges part never changes the exit code: 1 not signed in, 2 could not check', async () => {
  const { rt } = scene();
  const notIn = env(rt, { MCP_BRIDGE_ISSUER: 'http://127.0.0.1:9', MCP_BRIDGE_CLIENT_ID: 'mcp-bridge',
    MCP_BRIDGE_TOKEN_STORE: 'memory' });
  const a = await runBridge(['status', '--json'], { env: notIn });
  assert.equal(a.code, 1, a.stderr);
  const j = JSON.parse(a.stdout);
  assert.equal(j.signed_in, false);
  assert.equal(j.bridges.length, 1);
  const t = await runBridge(['status'], { env: notIn });
  assert.equal(t.code, 1);
  assert.match(t.stdout, /^not signed in to /);
  assert.match(t.stdout, /^bridges: 1 running$/m);

  // No issuer configured: status cannot check (2) and still shows the bridges.
  const b = await runBridge(['status', '--json'], { env: env(rt) });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /no issuer configured/);
  assert.deepEqual(JSON.parse(b.stdout).signed_in, null);
  assert.equal(JSON.parse(b.stdout).bridges[0].pid, process.pid);
});

test('no bridges, and a runtime dir others may write to: empty list, one line, same exit code', async () => {
  const rt = runtimeDir();
  const e = env(rt, { MCP_BRIDGE_ACCESS_TOKEN: 'x' });
  let r = await runBridge(['status', '--json'], { env: e });
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout).bridges, []);
  r = await runBridge(['status'], { env: e });
  assert.match(r.stdout, /^bridges: none running$/m);

  fs.rmdirSync(path.join(rt, 'mcp-bridge'));
  r = await runBridge(['status', '--json'], { env: e });
  assert.deepEqual(JSON.parse(r.stdout).bridges, [], 'missing directory: no bridges');

  fs.mkdirSync(path.join(rt, 'mcp-bridge'), { mode: 0o700 });
  put(rt, `usage-${process.pid}.json`, usageDoc(process.pid, PRESTO));
  fs.chmodSync(path.join(rt, 'mcp-bridge'), 0o777);
  r = await runBridge(['status', '--json'], { env: e });
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout).bridges, []);
  assert.match(r.stderr, /mcp-bridge: not a directory of yours that only you may write to/);
  r = await runBridge(['status'], { env: e });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^bridges: unknown/m);
});

test('hostile names and numbers in a usage file are refused, never printed', async () => {
  const rt = runtimeDir();
  const e = env(rt, { MCP_BRIDGE_ACCESS_TOKEN: 'x' });
  const doc = JSON.parse(usageDoc(process.pid, { s: { t: [[0, 1]] } }));
  doc.servers['\u001b[2Jevil'] = doc.servers.s;
  delete doc.servers.s;
  put(rt, `usage-${process.pid}.json`, JSON.stringify(doc));
  let r = await runBridge(['status'], { env: e });
  assert.equal(r.code, 0);
  assert.ok(!r.stdout.includes('\u001b') && !r.stderr.includes('\u001b'));
  assert.match(r.stderr, /server name is not valid/);
  assert.match(r.stdout, /^bridges: none running$/m);

  put(rt, `usage-${process.pid}.json`, usageDoc(process.pid, { s: { t: [[0, 1]] } })
    .replace('"calls":1', '"calls":1e400'));
  r = await runBridge(['status', '--json'], { env: e });
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout).bridges, []);
  assert.equal(sanitizerReport(r.stderr), null);
});

test('end to end: calls through an aggregating run are counted per server and tool; the file goes when the bridge ends', { timeout: 60000 }, async (t) => {
  const rt = runtimeDir();
  const hs = [new HostedServer({}), new HostedServer({})];
  t.after(async () => { for (const x of hs) await x.stop(); });
  for (const x of hs) await x.start();
  const cfg = path.join(rt, 'c.json');
  fs.writeFileSync(cfg, JSON.stringify({ servers: [{ name: 'alpha', url: hs[0].url }, { name: 'com.example/beta', url: hs[1].url }] }));
  const e = env(rt, { XDG_CACHE_HOME: path.join(rt, 'cache') });
  const h = await connectBridge({ url: null, args: ['--config', cfg], env: e });
  closeAndCheck(t, h);
  const call = (name, args) => h.client.callTool({ name, arguments: args }, undefined, { timeout: 10000 });
  await call('alpha__echo', { text: 'a' });
  await call('alpha__echo', { text: 'b' });
  await call('beta__add', { a: 1, b: 2 });
  assert.equal((await call('beta__fail', {})).isError, true);
  const file = path.join(rt, 'mcp-bridge', `usage-${h.transport.proc.pid}.json`);
  const bridge = await waitUntil(async () => {
    const r = await runBridge(['status', '--json'], { env: e });
    const doc = JSON.parse(r.stdout);
    return (doc.bridges ?? []).find((b) => b.pid === h.transport.proc.pid && b.servers?.beta?.calls === 2);
  }, 10000, 'the running bridge in status --json');
  assert.equal(bridge.servers.alpha.calls, 2);
  assert.equal(bridge.servers.alpha.errors, 0);
  assert.equal(bridge.servers.alpha.tools.echo.calls, 2);
  assert.equal(bridge.servers.beta.errors, 1);
  assert.equal(bridge.servers.beta.tools.fail.errors, 1);
  assert.equal(bridge.servers.beta.tools.add.hist.reduce((x, y) => x + y, 0), 1);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const text = await runBridge(['status'], { env: e });
  assert.match(text.stdout, new RegExp(`bridge ${h.transport.proc.pid}: .*4 calls, 1 error, 2 servers`));
  await h.close();
  await waitUntil(() => !fs.existsSync(file), 5000, 'usage file removed at exit');
});
