// SPDX-License-Identifier: ISC
// mcp-registryd (the reference registry) and the bridge's registry client,
// against the test IdP (oidc-provider) and SDK hosted servers that each
// accept only tokens for their own audience. Users: alice (eng, mcp-users)
// and bob (finance).

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  startIdp, userEnv, runBridge, connectBridge, closeAndCheck, resultText, waitUntil, sleep,
  HostedServer, tmpDir, REPO, withTimeout, sanitizerReport, REGISTRYD, spawn, startRegistryd, loginAs } from './lib.mjs';

const T = { timeout: 10000 };
const RES = (n) => `http://127.0.0.1/${n}`;

let idp;
let reg;            // { proc, port, base, log, stop(), hup() }
let dir;
const hosted = {};  // name -> HostedServer
const tokens = {};  // user -> access token for the registry

async function deviceToken(account, extra = {}) {
  const post = (p, body) => fetch(`${idp.issuer}${p}`, { method: 'POST', body: new URLSearchParams(body) });
  const d = await (await post('/device/auth', { client_id: 'mcp-bridge', scope: 'openid offline_access groups', ...extra })).json();
  await idp.approve(d.user_code, account);
  for (;;) {
    const r = await post('/token', { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: d.device_code, client_id: 'mcp-bridge' });
    const j = await r.json();
    if (r.status === 200) return j;
    await sleep(1100);
  }
}

function writeCatalog(entries, policy) {
  const cat = path.join(dir, 'catalog');
  fs.rmSync(cat, { recursive: true, force: true });
  fs.mkdirSync(cat);
  for (const [i, e] of entries.entries()) fs.writeFileSync(path.join(cat, `s${i}.json`), JSON.stringify(e));
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify(policy));
}

const server = (name, title, url, version = '1.0.0') => ({
  name: `com.example.mcp/${name}`, title, description: `${title} tools`, version,
  remotes: [{ type: 'streamable-http', url }],
});

function basePolicy() {
  return {
    default: { groups: ['*'] },
    servers: {
      'com.example.mcp/presto': { groups: ['eng', 'finance'], resource: RES('presto'), requestAccessUrl: 'https://access.example.com/presto' },
      'com.example.mcp/knowledge': { groups: ['*'], resource: RES('knowledge') },
      'com.example.mcp/airflow': { groups: ['eng'], status: 'deprecated', statusMessage: 'Use com.example.mcp/orchestrator', resource: RES('airflow') },
      'com.example.mcp/ads': { groups: ['ads', 'finance'], resource: RES('ads'), requestAccessUrl: 'https://access.example.com/ads' },
      'com.example.mcp/old': { status: 'deleted' },
      'com.example.mcp/evil': { groups: ['*'] },
    },
  };
}

function startRegistry(listen = 0) {
  return startRegistryd(dir, idp, { listen, log: path.join(dir, 'access.log') });
}

before(async () => {
  dir = tmpDir('mcp-registry-');
  idp = await startIdp(['--interval', '1', '--resources',
    ['presto', 'knowledge', 'airflow', 'ads', 'other'].map(RES).join(',')]);
  for (const n of ['presto', 'knowledge', 'airflow', 'ads']) {
    hosted[n] = new HostedServer({ authIssuer: idp.issuer, authAudience: RES(n) });
    await hosted[n].start();
  }
  writeCatalog([
    server('presto', 'Presto', hosted.presto.url, '2.3.0'),
    server('presto', 'Presto', hosted.presto.url, '2.2.0'),
    server('knowledge', 'Knowledge', hosted.knowledge.url),
    server('airflow', 'Airflow', hosted.airflow.url),
    server('ads', 'Ads', hosted.ads.url),
    server('old', 'Old', hosted.ads.url),
    server('evil', 'Evil', 'http://evil.example/mcp'),
  ], basePolicy());
  reg = await startRegistry();
  tokens.alice = (await deviceToken('alice')).access_token;
  tokens.bob = (await deviceToken('bob')).access_token;
});

