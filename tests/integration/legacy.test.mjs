// SPDX-License-Identifier: ISC
// The deprecated HTTP+SSE transport (2024-11-05) against tests/node/legacy-server.mjs
// (the official SDK's SSEServerTransport), with the SDK client as the IDE:
// `mcp-bridge run --url http://127.0.0.1:PORT/sse` finds out by itself (the
// initialize POST gets 405) and switches to GET + endpoint event + POSTs.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  NODE_DIR, baseEnv, spawn, connectBridge, closeAndCheck, resultText, sleep, waitUntil, types,
  startIdp, startRegistryd, userEnv, runBridge, tmpDir, sanitizerReport, loginAs,
} from './lib.mjs';

const { ElicitRequestSchema, McpError } = types;
const LEGACY_SERVER = path.join(NODE_DIR, 'legacy-server.mjs');
const T = { timeout: 8000 };

/** legacy-server.mjs on `port` (0: any); resolves once it printed READY. */
async function startLegacy(port = 0) {
  const proc = spawn(process.execPath, [LEGACY_SERVER, '--port', String(port)],
    { env: baseEnv(), cwd: NODE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const got = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^READY (\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`legacy-server exited (${c}): ${err}`)));
  });
  const exited = new Promise((r) => proc.once('exit', r));
  const base = `http://127.0.0.1:${got}`;
  return {
    proc, port: got, base, url: `${base}/sse`,
    async control(p) {
      const r = await fetch(`${base}/control/${p}`);
      return r.json();
    },
    async kill() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

let srv;
before(async () => { srv = await startLegacy(); });
beforeEach(async () => { await srv.control('reset-state'); });
after(async () => { await srv.kill(); });

async function bridge(t, opts = {}) {
  const h = await connectBridge({ url: srv.url, ...opts });
  closeAndCheck(t, h);
  return h;
}

const call = (h, name, args = {}, opts = {}) =>
  h.client.callTool({ name, arguments: args }, undefined, { ...T, ...opts });

test('initialize falls back from the 405 POST to HTTP+SSE; tools are listed and called', { timeout: 15000 }, async (t) => {
  const h = await bridge(t, { args: ['--log-level', 'info'] });
  const st = await srv.control('state');
  assert.equal(st.postsToSse, 2, 'the era probe (server/discover) and the initialize were POSTed to the URL first');
  assert.equal(st.initializes, 1);
  assert.equal(st.accepts[0], 'text/event-stream');
  assert.match(h.stderr(), /answered initialize with HTTP 405; trying the legacy HTTP\+SSE transport/);
  assert.equal(h.client.getServerVersion().name, 'legacy-test-server');

  const tools = (await h.client.listTools(undefined, T)).tools.map((x) => x.name).sort();
  assert.deepEqual(tools, ['add', 'confirm', 'echo', 'long_task', 'slow']);
  assert.equal(resultText(await call(h, 'echo', { text: 'hello ✓ "q"' })), 'hello ✓ "q"');
  const many = await Promise.all([1, 2, 3, 4, 5].map((i) => call(h, 'add', { a: i, b: 10 })));
  assert.deepEqual(many.map(resultText), ['11', '12', '13', '14', '15']);
  await h.client.ping(T);
  await assert.rejects(h.client.request({ method: 'no/such/method', params: {} }, types.EmptyResultSchema, T),
    (e) => e instanceof McpError && e.code === -32601);
});

test('elicitation round trip: the server asks on the stream, the IDE answers through the bridge', { timeout: 15000 }, async (t) => {
  const asked = [];
  const h = await bridge(t, {
    capabilities: { elicitation: {} },
    handlers: [[ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { confirm: true } };
    }]],
  });
  assert.equal(resultText(await call(h, 'confirm', { action: 'deploy' })), 'did deploy');
  assert.deepEqual(asked, ['Do "deploy"?']);
  const st = await srv.control('state');
  assert.deepEqual(st.elicitations, [{ action: 'deploy', result: 'accept', content: { confirm: true } }]);
});

