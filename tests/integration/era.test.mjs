// SPDX-License-Identifier: ISC
// The era matrix: MCP 2026-07-28 ("modern": server/discover, per-request _meta,
// Mcp-* headers, input_required, subscriptions/listen) against the 2024-11-05 …
// 2025-11-25 ("legacy": initialize) on either side of the bridge.
//
// Peers (all real, all on the official TypeScript SDK):
//   legacy IDE   SDK v1 Client over StdioClientTransport (lib.mjs RecordingStdioTransport)
//   modern IDE   SDK v2 Client (@modelcontextprotocol/client 2.4.0) pinned to
//                2026-07-28 over its StdioClientTransport spawning the bridge
//   modern host  tests/node/modern-server.mjs (SDK v2 createMcpHandler; modern-only
//                unless --dual-era), which records the headers and _meta it got
//   legacy hosts tests/node/hosted-server.mjs (Streamable HTTP, SDK v1) and
//                tests/node/legacy-server.mjs (HTTP+SSE 2024-11-05, SDK v1)
//
// The "fixture" tests run the SDK clients against the servers directly (no
// bridge) so a failure in the bridge cases is never a broken fixture.

import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  NODE_DIR, BRIDGE, baseEnv, spawn, track, closeAndCheck, resultText, sleep, waitUntil,
  withTimeout, requireBridge, sanitizerReport, startHosted, types, RecordingStdioTransport, rawBridge,
  Client as ClientV1, connectBridge, userEnv,
} from './lib.mjs';
import { StreamableHTTPClientTransport as HttpV1 } from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js';
import {
  Client as ClientV2, StreamableHTTPClientTransport as HttpV2, SSEClientTransport as SseV2,
  fromJsonSchema as fromJsonSchemaV2,
} from '../node/node_modules/@modelcontextprotocol/client/dist/index.mjs';
import { StdioClientTransport as StdioV2 } from '../node/node_modules/@modelcontextprotocol/client/dist/stdio.mjs';

const {
  ElicitRequestSchema, CreateMessageRequestSchema, ListRootsRequestSchema, LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema, McpError,
} = types;

const MODERN_SERVER = path.join(NODE_DIR, 'modern-server.mjs');
const LEGACY_SERVER = path.join(NODE_DIR, 'legacy-server.mjs');
const MODERN = '2026-07-28';
const T = { timeout: 8000 };
const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const LOGLEVEL = 'io.modelcontextprotocol/logLevel';
const MODERN_TOOLS = ['add', 'confirm_delete', 'echo', 'long_task', 'regional_echo', 'roots', 'sample', 'touch'];

// ------------------------------------------------------------ servers

/** Spawns a node server script that prints "READY <port>"; returns {proc, port, stop(), output()}. */
async function startScript(script, args, label) {
  const proc = spawn(process.execPath, [script, '--port', '0', ...args],
    { env: baseEnv(), cwd: NODE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => {
    err += d;
    if (err.length > 65536) err = err.slice(-32768);
  });
  const port = await withTimeout(new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^READY (\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c, s) => reject(new Error(`${label} exited (${c ?? s}) before READY: ${err}`)));
  }), 15000, `${label} start`);
  proc.stdout.resume();
  const exited = new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) r();
    else proc.once('exit', r);
  });
  return {
    proc, port, base: `http://127.0.0.1:${port}`, output: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await Promise.race([exited, sleep(3000).then(() => proc.kill('SIGKILL'))]);
        await exited;
      }
    },
  };
}

/** tests/node/modern-server.mjs; url, log() (GET /__log), reset(). */
async function startModern({ dualEra = false } = {}) {
  const s = await startScript(MODERN_SERVER, dualEra ? ['--dual-era'] : [], 'modern-server');
  return {
    ...s,
    url: `${s.base}/mcp`,
    log: async () => (await fetch(`${s.base}/__log`)).json(),
    reset: async () => (await fetch(`${s.base}/__reset`)).json(),
  };
}

/** tests/node/legacy-server.mjs (HTTP+SSE); url is its /sse endpoint. */
async function startLegacySse() {
  const s = await startScript(LEGACY_SERVER, [], 'legacy-server');
  return {
    ...s,
    url: `${s.base}/sse`,
    control: async (p) => (await fetch(`${s.base}/control/${p}`)).json(),
  };
}

/** Requests the modern server logged with JSON-RPC method `m` (and tool/uri name `name`). */
function requestsFor(log, m, name) {
  return log.requests.filter((r) => r.method === m && (name === undefined || r.name === name || r.uri === name));
}

/** A raw 2026-07-28 POST (for the fixture checks of the server's own validation). */
async function rawPost(url, body, headers = {}) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch { /* SSE or empty */ }
  return { status: r.status, text, json };
}

const envelope = (extra = {}) => ({ [PV]: MODERN, [CAPS]: {}, ...extra });

// ------------------------------------------------------------ IDE helpers

const elicitAccept = (calls, content = { confirm: true }) => async (req) => {
  calls.push(req.params);
  return { action: 'accept', content };
};
const samplingAnswer = (calls) => async (req) => {
  calls.push(req.params);
  return { role: 'assistant', model: 'ide-model', content: { type: 'text', text: 'sampled by the IDE' } };
};
const ROOTS = [{ uri: 'file:///work/project', name: 'project' }];

/** StdioClientTransport (SDK v2) that records stderr and tracks the bridge process. */
class StdioV2Recording extends StdioV2 {
  constructor(params) {
    super({ ...params, stderr: 'pipe' });
    this.stderrText = '';
    this.stderr.on('data', (d) => { this.stderrText += d.toString(); });
    this.exitInfo = null;
  }

  async start() {
    await super.start();
    this.proc = track(this._process);
    this.proc.once('exit', (code, signal) => { this.exitInfo = { code, signal, at: Date.now() }; });
  }
}

/**
 * A modern IDE: SDK v2 Client pinned to 2026-07-28 (or `negotiation`) over stdio
 * spawning `mcp-bridge run --url URL`. Registers t.after cleanup that checks
 * the bridge exited 0 after stdin EOF without a sanitizer report.
 */
