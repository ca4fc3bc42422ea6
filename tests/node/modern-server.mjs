#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// modern-server.mjs: a hosted MCP server speaking MCP 2026-07-28 ("modern":
// no initialize, per-request _meta, Mcp-* headers, multi round-trip requests,
// subscriptions/listen), for mcp-bridge's era tests.
//
// Built on the official TypeScript SDK v2 (@modelcontextprotocol/server 2.4.0,
// createMcpHandler) behind a small node:http adapter: every HTTP request gets a
// fresh McpServer from the factory (the modern era is stateless).
//
//   node modern-server.mjs --port N [--host 127.0.0.1] [--dual-era] [--verbose]
//
// By default the server is modern-only (createMcpHandler legacy: 'reject'): a
// legacy `initialize` is refused with the SDK's -32022 UnsupportedProtocolVersion
// error naming the supported revisions (HTTP 400), as the spec says a
// modern-only server does. --dual-era also serves 2025-era clients
// (legacy: 'stateless': each legacy POST answered by a fresh instance; GET and
// DELETE get 405).
//
// The SDK itself validates the 2026-07-28 request headers: MCP-Protocol-Version,
// Mcp-Method and Mcp-Name missing or disagreeing with the body, and Mcp-Param-*
// disagreeing with a tool's x-mcp-header arguments, are answered HTTP 400 with
// -32020 (HeaderMismatch).
//
// Tools: echo, add, regional_echo (its `region` is annotated x-mcp-header
// "Region", or "Area" after /__rename-header), bad_header (an INVALID x-mcp-header on a `number` property: a
// conforming HTTP client drops it from tools/list), confirm_delete (form
// elicitation via input_required + HMAC'd requestState), sample (sampling via
// input_required), roots (roots/list via input_required), long_task (progress +
// notifications/message per step, honours the per-request logLevel and
// cancellation), touch (tools list_changed, toggles the tool `dynamic`, and a
// resources/updated for test://info on every subscriptions/listen stream),
// dynamic (only listed after an odd number of touches).
// Resources: test://info, template test://items/{id}; test://missing and any
// unknown URI are not found (-32602, as the SDK answers on every revision).
// Prompt: greet.
//
// Prints "READY <port>" on stdout once listening (--port 0 picks a free port).
// MCP endpoint: /mcp. Test endpoints (plain JSON, GET):
//   /__log     what the server saw: requests[] ({httpMethod, method, id, status,
//              headers{mcp-method, mcp-name, mcp-protocol-version, mcp-param-*,
//              ...}, authorization (bool), metaKeys[], meta{protocolVersion,
//              clientCapabilities, clientInfo, logLevel, progressToken},
//              inputResponseKeys[], requestState (bool)}) and events[] (tool
//              handler events: elicitation answers, requestState checks, aborts,
//              logs sent)
//   /__rename-header  switches regional_echo's x-mcp-header between "Region" and
//              "Area" (a client holding the old tools/list then gets -32020)
//   /__reset   clears the log, the touch state and the header name
// Exits 0 on SIGTERM/SIGINT.

import http from 'node:http';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  McpServer, ResourceTemplate, createMcpHandler, fromJsonSchema, inputRequired, inputResponse,
} from '@modelcontextprotocol/server';

// ---------------------------------------------------------------- options

