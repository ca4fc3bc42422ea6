#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// faultload.mjs: fault injection under load (a stage of scripts/test.sh).
//
// One `mcp-bridge run` (aggregation mode, serving the registry's one hosted
// server) is driven over raw stdio JSON lines exactly like an IDE: 32
// requests in flight, 10,000 in total (tools/call echo and slow, tools/list,
// ping), while faults rotate: the hosted server is killed and restarted,
// answers slowly, returns 5xx, cuts SSE streams, expires sessions, and the
// registry goes down. Then the faults stop, the bridge must recover, and the
// final phase must be all successes. Everything is on loopback: the test
// IdP (oidc-provider), mcp-registryd, tests/node/hosted-server.mjs (official
// SDK server, verifying the IdP's JWTs), the bridge signed in with `login`.
//
// Checked (any violation: exit 1): every request gets exactly one response
// with its own id (number or string), a result that matches what was asked
// (echo text, slow duration: no crossed answers), none later than the
// deadline, no duplicates, no unknown ids, only -32000/-32001 errors, stdout
// only JSON-RPC lines, the bridge alive throughout and exiting 0 on stdin
// EOF, no sanitizer report, RSS flat, and the final phase all successes.
//
//   node tests/load/faultload.mjs [--total N] [--concurrency N] [--seed N] [--reinit-delay MS]
//
// --reinit-delay MS: how slowly the hosted server answers the bridge's
// re-initialize after a session expiry in the round-2 "slow" phase (default
// 8000: longer than the deadline, so requests held for the re-initialize
// must still be answered within it).
//
// The bridge: env MCP_BRIDGE_PLAIN (a build without sanitizers: RSS is
// meaningful), else MCP_BRIDGE, else build/src/mcp-bridge. mcp-registryd:
// env MCP_REGISTRYD, else next to that bridge (else next to MCP_BRIDGE).
// Under ASan the RSS margin is relaxed (quarantine and shadow memory).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');

// ------------------------------------------------------------ options

function parseArgs(argv) {
  const o = { total: 10000, concurrency: 32, seed: 1, reinitDelay: 8000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const key = { '--total': 'total', '--concurrency': 'concurrency', '--seed': 'seed',
      '--reinit-delay': 'reinitDelay' }[a];
    const v = Number(argv[i + 1]);
    if (!key || !Number.isInteger(v) || v < 1) {
      process.stderr.write(`faultload: ${key ? `${a} takes a positive integer` : `unknown argument ${a}`}\n` +
        'usage: node tests/load/faultload.mjs [--total N] [--concurrency N] [--seed N] [--reinit-delay MS]\n');
      process.exit(2);
    }
    o[key] = v;
    i++;
  }
  if (o.total < 1000) {
    process.stderr.write('faultload: --total must be at least 1000\n');
    process.exit(2);
  }
  return o;
}

const OPT = parseArgs(process.argv.slice(2));

function executable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Which binaries: chosen before lib.mjs reads MCP_BRIDGE / MCP_REGISTRYD.
const plainEnv = process.env.MCP_BRIDGE_PLAIN;
const bridgeBin = path.resolve(plainEnv && executable(plainEnv) ? plainEnv
  : process.env.MCP_BRIDGE || path.join(REPO, 'build', 'src', 'mcp-bridge'));
if (!executable(bridgeBin)) {
  process.stderr.write(`faultload: no mcp-bridge binary at ${bridgeBin} (set MCP_BRIDGE_PLAIN or MCP_BRIDGE)\n`);
  process.exit(2);
}
process.env.MCP_BRIDGE = bridgeBin;
if (!process.env.MCP_REGISTRYD) {
  const near = [path.dirname(bridgeBin), path.dirname(path.resolve(process.env.MCP_BRIDGE || bridgeBin))]
    .map((d) => path.join(d, 'mcp-registryd')).find(executable);
  if (near) process.env.MCP_REGISTRYD = near;
}
// FAULTLOAD_TRACE=FILE: one line per error answer and per phase change (for debugging).
const TRACE = process.env.FAULTLOAD_TRACE ? fs.createWriteStream(process.env.FAULTLOAD_TRACE) : null;
const SANITIZED = fs.readFileSync(bridgeBin).includes('__asan_init');

