// SPDX-License-Identifier: ISC
// Relaying MCP features both ways against tests/node/hosted-server.mjs.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startHosted, connectBridge, resultText, waitUntil, sleep, badJsonLines, rawBridge, types,
  closeAndCheck, hostedFixture } from './lib.mjs';

const {
  ElicitRequestSchema, CreateMessageRequestSchema, ListRootsRequestSchema,
  LoggingMessageNotificationSchema, ToolListChangedNotificationSchema, McpError,
} = types;

// One hosted server for the file, its state reset before each test.
const hosted = hostedFixture();

const T = { timeout: 8000 }; // per-request timeout for SDK calls

async function call(h, name, args = {}, opts = {}) {
  return h.client.callTool({ name, arguments: args }, undefined, { ...T, ...opts });
}

const cleanup = closeAndCheck;

test('tools, prompts and resources: list, call, get, read', { timeout: 20000 }, async (t) => {
  const h = await connectBridge({ url: hosted.url });
  cleanup(t, h);
  const { client } = h;

  const tools = (await client.listTools(undefined, T)).tools.map((x) => x.name);
  for (const n of ['echo', 'add', 'overwrite_table', 'long_task', 'slow', 'sample', 'roots', 'fail', 'drop_stream', 'big']) {
    assert.ok(tools.includes(n), `tool ${n} listed (got ${tools})`);
  }
  assert.ok(!tools.includes('dynamic'), 'disabled tool not listed');
  const echoTool = (await client.listTools(undefined, T)).tools.find((x) => x.name === 'echo');
  assert.equal(echoTool.inputSchema.properties.text.type, 'string');

  assert.equal(resultText(await call(h, 'echo', { text: 'hello' })), 'hello');
  assert.equal(resultText(await call(h, 'add', { a: 2, b: 3 })), '5');
  assert.equal(resultText(await call(h, 'add', { a: -1.5, b: 0.25 })), '-1.25');
  const tricky = 'quotes " backslash \\ newline \n tab \t unicode ✓ 🚀 nul \u0000 ls \u2028 end';
  assert.equal(resultText(await call(h, 'echo', { text: tricky })), tricky, 'text survives byte-exact');

  const prompts = (await client.listPrompts(undefined, T)).prompts;
  const greet = prompts.find((p) => p.name === 'greet');
  assert.ok(greet, 'prompt greet listed');
  assert.deepEqual(greet.arguments.map((a) => a.name), ['name']);
  const got = await client.getPrompt({ name: 'greet', arguments: { name: 'Ann' } }, T);
  assert.equal(got.messages[0].content.text, 'Hello, Ann!');

  const resources = (await client.listResources(undefined, T)).resources.map((r) => r.uri);
  assert.ok(resources.includes('test://info'), `resources: ${resources}`);
  assert.ok(resources.includes('test://items/1'));
  const templates = (await client.listResourceTemplates(undefined, T)).resourceTemplates.map((r) => r.uriTemplate);
  assert.deepEqual(templates, ['test://items/{id}']);
  const info = await client.readResource({ uri: 'test://info' }, T);
  assert.equal(info.contents[0].text, 'hosted-server test resource');
  const item = await client.readResource({ uri: 'test://items/42' }, T);
  assert.equal(item.contents[0].text, 'item 42');

  await client.ping(T);
});

test('a tool that throws gives an isError result, and a JSON-RPC error passes through with its code', { timeout: 15000 }, async (t) => {
  const h = await connectBridge({ url: hosted.url });
  cleanup(t, h);
  const r = await call(h, 'fail');
  assert.equal(r.isError, true);
  assert.match(resultText(r), /intentional failure/);

  // Unknown prompt: the hosted server answers a JSON-RPC error; it must reach the IDE as is.
  await assert.rejects(h.client.getPrompt({ name: 'no-such-prompt' }, T), (e) => {
    assert.ok(e instanceof McpError, String(e));
    assert.equal(e.code, -32602);
    assert.match(e.message, /no-such-prompt/);
    return true;
  });
  // Unknown method.
  await assert.rejects(h.client.request({ method: 'no/such/method', params: {} }, types.EmptyResultSchema, T),
    (e) => e.code === -32601);
  assert.equal(resultText(await call(h, 'echo', { text: 'still fine' })), 'still fine');
});

test('large results pass intact (3 MiB through the SDK client)', { timeout: 30000 }, async (t) => {
  const h = await connectBridge({ url: hosted.url });
  cleanup(t, h);
  const n = 3 * 1024 * 1024 + 7;
  const r = await call(h, 'big', { bytes: n }, { timeout: 20000 });
  const s = resultText(r);
  assert.equal(s.length, n);
  assert.equal(s, '0123456789'.repeat(Math.ceil(n / 10)).slice(0, n), 'content intact');
});

