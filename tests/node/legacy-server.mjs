#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// legacy-server.mjs: a hosted MCP server on the deprecated HTTP+SSE transport
// (2024-11-05), for mcp-bridge's tests.
//
// Built on the official TypeScript SDK (McpServer + the deprecated
// SSEServerTransport on node:http): GET /sse opens a session's event stream
// (its first event, `endpoint`, names /messages?sessionId=...), POST
// /messages?sessionId=... carries the client's messages (202), everything
// from the server comes on the stream. POST /sse answers 405 and any other
// path 404, as a server that predates Streamable HTTP does.
//
//   node legacy-server.mjs --port N [--host 127.0.0.1] [--verbose]
//
// Tools: echo, add, confirm (elicitation), long_task (progress), slow
// (honours cancellation).
// Prints "READY <port>" on stdout once listening (--port 0 picks a free port).
// Control endpoints (plain JSON, GET) under /control/:
//   drop-streams                   destroy every open event stream (sessions end)
//   endpoint?url=URL&count=1       next N GET /sse send `endpoint` with data URL
//                                  (and nothing else; no session)
//   silent?count=1                 next N GET /sse open the stream, send nothing
//   state                          counters and what the server saw (JSON)
//   reset-state                    zero the counters, drop pending faults
// Exits 0 on SIGTERM/SIGINT.

import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { z } from 'zod';

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1', verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port' && i + 1 < argv.length) o.port = Number(argv[++i]);
    else if (a === '--host' && i + 1 < argv.length) o.host = argv[++i];
    else if (a === '--verbose') o.verbose = true;
    else {
      process.stderr.write(`legacy-server: unknown or incomplete option ${a}\n`);
      process.exit(2);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const log = (...a) => { if (opts.verbose) process.stderr.write(`[legacy] ${a.join(' ')}\n`); };

function freshState() {
  return {
    gets: 0, posts: 0, sessions: 0, initializes: 0, postsToSse: 0,
    accepts: [], authorization: [], aborted: [], elicitations: [], methods: [],
  };
}
let state = freshState();
let faults = { endpoint: null, endpointCount: 0, silent: 0 };
const sessions = new Map(); // sessionId -> { transport, res }
const rawStreams = new Set(); // streams opened by faults

function push(list, v) {
  list.push(v);
  if (list.length > 200) list.shift();
}

const text = (t) => ({ content: [{ type: 'text', text: t }] });

async function sleepAbortable(ms, signal) {
  try {
    await sleep(ms, undefined, { signal });
    return false;
  } catch {
    return true;
  }
}

function newServer() {
  const mcp = new McpServer(
    { name: 'legacy-test-server', version: '1.0.0' },
    { capabilities: { tools: {}, logging: {} }, instructions: 'HTTP+SSE test server for mcp-bridge.' },
  );
  mcp.registerTool('echo', {
    description: 'Returns its text argument unchanged',
    inputSchema: { text: z.string() },
  }, async ({ text: t }) => text(t));
  mcp.registerTool('add', {
    description: 'Adds two numbers',
    inputSchema: { a: z.number(), b: z.number() },
  }, async ({ a, b }) => text(String(a + b)));
  mcp.registerTool('confirm', {
    description: 'Asks the user to confirm an action (elicitation)',
    inputSchema: { action: z.string() },
  }, async ({ action }) => {
    let r;
    try {
      r = await mcp.server.elicitInput({
        message: `Do "${action}"?`,
        requestedSchema: {
          type: 'object',
          properties: { confirm: { type: 'boolean', title: 'Confirm' } },
          required: ['confirm'],
        },
      }, { timeout: 20000 });
    } catch (e) {
      return { content: [{ type: 'text', text: `elicitation failed: ${e.message}` }], isError: true };
    }
    push(state.elicitations, { action, result: r.action, content: r.content ?? null });
    return text(r.action === 'accept' && r.content?.confirm === true ? `did ${action}` : 'declined');
  });
  mcp.registerTool('long_task', {
    description: 'Runs `steps` steps of `delayMs` each, reporting progress as each step starts',
    inputSchema: { steps: z.number().int().min(1).max(100).default(3), delayMs: z.number().int().min(0).default(50) },
  }, async ({ steps, delayMs }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: steps, message: `step ${i}/${steps}` },
        });
      }
      if (await sleepAbortable(delayMs, extra.signal)) return text('aborted');
    }
    return text(`completed ${steps} steps`);
  });
  mcp.registerTool('slow', {
    description: 'Waits `ms` milliseconds; honours cancellation',
    inputSchema: { ms: z.number().int().min(0) },
  }, async ({ ms }, extra) => {
    const started = Date.now();
    if (await sleepAbortable(ms, extra.signal)) {
      push(state.aborted, { tool: 'slow', requestId: extra.requestId, afterMs: Date.now() - started });
      return text('aborted');
    }
    return text(`slept ${ms}`);
  });
  return mcp;
}

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function control(res, url) {
  const what = url.pathname.slice('/control/'.length);
  const count = Number(url.searchParams.get('count') ?? 1);
  if (what === 'drop-streams') {
    let n = 0;
    for (const s of sessions.values()) {
      s.res.destroy();
      n++;
    }
    for (const r of rawStreams) r.destroy();
    return json(res, 200, { dropped: n });
  }
  if (what === 'endpoint') {
    faults.endpoint = url.searchParams.get('url');
    faults.endpointCount = count;
    return json(res, 200, { ok: true });
  }
  if (what === 'silent') {
    faults.silent = count;
    return json(res, 200, { ok: true });
  }
  if (what === 'state') return json(res, 200, { ...state, open: sessions.size });
  if (what === 'reset-state') {
    state = freshState();
    faults = { endpoint: null, endpointCount: 0, silent: 0 };
    return json(res, 200, { ok: true });
  }
  return json(res, 404, { error: `unknown control ${what}` });
}

