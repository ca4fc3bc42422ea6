// SPDX-License-Identifier: ISC
//
// Helpers for mcp-bridge's integration tests (node:test).
//
// - startHosted(): tests/node/hosted-server.mjs on a free loopback port, with
//   its /control/ endpoints (state, fault injection) and kill/restart.
// - startEverything(): @modelcontextprotocol/server-everything in streamable
//   HTTP mode, bound to 127.0.0.1 (see loopback-listen.mjs).
// - connectBridge(): an SDK Client talking to the bridge through
//   StdioClientTransport (stderr piped and captured, stdout lines recorded).
// - spawnBridge(): the bridge as a raw child process, for arbitrary bytes on
//   stdin and line-by-line reading of stdout.
//
// The bridge binary comes from env MCP_BRIDGE, default <repo>/build/src/mcp-bridge.
//
// Sweep mode (MCP_BRIDGE_SWEEP_DIR=DIR, for tests/secrets/sweep.mjs): every
// bridge runs at log level debug (the tests still see only the lines of the
// level they asked for), every bridge's and mcp-registryd's stderr is also
// written to DIR/stderr/, /proc/PID/{cmdline,environ,limits} of each is
// copied to DIR/proc/ while it runs, temporary directories (HOME, XDG
// state/cache/runtime dirs, log files) are made under DIR/tmp/ and kept,
// and each test IdP appends the secrets it issues to DIR/secrets/.

import assert from 'node:assert/strict';
import { spawn as spawnRaw, spawnSync } from 'node:child_process';
import { after, before, beforeEach } from 'node:test';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client } from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
import { StdioClientTransport } from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.js';

export { Client, StdioClientTransport };
export * as types from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/types.js';
export { sleep };

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const NODE_DIR = path.join(REPO, 'tests', 'node');
export const HOSTED_SERVER = path.join(NODE_DIR, 'hosted-server.mjs');
export const EVERYTHING = path.join(NODE_DIR, 'node_modules', '@modelcontextprotocol',
  'server-everything', 'dist', 'index.js');
export const LOOPBACK_PRELOAD = path.join(REPO, 'tests', 'integration', 'loopback-listen.mjs');
export const BRIDGE = process.env.MCP_BRIDGE
  ? path.resolve(process.env.MCP_BRIDGE)
  : path.join(REPO, 'build', 'src', 'mcp-bridge');

/** mcp-registryd: env MCP_REGISTRYD, else next to the bridge binary. */
export const REGISTRYD = process.env.MCP_REGISTRYD
  ? path.resolve(process.env.MCP_REGISTRYD)
  : path.join(path.dirname(BRIDGE), 'mcp-registryd');

export const PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];

const DEBUG = !!process.env.MCP_BRIDGE_TEST_DEBUG;

// ------------------------------------------------------------ sweep mode

export const SWEEP_DIR = process.env.MCP_BRIDGE_SWEEP_DIR ? path.resolve(process.env.MCP_BRIDGE_SWEEP_DIR) : null;
if (SWEEP_DIR) {
  for (const d of ['stderr', 'proc', 'tmp', 'secrets']) fs.mkdirSync(path.join(SWEEP_DIR, d), { recursive: true, mode: 0o700 });
}
let sweepSeq = 0;
const LEVELS = ['error', 'warn', 'info', 'debug'];
const LOG_LINE = /^mcp-bridge: (error|warn|info|debug): (.*?)( \[[\w./-]+:\d+\])?$/;

/** A unique file name stem for one child in the sweep directory. */
function sweepName(label) {
  sweepSeq += 1;
  return `${label}-${process.pid}-${sweepSeq}`;
}

/**
 * Sweep mode: bridge `args`/`env` at log level debug. Returns
 * { args, env, want } where `want` is the level the test asked for (the
 * filter for what it sees), or null when nothing was changed.
 */
