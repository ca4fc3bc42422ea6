#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// aggregate.mjs: the aggregation benchmark (issue 6). With N hosted servers
// on loopback (tests/node/hosted-server.mjs, the official TS SDK), measures
// in the same run:
//
//   direct      a raw HTTP client doing initialize + notifications/initialized
//               + tools/list against each server, one server at a time
//               ("slowest single server" = the max), and against all N at once
//   mcp-bridge  one `mcp-bridge run --config FILE` serving all N servers:
//               spawn -> initialize reply, spawn -> first complete tools/list
//               (every tool of every server; after a partial answer the
//               client waits for notifications/tools/list_changed and asks
//               again), RSS/VmHWM; with a fresh XDG_CACHE_HOME (cold), then
//               once more on the cache that run left (warm)
//   mcp-remote  N `node proxy.js URL --allow-http` processes, one per server,
//               driven in parallel as an IDE drives them: time until all N
//               answered initialize and until all N answered tools/list, and
//               the RSS summed over every process tree
//
// Prints a Markdown table (median and max over --runs), the ratios and one
// PASS/MISS line per target. Progress goes to stderr, the table (and --json)
// to stdout. Exits 0 when everything ran (targets met or not), 1 when
// something could not run, 2 on bad arguments. bench/aggregate.sh sets up
// what it needs and runs this; bench/README.md describes the method.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const PROTO = '2025-06-18';
const TARGET_INIT_MS = 20;
const TARGET_LIST_EXTRA_MS = 10;
const TARGET_RSS_MB = 12;

const USAGE = `usage: aggregate.mjs --bridge PATH --hosted-server PATH [--mcp-remote PATH]
                     [--node PATH] [--servers N] [--runs N] [--warmup N]
                     [--settle-ms MS] [--timeout-ms MS] [--bridge-info TEXT] [--json]
  --bridge         mcp-bridge binary
  --hosted-server  tests/node/hosted-server.mjs
  --mcp-remote     mcp-remote's dist/proxy.js (its column is skipped without)
  --node           node binary for the servers and mcp-remote (default: this one)
  --servers        hosted servers (default 20)
  --runs           measured runs, median and max reported (default 5)
  --warmup         unmeasured runs first (default 1)
  --settle-ms      wait after the complete list before reading RSS (default 500)
  --timeout-ms     give up on one client after this long (default 30000)
  --bridge-info    text for the footnote (e.g. the build type)
  --json           also print one line of JSON after the table
`;

// ------------------------------------------------------------------ options

function die(msg, code = 2) {
  process.stderr.write(`aggregate: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = { bridge: null, hosted: null, remote: null, node: process.execPath, servers: 20,
    runs: 5, warmup: 1, settleMs: 500, timeoutMs: 30000, bridgeInfo: '', json: false };
  const ints = { '--servers': ['servers', 1, 200], '--runs': ['runs', 1, 1000],
    '--warmup': ['warmup', 0, 100], '--settle-ms': ['settleMs', 0, 60000],
    '--timeout-ms': ['timeoutMs', 100, 600000] };
  const strs = { '--bridge': 'bridge', '--hosted-server': 'hosted', '--mcp-remote': 'remote',
    '--node': 'node', '--bridge-info': 'bridgeInfo' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (a === '--json') { o.json = true; continue; }
    if (!(a in ints) && !(a in strs)) die(`unknown argument ${a}\n${USAGE}`);
    if (i + 1 >= argv.length) die(`${a} needs a value`);
    const v = argv[++i];
    if (a in strs) { o[strs[a]] = v; continue; }
    const [key, lo, hi] = ints[a];
    if (!/^[0-9]+$/.test(v) || Number(v) < lo || Number(v) > hi) {
      die(`${a} expects an integer from ${lo} to ${hi}, got "${v}"`);
    }
    o[key] = Number(v);
  }
  if (!o.bridge) die('--bridge PATH is required');
  if (!o.hosted) die('--hosted-server PATH is required');
  for (const [flag, p] of [['--bridge', o.bridge], ['--hosted-server', o.hosted],
    ['--mcp-remote', o.remote]]) {
    if (p && !fs.existsSync(p)) die(`${flag}: ${p} does not exist`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const progress = (s) => process.stderr.write(`aggregate: ${s}\n`);
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-agg-bench-'));

// ------------------------------------------------------------------ /proc

/** Children of every process: Map ppid -> [pid]. */
function childMap() {
  const m = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    let st;
    try {
      st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // gone
    }
    const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
    if (!m.has(ppid)) m.set(ppid, []);
    m.get(ppid).push(Number(d));
  }
  return m;
}

function treePids(root, kids = childMap()) {
  const out = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop();
    out.push(p);
    for (const c of kids.get(p) ?? []) todo.push(c);
  }
  return out;
}

function statusKb(pid, key) {
  try {
    const m = new RegExp(`^${key}:\\s+([0-9]+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU time (ms) of every thread of pid, from schedstat (ns precision). */
function cpuMs(pid) {
  let ns = 0;
  let tasks = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const t of tasks) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* thread gone */ }
  }
  return ns / 1e6;
}