after(async () => {
  const rep = reg ? sanitizerReport(reg.stderr()) : null;
  await reg?.stop();
  assert.equal(rep, null, `sanitizer report from mcp-registryd:\n${rep}`);
  for (const h of Object.values(hosted)) await h.stop().catch(() => {});
  await idp?.stop();
});

const get = (p, tok, headers = {}) => fetch(`${reg.base}${p}`, {
  headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...headers },
});
const names = (j) => j.servers.map((s) => s.server.name.split('/')[1]);

test('registryd: per-user lists, pagination, details, access, 403/404, ETag/304, CORS', { timeout: 30000 }, async () => {
  const a = await get('/v0.1/servers?version=latest', tokens.alice);
  assert.equal(a.status, 200);
  assert.equal(a.headers.get('cache-control'), 'private, max-age=60');
  assert.equal(a.headers.get('vary'), 'Authorization');
  assert.equal(a.headers.get('access-control-allow-origin'), '*');
  const aj = await a.json();
  assert.deepEqual(names(aj), ['airflow', 'evil', 'knowledge', 'presto']);
  const presto = aj.servers.find((s) => s.server.name.endsWith('presto'));
  assert.equal(presto.server.version, '2.3.0');
  assert.equal(presto._meta['io.modelcontextprotocol.registry/official'].status, 'active');
  assert.equal(presto._meta['io.modelcontextprotocol.registry/official'].isLatest, true);
  assert.equal(presto._meta['dev.mcp-bridge.registry/auth'].resource, RES('presto'));
  const airflow = aj.servers.find((s) => s.server.name.endsWith('airflow'));
  assert.equal(airflow._meta['io.modelcontextprotocol.registry/official'].statusMessage, 'Use com.example.mcp/orchestrator');
  const b = await (await get('/v0.1/servers?version=latest', tokens.bob)).json();
  assert.deepEqual(names(b), ['ads', 'evil', 'knowledge', 'presto'], 'bob (finance) sees ads, not airflow');

  // Every version, one page at a time, to the end.
  const seen = [];
  let cursor;
  for (let i = 0; i < 10; i++) {
    const j = await (await get(`/v0.1/servers?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, tokens.alice)).json();
    seen.push(...j.servers.map((s) => `${s.server.name}@${s.server.version}`));
    cursor = j.metadata.nextCursor;
    if (!cursor) break;
  }
  assert.equal(seen.length, 5, seen.join(' '));
  assert.ok(seen.includes('com.example.mcp/presto@2.2.0'));
  assert.equal((await get('/v0.1/servers?limit=0', tokens.alice)).status, 400);
  assert.equal((await get('/v0.1/servers?limit=101', tokens.alice)).status, 400);
  assert.equal((await get('/v0.1/servers?cursor=nope', tokens.alice)).status, 400);
  assert.deepEqual(names(await (await get('/v0.1/servers?search=WIKI&version=latest', tokens.alice)).json()), []);
  assert.deepEqual(names(await (await get('/v0.1/servers?search=know&version=latest', tokens.alice)).json()), ['knowledge']);

  const v = await (await get('/v0.1/servers/com.example.mcp%2Fpresto/versions', tokens.alice)).json();
  assert.deepEqual(v.servers.map((s) => s.server.version), ['2.3.0', '2.2.0']);
  const latest = await (await get('/v0.1/servers/com.example.mcp%2Fpresto/versions/latest', tokens.alice)).json();
  assert.equal(latest.server.version, '2.3.0');
  assert.equal((await get('/v0.1/servers/com.example.mcp%2Fpresto/versions/9.9.9', tokens.alice)).status, 404);
  const denied = await get('/v0.1/servers/com.example.mcp%2Fads/versions/latest', tokens.alice);
  assert.equal(denied.status, 403);
  assert.equal(denied.headers.get('content-type'), 'application/problem+json');
  assert.equal((await denied.json()).requestAccessUrl, 'https://access.example.com/ads');
  assert.equal((await get('/v0.1/servers/com.example.mcp%2Fold/versions', tokens.alice)).status, 404, 'deleted');
  assert.equal((await get('/v0.1/servers/com.example.mcp%2Fnope/versions', tokens.alice)).status, 404);

  const acc = await (await get('/v0.1/servers/com.example.mcp%2Fads/access', tokens.alice)).json();
  assert.equal(acc.allowed, false);
  assert.equal(acc.requestAccessUrl, 'https://access.example.com/ads');
  assert.equal((await (await get('/v0.1/servers/com.example.mcp%2Fads/access', tokens.bob)).json()).allowed, true);

  const etag = a.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  const again = await get('/v0.1/servers?version=latest', tokens.alice, { 'if-none-match': etag });
  assert.equal(again.status, 304);
  const other = await get('/v0.1/servers?version=latest', tokens.bob, { 'if-none-match': etag });
  assert.equal(other.status, 200, 'bob gets his own list, not alice\'s');

  const pre = await fetch(`${reg.base}/v0.1/servers`, { method: 'OPTIONS' });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, OPTIONS');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'Authorization, Content-Type');
  const prm = await (await fetch(`${reg.base}/.well-known/oauth-protected-resource`)).json();
  assert.deepEqual(prm.authorization_servers, [idp.issuer]);
});

test('registryd: 401 for a missing, tampered, wrong-audience or non-Bearer token; no token in the access log', { timeout: 30000 }, async () => {
  const none = await get('/v0.1/servers');
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer realm="mcp-registry", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"$/);
  const t = tokens.alice;
  const tampered = `${t.slice(0, -4)}${t.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  const bad = await get('/v0.1/servers', tampered);
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate'), /error="invalid_token"/);
  const rt = (await deviceToken('alice')).refresh_token;
  const other = await (await fetch(`${idp.issuer}/token`, { method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt, client_id: 'mcp-bridge', resource: RES('other') }) })).json();
  const aud = await get('/v0.1/servers', other.access_token);
  assert.equal(aud.status, 401);
  assert.match(aud.headers.get('www-authenticate'), /audience/);
  assert.equal((await get('/v0.1/servers', null, { authorization: `Basic ${t}` })).status, 401);
  const log = fs.readFileSync(reg.log, 'utf8');
  assert.match(log, /user=alice method=GET path=\/v0\.1\/servers status=200 ms=[\d.]+ bytes=\d+/);
  assert.match(log, /user=- method=GET path=\/v0\.1\/servers status=401/);
  for (const tok of [t, tokens.bob, tampered, other.access_token]) {
    assert.ok(!log.includes(tok.split('.')[2]), 'a token signature in the access log');
  }
});

test('registryd: SIGHUP reloads the policy; a broken file keeps the old state', { timeout: 30000 }, async () => {
  const p = basePolicy();
  p.servers['com.example.mcp/ads'].groups.push('eng');
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify(p));
  reg.hup();
  await waitUntil(async () => names(await (await get('/v0.1/servers?version=latest', tokens.alice)).json()).includes('ads'),
    5000, 'reload');
  fs.writeFileSync(path.join(dir, 'policy.json'), '{"servers": [');
  reg.hup();
  await waitUntil(() => /reload refused/.test(fs.readFileSync(reg.log, 'utf8') + reg.stderr()), 5000, 'refusal logged');
  assert.ok(names(await (await get('/v0.1/servers?version=latest', tokens.alice)).json()).includes('ads'), 'old state kept');
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify(basePolicy()));
  reg.hup();
  await waitUntil(async () => !names(await (await get('/v0.1/servers?version=latest', tokens.alice)).json()).includes('ads'),
    5000, 'reload back');
});