async function modernIde(t, url, { capabilities = {}, handlers = {}, notifications = {}, negotiation, args = [], sibling = false, env = {} } = {}) {
  requireBridge();
  const params = { command: BRIDGE, args: ['run', ...(url ? ['--url', url] : []), ...args], env: baseEnv(env) };
  // sibling: the SDK's own StdioClientTransport class exactly, with which
  // versionNegotiation 'auto' probes server/discover on a short-lived second
  // bridge process and then starts the session process, whose first message
  // is a modern request (no server/discover). A subclass probes in place.
  const transport = sibling ? plainStdioV2(params) : new StdioV2Recording(params);
  const client = new ClientV2({ name: 'era-modern-ide', version: '2.0.0' }, {
    capabilities,
    versionNegotiation: { mode: negotiation ?? { pin: MODERN } },
  });
  for (const [m, fn] of Object.entries(handlers)) client.setRequestHandler(m, fn);
  for (const [m, fn] of Object.entries(notifications)) client.setNotificationHandler(m, fn);
  const h = {
    client, transport, stderr: () => transport.stderrText, closing: false,
    async close() {
      h.closing = true;
      await withTimeout(client.close(), 6000, 'client.close').catch(() => {});
      const p = transport.proc;
      if (p && p.exitCode === null && p.signalCode === null) {
        await Promise.race([new Promise((r) => p.once('exit', r)), sleep(3000)]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
    },
  };
  try {
    await withTimeout(client.connect(transport, { timeout: 10000 }), 12000, 'modern connect through the bridge');
    if (sibling) transport.adopt();
  } catch (e) {
    await h.close();
    e.message += `\nbridge stderr: ${transport.stderrText.slice(-3000)}`;
    throw e;
  }
  t.after(async () => {
    await h.close();
    const rep = sanitizerReport(h.stderr());
    assert.equal(rep, null, `sanitizer report from the bridge:\n${rep}`);
    const ex = transport.exitInfo;
    assert.ok(ex && ex.code === 0 && ex.signal === null,
      `bridge exit after stdin EOF: ${JSON.stringify(ex)}; stderr: ${h.stderr().slice(-2000)}`);
  });
  return h;
}

/** The SDK v2 StdioClientTransport itself (no subclass), with stderr recorded; adopt() tracks the process after connect. */
function plainStdioV2(params) {
  const transport = new StdioV2({ ...params, stderr: 'pipe' });
  transport.stderrText = '';
  transport.stderr.on('data', (d) => { transport.stderrText += d.toString(); });
  transport.exitInfo = null;
  transport.adopt = () => {
    transport.proc = track(transport._process);
    transport.proc.once('exit', (code, signal) => { transport.exitInfo = { code, signal, at: Date.now() }; });
  };
  return transport;
}

const v2text = (r) => (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

// ============================================================ fixtures (no bridge)

describe('fixtures: SDK clients against the servers directly', () => {
  let modern;
  let dual;
  before(async () => {
    modern = await startModern();
    dual = await startModern({ dualEra: true });
  });
  after(async () => {
    await modern?.stop();
    await dual?.stop();
  });

  test('modern-server: SDK v2 client (auto) sees a 2026-07-28 server with MRTR, headers, progress, logs, listen', { timeout: 30000 }, async () => {
    await modern.reset();
    const elicits = [];
    const client = new ClientV2({ name: 'fixture-v2', version: '1' }, {
      capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
      versionNegotiation: { mode: 'auto' },
    });
    client.setRequestHandler('elicitation/create', elicitAccept(elicits));
    client.setRequestHandler('sampling/createMessage', samplingAnswer([]));
    client.setRequestHandler('roots/list', async () => ({ roots: ROOTS }));
    const logs = [];
    const updates = [];
    const changed = [];
    client.setNotificationHandler('notifications/message', (n) => logs.push(n.params));
    client.setNotificationHandler('notifications/resources/updated', (n) => updates.push(n.params));
    client.setNotificationHandler('notifications/tools/list_changed', (n) => changed.push(n.params));
    await client.connect(new HttpV2(new URL(modern.url)));
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      assert.equal(client.getServerVersion().name, 'modern-test-server');
      assert.match(client.getInstructions(), /Modern \(2026-07-28\) test server/);
      const tools = (await client.listTools()).tools.map((x) => x.name).sort();
      assert.deepEqual(tools, MODERN_TOOLS, 'the SDK client drops bad_header (invalid x-mcp-header)');
      assert.equal(v2text(await client.callTool({ name: 'regional_echo', arguments: { region: 'Zürich', text: 'hi' } })), 'Zürich: hi');
      assert.equal(v2text(await client.callTool({ name: 'confirm_delete', arguments: { path: '/tmp/x' } })), 'deleted /tmp/x');
      assert.equal(elicits.length, 1);
      assert.equal(v2text(await client.callTool({ name: 'sample', arguments: { prompt: 'p' } })), 'ide-model: sampled by the IDE');
      assert.equal(v2text(await client.callTool({ name: 'roots', arguments: {} })), 'file:///work/project');
      const progress = [];
      const r = await client.callTool({ name: 'long_task', arguments: { steps: 2, delayMs: 50 }, _meta: { [LOGLEVEL]: 'info' } },
        { onprogress: (p) => progress.push(p) });
      assert.equal(v2text(r), 'completed 2 steps');
      assert.deepEqual(progress.map((p) => p.progress), [1, 2]);
      assert.deepEqual(logs.map((l) => l.level), ['info', 'info'], 'debug filtered by the per-request logLevel');
      await assert.rejects(client.readResource({ uri: 'test://missing' }), (e) => e.code === -32602);
      const sub = await client.listen({ toolsListChanged: true, resourceSubscriptions: ['test://info'] });
      await client.callTool({ name: 'touch', arguments: {} });
      await waitUntil(() => updates.length && changed.length, 3000, 'listen notifications');
      assert.equal(updates[0].uri, 'test://info');
      await sub.close();
      assert.ok((await client.listTools({}, { cacheMode: 'refresh' })).tools.some((x) => x.name === 'dynamic'));
      const ac = new AbortController();
      const slow = client.callTool({ name: 'long_task', arguments: { steps: 100, delayMs: 100 } }, { signal: ac.signal });
      await sleep(300);
      ac.abort('cancelled');
      await assert.rejects(slow);
      await waitUntil(async () => (await modern.log()).events.some((e) => e.type === 'aborted'), 3000,
        'the handler saw the closed stream');
    } finally {
      await client.close();
    }
    const log = await modern.log();
    const regional = requestsFor(log, 'tools/call', 'regional_echo')[0];
    assert.equal(regional.headers['mcp-method'], 'tools/call');
    assert.equal(regional.headers['mcp-name'], 'regional_echo');
    assert.equal(regional.headers['mcp-param-region'], `=?base64?${Buffer.from('Zürich').toString('base64')}?=`);
    assert.equal(regional.headers['mcp-protocol-version'], MODERN);
    const rounds = requestsFor(log, 'tools/call', 'confirm_delete');
    assert.equal(rounds.length, 2);
    assert.deepEqual(rounds[1].inputResponseKeys, ['confirm']);
    assert.ok(rounds[1].requestState);
    assert.deepEqual(log.events.filter((e) => e.type === 'requestState').map((e) => e.ok), [true, true, true]);
    assert.ok(log.events.some((e) => e.type === 'stream-closed' && e.method === 'subscriptions/listen'));
  });

  test('modern-server: refuses a legacy initialize (-32022 naming 2026-07-28) and mismatched headers (-32020)', { timeout: 15000 }, async () => {
    const init = await rawPost(modern.url, {
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    assert.equal(init.status, 400);
    assert.equal(init.json.error.code, -32022);
    assert.deepEqual(init.json.error.data.supported, [MODERN]);
    assert.equal(init.json.error.data.requested, '2025-11-25');
    const v1 = new ClientV1({ name: 'fixture-v1', version: '1' });
    await assert.rejects(v1.connect(new HttpV1(new URL(modern.url))), /-32022|Unsupported protocol version|400/);
    await v1.close().catch(() => {});
    const body = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: envelope() } };
    const noMethod = await rawPost(modern.url, body, { 'mcp-protocol-version': MODERN });
    assert.equal(noMethod.status, 400);
    assert.equal(noMethod.json.error.code, -32020);
    const wrongName = await rawPost(modern.url, body, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'add' });
    assert.equal(wrongName.status, 400);
    assert.equal(wrongName.json.error.code, -32020);
    const regional = { ...body, params: { ...body.params, name: 'regional_echo', arguments: { region: 'eu', text: 'x' } } };
    const noParam = await rawPost(modern.url, regional, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'regional_echo' });
    assert.equal(noParam.status, 400);
    assert.equal(noParam.json.error.code, -32020);
    const ok = await rawPost(modern.url, regional,
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'regional_echo', 'mcp-param-region': 'eu' });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.result.content[0].text, 'eu: x');
    assert.equal(ok.json.result.resultType, 'complete');
    const get = await fetch(modern.url);
    assert.equal(get.status, 405);
    await get.body?.cancel();
    assert.equal((await (await fetch(`${modern.base}/__rename-header`)).json()).regionHeader, 'Area');
    const renamed = await rawPost(modern.url, regional,
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'regional_echo', 'mcp-param-region': 'eu' });
    assert.equal(renamed.status, 400);
    assert.equal(renamed.json.error.code, -32020);
    assert.match(renamed.json.error.message, /Mcp-Param-Area/i);
    await modern.reset();
  });

  test('modern-server --dual-era: an SDK v1 client is served through initialize', { timeout: 15000 }, async () => {
    const v1 = new ClientV1({ name: 'fixture-v1', version: '1' });
    await v1.connect(new HttpV1(new URL(dual.url)));
    try {
      assert.equal(v1.getServerVersion().name, 'modern-test-server');
      assert.equal(resultText(await v1.callTool({ name: 'echo', arguments: { text: 'legacy ok' } })), 'legacy ok');
    } finally {
      await v1.close();
    }
  });

  test('legacy servers: the SDK v2 client (auto) falls back to initialize and answers elicitation', { timeout: 20000 }, async () => {
    const hosted = await startHosted();
    const sse = await startLegacySse();
    try {
      for (const [label, transport, tool, args, want] of [
        ['hosted', new HttpV2(new URL(hosted.url)), 'overwrite_table', { table: 't1' }, 'overwrote t1'],
        ['http+sse', new SseV2(new URL(sse.url)), 'confirm', { action: 'x' }, 'did x'],
      ]) {
        const elicits = [];
        const client = new ClientV2({ name: 'fixture-v2', version: '1' }, {
          capabilities: { elicitation: { form: {} } },
          versionNegotiation: label === 'hosted' ? { mode: 'auto' } : undefined,
        });
        client.setRequestHandler('elicitation/create', elicitAccept(elicits));
        await client.connect(transport);
        try {
          assert.notEqual(client.getNegotiatedProtocolVersion(), MODERN, label);
          assert.equal(v2text(await client.callTool({ name: tool, arguments: args })), want, label);
          assert.equal(elicits.length, 1, label);
          assert.equal((await client.callTool({ name: 'no_such_tool', arguments: {} })).isError, true, label);
          await assert.rejects(client.request({ method: 'no/such/method', params: {} }, fromJsonSchemaV2({ type: 'object' })),
            (e) => e.code === -32601, label);
        } finally {
          await client.close();
        }
      }
    } finally {
      await hosted.stop();
      await sse.stop();
    }
  });
});

