// SPDX-License-Identifier: ISC
// mcp-registryd on its own, over HTTP, against the fixture catalog in
// tests/fixtures/registry and real tokens from the test IdP (alice: eng,
// mcp-users; bob: finance). Complements registry.test.mjs (which drives
// the bridge too): every endpoint and status on the fixture policy, raw
// path decoding, 405, an expired token (a second IdP with --at-ttl 1 and
// a registry with --leeway 0), a broken catalog file at SIGHUP, sanitizer
// reports, exit status 0 on SIGTERM.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn, startRegistryd, startIdp, tmpDir, REPO, withTimeout, waitUntil, sleep, sanitizerReport, REGISTRYD } from './lib.mjs';

const FIX = path.join(REPO, 'tests/fixtures/registry');
const OFF = 'io.modelcontextprotocol.registry/official';

let idp, shortIdp, reg, shortReg, dir;
const tok = {};

async function deviceToken(issuer, approve, account, extra = {}) {
  const post = (p, body) => fetch(`${issuer}${p}`, { method: 'POST', body: new URLSearchParams(body) });
  const d = await (await post('/device/auth', { client_id: 'mcp-bridge', scope: 'openid offline_access groups', ...extra })).json();
  await approve(d.user_code, account);
  for (let i = 0; i < 20; i++) {
    const r = await post('/token', { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: d.device_code, client_id: 'mcp-bridge' });
    if (r.status === 200) return r.json();
    await sleep(1100);
  }
  throw new Error(`no token for ${account}`);
}

function startRegistry(name, i, extra = []) {
  return startRegistryd(dir, i, { log: path.join(dir, `${name}.log`), extra: ['--threads', '2', ...extra] });
}

before(async () => {
  dir = tmpDir('mcp-registryd-');
  fs.cpSync(FIX, dir, { recursive: true });
  [idp, shortIdp] = await Promise.all([
    startIdp(['--interval', '1', '--resources', 'http://127.0.0.1/other']),
    startIdp(['--interval', '1', '--at-ttl', '1']),
  ]);
  reg = await startRegistry('main', idp);
  shortReg = await startRegistry('short', shortIdp, ['--leeway', '0']);
  const [a, b, s] = await Promise.all([
    deviceToken(idp.issuer, idp.approve, 'alice'),
    deviceToken(idp.issuer, idp.approve, 'bob'),
    deviceToken(shortIdp.issuer, shortIdp.approve, 'alice'),
  ]);
  tok.alice = a.access_token;
  tok.aliceRefresh = a.refresh_token;
  tok.bob = b.access_token;
  tok.short = s.access_token;
});

after(async () => {
  await reg?.stop();
  await shortReg?.stop();
  await idp?.stop();
  await shortIdp?.stop();
});

const get = (base, p, t, headers = {}) => fetch(`${base}${p}`, {
  headers: { ...(t ? { authorization: `Bearer ${t}` } : {}), ...headers },
});
const json = async (p, t, status = 200) => {
  const r = await get(reg.base, p, t);
  assert.equal(r.status, status, `${p}: ${r.status}`);
  return r.json();
};
const names = (j) => j.servers.map((s) => `${s.server.name.split('/')[1]}@${s.server.version}`);