const lib = await import('../integration/lib.mjs');
const { HostedServer, startIdp, loginAs, startRegistryd, userEnv, spawn, baseEnv, sleep, tmpDir,
  badJsonLines, sanitizerReport, REGISTRYD } = lib;

// ------------------------------------------------------------ parameters

const CONNECT_S = 2;          // --connect-timeout
const IDLE_S = 2;             // --request-timeout
const MAX_S = 4;              // --max-request-time: the hard limit on every request
const SLACK_MS = 1000;        // scheduling slack on a shared 2-core machine
const DEADLINE_MS = MAX_S * 1000 + SLACK_MS;
const GIVE_UP_MS = DEADLINE_MS + 10000; // a worker stops waiting (the request counts as hung)
const ERROR_PAUSE_MS = 20;    // a worker's pause after an error (an IDE does not spin)
const FINAL_MIN = Math.max(500, Math.round(OPT.total * 0.2)); // final phase: at least this many
const FAULT_TOTAL = OPT.total - FINAL_MIN - Math.round(OPT.total * 0.05); // seqs for warm-up + faults
const WARM_MS = 1500;         // warm-up, no faults
const PHASE_MS = 2500;        // each fault phase (kill: PHASE_MS + 1000)
const RECOVERY_OK = 64;       // consecutive successes that end the recovery phase
const RECOVERY_MS = 20000;    // ... within this
const RUN_LIMIT_MS = 240000;  // the whole program, hard
const RSS_MARGIN_KB = SANITIZED ? 32768 : 4096; // observed: +0.4 MiB plain, +1 MiB ASan
const RES = 'http://127.0.0.1/presto';
const ROTATION = ['kill', 'slow', '5xx', 'truncate', 'expire', 'registry'];
const ROUNDS = 2;
const PHASES = [];
for (let r = 0; r < ROUNDS; r++) for (const k of ROTATION) PHASES.push([r, k]);
const FAULT_MS = PHASES.reduce((t, [, k]) => t + (k === 'kill' ? PHASE_MS + 1000 : PHASE_MS), 0);
// Up to the end of the fault phases requests are paced (a fault phase must
// not be over in a burst of quick errors): this rate spends FAULT_TOTAL.
const RATE = FAULT_TOTAL / ((WARM_MS + FAULT_MS) / 1000);

// ------------------------------------------------------------ bookkeeping

const started = Date.now();
const stats = {
  sent: 0, results: 0, wrongResults: [], errorsByCode: new Map(), duplicates: 0, unknownIds: 0,
  late: 0, hung: 0, notifications: new Map(), serverRequests: 0, nonJson: 0, latencies: [],
  byPhase: new Map(), faults: new Map(), serverInjected: { delays: 0, failures: 0, truncations: 0, expired: 0 },
  errorMessages: new Map(), unexpectedCodes: [], violations: [], inflightSamples: [], maxInflight: 0,
};
const pending = new Map(); // idKey -> record
const answered = new Map(); // idKey -> record (kept for duplicate detection)
let phase = 'warmup';
let seq = 0;
let inflight = 0;

const idKey = (id) => `${typeof id}:${id}`;
const violation = (s) => {
  if (stats.violations.length < 50) stats.violations.push(s);
  else stats.violations.truncated = true;
};
const fault = (kind, n = 1) => stats.faults.set(kind, (stats.faults.get(kind) ?? 0) + n);

function phaseStats(p) {
  if (!stats.byPhase.has(p)) stats.byPhase.set(p, { sent: 0, ok: 0, err: 0, late: 0, maxMs: 0, why: new Map() });
  return stats.byPhase.get(p);
}

// A small deterministic PRNG (mulberry32), so a run can be repeated.
let rngState = OPT.seed >>> 0;
function rand() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// ------------------------------------------------------------ the requests