function sweepLevel(args, env) {
  if (!SWEEP_DIR || args.includes('--log-file') || args.includes('--help') || args.includes('-h')) {
    return { args, env, want: null };
  }
  const i = args.indexOf('--log-level');
  if (i >= 0) {
    if (!LEVELS.includes(args[i + 1])) return { args, env, want: null };
    const a = [...args];
    a[i + 1] = 'debug';
    return { args: a, env, want: args[i + 1] };
  }
  if (args[0] === 'run') {
    const want = env.MCP_BRIDGE_LOG_LEVEL ?? 'warn';
    if (!LEVELS.includes(want)) return { args, env, want: null };
    return { args, env: { ...env, MCP_BRIDGE_LOG_LEVEL: 'debug' }, want };
  }
  if (['login', 'logout', 'status'].includes(args[0])) {
    return { args: [args[0], '--log-level', 'debug', ...args.slice(1)], env, want: 'warn' };
  }
  return { args, env, want: null };
}

/**
 * A stderr filter for a child raised to debug: feed(chunk) keeps the
 * lines of level `want` or more severe (without the debug-only
 * " [file:line]" suffix), text() is what the test should see.
 */
function levelFilter(want) {
  const max = LEVELS.indexOf(want);
  let done = '';
  let pending = '';
  return {
    feed(chunk) {
      pending += chunk.toString();
      const nl = pending.lastIndexOf('\n');
      if (nl < 0) return;
      for (const line of pending.slice(0, nl).split('\n')) {
        const m = LOG_LINE.exec(line);
        if (!m) done += `${line}\n`;
        else if (LEVELS.indexOf(m[1]) <= max) done += `mcp-bridge: ${m[1]}: ${m[2]}\n`;
      }
      pending = pending.slice(nl + 1);
    },
    text() {
      return done + pending;
    },
  };
}

/**
 * Copies /proc/PID/{cmdline,environ,limits} of `pid` into DIR/proc/ (what
 * is readable); limits only once the process is `age` ms old, when it has
 * surely got past exec and the sanitizer start-up into main().
 */
function procSnapshot(pid, name, age) {
  for (const f of age >= 1000 ? ['cmdline', 'environ', 'limits'] : ['cmdline', 'environ']) {
    let data;
    try {
      data = fs.readFileSync(`/proc/${pid}/${f}`);
    } catch (e) {
      // A process that is not dumpable hides its environ from others: fine.
      if (e.code === 'EACCES' && f === 'environ') data = Buffer.from('(unreadable: not dumpable)\n');
      else continue;
    }
    fs.writeFileSync(path.join(SWEEP_DIR, 'proc', `${name}.${f}`), data);
  }
}

/**
 * Sweep mode: records `proc` (a bridge or mcp-registryd): its stdout
 * (unless `stdout` is false) and stderr into DIR/stderr/, and
 * /proc snapshots after 200 ms and then every 500 ms while it runs.
 */
export function sweepChild(proc, label, { stdout = true, stderr = true } = {}) {
  if (!SWEEP_DIR || !proc || proc.pid === undefined) return;
  const name = sweepName(label);
  const file = path.join(SWEEP_DIR, 'stderr', `${name}.log`);
  const tee = (d) => fs.appendFileSync(file, d);
  if (stderr) proc.stderr?.on('data', tee);
  if (stdout) proc.stdout?.on('data', tee);
  const born = Date.now();
  const snap = () => {
    if (proc.exitCode === null && proc.signalCode === null) procSnapshot(proc.pid, name, Date.now() - born);
  };
  const first = setTimeout(snap, 200);
  const every = setInterval(snap, 500);
  first.unref();
  every.unref();
  proc.once('exit', () => {
    clearTimeout(first);
    clearInterval(every);
  });
}

/** Throws a clear error when the bridge binary is missing. */
export function requireBridge() {
  try {
    fs.accessSync(BRIDGE, fs.constants.X_OK);
  } catch {
    throw new Error(`mcp-bridge binary not found or not executable at ${BRIDGE} ` +
      '(build it with meson/ninja, or set MCP_BRIDGE)');
  }
}

/** A minimal environment for child processes: no MCP_BRIDGE_* leaks from the runner. */
export function baseEnv(extra = {}) {
  const env = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return { ...env, ...extra };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Rejects with `label` if `p` does not settle within `ms`. */
export async function withTimeout(p, ms, label = 'operation') {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${label} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

/** Polls `fn` until it returns a truthy value (returned) or `ms` pass (throws). */
export async function waitUntil(fn, ms = 3000, label = 'condition', step = 25) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`${label} not reached within ${ms} ms`);
    await sleep(step);
  }
}