function usage(msg) {
  process.stderr.write(`modern-server: ${msg}\nusage: node modern-server.mjs --port N [--host H] [--dual-era] [--verbose]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1', dualEra: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') o.port = Number(next());
    else if (a === '--host') o.host = next();
    else if (a === '--dual-era') o.dualEra = true;
    else if (a === '--verbose') o.verbose = true;
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('bad --port (expected 0..65535)');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const vlog = (...a) => { if (opts.verbose) process.stderr.write(`[modern] ${a.join(' ')}\n`); };

// ---------------------------------------------------------------- state

const MAX_LOG = 5000;
const log = { requests: [], events: [] };
let touches = 0;
let regionHeader = 'Region'; // x-mcp-header of regional_echo's region; /__rename-header switches it
const push = (list, v) => {
  list.push(v);
  if (list.length > MAX_LOG) list.shift();
};
const event = (type, fields) => push(log.events, { type, at: Date.now(), ...fields });

// requestState: HMAC-protected, bound to the tool and its arguments.
const STATE_KEY = randomBytes(32);
const canon = (v) => JSON.stringify(v, Object.keys(v ?? {}).sort());

function mintState(tool, args, extra = {}) {
  const body = Buffer.from(JSON.stringify({ tool, args: canon(args), nonce: randomBytes(8).toString('hex'), ...extra }))
    .toString('base64url');
  const mac = createHmac('sha256', STATE_KEY).update(body).digest('base64url');
  return `${body}.${mac}`;
}

/** The decoded state if `s` is a state this server minted for (tool, args), else null. */
function checkState(s, tool, args) {
  if (typeof s !== 'string') return null;
  const dot = s.indexOf('.');
  if (dot < 0) return null;
  const body = s.slice(0, dot);
  const mac = Buffer.from(s.slice(dot + 1));
  const want = Buffer.from(createHmac('sha256', STATE_KEY).update(body).digest('base64url'));
  if (mac.length !== want.length || !timingSafeEqual(mac, want)) return null;
  let v;
  try {
    v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  return v.tool === tool && v.args === canon(args) ? v : null;
}

// ---------------------------------------------------------------- server

const text = (t) => ({ content: [{ type: 'text', text: t }] });
const schema = (properties, required = []) =>
  fromJsonSchema({ type: 'object', properties, required, additionalProperties: false });

/** Handles the MRTR retry of `tool`: verifies requestState, records the check. */
function verifyRound(ctx, tool, args) {
  const raw = ctx.mcpReq.requestState();
  const st = checkState(raw, tool, args);
  event('requestState', { tool, present: raw !== undefined, ok: !!st });
  if (!st) throw Object.assign(new Error(`${tool}: requestState missing or not minted by this server for these arguments`), { code: -32602 });
  return st;
}

function registerTools(mcp, handler) {
  mcp.registerTool('echo', {
    description: 'Returns its text argument unchanged',
    inputSchema: schema({ text: { type: 'string' } }, ['text']),
  }, async ({ text: t }) => text(t));

  mcp.registerTool('add', {
    description: 'Adds two numbers',
    inputSchema: schema({ a: { type: 'number' }, b: { type: 'number' } }, ['a', 'b']),
  }, async ({ a, b }) => text(String(a + b)));

  mcp.registerTool('regional_echo', {
    description: `Returns "<region>: <text>"; region is mirrored in the Mcp-Param-${regionHeader} header`,
    inputSchema: schema({
      region: { type: 'string', 'x-mcp-header': regionHeader },
      text: { type: 'string' },
    }, ['region', 'text']),
  }, async ({ region, text: t }) => text(`${region}: ${t}`));

  mcp.registerTool('bad_header', {
    description: 'Carries an invalid x-mcp-header (on a number): HTTP clients must drop this tool',
    inputSchema: schema({ ratio: { type: 'number', 'x-mcp-header': 'Ratio' } }),
  }, async () => text('bad_header called'));

  mcp.registerTool('confirm_delete', {
    description: 'Deletes a path after the user confirms it (form elicitation via input_required)',
    inputSchema: schema({ path: { type: 'string' } }, ['path']),
    annotations: { destructiveHint: true },
  }, async (args, ctx) => {
    const resp = inputResponse(ctx.mcpReq.inputResponses, 'confirm');
    if (resp.kind === 'missing') {
      event('input_required', { tool: 'confirm_delete', path: args.path });
      return inputRequired({
        inputRequests: {
          confirm: inputRequired.elicit({
            message: `Delete ${args.path}? This cannot be undone.`,
            requestedSchema: {
              type: 'object',
              properties: { confirm: { type: 'boolean', title: 'Confirm', description: `Delete ${args.path}` } },
              required: ['confirm'],
            },
          }),
        },
        requestState: mintState('confirm_delete', args),
      });
    }
    verifyRound(ctx, 'confirm_delete', args);
    event('elicitation', { tool: 'confirm_delete', kind: resp.kind, action: resp.action ?? null, content: resp.content ?? null });
    if (resp.kind === 'elicit' && resp.action === 'accept' && resp.content?.confirm === true) return text(`deleted ${args.path}`);
    return text(`kept ${args.path}`);
  });

  mcp.registerTool('sample', {
    description: 'Asks the client to sample an LLM (sampling/createMessage via input_required)',
    inputSchema: schema({ prompt: { type: 'string' } }, ['prompt']),
  }, async (args, ctx) => {
    const resp = inputResponse(ctx.mcpReq.inputResponses, 'llm');
    if (resp.kind === 'missing') {
      return inputRequired({
        inputRequests: {
          llm: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: args.prompt } }],
            maxTokens: 100,
          }),
        },
        requestState: mintState('sample', args),
      });
    }
    verifyRound(ctx, 'sample', args);
    if (resp.kind !== 'sampling') return { ...text(`unexpected input response ${resp.kind}`), isError: true };
    const c = Array.isArray(resp.result.content) ? resp.result.content[0] : resp.result.content;
    event('sampling', { tool: 'sample', model: resp.result.model ?? null });
    return text(`${resp.result.model}: ${c?.type === 'text' ? c.text : JSON.stringify(c)}`);
  });

  mcp.registerTool('roots', {
    description: 'Asks the client for its roots (roots/list via input_required); returns the URIs, one a line',
    inputSchema: schema({}),
  }, async (args, ctx) => {
    const resp = inputResponse(ctx.mcpReq.inputResponses, 'roots');
    if (resp.kind === 'missing') {
      return inputRequired({ inputRequests: { roots: inputRequired.listRoots() }, requestState: mintState('roots', args ?? {}) });
    }
    verifyRound(ctx, 'roots', args ?? {});
    if (resp.kind !== 'roots') return { ...text(`unexpected input response ${resp.kind}`), isError: true };
    return text(resp.roots.map((r) => r.uri).join('\n'));
  });

  mcp.registerTool('long_task', {
    description: 'Runs `steps` steps of `delayMs` each; before each step sends notifications/progress ' +
      '(if the request has a progressToken) and an info-level notifications/message (if its logLevel allows)',
    inputSchema: schema({
      steps: { type: 'integer', minimum: 1, maximum: 1000, default: 3 },
      delayMs: { type: 'integer', minimum: 0, default: 100 },
    }),
  }, async (args, ctx) => {
    const steps = args.steps ?? 3;
    const delayMs = args.delayMs ?? 100;
    const token = ctx.mcpReq._meta?.progressToken;
    const started = Date.now();
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) {
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: steps, message: `step ${i}/${steps}` },
        });
      }
      await ctx.mcpReq.log('info', `long_task step ${i}/${steps}`, 'modern-server');
      await ctx.mcpReq.log('debug', `long_task debug ${i}/${steps}`, 'modern-server');
      try {
        await sleep(delayMs, undefined, { signal: ctx.mcpReq.signal });
      } catch {
        event('aborted', { tool: 'long_task', step: i, afterMs: Date.now() - started });
        return text('aborted');
      }
    }
    return text(`completed ${steps} steps`);
  });

  mcp.registerTool('touch', {
    description: 'Toggles the tool `dynamic` (tools list_changed) and updates test://info (resources/updated)',
    inputSchema: schema({}),
  }, async () => {
    touches++;
    handler.notify.toolsChanged();
    handler.notify.resourceUpdated('test://info');
    event('touch', { touches });
    return text(`touched ${touches}`);
  });

  if (touches % 2 === 1) {
    mcp.registerTool('dynamic', {
      description: 'Listed only after an odd number of touches',
      inputSchema: schema({}),
    }, async () => text('dynamic tool called'));
  }
}

function registerRest(mcp) {
  mcp.registerPrompt('greet', {
    title: 'Greeting',
    description: 'Greets someone by name',
    argsSchema: schema({ name: { type: 'string' } }, ['name']),
  }, ({ name }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${name}!` } }] }));

  mcp.registerResource('info', 'test://info', {
    title: 'Info', description: 'A static text resource (updated by the tool touch)', mimeType: 'text/plain',
  }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: `modern-server test resource (touches: ${touches})` }],
  }));

  mcp.registerResource('item', new ResourceTemplate('test://items/{id}', {
    list: async () => ({
      resources: [
        { uri: 'test://items/1', name: 'item 1', mimeType: 'text/plain' },
        { uri: 'test://items/2', name: 'item 2', mimeType: 'text/plain' },
      ],
    }),
  }), { title: 'Items', description: 'Numbered items', mimeType: 'text/plain' },
  async (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: `item ${id}` }] }));
}

