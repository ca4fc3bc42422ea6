#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// hostile-server.mjs: a hosted MCP server and an MCP registry that misbehave
// on purpose, for mcp-bridge's hostile-peer tests (tests/integration/
// hostile.test.mjs). Plain node:http, no SDK: the bad parts are bytes the
// SDK would never send.
//
//   node hostile-server.mjs [--port N] [--host 127.0.0.1]
//
// Prints "READY <port>" once listening. The first path segment picks the
// behaviour, so one process serves every case at once:
//
// MCP endpoint /<list>/mcp (JSON answers; GET 405; DELETE 200), where <list>
// is what tools/list answers:
//   good       two tools: echo, and one per fault below
//   many       10,050 tools t0..t10049 (over the bridge's 10,000 per server)
//   badnames   names with control characters, 500 and 5,000 characters,
//              empty, not a string, the same name twice, plus `ok`
//   badutf8    the whole list carries a name with raw invalid UTF-8 bytes
//   surrogate  a name with a lone UTF-16 surrogate escape ("\ud800")
//   deep       the list answer is nested 100,000 arrays deep
// tools/call <name> on any of them:
//   echo       {"content":[{"type":"text","text":"ok <list>"}]}
//   big        a 100 MB application/json answer (stops when the peer hangs up)
//   bigsse     a 100 MB event on a text/event-stream answer
//   deep       a result nested 100,000 arrays deep
//   badutf8    a result whose text holds raw invalid UTF-8
//   loris      text/event-stream that sends one byte per second, forever
//   jsonloris  application/json that sends one byte per second, forever
//   redirect   307 to the origin set with /control/redirect?to=URL
//   redirect302  302 to the same
//   <other>    the echo answer (so the exposed names of badnames can be called)
//
// Registry /<mode>/v0.1/servers (the official v0.1 list API), <mode>:
//   good       two valid servers (remotes point at /good/mcp here)
//   big        a 9 MB page (over the bridge's 8 MiB)
//   deep       nested 100,000 objects deep
//   badutf8    a server name with raw invalid UTF-8 bytes
//   badname    a server name with a control character (escaped, valid JSON)
//   redirect   302 to the redirect origin
//   loris      one byte per second, forever
//   pages      nextCursor forever, 1 MB of padding per page
//
// Control (plain JSON): GET /control/state -> {requests, auth: [values of
// Authorization seen], open: connections now open, bytes: body bytes
// written}; GET /control/redirect?to=URL.

import http from 'node:http';

const args = process.argv.slice(2);
let port = 0;
let host = '127.0.0.1';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--host') host = args[++i];
  else {
    process.stderr.write(`hostile-server: unknown argument ${args[i]}\n`);
    process.exit(2);
  }
}

const state = { requests: 0, auth: [], open: 0, bytes: 0, redirectTo: 'http://127.0.0.1:9/' };
const timers = new Set();

function json(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function reply(res, id, result) {
  json(res, 200, { jsonrpc: '2.0', id, result });
}

// Writes `total` bytes of `fill` after `head` and before `tail`, honouring
// backpressure, stopping when the peer goes away.
function stream(res, head, fill, total, tail) {
  let left = total;
  const chunk = Buffer.alloc(1 << 16, fill);
  res.write(head);
  const more = () => {
    while (left > 0 && !res.destroyed) {
      const n = Math.min(left, chunk.length);
      left -= n;
      state.bytes += n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        res.once('drain', more);
        return;
      }
    }
    if (!res.destroyed) res.end(tail);
  };
  more();
}

// One byte a second, forever (until the peer hangs up).
function trickle(res, contentType) {
  res.writeHead(200, { 'content-type': contentType });
  res.flushHeaders();
  const t = setInterval(() => {
    if (res.destroyed) {
      clearInterval(t);
      timers.delete(t);
      return;
    }
    state.bytes++;
    res.write(contentType.startsWith('text/') ? ':' : ' ');
  }, 1000);
  timers.add(t);
  res.on('close', () => {
    clearInterval(t);
    timers.delete(t);
  });
}

const deepArrays = (n) => `${'['.repeat(n)}${']'.repeat(n)}`;

function toolList(kind) {
  const tool = (name) => ({ name, description: 'hostile', inputSchema: { type: 'object' } });
  switch (kind) {
    case 'many':
      return Array.from({ length: 10050 }, (_, i) => tool(`t${i}`));
    case 'badnames':
      return [tool('ok'), tool('ctl\u0001name'), tool('new\nline'), tool('del\u007fname'),
        tool('c1\u0085name'), tool('L'.repeat(500)), tool('X'.repeat(5000)), tool(''),
        { name: 123, inputSchema: { type: 'object' } }, tool('dup'), tool('dup')];
    default:
      return ['echo', 'big', 'bigsse', 'deep', 'badutf8', 'loris', 'jsonloris', 'redirect', 'redirect302'].map(tool);
  }
}

function onToolsList(res, id, kind) {
  if (kind === 'badutf8') {
    const text = JSON.stringify({ jsonrpc: '2.0', id, result: { tools: [{ name: 'bad@', inputSchema: { type: 'object' } }] } });
    const b = Buffer.from(text);
    b[b.indexOf('@')] = 0xff; // raw invalid UTF-8 in the name
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(b);
    return;
  }
  if (kind === 'surrogate') {
    json(res, 200, `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"tools":[{"name":"s\\ud800","inputSchema":{"type":"object"}}]}}`);
    return;
  }
  if (kind === 'deep') {
    json(res, 200, `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"tools":${deepArrays(100000)}}}`);
    return;
  }
  reply(res, id, { tools: toolList(kind) });
}

