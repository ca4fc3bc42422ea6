#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// hosted-server.mjs: a hosted MCP test server for mcp-bridge's tests.
//
// Built on the official TypeScript SDK (McpServer + StreamableHTTPServerTransport
// on node:http): stateful sessions, one transport and one McpServer per session,
// an event store per session so SSE streams can be resumed with Last-Event-ID.
//
//   node hosted-server.mjs --port N [--host 127.0.0.1] [--json] [--retry-ms MS]
//                          [--tls-cert FILE --tls-key FILE [--h2]] [--verbose]
//                          [--name NAME] [--extra-tools N]
//
// --json         enableJsonResponse (plain JSON answers instead of SSE streams)
// --retry-ms MS  the `retry` sent in SSE priming events (default 100)
// --tls-*        serve HTTPS with this certificate and key instead of HTTP
// --auth-issuer URL   require a JWT access token signed by that issuer (JWKS via
//                     discovery; ES256/RS256; iss and exp checked, no leeway); 401 with
//                     WWW-Authenticate: Bearer error="invalid_token" otherwise
// --auth-audience AUD the token's aud must contain AUD
// --name NAME    tell this server apart from others (for aggregation tests): serverInfo
//                name/title and instructions carry NAME, and it also offers a tool
//                `whoami` (returns NAME), a tool `only_NAME`, a prompt `about_NAME`, a
//                resource `test://NAME/info` and a template `test://NAME/notes/{id}`;
//                NAME is [A-Za-z0-9_-]. Without --name none of these exist.
// --extra-tools N     N more tools `bulk_0`..`bulk_<N-1>` (return their own name)
//
// Prints "READY <port>" on stdout once listening (--port 0 picks a free port).
// MCP endpoint: /mcp. Control endpoints (plain JSON, GET or POST) under /control/:
//   expire-sessions                       close every session (old ids then get 404)
//   fail-next?status=503&count=1[&method=tools/call][&http=POST]
//                                         next N MCP requests (default: POSTs) get that status;
//                                         method= matches a JSON-RPC method in the body
//   delay-next?ms=500&count=1[&method=...][&http=POST|GET|DELETE]
//                                         next N MCP requests are delayed before handling
//   truncate-next?count=1[&mode=destroy|end]          next N POSTs carrying a request get an
//                                         SSE stream cut before any event id or response
//   garbage-next?count=1                  next N POSTs carrying a request get HTTP 200 with an
//                                         HTML body (what a misconfigured proxy sends)
//   notify?text=...                       log message on every session's standalone stream
//   close-standalone                      close every session's standalone GET stream
//   reject-token                          the last bearer token seen is refused from now on (401)
//   state                                 counters and what the server saw (JSON)
//   reset-state                           zero the counters, drop pending faults
// Exits 0 on SIGTERM/SIGINT.

import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { createPublicKey, randomUUID, verify as cryptoVerify } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1', json: false, retryMs: 100, verbose: false, tlsCert: null, tlsKey: null, h2: false,
    authIssuer: null, authAudience: null, name: null, extraTools: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') o.port = Number(next());
    else if (a === '--host') o.host = next();
    else if (a === '--json') o.json = true;
    else if (a === '--retry-ms') o.retryMs = Number(next());
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--tls-cert') o.tlsCert = next();
    else if (a === '--h2') o.h2 = true;
    else if (a === '--tls-key') o.tlsKey = next();
    else if (a === '--auth-issuer') o.authIssuer = next();
    else if (a === '--auth-audience') o.authAudience = next();
    else if (a === '--name') o.name = next();
    else if (a === '--extra-tools') o.extraTools = Number(next());
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('bad --port');
  if (!Number.isInteger(o.retryMs) || o.retryMs < 0) usage('bad --retry-ms');
  if (o.name !== null && !/^[A-Za-z0-9_-]{1,40}$/.test(o.name)) usage('bad --name (expected [A-Za-z0-9_-]{1,40})');
  if (!Number.isInteger(o.extraTools) || o.extraTools < 0 || o.extraTools > 5000) usage('bad --extra-tools');
  if (!o.tlsCert !== !o.tlsKey) usage('--tls-cert and --tls-key go together');
  if (o.h2 && !o.tlsCert) usage('--h2 needs --tls-cert and --tls-key (HTTP/2 over TLS, with HTTP/1.1 allowed)');
  return o;
}