/** RSS (all, anonymous, file-backed), peak RSS (MB), process count and
 * CPU ms summed over the trees of roots. */
function treeMem(roots) {
  const kids = childMap();
  const r = { rss: 0, anon: 0, file: 0, hwm: 0, procs: 0, cpu: 0 };
  for (const root of roots) {
    for (const p of treePids(root, kids)) {
      r.rss += statusKb(p, 'VmRSS') / 1024;
      r.anon += statusKb(p, 'RssAnon') / 1024;
      r.file += statusKb(p, 'RssFile') / 1024;
      r.hwm += statusKb(p, 'VmHWM') / 1024;
      r.cpu += cpuMs(p);
      r.procs++;
    }
  }
  return r;
}

const cpuOf = (pids) => pids.reduce((s, p) => s + cpuMs(p), 0);

// ------------------------------------------------------------------ hosted servers

const servers = []; // { name, port, pid, child, tools }

async function startServer(i) {
  const child = spawn(opts.node, [opts.hosted, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err = (err + d).slice(-2000); });
  const port = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (l) => {
      const m = /^READY ([0-9]+)$/.exec(l);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (c) => reject(new Error(`hosted server ${i} exited (${c}): ${err.trim()}`)));
  });
  return { name: `s${String(i + 1).padStart(2, '0')}`, port, pid: child.pid, child, tools: 0 };
}

async function startServers(n) {
  for (let i = 0; i < n; i += 5) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 5); j++) batch.push(startServer(j));
    servers.push(...await Promise.all(batch));
  }
}

function stopServers() {
  for (const s of servers) {
    try {
      s.child.kill('SIGTERM');
    } catch { /* gone */ }
  }
}

// ------------------------------------------------------------------ direct HTTP client

function post(agent, port, body, session) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (session) {
    headers['mcp-session-id'] = session;
    headers['mcp-protocol-version'] = PROTO;
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The JSON-RPC response with this id in a JSON or text/event-stream body. */
function rpcResult(res, id) {
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  const msgs = /event-stream/.test(res.headers['content-type'] ?? '')
    ? res.body.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim())
      .filter((l) => l).map((l) => JSON.parse(l))
    : [JSON.parse(res.body)].flat();
  const m = msgs.find((x) => x && x.id === id);
  if (!m) throw new Error(`no response with id ${id}`);
  if (m.error) throw new Error(`error ${m.error.code}: ${m.error.message}`);
  return m.result;
}

/** initialize + initialized + every tools/list page on one keep-alive connection. */
async function directOne(s) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const t0 = performance.now();
  try {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: PROTO, capabilities: {}, clientInfo: { name: 'aggregate-bench', version: '1' } } };
    const r1 = await post(agent, s.port, init);
    rpcResult(r1, 1);
    const sid = r1.headers['mcp-session-id'];
    const r2 = await post(agent, s.port, { jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
    if (r2.status !== 202 && r2.status !== 200) throw new Error(`initialized: HTTP ${r2.status}`);
    let tools = 0;
    let cursor;
    for (let id = 2; ; id++) {
      const params = cursor ? { cursor } : {};
      const res = rpcResult(await post(agent, s.port, { jsonrpc: '2.0', id, method: 'tools/list', params }, sid), id);
      tools += res.tools.length;
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    const ms = performance.now() - t0;
    await closeSession(agent, s.port, sid);
    return { ms, tools };
  } finally {
    agent.destroy();
  }
}

function closeSession(agent, port, sid) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'DELETE', agent,
      headers: { 'mcp-session-id': sid, 'mcp-protocol-version': PROTO } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', resolve);
    req.end();
  });
}

