// SPDX-License-Identifier: ISC
// Initialization across protocol revisions, id preservation, quiet stderr,
// stdout hygiene.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startHosted, rawBridge, connectBridge, badJsonLines, resultText, PROTOCOL_VERSIONS, waitUntil,
  isCompactJson, closeAndCheck, hostedFixture } from './lib.mjs';

// One hosted server for the file, its state reset before each test.
const hosted = hostedFixture();

for (const version of PROTOCOL_VERSIONS) {
  test(`initialize with protocolVersion ${version} over raw stdio; the session works`, { timeout: 20000 }, async (t) => {
    const b = rawBridge(hosted.url);
    t.after(() => b.dispose());

    const init = await b.initialize(version, { id: 1, capabilities: { roots: {} } });
    assert.equal(init.jsonrpc, '2.0');
    assert.equal(init.id, 1, 'initialize reply keeps the numeric id 1');
    assert.ok(init.result, `initialize failed: ${JSON.stringify(init.error)}`);
    assert.equal(init.result.protocolVersion, version, 'hosted server negotiates the requested revision');
    assert.equal(init.result.serverInfo.name, 'hosted-test-server', 'serverInfo comes from the hosted server');
    assert.ok(init.result.capabilities.tools, 'capabilities come from the hosted server');

    const list = await b.request({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.ok(list.result, JSON.stringify(list.error));
    assert.ok(list.result.tools.some((x) => x.name === 'echo'));

    const call = await b.request({
      jsonrpc: '2.0', id: 3, method: 'tools/call',
      params: { name: 'echo', arguments: { text: `hello ${version}` } },
    });
    assert.ok(call.result, JSON.stringify(call.error));
    assert.equal(call.result.content[0].text, `hello ${version}`);

    const st = await hosted.state();
    assert.equal(st.initializeRequests.length, 1);
    assert.equal(st.initializeRequests[0].protocolVersion, version, 'initialize params forwarded as sent');
    assert.deepEqual(st.initializeRequests[0].clientInfo, { name: 'raw-ide', version: '1.0.0' });
    assert.deepEqual(st.initializeRequests[0].capabilities, { roots: {} });
    assert.ok(st.methods.includes('notifications/initialized'), 'notifications/initialized forwarded');
    // MCP-Protocol-Version is required from 2025-06-18 on; when sent it must be the negotiated one.
    // (2026-07-28 is the era probe, server/discover, sent before initialize.)
    for (const v of st.protocolVersions.filter((x) => x !== '2026-07-28')) {
      assert.equal(v, version, `MCP-Protocol-Version header ${v} != ${version}`);
    }
    if (version >= '2025-06-18') assert.equal(st.lastProtocolVersion, version);

    assert.deepEqual(badJsonLines(b.lines), []);
  });
}

test('SDK client (2025-11-25) gets the hosted server\'s serverInfo, capabilities and instructions', { timeout: 20000 }, async (t) => {
  const h = await connectBridge({
    url: hosted.url,
    clientInfo: { name: 'sdk-ide', version: '9.9.9' },
    capabilities: { elicitation: {}, sampling: {} },
  });
  closeAndCheck(t, h);
  const info = h.client.getServerVersion();
  assert.equal(info.name, 'hosted-test-server');
  assert.equal(info.version, '1.0.0');
  const caps = h.client.getServerCapabilities();
  assert.deepEqual(caps.tools, { listChanged: true });
  assert.ok(caps.prompts && caps.resources && caps.logging);
  assert.match(h.client.getInstructions() ?? '', /Test server for mcp-bridge/);

  // connect() resolves once notifications/initialized is written to the bridge,
  // not when the bridge has posted it: wait for it upstream.
  const st = await waitUntil(async () => {
    const s = await hosted.state();
    return s.methods.includes('notifications/initialized') ? s : null;
  }, 3000, 'notifications/initialized upstream');
  assert.equal(st.initializeRequests.length, 1);
  assert.equal(st.initializeRequests[0].protocolVersion, '2025-11-25');
  assert.deepEqual(st.initializeRequests[0].clientInfo, { name: 'sdk-ide', version: '9.9.9' });
  assert.deepEqual(st.initializeRequests[0].capabilities, { elicitation: {}, sampling: {} });
  assert.equal(st.sessionsCreated, 1);
  assert.equal(st.lastProtocolVersion, '2025-11-25');
});

test('request ids keep their JSON type and value (string "abc", number 7, and friends)', { timeout: 20000 }, async (t) => {
  const b = rawBridge(hosted.url);
  t.after(() => b.dispose());
  const init = await b.initialize('2025-11-25', { id: 'abc' });
  assert.equal(init.id, 'abc');
  assert.ok(init.result);

  const ids = [7, 'abc', '7', 0, -3, 9007199254740991, 'ñ-ü-✓', 'quote"back\\slash', ''];
  // Send them all at once, then collect: the bridge may answer in any order.
  const from = b.messages.length; // "abc" is reused after the initialize
  for (const id of ids) {
    await b.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `id=${JSON.stringify(id)}` } } });
  }
  for (const id of ids) {
    const r = await b.response(id, { from });
    assert.equal(typeof r.id, typeof id, `id ${JSON.stringify(id)} came back as ${JSON.stringify(r.id)}`);
    assert.equal(r.id, id);
    assert.ok(r.result, `id ${JSON.stringify(id)}: ${JSON.stringify(r.error)}`);
    assert.equal(r.result.content[0].text, `id=${JSON.stringify(id)}`, 'answer matched to the right request');
  }
  // number 7 and string "7" are different ids: exactly one answer each.
  const sevens = b.messages.filter((m) => m && (m.id === 7 || m.id === '7'));
  assert.equal(sevens.length, 2);
  assert.deepEqual(badJsonLines(b.lines), []);
});

