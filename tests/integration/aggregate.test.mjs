// SPDX-License-Identifier: ISC
// Aggregation (issue 6): one `mcp-bridge run` in front of several official-SDK
// hosted servers (tests/node/hosted-server.mjs --name X), the official TS SDK
// client as the IDE. Covers merged lists (tools, prompts, resources,
// templates, the bridge's own pagination), calls routed by prefix (each
// server sees only its own calls), the same tool name on every server, a
// server down at start then up, a slow server (bounded list wait, then
// list_changed), the unavailable-server error, elicitation and cancellation
// routed to the right server, filter globs, `enabled: false`, the on-disk
// tool cache, and a server removed from the registry (mcp-registryd + the
// test IdP). closeAndCheck checks every bridge's stdout held only JSON-RPC,
// no sanitizer report and a clean exit.
//
// Timing: bounds have slack for a loaded 2-core machine; nothing asserts a
// lower bound or a tight upper one.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  HostedServer, connectBridge, closeAndCheck, resultText, waitUntil, sleep, types, userEnv, tmpDir,
  startIdp, runBridge, withTimeout, sanitizerReport, REGISTRYD, spawn, badJsonLines, startRegistryd, loginAs } from './lib.mjs';

const { ElicitRequestSchema, ToolListChangedNotificationSchema, McpError } = types;

const T = { timeout: 10000 }; // per-request timeout of SDK calls
const IDS = ['alpha', 'beta', 'gamma'];

// Three named servers shared by the file, state reset before each test.
const hs = Object.fromEntries(IDS.map((n) => [n, new HostedServer({ name: n })]));
const extra = []; // servers a test starts itself
before(async () => { await Promise.all(Object.values(hs).map((h) => h.start())); });
beforeEach(async () => { await Promise.all(Object.values(hs).map((h) => h.reset())); });
after(async () => {
  for (const h of [...Object.values(hs), ...extra]) await h.stop().catch(() => {});
});

async function startServer(options) {
  const h = new HostedServer(options);
  extra.push(h);
  return h.start();
}

const entry = (h, name, more = {}) => ({ name: `com.example.mcp/${name}`, url: h.url, ...more });
const all3 = () => IDS.map((n) => entry(hs[n], n));

/**
 * The bridge aggregating `servers` (config entries) under the SDK client.
 * opts: tools (filters), env (on top of a private HOME/XDG), args, and the
 * connectBridge options. Returns the handle plus `changed` (count of
 * tools/list_changed) and `env`.
 */