/** Opens the standalone GET stream; resolves with a function that closes it. */
function openStream(agent, port, sid) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'GET', agent,
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': PROTO } }, (res) => {
      res.on('data', () => {});
      res.on('error', () => {});
      resolve(() => req.destroy());
    });
    req.on('error', () => resolve(() => {}));
    req.end();
  });
}

/**
 * What the bridge asks of each server: initialize, initialized, then
 * tools/list, prompts/list, resources/list, resources/templates/list and
 * the GET stream at once, each on its own connection. Resolves when the
 * tools list is in (the bridge answers tools/list then), after which the
 * rest is awaited and the session closed, untimed.
 */
async function directBridgeLike(s) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const t0 = performance.now();
  try {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: PROTO, capabilities: {}, clientInfo: { name: 'aggregate-bench', version: '1' } } };
    const r1 = await post(agent, s.port, init);
    rpcResult(r1, 1);
    const sid = r1.headers['mcp-session-id'];
    await post(agent, s.port, { jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
    const ask = (id, method) => post(agent, s.port, { jsonrpc: '2.0', id, method, params: {} }, sid)
      .then((r) => rpcResult(r, id));
    const rest = Promise.all([ask(3, 'prompts/list'), ask(4, 'resources/list'),
      ask(5, 'resources/templates/list'), openStream(agent, s.port, sid)]);
    await ask(2, 'tools/list');
    const ms = performance.now() - t0;
    const [, , , close] = await rest;
    close();
    await closeSession(agent, s.port, sid);
    return { ms };
  } finally {
    agent.destroy();
  }
}

async function directAlone() {
  const per = [];
  for (const s of servers) {
    const r = await directOne(s);
    s.tools = r.tools;
    per.push(r.ms);
  }
  return { max: Math.max(...per), median: median(per) };
}

async function directParallel() {
  const cpu0 = cpuOf(servers.map((s) => s.pid));
  const t0 = performance.now();
  const rs = await Promise.all(servers.map((s) => directOne(s)));
  const ms = performance.now() - t0;
  return { ms, slowest: Math.max(...rs.map((r) => r.ms)), serverCpu: cpuOf(servers.map((s) => s.pid)) - cpu0 };
}

async function directParallelBridgeLike() {
  const cpu0 = cpuOf(servers.map((s) => s.pid));
  const t0 = performance.now();
  await Promise.all(servers.map((s) => directBridgeLike(s)));
  const ms = performance.now() - t0;
  return { ms, serverCpu: cpuOf(servers.map((s) => s.pid)) - cpu0 };
}

// ------------------------------------------------------------------ stdio client (the IDE)

/**
 * Spawns cmd and drives it as an IDE: initialize at once, then
 * notifications/initialized + tools/list; a partial list is asked again
 * after notifications/tools/list_changed. complete(tools) says when a list
 * is whole. Resolves { initMs, listMs, lists } relative to t0.
 */
class StdioClient {
  constructor(cmd, args, env, t0, complete) {
    this.t0 = t0;
    this.complete = complete;
    this.nextId = 1;
    this.acc = [];
    this.lists = 0;
    this.waiting = false; // a partial list: ask again on list_changed
    this.changed = false; // list_changed seen while a list was in flight
    this.inFlight = false;
    this.errLines = 0;
    this.child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(() => this.fail(`no complete tools/list after ${opts.timeoutMs} ms`), opts.timeoutMs);
    this.child.stdin.on('error', () => {});
    this.child.on('error', (e) => this.fail(e.message));
    this.child.on('exit', (c, sig) => this.fail(`exited (${sig ?? c}) before a complete tools/list`));
    readline.createInterface({ input: this.child.stderr }).on('line', () => this.errLines++);
    readline.createInterface({ input: this.child.stdout }).on('line', (l) => this.onLine(l));
    this.send({ method: 'initialize', params: { protocolVersion: PROTO, capabilities: { elicitation: {} },
      clientInfo: { name: 'aggregate-bench', version: '1' } } });
  }