export function tmpDir(prefix = 'mcp-bridge-it-') {
  return fs.mkdtempSync(path.join(SWEEP_DIR ? path.join(SWEEP_DIR, 'tmp') : os.tmpdir(), prefix));
}

/** Splits a byte stream into lines; calls onLine(lineString) for each complete line. */
function lineSplitter(onLine) {
  let pending = [];
  return (chunk) => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      pending.push(chunk.subarray(start, nl));
      onLine(Buffer.concat(pending).toString('utf8'));
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  };
}

// ------------------------------------------------------------ child processes

// Every child a test starts is killed when the test process exits, even
// when a failed test left one behind: a stray server must never keep a
// test file (and CI) running.
const liveChildren = new Set();
process.on('exit', () => {
  for (const p of liveChildren) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/** Registers `proc` for the exit-time kill; returns it. */
export function track(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc;
  liveChildren.add(proc);
  proc.once('exit', () => liveChildren.delete(proc));
  return proc;
}

/** child_process.spawn, tracked (and, in sweep mode, recorded when it is a bridge or mcp-registryd). */
export function spawn(cmd, args, opts) {
  const proc = track(spawnRaw(cmd, args, opts));
  if (SWEEP_DIR && (cmd === BRIDGE || cmd === REGISTRYD)) {
    sweepChild(proc, path.basename(cmd), { stdout: !(cmd === BRIDGE && args?.[0] === 'run') });
  }
  return proc;
}

/** Spawns `cmd`, resolves with {proc, port} once it prints "READY <port>" on stdout. */
async function spawnReady(cmd, args, { env, cwd, label, timeoutMs = 15000 }) {
  const proc = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  const keep = (d) => {
    out.text += d.toString();
    if (out.text.length > 65536) out.text = out.text.slice(-32768);
    if (DEBUG) process.stderr.write(`[${label}] ${d}`);
  };
  proc.stderr.on('data', keep);
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${label} did not print READY within ${timeoutMs} ms: ${out.text}`));
    }, timeoutMs);
    const onData = (d) => {
      buf += d.toString();
      const m = /^READY (\d+)$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code ?? signal}) before READY: ${out.text}`));
    });
  });
  proc.stdout.on('data', keep); // keep draining so the child never blocks
  const exited = new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { proc, port, exited, output: () => out.text };
}

/**
 * The hosted test server (tests/node/hosted-server.mjs).
 * url: its MCP endpoint; control(path): GET /control/<path> and parse the JSON.
 */
export class HostedServer {
  constructor(options) {
    this.options = options;
    this.port = options.port ?? 0;
    this.proc = null;
  }

  get scheme() {
    return this.options.tls ? 'https' : 'http';
  }