function usage(msg) {
  process.stderr.write(`hosted-server: ${msg}\nusage: node hosted-server.mjs --port N [--host H] [--json] [--retry-ms MS] [--verbose] [--name NAME] [--extra-tools N]\n`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const vlog = (...a) => { if (opts.verbose) process.stderr.write(`[hosted] ${a.join(' ')}\n`); };

// ---------------------------------------------------------------- state

const MAX_LIST = 2000; // cap on every recorded list

function freshState() {
  return {
    posts: 0,
    gets: 0,
    deletes: 0,
    otherMethods: 0,
    getsWithLastEventId: 0,
    lastEventIds: [],
    sessionsCreated: 0,
    sessionsDeleted: 0,  // by an HTTP DELETE from the client
    sessionsExpired: 0,  // by /control/expire-sessions
    notFound404: 0,      // requests answered 404 for an unknown session id
    headerNames: new Set(),
    authorizationSeen: false,
    lastAuthorization: null,
    authorizations: [],  // [{method, value}] one per MCP HTTP request (value null if absent)
    customHeaders: {},   // last value of every x-* request header
    cancellations: [],   // params of every notifications/cancelled received
    aborted: [],         // tool handlers that saw their abort signal fire
    lastProtocolVersion: null,
    protocolVersions: new Set(),
    httpVersions: new Set(),  // HTTP versions of the MCP requests ('1.1', '2.0')
    initializeRequests: [], // params of every initialize request
    methods: [],         // JSON-RPC methods received, in order
    toolCalls: [],       // [{name, arguments, sessionId}] every tools/call received
    clientResponses: 0,  // JSON-RPC responses posted by the client (answers to server requests)
    elicitations: [],    // elicitation results the server got back
    drops: [],           // drop_stream calls: {requestId, how}
    injectedFailures: 0,
    injectedDelays: 0,
    injectedTruncations: 0,
    injectedGarbage: 0,
    requestLog: [],      // [{method, sessionId, rpc:[methods or 'response'], status?}]
    authAccepted: 0,     // --auth-issuer: requests whose token verified
    authRejected: 0,     // --auth-issuer: requests answered 401
    authReasons: [],     // why each 401 was sent
    audiences: [],       // aud of each accepted token
  };
}

let state = freshState();
let faults = { fail: [], delay: [], truncate: [], garbage: [] };

function push(list, v) {
  if (list.length < MAX_LIST) list.push(v);
}

function stateJson() {
  return {
    ...state,
    headerNames: [...state.headerNames].sort(),
    protocolVersions: [...state.protocolVersions],
    httpVersions: [...state.httpVersions],
    activeSessions: sessions.size,
    sessionIds: [...sessions.keys()],
    pendingFaults: {
      fail: faults.fail.reduce((n, f) => n + f.count, 0),
      delay: faults.delay.reduce((n, f) => n + f.count, 0),
      truncate: faults.truncate.reduce((n, f) => n + f.count, 0),
      garbage: faults.garbage.reduce((n, f) => n + f.count, 0),
    },
  };
}

// ---------------------------------------------------------------- event store

/**
 * Event store for resumability: ids are "<streamId>|<seq>", replay sends the
 * events of the same stream stored after the given id. Priming events (stored
 * with an empty message) are never replayed.
 */
class EventStore {
  constructor() {
    this.seq = 0;
    this.events = [];
    this.byId = new Map();
  }

  async storeEvent(streamId, message) {
    const seq = ++this.seq;
    const id = `${streamId}|${seq}`;
    const ev = { id, seq, streamId, message };
    this.events.push(ev);
    this.byId.set(id, ev);
    return id;
  }

  async getStreamIdForEventId(eventId) {
    return this.byId.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId, { send }) {
    const last = this.byId.get(lastEventId);
    if (!last) throw new Error(`unknown event id ${lastEventId}`);
    for (const ev of this.events) {
      if (ev.streamId !== last.streamId || ev.seq <= last.seq) continue;
      if (!ev.message || ev.message.jsonrpc !== '2.0') continue; // priming event
      await send(ev.id, ev.message);
    }
    return last.streamId;
  }
}

// ---------------------------------------------------------------- MCP server

const sessions = new Map(); // session id -> { transport, mcp }

const text = (t) => ({ content: [{ type: 'text', text: t }] });

/** Sleeps `ms`; resolves true if `signal` aborted first. */
function sleepAbortable(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(true);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(true);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function recordAbort(tool, extra, startedAt) {
  push(state.aborted, {
    tool,
    requestId: extra.requestId,
    reason: extra.signal.reason === undefined ? null : String(extra.signal.reason),
    afterMs: Date.now() - startedAt,
  });
}

// In JSON response mode (--json) the SDK transport silently drops every message
// tied to a request except its response (there is no stream to carry it), so
// there server->client requests and notifications go on the standalone GET
// stream instead.
function related(extra, more = {}) {
  return opts.json ? { ...more } : { relatedRequestId: extra.requestId, ...more };
}

async function notifyFor(mcp, extra, notification) {
  if (opts.json) return mcp.server.notification(notification);
  return extra.sendNotification(notification);
}

function buildServer(entry) {
  const mcp = new McpServer(
    opts.name
      ? { name: `hosted-test-server-${opts.name}`, title: `Hosted ${opts.name}`, version: '1.0.0' }
      : { name: 'hosted-test-server', title: 'mcp-bridge hosted test server', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { listChanged: true },
        logging: {},
      },
      instructions: `${opts.name ? `Server ${opts.name}. ` : ''}Test server for mcp-bridge. Tools: echo, add, overwrite_table, long_task, slow, sample, roots, ping_client, fail, drop_stream, big, toggle_dynamic.`,
    },
  );

  mcp.registerTool('echo', {
    description: 'Returns its text argument unchanged',
    inputSchema: { text: z.string() },
  }, async ({ text: t }) => text(t));

  mcp.registerTool('add', {
    description: 'Adds two numbers',
    inputSchema: { a: z.number(), b: z.number() },
  }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));

  mcp.registerTool('overwrite_table', {
    description: 'Overwrites a table after asking the user for confirmation (elicitation)',
    inputSchema: { table: z.string() },
    annotations: { destructiveHint: true },
  }, async ({ table }, extra) => {
    let r;
    try {
      r = await mcp.server.elicitInput({
        message: `Overwrite table "${table}"? All of its rows will be replaced.`,
        requestedSchema: {
          type: 'object',
          properties: {
            confirm: { type: 'boolean', title: 'Confirm', description: `Overwrite ${table}` },
          },
          required: ['confirm'],
        },
      }, related(extra, { timeout: 60000 }));
    } catch (e) {
      return { content: [{ type: 'text', text: `elicitation failed: ${e.message}` }], isError: true };
    }
    push(state.elicitations, { table, action: r.action, content: r.content ?? null });
    if (r.action === 'accept' && r.content?.confirm === true) return text(`overwrote ${table}`);
    return text('cancelled');
  });

  mcp.registerTool('long_task', {
    // Progress i is sent as step i starts, so the last one is delayMs ahead of the
    // result: the SDK client dispatches notifications a microtask late and drops
    // a progress that arrives in the same read as its response.
    description: 'Runs `steps` steps of `delayMs` each, reporting progress as each step starts',
    inputSchema: { steps: z.number().int().min(1).max(1000).default(3), delayMs: z.number().int().min(0).default(100) },
  }, async ({ steps, delayMs }, extra) => {
    const started = Date.now();
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) {
        await notifyFor(mcp, extra, {
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: steps, message: `step ${i}/${steps}` },
        });
      }
      if (await sleepAbortable(delayMs, extra.signal)) {
        recordAbort('long_task', extra, started);
        return text('aborted');
      }
    }
    return text(`completed ${steps} steps`);
  });

  mcp.registerTool('slow', {
    description: 'Waits `ms` milliseconds; honours cancellation',
    inputSchema: { ms: z.number().int().min(0) },
  }, async ({ ms }, extra) => {
    const started = Date.now();
    if (await sleepAbortable(ms, extra.signal)) {
      recordAbort('slow', extra, started);
      return text('aborted');
    }
    return text(`slept ${ms}`);
  });

  mcp.registerTool('sample', {
    description: 'Asks the client to sample an LLM (sampling/createMessage) and returns the text',
    inputSchema: { prompt: z.string() },
  }, async ({ prompt }, extra) => {
    const r = await mcp.server.createMessage({
      messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
      maxTokens: 100,
    }, related(extra, { timeout: 60000 }));
    const c = Array.isArray(r.content) ? r.content[0] : r.content;
    return text(c?.type === 'text' ? c.text : JSON.stringify(r.content));
  });

  mcp.registerTool('roots', {
    description: 'Asks the client for its roots (roots/list) and returns the URIs, one a line. ' +
      'standalone=true sends the request on the standalone GET stream instead of the call\'s stream.',
    inputSchema: { standalone: z.boolean().optional() },
  }, async ({ standalone }, extra) => {
    const r = await mcp.server.listRoots(undefined,
      standalone ? { timeout: 60000 } : related(extra, { timeout: 60000 }));
    return text(r.roots.map((x) => x.uri).join('\n'));
  });

  mcp.registerTool('ping_client', {
    description: 'Pings the client (server->client ping); standalone=true uses the GET stream',
    inputSchema: { standalone: z.boolean().optional() },
  }, async ({ standalone }, extra) => {
    const started = Date.now();
    await mcp.server.request({ method: 'ping' }, EmptyResultSchema,
      standalone ? { timeout: 60000 } : related(extra, { timeout: 60000 }));
    return text(`pong after ${Date.now() - started} ms`);
  });

  mcp.registerTool('fail', {
    description: 'Always throws (the result has isError: true)',
    inputSchema: {},
  }, async () => {
    throw new Error('intentional failure from the fail tool');
  });

  mcp.registerTool('drop_stream', {
    description: 'Sends a log and a progress notification, closes this request\'s SSE stream, ' +
      'then returns its result after delayMs: the client must resume with GET + Last-Event-ID',
    inputSchema: { delayMs: z.number().int().min(0).default(200) },
  }, async ({ delayMs }, extra) => {
    const token = extra._meta?.progressToken;
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level: 'info', logger: 'hosted-server', data: 'drop_stream: about to drop the stream' },
    });
    if (token !== undefined) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: 1, total: 2 },
      });
    }
    let how = 'none (json mode)';
    if (!opts.json) {
      if (extra.closeSSEStream) {
        extra.closeSSEStream();
        how = 'extra.closeSSEStream';
      } else {
        // The SDK only offers extra.closeSSEStream to clients of 2025-11-25 and
        // later; older ones hold an event id too (the notification above).
        entry.transport.closeSSEStream(extra.requestId);
        how = 'transport.closeSSEStream';
      }
    }
    push(state.drops, { requestId: extra.requestId, how });
    await sleep(delayMs);
    if (token !== undefined) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: 2, total: 2 },
      });
      await sleep(30); // keep the progress out of the response's read (see long_task)
    }
    return text('drop_stream survived');
  });

  mcp.registerTool('big', {
    description: 'Returns a text of exactly `bytes` ASCII characters ("0123456789" repeated)',
    inputSchema: { bytes: z.number().int().min(0).max(64 * 1024 * 1024) },
  }, async ({ bytes }) => {
    const unit = '0123456789';
    return text(unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes));
  });

  const dynamic = mcp.registerTool('dynamic', {
    description: 'Appears and disappears with toggle_dynamic',
    inputSchema: {},
  }, async () => text('dynamic tool called'));
  dynamic.disable();

  mcp.registerTool('toggle_dynamic', {
    description: 'Enables or disables the tool "dynamic" (sends notifications/tools/list_changed ' +
      'on the standalone stream)',
    inputSchema: {},
  }, async () => {
    if (dynamic.enabled) dynamic.disable();
    else dynamic.enable();
    return text(dynamic.enabled ? 'dynamic enabled' : 'dynamic disabled');
  });

  mcp.registerPrompt('greet', {
    title: 'Greeting',
    description: 'Greets someone by name',
    argsSchema: { name: z.string() },
  }, ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${name}!` } }],
  }));

  mcp.registerResource('info', 'test://info', {
    title: 'Info',
    description: 'A static text resource',
    mimeType: 'text/plain',
  }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'hosted-server test resource' }],
  }));

  mcp.registerResource('item', new ResourceTemplate('test://items/{id}', {
    list: async () => ({
      resources: [
        { uri: 'test://items/1', name: 'item 1', mimeType: 'text/plain' },
        { uri: 'test://items/2', name: 'item 2', mimeType: 'text/plain' },
      ],
    }),
  }), {
    title: 'Items',
    description: 'Numbered items',
    mimeType: 'text/plain',
  }, async (uri, { id }) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: `item ${id}` }],
  }));

  if (opts.name) registerNamed(mcp, opts.name);
  for (let i = 0; i < opts.extraTools; i++) {
    mcp.registerTool(`bulk_${i}`, { description: `Bulk tool ${i}`, inputSchema: {} },
      async () => text(`bulk_${i}`));
  }
  return mcp;
}

// --name: what tells this server apart from the others behind one bridge.
function registerNamed(mcp, name) {
  mcp.registerTool('whoami', {
    description: 'Returns the --name of this server',
    inputSchema: {},
  }, async () => text(name));

  mcp.registerTool(`only_${name}`, {
    description: `A tool only server ${name} has`,
    inputSchema: { text: z.string().optional() },
  }, async ({ text: t }) => text(`${name}: ${t ?? ''}`));

  mcp.registerPrompt(`about_${name}`, {
    description: `About server ${name}`,
    argsSchema: {},
  }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: `This is server ${name}.` } }],
  }));

  mcp.registerResource(`info_${name}`, `test://${name}/info`, {
    description: `Server ${name}'s own resource`,
    mimeType: 'text/plain',
  }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: `info of ${name}` }],
  }));

  mcp.registerResource(`notes_${name}`, new ResourceTemplate(`test://${name}/notes/{id}`, { list: undefined }), {
    description: `Server ${name}'s notes`,
    mimeType: 'text/plain',
  }, async (uri, { id }) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: `note ${id} of ${name}` }],
  }));
}