function rawStream(res, first) {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  if (first) res.write(first);
  rawStreams.add(res);
  res.on('close', () => rawStreams.delete(res));
}

async function openStream(req, res) {
  state.gets++;
  push(state.accepts, req.headers.accept ?? null);
  push(state.authorization, req.headers.authorization ?? null);
  if (faults.endpointCount > 0) {
    faults.endpointCount--;
    return rawStream(res, `event: endpoint\ndata: ${faults.endpoint}\n\n`);
  }
  if (faults.silent > 0) {
    faults.silent--;
    return rawStream(res, ': nothing\n\n');
  }
  const transport = new SSEServerTransport('/messages', res);
  const mcp = newServer();
  sessions.set(transport.sessionId, { transport, res });
  state.sessions++;
  res.on('close', () => {
    sessions.delete(transport.sessionId);
    mcp.close().catch(() => {});
  });
  await mcp.connect(transport);
  log('session', transport.sessionId);
}

async function postMessage(req, res, url) {
  state.posts++;
  push(state.authorization, req.headers.authorization ?? null);
  const s = sessions.get(url.searchParams.get('sessionId') ?? '');
  if (!s) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Session not found');
    return;
  }
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (body.method) push(state.methods, body.method);
  if (body.method === 'initialize') state.initializes++;
  await s.transport.handlePostMessage(req, res, body);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host ?? '127.0.0.1'}`);
  log(req.method, req.url);
  try {
    if (url.pathname.startsWith('/control/')) return control(res, url);
    if (url.pathname === '/sse' && req.method === 'GET') return await openStream(req, res);
    if (url.pathname === '/sse') {
      state.postsToSse++;
      res.writeHead(405, { Allow: 'GET', 'Content-Type': 'text/plain' }).end('Method Not Allowed');
      return;
    }
    if (url.pathname === '/messages' && req.method === 'POST') return await postMessage(req, res, url);
    res.writeHead(404, { 'Content-Type': 'text/html' }).end('<html><body>Not Found</body></html>');
  } catch (e) {
    log('error', e.stack);
    if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'text/plain' }).end(String(e.message));
  }
});

server.listen(opts.port, opts.host, () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
const stop = () => {
  for (const s of sessions.values()) s.res.destroy();
  for (const r of rawStreams) r.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