function makeRequest(n) {
  const id = n % 2 ? n : `r-${n}`; // numbers and strings, both must come back byte for byte
  const x = rand();
  if (x < 0.45) {
    const text = `echo ${n} ${'x'.repeat(n % 200)}`;
    return { id, kind: 'echo', expect: text, msg: { jsonrpc: '2.0', id, method: 'tools/call',
      params: { name: 'presto__echo', arguments: { text } } } };
  }
  if (x < 0.85) {
    const ms = 100 + Math.floor(rand() * 300);
    return { id, kind: 'slow', expect: `slept ${ms}`, msg: { jsonrpc: '2.0', id, method: 'tools/call',
      params: { name: 'presto__slow', arguments: { ms } } } };
  }
  if (x < 0.93) return { id, kind: 'list', msg: { jsonrpc: '2.0', id, method: 'tools/list', params: {} } };
  return { id, kind: 'ping', msg: { jsonrpc: '2.0', id, method: 'ping' } };
}

function resultOk(rec, result) {
  if (!result || typeof result !== 'object') return false;
  if (rec.kind === 'echo' || rec.kind === 'slow') {
    const t = (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    return result.isError !== true && t === rec.expect;
  }
  if (rec.kind === 'list') return Array.isArray(result.tools);
  return Object.keys(result).length === 0;
}

// ------------------------------------------------------------ the bridge

let bridge = null;

function startBridge(env) {
  const args = ['run', '--refresh', '1', '--connect-timeout', String(CONNECT_S),
    '--request-timeout', String(IDLE_S), '--max-request-time', String(MAX_S), '--log-level', 'warn'];
  // Under ASan a bounded quarantine, so that RSS says something about the bridge.
  const asan = SANITIZED ? { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:quarantine_size_mb=16` } : {};
  const proc = spawn(bridgeBin, args, { env: baseEnv({ ...env, ...asan }), stdio: ['pipe', 'pipe', 'pipe'] });
  const b = { proc, args, stderr: '', stderrBytes: 0, exit: null };
  proc.stdin.on('error', () => {});
  proc.stderr.on('data', (d) => {
    b.stderrBytes += d.length;
    b.stderr += d;
    if (b.stderr.length > 1 << 20) b.stderr = b.stderr.slice(-(1 << 19));
  });
  let part = '';
  proc.stdout.setEncoding('utf8'); // a character split between reads stays whole
  proc.stdout.on('data', (d) => {
    const s = part + d;
    const ls = s.split('\n');
    part = ls.pop();
    for (const l of ls) onLine(l);
  });
  b.exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
    b.exit = { code, signal, at: Date.now() };
    resolve(b.exit);
  }));
  return b;
}

const waiters = new Map(); // idKey -> resolve (for the initialize handshake)

function onLine(line) {
  if (bad.length < 5 && badJsonLines([line]).length) bad.push(line.slice(0, 200));
  let m;
  try {
    m = JSON.parse(line);
  } catch {
    stats.nonJson++;
    return;
  }
  if (m && typeof m.method === 'string') {
    if (m.id !== undefined) { // a server request relayed to the IDE: answer it
      stats.serverRequests++;
      bridge.proc.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: m.id,
        error: { code: -32601, message: 'not supported by faultload' } })}\n`);
    } else {
      stats.notifications.set(m.method, (stats.notifications.get(m.method) ?? 0) + 1);
    }
    return;
  }
  if (!m || (m.result === undefined && m.error === undefined)) {
    stats.nonJson++;
    return;
  }
  const k = idKey(m.id);
  if (waiters.has(k)) {
    waiters.get(k)(m);
    waiters.delete(k);
    return;
  }
  const rec = pending.get(k);
  if (!rec) {
    if (answered.has(k)) {
      stats.duplicates++;
      violation(`duplicate response for id ${JSON.stringify(m.id)}: ${line.slice(0, 200)}`);
    } else {
      stats.unknownIds++;
      violation(`response with an id never sent: ${line.slice(0, 200)}`);
    }
    return;
  }
  pending.delete(k);
  answered.set(k, rec);
  settle(rec, m);
}
const bad = [];