async function newSession() {
  const entry = { transport: null, mcp: null, id: null };
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: opts.json,
    eventStore: new EventStore(),
    retryInterval: opts.retryMs,
    onsessioninitialized: (id) => {
      entry.id = id;
      sessions.set(id, entry);
      state.sessionsCreated++;
      vlog('session', id, 'created');
    },
    onsessionclosed: (id) => {
      state.sessionsDeleted++;
      sessions.delete(id);
      vlog('session', id, 'deleted by client');
    },
  });
  transport.onclose = () => {
    if (entry.id && sessions.get(entry.id) === entry) sessions.delete(entry.id);
  };
  transport.onerror = (e) => vlog('transport error:', e?.message ?? e);
  entry.transport = transport;
  entry.mcp = buildServer(entry);
  await entry.mcp.connect(transport);
  return entry;
}

async function closeEntry(entry) {
  try {
    await entry.mcp.close();
  } catch { /* already closed */ }
  try {
    await entry.transport.close();
  } catch { /* already closed */ }
}

// ---------------------------------------------------------------- HTTP

function sendJson(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function rpcError(res, status, code, message) {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function takeFault(list, httpMethod, methods) {
  const i = list.findIndex((f) => f.count > 0 && f.http === httpMethod &&
    (!f.method || methods.includes(f.method)));
  if (i < 0) return null;
  const f = list[i];
  f.count--;
  if (f.count <= 0) list.splice(i, 1);
  return f;
}

function recordRequest(req) {
  state.httpVersions.add(req.httpVersion);
  if (req.method === 'POST') state.posts++;
  else if (req.method === 'GET') state.gets++;
  else if (req.method === 'DELETE') state.deletes++;
  else state.otherMethods++;
  for (const [name, value] of Object.entries(req.headers)) {
    state.headerNames.add(name.toLowerCase());
    if (name.toLowerCase().startsWith('x-')) state.customHeaders[name.toLowerCase()] = value;
  }
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    state.authorizationSeen = true;
    state.lastAuthorization = auth;
  }
  push(state.authorizations, { method: req.method, value: auth ?? null });
  const pv = req.headers['mcp-protocol-version'];
  if (pv !== undefined) {
    state.lastProtocolVersion = pv;
    state.protocolVersions.add(pv);
  }
  const lei = req.headers['last-event-id'];
  if (req.method === 'GET' && lei !== undefined) {
    state.getsWithLastEventId++;
    push(state.lastEventIds, lei);
  }
}

function recordMessages(messages, sessionId) {
  const kinds = [];
  for (const m of messages) {
    if (!m || typeof m !== 'object') continue;
    if (typeof m.method === 'string') {
      push(state.methods, m.method);
      kinds.push(m.method);
      if (m.method === 'initialize') push(state.initializeRequests, m.params ?? null);
      if (m.method === 'notifications/cancelled') push(state.cancellations, m.params ?? null);
      if (m.method === 'tools/call') {
        push(state.toolCalls, { name: m.params?.name ?? null, arguments: m.params?.arguments ?? null, sessionId: sessionId ?? null });
      }
    } else if ('result' in m || 'error' in m) {
      state.clientResponses++;
      kinds.push('response');
    }
  }
  return kinds;
}

function injectFailure(res, fault, logEntry) {
  state.injectedFailures++;
  logEntry.status = fault.status;
  const body = `injected failure: HTTP ${fault.status}\n`;
  res.writeHead(fault.status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// ---------------------------------------------------------------- bearer check

let jwks = null;           // kid -> KeyObject
const rejectedTokens = new Set();

async function loadJwks() {
  const meta = await (await fetch(`${opts.authIssuer}/.well-known/openid-configuration`)).json();
  const set = await (await fetch(meta.jwks_uri)).json();
  jwks = new Map(set.keys.map((k) => [k.kid, createPublicKey({ key: k, format: 'jwk' })]));
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// Returns null when the request's bearer token is good, else the reason.
async function checkBearer(req) {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(h);
  if (!m) return 'no bearer token';
  const token = m[1];
  if (rejectedTokens.has(token)) return 'token rejected by /control/reject-token';
  const parts = token.split('.');
  if (parts.length !== 3) return 'not a JWT';
  let head, claims;
  try {
    head = b64json(parts[0]);
    claims = b64json(parts[1]);
  } catch {
    return 'undecodable JWT';
  }
  if (head.typ !== 'at+jwt' || !['ES256', 'RS256'].includes(head.alg)) return `bad header ${head.typ}/${head.alg}`;
  if (!jwks || !jwks.has(head.kid)) await loadJwks();
  const key = jwks.get(head.kid);
  if (!key) return 'unknown kid';
  const ok = cryptoVerify(head.alg === 'ES256' ? 'sha256' : 'RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`),
    head.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, Buffer.from(parts[2], 'base64url'));
  if (!ok) return 'bad signature';
  if (claims.iss !== opts.authIssuer) return 'wrong issuer';
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return 'expired';
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (opts.authAudience && !aud.includes(opts.authAudience)) return `wrong audience ${aud.join(',')}`;
  push(state.audiences, aud.join(','));
  return null;
}

async function handleMcp(req, res) {
  recordRequest(req);
  if (opts.authIssuer) {
    const why = await checkBearer(req);
    if (why) {
      state.authRejected++;
      push(state.authReasons, why);
      vlog('401:', why);
      await readBody(req);
      res.writeHead(401, { 'content-type': 'application/json',
        'www-authenticate': 'Bearer error="invalid_token", error_description="the access token is not valid"' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: `unauthorized: ${why}` } }));
      return;
    }
    state.authAccepted++;
  }
  const sid = req.headers['mcp-session-id'];
  const logEntry = { method: req.method, sessionId: sid ?? null, rpc: [] };
  push(state.requestLog, logEntry);

  if (req.method === 'POST') {
    const raw = await readBody(req);
    let parsed;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      logEntry.status = 400;
      return rpcError(res, 400, -32700, 'Parse error: Invalid JSON');
    }
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    const kinds = recordMessages(messages, sid);
    logEntry.rpc = kinds;

    const delay = takeFault(faults.delay, 'POST', kinds);
    if (delay) {
      state.injectedDelays++;
      await sleep(delay.ms);
    }
    const fail = takeFault(faults.fail, 'POST', kinds);
    if (fail) return injectFailure(res, fail, logEntry);
    const hasRequest = messages.some((m) => m && typeof m.method === 'string' && m.id !== undefined);
    if (hasRequest) {
      const trunc = takeFault(faults.truncate, 'POST', kinds);
      if (trunc) {
        state.injectedTruncations++;
        logEntry.status = 200;
        logEntry.truncated = trunc.mode;
        const h = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
        if (sid) h['mcp-session-id'] = sid;
        res.writeHead(200, h);
        res.write('event: message\ndata: {"jsonrpc":"2.0","id":');
        await sleep(30);
        if (trunc.mode === 'end') res.end();
        else res.destroy();
        return;
      }
      const garbage = takeFault(faults.garbage, 'POST', kinds);
      if (garbage) {
        state.injectedGarbage++;
        logEntry.status = 200;
        const body = '<html><body><h1>502 Bad Gateway</h1>proxy error</body></html>\n';
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
        return res.end(body);
      }
    }

    let entry;
    if (sid !== undefined) {
      entry = sessions.get(sid);
      if (!entry) {
        state.notFound404++;
        logEntry.status = 404;
        return rpcError(res, 404, -32001, 'Session not found');
      }
    } else if (messages.some((m) => m && m.method === 'initialize')) {
      entry = await newSession();
    } else {
      logEntry.status = 400;
      return rpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    return entry.transport.handleRequest(req, res, parsed);
  }

  if (req.method === 'GET' || req.method === 'DELETE') {
    const delay = takeFault(faults.delay, req.method, []);
    if (delay) {
      state.injectedDelays++;
      await sleep(delay.ms);
    }
    const fail = takeFault(faults.fail, req.method, []);
    if (fail) return injectFailure(res, fail, logEntry);
    if (sid === undefined) {
      logEntry.status = 400;
      return rpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    const entry = sessions.get(sid);
    if (!entry) {
      state.notFound404++;
      logEntry.status = 404;
      return rpcError(res, 404, -32001, 'Session not found');
    }
    return entry.transport.handleRequest(req, res);
  }

  res.writeHead(405, { allow: 'GET, POST, DELETE', 'content-type': 'text/plain' });
  res.end('method not allowed\n');
}

async function handleControl(url, req, res) {
  await readBody(req); // drain
  const q = url.searchParams;
  const num = (name, dflt) => {
    const v = q.get(name);
    if (v === null) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`bad ${name}`);
    return n;
  };
  const what = url.pathname.slice('/control/'.length);
  const httpMethod = (q.get('http') ?? 'POST').toUpperCase();
  switch (what) {
    case 'expire-sessions': {
      const entries = [...sessions.values()];
      sessions.clear();
      await Promise.all(entries.map(closeEntry));
      state.sessionsExpired += entries.length;
      return sendJson(res, 200, { ok: true, expired: entries.length });
    }
    case 'fail-next':
      faults.fail.push({ status: num('status', 503), count: num('count', 1), method: q.get('method'), http: httpMethod });
      return sendJson(res, 200, { ok: true });
    case 'delay-next':
      faults.delay.push({ ms: num('ms', 500), count: num('count', 1), method: q.get('method'), http: httpMethod });
      return sendJson(res, 200, { ok: true });
    case 'truncate-next':
      faults.truncate.push({ count: num('count', 1), mode: q.get('mode') === 'end' ? 'end' : 'destroy', method: q.get('method'), http: 'POST' });
      return sendJson(res, 200, { ok: true });
    case 'garbage-next':
      faults.garbage.push({ count: num('count', 1), method: q.get('method'), http: 'POST' });
      return sendJson(res, 200, { ok: true });
    case 'notify': {
      const t = q.get('text') ?? 'hello from hosted-server';
      let n = 0;
      for (const e of sessions.values()) {
        try {
          await e.mcp.server.notification({
            method: 'notifications/message',
            params: { level: 'info', logger: 'hosted-server', data: t },
          });
          n++;
        } catch (err) {
          vlog('notify failed', err.message);
        }
      }
      return sendJson(res, 200, { ok: true, sessions: n });
    }
    case 'close-standalone': {
      for (const e of sessions.values()) e.transport.closeStandaloneSSEStream();
      return sendJson(res, 200, { ok: true });
    }
    case 'reject-token': {
      const m = /^Bearer (.+)$/.exec(state.lastAuthorization ?? '');
      if (m) rejectedTokens.add(m[1]);
      return sendJson(res, 200, { ok: !!m });
    }
    case 'state':
      return sendJson(res, 200, stateJson());
    case 'reset-state':
      state = freshState();
      faults = { fail: [], delay: [], truncate: [], garbage: [] };
      return sendJson(res, 200, { ok: true });
    default:
      return sendJson(res, 404, { ok: false, error: `unknown control ${what}` });
  }
}

const handler = (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const p = url.pathname.startsWith('/control/') ? handleControl(url, req, res)
    : url.pathname === '/mcp' ? handleMcp(req, res)
      : Promise.resolve().then(() => {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
      });
  p.catch((e) => {
    vlog('handler error:', e?.stack ?? e);
    if (!res.headersSent) {
      try {
        rpcError(res, 500, -32603, `Internal server error: ${e?.message ?? e}`);
      } catch { /* socket gone */ }
    } else {
      res.destroy();
    }
  });
};
const tlsOpts = opts.tlsCert
  ? { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) }
  : null;
const httpServer = opts.h2
  ? http2.createSecureServer({ ...tlsOpts, allowHTTP1: true }, handler)
  : tlsOpts
    ? https.createServer(tlsOpts, handler)
    : http.createServer(handler);
httpServer.keepAliveTimeout = 5000;

httpServer.on('error', (e) => {
  process.stderr.write(`hosted-server: ${e.message}\n`);
  process.exit(1);
});

httpServer.listen(opts.port, opts.host, () => {
  process.stdout.write(`READY ${httpServer.address().port}\n`);
});

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(0), 1000);
  force.unref();
  const entries = [...sessions.values()];
  sessions.clear();
  await Promise.all(entries.map(closeEntry));
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections?.();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