test('progress notifications reach the IDE', { timeout: 15000 }, async (t) => {
  const h = await bridge(t);
  const progress = [];
  const r = await call(h, 'long_task', { steps: 3, delayMs: 60 }, { onprogress: (p) => progress.push(p) });
  assert.equal(resultText(r), 'completed 3 steps');
  assert.deepEqual(progress.map((p) => p.progress), [1, 2, 3]);
  assert.equal(progress[2].message, 'step 3/3');
});

test('cancellation: the IDE gives up, the server is told and stops; the session goes on', { timeout: 15000 }, async (t) => {
  const h = await bridge(t);
  const ac = new AbortController();
  const p = call(h, 'slow', { ms: 10000 }, { signal: ac.signal });
  await sleep(300);
  ac.abort('user cancelled');
  await assert.rejects(p);
  await waitUntil(async () => (await srv.control('state')).aborted.length === 1, 3000, 'server saw the cancellation');
  assert.equal(resultText(await call(h, 'echo', { text: 'after' })), 'after');
});

test('--request-timeout: progress on the stream keeps a request alive; silence ends it with -32001', { timeout: 15000 }, async (t) => {
  const h = await bridge(t, { args: ['--request-timeout', '1'] });
  const r = await call(h, 'long_task', { steps: 4, delayMs: 400 }, { onprogress: () => {} });
  assert.equal(resultText(r), 'completed 4 steps');
  const t0 = Date.now();
  await assert.rejects(call(h, 'slow', { ms: 4000 }), (e) => {
    assert.ok(e instanceof McpError, String(e));
    assert.equal(e.code, -32001);
    assert.match(e.message, /did not answer within 1 s/);
    return true;
  });
  assert.ok(Date.now() - t0 < 2500, `timed out after ${Date.now() - t0} ms`);
  await waitUntil(async () => (await srv.control('state')).aborted.length === 1, 3000, 'the server was told');
});

test('stream dropped mid-call: the call fails with its id, the next call works after reconnect', { timeout: 20000 }, async (t) => {
  const h = await bridge(t);
  const p = call(h, 'slow', { ms: 5000 }).then(() => null, (e) => e);
  await sleep(300);
  const t0 = Date.now();
  assert.equal((await srv.control('drop-streams')).dropped, 1);
  await assert.rejects(p.then((e) => { throw e ?? new Error('the call succeeded'); }), (e) => {
    assert.ok(e instanceof McpError, String(e));
    assert.equal(e.code, -32000);
    assert.match(e.message, /HTTP\+SSE stream/);
    return true;
  });
  assert.ok(Date.now() - t0 < 2000, `failed at once, not at the timeout (${Date.now() - t0} ms)`);
  assert.equal(resultText(await call(h, 'echo', { text: 'again' })), 'again');
  const st = await srv.control('state');
  assert.equal(st.sessions, 2, 'a new server session');
  assert.equal(st.initializes, 2, 'initialize replayed on the new session');
  assert.match(h.stderr(), /closed the HTTP\+SSE stream|stream .*lost/);
});

test('an endpoint event naming another origin is refused with a clear error', { timeout: 15000 }, async () => {
  const evil = `http://127.0.0.2:${srv.port}/messages?sessionId=steal`;
  await srv.control(`endpoint?url=${encodeURIComponent(evil)}&count=1`);
  await assert.rejects(connectBridge({ url: srv.url, args: ['--header', 'Authorization: Bearer s3cret-token'] }),
    (e) => {
      assert.match(e.message, /endpoint event points to another origin/);
      assert.doesNotMatch(e.message, /s3cret-token/);
      return true;
    });
  const st = await srv.control('state');
  assert.equal(st.posts, 0, 'nothing was posted anywhere');
  assert.ok(st.authorization.includes('Bearer s3cret-token'), 'the stream GET carried the header');
});