  get base() {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  get url() {
    return `${this.base}/mcp`;
  }

  async start() {
    const args = [HOSTED_SERVER, '--port', String(this.port), '--host', '127.0.0.1'];
    if (this.options.json) args.push('--json');
    if (this.options.retryMs !== undefined) args.push('--retry-ms', String(this.options.retryMs));
    if (this.options.tls) args.push('--tls-cert', this.options.tls.cert, '--tls-key', this.options.tls.key);
    if (this.options.h2) args.push('--h2');
    if (this.options.authIssuer) args.push('--auth-issuer', this.options.authIssuer);
    if (this.options.authAudience) args.push('--auth-audience', this.options.authAudience);
    if (this.options.name) args.push('--name', this.options.name);
    if (this.options.extraTools) args.push('--extra-tools', String(this.options.extraTools));
    if (DEBUG) args.push('--verbose');
    const r = await spawnReady(process.execPath, args, {
      env: baseEnv(), cwd: NODE_DIR, label: `hosted${this.options.json ? '-json' : ''}`,
    });
    this.proc = r.proc;
    this.port = r.port;
    this.exited = r.exited;
    this.output = r.output;
    return this;
  }

  /** GET /control/<p> (e.g. 'fail-next?status=503'); returns the parsed JSON. */
  async control(p) {
    // fetch has no per-request CA option; over TLS control calls use https.request.
    if (this.options.tls) return this._controlTls(p);
    const r = await fetch(`${this.base}/control/${p}`);
    const body = await r.json();
    if (!r.ok) throw new Error(`control ${p}: HTTP ${r.status} ${JSON.stringify(body)}`);
    return body;
  }

  async _controlTls(p) {
    const https = await import('node:https');
    return new Promise((resolve, reject) => {
      const req = https.request(`${this.base}/control/${p}`, { ca: fs.readFileSync(this.options.tls.cert) }, (res) => {
        let d = '';
        res.on('data', (c) => { d += c; });
        res.on('end', () => {
          try {
            resolve(JSON.parse(d));
          } catch (e) {
            reject(e);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  state() {
    return this.control('state');
  }

  reset() {
    return this.control('reset-state');
  }

  /** SIGTERM and wait for the exit. */
  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      const r = await Promise.race([this.exited, sleep(3000).then(() => null)]);
      if (!r) {
        p.kill('SIGKILL');
        await this.exited;
      }
    }
  }

  /** SIGKILL (abrupt: open connections are reset) and wait for the exit. */
  async kill() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Starts a fresh server process on the same port (all sessions are gone). */
  async restart() {
    await this.kill();
    // The port was just released; retry briefly in case the kernel holds it.
    for (let i = 0; ; i++) {
      try {
        return await this.start();
      } catch (e) {
        if (i >= 20) throw e;
        await sleep(100);
      }
    }
  }
}

/**
 * A hosted server shared by the tests of one file: started before them,
 * reset before each one, stopped after them.
 */
export function hostedFixture(options = {}) {
  const h = new HostedServer(options);
  before(() => h.start());
  beforeEach(() => h.reset());
  after(() => h.stop());
  return h;
}

/** Starts hosted-server.mjs. Options: port, json, retryMs, tls: {cert, key}. */
export async function startHosted(options = {}) {
  return new HostedServer(options).start();
}

/** server-everything in streamable HTTP mode on a free loopback port. */
export async function startEverything() {
  const r = await spawnReady(process.execPath,
    ['--import', LOOPBACK_PRELOAD, EVERYTHING, 'streamableHttp'], {
      env: baseEnv({ PORT: '0' }), cwd: NODE_DIR, label: 'everything',
    });
  return {
    proc: r.proc,
    port: r.port,
    url: `http://127.0.0.1:${r.port}/mcp`,
    output: r.output,
    async stop() {
      if (r.proc.exitCode === null && r.proc.signalCode === null) {
        r.proc.kill('SIGKILL'); // it only handles SIGINT, and slowly
        await r.exited;
      }
    },
  };
}

/** Self-signed certificate for 127.0.0.1 with openssl; null if openssl is missing. */
export function makeCert(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
    '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) return null;
  return { cert, key };
}

// ------------------------------------------------------------ bridge + SDK client

/**
 * StdioClientTransport that also keeps every raw stdout line, the stderr text
 * and the exit status of the bridge.
 */
export class RecordingStdioTransport extends StdioClientTransport {
  // initVersion: the protocolVersion put in the IDE's initialize (the SDK
  // client always offers its latest, 2025-11-25; this plays an older IDE).
  constructor(params, { want = null, initVersion = null } = {}) {
    super({ ...params, stderr: 'pipe' });
    this.initVersion = initVersion;
    this.stdoutLines = [];
    this.stderrText = '';
    this.exitInfo = null;
    const filter = want ? levelFilter(want) : null;
    this.sweepFile = SWEEP_DIR ? path.join(SWEEP_DIR, 'stderr', `${sweepName('bridge-run')}.log`) : null;
    this.stderr.on('data', (d) => {
      if (this.sweepFile) fs.appendFileSync(this.sweepFile, d);
      if (filter) {
        filter.feed(d);
        this.stderrText = filter.text();
      } else {
        this.stderrText += d.toString();
      }
      if (DEBUG) process.stderr.write(`[bridge stderr] ${d}`);
    });
    this.exited = new Promise((resolve) => { this._resolveExit = resolve; });
  }

  async start() {
    await super.start();
    const proc = track(this._process);
    this.proc = proc;
    if (this.sweepFile) sweepChild(proc, 'bridge-run', { stdout: false, stderr: false });
    proc.stdout.on('data', lineSplitter((line) => {
      this.stdoutLines.push(line);
      if (DEBUG) process.stderr.write(`[bridge stdout] ${line.slice(0, 400)}\n`);
    }));
    proc.once('exit', (code, signal) => {
      this.exitInfo = { code, signal, at: Date.now() };
      this._resolveExit(this.exitInfo);
    });
  }

  async send(message) {
    if (message.method === 'initialize' && this.initVersion) {
      message = { ...message, params: { ...message.params, protocolVersion: this.initVersion } };
    }
    if (DEBUG) process.stderr.write(`[bridge stdin] ${JSON.stringify(message).slice(0, 400)}\n`);
    return super.send(message);
  }
}

/** Lines of `lines` that are not one compact JSON-RPC 2.0 object each (empty if all are). */
export function badJsonLines(lines) {
  const bad = [];
  for (const l of lines) {
    try {
      const v = JSON.parse(l);
      const ok = (v && typeof v === 'object' && !Array.isArray(v) && v.jsonrpc === '2.0') ||
        (Array.isArray(v) && v.every((x) => x && x.jsonrpc === '2.0'));
      if (!ok) bad.push(l.slice(0, 200));
    } catch {
      bad.push(l.slice(0, 200));
    }
  }
  return bad;
}

/** True if `line` has no whitespace outside JSON strings (and no CR). */
export function isCompactJson(line) {
  let inStr = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') {
      inStr = true;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      return false;
    }
  }
  return !inStr;
}

/**
 * Starts the bridge under an SDK Client.
 * options: url (required), args (extra bridge args after --url), env (bridge env,
 * on top of baseEnv), capabilities, clientInfo, handlers: [[Schema, fn]...],
 * notificationHandlers: [[Schema, fn]...], connectTimeout (ms).
 * Returns { client, transport, stderr(), stdoutLines, errors, close() }.
 */
export async function connectBridge(options) {
  requireBridge();
  const sw = sweepLevel(['run', ...(options.url ? ['--url', options.url] : []), ...(options.args ?? [])],
    options.env ?? {});
  const transport = new RecordingStdioTransport({
    command: BRIDGE,
    args: sw.args,
    env: baseEnv(sw.env),
  }, { want: sw.want, initVersion: options.initVersion });
  const client = new Client(options.clientInfo ?? { name: 'integration-ide', version: '1.0.0' },
    { capabilities: options.capabilities ?? {} });
  for (const [schema, fn] of options.handlers ?? []) client.setRequestHandler(schema, fn);
  for (const [schema, fn] of options.notificationHandlers ?? []) client.setNotificationHandler(schema, fn);
  const errors = [];
  client.onerror = (e) => errors.push(e);
  const h = {
    client,
    transport,
    errors,
    get stdoutLines() { return transport.stdoutLines; },
    stderr: () => transport.stderrText,
    closeRequestedAt: undefined,
    async close() {
      h.closeRequestedAt ??= Date.now();
      await withTimeout(client.close(), 6000, 'client.close').catch(() => {});
      if (transport.proc && transport.proc.exitCode === null && transport.proc.signalCode === null) {
        transport.proc.kill('SIGKILL');
      }
    },
  };
  try {
    await withTimeout(client.connect(transport, { timeout: options.connectTimeout ?? 10000 }),
      (options.connectTimeout ?? 10000) + 2000, 'initialize through the bridge');
  } catch (e) {
    await h.close();
    e.message += `\nbridge stderr: ${transport.stderrText}`;
    throw e;
  }
  return h;
}

/** The sanitizer (ASan/UBSan/LSan) report in `stderr`, or null. */
export function sanitizerReport(stderr) {
  const m = /(ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|runtime error:)/.exec(stderr);
  return m ? stderr.slice(Math.max(0, m.index - 200), m.index + 4000) : null;
}

/**
 * Registers a t.after hook that closes the SDK client + bridge and then checks
 * the bridge behaved: stdout held only JSON-RPC lines, no sanitizer report on
 * stderr, exit code 0 after stdin EOF.
 */
export function closeAndCheck(t, h) {
  t.after(async () => {
    await h.close();
    const ex0 = h.transport.exitInfo;
    const diedEarly = ex0 && ex0.at < h.closeRequestedAt ? ex0 : null;
    const tail = h.stderr().slice(-3000);
    const rep = sanitizerReport(h.stderr());
    assert.equal(rep, null, `sanitizer report from the bridge:\n${rep}`);
    assert.deepEqual(badJsonLines(h.stdoutLines), [], 'stdout had non-JSON-RPC lines');
    const ex = h.transport.exitInfo;
    assert.ok(!diedEarly, `the bridge died during the test: ${JSON.stringify(diedEarly)}; stderr: ${tail}`);
    assert.ok(ex && ex.code === 0 && ex.signal === null,
      `bridge exit after stdin EOF: ${JSON.stringify(ex)}; stderr: ${tail}`);
  });
}

/** Text of a CallToolResult's content blocks, joined with "\n". */
export function resultText(r) {
  return (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

// ------------------------------------------------------------ raw bridge

/**
 * The bridge as a plain child process: write any bytes, read JSON lines.
 */
export class RawBridge {
  constructor(args, { env = {} } = {}) {
    requireBridge();
    this.args = args;
    this.lines = [];
    this.messages = []; // parsed lines (undefined for a line that is not JSON)
    this.stderr = '';
    this._waiters = new Set();
    const sw = sweepLevel(args, env);
    const filter = sw.want ? levelFilter(sw.want) : null;
    this.proc = spawn(BRIDGE, sw.args, { env: baseEnv(sw.env), stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdin.on('error', () => {}); // EPIPE after the bridge exits
    this.spawnError = null;
    this.proc.on('error', (e) => { this.spawnError = e; });
    this.proc.stdout.on('data', lineSplitter((line) => {
      this.lines.push(line);
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        msg = undefined;
      }
      this.messages.push(msg);
      if (DEBUG) process.stderr.write(`[raw stdout] ${line.slice(0, 400)}\n`);
      for (const w of this._waiters) w();
    }));
    this.proc.stderr.on('data', (d) => {
      if (filter) {
        filter.feed(d);
        this.stderr = filter.text();
      } else {
        this.stderr += d.toString();
      }
      if (DEBUG) process.stderr.write(`[raw stderr] ${d}`);
    });
    this.exitInfo = null;
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal, at: Date.now() };
        for (const w of this._waiters) w();
        resolve(this.exitInfo);
      });
    });
  }

  get alive() {
    return this.exitInfo === null;
  }

  write(data) {
    if (DEBUG) process.stderr.write(`[raw stdin] ${String(data).slice(0, 300)}\n`);
    return new Promise((resolve) => {
      if (!this.proc.stdin.writable) return resolve(false);
      this.proc.stdin.write(data, () => resolve(true));
    });
  }

  send(obj) {
    return this.write(`${JSON.stringify(obj)}\n`);
  }

  /**
   * Waits for the first message (from index `from`) matching `pred`; resolves
   * with it, rejects after `timeout` ms or when the bridge exits first.
   */
  waitFor(pred, { timeout = 5000, from = 0, label = 'message' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.messages.length; i++) {
          const m = this.messages[i];
          if (m !== undefined && pred(m)) {
            done();
            resolve(m);
            return true;
          }
        }
        if (this.exitInfo) {
          done();
          reject(new Error(`bridge exited (${JSON.stringify(this.exitInfo)}) while waiting for ${label}; ` +
            `stderr: ${this.stderr.slice(-2000)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${label} within ${timeout} ms; stdout so far: ` +
          `${this.lines.slice(-10).map((l) => l.slice(0, 300)).join(' | ')}; stderr: ${this.stderr.slice(-2000)}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this._waiters.delete(check);
      };
      if (!check()) this._waiters.add(check);
    });
  }

  /** The response (result or error) with this id. */
  response(id, opts = {}) {
    return this.waitFor((m) => isResponse(m) && sameId(m.id, id),
      { label: `response to id ${JSON.stringify(id)}`, ...opts });
  }

  /** Sends a request and waits for its response. */
  async request(obj, opts = {}) {
    await this.send(obj);
    return this.response(obj.id, opts);
  }

  /** Responses with id null received so far, from index `from`. */
  nullIdErrors(from = 0) {
    return this.messages.slice(from).filter((m) => isResponse(m) && m.id === null);
  }

  /** initialize + notifications/initialized; resolves with the initialize response. */
  async initialize(protocolVersion = '2025-11-25', { id = 'init', capabilities = {}, clientInfo } = {}) {
    const r = await this.request({
      jsonrpc: '2.0', id, method: 'initialize',
      params: { protocolVersion, capabilities, clientInfo: clientInfo ?? { name: 'raw-ide', version: '1.0.0' } },
    }, { timeout: 10000 });
    if (r.result) await this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return r;
  }

  closeStdin() {
    this.proc.stdin.end();
  }

  kill(signal = 'SIGTERM') {
    if (this.alive) this.proc.kill(signal);
  }

  /**
   * Cleanup: closes stdin, gives the bridge 1.5 s to exit, then SIGKILL.
   * Throws if the bridge printed a sanitizer report.
   */
  async dispose() {
    if (this.alive) {
      this.closeStdin();
      const r = await Promise.race([this.exited, sleep(1500).then(() => null)]);
      if (!r) {
        this.proc.kill('SIGKILL');
        await this.exited;
      }
    }
    const rep = sanitizerReport(this.stderr);
    if (rep) throw new Error(`sanitizer report from the bridge:\n${rep}`);
  }
}

export function isResponse(m) {
  return m && typeof m === 'object' && !('method' in m) && ('result' in m || 'error' in m);
}

function sameId(a, b) {
  return typeof a === typeof b && a === b;
}

/** Spawns `mcp-bridge run --url URL args...` as a RawBridge. */
export function rawBridge(url, args = [], opts = {}) {
  return new RawBridge(['run', '--url', url, ...args], opts);
}

/** Runs the bridge with `args` to completion (for CLI errors): {code, signal, stdout, stderr, ms}. */
export async function runBridge(args, { env = {}, timeout = 5000, stdin = '' } = {}) {
  requireBridge();
  const started = Date.now();
  const sw = sweepLevel(args, env);
  const filter = sw.want ? levelFilter(sw.want) : null;
  const proc = spawn(BRIDGE, sw.args, { env: baseEnv(sw.env), stdio: ['pipe', 'pipe', 'pipe'] });
  proc.stdin.on('error', () => {});
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { if (filter) filter.feed(d); else stderr += d; });
  proc.stdin.end(stdin);
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeout);
  const { code, signal } = await new Promise((resolve) => proc.once('close', (c, s) => resolve({ code: c, signal: s })));
  clearTimeout(timer);
  if (filter) stderr = filter.text();
  return { code, signal, stdout, stderr, ms: Date.now() - started };
}

/**
 * Signs `account` in at the test IdP `idp` with `mcp-bridge login` in
 * `env` (the demo's way: the code is approved at the IdP); asserts exit 0.
 */
export async function loginAs(idp, env, account = 'alice') {
  const p = runBridge(['login', '--no-browser'], { env, timeout: 20000 });
  const codes = await waitUntil(async () => {
    const c = await idp.pending();
    return c.length ? c : null;
  }, 10000, 'device code');
  await idp.approve(codes[codes.length - 1].user_code, account);
  const r = await p;
  assert.equal(r.code, 0, r.stderr);
}

// ------------------------------------------------------------ mcp-registryd

/**
 * Starts mcp-registryd on `dir`/catalog and `dir`/policy.json for `idp`
 * (issuer, resource). Options: listen port (0: any), log file (default
 * none), extra flags. Resolves once it prints READY.
 */
export async function startRegistryd(dir, idp, { listen = 0, log = null, extra = [] } = {}) {
  const args = ['--catalog', path.join(dir, 'catalog'), '--policy', path.join(dir, 'policy.json'),
    '--issuer', idp.issuer, '--audience', idp.resource, '--listen', `127.0.0.1:${listen}`,
    ...(log ? ['--log-file', log] : []), ...extra];
  const proc = spawn(REGISTRYD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const port = await withTimeout(new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /^READY (\d+)\n/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`mcp-registryd exited ${c}: ${err}`)));
    proc.once('error', (e) => reject(new Error(`${REGISTRYD}: ${e.message}`)));
  }), 10000, 'mcp-registryd start');
  return {
    proc, port, log, base: `http://127.0.0.1:${port}`, stderr: () => err,
    hup: () => proc.kill('SIGHUP'),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return new Promise((r) => proc.once('exit', (c) => r(c)));
    },
  };
}

// ------------------------------------------------------------ test IdP

export const TEST_IDP = path.join(NODE_DIR, 'test-idp.mjs');

/**
 * Starts tests/node/test-idp.mjs (oidc-provider) with `args`.
 * With { secrets: true } (always in sweep mode) it logs what it issues: issued().
 * Returns { issuer, resource, proc, stderr(), stats(), events(), issued(), approve(code, account),
 * deny(code), pending(), post(path, body), stop() }.
 */
export async function startIdp(args = [], { secrets = false } = {}) {
  let secretsLog = null;
  if (SWEEP_DIR) secretsLog = path.join(SWEEP_DIR, 'secrets', `${sweepName('idp')}.jsonl`);
  else if (secrets) secretsLog = path.join(tmpDir('mcp-idp-secrets-'), 'issued.jsonl');
  const proc = spawn(process.execPath, [TEST_IDP, ...args, ...(DEBUG ? ['--verbose'] : [])],
    { env: baseEnv(secretsLog ? { TEST_IDP_SECRETS_LOG: secretsLog } : {}), cwd: NODE_DIR,
      stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => {
    err += d;
    if (DEBUG) process.stderr.write(`[idp] ${d}`);
  });
  const ready = await withTimeout(new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    proc.once('exit', (c) => reject(new Error(`test IdP exited (${c}): ${err}`)));
  }), 20000, 'test IdP start');
  const post = async (p, body = {}) => {
    const r = await fetch(`${ready.issuer}${p}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  return {
    ...ready,
    proc,
    stderr: () => err,
    post,
    stats: async () => (await fetch(`${ready.issuer}/__test/stats`)).json(),
    events: async () => (await (await fetch(`${ready.issuer}/__test/events`)).json()).events,
    /** Every secret issued so far, [{kind, value}] (needs `secrets` or sweep mode). */
    issued: () => {
      if (!secretsLog) throw new Error('startIdp: no secrets log (pass { secrets: true })');
      if (!fs.existsSync(secretsLog)) return [];
      return fs.readFileSync(secretsLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    pending: async () => (await (await fetch(`${ready.issuer}/__test/pending`)).json()).codes,
    approve: (userCode, account = 'alice') => post('/__test/approve', { user_code: userCode, account }),
    deny: (userCode) => post('/__test/deny', { user_code: userCode }),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await new Promise((resolve) => proc.once('exit', resolve));
      }
    },
  };
}

/**
 * Private HOME and XDG directories for one bridge "user", plus the sign-in
 * config in the environment. Returns the env object (also has .dir).
 */
export function userEnv(idp, { store = process.env.SIGNIN_STORE || 'file', extra = {} } = {}) {
  const dir = tmpDir('mcp-bridge-user-');
  for (const d of ['config', 'state', 'run', 'data', 'cache']) fs.mkdirSync(path.join(dir, d), { mode: 0o700 });
  const env = {
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_STATE_HOME: path.join(dir, 'state'),
    XDG_RUNTIME_DIR: path.join(dir, 'run'),
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    MCP_BRIDGE_SYSTEM_CONFIG: path.join(dir, 'no-system-config.json'),
    MCP_BRIDGE_TOKEN_STORE: store,
    MCP_BRIDGE_PROFILE: path.basename(dir),
    ...(idp ? { MCP_BRIDGE_ISSUER: idp.issuer, MCP_BRIDGE_CLIENT_ID: idp.client_id } : {}),
    ...(store === 'keyring' || store === 'session' ? keyringEnv() : {}),
    ...extra,
  };
  Object.defineProperty(env, 'dir', { value: dir, enumerable: false });
  return env;
}

/** The D-Bus session of the keyring the test runs under (with-keyring.sh). */
function keyringEnv() {
  const e = {};
  for (const k of ['DBUS_SESSION_BUS_ADDRESS', 'GNOME_KEYRING_CONTROL']) {
    if (process.env[k] !== undefined) e[k] = process.env[k];
  }
  return e;
}
