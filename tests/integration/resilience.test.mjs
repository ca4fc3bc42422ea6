// SPDX-License-Identifier: ISC
// Failures of the hosted server: session expiry, upstream down or killed,
// HTTP errors, truncated streams, timeouts, SSE stream drops and resumption,
// JSON response mode.

import { test, before, after, beforeEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  startHosted, HostedServer, connectBridge, rawBridge, resultText, waitUntil, sleep, freePort,
  badJsonLines, types,
  closeAndCheck,
} from './lib.mjs';

const { LoggingMessageNotificationSchema, ElicitRequestSchema, CreateMessageRequestSchema, McpError } = types;

const T = { timeout: 10000 };

async function call(h, name, args = {}, opts = {}) {
  return h.client.callTool({ name, arguments: args }, undefined, { ...T, ...opts });
}

/**
 * A call that is awaited later: handled at once, so that an early
 * rejection (the bridge may answer before the test gets to await) is not
 * an unhandled rejection, which node's runner blames on the running test.
 */
function inflight(p) {
  p.catch(() => {});
  return p;
}

const cleanup = closeAndCheck;

/** Asserts that `p` rejects with an McpError within `ms`; returns the error. */
async function rejectsWithin(p, ms, label) {
  const started = Date.now();
  let err;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  const took = Date.now() - started;
  assert.ok(err, `${label}: expected an error, the call succeeded`);
  assert.ok(took < ms, `${label}: error took ${took} ms (limit ${ms})`);
  assert.ok(err.message && err.message.length > 0, `${label}: error has a message`);
  return err;
}