  fail(why) {
    clearTimeout(this.timer);
    this.reject(new Error(why));
  }

  send(m) {
    const msg = { jsonrpc: '2.0', ...m };
    if (m.method && !m.method.startsWith('notifications/') && m.id === undefined) msg.id = this.nextId++;
    this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    return msg.id;
  }

  list(cursor) {
    this.inFlight = true;
    this.changed = false;
    this.listId = this.send({ method: 'tools/list', params: cursor ? { cursor } : {} });
  }

  onLine(line) {
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      return this.fail(`not JSON on stdout: ${line.slice(0, 120)}`);
    }
    if (m.method === 'notifications/tools/list_changed') return this.onChanged();
    if (m.method && m.id !== undefined) return this.send({ id: m.id, error: { code: -32601, message: 'not supported' } });
    if (m.id === 1) return this.onInit(m);
    if (m.id === this.listId) return this.onList(m);
  }

  onInit(m) {
    if (m.error) return this.fail(`initialize: ${m.error.message}`);
    this.initMs = performance.now() - this.t0;
    this.send({ method: 'notifications/initialized' });
    this.list();
  }

  onChanged() {
    if (this.inFlight) this.changed = true;
    else if (this.waiting) {
      this.waiting = false;
      this.list();
    }
  }

  onList(m) {
    if (m.error) return this.fail(`tools/list: ${m.error.message}`);
    this.acc.push(...m.result.tools);
    if (m.result.nextCursor) return this.list(m.result.nextCursor);
    this.inFlight = false;
    this.lists++;
    const tools = this.acc;
    this.acc = [];
    if (this.complete(tools)) {
      this.listMs = performance.now() - this.t0;
      clearTimeout(this.timer);
      return this.resolve(this);
    }
    if (this.changed) return this.list();
    this.waiting = true;
  }

  /** Closes stdin (how an IDE ends a session), then signals if it lingers. */
  async stop() {
    this.child.removeAllListeners('exit');
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill('SIGTERM'), 3000);
    const k = setTimeout(() => this.child.kill('SIGKILL'), 6000);
    await gone;
    clearTimeout(t);
    clearTimeout(k);
  }
}

function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('MCP_BRIDGE') && !k.startsWith('MCP_REMOTE')) env[k] = v;
  }
  return { ...env, ...extra };
}

// ------------------------------------------------------------------ mcp-bridge

function bridgeComplete(tools) {
  const per = new Map();
  for (const t of tools) {
    const i = t.name.indexOf('__');
    if (i > 0) per.set(t.name.slice(0, i), (per.get(t.name.slice(0, i)) ?? 0) + 1);
  }
  return servers.every((s) => (per.get(s.name) ?? 0) >= s.tools);
}

function writeConfig(dir) {
  const cfg = { servers: servers.map((s) => ({ name: s.name, url: `http://127.0.0.1:${s.port}/mcp` })) };
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, `${JSON.stringify(cfg)}\n`);
  return file;
}

/** One bridge session; cacheDir null means a fresh XDG_CACHE_HOME. */
async function runBridge(dir, cacheDir) {
  const cache = cacheDir ?? fs.mkdtempSync(path.join(dir, 'cache-'));
  const env = cleanEnv({ XDG_CACHE_HOME: cache, XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_RUNTIME_DIR: fs.mkdtempSync(path.join(dir, 'run-')),
    MCP_BRIDGE_SYSTEM_CONFIG: path.join(dir, 'no-system-config.json') });
  const cfg = writeConfig(dir);
  const spids = servers.map((s) => s.pid);
  const scpu0 = cpuOf(spids);
  const c = new StdioClient(opts.bridge, ['run', '--config', cfg], env, performance.now(), bridgeComplete);
  try {
    await c.done;
    const serverCpu = cpuOf(spids) - scpu0;
    const cpu = cpuMs(c.pid);
    await sleep(opts.settleMs);
    const mem = treeMem([c.pid]);
    return { initMs: c.initMs, listMs: c.listMs, lists: c.lists, rss: mem.rss, anon: mem.anon,
      file: mem.file, hwm: mem.hwm, procs: mem.procs, cpu, serverCpu, errLines: c.errLines, cache };
  } finally {
    await c.stop();
  }
}