let handler; // set below; the factory reads it for notify
function factory() {
  const mcp = new McpServer(
    { name: 'modern-test-server', title: 'mcp-bridge modern test server', version: '2.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        logging: {},
      },
      instructions: 'Modern (2026-07-28) test server for mcp-bridge. Tools: echo, add, regional_echo, ' +
        'confirm_delete, sample, roots, long_task, touch.',
    },
  );
  registerTools(mcp, handler);
  registerRest(mcp);
  return mcp;
}

handler = createMcpHandler(factory, {
  legacy: opts.dualEra ? 'stateless' : 'reject',
  onerror: (e) => vlog('sdk:', e.message),
});

// ---------------------------------------------------------------- HTTP

const PV = 'io.modelcontextprotocol/protocolVersion';

function recordRequest(req, bodyText) {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith('mcp-') || k === 'accept' || k === 'content-type' || k === 'last-event-id') headers[k] = v;
  }
  const rec = {
    httpMethod: req.method, headers, authorization: req.headers.authorization !== undefined,
    method: null, id: null, metaKeys: [], meta: {}, inputResponseKeys: [], requestState: false, status: null,
  };
  let msg = null;
  try {
    msg = bodyText ? JSON.parse(bodyText) : null;
  } catch { /* recorded as-is: method null */ }
  if (msg && typeof msg === 'object' && !Array.isArray(msg)) {
    rec.method = msg.method ?? (('result' in msg || 'error' in msg) ? 'response' : null);
    rec.id = msg.id ?? null;
    const p = msg.params ?? {};
    const meta = p._meta ?? {};
    rec.metaKeys = Object.keys(meta);
    rec.meta = {
      protocolVersion: meta[PV],
      clientCapabilities: meta['io.modelcontextprotocol/clientCapabilities'],
      clientInfo: meta['io.modelcontextprotocol/clientInfo'],
      logLevel: meta['io.modelcontextprotocol/logLevel'],
      progressToken: meta.progressToken,
    };
    if (p.name !== undefined) rec.name = p.name;
    if (p.uri !== undefined) rec.uri = p.uri;
    if (p.arguments !== undefined) rec.arguments = p.arguments;
    if (p.notifications !== undefined) rec.notifications = p.notifications;
    rec.inputResponseKeys = Object.keys(p.inputResponses ?? {});
    rec.requestState = p.requestState !== undefined;
  } else if (Array.isArray(msg)) {
    rec.method = 'batch';
  }
  push(log.requests, rec);
  return rec;
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

