// SPDX-License-Identifier: ISC
// Fault injection: allocation, write(2) and libcurl easy-handle failures
// inside a live session, through tests/fault/faultshim.c (LD_PRELOAD) on a
// build without sanitizers (they interpose malloc themselves), with the
// SDK hosted test server behind the bridge. Proves the documented
// policies: a failed transfer is an error for that request only, out of
// memory is one line on stderr and abort(), a broken stdout ends the
// bridge (exit 1), EAGAIN/EINTR on stdout lose nothing, and a full disk
// under --log-file does not stop the session.
//
// Needs env MCP_BRIDGE_PLAIN (the plain binary) and FAULT_SHIM (the built
// libfaultshim.so); scripts/test.sh sets both.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const PLAIN = process.env.MCP_BRIDGE_PLAIN;
const SHIM = process.env.FAULT_SHIM;
const skip = !PLAIN || !SHIM
  ? 'needs MCP_BRIDGE_PLAIN (mcp-bridge built without sanitizers) and FAULT_SHIM ' +
    '(its tests/fault/libfaultshim.so); scripts/test.sh sets both'
  : false;
// lib.mjs reads MCP_BRIDGE once, when it is loaded: point it at the plain binary.
if (!skip) process.env.MCP_BRIDGE = path.resolve(PLAIN);
const { HostedServer, RawBridge, badJsonLines, isResponse, tmpDir, sleep, waitUntil, startIdp, userEnv, loginAs } =
  await import('./lib.mjs');