// ============================================================ legacy IDE -> modern-only server

for (const protocolVersion of ['2025-11-25', '2025-06-18']) {
  describe(`legacy IDE (${protocolVersion}) -> modern-only server`, () => {
    let srv;
    before(async () => { srv = await startModern(); });
    beforeEach(async () => { await srv.reset(); });
    after(async () => { await srv?.stop(); });

    test('initialize is answered from server/discover', { timeout: 20000 }, async (t) => {
      const h = await legacyIdeVersion(t, srv.url, protocolVersion);
      assert.equal(h.client.getServerVersion().name, 'modern-test-server');
      const caps = h.client.getServerCapabilities();
      assert.ok(caps.tools, 'tools capability');
      assert.ok(caps.resources, 'resources capability');
      assert.ok(caps.prompts, 'prompts capability');
      assert.match(h.client.getInstructions() ?? '', /Modern \(2026-07-28\) test server/);
      const log = await srv.log();
      const disc = requestsFor(log, 'server/discover');
      assert.ok(disc.length >= 1, `the bridge sent server/discover upstream (saw ${log.requests.map((r) => r.method)})`);
      assert.equal(disc[0].headers['mcp-method'], 'server/discover');
      assert.equal(disc[0].headers['mcp-protocol-version'], MODERN);
      assert.equal(disc[0].meta.protocolVersion, MODERN);
      assert.ok(disc[0].meta.clientCapabilities, 'clientCapabilities in _meta');
      assert.equal(requestsFor(log, 'initialize').filter((r) => r.status === 200).length, 0);
    });

    test('tools/list drops the tool with an invalid x-mcp-header; tools/call carries Mcp-* headers and _meta', { timeout: 20000 }, async (t) => {
      const h = await legacyIdeVersion(t, srv.url, protocolVersion);
      const tools = (await h.client.listTools(undefined, T)).tools.map((x) => x.name).sort();
      assert.deepEqual(tools, MODERN_TOOLS);
      assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'hello ✓' } }, undefined, T)), 'hello ✓');
      assert.equal(resultText(await h.client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }, undefined, T)), '42');
      assert.equal(resultText(await h.client.callTool({ name: 'regional_echo', arguments: { region: 'eu-west', text: 'a' } }, undefined, T)), 'eu-west: a');
      assert.equal(resultText(await h.client.callTool({ name: 'regional_echo', arguments: { region: 'Zürich', text: 'b' } }, undefined, T)), 'Zürich: b');
      const log = await srv.log();
      const echo = requestsFor(log, 'tools/call', 'echo').at(-1);
      assert.equal(echo.headers['mcp-method'], 'tools/call');
      assert.equal(echo.headers['mcp-name'], 'echo');
      assert.equal(echo.headers['mcp-protocol-version'], MODERN);
      assert.equal(echo.meta.protocolVersion, MODERN);
      assert.ok(echo.metaKeys.includes(CAPS));
      const regional = requestsFor(log, 'tools/call', 'regional_echo');
      assert.equal(regional[0].headers['mcp-param-region'], 'eu-west');
      assert.equal(regional[1].headers['mcp-param-region'], `=?base64?${Buffer.from('Zürich').toString('base64')}?=`);
      assert.equal(log.requests.filter((r) => r.status === 400).length, 0,
        `no request refused by the server: ${JSON.stringify(log.requests.filter((r) => r.status === 400))}`);
    });

    test('a renamed x-mcp-header: the server\'s -32020 makes the bridge refresh tools/list and retry once', { timeout: 20000 }, async (t) => {
      const h = await legacyIdeVersion(t, srv.url, protocolVersion);
      await h.client.listTools(undefined, T);
      assert.equal(resultText(await h.client.callTool({ name: 'regional_echo', arguments: { region: 'eu', text: '1' } }, undefined, T)), 'eu: 1');
      await fetch(`${srv.base}/__rename-header`);
      assert.equal(resultText(await h.client.callTool({ name: 'regional_echo', arguments: { region: 'us', text: '2' } }, undefined, T)), 'us: 2');
      const log = await srv.log();
      const calls = requestsFor(log, 'tools/call', 'regional_echo');
      assert.equal(calls.at(-1).status, 200);
      assert.equal(calls.at(-1).headers['mcp-param-area'], 'us');
      assert.equal(calls.filter((c) => c.status === 400 && c.error?.code === -32020).length, 1, 'one refused attempt');
      assert.ok(requestsFor(log, 'tools/list').length >= 2, 'tools/list fetched again');
    });

    test('elicitation: input_required becomes elicitation/create to the IDE; its answer completes the call', { timeout: 20000 }, async (t) => {
      const elicits = [];
      const h = await legacyIdeVersion(t, srv.url, protocolVersion, {
        capabilities: { elicitation: {} },
        handlers: [[ElicitRequestSchema, elicitAccept(elicits)]],
      });
      const r = await h.client.callTool({ name: 'confirm_delete', arguments: { path: '/srv/db' } }, undefined, T);
      assert.equal(resultText(r), 'deleted /srv/db');
      assert.equal(elicits.length, 1);
      assert.match(elicits[0].message, /Delete \/srv\/db\?/);
      assert.equal(elicits[0].requestedSchema.properties.confirm.type, 'boolean');
      const log = await srv.log();
      const rounds = requestsFor(log, 'tools/call', 'confirm_delete');
      assert.equal(rounds.length, 2, 'original request + one retry');
      assert.notEqual(rounds[0].id, rounds[1].id, 'the retry has a new JSON-RPC id');
      assert.deepEqual(rounds[1].inputResponseKeys, ['confirm']);
      assert.ok(rounds[0].meta.clientCapabilities?.elicitation, 'elicitation declared upstream');
      assert.deepEqual(log.events.filter((e) => e.type === 'requestState').map((e) => e.ok), [true], 'requestState echoed byte-exact');
    });

    test('elicitation declined by the IDE: the call completes with the server\'s answer to the decline', { timeout: 20000 }, async (t) => {
      const h = await legacyIdeVersion(t, srv.url, protocolVersion, {
        capabilities: { elicitation: {} },
        handlers: [[ElicitRequestSchema, async () => ({ action: 'decline' })]],
      });
      const r = await h.client.callTool({ name: 'confirm_delete', arguments: { path: '/keep' } }, undefined, T);
      assert.equal(resultText(r), 'kept /keep');
    });

    test('an IDE without the elicitation capability gets the server\'s -32021 as an error', { timeout: 20000 }, async (t) => {
      const h = await legacyIdeVersion(t, srv.url, protocolVersion);
      await assert.rejects(h.client.callTool({ name: 'confirm_delete', arguments: { path: '/x' } }, undefined, T),
        (e) => e instanceof McpError && e.code === -32021, 'MissingRequiredClientCapability relayed');
      const call = requestsFor(await srv.log(), 'tools/call', 'confirm_delete')[0];
      assert.equal(call.meta.clientCapabilities?.elicitation, undefined, 'no elicitation capability claimed upstream');
    });

    test('sampling and roots via input_required', { timeout: 20000 }, async (t) => {
      const samples = [];
      let rootsAsked = 0;
      const h = await legacyIdeVersion(t, srv.url, protocolVersion, {
        capabilities: { sampling: {}, roots: { listChanged: true } },
        handlers: [
          [CreateMessageRequestSchema, samplingAnswer(samples)],
          [ListRootsRequestSchema, async () => { rootsAsked++; return { roots: ROOTS }; }],
        ],
      });
      assert.equal(resultText(await h.client.callTool({ name: 'sample', arguments: { prompt: 'haiku' } }, undefined, T)),
        'ide-model: sampled by the IDE');
      assert.equal(samples.length, 1);
      assert.equal(samples[0].messages[0].content.text, 'haiku');
      assert.equal(resultText(await h.client.callTool({ name: 'roots', arguments: {} }, undefined, T)), 'file:///work/project');
      assert.equal(rootsAsked, 1);
    });

    test('progress and log notifications are delivered; logging/setLevel becomes the per-request logLevel', { timeout: 20000 }, async (t) => {
      const logs = [];
      const h = await legacyIdeVersion(t, srv.url, protocolVersion, {
        notificationHandlers: [[LoggingMessageNotificationSchema, (n) => logs.push(n.params)]],
      });
      await h.client.setLoggingLevel('info', T);
      const progress = [];
      const r = await h.client.callTool({ name: 'long_task', arguments: { steps: 3, delayMs: 80 } }, undefined,
        { ...T, onprogress: (p) => progress.push(p) });
      assert.equal(resultText(r), 'completed 3 steps');
      assert.deepEqual(progress.map((p) => p.progress), [1, 2, 3]);
      await waitUntil(() => logs.length >= 3, 2000, 'three log notifications');
      assert.deepEqual(logs.map((l) => l.level), ['info', 'info', 'info'], 'debug filtered out');
      const call = requestsFor(await srv.log(), 'tools/call', 'long_task').at(-1);
      assert.equal(call.meta.logLevel, 'info');
      assert.ok(call.metaKeys.includes('progressToken'));
    });

    test('cancellation closes the upstream stream; the server sees it', { timeout: 20000 }, async (t) => {
      const h = await legacyIdeVersion(t, srv.url, protocolVersion);
      const ac = new AbortController();
      const p = h.client.callTool({ name: 'long_task', arguments: { steps: 100, delayMs: 100 } }, undefined,
        { timeout: 15000, signal: ac.signal });
      await waitUntil(async () => requestsFor(await srv.log(), 'tools/call', 'long_task').length, 5000, 'long_task upstream');
      await sleep(300);
      ac.abort('user cancelled');
      await assert.rejects(p);
      const log = await waitUntil(async () => {
        const l = await srv.log();
        return l.events.some((e) => e.type === 'aborted') ? l : null;
      }, 5000, 'the server handler aborted');
      assert.ok(log.events.some((e) => e.type === 'stream-closed' && e.method === 'tools/call'));
      // The bridge still works afterwards.
      assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'after' } }, undefined, T)), 'after');
    });

    test('ping and logging/setLevel are answered by the bridge (neither exists upstream)', { timeout: 20000 }, async (t) => {
      const h = await legacyIdeVersion(t, srv.url, protocolVersion);
      await h.client.ping(T);
      await h.client.setLoggingLevel('warning', T);
      const log = await srv.log();
      assert.deepEqual(log.requests.filter((r) => ['ping', 'logging/setLevel'].includes(r.method)), []);
    });

    test('resources and prompts; resources/read of a missing URI is an error', { timeout: 20000 }, async (t) => {
      const h = await legacyIdeVersion(t, srv.url, protocolVersion);
      const list = (await h.client.listResources(undefined, T)).resources.map((r) => r.uri).sort();
      assert.ok(list.includes('test://info') && list.includes('test://items/1'), JSON.stringify(list));
      const tpl = (await h.client.listResourceTemplates(undefined, T)).resourceTemplates.map((r) => r.uriTemplate);
      assert.deepEqual(tpl, ['test://items/{id}']);
      const info = await h.client.readResource({ uri: 'test://items/7' }, T);
      assert.equal(info.contents[0].text, 'item 7');
      const pr = await h.client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } }, T);
      assert.equal(pr.messages[0].content.text, 'Hello, Ada!');
      await assert.rejects(h.client.readResource({ uri: 'test://missing' }, T),
        (e) => e instanceof McpError && [-32602, -32002].includes(e.code), 'not found → -32602 (or -32002)');
      const read = requestsFor(await srv.log(), 'resources/read', 'test://items/7')[0];
      assert.equal(read.headers['mcp-name'], 'test://items/7');
    });

    test('resources/subscribe + touch → notifications/resources/updated; tools list_changed', { timeout: 20000 }, async (t) => {
      const updates = [];
      let changed = 0;
      const h = await legacyIdeVersion(t, srv.url, protocolVersion, {
        notificationHandlers: [
          [ResourceUpdatedNotificationSchema, (n) => updates.push(n.params)],
          [ToolListChangedNotificationSchema, () => { changed++; }],
        ],
      });
      await h.client.subscribeResource({ uri: 'test://info' }, T);
      await waitUntil(async () => requestsFor(await srv.log(), 'subscriptions/listen')
        .some((r) => (r.notifications?.resourceSubscriptions ?? []).includes('test://info')), 5000,
      'subscriptions/listen with test://info upstream');
      await h.client.callTool({ name: 'touch', arguments: {} }, undefined, T);
      await waitUntil(() => updates.length >= 1 && changed >= 1, 5000, 'resources/updated and tools/list_changed');
      assert.equal(updates[0].uri, 'test://info');
      assert.equal(updates[0]._meta?.['io.modelcontextprotocol/subscriptionId'], undefined, 'subscriptionId stripped');
      const tools = (await h.client.listTools(undefined, T)).tools.map((x) => x.name);
      assert.ok(tools.includes('dynamic'), 'the changed list is fetched fresh');
      await h.client.unsubscribeResource({ uri: 'test://info' }, T);
    });
  });
}