test('no endpoint event within the connect timeout: initialize fails, no hang', { timeout: 15000 }, async () => {
  await srv.control('silent?count=1');
  const t0 = Date.now();
  await assert.rejects(connectBridge({ url: srv.url, args: ['--connect-timeout', '1'] }),
    /no endpoint event within 1 s/);
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
});

test('server down: calls fail at once; after a restart the bridge reconnects and re-initializes', { timeout: 25000 }, async (t) => {
  const other = await startLegacy();
  const h = await connectBridge({ url: other.url });
  closeAndCheck(t, h);
  assert.equal(resultText(await call(h, 'echo', { text: 'up' })), 'up');
  const port = other.port;
  await other.kill();
  await assert.rejects(call(h, 'echo', { text: 'down' }), (e) => {
    assert.ok(e instanceof McpError, String(e));
    assert.equal(e.code, -32000);
    assert.match(e.message, /cannot reach hosted server|HTTP\+SSE stream/);
    return true;
  });
  await assert.rejects(call(h, 'echo', { text: 'still down' }), /cannot reach hosted server/);
  const back = await startLegacy(port);
  t.after(() => back.kill());
  await waitUntil(async () => {
    try {
      return resultText(await call(h, 'echo', { text: 'back' }, { timeout: 3000 })) === 'back';
    } catch {
      return false;
    }
  }, 10000, 'a call works after the restart', 200);
  assert.equal((await back.control('state')).initializes, 1, 'initialize replayed on the new server');
});

test('registry: a server whose only remote is sse is served over HTTP+SSE, alone (--server) and aggregated', { timeout: 30000 }, async (t) => {
  const dir = tmpDir('mcp-legacy-registry-');
  const res = 'http://127.0.0.1/legacy';
  const idp = await startIdp(['--interval', '1', '--resources', res]);
  t.after(() => idp.stop());
  fs.mkdirSync(path.join(dir, 'catalog'));
  fs.writeFileSync(path.join(dir, 'catalog', 'legacy.json'), JSON.stringify({
    name: 'com.example.mcp/legacy', title: 'Legacy', description: 'old tools', version: '1.0.0',
    remotes: [{ type: 'sse', url: srv.url }],
  }));
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({
    default: { groups: ['*'] }, servers: { 'com.example.mcp/legacy': { groups: ['*'], resource: res } },
  }));
  const reg = await startRegistryd(dir, idp, { log: path.join(dir, 'access.log') });
  t.after(async () => {
    const rep = sanitizerReport(reg.stderr());
    await reg.stop();
    assert.equal(rep, null, `sanitizer report from mcp-registryd:\n${rep}`);
  });
  const env = userEnv(idp, { store: 'file', extra: { MCP_BRIDGE_REGISTRY: reg.base } });
  await loginAs(idp, env);

  const one = await connectBridge({ url: null, env, args: ['--server', 'legacy', '--log-level', 'info'] });
  closeAndCheck(t, one);
  await waitUntil(async () => (await one.client.listTools(undefined, T)).tools.some((x) => x.name === 'echo'),
    10000, 'legacy tools via --server');
  assert.equal(resultText(await call(one, 'echo', { text: 'one' })), 'one');
  let st = await srv.control('state');
  assert.equal(st.postsToSse, 0, 'the sse remote is known to be HTTP+SSE: no Streamable HTTP probe');
  assert.ok(st.authorization.length > 0 && st.authorization.every((a) => /^Bearer /.test(a)), 'every request carried the token');
  assert.match(one.stderr(), /deprecated HTTP\+SSE transport/);

  await srv.control('reset-state');
  const agg = await connectBridge({ url: null, env });
  closeAndCheck(t, agg);
  await waitUntil(async () => (await agg.client.listTools(undefined, T)).tools.some((x) => x.name === 'legacy__echo'),
    10000, 'legacy tools aggregated');
  assert.equal(resultText(await call(agg, 'legacy__add', { a: 2, b: 40 })), '42');
  st = await srv.control('state');
  assert.equal(st.postsToSse, 0);
  assert.doesNotMatch(agg.stderr(), /left out/);
});