async function aggBridge(t, servers, opts = {}) {
  const env = opts.env ?? userEnv(null);
  const cfg = path.join(env.dir, `bridge-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(cfg, JSON.stringify({ servers, ...(opts.tools ? { tools: opts.tools } : {}), ...(opts.config ?? {}) }));
  const counter = { changed: 0 };
  const h = await connectBridge({
    url: null,
    args: ['--config', cfg, ...(opts.args ?? [])],
    env,
    capabilities: opts.capabilities,
    handlers: opts.handlers,
    notificationHandlers: [[ToolListChangedNotificationSchema, () => { counter.changed++; }],
      ...(opts.notificationHandlers ?? [])],
  });
  closeAndCheck(t, h);
  Object.defineProperty(h, 'changed', { get: () => counter.changed });
  h.env = env;
  h.cfg = cfg;
  return h;
}

const call = (h, name, args = {}, opts = {}) => h.client.callTool({ name, arguments: args }, undefined, { ...T, ...opts });
const toolNames = async (h) => (await h.client.listTools(undefined, T)).tools.map((x) => x.name);
const callError = async (h, name, args = {}) => {
  const e = await call(h, name, args).then((r) => assert.fail(`${name} should fail, got ${JSON.stringify(r)}`), (x) => x);
  assert.ok(e instanceof McpError, `${name}: ${e}`);
  return e;
};

/** Waits until every id's whoami tool is listed; returns the names. */
async function waitTools(h, ids, ms = 10000) {
  return waitUntil(async () => {
    const n = await toolNames(h);
    return ids.every((id) => n.includes(`${id}__whoami`)) ? n : null;
  }, ms, `tools of ${ids.join(', ')}`, 200);
}

test('merged tools, prompts, resources and templates; calls routed by prefix; same tool name on every server', { timeout: 30000 }, async (t) => {
  const h = await aggBridge(t, all3());
  const info = h.client.getServerVersion();
  assert.equal(info.name, 'mcp-bridge');
  const caps = h.client.getServerCapabilities();
  assert.ok(caps.tools && caps.prompts && caps.resources, JSON.stringify(caps));

  const tools = (await h.client.listTools(undefined, T)).tools;
  const names = tools.map((x) => x.name);
  assert.equal(new Set(names).size, names.length, 'no duplicate exposed names');
  for (const n of names) assert.match(n, /^(alpha|beta|gamma)__[A-Za-z0-9_-]+$/, 'every name is <id>__<tool>');
  const per = Object.fromEntries(IDS.map((id) => [id, names.filter((n) => n.startsWith(`${id}__`)).map((n) => n.slice(id.length + 2)).sort()]));
  for (const id of IDS) {
    for (const base of ['echo', 'add', 'slow', 'overwrite_table', 'whoami', `only_${id}`]) {
      assert.ok(per[id].includes(base), `${id}__${base} listed (got ${per[id]})`);
    }
    assert.ok(!per[id].includes('dynamic'), 'a disabled tool stays out');
    const others = IDS.filter((x) => x !== id);
    assert.ok(!per[id].some((b) => others.some((o) => b === `only_${o}`)), 'a tool is listed under its own server only');
  }
  assert.deepEqual(per.alpha.filter((b) => !b.startsWith('only_')), per.beta.filter((b) => !b.startsWith('only_')));
  const echo = tools.find((x) => x.name === 'beta__echo');
  assert.equal(echo.description, 'Returns its text argument unchanged', 'description as the server gave it');
  assert.equal(echo.inputSchema.properties.text.type, 'string');

  // Every server has "echo": three calls at once, each reaches its own server.
  const texts = await Promise.all(IDS.map((id) => call(h, `${id}__echo`, { text: `to ${id}` })));
  assert.deepEqual(texts.map(resultText), IDS.map((id) => `to ${id}`));
  for (const id of IDS) assert.equal(resultText(await call(h, `${id}__whoami`)), id);
  assert.equal(resultText(await call(h, 'gamma__only_gamma', { text: 'x' })), 'gamma: x');
  assert.equal(resultText(await call(h, 'beta__add', { a: 2, b: 3 })), '5');
  const st = Object.fromEntries(await Promise.all(IDS.map(async (id) => [id, await hs[id].state()])));
  for (const id of IDS) {
    const calls = st[id].toolCalls;
    assert.ok(calls.every((c) => !c.name.includes('__')), `${id} got the server's own names: ${JSON.stringify(calls)}`);
    assert.deepEqual(calls.filter((c) => c.name === 'echo').map((c) => c.arguments.text), [`to ${id}`],
      `${id} saw only its own echo`);
  }
  assert.deepEqual(st.alpha.toolCalls.map((c) => c.name), ['echo', 'whoami']);
  assert.deepEqual(st.beta.toolCalls.map((c) => c.name), ['echo', 'whoami', 'add']);
  assert.deepEqual(st.gamma.toolCalls.map((c) => c.name), ['echo', 'whoami', 'only_gamma']);

  // Unknown tools: -32602, nothing sent anywhere.
  for (const bad of ['nope__echo', 'echo', 'alpha_echo']) {
    const e = await callError(h, bad);
    assert.equal(e.code, -32602, `${bad}: ${e.message}`);
  }

  // Prompts.
  const prompts = (await h.client.listPrompts(undefined, T)).prompts.map((p) => p.name);
  for (const id of IDS) {
    assert.ok(prompts.includes(`${id}__greet`) && prompts.includes(`${id}__about_${id}`), `prompts: ${prompts}`);
  }
  const got = await h.client.getPrompt({ name: 'beta__about_beta', arguments: {} }, T);
  assert.equal(got.messages[0].content.text, 'This is server beta.');
  assert.equal((await h.client.getPrompt({ name: 'gamma__greet', arguments: { name: 'Ann' } }, T)).messages[0].content.text, 'Hello, Ann!');

  // Resources keep their URIs; duplicates once (first server wins).
  const res = (await h.client.listResources(undefined, T)).resources.map((r) => r.uri);
  assert.equal(res.filter((u) => u === 'test://info').length, 1, `resources: ${res}`);
  for (const id of IDS) assert.ok(res.includes(`test://${id}/info`), `resources: ${res}`);
  const tpl = (await h.client.listResourceTemplates(undefined, T)).resourceTemplates.map((r) => r.uriTemplate);
  assert.equal(tpl.filter((u) => u === 'test://items/{id}').length, 1, `templates: ${tpl}`);
  for (const id of IDS) assert.ok(tpl.includes(`test://${id}/notes/{id}`), `templates: ${tpl}`);
  await Promise.all(IDS.map((id) => hs[id].reset()));
  assert.equal((await h.client.readResource({ uri: 'test://beta/info' }, T)).contents[0].text, 'info of beta');
  assert.equal((await h.client.readResource({ uri: 'test://gamma/notes/7' }, T)).contents[0].text, 'note 7 of gamma',
    'routed by template');
  const reads = Object.fromEntries(await Promise.all(IDS.map(async (id) => [id, (await hs[id].state()).methods.filter((m) => m === 'resources/read').length])));
  assert.deepEqual(reads, { alpha: 0, beta: 1, gamma: 1 }, 'each read went to its server only');

  // A server's own list_changed: the bridge refetches and tells the IDE.
  const changed0 = h.changed;
  assert.equal(resultText(await call(h, 'beta__toggle_dynamic')), 'dynamic enabled');
  await waitUntil(() => h.changed > changed0, 8000, 'tools/list_changed relayed');
  const now = await toolNames(h);
  assert.ok(now.includes("beta__dynamic") && !now.includes("alpha__dynamic"), `after toggle: ${now}`);
  assert.equal(resultText(await call(h, 'beta__dynamic')), 'dynamic tool called');
  assert.equal(resultText(await call(h, 'beta__toggle_dynamic')), 'dynamic disabled');
});