function onToolsCall(res, id, name, kind) {
  const idText = JSON.stringify(id);
  switch (name) {
    case 'big':
      res.writeHead(200, { 'content-type': 'application/json' });
      stream(res, `{"jsonrpc":"2.0","id":${idText},"result":{"content":[{"type":"text","text":"`, 'a',
        100 * 1024 * 1024, '"}]}}');
      return;
    case 'bigsse':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      stream(res, `event: message\ndata: {"jsonrpc":"2.0","id":${idText},"result":{"content":[{"type":"text","text":"`,
        'a', 100 * 1024 * 1024, '"}]}}\n\n');
      return;
    case 'deep':
      json(res, 200, `{"jsonrpc":"2.0","id":${idText},"result":{"content":[],"x":${deepArrays(100000)}}}`);
      return;
    case 'badutf8': {
      const b = Buffer.from(`{"jsonrpc":"2.0","id":${idText},"result":{"content":[{"type":"text","text":"@@"}]}}`);
      b[b.indexOf('@')] = 0xc3;
      b[b.indexOf('@')] = 0x28; // C3 28: an invalid two-byte sequence
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(b);
      return;
    }
    case 'loris':
      trickle(res, 'text/event-stream');
      return;
    case 'jsonloris':
      trickle(res, 'application/json');
      return;
    case 'redirect':
    case 'redirect302':
      res.writeHead(name === 'redirect' ? 307 : 302, { location: state.redirectTo, 'content-length': 0 });
      res.end();
      return;
    default:
      reply(res, id, { content: [{ type: 'text', text: `ok ${kind} ${name.length > 40 ? `${name.slice(0, 20)}...` : name}` }] });
  }
}

function onMcp(req, res, kind, body) {
  if (req.method === 'GET') return json(res, 405, { error: 'no GET stream' });
  if (req.method === 'DELETE') return json(res, 200, {});
  let msg;
  try {
    msg = JSON.parse(body);
  } catch {
    return json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
  }
  if (msg.id === undefined) {
    res.writeHead(202);
    res.end();
    return undefined;
  }
  switch (msg.method) {
    case 'initialize':
      return reply(res, msg.id, {
        protocolVersion: msg.params?.protocolVersion ?? '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: `hostile-${kind}`, version: '1.0.0' },
      });
    case 'tools/list':
      return onToolsList(res, msg.id, kind);
    case 'tools/call':
      return onToolsCall(res, msg.id, String(msg.params?.name ?? ''), kind);
    case 'ping':
      return reply(res, msg.id, {});
    default:
      return json(res, 200, { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'no such method' } });
  }
}

function registryEntry(name, base) {
  return {
    server: { name, description: 'hostile', version: '1.0.0', remotes: [{ type: 'streamable-http', url: `${base}/good/mcp` }] },
    _meta: { 'io.modelcontextprotocol.registry/official': { status: 'active' } },
  };
}

function onRegistry(req, res, mode, url) {
  const base = `http://${host}:${server.address().port}`;
  const list = (servers, extra = {}) => ({ servers, metadata: { count: servers.length, ...extra } });
  switch (mode) {
    case 'big':
      res.writeHead(200, { 'content-type': 'application/json' });
      stream(res, `{"servers":[],"metadata":{"count":0},"pad":"`, 'p', 9 * 1024 * 1024, '"}');
      return;
    case 'deep':
      json(res, 200, `{"servers":[],"x":${'{"a":'.repeat(100000)}1${'}'.repeat(100000)}}`);
      return;
    case 'badutf8': {
      const b = Buffer.from(JSON.stringify(list([registryEntry('com.example/ok', base), registryEntry('com.example/b@d', base)])));
      b[b.indexOf('@')] = 0xff;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(b);
      return;
    }
    case 'badname':
      json(res, 200, list([registryEntry('com.example/ok', base), registryEntry('com.example/bad\u0001name', base)]));
      return;
    case 'redirect':
      res.writeHead(302, { location: state.redirectTo, 'content-length': 0 });
      res.end();
      return;
    case 'loris':
      trickle(res, 'application/json');
      return;
    case 'pages': {
      const n = Number(url.searchParams.get('cursor') ?? 0);
      json(res, 200, { ...list([]), metadata: { count: 0, nextCursor: String(n + 1) }, pad: 'p'.repeat(1 << 20) });
      return;
    }
    default:
      json(res, 200, list([registryEntry('com.example/alpha', base), registryEntry('com.example/beta', base)]));
  }
}

const server = http.createServer((req, res) => {
  state.requests++;
  if (req.headers.authorization) state.auth.push(req.headers.authorization);
  state.open++;
  res.on('close', () => { state.open--; });
  const url = new URL(req.url, 'http://x');
  const parts = url.pathname.split('/').filter(Boolean);
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= 1 << 20) chunks.push(c);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (parts[0] === 'control') {
      if (parts[1] === 'redirect') state.redirectTo = url.searchParams.get('to');
      json(res, 200, state);
    } else if (parts.length === 2 && parts[1] === 'mcp') {
      onMcp(req, res, parts[0], body);
    } else if (parts.length === 3 && parts[1] === 'v0.1' && parts[2] === 'servers') {
      onRegistry(req, res, parts[0], url);
    } else {
      json(res, 404, { error: 'not found' });
    }
  });
});

server.listen(port, host, () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