/** How many servers the bridge's tool-list cache under cache/ holds (0: no file). */
function cachedServers(cache) {
  const dir = path.join(cache, 'mcp-bridge');
  let n = 0;
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!/^catalog-.*-tools\.json$/.test(f)) continue;
    try {
      n = Math.max(n, Object.keys(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).servers ?? {}).length);
    } catch { /* unreadable: counts as none */ }
  }
  return n;
}

// ------------------------------------------------------------------ mcp-remote

async function runRemote(dir) {
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  const env = cleanEnv({ HOME: home, MCP_REMOTE_CONFIG_DIR: path.join(home, '.mcp-auth'), BROWSER: 'false' });
  const spids = servers.map((s) => s.pid);
  const scpu0 = cpuOf(spids);
  const t0 = performance.now();
  const cs = servers.map((s) => new StdioClient(opts.node,
    [opts.remote, `http://127.0.0.1:${s.port}/mcp`, '--allow-http'], env, t0,
    (tools) => tools.length >= s.tools));
  try {
    await Promise.all(cs.map((c) => c.done));
    const serverCpu = cpuOf(spids) - scpu0;
    const cpu = cs.reduce((n, c) => n + cpuMs(c.pid), 0);
    await sleep(opts.settleMs);
    const mem = treeMem(cs.map((c) => c.pid));
    return { initMs: Math.max(...cs.map((c) => c.initMs)), initMedian: median(cs.map((c) => c.initMs)),
      listMs: Math.max(...cs.map((c) => c.listMs)), rss: mem.rss, anon: mem.anon, file: mem.file,
      hwm: mem.hwm, procs: mem.procs,
      cpu, serverCpu, errLines: cs.reduce((n, c) => n + c.errLines, 0) };
  } finally {
    await Promise.all(cs.map((c) => c.stop()));
  }
}

// ------------------------------------------------------------------ runs

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function oneRun(i, label) {
  const dir = fs.mkdtempSync(path.join(tmpRoot, `run${i}-`));
  const r = { alone: await directAlone() };
  await sleep(100);
  r.parallel = await directParallel();
  await sleep(200);
  r.bridgeLike = await directParallelBridgeLike();
  await sleep(200);
  r.bridge = await runBridge(dir, null);
  r.cached = cachedServers(r.bridge.cache);
  await sleep(200);
  r.warm = await runBridge(dir, r.bridge.cache);
  await sleep(200);
  if (opts.remote) {
    r.remote = await runRemote(dir);
    await sleep(500);
  }
  progress(`${label}: bridge init ${r.bridge.initMs.toFixed(1)} ms, list ${r.bridge.listMs.toFixed(1)} ms ` +
    `(slowest single server ${r.alone.max.toFixed(1)} ms), RSS ${r.bridge.rss.toFixed(1)} MB` +
    (r.remote ? `; mcp-remote init ${r.remote.initMs.toFixed(0)} ms, list ${r.remote.listMs.toFixed(0)} ms, ` +
      `RSS ${r.remote.rss.toFixed(0)} MB` : ''));
  return r;
}

// ------------------------------------------------------------------ report

const stat = (runs, f) => {
  const xs = runs.map(f).filter((x) => x !== undefined && x !== null && Number.isFinite(x));
  return xs.length ? { med: median(xs), max: Math.max(...xs) } : null;
};

function fmt(s, unit, prec) {
  if (!s) return 'n/a';
  return `${s.med.toFixed(prec)} (${s.max.toFixed(prec)}) ${unit}`;
}

function ratio(b, r) {
  if (!b || !r || !b.med || !r.med) return '';
  const x = b.med / r.med;
  return x < 1 ? `1/${(1 / x).toFixed(x < 0.1 ? 0 : 1)}` : `${x.toFixed(2)}x`;
}