function bridgeEnv(account) {
  return userEnv(idp, { store: 'file', extra: { MCP_BRIDGE_REGISTRY: reg.base, TEST_ACCOUNT: account } });
}

test('bridge: alice and bob see different servers; refused remotes; denials with --all', { timeout: 60000 }, async () => {
  const alice = bridgeEnv('alice');
  const bob = bridgeEnv('bob');
  await loginAs(idp, alice, 'alice');
  await loginAs(idp, bob, 'bob');
  const la = JSON.parse((await runBridge(['servers', '--json'], { env: alice })).stdout);
  const lb = JSON.parse((await runBridge(['servers', '--json'], { env: bob })).stdout);
  assert.deepEqual(la.servers.map((s) => s.id), ['airflow', 'knowledge', 'presto']);
  assert.deepEqual(lb.servers.map((s) => s.id), ['ads', 'knowledge', 'presto']);
  assert.equal(la.servers.find((s) => s.id === 'presto').resource, RES('presto'));
  const text = await runBridge(['servers', '--all'], { env: alice });
  assert.equal(text.code, 0);
  assert.match(text.stdout, /evil .*\n +not usable: remote URL refused: plain http:\/\/ is only allowed for loopback/);
  assert.match(text.stdout, /ads .*\n +denied: .*request access at https:\/\/access\.example\.com\/ads/);
  assert.match(text.stdout, /airflow .*deprecated .*\n +deprecated: Use com\.example\.mcp\/orchestrator/);
});