test('a 12 MiB result reaches a raw IDE as one line', { timeout: 30000 }, async (t) => {
  const b = rawBridge(hosted.url);
  t.after(() => b.dispose());
  await b.initialize();
  const n = 12 * 1024 * 1024;
  const r = await b.request({ jsonrpc: '2.0', id: 'big', method: 'tools/call', params: { name: 'big', arguments: { bytes: n } } },
    { timeout: 20000 });
  assert.ok(r.result, JSON.stringify(r.error));
  assert.equal(r.result.content[0].text.length, n);
  assert.ok(r.result.content[0].text === '0123456789'.repeat(Math.ceil(n / 10)).slice(0, n), 'content intact');
  assert.ok(b.lines.every((l) => l.length < 13 * 1024 * 1024), 'no line glued to another');
});

test('elicitation: accept + confirm overwrites, decline / cancel / confirm=false cancel', { timeout: 20000 }, async (t) => {
  const seen = [];
  let answer;
  const h = await connectBridge({
    url: hosted.url,
    capabilities: { elicitation: {} },
    handlers: [[ElicitRequestSchema, async (req) => {
      seen.push(req.params);
      return answer;
    }]],
  });
  cleanup(t, h);

  answer = { action: 'accept', content: { confirm: true } };
  assert.equal(resultText(await call(h, 'overwrite_table', { table: 'users' })), 'overwrote users');
  assert.equal(seen.length, 1);
  assert.match(seen[0].message, /users/);
  assert.equal(seen[0].requestedSchema.properties.confirm.type, 'boolean');

  answer = { action: 'decline' };
  assert.equal(resultText(await call(h, 'overwrite_table', { table: 'orders' })), 'cancelled');
  answer = { action: 'cancel' };
  assert.equal(resultText(await call(h, 'overwrite_table', { table: 'orders' })), 'cancelled');
  answer = { action: 'accept', content: { confirm: false } };
  assert.equal(resultText(await call(h, 'overwrite_table', { table: 'orders' })), 'cancelled');

  const st = await hosted.state();
  assert.deepEqual(st.elicitations.map((e) => e.action), ['accept', 'decline', 'cancel', 'accept']);
  assert.deepEqual(st.elicitations[0].content, { confirm: true });
  assert.equal(st.clientResponses, 4, 'each elicitation answer posted back once');
});

test('concurrent elicitations are routed back to the right tool calls', { timeout: 20000 }, async (t) => {
  const h = await connectBridge({
    url: hosted.url,
    capabilities: { elicitation: {} },
    handlers: [[ElicitRequestSchema, async (req) => {
      const m = /"(\w+)"/.exec(req.params.message);
      await sleep(m[1] === 'alpha' ? 300 : 10); // answer alpha last
      return m[1].startsWith('a') ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
    }]],
  });
  cleanup(t, h);
  const names = ['alpha', 'beta', 'apple', 'bravo', 'avocado', 'banana'];
  const results = await Promise.all(names.map((n) => call(h, 'overwrite_table', { table: n })));
  assert.deepEqual(results.map(resultText), names.map((n) => (n.startsWith('a') ? `overwrote ${n}` : 'cancelled')));
});

test('sampling/createMessage is forwarded to the IDE and the answer posted back', { timeout: 15000 }, async (t) => {
  const seen = [];
  const h = await connectBridge({
    url: hosted.url,
    capabilities: { sampling: {} },
    handlers: [[CreateMessageRequestSchema, async (req) => {
      seen.push(req.params);
      return { role: 'assistant', model: 'fake-llm', content: { type: 'text', text: `LLM says: ${req.params.messages[0].content.text}` } };
    }]],
  });
  cleanup(t, h);
  const r = await call(h, 'sample', { prompt: 'write a haiku' });
  assert.equal(resultText(r), 'LLM says: write a haiku');
  assert.equal(seen.length, 1);
  assert.equal(seen[0].maxTokens, 100);
});

test('roots/list is forwarded (on the request stream and on the standalone stream)', { timeout: 15000 }, async (t) => {
  let calls = 0;
  const h = await connectBridge({
    url: hosted.url,
    capabilities: { roots: { listChanged: true } },
    handlers: [[ListRootsRequestSchema, async () => {
      calls++;
      return { roots: [{ uri: 'file:///home/dev/project', name: 'project' }, { uri: 'file:///tmp/other' }] };
    }]],
  });
  cleanup(t, h);
  assert.equal(resultText(await call(h, 'roots')), 'file:///home/dev/project\nfile:///tmp/other');
  // A server request on the standalone stream is lost if sent before that stream is up.
  await waitUntil(async () => (await hosted.state()).gets >= 1, 4000, 'standalone GET stream opened');
  await sleep(100);
  assert.equal(resultText(await call(h, 'roots', { standalone: true })), 'file:///home/dev/project\nfile:///tmp/other',
    'server request sent on the standalone GET stream reaches the IDE');
  assert.equal(calls, 2);
});