function settle(rec, m) {
  const ms = Date.now() - rec.at;
  const ps = phaseStats(rec.phase);
  stats.latencies.push(ms);
  ps.maxMs = Math.max(ps.maxMs, ms);
  if (ms > DEADLINE_MS) {
    stats.late++;
    ps.late++;
    violation(`id ${JSON.stringify(rec.id)} (${rec.kind}, phase ${rec.phase}) answered after ${ms} ms > ${DEADLINE_MS} ms`);
  }
  if (rec.hung) stats.hung--;
  if (m.error) {
    const c = m.error.code;
    stats.errorsByCode.set(c, (stats.errorsByCode.get(c) ?? 0) + 1);
    const why = `${c} ${String(m.error.message).slice(0, 90)}`;
    stats.errorMessages.set(why, (stats.errorMessages.get(why) ?? 0) + 1);
    ps.why.set(why, (ps.why.get(why) ?? 0) + 1);
    if (TRACE) TRACE.write(`${rec.at - paceFrom} +${ms} ${rec.phase} ${rec.kind} ${JSON.stringify(rec.id)} ${JSON.stringify(m.error)}\n`);
    ps.err++;
    rec.ok = false;
    if (c !== -32000 && c !== -32001 && stats.unexpectedCodes.length < 10) {
      stats.unexpectedCodes.push(`${rec.kind} in ${rec.phase}: ${JSON.stringify(m.error).slice(0, 200)}`);
    }
  } else if (resultOk(rec, m.result)) {
    stats.results++;
    ps.ok++;
    rec.ok = true;
  } else {
    stats.results++;
    ps.err++;
    rec.ok = false;
    if (stats.wrongResults.length < 10) {
      stats.wrongResults.push(`${rec.kind} id ${JSON.stringify(rec.id)}: ${JSON.stringify(m.result).slice(0, 200)}`);
    }
  }
  rec.resolve?.(rec);
}

// ------------------------------------------------------------ load

// Set until the faults are over: requests are paced, and held at FAULT_TOTAL.
const gate = {};
gate.promise = new Promise((resolve) => { gate.open = resolve; });
let recoveryStreak = 0;

let paceFrom = 0; // pacing: request n not before paceFrom + n / RATE (while gate is set)

async function nextSeq() {
  if (seq >= OPT.total) return null;
  if (seq >= FAULT_TOTAL && !gate.done) await gate.promise;
  if (seq >= OPT.total) return null;
  const n = seq++;
  if (!gate.done) {
    const wait = paceFrom + (n * 1000) / RATE - Date.now();
    if (wait > 0) await sleep(wait);
  }
  return n;
}

async function worker() {
  for (;;) {
    const n = await nextSeq();
    if (n === null || bridge.exit !== null) return;
    const rec = makeRequest(n);
    rec.phase = phase;
    rec.at = Date.now();
    phaseStats(rec.phase).sent++;
    stats.sent++;
    const k = idKey(rec.id);
    pending.set(k, rec);
    const done = new Promise((resolve) => { rec.resolve = resolve; });
    inflight++;
    stats.maxInflight = Math.max(stats.maxInflight, inflight);
    bridge.proc.stdin.write(`${JSON.stringify(rec.msg)}\n`);
    let t;
    const r = await Promise.race([done, new Promise((resolve) => { t = setTimeout(resolve, GIVE_UP_MS, null); })]);
    clearTimeout(t);
    inflight--;
    if (r === null) { // no answer at all: hung (a later answer still counts, as late)
      rec.hung = true;
      stats.hung++;
      violation(`id ${JSON.stringify(rec.id)} (${rec.kind}, phase ${rec.phase}): no answer within ${GIVE_UP_MS} ms`);
      continue;
    }
    if (rec.phase === 'recovery') recoveryStreak = rec.ok ? recoveryStreak + 1 : 0;
    if (!rec.ok) await sleep(ERROR_PAUSE_MS);
  }
}

/** True while `until` (a Date.now() time) is ahead and the bridge runs. */
const before = (until) => Date.now() < until && bridge.exit === null;

async function sleepUntil(until) {
  while (before(until)) await sleep(Math.min(50, until - Date.now()));
}

// ------------------------------------------------------------ faults

let hosted;
let reg;
let regDir;
let idp;

// Adds the server's own counts of injected faults (lost when it is killed)
// and drops the faults it has not used.
async function harvestServer() {
  let s;
  try {
    s = await hosted.state();
  } catch {
    return;
  }
  stats.serverInjected.delays += s.injectedDelays;
  stats.serverInjected.failures += s.injectedFailures;
  stats.serverInjected.truncations += s.injectedTruncations;
  stats.serverInjected.expired += s.sessionsExpired;
  await hosted.reset();
}