describe('against hosted-server (SSE mode)', () => {
  let hosted;

  before(async () => {
    hosted = await startHosted();
  });

  after(async () => {
    await hosted?.stop();
  });

  beforeEach(async () => {
    await hosted.reset();
  });

  test('session expiry: after a 404 the bridge re-initializes with the original params and retries once', { timeout: 20000 }, async (t) => {
    const logs = [];
    const h = await connectBridge({
      url: hosted.url,
      clientInfo: { name: 'expiry-ide', version: '2.0.0' },
      capabilities: { roots: {}, elicitation: {} },
      notificationHandlers: [[LoggingMessageNotificationSchema, (n) => logs.push(n.params.data)]],
    });
    cleanup(t, h);
    assert.equal(resultText(await call(h, 'echo', { text: 'before' })), 'before');
    await waitUntil(async () => (await hosted.state()).gets >= 1, 4000, 'standalone GET stream opened');

    const expired = await hosted.control('expire-sessions');
    assert.equal(expired.expired, 1);

    assert.equal(resultText(await call(h, 'echo', { text: 'after expiry' })), 'after expiry',
      'the call after expiry succeeds transparently');
    assert.equal(resultText(await call(h, 'add', { a: 1, b: 2 })), '3');

    const st = await hosted.state();
    assert.ok(st.notFound404 >= 1, 'the old session id got a 404');
    assert.equal(st.sessionsCreated, 2, 'exactly one re-initialization');
    assert.equal(st.initializeRequests.length, 2);
    assert.deepEqual(st.initializeRequests[1], st.initializeRequests[0], 're-initialized with the IDE\'s original params');
    assert.deepEqual(st.initializeRequests[0].clientInfo, { name: 'expiry-ide', version: '2.0.0' });
    assert.equal(st.methods.filter((m) => m === 'notifications/initialized').length, 2,
      'notifications/initialized sent on the new session too');
    const afterCalls = st.toolCalls.filter((c) => c.arguments?.text === 'after expiry');
    assert.ok(afterCalls.length >= 1 && afterCalls.length <= 2, `the call reached the server ${afterCalls.length} times (retried once at most)`);
    const newSid = st.sessionIds[0];
    assert.equal(afterCalls.filter((c) => c.sessionId === newSid).length, 1, 'answered once, on the new session');
    assert.equal(st.activeSessions, 1);

    // The standalone stream follows the new session.
    await hosted.control('notify?text=after-expiry-notify');
    await waitUntil(() => logs.includes('after-expiry-notify'), 5000, 'notification on the new session\'s GET stream');
    // The IDE never saw a second initialize result or any error.
    const initResults = h.stdoutLines.filter((l) => l.includes('"serverInfo"'));
    assert.equal(initResults.length, 1, 'the re-initialization is not shown to the IDE');
  });

  test('session expiry while a call is in flight: that call errors (no hang), the next call works', { timeout: 20000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url });
    cleanup(t, h);
    const p = inflight(call(h, 'slow', { ms: 4000 }, { timeout: 15000 }));
    await waitUntil(async () => (await hosted.state()).methods.includes('tools/call'), 3000, 'call upstream');
    await hosted.control('expire-sessions');
    let outcome;
    const started = Date.now();
    try {
      outcome = `result ${resultText(await p)}`;
    } catch (e) {
      outcome = `error ${e.message}`;
    }
    assert.ok(Date.now() - started < 8000, `in-flight call settled (${outcome}) in ${Date.now() - started} ms`);
    assert.equal(resultText(await call(h, 'echo', { text: 'next' })), 'next');
  });

  test('HTTP 503 on a call: JSON-RPC error -32000 mentioning 503, the next call works', { timeout: 20000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url });
    cleanup(t, h);
    await hosted.control('fail-next?status=503&count=1&method=tools/call');
    const err = await rejectsWithin(call(h, 'echo', { text: 'x' }), 5000, '503');
    assert.ok(err instanceof McpError, String(err));
    assert.equal(err.code, -32000);
    assert.match(err.message, /503/);
    assert.equal(resultText(await call(h, 'echo', { text: 'recovered' })), 'recovered');
    assert.equal((await hosted.state()).injectedFailures, 1);
  });

  test('HTTP 403 and 500 become JSON-RPC errors with the status in the message', { timeout: 20000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url });
    cleanup(t, h);
    for (const status of [403, 500]) {
      await hosted.control(`fail-next?status=${status}&count=1&method=tools/call`);
      const err = await rejectsWithin(call(h, 'echo', { text: 'x' }), 5000, String(status));
      assert.equal(err.code, -32000);
      assert.match(err.message, new RegExp(String(status)));
    }
    assert.equal(resultText(await call(h, 'echo', { text: 'ok' })), 'ok');
  });

  test('raw: the error reply carries the IDE\'s id and the documented shape', { timeout: 15000 }, async (t) => {
    const b = rawBridge(hosted.url);
    t.after(() => b.dispose());
    await b.initialize();
    await hosted.control('fail-next?status=503&count=1&method=tools/call');
    const r = await b.request({ jsonrpc: '2.0', id: 'req-503', method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
    assert.equal(r.jsonrpc, '2.0');
    assert.equal(r.id, 'req-503');
    assert.equal(r.result, undefined);
    assert.equal(r.error.code, -32000);
    assert.match(r.error.message, /hosted server returned HTTP 503/);
    // Exactly one response for that id.
    await sleep(300);
    assert.equal(b.messages.filter((m) => m && m.id === 'req-503').length, 1);
  });

  test('HTTP 503 on initialize: the initialize gets an error with its id; a second initialize works', { timeout: 15000 }, async (t) => {
    const b = rawBridge(hosted.url);
    t.after(() => b.dispose());
    await hosted.control('fail-next?status=503&count=1&method=initialize');
    const r1 = await b.initialize('2025-11-25', { id: 41 });
    assert.equal(r1.id, 41);
    assert.equal(r1.error?.code, -32000, JSON.stringify(r1));
    assert.match(r1.error.message, /503/);
    const r2 = await b.initialize('2025-11-25', { id: 42 });
    assert.ok(r2.result, JSON.stringify(r2));
    const r3 = await b.request({ jsonrpc: '2.0', id: 43, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
    assert.equal(r3.result?.content[0].text, 'x');
  });

  for (const mode of ['destroy', 'end']) {
    test(`truncated SSE stream (${mode}, no event id, no response): error with the IDE's id, session continues`, { timeout: 15000 }, async (t) => {
      const b = rawBridge(hosted.url);
      t.after(() => b.dispose());
      await b.initialize();
      await hosted.control(`truncate-next?count=1&mode=${mode}&method=tools/call`);
      const started = Date.now();
      const r = await b.request({ jsonrpc: '2.0', id: 77, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } },
        { timeout: 8000 });
      assert.ok(Date.now() - started < 5000);
      assert.equal(r.id, 77);
      assert.ok(r.error, `expected an error, got ${JSON.stringify(r)}`);
      assert.equal(r.error.code, -32000);
      const ok = await b.request({ jsonrpc: '2.0', id: 78, method: 'tools/call', params: { name: 'echo', arguments: { text: 'y' } } });
      assert.equal(ok.result?.content[0].text, 'y');
    });
  }

  test('HTTP 200 with an HTML body (misbehaving proxy): error with the IDE\'s id, no crash', { timeout: 15000 }, async (t) => {
    const b = rawBridge(hosted.url);
    t.after(() => b.dispose());
    await b.initialize();
    await hosted.control('garbage-next?count=1&method=tools/call');
    const r = await b.request({ jsonrpc: '2.0', id: 'html', method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
    assert.ok(r.error, JSON.stringify(r));
    assert.equal(r.error.code, -32000);
    const ok = await b.request({ jsonrpc: '2.0', id: 'after', method: 'ping' });
    assert.deepEqual(ok.result, {});
    assert.deepEqual(badJsonLines(b.lines), []);
  });

  test('--request-timeout: a silent upstream gives error -32001; the next call works', { timeout: 20000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url, args: ['--request-timeout', '1'] });
    cleanup(t, h);
    await hosted.control('delay-next?ms=3500&count=1&method=tools/call');
    const started = Date.now();
    const err = await rejectsWithin(call(h, 'echo', { text: 'x' }), 3000, 'timeout');
    assert.equal(err.code, -32001, err.message);
    assert.ok(Date.now() - started >= 900, 'not before the timeout');
    assert.equal(resultText(await call(h, 'echo', { text: 'next' })), 'next');
  });

  test('--request-timeout is an idle timeout: progress keeps a long call alive', { timeout: 20000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url, args: ['--request-timeout', '1'] });
    cleanup(t, h);
    const progress = [];
    const r = await call(h, 'long_task', { steps: 8, delayMs: 300 }, { onprogress: (p) => progress.push(p.progress) });
    assert.equal(resultText(r), 'completed 8 steps');
    assert.equal(progress.length, 8);
  });

  test('--max-request-time bounds a call even while progress flows', { timeout: 20000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url, args: ['--max-request-time', '1'] });
    cleanup(t, h);
    const started = Date.now();
    const err = await rejectsWithin(call(h, 'long_task', { steps: 10, delayMs: 300 }, { onprogress: () => {} }), 2800, 'max time');
    assert.equal(err.code, -32001, err.message);
    assert.ok(Date.now() - started >= 900);
  });

  test('SSE stream dropped mid-call is resumed with GET + Last-Event-ID; the result arrives once', { timeout: 20000 }, async (t) => {
    const logs = [];
    const h = await connectBridge({
      url: hosted.url,
      notificationHandlers: [[LoggingMessageNotificationSchema, (n) => logs.push(n.params.data)]],
    });
    cleanup(t, h);
    const progress = [];
    const started = Date.now();
    const r = await call(h, 'drop_stream', { delayMs: 200 }, { onprogress: (p) => progress.push(p.progress) });
    assert.equal(resultText(r), 'drop_stream survived');
    assert.ok(Date.now() - started < 5000);
    const st = await hosted.state();
    assert.equal(st.drops.length, 1);
    assert.equal(st.drops[0].how, 'extra.closeSSEStream');
    assert.ok(st.getsWithLastEventId >= 1, 'resumed with a GET carrying Last-Event-ID');
    const sid = st.lastEventIds[0].split('|')[0];
    assert.ok(sid && sid !== '_GET_stream', `Last-Event-ID names the request's stream (${st.lastEventIds[0]})`);
    assert.deepEqual(logs.filter((l) => l.startsWith('drop_stream')).length, 1, 'the log notification is not duplicated');
    assert.deepEqual(progress, [1, 2], 'progress before and after the drop, no duplicates');
    assert.equal(h.stdoutLines.filter((l) => l.includes('drop_stream survived')).length, 1, 'one response');
    assert.equal(resultText(await call(h, 'echo', { text: 'after resume' })), 'after resume');
  });

  test('raw 2024-11-05 session: a dropped stream (no priming event, no retry field) is still resumed', { timeout: 20000 }, async (t) => {
    const b = rawBridge(hosted.url);
    t.after(() => b.dispose());
    const init = await b.initialize('2024-11-05');
    assert.ok(init.result);
    const r = await b.request({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'drop_stream', arguments: { delayMs: 100 } } },
      { timeout: 8000 });
    assert.equal(r.result?.content[0].text, 'drop_stream survived', JSON.stringify(r));
    const st = await hosted.state();
    assert.equal(st.drops[0].how, 'transport.closeSSEStream');
    assert.ok(st.getsWithLastEventId >= 1);
  });

  test('the standalone GET stream is re-opened after the server closes it', { timeout: 20000 }, async (t) => {
    const logs = [];
    const h = await connectBridge({
      url: hosted.url,
      notificationHandlers: [[LoggingMessageNotificationSchema, (n) => logs.push(n.params.data)]],
    });
    cleanup(t, h);
    await waitUntil(async () => (await hosted.state()).gets >= 1, 4000, 'GET stream opened');
    // No event has been sent on the GET stream yet (the SDK sends it no priming
    // event), so the bridge has no Last-Event-ID: it reconnects with a plain GET.
    await hosted.control('close-standalone');
    await waitUntil(async () => (await hosted.state()).gets >= 2, 5000, 'GET stream re-opened');
    await hosted.control('notify?text=after-reopen');
    await waitUntil(() => logs.includes('after-reopen'), 4000, 'notification on the re-opened GET stream');
  });

  test('the standalone GET stream is resumed with Last-Event-ID: nothing sent meanwhile is lost', { timeout: 20000 }, async (t) => {
    const logs = [];
    const h = await connectBridge({
      url: hosted.url,
      notificationHandlers: [[LoggingMessageNotificationSchema, (n) => logs.push(n.params.data)]],
    });
    cleanup(t, h);
    await waitUntil(async () => (await hosted.state()).gets >= 1, 4000, 'GET stream opened');
    await hosted.control('notify?text=first');
    await waitUntil(() => logs.includes('first'), 4000, 'first notification');
    await hosted.control('close-standalone');
    // Sent while the stream is down: stored by the event store, replayed on resume.
    await hosted.control('notify?text=while-down');
    await waitUntil(() => logs.includes('while-down'), 6000, 'notification sent while the GET stream was down');
    const st = await hosted.state();
    assert.ok(st.getsWithLastEventId >= 1, 'resumed with Last-Event-ID');
    assert.ok(st.lastEventIds.some((id) => id.startsWith('_GET_stream|')), `Last-Event-ID ${st.lastEventIds}`);
    assert.equal(logs.filter((l) => l === 'first').length, 1, 'no duplicate after the replay');
  });

  test('a dropped stream that cannot be resumed (server gone) ends in an error, not a hang', { timeout: 30000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url });
    cleanup(t, h);
    const p = inflight(call(h, 'drop_stream', { delayMs: 3000 }, { timeout: 20000 }));
    await waitUntil(async () => (await hosted.state()).drops.length === 1, 3000, 'stream dropped');
    await hosted.kill();
    try {
      const err = await rejectsWithin(p, 10000, 'unresumable stream');
      assert.equal(err.code, -32000, err.message);
    } finally {
      await hosted.restart();
    }
  });

  test('hosted server killed mid-session: calls fail fast; after a restart calls work again', { timeout: 30000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url });
    cleanup(t, h);
    assert.equal(resultText(await call(h, 'echo', { text: 'up' })), 'up');
    await hosted.kill();
    try {
      for (let i = 0; i < 2; i++) {
        const err = await rejectsWithin(call(h, 'echo', { text: 'down' }), 5000, `call ${i} while down`);
        assert.equal(err.code, -32000, err.message);
      }
      await assert.rejects(h.client.listTools(undefined, T), (e) => e.code === -32000);
    } finally {
      await hosted.restart();
    }
    // A new server process knows no session: the bridge gets 404 and re-initializes.
    assert.equal(resultText(await call(h, 'echo', { text: 'back' })), 'back');
  });

  test('hosted server killed during a call: that call errors within a few seconds', { timeout: 30000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url });
    cleanup(t, h);
    const p = inflight(call(h, 'slow', { ms: 8000 }, { timeout: 15000 }));
    await waitUntil(async () => (await hosted.state()).methods.includes('tools/call'), 3000, 'call upstream');
    await hosted.kill();
    try {
      await rejectsWithin(p, 5000, 'in-flight call when the server died');
    } finally {
      await hosted.restart();
    }
  });
});