test('ping from the IDE is answered with the IDE\'s id', { timeout: 15000 }, async (t) => {
  const b = rawBridge(hosted.url);
  t.after(() => b.dispose());
  await b.initialize();
  const r = await b.request({ jsonrpc: '2.0', id: 'p1', method: 'ping' });
  assert.deepEqual(r, { jsonrpc: '2.0', id: 'p1', result: {} });
});

test('stderr stays quiet at the default log level (nothing per message)', { timeout: 20000 }, async (t) => {
  const h = await connectBridge({ url: hosted.url });
  closeAndCheck(t, h);
  for (let i = 0; i < 20; i++) {
    const r = await h.client.callTool({ name: 'echo', arguments: { text: `m${i}` } }, undefined, { timeout: 8000 });
    assert.equal(resultText(r), `m${i}`);
  }
  await h.client.listTools(undefined, { timeout: 8000 });
  await h.close();
  assert.equal(h.stderr(), '', 'no stderr output at the default level');
});

test('stdout carries only compact JSON-RPC lines, even at --log-level debug', { timeout: 20000 }, async (t) => {
  const h = await connectBridge({
    url: hosted.url, args: ['--log-level', 'debug'],
    capabilities: { roots: {} },
    handlers: [],
  });
  closeAndCheck(t, h);
  await h.client.listTools(undefined, { timeout: 8000 });
  await h.client.callTool({ name: 'echo', arguments: { text: 'line\nbreak "quoted" \u2028 sep' } }, undefined, { timeout: 8000 });
  await h.client.callTool({ name: 'long_task', arguments: { steps: 2, delayMs: 10 } }, undefined,
    { timeout: 8000, onprogress: () => {} });
  await h.client.callTool({ name: 'drop_stream', arguments: { delayMs: 50 } }, undefined, { timeout: 8000 });
  await hosted.control('notify?text=debug-notify');
  await waitUntil(() => h.stdoutLines.some((l) => l.includes('debug-notify')), 4000, 'standalone notification');
  await h.close();
  assert.ok(h.stdoutLines.length >= 5);
  assert.deepEqual(badJsonLines(h.stdoutLines), [], 'every stdout line is one JSON-RPC message');
  for (const l of h.stdoutLines) assert.ok(isCompactJson(l), `not compact JSON: ${l.slice(0, 200)}`);
  assert.ok(h.stderr().length > 0, 'debug logging goes to stderr');
});