// Each takes (round 0 or 1, until): injects until then, then heals.
const FAULTS = {
  // SIGKILL (connections reset, sessions gone), down 1.5 s, restarted on the
  // same port. In round 2 the registry is down meanwhile too.
  async kill(round, until) {
    await harvestServer();
    if (round === 1) await stopRegistry();
    await hosted.kill();
    fault('kill+restart');
    await sleepUntil(Math.min(until, Date.now() + 1500));
    await hosted.restart();
    if (round === 1) await startRegistry();
    await sleepUntil(until);
  },
  // Slow answers: within --request-timeout, and past it (-32001). In round 2
  // sessions are also expired and the re-initialize answered slowly.
  async slow(round, until) {
    for (let i = 0; before(until); i++) {
      const ms = i % 3 === 2 ? IDLE_S * 1000 + 700 : 600;
      await hosted.control(`delay-next?ms=${ms}&count=4&method=tools/call`);
      fault(ms > IDLE_S * 1000 ? 'slow past --request-timeout' : 'slow', 4);
      if (round === 1 && i % 4 === 1) {
        await hosted.control(`delay-next?ms=${OPT.reinitDelay}&count=1&method=initialize`);
        await hosted.control('expire-sessions');
        fault('session expiry + slow re-initialize');
      }
      await sleep(250);
    }
    await harvestServer();
  },
  // 503, 500, 502, 504 on tools/call POSTs.
  async '5xx'(round, until) {
    const codes = [503, 500, 502, 504];
    for (let i = 0; before(until); i++) {
      const st = codes[i % codes.length];
      await hosted.control(`fail-next?status=${st}&count=3&method=tools/call`);
      fault(`HTTP ${st}`, 3);
      await sleep(100);
    }
    await harvestServer();
  },
  async truncate(round, until) {
    for (let i = 0; before(until); i++) {
      const mode = i % 2 ? 'end' : 'destroy';
      await hosted.control(`truncate-next?count=3&mode=${mode}&method=tools/call`);
      fault(`truncated SSE (${mode})`, 3);
      await sleep(100);
    }
    await harvestServer();
  },
  async expire(round, until) {
    while (before(until)) {
      await hosted.control('expire-sessions');
      fault('session expiry');
      await sleep(round === 0 ? 300 : 120);
    }
    await harvestServer();
  },
  // The registry stopped (SIGTERM) and, after 2 s, started again on the same
  // port; the bridge asks it every second (--refresh 1, --max-age 1).
  async registry(round, until) {
    await stopRegistry();
    fault('registry down');
    await sleepUntil(Math.min(until, Date.now() + 2000));
    await startRegistry();
    await sleepUntil(until);
  },
};

let userDir = null;
let regPort = 0;
let regStderr = '';
async function startRegistry() {
  for (let i = 0; ; i++) {
    try {
      reg = await startRegistryd(regDir, idp, { listen: regPort, extra: ['--max-age', '1'] });
      regPort = reg.port;
      return;
    } catch (e) {
      if (i >= 30) throw e;
      await sleep(100);
    }
  }
}

async function stopRegistry() {
  if (!reg) return;
  const r = reg;
  reg = null;
  await r.stop();
  regStderr += r.stderr();
}

async function controller() {
  let t = paceFrom + WARM_MS;
  await sleepUntil(t);
  for (const [round, kind] of PHASES) {
    phase = `${kind}#${round + 1}`;
    if (TRACE) TRACE.write(`${Date.now() - paceFrom} phase ${phase}\n`);
    t += kind === 'kill' ? PHASE_MS + 1000 : PHASE_MS;
    await FAULTS[kind](round, t);
    if (bridge.exit !== null) break;
  }
  // Faults over: recovery (unpaced), then the final phase (all must succeed).
  phase = 'recovery';
  recoveryStreak = 0;
  const recStart = Date.now();
  gate.open();
  gate.done = true;
  while (recoveryStreak < RECOVERY_OK && Date.now() - recStart < RECOVERY_MS && bridge.exit === null) {
    await sleep(10);
  }
  stats.recoveryMs = Date.now() - recStart;
  if (recoveryStreak < RECOVERY_OK) {
    violation(`the bridge did not recover: no ${RECOVERY_OK} successes in a row within ${RECOVERY_MS} ms after the faults stopped`);
  }
  phase = 'final';
}