async function legacyIdeVersion(t, url, protocolVersion, opts = {}) {
  const h = await connectBridge({ url, ...opts, initVersion: protocolVersion, clientInfo: { name: 'era-legacy-ide', version: '1.0.0' } });
  const transport = h.transport;
  closeAndCheck(t, h);
  const sent = transport.stdoutLines.map((l) => { try { return JSON.parse(l); } catch { return null; } })
    .find((m) => m && m.result && m.result.protocolVersion);
  assert.equal(sent?.result.protocolVersion, protocolVersion, 'the bridge answered initialize with the IDE\'s version');
  return h;
}

// ============================================================ modern IDE -> legacy servers

describe('modern IDE (2026-07-28) -> legacy Streamable HTTP server (hosted-server.mjs)', () => {
  let hosted;
  before(async () => { hosted = await startHosted(); });
  beforeEach(async () => { await hosted.reset(); });
  after(async () => { await hosted?.stop(); });

  test('server/discover answered from the upstream initialize; tools listed and called', { timeout: 20000 }, async (t) => {
    const h = await modernIde(t, hosted.url);
    assert.equal(h.client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(h.client.getServerVersion().name, 'hosted-test-server');
    assert.ok(h.client.getServerCapabilities().tools);
    assert.match(h.client.getInstructions() ?? '', /Test server for mcp-bridge/);
    const tools = (await h.client.listTools()).tools.map((x) => x.name);
    for (const n of ['echo', 'add', 'overwrite_table', 'long_task']) assert.ok(tools.includes(n), n);
    assert.equal(v2text(await h.client.callTool({ name: 'echo', arguments: { text: 'modern → legacy' } })), 'modern → legacy');
    assert.equal(v2text(await h.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })), '3');
    const st = await hosted.state();
    assert.ok(st.initializeRequests.length >= 1, 'the bridge initialized upstream');
    // The era probe (spec: a modern request first) is the only server/discover.
    assert.ok(st.methods.filter((m) => m === 'server/discover').length <= 1, 'one era probe at most');
  });

  test('elicitation/create from the server becomes input_required; the v2 client fulfils it and the call completes', { timeout: 20000 }, async (t) => {
    const elicits = [];
    const h = await modernIde(t, hosted.url, {
      capabilities: { elicitation: { form: {} } },
      handlers: { 'elicitation/create': elicitAccept(elicits) },
    });
    const r = await h.client.callTool({ name: 'overwrite_table', arguments: { table: 'users' } });
    assert.equal(v2text(r), 'overwrote users');
    assert.equal(elicits.length, 1);
    assert.match(elicits[0].message, /Overwrite table "users"/);
    const st = await hosted.state();
    assert.equal(st.elicitations.length, 1);
    assert.equal(st.elicitations[0].action, 'accept');
    assert.equal(st.toolCalls.filter((c) => c.name === 'overwrite_table').length, 1, 'one upstream call for both IDE rounds');
  });

  test('sampling and roots from the server become input_required too', { timeout: 20000 }, async (t) => {
    const h = await modernIde(t, hosted.url, {
      capabilities: { sampling: {}, roots: {} },
      handlers: { 'sampling/createMessage': samplingAnswer([]), 'roots/list': async () => ({ roots: ROOTS }) },
    });
    assert.equal(v2text(await h.client.callTool({ name: 'sample', arguments: { prompt: 'x' } })), 'sampled by the IDE');
    assert.equal(v2text(await h.client.callTool({ name: 'roots', arguments: {} })), 'file:///work/project');
  });

  test('progress flows on the request; errors are mapped', { timeout: 20000 }, async (t) => {
    const h = await modernIde(t, hosted.url);
    const progress = [];
    const r = await h.client.callTool({ name: 'long_task', arguments: { steps: 3, delayMs: 60 } },
      { onprogress: (p) => progress.push(p.progress) });
    assert.equal(v2text(r), 'completed 3 steps');
    assert.deepEqual(progress, [1, 2, 3]);
    const fail = await h.client.callTool({ name: 'fail', arguments: {} });
    assert.equal(fail.isError, true);
    // SDK v1 servers answer an unknown tool with an isError result.
    const unknown = await h.client.callTool({ name: 'no_such_tool', arguments: {} });
    assert.equal(unknown.isError, true);
    assert.match(v2text(unknown), /not found/);
    await assert.rejects(h.client.readResource({ uri: 'test://nope' }), (e) => e.code === -32602,
      'resource not found is -32602 for a modern IDE');
    await assert.rejects(h.client.request({ method: 'no/such/method', params: {} }, fromJsonSchemaV2({ type: 'object' })),
      (e) => e.code === -32601);
  });

  test('resources, templates and prompts carry resultType/ttlMs/cacheScope (the v2 client requires them)', { timeout: 20000 }, async (t) => {
    const h = await modernIde(t, hosted.url);
    const res = (await h.client.listResources()).resources.map((r) => r.uri);
    assert.ok(res.includes('test://info'), JSON.stringify(res));
    const tpl = (await h.client.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate);
    assert.deepEqual(tpl, ['test://items/{id}']);
    const read = await h.client.readResource({ uri: 'test://items/3' });
    assert.equal(read.contents[0].text, 'item 3');
    assert.equal(typeof read.ttlMs, 'number');
    const prompts = (await h.client.listPrompts()).prompts.map((x) => x.name);
    assert.ok(prompts.includes('greet'));
    const pr = await h.client.getPrompt({ name: 'greet', arguments: { name: 'Lin' } });
    assert.equal(pr.messages[0].content.text, 'Hello, Lin!');
  });

  test('cancellation: aborting the call reaches the legacy server as notifications/cancelled', { timeout: 20000 }, async (t) => {
    const h = await modernIde(t, hosted.url);
    const ac = new AbortController();
    const p = h.client.callTool({ name: 'slow', arguments: { ms: 10000 } }, { signal: ac.signal });
    await waitUntil(async () => (await hosted.state()).toolCalls.some((c) => c.name === 'slow'), 5000, 'slow upstream');
    await sleep(200);
    ac.abort('user cancelled');
    await assert.rejects(p);
    await waitUntil(async () => (await hosted.state()).aborted.some((a) => a.tool === 'slow'), 5000,
      'the hosted server aborted slow');
  });

  test('subscriptions/listen: a tools list_changed from the legacy server reaches the listener', { timeout: 20000 }, async (t) => {
    const changed = [];
    const h = await modernIde(t, hosted.url, {
      notifications: { 'notifications/tools/list_changed': (n) => changed.push(n.params) },
    });
    const sub = await h.client.listen({ toolsListChanged: true });
    assert.equal(sub.honoredFilter.toolsListChanged, true);
    await h.client.callTool({ name: 'toggle_dynamic', arguments: {} });
    await waitUntil(() => changed.length, 5000, 'tools/list_changed on the listen stream');
    const tools = (await h.client.listTools({}, { cacheMode: 'refresh' })).tools.map((x) => x.name);
    assert.ok(tools.includes('dynamic'));
    await sub.close();
  });

  test('era probing (versionNegotiation auto, probe in place) through the bridge ends up modern', { timeout: 25000 }, async (t) => {
    const h = await modernIde(t, hosted.url, { negotiation: 'auto' });
    assert.equal(h.client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(v2text(await h.client.callTool({ name: 'echo', arguments: { text: 'probed' } })), 'probed');
  });

  test('era probing on a sibling process: the session bridge\'s first message is a modern tools/call', { timeout: 25000 }, async (t) => {
    const h = await modernIde(t, hosted.url, { negotiation: 'auto', sibling: true });
    assert.equal(h.client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(v2text(await h.client.callTool({ name: 'echo', arguments: { text: 'no discover here' } })), 'no discover here');
  });
});

describe('modern IDE (2026-07-28) -> legacy HTTP+SSE server (legacy-server.mjs)', () => {
  let sse;
  before(async () => { sse = await startLegacySse(); });
  beforeEach(async () => { await sse.control('reset-state'); });
  after(async () => { await sse?.stop(); });

  test('discover, tools/list, tools/call', { timeout: 20000 }, async (t) => {
    const h = await modernIde(t, sse.url);
    assert.equal(h.client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(h.client.getServerVersion().name, 'legacy-test-server');
    const tools = (await h.client.listTools()).tools.map((x) => x.name).sort();
    assert.deepEqual(tools, ['add', 'confirm', 'echo', 'long_task', 'slow']);
    assert.equal(v2text(await h.client.callTool({ name: 'echo', arguments: { text: 'via sse' } })), 'via sse');
  });

  test('elicitation round trip as input_required', { timeout: 20000 }, async (t) => {
    const elicits = [];
    const h = await modernIde(t, sse.url, {
      capabilities: { elicitation: { form: {} } },
      handlers: { 'elicitation/create': elicitAccept(elicits) },
    });
    assert.equal(v2text(await h.client.callTool({ name: 'confirm', arguments: { action: 'deploy' } })), 'did deploy');
    assert.equal(elicits.length, 1);
    assert.match(elicits[0].message, /Do "deploy"\?/);
  });

  test('errors are mapped', { timeout: 20000 }, async (t) => {
    const h = await modernIde(t, sse.url);
    const unknown = await h.client.callTool({ name: 'no_such_tool', arguments: {} });
    assert.equal(unknown.isError, true);
    await assert.rejects(h.client.request({ method: 'no/such/method', params: {} }, fromJsonSchemaV2({ type: 'object' })),
      (e) => e.code === -32601);
  });
});

// ============================================================ modern IDE -> modern server

describe('modern IDE (2026-07-28) -> modern server (near pass-through)', () => {
  let srv;
  before(async () => { srv = await startModern(); });
  beforeEach(async () => { await srv.reset(); });
  after(async () => { await srv?.stop(); });

  test('discover, tools/list, tools/call with Mcp-* headers added by the bridge', { timeout: 20000 }, async (t) => {
    const h = await modernIde(t, srv.url);
    assert.equal(h.client.getServerVersion().name, 'modern-test-server');
    const tools = (await h.client.listTools()).tools.map((x) => x.name).sort();
    assert.deepEqual(tools, MODERN_TOOLS);
    assert.equal(v2text(await h.client.callTool({ name: 'regional_echo', arguments: { region: 'ap-south', text: 'x' } })), 'ap-south: x');
    const call = requestsFor(await srv.log(), 'tools/call', 'regional_echo')[0];
    assert.equal(call.headers['mcp-method'], 'tools/call');
    assert.equal(call.headers['mcp-name'], 'regional_echo');
    assert.equal(call.headers['mcp-param-region'], 'ap-south');
    assert.equal(call.meta.clientInfo?.name, 'era-modern-ide', 'the IDE\'s _meta passes through');
  });

  test('raw stdio: discover answer, the bridge itself drops the invalid x-mcp-header tool, unknown version → -32022', { timeout: 20000 }, async () => {
    const b = rawBridge(srv.url);
    try {
      const env = envelope({ 'io.modelcontextprotocol/clientInfo': { name: 'raw-modern-ide', version: '1' } });
      const d = await b.request({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: env } }, { timeout: 10000 });
      assert.ok(d.result, JSON.stringify(d));
      assert.ok(d.result.supportedVersions.includes(MODERN));
      assert.equal(d.result.resultType, 'complete');
      assert.equal(typeof d.result.ttlMs, 'number');
      assert.ok(['public', 'private'].includes(d.result.cacheScope));
      assert.equal(d.result._meta?.['io.modelcontextprotocol/serverInfo']?.name, 'modern-test-server');
      const l = await b.request({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: env } }, { timeout: 10000 });
      assert.deepEqual(l.result.tools.map((x) => x.name).sort(), MODERN_TOOLS);
      assert.equal(l.result.resultType, 'complete');
      const bad = await b.request({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: { ...env, [PV]: '2099-01-01' } } },
        { timeout: 10000 });
      assert.equal(bad.error?.code, -32022, JSON.stringify(bad));
      assert.ok(bad.error.data.supported.includes(MODERN));
    } finally {
      await b.dispose();
    }
  });

  test('input_required passes through end to end (requestState intact)', { timeout: 20000 }, async (t) => {
    const elicits = [];
    const h = await modernIde(t, srv.url, {
      capabilities: { elicitation: { form: {} } },
      handlers: { 'elicitation/create': elicitAccept(elicits) },
    });
    assert.equal(v2text(await h.client.callTool({ name: 'confirm_delete', arguments: { path: '/m' } })), 'deleted /m');
    assert.equal(elicits.length, 1);
    const log = await srv.log();
    assert.deepEqual(log.events.filter((e) => e.type === 'requestState').map((e) => e.ok), [true]);
  });

  test('progress, per-request logLevel and cancellation pass through', { timeout: 20000 }, async (t) => {
    const logs = [];
    const h = await modernIde(t, srv.url, {
      notifications: { 'notifications/message': (n) => logs.push(n.params) },
    });
    const progress = [];
    const r = await h.client.callTool({ name: 'long_task', arguments: { steps: 2, delayMs: 60 }, _meta: { [LOGLEVEL]: 'info' } },
      { onprogress: (p) => progress.push(p.progress) });
    assert.equal(v2text(r), 'completed 2 steps');
    assert.deepEqual(progress, [1, 2]);
    await waitUntil(() => logs.length >= 2, 2000, 'log notifications');
    assert.deepEqual(logs.map((l) => l.level), ['info', 'info']);
    const call = requestsFor(await srv.log(), 'tools/call', 'long_task').at(-1);
    assert.equal(call.meta.logLevel, 'info');
    const ac = new AbortController();
    const p = h.client.callTool({ name: 'long_task', arguments: { steps: 100, delayMs: 100 } }, { signal: ac.signal });
    await sleep(400);
    ac.abort('user cancelled');
    await assert.rejects(p);
    await waitUntil(async () => (await srv.log()).events.some((e) => e.type === 'aborted'), 5000, 'the server handler aborted');
  });

  test('subscriptions/listen relayed: touch → list_changed and resources/updated', { timeout: 20000 }, async (t) => {
    const updates = [];
    const changed = [];
    const h = await modernIde(t, srv.url, {
      notifications: {
        'notifications/resources/updated': (n) => updates.push(n.params),
        'notifications/tools/list_changed': (n) => changed.push(n.params),
      },
    });
    const sub = await h.client.listen({ toolsListChanged: true, resourceSubscriptions: ['test://info'] });
    assert.equal(sub.honoredFilter.toolsListChanged, true);
    await h.client.callTool({ name: 'touch', arguments: {} });
    await waitUntil(() => updates.length && changed.length, 5000, 'listen notifications through the bridge');
    assert.equal(updates[0].uri, 'test://info');
    await sub.close();
  });
});