const hosted = new HostedServer({});
let work;
before(async () => {
  if (skip) return;
  for (const f of [PLAIN, SHIM]) {
    assert.ok(fs.existsSync(f), `fault tests: ${f} does not exist (build it: meson setup build-plain && ninja -C build-plain)`);
  }
  work = tmpDir('mcp-bridge-fault-');
  await hosted.start();
});
after(async () => {
  if (skip) return;
  await hosted.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

let seq = 0;

/** A control file for the shim; set() replaces it atomically (new inode). */
class Fault {
  constructor(lines = []) {
    const dir = path.join(work, `run-${++seq}`);
    fs.mkdirSync(dir);
    this.dir = dir;
    this.ctl = path.join(dir, 'ctl');
    this.log = path.join(dir, 'fired');
    this.set(lines);
  }

  set(lines) {
    fs.writeFileSync(`${this.ctl}.tmp`, lines.map((l) => `${l}\n`).join(''));
    fs.renameSync(`${this.ctl}.tmp`, this.ctl);
  }

  clear() {
    this.set([]);
  }

  env() {
    const d = this.dir;
    return {
      LD_PRELOAD: path.resolve(SHIM), FAULT_CTL: this.ctl, FAULT_LOG: this.log,
      XDG_CONFIG_HOME: d, XDG_CACHE_HOME: d, XDG_STATE_HOME: d, XDG_RUNTIME_DIR: d,
    };
  }

  /** Lines the shim wrote: "malloc call=N size=S", "count call=N size=0", ... */
  fired() {
    try {
      return fs.readFileSync(this.log, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  /** The allocation counts noted so far (one per replaced malloc setting). */
  counts() {
    return this.fired().filter((l) => l.startsWith('count ')).map((l) => Number(/call=(\d+)/.exec(l)[1]));
  }
}

function bridge(fault, args = []) {
  return new RawBridge(['run', '--url', hosted.url, ...args], { env: fault.env() });
}

/** Sends a request and waits for the response to it (not an older one with the same id). */
function ask(b, msg, opts = {}) {
  return b.request(msg, { from: b.messages.length, ...opts });
}

function call(id, text = `hello ${id}`) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } };
}

/** Closes stdin; resolves with the exit info, or null if it did not exit within `ms`. */
async function finish(b, ms = 4000) {
  if (b.alive) b.closeStdin();
  const r = await Promise.race([b.exited, sleep(ms).then(() => null)]);
  if (!r) {
    b.proc.kill('SIGKILL');
    await b.exited;
  }
  return r;
}

/** Every stdout line is one JSON-RPC message. */
function assertCleanStdout(b, label) {
  assert.deepEqual(badJsonLines(b.lines), [], `${label}: stdout had lines that are not JSON-RPC`);
}

// ------------------------------------------------------------ curl_easy_init

test('curl easy-handle creation failing mid-session: an error with the exact id, then service again',
  { skip, timeout: 30000 }, async (t) => {
    const fault = new Fault();
    const b = bridge(fault);
    t.after(() => finish(b));
    const init = await b.initialize('2025-11-25', { id: 0 });
    assert.ok(init.result, JSON.stringify(init));
    const ok = await ask(b, call('before'));
    assert.ok(ok.result, JSON.stringify(ok));

    fault.set(['curl_easy_init=fail:all']);
    for (const id of ['s-1', 42, '42', 0, 'ünï-çødé', -7, 1e15]) {
      const r = await ask(b, call(id));
      assert.ok(r.error, `id ${JSON.stringify(id)}: expected an error, got ${JSON.stringify(r)}`);
      assert.equal(typeof r.id, typeof id, `id type for ${JSON.stringify(id)}`);
      assert.equal(r.id, id);
      assert.equal(r.error.code, -32603, JSON.stringify(r));
      assert.match(r.error.message, /cannot create a transfer/, JSON.stringify(r));
    }
    // An integer id past double precision comes back byte for byte.
    const big = '12345678901234567890123';
    await b.write(`{"jsonrpc":"2.0","id":${big},"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}\n`);
    const line = await waitUntil(() => b.lines.find((l) => l.includes(`"id":${big}`)), 5000, `the answer to id ${big}`);
    assert.match(line, /"error":/, line);
    assert.ok(b.alive, 'the bridge is still running');
    assert.ok(fault.fired().some((l) => l.startsWith('curl_easy_init')), 'the shim injected the failure');

    fault.clear();
    for (const id of ['after', 43]) {
      const r = await ask(b, call(id));
      assert.ok(r.result, `after the fault was cleared, id ${id}: ${JSON.stringify(r)}`);
      assert.match(JSON.stringify(r.result), new RegExp(`hello ${id}`));
    }
    assertCleanStdout(b, 'curl_easy_init');
    const ex = await finish(b);
    assert.deepEqual(ex && [ex.code, ex.signal], [0, null], `exit after stdin EOF: ${JSON.stringify(ex)}; ${b.stderr}`);
  });

test('curl easy-handle creation failing once: only that request fails', { skip, timeout: 30000 }, async (t) => {
  const fault = new Fault();
  const b = bridge(fault);
  t.after(() => finish(b));
  assert.ok((await b.initialize('2025-11-25', { id: 'init' })).result);
  assert.ok((await ask(b, call('warm'))).result);
  await sleep(300); // the standalone GET stream is open: the next transfer is ours
  fault.set(['curl_easy_init=fail:1']);
  const r1 = await ask(b, call('one'));
  assert.ok(r1.error && r1.id === 'one', JSON.stringify(r1));
  const r2 = await ask(b, call(2));
  assert.ok(r2.result && r2.id === 2, JSON.stringify(r2));
  assertCleanStdout(b, 'curl_easy_init once');
});

for (const after of ['exit at once', 'carry on']) {
  test(`curl easy-handle creation failing for a token refresh, then ${after}: no crash`,
    { skip, timeout: 60000 }, async (t) => {
      // oauth_refresh() used to return its operation after a synchronous
      // failure had already freed it; auth kept the dangling pointer and
      // cancelled it again at exit (or when the next refresh started).
      const idp = await startIdp(['--interval', '1', '--at-ttl', '66']); // refresh 6 s after issue
      t.after(() => idp.stop());
      const env = userEnv(idp);
      await loginAs(idp, env);
      const h = new HostedServer({ authIssuer: idp.issuer, authAudience: idp.resource });
      await h.start();
      t.after(() => h.stop());
      const fault = new Fault();
      const b = new RawBridge(['run', '--url', h.url], {
        env: { ...env, LD_PRELOAD: path.resolve(SHIM), FAULT_CTL: fault.ctl, FAULT_LOG: fault.log },
      });
      t.after(() => finish(b));
      assert.ok((await b.initialize('2025-11-25', { id: 'init' })).result);
      assert.ok((await ask(b, call('signed-in'))).result);
      await sleep(300);
      const before = await idp.stats();
      fault.set(['curl_easy_init=fail:1']); // the proactive refresh's first transfer
      await waitUntil(() => fault.fired().some((l) => l.startsWith('curl_easy_init')), 15000,
        'the refresh attempt', 10);
      if (after === 'carry on') {
        await waitUntil(async () => (await idp.stats()).refresh_success > before.refresh_success, 20000,
          'a later refresh');
        const r = await ask(b, call('after'));
        assert.ok(r.result, JSON.stringify(r));
      }
      assertCleanStdout(b, 'refresh');
      const ex = await finish(b);
      assert.deepEqual(ex && [ex.code, ex.signal], [0, null], `exit: ${JSON.stringify(ex)}; ${b.stderr}`);
    });
}

// ------------------------------------------------------------ out of memory

const PHASES = ['start-up', 'initialize', 'tools/list', 'tools/call'];

/**
 * One scripted session: start-up, initialize, tools/list, tools/call,
 * stdin EOF. `arm(phase)` may rewrite the control file just before the
 * phase's request is sent. Returns what happened.
 */
async function script(fault, arm) {
  const b = bridge(fault);
  const out = { b, answered: [], hang: null };
  const steps = [
    ['initialize', { jsonrpc: '2.0', id: 'init', method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fault-ide', version: '1' } } }],
    ['tools/list', { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }],
    ['tools/call', call('c3')],
  ];
  await sleep(150); // start-up: the shim counts from the first allocation
  for (const [phase, msg] of steps) {
    await arm(phase);
    if (!b.alive) break;
    await b.send(msg);
    let r;
    try {
      r = await b.response(msg.id, { timeout: 6000 });
    } catch (e) {
      if (b.alive) {
        out.hang = `${phase}: ${e.message.slice(0, 300)}`;
        break;
      }
      break; // ended (aborted) before answering
    }
    out.answered.push(r);
    if (phase === 'initialize' && r.result) await b.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }
  await arm('end');
  out.exit = await finish(b);
  if (!out.exit && !out.hang) out.hang = 'did not exit within 4 s of stdin EOF';
  return out;
}

/** stderr lines (digits as N) seen before an out-of-memory line. */
const earlierLines = new Set();

/** Checks one run against the policy; returns its outcome name. */
function judge(label, fault, r) {
  const { b } = r;
  assert.equal(r.hang, null, `${label}: hang: ${r.hang}; stderr: ${b.stderr.slice(-1500)}`);
  assertCleanStdout(b, label);
  for (const m of r.answered) assert.ok(isResponse(m), `${label}: ${JSON.stringify(m)}`);
  const ex = r.exit;
  const lines = b.stderr.split('\n').filter(Boolean);
  const oom = lines.filter((l) => /out of memory/.test(l));
  if (ex.signal === 'SIGABRT') {
    assert.equal(oom.length, 1, `${label}: abort without exactly one out-of-memory line: ${b.stderr.slice(-1500)}`);
    assert.match(lines[lines.length - 1], /^mcp-bridge: error: out of memory \(\d+ bytes\); aborting$/,
      `${label}: the out-of-memory line is the last one on stderr: ${b.stderr.slice(-1500)}`);
    for (const l of lines) assert.match(l, /^mcp-bridge: (error|warn): /, `${label}: stderr line: ${l}`);
    for (const l of lines.slice(0, -1)) earlierLines.add(l.replace(/\d+/g, 'N'));
    return lines.length === 1 ? 'abort (one line)' : 'abort (after earlier error lines)';
  }
  assert.equal(ex.signal, null, `${label}: killed by ${ex.signal}; stderr: ${b.stderr.slice(-1500)}`);
  assert.ok(ex.code === 0 || ex.code === 1, `${label}: exit ${ex.code}; stderr: ${b.stderr.slice(-1500)}`);
  assert.equal(oom.length, 0, `${label}: out of memory logged but no abort`);
  if (ex.code === 1) {
    // Only a failure the bridge reported: one error line, at least.
    assert.ok(lines.some((l) => /^mcp-bridge: error: /.test(l)), `${label}: exit 1 without a reason: ${b.stderr}`);
    return 'exit 1 (failure reported)';
  }
  const errors = r.answered.filter((m) => m.error).length;
  return errors ? 'served (some requests got errors)' : 'served (all answered)';
}

/**
 * Points in [from, total]: the first few, then denser towards the start.
 * Env FAULT_DENSE=1 tries every point up to 250 instead (about 10 min).
 */
function spread(total, k, from = 0) {
  const pts = new Set();
  if (process.env.FAULT_DENSE) {
    for (let i = from; i <= Math.min(total, 250); i++) pts.add(i);
  }
  for (let i = from; i <= Math.min(total, from + 16); i += 4) pts.add(i);
  for (let i = 1; i <= k; i++) pts.add(Math.max(from, Math.round(total * (i / k) ** 2)));
  pts.add(Math.max(from, total - 1));
  return [...pts].sort((a, b) => a - b);
}

test('out of memory at many points: answers or one line and SIGABRT, never a crash or a hang',
  { skip, timeout: process.env.FAULT_DENSE ? 3600000 : 600000 }, async (t) => {
    // Measure each phase's allocations with a fault that never fires.
    const probe = new Fault(['malloc=fail-after:2000000000']);
    const m = await script(probe, async (phase) => probe.set(['malloc=fail-after:2000000000']));
    assert.equal(m.hang, null, m.hang);
    assert.equal(m.answered.length, 3, `probe run answered everything: ${m.b.stderr}`);
    const counts = probe.counts();
    assert.equal(counts.length, 5, `phase counts: ${probe.fired().join('; ')}`);
    const perPhase = Object.fromEntries(PHASES.map((p, i) => [p, counts[i]]));
    t.diagnostic(`allocations per phase: ${JSON.stringify(perPhase)}`);

    const tally = {};
    let runs = 0;
    let fired = 0;
    for (const [pi, phase] of PHASES.entries()) {
      for (const mode of ['fail-after', 'once']) {
        const points = mode === 'fail-after' ? spread(counts[pi], 10) : spread(counts[pi], 4, 1);
        for (const n of points) {
          const setting = `malloc=${mode}:${n}`;
          const label = `${phase} ${setting}`;
          const fault = new Fault(pi === 0 ? [setting] : []);
          const r = await script(fault, async (p) => {
            if (pi > 0 && p === phase) fault.set([setting]);
          });
          const outcome = judge(label, fault, r);
          runs++;
          if (fault.fired().some((l) => l.startsWith('malloc '))) fired++;
          tally[outcome] = (tally[outcome] ?? 0) + 1;
          fs.rmSync(fault.dir, { recursive: true, force: true });
        }
      }
    }
    t.diagnostic(`fault points tried: ${runs} (the fault fired in ${fired}); outcomes: ${JSON.stringify(tally)}`);
    if (earlierLines.size) t.diagnostic(`lines before an abort: ${[...earlierLines].join(' | ')}`);
    assert.ok(fired >= runs * 0.8, `the fault fired in only ${fired} of ${runs} runs`);
  });

// ------------------------------------------------------------ write failures

for (const err of ['EPIPE', 'EIO']) {
  test(`stdout write ${err}: the IDE is gone, the bridge exits 1 at once`, { skip, timeout: 30000 }, async (t) => {
    const fault = new Fault();
    const b = bridge(fault);
    t.after(() => finish(b));
    assert.ok((await b.initialize('2025-11-25', { id: 1 })).result);
    fault.set([`write=fd:1:${err}`]);
    const t0 = Date.now();
    await b.send(call(2));
    const ex = await Promise.race([b.exited, sleep(5000).then(() => null)]);
    assert.ok(ex, `the bridge did not exit within 5 s after stdout failed (${err}); stderr: ${b.stderr}`);
    assert.deepEqual([ex.code, ex.signal], [1, null], `exit: ${JSON.stringify(ex)}; stderr: ${b.stderr}`);
    assert.ok(Date.now() - t0 < 3000, `exit took ${Date.now() - t0} ms`);
    const msg = err === 'EPIPE' ? 'Broken pipe' : 'Input/output error';
    assert.match(b.stderr, new RegExp(`^mcp-bridge: error: stdout: ${msg}$`, 'm'), b.stderr);
    assertCleanStdout(b, err);
  });
}

for (const [err, rule] of [['EAGAIN', 'every:2'], ['EAGAIN', 'times:25'], ['EINTR', 'every:2'], ['EINTR', 'times:25']]) {
  test(`stdout write ${err} (${rule}): retried, every response arrives once`, { skip, timeout: 60000 }, async (t) => {
    const fault = new Fault();
    const b = bridge(fault);
    t.after(() => finish(b));
    assert.ok((await b.initialize('2025-11-25', { id: 'i' })).result);
    fault.set([`write=fd:1:${err}:${rule}`]);
    const ids = [];
    for (let i = 0; i < 60; i++) ids.push(i % 2 ? `s${i}` : i);
    await Promise.all(ids.map((id) => b.send(call(id))));
    const rs = await Promise.all(ids.map((id) => b.response(id, { timeout: 15000 })));
    for (const [i, r] of rs.entries()) {
      assert.ok(r.result, `id ${ids[i]}: ${JSON.stringify(r)}`);
      assert.match(JSON.stringify(r.result), new RegExp(`hello ${ids[i]}\\b`));
    }
    const seen = b.messages.filter((m) => isResponse(m) && m.id !== 'i').map((m) => m.id);
    assert.equal(seen.length, ids.length, `responses: ${seen.length} for ${ids.length} requests (duplicates?)`);
    assert.ok(fault.fired().some((l) => l.startsWith('write ')), 'the shim injected the failure');
    assertCleanStdout(b, `${err} ${rule}`);
    fault.clear();
    const ex = await finish(b);
    assert.deepEqual(ex && [ex.code, ex.signal], [0, null], `exit: ${JSON.stringify(ex)}; ${b.stderr}`);
  });
}

test('--log-file write ENOSPC: the bridge keeps serving, and logs again afterwards', { skip, timeout: 30000 }, async (t) => {
  const fault = new Fault();
  const logFile = path.join(fault.dir, 'bridge.log');
  const b = bridge(fault, ['--log-level', 'debug', '--log-file', logFile]);
  t.after(() => finish(b));
  assert.ok((await b.initialize('2025-11-25', { id: 1 })).result);
  const fdDir = `/proc/${b.proc.pid}/fd`;
  const logFd = fs.readdirSync(fdDir).find((fd) => {
    try {
      return fs.readlinkSync(path.join(fdDir, fd)) === logFile;
    } catch {
      return false;
    }
  });
  assert.ok(logFd, `the bridge's fd for ${logFile}`);
  fault.set([`write=fd:${logFd}:ENOSPC`]);
  const before = fs.statSync(logFile).size;
  for (let i = 0; i < 20; i++) {
    const r = await ask(b, call(100 + i));
    assert.ok(r.result, `call ${i} with a full disk: ${JSON.stringify(r)}`);
  }
  assert.equal(fs.statSync(logFile).size, before, 'nothing reached the log file while it failed');
  assert.ok(fault.fired().some((l) => l.startsWith('write ')), 'the shim injected the failure');
  fault.clear();
  const r = await ask(b, call('after'));
  assert.ok(r.result, JSON.stringify(r));
  await waitUntil(() => fs.statSync(logFile).size > before, 3000, 'log lines after the disk has room again');
  assertCleanStdout(b, 'log ENOSPC');
  const ex = await finish(b);
  assert.deepEqual(ex && [ex.code, ex.signal], [0, null], `exit: ${JSON.stringify(ex)}; ${b.stderr}`);
});