function rows(runs) {
  const n = servers.length;
  const g = (f) => stat(runs, f);
  const R = (f) => (opts.remote ? g(f) : null);
  return [
    ['spawn → initialize reply', g((r) => r.bridge.initMs), R((r) => r.remote.initMs), 'ms', 1, `all ${n}`],
    ['median process: spawn → initialize reply', g((r) => r.bridge.initMs), R((r) => r.remote.initMedian), 'ms', 1, ''],
    ['spawn → complete tools/list', g((r) => r.bridge.listMs), R((r) => r.remote.listMs), 'ms', 1, `all ${n}`],
    ['RSS after the complete list', g((r) => r.bridge.rss), R((r) => r.remote.rss), 'MB', 1, 'sum'],
    ['  of which anonymous (RssAnon)', g((r) => r.bridge.anon), R((r) => r.remote.anon), 'MB', 1, 'sum'],
    ['  of which file-backed (RssFile)', g((r) => r.bridge.file), R((r) => r.remote.file), 'MB', 1, 'sum'],
    ['peak RSS (VmHWM)', g((r) => r.bridge.hwm), R((r) => r.remote.hwm), 'MB', 1, 'sum'],
    ['processes', g((r) => r.bridge.procs), R((r) => r.remote.procs), '', 0, ''],
    ['CPU until the complete list', g((r) => r.bridge.cpu), R((r) => r.remote.cpu), 'ms', 1, 'sum'],
    ['hosted servers\' CPU meanwhile', g((r) => r.bridge.serverCpu), R((r) => r.remote.serverCpu), 'ms', 0, ''],
    ['stderr lines', g((r) => r.bridge.errLines), R((r) => r.remote.errLines), '', 0, 'sum'],
  ];
}

function printTable(runs) {
  const n = servers.length;
  console.log(`| measure (median (max) of ${runs.length} runs) | mcp-bridge, 1 process | mcp-remote, ${n} processes | bridge/remote |`);
  console.log('|---|---|---|---|');
  for (const [label, b, r, unit, prec, how] of rows(runs)) {
    const rs = opts.remote ? `${fmt(r, unit, prec)}${how ? ` ${how}` : ''}` : 'not run';
    console.log(`| ${label} | ${fmt(b, unit, prec)} | ${rs} | ${ratio(b, r)} |`);
  }
  const cached = Math.min(...runs.map((r) => r.cached));
  console.log(`| servers in the tool-list cache the cold run left (min) | ${cached} of ${n} | | |`);
  console.log(`| warm cache: spawn → initialize reply | ${fmt(stat(runs, (r) => r.warm.initMs), 'ms', 1)} | | |`);
  console.log(`| warm cache: spawn → complete tools/list | ${fmt(stat(runs, (r) => r.warm.listMs), 'ms', 1)} | | |`);
  console.log(`| warm cache: RSS / peak | ${fmt(stat(runs, (r) => r.warm.rss), 'MB', 1)} / ` +
    `${fmt(stat(runs, (r) => r.warm.hwm), 'MB', 1)} | | |`);
  console.log(`| direct: slowest single server, alone (init + list) | ${fmt(stat(runs, (r) => r.alone.max), 'ms', 1)} | | |`);
  console.log(`| direct: median server, alone | ${fmt(stat(runs, (r) => r.alone.median), 'ms', 1)} | | |`);
  console.log(`| direct: all ${n} at once, one client, until all done | ${fmt(stat(runs, (r) => r.parallel.ms), 'ms', 1)} | | |`);
  console.log(`| direct: hosted servers' CPU for all ${n} at once | ${fmt(stat(runs, (r) => r.parallel.serverCpu), 'ms', 0)} | | |`);
  console.log(`| direct: all ${n} at once, the bridge's requests (4 lists + GET), until every tools/list | ` +
    `${fmt(stat(runs, (r) => r.bridgeLike.ms), 'ms', 1)} | | |`);
  console.log(`| direct: hosted servers' CPU for that | ${fmt(stat(runs, (r) => r.bridgeLike.serverCpu), 'ms', 0)} | | |`);
}