test('bridge: run --server connects with that server\'s audience; a denied server is never contacted', { timeout: 60000 }, async (t) => {
  const alice = bridgeEnv('alice');
  await loginAs(idp, alice, 'alice');
  await hosted.presto.control('reset-state');
  await hosted.ads.control('reset-state');
  const h = await connectBridge({ url: null, env: alice, args: ['--server', 'presto'] });
  closeAndCheck(t, h);
  await waitUntil(async () => (await h.client.listTools(undefined, T)).tools.some((x) => x.name === 'echo'), 10000, 'presto tools');
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'sql' } }, undefined, T)), 'sql');
  const ps = await hosted.presto.state();
  assert.ok(ps.authAccepted > 0 && ps.authRejected === 0, JSON.stringify(ps.authReasons));
  assert.ok(ps.audiences.every((x) => x === RES('presto')));

  const messages = [];
  const d = await connectBridge({ url: null, env: alice, args: ['--server', 'com.example.mcp/ads'] });
  closeAndCheck(t, d);
  const e = await waitUntil(async () => {
    const r = await d.client.callTool({ name: 'echo', arguments: { text: 'x' } }, undefined, T).catch((x) => x);
    return /denied/.test(String(r.message ?? '')) ? r : null;
  }, 10000, 'denial');
  assert.match(e.message, /access to com\.example\.mcp\/ads denied: .*request access at https:\/\/access\.example\.com\/ads/);
  // stderr and stdout are two pipes: the log line may arrive after the answer.
  await waitUntil(() => /access to com\.example\.mcp\/ads denied/.test(d.stderr()), 5000, 'denial logged');
  assert.equal((await hosted.ads.state()).posts, 0, 'the denied server was never contacted');
  void messages;
});