test('lists past 1000 items are paged by the bridge', { timeout: 30000 }, async (t) => {
  const big = await Promise.all(['bulk1', 'bulk2'].map((n) => startServer({ name: n, extraTools: 600 })));
  const h = await aggBridge(t, [entry(big[0], 'bulk1'), entry(big[1], 'bulk2')]);
  const p1 = await h.client.listTools(undefined, T);
  assert.equal(p1.tools.length, 1000);
  assert.equal(typeof p1.nextCursor, 'string');
  const p2 = await h.client.listTools({ cursor: p1.nextCursor }, T);
  assert.equal(p2.nextCursor, undefined);
  const names = [...p1.tools, ...p2.tools].map((x) => x.name);
  assert.equal(new Set(names).size, names.length);
  for (const id of ['bulk1', 'bulk2']) {
    for (const i of [0, 599]) assert.ok(names.includes(`${id}__bulk_${i}`), `${id}__bulk_${i}`);
  }
  assert.ok(names.length > 1200, `${names.length}`);
  assert.equal(resultText(await call(h, 'bulk2__bulk_599')), 'bulk_599');
  const e = await h.client.listTools({ cursor: 'not-a-cursor' }, T).then(() => null, (x) => x);
  assert.ok(e instanceof McpError && e.code === -32602, String(e));
});