function targets(runs) {
  const init = stat(runs, (r) => r.bridge.initMs);
  const extra = stat(runs, (r) => r.bridge.listMs - r.alone.max);
  const extraPar = stat(runs, (r) => r.bridge.listMs - r.parallel.ms);
  const extraLike = stat(runs, (r) => r.bridge.listMs - r.bridgeLike.ms);
  const rss = stat(runs, (r) => r.bridge.rss);
  const hwm = stat(runs, (r) => r.bridge.hwm);
  return [
    { what: `initialize ≤ ${TARGET_INIT_MS} ms`, value: init.med, limit: TARGET_INIT_MS,
      text: `${init.med.toFixed(1)} ms median, ${init.max.toFixed(1)} ms max` },
    { what: `complete tools/list ≤ slowest single server + ${TARGET_LIST_EXTRA_MS} ms`, value: extra.med,
      limit: TARGET_LIST_EXTRA_MS, text: `${sign(extra.med)} ms over the slowest server alone (median of the ` +
        `per-run differences; max ${sign(extra.max)} ms)`,
      note: `for reference (not targets): ${sign(extraPar.med)} ms over a direct client to all ${servers.length} ` +
        `at once; ${sign(extraLike.med)} ms over a direct client sending the bridge's requests to all at once` },
    { what: `RSS of the whole bridge ≤ ${TARGET_RSS_MB} MB (after the complete list)`, value: rss.med,
      limit: TARGET_RSS_MB, text: `${rss.med.toFixed(1)} MB median, ${rss.max.toFixed(1)} MB max` },
    { what: `peak RSS (VmHWM) ≤ ${TARGET_RSS_MB} MB`, value: hwm.max, limit: TARGET_RSS_MB,
      text: `${hwm.max.toFixed(1)} MB max` },
  ];
}

const sign = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;

function printTargets(ts) {
  console.log('');
  for (const t of ts) {
    console.log(`${t.value <= t.limit ? 'PASS' : 'MISS'}  ${t.what}: ${t.text}`);
    if (t.note) console.log(`      ${t.note}`);
  }
}

function footnote(load, runs) {
  const lists = stat(runs, (r) => r.bridge.lists);
  console.log(`\n${servers.length} hosted servers (tests/node/hosted-server.mjs, ${servers[0].tools} tools each, ` +
    `SSE answers) on 127.0.0.1; ${os.cpus().length} CPUs, load average ${load} before the run; node ` +
    `${process.versions.node}; mcp-remote ${remoteVersion()}; bridge ${opts.bridge}` +
    `${opts.bridgeInfo ? ` (${opts.bridgeInfo})` : ''}. Bridge: fresh XDG_CACHE_HOME per run (cold), ` +
    `then again on the cache that run left (warm); tools/list requests until complete: ` +
    `${lists ? lists.max : 'n/a'} at most. "direct" is a raw HTTP/1.1 keep-alive client in this ` +
    `process: initialize, notifications/initialized, tools/list. RSS is read ${opts.settleMs} ms after ` +
    'the complete list; mcp-remote figures are sums over its processes.');
}

function remoteVersion() {
  if (!opts.remote) return '(not run)';
  try {
    const pj = path.join(path.dirname(opts.remote), '..', 'package.json');
    return JSON.parse(fs.readFileSync(pj, 'utf8')).version;
  } catch {
    return '?';
  }
}

function printJson(load, runs, ts) {
  const j = { servers: servers.length, tools_per_server: servers[0].tools, ncpu: os.cpus().length, loadavg: load,
    runs, targets: ts.map((t) => ({ what: t.what, value: t.value, limit: t.limit, pass: t.value <= t.limit })) };
  for (const r of runs) delete r.bridge.cache;
  console.log(JSON.stringify(j));
}

// ------------------------------------------------------------------ main

async function main() {
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  progress(`starting ${opts.servers} hosted servers`);
  await startServers(opts.servers);
  await directAlone(); // learns the tool counts, warms the servers' JIT
  const runs = [];
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    const label = i < opts.warmup ? `warm-up ${i + 1}/${opts.warmup}` : `run ${i - opts.warmup + 1}/${opts.runs}`;
    const r = await oneRun(i, label);
    if (i >= opts.warmup) runs.push(r);
  }
  printTable(runs);
  const ts = targets(runs);
  printTargets(ts);
  const cached = Math.min(...runs.map((r) => r.cached));
  if (cached < servers.length) {
    console.log(`\nWARNING: the cold run left ${cached} of ${servers.length} servers in the tool-list cache, ` +
      'so the "warm cache" rows waited for servers missing from it');
  }
  footnote(load, runs);
  if (opts.json) printJson(load, runs, ts);
}

function cleanup() {
  stopServers();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
}

process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });

main().then(() => {
  cleanup();
  process.exit(0);
}, (e) => {
  progress(`failed: ${e.message}`);
  cleanup();
  process.exit(1);
});