test('server->client ping is answered through the bridge', { timeout: 15000 }, async (t) => {
  const h = await connectBridge({ url: hosted.url });
  cleanup(t, h);
  assert.match(resultText(await call(h, 'ping_client')), /^pong/);
  await waitUntil(async () => (await hosted.state()).gets >= 1, 4000, 'standalone GET stream opened');
  await sleep(100);
  assert.match(resultText(await call(h, 'ping_client', { standalone: true })), /^pong/);
});

test('notifications/progress reach the IDE\'s onprogress callback', { timeout: 15000 }, async (t) => {
  const h = await connectBridge({ url: hosted.url });
  cleanup(t, h);
  const progress = [];
  const r = await call(h, 'long_task', { steps: 4, delayMs: 50 }, { onprogress: (p) => progress.push(p) });
  assert.equal(resultText(r), 'completed 4 steps');
  assert.deepEqual(progress.map((p) => p.progress), [1, 2, 3, 4]);
  assert.ok(progress.every((p) => p.total === 4));
  assert.equal(progress[3].message, 'step 4/4');
  assert.deepEqual(h.errors.map(String), [], 'no unknown-token progress errors in the client');
});

test('cancellation: aborting a call cancels it on the hosted server (same request)', { timeout: 20000 }, async (t) => {
  const h = await connectBridge({ url: hosted.url });
  cleanup(t, h);
  const ac = new AbortController();
  const started = Date.now();
  const p = call(h, 'slow', { ms: 10000 }, { signal: ac.signal, timeout: 15000 });
  await waitUntil(async () => (await hosted.state()).methods.includes('tools/call'), 3000, 'tools/call upstream');
  await sleep(100);
  ac.abort('user pressed stop');
  await assert.rejects(p);
  const st = await waitUntil(async () => {
    const s = await hosted.state();
    return s.aborted.length > 0 ? s : null;
  }, 4000, 'hosted server sees the cancellation');
  assert.equal(st.cancellations.length, 1, 'one notifications/cancelled upstream');
  assert.equal(st.aborted[0].tool, 'slow');
  assert.equal(st.cancellations[0].requestId, st.aborted[0].requestId,
    'notifications/cancelled carries the upstream id of the cancelled call');
  assert.ok(Date.now() - started < 8000, 'cancelled long before the tool would finish');
  // The session goes on.
  assert.equal(resultText(await call(h, 'echo', { text: 'after cancel' })), 'after cancel');
});

test('notifications/message and tools/list_changed are relayed (incl. the standalone GET stream)', { timeout: 20000 }, async (t) => {
  const logs = [];
  let listChanged = 0;
  const h = await connectBridge({
    url: hosted.url,
    notificationHandlers: [
      [LoggingMessageNotificationSchema, (n) => logs.push(n.params.data)],
      [ToolListChangedNotificationSchema, () => { listChanged++; }],
    ],
  });
  cleanup(t, h);
  // The bridge opens the standalone GET stream after notifications/initialized.
  await waitUntil(async () => (await hosted.state()).gets >= 1, 4000, 'standalone GET stream opened');

  await hosted.control('notify?text=hello-standalone');
  await waitUntil(() => logs.includes('hello-standalone'), 4000, 'log notification from the GET stream');

  assert.equal(resultText(await call(h, 'toggle_dynamic')), 'dynamic enabled');
  await waitUntil(() => listChanged >= 1, 4000, 'tools/list_changed');
  const tools = (await h.client.listTools(undefined, T)).tools.map((x) => x.name);
  assert.ok(tools.includes('dynamic'));
  assert.equal(resultText(await call(h, 'dynamic')), 'dynamic tool called');
});

test('many concurrent calls are answered and matched to their ids', { timeout: 30000 }, async (t) => {
  const h = await connectBridge({ url: hosted.url });
  cleanup(t, h);
  const n = 50;
  const calls = [];
  for (let i = 0; i < n; i++) {
    calls.push(i % 5 === 0
      ? call(h, 'slow', { ms: 200 + (i % 3) * 100 }, { timeout: 15000 }).then((r) => [i, resultText(r)])
      : call(h, 'echo', { text: `msg-${i}` }, { timeout: 15000 }).then((r) => [i, resultText(r)]));
  }
  const out = await Promise.all(calls);
  for (const [i, txt] of out) {
    assert.equal(txt, i % 5 === 0 ? `slept ${200 + (i % 3) * 100}` : `msg-${i}`);
  }
});