// ============================================================ legacy IDE -> dual-era server

describe('legacy IDE -> dual-era server (--dual-era)', () => {
  let srv;
  before(async () => { srv = await startModern({ dualEra: true }); });
  after(async () => { await srv?.stop(); });

  test('the bridge prefers the modern era upstream when the server speaks both', { timeout: 20000 }, async (t) => {
    const h = await legacyIdeVersion(t, srv.url, '2025-11-25');
    assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'dual' } }, undefined, T)), 'dual');
    const log = await srv.log();
    assert.ok(requestsFor(log, 'server/discover').length >= 1, 'server/discover sent');
    assert.equal(requestsFor(log, 'tools/call', 'echo')[0].meta.protocolVersion, MODERN);
  });
});

// ============================================================ legacy IDE -> HTTP+SSE server

describe('legacy IDE -> legacy HTTP+SSE server', () => {
  let sse;
  before(async () => { sse = await startLegacySse(); });
  after(async () => { await sse?.stop(); });

  test('elicitation round trip', { timeout: 20000 }, async (t) => {
    const elicits = [];
    const h = await legacyIdeVersion(t, sse.url, '2025-11-25', {
      capabilities: { elicitation: {} },
      handlers: [[ElicitRequestSchema, elicitAccept(elicits)]],
    });
    assert.equal(resultText(await h.client.callTool({ name: 'confirm', arguments: { action: 'ship' } }, undefined, T)), 'did ship');
    assert.equal(elicits.length, 1);
  });
});