describe('upstream down at start', () => {
  test('SDK client: initialize rejects within a few seconds', { timeout: 20000 }, async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(connectBridge({ url: `http://127.0.0.1:${port}/mcp`, connectTimeout: 10000 }), (e) => {
      assert.ok(e.message.length > 0);
      return true;
    });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  test('raw: initialize gets -32000 with its id; once the server is up, a new initialize works', { timeout: 20000 }, async (t) => {
    const port = await freePort();
    const b = rawBridge(`http://127.0.0.1:${port}/mcp`);
    t.after(() => b.dispose());
    const started = Date.now();
    const r = await b.initialize('2025-11-25', { id: 'i1' });
    assert.ok(Date.now() - started < 5000);
    assert.equal(r.id, 'i1');
    assert.equal(r.error?.code, -32000, JSON.stringify(r));
    assert.ok(r.error.message.length > 0);
    // Other requests before a successful initialize also get an answer.
    const ping = await b.request({ jsonrpc: '2.0', id: 'p', method: 'tools/list' }, { timeout: 5000 });
    assert.ok(ping.error, JSON.stringify(ping));
    assert.ok(b.alive, 'the bridge keeps running');

    const late = new HostedServer({ port });
    await late.start();
    t.after(() => late.stop());
    const r2 = await b.initialize('2025-11-25', { id: 'i2' });
    assert.ok(r2.result, JSON.stringify(r2));
    const c = await b.request({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'echo', arguments: { text: 'late' } } });
    assert.equal(c.result?.content[0].text, 'late');
  });
});