// ------------------------------------------------------------ RSS

const rss = [];
function sampleRss() {
  try {
    const s = fs.readFileSync(`/proc/${bridge.proc.pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(s);
    if (m) rss.push({ t: Date.now(), seq, kb: Number(m[1]) });
  } catch { /* exited */ }
  stats.inflightSamples.push(inflight);
}

function rssVerdict() {
  const warm = rss.filter((s) => s.seq >= Math.round(OPT.total * 0.1));
  if (warm.length < 6) return { ok: false, why: `only ${warm.length} RSS samples after warm-up` };
  const n = Math.floor(warm.length / 3);
  const first = warm.slice(0, n);
  const last = warm.slice(warm.length - n);
  const maxOf = (a) => Math.max(...a.map((s) => s.kb));
  const r = {
    start: rss[0].kb, end: rss[rss.length - 1].kb, peak: maxOf(rss),
    firstThirdMax: maxOf(first), lastThirdMax: maxOf(last), samples: rss.length,
  };
  r.ok = r.lastThirdMax <= r.firstThirdMax + RSS_MARGIN_KB;
  return r;
}

// ------------------------------------------------------------ setup, run, report

async function setup() {
  const dir = tmpDir('mcp-faultload-');
  regDir = dir;
  idp = await startIdp(['--interval', '1', '--resources', RES]);
  hosted = new HostedServer({ name: 'presto', authIssuer: idp.issuer, authAudience: RES, retryMs: 100 });
  await hosted.start();
  fs.mkdirSync(path.join(dir, 'catalog'));
  fs.writeFileSync(path.join(dir, 'catalog', 'presto.json'), JSON.stringify({
    name: 'com.example.mcp/presto', title: 'presto', description: 'presto tools', version: '1.0.0',
    remotes: [{ type: 'streamable-http', url: hosted.url }],
  }));
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({
    default: { groups: ['*'] },
    servers: { 'com.example.mcp/presto': { groups: ['*'], resource: RES } },
  }));
  await startRegistry();
  const env = userEnv(idp, { store: 'file', extra: { MCP_BRIDGE_REGISTRY: reg.base } });
  userDir = env.dir;
  await loginAs(idp, env);
  return env;
}

async function handshake() {
  const init = new Promise((resolve) => waiters.set(idKey('init'), resolve));
  bridge.proc.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 'init', method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'faultload', version: '1' } } })}\n`);
  const r = await Promise.race([init, sleep(10000).then(() => null)]);
  if (!r || !r.result) throw new Error(`initialize through the bridge: ${JSON.stringify(r)}; stderr: ${bridge.stderr.slice(-2000)}`);
  bridge.proc.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  // Wait until the hosted server's tools are served (the registry lookup and
  // the connection happen in the background).
  for (let i = 0; ; i++) {
    const id = `probe-${i}`;
    const p = new Promise((resolve) => waiters.set(idKey(id), resolve));
    bridge.proc.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call',
      params: { name: 'presto__echo', arguments: { text: 'ready?' } } })}\n`);
    const m = await Promise.race([p, sleep(5000).then(() => null)]);
    if (m?.result && !m.result.isError) return;
    if (i >= 40) throw new Error(`the hosted server never became callable through the bridge: ${JSON.stringify(m)}; stderr: ${bridge.stderr.slice(-2000)}`);
    await sleep(250);
  }
}

function pct(a, p) {
  if (!a.length) return 0;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function report(rssR, durMs, exitInfo) {
  const out = [];
  const codes = [...stats.errorsByCode.entries()].sort((a, b) => a[0] - b[0]);
  const errors = codes.reduce((n, [, c]) => n + c, 0);
  const missing = pending.size;
  const fin = stats.byPhase.get('final') ?? { sent: 0, ok: 0, err: 0, late: 0, maxMs: 0 };
  const meanInflight = stats.inflightSamples.length
    ? stats.inflightSamples.reduce((a, b) => a + b, 0) / stats.inflightSamples.length : 0;
  out.push(`faultload: bridge ${bridgeBin} (${SANITIZED ? 'ASan+UBSan, quarantine_size_mb=16: RSS margin relaxed' : 'no sanitizers'}), registryd ${REGISTRYD}`);
  out.push(`  bridge flags: ${bridge ? bridge.args.slice(1).join(' ') : '(not started)'}; deadline ${DEADLINE_MS} ms (--max-request-time ${MAX_S} s + ${SLACK_MS} ms slack)`);
  out.push(`requests sent: ${stats.sent} (concurrency ${OPT.concurrency}; in flight mean ${meanInflight.toFixed(1)}, max ${stats.maxInflight})`);
  out.push(`results: ${stats.results} (wrong: ${stats.wrongResults.length})`);
  out.push(`errors: ${errors}${codes.length ? ` (${codes.map(([c, n]) => `${c}: ${n}`).join(', ')})` : ''}`);
  const top = [...stats.errorMessages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  for (const [w, n] of top) out.push(`  ${String(n).padStart(5)} x ${w}`);
  out.push(`duplicates: ${stats.duplicates}  unknown ids: ${stats.unknownIds}  missing: ${missing}  hung (> ${GIVE_UP_MS} ms): ${stats.hung}  late (> ${DEADLINE_MS} ms): ${stats.late}`);
  out.push(`latency ms: p50 ${pct(stats.latencies, 50)}, p99 ${pct(stats.latencies, 99)}, max ${pct(stats.latencies, 100)}`);
  out.push(`faults injected (asked of the fixtures): ${[...stats.faults.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  out.push(`  hosted server counted: ${stats.serverInjected.delays} delayed, ${stats.serverInjected.failures} HTTP errors, ${stats.serverInjected.truncations} truncated streams, ${stats.serverInjected.expired} sessions expired`);
  out.push(`  the bridge logged "registry unreachable" ${stats.registryWarnings ?? 0} times`);
  out.push('by phase (sent/ok/errors/late/max ms):');
  for (const [p, s] of stats.byPhase) {
    const w = [...s.why.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2)
      .map(([m, n]) => `${n} x ${m.slice(0, 60)}`).join('; ');
    out.push(`  ${p.padEnd(12)} ${`${s.sent}/${s.ok}/${s.err}/${s.late}/${s.maxMs}`.padEnd(22)} ${w}`);
  }
  out.push(`recovery: ${stats.recoveryMs ?? '-'} ms to ${RECOVERY_OK} successes in a row; final phase: ${fin.sent} sent, ${fin.ok} ok, ${fin.err} errors`);
  out.push(`notifications: ${[...stats.notifications.entries()].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}; server requests: ${stats.serverRequests}`);
  if (rssR.start !== undefined) {
    out.push(`RSS KiB: first ${rssR.start}, last ${rssR.end}, peak ${rssR.peak}; max of first third after warm-up ${rssR.firstThirdMax}, of last third ${rssR.lastThirdMax} (margin ${RSS_MARGIN_KB}; ${rssR.samples} samples): ${rssR.ok ? 'flat' : 'GREW'}`);
  } else {
    out.push(`RSS: ${rssR.why}`);
  }
  out.push(`bridge stderr: ${bridge?.stderrBytes ?? 0} bytes; exit after stdin EOF: ${JSON.stringify(exitInfo)}`);
  out.push(`duration: ${(durMs / 1000).toFixed(1)} s`);
  return out.join('\n');
}

async function main() {
  const hardStop = setTimeout(() => {
    violation(`the run did not finish within ${RUN_LIMIT_MS} ms`);
    finish(null).finally(() => process.exit(1));
  }, RUN_LIMIT_MS);
  hardStop.unref();
  const env = await setup();
  bridge = startBridge(env);
  await handshake();
  const sampler = setInterval(sampleRss, 200);
  const t0 = Date.now();
  paceFrom = t0;
  const ctl = controller().catch((e) => {
    violation(`fault controller: ${e.stack ?? e}`);
    gate.open();
    gate.done = true;
  });
  await Promise.all(Array.from({ length: OPT.concurrency }, () => worker()));
  await ctl;
  clearInterval(sampler);
  stats.loadMs = Date.now() - t0;
  await sleep(500); // late duplicates
  await finish(Date.now() - t0);
}

let finishing = false;
async function finish(durMs) {
  if (finishing) return;
  finishing = true;
  const diedEarly = bridge?.exit ?? null;
  let exitInfo = diedEarly;
  if (bridge && !exitInfo) {
    bridge.proc.stdin.end();
    exitInfo = await Promise.race([bridge.exited, sleep(3000).then(() => null)]);
    if (!exitInfo) {
      violation('the bridge did not exit within 3 s of stdin EOF');
      bridge.proc.kill('SIGKILL');
      await bridge.exited;
    }
  }
  if (diedEarly) {
    violation(`the bridge exited during the run: ${JSON.stringify(diedEarly)}`);
  } else if (exitInfo && (exitInfo.code !== 0 || exitInfo.signal)) {
    violation(`bridge exit after stdin EOF: ${JSON.stringify(exitInfo)}`);
  }
  const rssR = rss.length ? rssVerdict() : { ok: false, why: 'no samples' };
  if (!rssR.ok) violation(`RSS not flat: ${JSON.stringify(rssR)}`);
  if (pending.size) violation(`${pending.size} requests never answered (e.g. ${[...pending.values()].slice(0, 5).map((r) => `${JSON.stringify(r.id)} ${r.kind} ${r.phase}`).join('; ')})`);
  if (stats.wrongResults.length) violation(`results not matching the request: ${stats.wrongResults.join(' | ')}`);
  if (stats.unexpectedCodes.length) violation(`error codes other than -32000/-32001: ${stats.unexpectedCodes.join(' | ')}`);
  if (stats.nonJson || bad.length) violation(`stdout lines that are not JSON-RPC: ${stats.nonJson} (${bad.join(' | ')})`);
  const fin = stats.byPhase.get('final');
  if (!fin || fin.sent < FINAL_MIN * 0.9) violation(`final phase too short: ${fin?.sent ?? 0} requests`);
  else if (fin.ok !== fin.sent) violation(`final phase: ${fin.sent - fin.ok} of ${fin.sent} requests did not succeed`);
  if (stats.sent !== OPT.total && durMs !== null) violation(`sent ${stats.sent} requests, not ${OPT.total}`);
  // Every kind of fault must have taken effect (else the test proves nothing).
  const si = stats.serverInjected;
  stats.registryWarnings = bridge ? (bridge.stderr.match(/registry unreachable/g) ?? []).length : 0;
  const kills = stats.byPhase.get('kill#1')?.why ?? new Map();
  const took = { 'slow answers': si.delays, '5xx': si.failures, 'truncated SSE': si.truncations,
    'session expiry': si.expired, 'registry down (bridge warnings)': stats.registryWarnings,
    'kill (connection errors)': [...kills.keys()].filter((k) => /cannot reach|connection/.test(k)).length };
  for (const [k, n] of Object.entries(took)) if (durMs !== null && !n) violation(`fault "${k}" never took effect`);
  const rep = bridge ? sanitizerReport(bridge.stderr) : null;
  if (rep) violation(`sanitizer report from the bridge:\n${rep}`);
  const regRep = sanitizerReport(regStderr + (reg ? reg.stderr() : ''));
  if (regRep) violation(`sanitizer report from mcp-registryd:\n${regRep}`);

  process.stdout.write(`${report(rssR, durMs ?? Date.now() - started, exitInfo)}\n`);
  if (stats.violations.length) {
    process.stdout.write(`VIOLATIONS (${stats.violations.length}${stats.violations.truncated ? '+' : ''}):\n`);
    for (const v of stats.violations) process.stdout.write(`  - ${v}\n`);
    if (bridge) process.stdout.write(`bridge stderr (tail):\n${bridge.stderr.slice(-3000)}\n`);
  } else {
    process.stdout.write('faultload: ok\n');
  }
  await Promise.allSettled([hosted?.stop(), stopRegistry(), idp?.stop()]);
  for (const d of [regDir, userDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  process.exitCode = stats.violations.length ? 1 : 0;
}

main().then(() => process.exit(process.exitCode ?? 0), async (e) => {
  process.stderr.write(`faultload: ${e.stack ?? e}\n`);
  violation(String(e.message ?? e));
  await finish(null).catch(() => {});
  process.exit(1);
});