test('a server down at start: left out, its calls get -32000 with the reason; when it comes up, list_changed and its tools work', { timeout: 40000 }, async (t) => {
  const delta = await startServer({ name: 'delta' });
  await delta.stop();
  const h = await aggBridge(t, [entry(hs.alpha, 'alpha'), entry(hs.beta, 'beta'), entry(delta, 'delta')]);
  const started = Date.now();
  const names = await toolNames(h);
  assert.ok(Date.now() - started < 6000, `tools/list took ${Date.now() - started} ms`);
  assert.ok(names.includes('alpha__whoami') && names.includes('beta__whoami'), `${names}`);
  assert.ok(!names.some((n) => n.startsWith('delta__')), `the down server is left out: ${names}`);

  const e = await callError(h, 'delta__whoami');
  assert.equal(e.code, -32000, e.message);
  assert.match(e.message, /hosted server delta is unavailable: \S/);
  assert.match(e.message, /connect|refused|reach/i, 'the reason is given');
  assert.equal(resultText(await call(h, 'alpha__whoami')), 'alpha', 'the others work');
  await waitUntil(() => /hosted server delta: .*retrying in the background/.test(h.stderr()), 5000, 'the failure logged');

  const changed0 = h.changed;
  await delta.restart(); // same port
  await waitUntil(() => h.changed > changed0, 20000, 'tools/list_changed once delta is up');
  const later = await waitTools(h, ['alpha', 'beta', 'delta']);
  assert.ok(later.includes('delta__only_delta'));
  assert.equal(resultText(await call(h, 'delta__whoami')), 'delta');
  assert.equal(resultText(await call(h, 'delta__echo', { text: 'back' })), 'back');
  assert.equal((h.stderr().match(/hosted server delta: .*retrying in the background/g) ?? []).length, 1,
    `the failure is logged at warn once:\n${h.stderr()}`);
});

test('a slow server: tools/list answers in bounded time with the others, then list_changed, then its tools', { timeout: 40000 }, async (t) => {
  const eps = await startServer({ name: 'eps' });
  await eps.control('delay-next?method=initialize&ms=6000');
  const tc = Date.now();
  const h = await aggBridge(t, [entry(hs.alpha, 'alpha'), entry(hs.beta, 'beta'), entry(eps, 'eps')]);
  const connectMs = Date.now() - tc;
  assert.ok(connectMs < 5000, `initialize answered without waiting for the slow server (${connectMs} ms incl. spawn)`);
  const t0 = Date.now();
  const first = await toolNames(h);
  const ms = Date.now() - t0;
  assert.ok(ms < 6000, `tools/list took ${ms} ms (the bridge waits at most ~3 s)`);
  assert.ok(first.includes('alpha__whoami') && first.includes('beta__whoami'), `${first}`);
  assert.ok(!first.some((n) => n.startsWith('eps__')), `the slow one is not ready: ${first}`);
  // A call to the slow server waits for it (queued), then succeeds.
  const queued = call(h, 'eps__whoami', {}, { timeout: 20000 });
  await waitUntil(() => h.changed > 0, 20000, 'tools/list_changed when the slow server is ready');
  assert.equal(resultText(await queued), 'eps');
  const later = await toolNames(h);
  assert.ok(later.includes('eps__whoami') && later.includes('alpha__whoami'), `${later}`);
  assert.equal((await eps.state()).injectedDelays, 1);
});