// Aggregation (one stdio entry, several servers) where the servers are of
// different eras: a modern-only one and a legacy Streamable HTTP one.
describe('aggregation across eras: a modern-only and a legacy server behind one entry', () => {
  let modern;
  let legacy;
  let env;
  let cfg;
  before(async () => {
    modern = await startModern();
    legacy = await startHosted({});
    env = userEnv(null);
    cfg = path.join(env.dir, 'bridge.json');
    fs.writeFileSync(cfg, JSON.stringify({ servers: [
      { name: 'com.example.mcp/modern', url: modern.url },
      { name: 'com.example.mcp/legacy', url: legacy.url },
    ] }));
  });
  after(async () => {
    await modern?.stop?.();
    await legacy?.stop?.();
  });

  test('legacy IDE: the tools of both servers, an elicitation round trip with the modern one', { timeout: 30000 }, async (t) => {
    const elicits = [];
    const h = await connectBridge({
      url: null, args: ['--config', cfg], env,
      capabilities: { elicitation: {} },
      handlers: [[types.ElicitRequestSchema, async (req) => { elicits.push(req.params); return { action: 'accept', content: { confirm: true } }; }]],
    });
    closeAndCheck(t, h);
    let names = [];
    await waitUntil(async () => {
      names = (await h.client.listTools(undefined, T)).tools.map((x) => x.name);
      return names.includes('modern__confirm_delete') && names.includes('legacy__echo');
    }, 10000, 'both servers listed');
    assert.ok(!names.includes('modern__bad_header'), 'the invalid x-mcp-header tool is left out');
    const r = await h.client.callTool({ name: 'modern__confirm_delete', arguments: { path: '/tmp/x' } }, undefined, T);
    assert.equal(resultText(r), 'deleted /tmp/x');
    assert.equal(elicits.length, 1);
    const e = await h.client.callTool({ name: 'legacy__echo', arguments: { text: 'old' } }, undefined, T);
    assert.equal(resultText(e), 'old');
  });

  test('modern IDE: discover, the tools of both servers, input_required from the modern one', { timeout: 30000 }, async (t) => {
    const elicits = [];
    const h = await modernIde(t, null, {
      args: ['--config', cfg], env,
      capabilities: { elicitation: { form: {} } },
      handlers: { 'elicitation/create': elicitAccept(elicits) },
    });
    let names = [];
    await waitUntil(async () => {
      names = (await h.client.listTools()).tools.map((x) => x.name);
      return names.includes('modern__confirm_delete') && names.includes('legacy__echo');
    }, 10000, 'both servers listed');
    const r = await h.client.callTool({ name: 'modern__confirm_delete', arguments: { path: '/tmp/y' } });
    assert.equal(v2text(r), 'deleted /tmp/y');
    assert.equal(elicits.length, 1);
    assert.equal(v2text(await h.client.callTool({ name: 'legacy__echo', arguments: { text: 'old' } })), 'old');
  });
});