test('bridge: a refused remote gets no token (capturing proxy); registry down serves the cached catalog; 401 from the registry refreshes once', { timeout: 60000 }, async (t) => {
  const alice = bridgeEnv('alice');
  await loginAs(idp, alice, 'alice');
  // A capturing listener as the HTTP proxy: a plain-http remote would go through it.
  const got = [];
  const cap = net.createServer((s) => s.on('data', (d) => got.push(d.toString())));
  await new Promise((r) => cap.listen(0, '127.0.0.1', r));
  const env = { ...alice, http_proxy: `http://127.0.0.1:${cap.address().port}`, HTTP_PROXY: `http://127.0.0.1:${cap.address().port}`, no_proxy: '127.0.0.1' };
  const h = await connectBridge({ url: null, env, args: ['--server', 'evil'] });
  closeAndCheck(t, h);
  await waitUntil(() => /not usable: remote URL refused/.test(h.stderr()), 10000, 'refusal logged');
  await sleep(300);
  assert.deepEqual(got, [], 'nothing reached the capturing listener');
  cap.close();

  // The stored access token is refused by the registry: refresh once, retry.
  fs.rmSync(path.join(alice.XDG_CACHE_HOME, 'mcp-bridge'), { recursive: true, force: true });
  const stateDir = path.join(alice.XDG_STATE_HOME, 'mcp-bridge');
  const f = path.join(stateDir, fs.readdirSync(stateDir)[0]);
  const set = JSON.parse(fs.readFileSync(f, 'utf8'));
  const before = await idp.stats();
  set.access.find((a) => a.resource === null).token = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Im5vIn0.e30.AAAA';
  fs.writeFileSync(f, JSON.stringify(set), { mode: 0o600 });
  const r = await runBridge(['servers', '--json'], { env: alice, timeout: 15000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).stale, false);
  assert.equal((await idp.stats()).refresh_success, before.refresh_success + 1, 'one refresh');

  // Registry down: the cached catalog, marked stale, with one warning
  // (once its max-age has passed; here: made an hour old).
  const cacheDir = path.join(alice.XDG_CACHE_HOME, 'mcp-bridge');
  for (const c of fs.readdirSync(cacheDir)) {
    const j = JSON.parse(fs.readFileSync(path.join(cacheDir, c), 'utf8'));
    j.fetched_at -= 3600;
    fs.writeFileSync(path.join(cacheDir, c), JSON.stringify(j));
  }
  await reg.stop();
  try {
    const s = await runBridge(['servers', '--json'], { env: alice });
    assert.equal(s.code, 0, s.stderr);
    const j = JSON.parse(s.stdout);
    assert.equal(j.stale, true);
    assert.deepEqual(j.servers.map((x) => x.id), ['airflow', 'knowledge', 'presto']);
    assert.equal(s.stderr.match(/registry unreachable/g).length, 1);
    const fresh = bridgeEnv('alice');
    const n = await runBridge(['servers'], { env: fresh });
    assert.notEqual(n.code, 0, 'no cache and no registry: an error');
  } finally {
    reg = await startRegistry();
  }
  assert.equal(sanitizerReport(r.stderr), null);
});

test('mcp-registryd --check validates catalog and policy offline', { timeout: 10000 }, async () => {
  const { spawnSync } = await import('node:child_process');
  const fx = path.join(REPO, 'tests', 'fixtures', 'registry');
  const ok = spawnSync(REGISTRYD, ['--check', '--catalog', path.join(fx, 'catalog'), '--policy', path.join(fx, 'policy.json')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^ok: 6 server versions/);
  const badPolicy = path.join(dir, 'bad-policy.json');
  fs.writeFileSync(badPolicy, '{"servers": {"com.example.mcp/x": {"status": "retired"}}}');
  const bad = spawnSync(REGISTRYD, ['--check', '--catalog', path.join(fx, 'catalog'), '--policy', badPolicy], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /policy: com\.example\.mcp\/x: status: expected active, deprecated or deleted/);
});

test('bridge: a registry that is down when the IDE starts is asked again; the tools appear when it is back', { timeout: 60000 }, async (t) => {
  const alice = bridgeEnv('alice');
  await loginAs(idp, alice, 'alice');
  const port = reg.port;
  await reg.stop();
  let changed = 0;
  const { types } = await import('./lib.mjs');
  const h = await connectBridge({
    url: null, env: alice, args: ['--server', 'presto', '--log-level', 'info'],
    notificationHandlers: [[types.ToolListChangedNotificationSchema, () => { changed++; }]],
  });
  closeAndCheck(t, h);
  await waitUntil(() => /asking the registry again in 2 s/.test(h.stderr()), 10000, 'a retry scheduled');
  const e = await h.client.callTool({ name: 'echo', arguments: { text: 'x' } }, undefined, T).catch((x) => x);
  assert.match(String(e.message ?? e), /not connected: registry .*: .*(connect|refused)/i);
  reg = await startRegistry(port);
  await waitUntil(() => changed > 0, 20000, 'list_changed once the registry is back');
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'back' } }, undefined, T)), 'back');
});