test('elicitation from the second server reaches the IDE and the answer goes back to it', { timeout: 30000 }, async (t) => {
  const seen = [];
  const h = await aggBridge(t, all3(), {
    capabilities: { elicitation: { form: {} } },
    handlers: [[ElicitRequestSchema, async (req) => {
      seen.push(req.params);
      const m = /"(\w+)"/.exec(req.params.message);
      if (m[1] === 'slowtable') await sleep(300); // answer it after the other one
      return m[1].startsWith('keep') ? { action: 'decline' } : { action: 'accept', content: { confirm: true } };
    }]],
  });
  assert.equal(resultText(await call(h, 'beta__overwrite_table', { table: 'users' })), 'overwrote users');
  assert.equal(seen.length, 1);
  assert.match(seen[0].message, /users/);
  assert.equal(seen[0].requestedSchema.properties.confirm.type, 'boolean');
  const st = Object.fromEntries(await Promise.all(IDS.map(async (id) => [id, await hs[id].state()])));
  assert.deepEqual(st.beta.elicitations, [{ table: 'users', action: 'accept', content: { confirm: true } }]);
  assert.equal(st.beta.clientResponses, 1, 'the answer was posted to beta once');
  assert.equal(st.alpha.clientResponses + st.gamma.clientResponses, 0, 'no answer went elsewhere');

  // Two servers asking at once; the answers are not crossed.
  const [a, g] = await Promise.all([
    call(h, 'alpha__overwrite_table', { table: 'slowtable' }),
    call(h, 'gamma__overwrite_table', { table: 'keepme' }),
  ]);
  assert.equal(resultText(a), 'overwrote slowtable');
  assert.equal(resultText(g), 'cancelled');
  assert.deepEqual((await hs.alpha.state()).elicitations, [{ table: 'slowtable', action: 'accept', content: { confirm: true } }]);
  assert.deepEqual((await hs.gamma.state()).elicitations, [{ table: 'keepme', action: 'decline', content: null }]);
});

test('cancellation is routed to the server running the call', { timeout: 30000 }, async (t) => {
  const h = await aggBridge(t, all3());
  const ac = new AbortController();
  const other = call(h, 'alpha__slow', { ms: 1500 });
  const p = call(h, 'gamma__slow', { ms: 15000 }, { signal: ac.signal, timeout: 20000 });
  await waitUntil(async () => (await hs.gamma.state()).methods.includes('tools/call'), 5000, 'tools/call at gamma');
  await sleep(100);
  ac.abort('user pressed stop');
  await assert.rejects(p);
  const st = await waitUntil(async () => {
    const s = await hs.gamma.state();
    return s.aborted.length > 0 ? s : null;
  }, 6000, 'gamma sees notifications/cancelled');
  assert.equal(st.cancellations.length, 1);
  assert.equal(st.aborted[0].tool, 'slow');
  assert.equal(st.cancellations[0].requestId, st.aborted[0].requestId, 'with gamma\'s own request id');
  assert.equal(resultText(await other), 'slept 1500', 'the call on alpha was not cancelled');
  assert.equal((await hs.alpha.state()).cancellations.length, 0);
  assert.equal((await hs.beta.state()).cancellations.length, 0);
  assert.equal(resultText(await call(h, 'gamma__echo', { text: 'after' })), 'after');
  // Progress of a call on one server reaches the IDE.
  const progress = [];
  const r = await call(h, 'beta__long_task', { steps: 3, delayMs: 60 }, { onprogress: (p) => progress.push(p) });
  assert.equal(resultText(r), 'completed 3 steps');
  assert.ok(progress.length >= 2, `progress: ${JSON.stringify(progress)}`);
  assert.equal(progress[0].message, 'step 1/3');
});