// A request with the path exactly as written (fetch would normalise it).
function rawGet(p, t) {
  return new Promise((resolve, reject) => {
    const rq = http.request({ host: '127.0.0.1', port: reg.port, path: p, headers: { authorization: `Bearer ${t}` } },
      (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    rq.on('error', reject);
    rq.end();
  });
}

test('lists follow the fixture policy for alice and bob; deleted never listed; deprecated with its message', { timeout: 20000 }, async () => {
  assert.deepEqual(names(await json('/v0.1/servers?version=latest', tok.alice)),
    ['airflow@1.4.1', 'knowledge@1.0.0', 'presto@2.3.0']);
  assert.deepEqual(names(await json('/v0.1/servers?version=latest', tok.bob)),
    ['ads@1.0.0', 'knowledge@1.0.0', 'presto@2.3.0']);
  const all = await json('/v0.1/servers', tok.bob);
  assert.deepEqual(names(all), ['ads@1.0.0', 'knowledge@1.0.0', 'presto@2.3.0', 'presto@2.2.0']);
  assert.equal(all.metadata.count, 4);
  assert.equal(all.metadata.nextCursor, undefined);
  const air = (await json('/v0.1/servers?search=AIRFLOW', tok.alice)).servers[0];
  assert.equal(air._meta[OFF].status, 'deprecated');
  assert.equal(air._meta[OFF].statusMessage, 'Use com.example.mcp/orchestrator');
  assert.equal(air._meta['dev.mcp-bridge.registry/access'].allowed, true);
  const denied = await json('/v0.1/servers?include_denied=true&version=latest', tok.alice);
  assert.ok(!names(denied).some((n) => n.startsWith('old@')), 'deleted listed');
  const ads = denied.servers.find((s) => s.server.name.endsWith('/ads'));
  assert.equal(ads._meta['dev.mcp-bridge.registry/access'].allowed, false);
  assert.equal(ads._meta['dev.mcp-bridge.registry/access'].requestAccessUrl, 'https://access.example.com/ads');
  assert.deepEqual(names(await json('/v0.1/servers?search=warehouse', tok.bob)), ['presto@2.3.0', 'presto@2.2.0']);
  assert.deepEqual(names(await json('/v0.1/servers?updated_since=2100-01-01T00:00:00Z', tok.bob)), []);
});

test('pagination to the end, limits and cursors', { timeout: 20000 }, async () => {
  for (const limit of [1, 2, 3, 100]) {
    const seen = [];
    let cursor, pages = 0;
    do {
      const q = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const j = await json(`/v0.1/servers?${q}`, tok.bob);
      assert.ok(j.servers.length <= limit);
      seen.push(...names(j));
      cursor = j.metadata.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.deepEqual(seen, ['ads@1.0.0', 'knowledge@1.0.0', 'presto@2.3.0', 'presto@2.2.0'], `limit ${limit}`);
  }
  for (const q of ['limit=0', 'limit=101', 'limit=x', 'cursor=bogus', 'updated_since=soon']) {
    const r = await get(reg.base, `/v0.1/servers?${q}`, tok.bob);
    assert.equal(r.status, 400, q);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    const p = await r.json();
    assert.deepEqual(Object.keys(p).sort(), ['detail', 'status', 'title', 'type']);
    assert.equal(p.status, 400);
  }
});

test('versions, details, access, 403/404/405, decoding', { timeout: 20000 }, async () => {
  const v = await json('/v0.1/servers/com.example.mcp%2Fpresto/versions', tok.bob);
  assert.deepEqual(v.servers.map((s) => [s.server.version, s._meta[OFF].isLatest]), [['2.3.0', true], ['2.2.0', false]]);
  assert.equal((await json('/v0.1/servers/com.example.mcp%2fpresto/versions/2.2.0', tok.bob)).server.version, '2.2.0');
  assert.equal((await json('/v0.1/servers/com.example.mcp%2Fads/versions/latest', tok.bob)).server.version, '1.0.0');
  const forbidden = await json('/v0.1/servers/com.example.mcp%2Fads/versions/latest', tok.alice, 403);
  assert.equal(forbidden.requestAccessUrl, 'https://access.example.com/ads');
  await json('/v0.1/servers/com.example.mcp%2Fairflow/versions', tok.bob, 403);
  await json('/v0.1/servers/com.example.mcp%2Fold/versions/latest', tok.bob, 404);
  await json('/v0.1/servers/com.example.mcp%2Fnope/versions', tok.bob, 404);
  await json('/v0.1/servers/com.example.mcp%2Fpresto/versions/0.0.1', tok.bob, 404);
  await json('/v0.2/servers', tok.bob, 404);
  assert.equal(await rawGet('/v0.1/servers/com.example.mcp/presto/versions/latest', tok.bob), 200);
  assert.equal(await rawGet('/v0.1/servers/com.example.mcp%zzpresto/versions', tok.bob), 404);
  const post = await fetch(`${reg.base}/v0.1/servers`, { method: 'POST', headers: { authorization: `Bearer ${tok.bob}` } });
  assert.equal(post.status, 405);

  const no = await json('/v0.1/servers/com.example.mcp%2Fpresto/access', tok.alice);
  assert.equal(no.allowed, true, 'alice is in eng');
  const ads = await json('/v0.1/servers/com.example.mcp%2Fads/access', tok.alice);
  assert.equal(ads.allowed, false);
  assert.ok(ads.reason && ads.message && ads.expiresAt);
  assert.equal(ads.requestAccessUrl, 'https://access.example.com/ads');
  const yes = await json('/v0.1/servers/com.example.mcp%2Fads/access', tok.bob);
  assert.deepEqual([yes.allowed, yes.via], [true, ['finance']]);
  await json('/v0.1/servers/com.example.mcp%2Fold/access', tok.bob, 404);
});

test('ETag/304, caching headers, CORS, preflight, RFC 9728 metadata', { timeout: 20000 }, async () => {
  const r = await get(reg.base, '/v0.1/servers/com.example.mcp%2Fpresto/versions', tok.bob);
  assert.equal(r.status, 200);
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  assert.equal(r.headers.get('cache-control'), 'private, max-age=60');
  assert.equal(r.headers.get('vary'), 'Authorization');
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  const again = await get(reg.base, '/v0.1/servers/com.example.mcp%2Fpresto/versions', tok.bob, { 'if-none-match': etag });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('etag'), etag);
  assert.equal((await again.text()).length, 0);
  const pre = await fetch(`${reg.base}/v0.1/servers/com.example.mcp%2Fpresto/versions/latest`, {
    method: 'OPTIONS', headers: { origin: 'https://ide.example.com', 'access-control-request-headers': 'authorization' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, OPTIONS');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'Authorization, Content-Type');
  const none = await get(reg.base, '/v0.1/servers');
  const m = /resource_metadata="([^"]+)"/.exec(none.headers.get('www-authenticate'));
  assert.ok(m, none.headers.get('www-authenticate'));
  const prm = await (await fetch(m[1])).json();
  assert.deepEqual(prm, { resource: idp.resource, authorization_servers: [idp.issuer], bearer_methods_supported: ['header'] });
});

test('401: missing, expired, tampered, wrong audience; access log without tokens', { timeout: 20000 }, async () => {
  const none = await get(reg.base, '/v0.1/servers');
  assert.equal(none.status, 401);
  assert.doesNotMatch(none.headers.get('www-authenticate'), /error=/);
  assert.equal((await none.json()).status, 401);

  await sleep(2200); // the 1 s token of the second IdP is now expired
  const exp = await get(shortReg.base, '/v0.1/servers', tok.short);
  assert.equal(exp.status, 401);
  assert.match(exp.headers.get('www-authenticate'), /error="invalid_token", error_description="[^"]*expired[^"]*"/);

  const [h, p, s] = tok.alice.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  claims.groups = ['ads', 'finance', 'eng'];
  const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  const tam = await get(reg.base, '/v0.1/servers', forged);
  assert.equal(tam.status, 401);
  assert.match(tam.headers.get('www-authenticate'), /error="invalid_token"/);

  const other = await (await fetch(`${idp.issuer}/token`, { method: 'POST', body: new URLSearchParams({
    grant_type: 'refresh_token', refresh_token: tok.aliceRefresh, client_id: 'mcp-bridge', resource: 'http://127.0.0.1/other' }) })).json();
  assert.ok(other.access_token, JSON.stringify(other));
  const aud = await get(reg.base, '/v0.1/servers', other.access_token);
  assert.equal(aud.status, 401);
  assert.match(aud.headers.get('www-authenticate'), /audience/);

  const log = fs.readFileSync(reg.log, 'utf8') + fs.readFileSync(shortReg.log, 'utf8');
  assert.match(log, /user=bob method=GET path=\/v0\.1\/servers\/com\.example\.mcp%2Fpresto\/versions status=200 ms=[\d.]+ bytes=\d+/);
  assert.match(log, /user=alice method=GET path=\S+ status=403 /);
  assert.match(log, /user=- method=OPTIONS path=\S+ status=204 /);
  assert.match(log, /user=- method=GET path=\/v0\.1\/servers status=401 /);
  for (const t of [tok.alice, tok.bob, tok.short, forged, other.access_token]) {
    for (const part of t.split('.')) assert.ok(!log.includes(part), 'a token part in the access log');
  }
});

test('SIGHUP: a changed policy takes effect; a broken catalog file keeps the old state; SIGTERM exits 0', { timeout: 20000 }, async () => {
  const polPath = path.join(dir, 'policy.json');
  const pol = JSON.parse(fs.readFileSync(polPath, 'utf8'));
  pol.servers['com.example.mcp/ads'].groups.push('mcp-users');
  fs.writeFileSync(polPath, JSON.stringify(pol));
  reg.proc.kill('SIGHUP');
  const hasAds = async () => names(await json('/v0.1/servers?version=latest', tok.alice)).includes('ads@1.0.0');
  await waitUntil(hasAds, 5000, 'policy reload');

  const bad = path.join(dir, 'catalog', 'zz-broken.json');
  fs.writeFileSync(bad, JSON.stringify({ name: 'no slash', version: '1', description: 'x' }));
  pol.servers['com.example.mcp/ads'].groups.pop();
  fs.writeFileSync(polPath, JSON.stringify(pol));
  reg.proc.kill('SIGHUP');
  await waitUntil(() => /reload refused.*zz-broken\.json.*name/.test(fs.readFileSync(reg.log, 'utf8') + reg.stderr()),
    5000, 'refusal logged with the file and key');
  assert.ok(await hasAds(), 'old state kept');
  fs.rmSync(bad);
  reg.proc.kill('SIGHUP');
  await waitUntil(async () => !(await hasAds()), 5000, 'reload back');

  const code = await reg.stop();
  assert.equal(code, 0);
  assert.equal(sanitizerReport(reg.stderr()), null, reg.stderr());
});