async function serveMcp(req, res) {
  const body = ['GET', 'HEAD', 'DELETE'].includes(req.method) ? null : await readBody(req);
  const rec = recordRequest(req, body ? body.toString('utf8') : '');
  const abort = new AbortController();
  let finished = false;
  res.on('close', () => {
    if (!finished) {
      rec.clientClosed = true;
      event('stream-closed', { method: rec.method, id: rec.id });
      abort.abort();
    }
  });
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url}`, {
    method: req.method, headers, body: body && body.length ? body : (body ? '' : undefined), signal: abort.signal,
  });
  let response;
  try {
    response = await handler.fetch(request);
  } catch (e) {
    vlog('handler threw:', e.stack);
    finished = true;
    res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
    return;
  }
  rec.status = response.status;
  rec.contentType = response.headers.get('content-type');
  const out = {};
  response.headers.forEach((v, k) => { out[k] = v; });
  res.writeHead(response.status, out);
  if (response.status >= 400 && response.body) {
    const t = await response.text();
    try {
      rec.error = JSON.parse(t).error ?? null;
    } catch {
      rec.error = t.slice(0, 200);
    }
    finished = true;
    res.end(t);
    return;
  }
  if (!response.body) {
    finished = true;
    res.end();
    return;
  }
  const reader = response.body.getReader();
  abort.signal.addEventListener('abort', () => { reader.cancel().catch(() => {}); });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((r) => res.once('drain', r));
    }
  } catch (e) {
    vlog('stream ended:', e.message);
  }
  finished = true;
  res.end();
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/__log' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(log));
    return;
  }
  if (path === '/__rename-header') {
    regionHeader = regionHeader === 'Region' ? 'Area' : 'Region';
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ regionHeader }));
    return;
  }
  if (path === '/__reset') {
    log.requests.length = 0;
    log.events.length = 0;
    touches = 0;
    regionHeader = 'Region';
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  if (path !== '/mcp') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  serveMcp(req, res).catch((e) => {
    vlog('serveMcp:', e.stack);
    if (!res.headersSent) res.writeHead(500).end();
    else res.destroy();
  });
});
server.keepAliveTimeout = 5000;

server.listen(opts.port, opts.host, () => {
  process.stdout.write(`READY ${server.address().port}\n`);
  vlog(`listening on http://${opts.host}:${server.address().port}/mcp (${opts.dualEra ? 'dual-era' : 'modern-only'})`);
});

const shutdown = () => {
  handler.close().catch(() => {});
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