test('filters: allow and deny globs; blocked tools are not listed and their calls get -32602', { timeout: 30000 }, async (t) => {
  const h = await aggBridge(t, all3(), {
    tools: { allow: ['alpha__*', 'beta__echo', 'gamma__*'], deny: ['alpha__fail', 'gamma__*', '*__overwrite_*'] },
  });
  const names = await toolNames(h);
  assert.ok(names.includes('alpha__echo') && names.includes('alpha__whoami'), `${names}`);
  assert.ok(!names.includes('alpha__fail') && !names.includes('alpha__overwrite_table'), 'denied alpha tools left out');
  assert.deepEqual(names.filter((n) => n.startsWith('beta__')), ['beta__echo'], 'beta: only what allow names');
  assert.ok(!names.some((n) => n.startsWith('gamma__')), 'gamma: all denied');

  let e = await callError(h, 'alpha__fail');
  assert.equal(e.code, -32602);
  assert.match(e.message, /tool alpha__fail is blocked by the bridge's configuration \(tools\.deny "alpha__fail"\)/);
  e = await callError(h, 'beta__add', { a: 1, b: 2 });
  assert.equal(e.code, -32602);
  assert.match(e.message, /tool beta__add is blocked by the bridge's configuration \(not in tools\.allow\)/);
  e = await callError(h, 'gamma__echo', { text: 'x' });
  assert.match(e.message, /blocked by the bridge's configuration \(tools\.deny "gamma__\*"\)/);
  assert.equal(resultText(await call(h, 'beta__echo', { text: 'ok' })), 'ok');
  assert.equal(resultText(await call(h, 'alpha__whoami')), 'alpha');
  assert.deepEqual((await hs.alpha.state()).toolCalls.map((c) => c.name), ['whoami'], 'blocked calls never left the bridge');
  assert.deepEqual((await hs.beta.state()).toolCalls.map((c) => c.name), ['echo']);
  assert.deepEqual((await hs.gamma.state()).toolCalls, []);
  // Prompts are not tool-filtered.
  const prompts = (await h.client.listPrompts(undefined, T)).prompts.map((p) => p.name);
  assert.ok(prompts.includes('gamma__greet'), `${prompts}`);
});

test('enabled: false leaves a server out entirely; explicit ids', { timeout: 30000 }, async (t) => {
  const h = await aggBridge(t, [entry(hs.alpha, 'alpha', { id: 'A1' }), entry(hs.beta, 'beta'),
    entry(hs.gamma, 'gamma', { enabled: false })]);
  const names = await waitTools(h, ['A1', 'beta']);
  assert.ok(!names.some((n) => n.startsWith('gamma__') || n.startsWith('alpha__')), `${names}`);
  assert.equal(resultText(await call(h, 'A1__whoami')), 'alpha', 'the explicit id routes to alpha');
  const e = await callError(h, 'gamma__whoami');
  assert.equal(e.code, -32602, e.message);
  await sleep(300);
  const g = await hs.gamma.state();
  assert.equal(g.posts, 0, 'the disabled server is never contacted');
});

test('colliding server ids get a stable hash suffix; both servers are served', { timeout: 30000 }, async (t) => {
  const servers = [{ name: 'com.example.mcp/dup', url: hs.alpha.url }, { name: 'org.other/dup', url: hs.beta.url }];
  const h = await aggBridge(t, servers);
  const names = await waitUntil(async () => {
    const n = (await toolNames(h)).filter((x) => x.endsWith('__whoami'));
    return n.length === 2 ? n : null;
  }, 10000, 'two whoami tools');
  for (const n of names) assert.match(n, /^dup-[0-9a-f]{8}__whoami$/);
  const who = await Promise.all(names.map(async (n) => resultText(await call(h, n))));
  assert.deepEqual(who.sort(), ['alpha', 'beta']);
  // Same ids at the next start.
  const h2 = await aggBridge(t, servers);
  const names2 = await waitUntil(async () => {
    const n = (await toolNames(h2)).filter((x) => x.endsWith('__whoami'));
    return n.length === 2 ? n : null;
  }, 10000, 'two whoami tools again');
  assert.deepEqual(names2.sort(), [...names].sort());
});

/**
 * Runs a bridge over `servers` long enough for the tool cache to be saved,
 * closes it, and returns the cache file (parsed) of `env`.
 */
async function seedCache(t, servers, env, ids) {
  const h = await aggBridge(t, servers, { env });
  await waitTools(h, ids);
  await sleep(1500); // a session that runs a while (past the cache's 1 s save delay)
  await h.close();
  const dir = path.join(env.XDG_CACHE_HOME, 'mcp-bridge');
  // Regression check: the cache was once written only by a bridge closed
  // within 1 s of a list change (the save timer had already fired when the
  // flush checked it).
  const file = await waitUntil(() => {
    const f = fs.existsSync(dir) && fs.readdirSync(dir).find((x) => /^catalog-.*-tools\.json$/.test(x));
    return f ? path.join(dir, f) : null;
  }, 5000, 'the tool cache file $XDG_CACHE_HOME/mcp-bridge/catalog-*-tools.json');
  const text = fs.readFileSync(file, 'utf8');
  assert.doesNotMatch(text, /authorization|bearer/i);
  assert.equal(fs.statSync(file).mode & 0o077, 0, 'the cache is private to the user');
  return JSON.parse(text);
}

test('tool cache: a restart lists a slow server\'s cached tools (and instructions) at once; its calls wait for it', { timeout: 40000 }, async (t) => {
  const zeta = await startServer({ name: 'zeta' });
  const env = userEnv(null);
  const servers = [entry(hs.alpha, 'alpha'), entry(hs.beta, 'beta'), entry(zeta, 'zeta')];
  const cached = await seedCache(t, servers, env, ['alpha', 'beta', 'zeta']);
  assert.ok(cached.servers.zeta.tools.some((x) => x.name === 'whoami'), 'zeta\'s tools cached');

  await zeta.control('delay-next?method=initialize&ms=4000');
  const h = await aggBridge(t, servers, { env });
  assert.match(h.client.getInstructions() ?? '', /\[zeta\] Server zeta\./, 'instructions from the cache');
  assert.match(h.client.getInstructions() ?? '', /\[alpha\] Server alpha\./);
  const t0 = Date.now();
  const names = await toolNames(h);
  const ms = Date.now() - t0;
  assert.ok(names.includes('zeta__whoami') && names.includes('zeta__only_zeta'), `cached zeta tools listed: ${names}`);
  assert.ok(ms < 2500, `listed from the cache without the ~3 s wait (${ms} ms)`);
  assert.equal(resultText(await call(h, 'zeta__whoami', {}, { timeout: 15000 })), 'zeta', 'the call waits for zeta');
  assert.equal((await zeta.state()).injectedDelays, 1);
});

test('tool cache: a server down at restart still lists its cached tools; calls get -32000', { timeout: 40000 }, async (t) => {
  const eta = await startServer({ name: 'eta' });
  const env = userEnv(null);
  const servers = [entry(hs.alpha, 'alpha'), entry(eta, 'eta')];
  await seedCache(t, servers, env, ['alpha', 'eta']);
  await eta.stop();
  const h = await aggBridge(t, servers, { env });
  await waitUntil(() => /hosted server eta: .*retrying in the background/.test(h.stderr()), 8000, 'eta\'s failure logged');
  const names = await toolNames(h);
  assert.ok(names.includes('alpha__whoami'), `${names}`);
  const e = await callError(h, 'eta__whoami');
  assert.equal(e.code, -32000);
  assert.match(e.message, /hosted server eta is unavailable/);
  // A restart serves the cached tool list while servers reconnect, also
  // for a server that is down (its calls get -32000 until it is back).
  assert.ok(names.includes('eta__whoami'), `cached tools of the down server listed: ${names}`);
});

// ------------------------------------------------------------ registry

const RES = (n) => `http://127.0.0.1/${n}`;

// --max-age 1: the bridge reuses a listing for the registry's max-age (60 s
// by default) whatever --refresh says, so the registry must allow re-asking.
function startRegistry(dir, idp) {
  return startRegistryd(dir, idp, { log: path.join(dir, 'access.log'), extra: ['--max-age', '1'] });
}

function writeCatalog(dir, servers) {
  const cat = path.join(dir, 'catalog');
  fs.rmSync(cat, { recursive: true, force: true });
  fs.mkdirSync(cat);
  for (const [n, h] of Object.entries(servers)) {
    fs.writeFileSync(path.join(cat, `${n}.json`), JSON.stringify({
      name: `com.example.mcp/${n}`, title: n, description: `${n} tools`, version: '1.0.0',
      remotes: [{ type: 'streamable-http', url: h.url }],
    }));
  }
}

test('registry: its servers are served (overrides: id, enabled:false); one removed from the registry is disconnected', { timeout: 60000 }, async (t) => {
  const dir = tmpDir('mcp-agg-registry-');
  const idp = await startIdp(['--interval', '1', '--resources', ['presto', 'knowledge', 'airflow'].map(RES).join(',')]);
  t.after(() => idp.stop());
  const rs = {};
  await Promise.all(['presto', 'knowledge', 'airflow'].map(async (n) => {
    rs[n] = await startServer({ name: n, authIssuer: idp.issuer, authAudience: RES(n) });
  }));
  writeCatalog(dir, rs);
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({
    default: { groups: ['*'] },
    servers: Object.fromEntries(Object.keys(rs).map((n) => [`com.example.mcp/${n}`, { groups: ['*'], resource: RES(n) }])),
  }));
  const reg = await startRegistry(dir, idp);
  t.after(async () => {
    const rep = sanitizerReport(reg.stderr());
    await reg.stop();
    assert.equal(rep, null, `sanitizer report from mcp-registryd:\n${rep}`);
  });

  const env = userEnv(idp, { store: 'file', extra: { MCP_BRIDGE_REGISTRY: reg.base } });
  await loginAs(idp, env);

  const h = await aggBridge(t, [{ name: 'airflow', enabled: false }, { name: 'com.example.mcp/knowledge', id: 'kb' }],
    { env, args: ['--refresh', '1'] });
  const names = await waitTools(h, ['presto', 'kb'], 20000);
  assert.ok(!names.some((n) => n.startsWith('airflow__') || n.startsWith('knowledge__')), `${names}`);
  assert.equal(resultText(await call(h, 'presto__whoami')), 'presto');
  assert.equal(resultText(await call(h, 'kb__whoami')), 'knowledge');
  const ps = await rs.presto.state();
  assert.ok(ps.authAccepted > 0 && ps.authRejected === 0, JSON.stringify(ps.authReasons));
  assert.ok(ps.audiences.every((a) => a === RES('presto')), 'presto got tokens for its own audience');
  assert.equal((await rs.airflow.state()).posts, 0, 'the disabled registry server is never contacted');

  // presto leaves the registry.
  const changed0 = h.changed;
  const { presto: _gone, ...rest } = rs;
  writeCatalog(dir, rest);
  reg.hup();
  await waitUntil(() => h.changed > changed0, 15000, 'tools/list_changed after presto left the registry');
  const left = await toolNames(h);
  assert.ok(!left.some((n) => n.startsWith('presto__')), `presto's tools are gone: ${left}`);
  assert.ok(left.includes('kb__whoami'));
  const e = await callError(h, 'presto__whoami');
  assert.equal(e.code, -32602, e.message);
  assert.match(e.message, /presto__whoami/);
  assert.equal(resultText(await call(h, 'kb__echo', { text: 'still here' })), 'still here');
  const posts = (await rs.presto.state()).posts;
  await sleep(2500); // two more registry re-checks
  assert.equal((await rs.presto.state()).posts, posts, 'nothing more is sent to the removed server');
  assert.deepEqual(badJsonLines(h.stdoutLines), []);
  // The removed server's MCP session is ended (DELETE), not left to time out.
  await waitUntil(async () => (await rs.presto.state()).deletes > 0, 5000,
    'DELETE ending the removed server\'s session');
});
