// SPDX-License-Identifier: ISC
// Shutdown: stdin EOF, SIGTERM, SIGINT -> DELETE of the session, exit 0 within 1 s.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startHosted, rawBridge, waitUntil, freePort, sleep, hostedFixture } from './lib.mjs';

// One hosted server for the file, its state reset before each test.
const hosted = hostedFixture();

async function session(t, version = '2025-11-25') {
  const b = rawBridge(hosted.url);
  t.after(() => b.dispose());
  const init = await b.initialize(version);
  assert.ok(init.result, JSON.stringify(init));
  const r = await b.request({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
  assert.ok(r.result);
  // Let the standalone GET stream come up, as in a real session.
  await waitUntil(async () => (await hosted.state()).gets >= 1, 4000, 'GET stream').catch(() => {});
  return b;
}

async function exitsWithin(b, ms, label) {
  const started = Date.now();
  const info = await Promise.race([b.exited, sleep(ms + 2000).then(() => null)]);
  assert.ok(info, `${label}: bridge still running ${ms + 2000} ms later`);
  const took = info.at - started;
  assert.ok(took <= ms, `${label}: exit took ${took} ms (limit ${ms})`);
  return info;
}

test('stdin EOF: DELETE with the session id, exit code 0 within 1 s', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  const sid = (await hosted.state()).sessionIds[0];
  b.closeStdin();
  const info = await exitsWithin(b, 1000, 'EOF');
  assert.equal(info.signal, null);
  assert.equal(info.code, 0);
  const st = await hosted.state();
  assert.ok(st.deletes >= 1, 'a DELETE was sent');
  assert.equal(st.sessionsDeleted, 1, 'the DELETE carried the right Mcp-Session-Id');
  assert.ok(st.requestLog.some((r) => r.method === 'DELETE' && r.sessionId === sid));
  assert.equal(st.activeSessions, 0);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal}: DELETE with the session id, exit code 0 within 1 s`, { timeout: 15000 }, async (t) => {
    const b = await session(t);
    b.kill(signal);
    const info = await exitsWithin(b, 1000, signal);
    assert.equal(info.signal, null, `exited by ${info.signal} instead of handling ${signal}`);
    assert.equal(info.code, 0);
    const st = await hosted.state();
    assert.equal(st.sessionsDeleted, 1);
  });
}

test('EOF with a call in flight still exits 0 within 1 s', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  await b.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'slow', arguments: { ms: 10000 } } });
  await waitUntil(async () => (await hosted.state()).methods.filter((m) => m === 'tools/call').length >= 2, 3000, 'slow call upstream');
  b.closeStdin();
  const info = await exitsWithin(b, 1000, 'EOF with a call in flight');
  assert.equal(info.code, 0);
});

test('EOF when the DELETE hangs: exit 0 within 1 s anyway', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  await hosted.control('delay-next?ms=5000&count=1&http=DELETE');
  b.closeStdin();
  const info = await exitsWithin(b, 1000, 'EOF with a hanging DELETE');
  assert.equal(info.code, 0);
});

test('EOF when the hosted server is gone: exit 0 within 1 s', { timeout: 20000 }, async (t) => {
  const b = await session(t);
  await hosted.kill();
  try {
    b.closeStdin();
    const info = await exitsWithin(b, 1000, 'EOF with the upstream down');
    assert.equal(info.code, 0);
  } finally {
    await hosted.restart();
  }
});

test('EOF before any initialize: exit 0 quickly, nothing sent upstream', { timeout: 10000 }, async (t) => {
  const b = rawBridge(hosted.url);
  t.after(() => b.dispose());
  await sleep(200);
  b.closeStdin();
  const info = await exitsWithin(b, 1000, 'EOF before initialize');
  assert.equal(info.code, 0);
  const st = await hosted.state();
  assert.equal(st.deletes, 0, 'no session, no DELETE');
  assert.equal(st.sessionsCreated, 0);
});

test('EOF before initialize with the upstream down: exit 0', { timeout: 10000 }, async (t) => {
  const port = await freePort();
  const b = rawBridge(`http://127.0.0.1:${port}/mcp`);
  t.after(() => b.dispose());
  b.closeStdin();
  const info = await exitsWithin(b, 1000, 'EOF, no upstream');
  assert.equal(info.code, 0);
});