describe('against hosted-server --json (enableJsonResponse)', () => {
  let hosted;

  before(async () => {
    hosted = await startHosted({ json: true });
  });

  after(async () => {
    await hosted?.stop();
  });

  beforeEach(async () => {
    await hosted.reset();
  });

  test('JSON response mode: list, call, prompts, resources, big result, errors, expiry', { timeout: 30000 }, async (t) => {
    const h = await connectBridge({ url: hosted.url });
    cleanup(t, h);
    const tools = (await h.client.listTools(undefined, T)).tools.map((x) => x.name);
    assert.ok(tools.includes('echo'));
    assert.equal(resultText(await call(h, 'echo', { text: 'json mode' })), 'json mode');
    assert.equal(resultText(await call(h, 'add', { a: 40, b: 2 })), '42');
    assert.equal((await h.client.getPrompt({ name: 'greet', arguments: { name: 'Bo' } }, T)).messages[0].content.text, 'Hello, Bo!');
    assert.equal((await h.client.readResource({ uri: 'test://info' }, T)).contents[0].text, 'hosted-server test resource');
    const n = 2 * 1024 * 1024;
    assert.equal(resultText(await call(h, 'big', { bytes: n })).length, n);
    assert.equal((await call(h, 'fail')).isError, true);

    await hosted.control('fail-next?status=503&count=1&method=tools/call');
    const err = await rejectsWithin(call(h, 'echo', { text: 'x' }), 5000, '503 in json mode');
    assert.match(err.message, /503/);

    await hosted.control('expire-sessions');
    assert.equal(resultText(await call(h, 'echo', { text: 'after expiry' })), 'after expiry');
  });

  test('JSON response mode: elicitation and sampling arrive on the standalone GET stream', { timeout: 20000 }, async (t) => {
    const h = await connectBridge({
      url: hosted.url,
      capabilities: { elicitation: {}, sampling: {} },
      handlers: [
        [ElicitRequestSchema, async () => ({ action: 'accept', content: { confirm: true } })],
        [CreateMessageRequestSchema, async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: 'sampled' } })],
      ],
    });
    cleanup(t, h);
    // In JSON mode the server can only send requests on the standalone GET
    // stream; one sent before that stream is up is stored but never delivered
    // (a first GET carries no Last-Event-ID). So wait for the stream.
    await waitUntil(async () => (await hosted.state()).gets >= 1, 4000, 'standalone GET stream opened');
    await sleep(100);
    assert.equal(resultText(await call(h, 'overwrite_table', { table: 'json_t' })), 'overwrote json_t');
    assert.equal(resultText(await call(h, 'sample', { prompt: 'p' })), 'sampled');
  });
});
