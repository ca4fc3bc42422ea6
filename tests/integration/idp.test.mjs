// SPDX-License-Identifier: ISC
// Self-test of the local test OpenID provider (tests/node/test-idp.mjs):
// discovery shapes, RFC 8628 device flow with interval/slow_down, approval and
// denial, JWT access tokens, refresh rotation and reuse detection, resource
// indicators, revocation, fault injection and lifecycle. Uses fetch() only.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from './lib.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const IDP = path.join(REPO, 'tests', 'node', 'test-idp.mjs');
// Same runtime choice as scripts/env.sh: tests/node/runtime's node if present.
const RUNTIME_NODE = path.join(REPO, 'tests', 'node', 'runtime', 'node_modules', '.bin', 'node');
const NODE = fs.existsSync(RUNTIME_NODE) ? RUNTIME_NODE : process.execPath;

const DEFAULT_RESOURCE = 'http://127.0.0.1/mcp-registry';
const EXTRA = 'http://127.0.0.1:7001/mcp';
const DEVICE_GT = 'urn:ietf:params:oauth:grant-type:device_code';
const SCOPE = 'openid offline_access email profile groups';

const children = new Set();
after(() => {
  for (const p of children) p.kill('SIGKILL');
});

/** Spawns the IdP and waits for its ready line. */
async function startIdp(args = [], { stdin = 'ignore' } = {}) {
  const proc = spawn(NODE, [IDP, ...args], { stdio: [stdin, 'pipe', 'pipe'] });
  children.add(proc);
  const idp = { proc, stdout: '', stderr: '', exited: null };
  proc.stdout.on('data', (d) => { idp.stdout += d; });
  proc.stderr.on('data', (d) => { idp.stderr += d; });
  idp.exit = new Promise((resolve) => proc.once('exit', (code, signal) => {
    children.delete(proc);
    idp.exited = { code, signal };
    resolve(idp.exited);
  }));
  // Several IdPs start at once; on a loaded 2-core machine that is slow.
  const deadline = Date.now() + 30000;
  while (!idp.stdout.includes('\n')) {
    if (idp.exited) throw new Error(`test-idp exited early: ${JSON.stringify(idp.exited)}\n${idp.stderr}`);
    if (Date.now() > deadline) throw new Error(`test-idp not ready in 30 s\n${idp.stderr}`);
    await sleep(20);
  }
  const ready = JSON.parse(idp.stdout.split('\n')[0]);
  assert.equal(ready.ready, true);
  assert.equal(ready.issuer, `http://127.0.0.1:${ready.port}`);
  assert.equal(ready.client_id, 'mcp-bridge');
  assert.equal(ready.resource, DEFAULT_RESOURCE);
  Object.assign(idp, ready, {
    url: (p) => `${ready.issuer}${p}`,
    async stop(signal = 'SIGTERM') {
      if (!idp.exited) proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      const r = await idp.exit;
      clearTimeout(t);
      return r;
    },
  });
  return idp;
}

async function form(url, params) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  const text = await r.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: r.status, json, text, headers: r.headers };
}

async function getJson(url) {
  const r = await fetch(url);
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json };
}

async function postJson(url, body) {
  const r = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

const deviceAuth = (idp, extra = {}) => form(idp.url('/device/auth'), { client_id: 'mcp-bridge', scope: SCOPE, ...extra });
const poll = (idp, deviceCode) => form(idp.url('/token'), { grant_type: DEVICE_GT, client_id: 'mcp-bridge', device_code: deviceCode });
const refresh = (idp, rt, extra = {}) => form(idp.url('/token'), { grant_type: 'refresh_token', client_id: 'mcp-bridge', refresh_token: rt, ...extra });
const stats = async (idp) => (await getJson(idp.url('/__test/stats'))).json;

function decode(jwt) {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

/** Device auth + approval + first token response. */
async function login(idp, account) {
  const da = await deviceAuth(idp);
  assert.equal(da.status, 200, da.text);
  const ap = await postJson(idp.url('/__test/approve'), account ? { user_code: da.json.user_code, account } : { user_code: da.json.user_code });
  assert.equal(ap.status, 200);
  const tok = await poll(idp, da.json.device_code);
  assert.equal(tok.status, 200, tok.text);
  return { da, tok: tok.json };
}

describe('test-idp', { concurrency: true }, () => {
  test('main flow: discovery, device flow, tokens, refresh, resources, revocation, deny, faults', async (t) => {
    const idp = await startIdp(['--interval', '1', '--resources', EXTRA, '--verbose']);
    const secrets = [];

    await t.test('discovery on both paths', async () => {
      for (const p of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
        const d = await getJson(idp.url(p));
        assert.equal(d.status, 200, p);
        assert.equal(d.json.issuer, idp.issuer);
        assert.equal(d.json.device_authorization_endpoint, idp.url('/device/auth'));
        assert.equal(d.json.token_endpoint, idp.url('/token'));
        assert.equal(d.json.revocation_endpoint, idp.url('/token/revocation'));
        assert.equal(d.json.introspection_endpoint, idp.url('/token/introspection'));
        assert.equal(d.json.jwks_uri, idp.url('/jwks'));
        assert.ok(d.json.grant_types_supported.includes(DEVICE_GT));
        assert.ok(d.json.token_endpoint_auth_methods_supported.includes('none'));
      }
    });

    let first;
    await t.test('device flow: pending, no slow_down without the flag, approve, tokens', async () => {
      const da = await deviceAuth(idp);
      assert.equal(da.status, 200);
      assert.equal(da.json.interval, 1);
      assert.equal(da.json.expires_in, 600);
      assert.match(da.json.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
      assert.equal(da.json.verification_uri, idp.url('/device'));
      secrets.push(da.json.device_code);
      for (let i = 0; i < 2; i++) {
        const p = await poll(idp, da.json.device_code);
        assert.equal(p.status, 400);
        assert.equal(p.json.error, 'authorization_pending');
      }
      const pending = (await getJson(idp.url('/__test/pending'))).json;
      assert.deepEqual(pending.codes.find((c) => c.user_code === da.json.user_code), { user_code: da.json.user_code, polls: 2 });
      const ap = await postJson(idp.url('/__test/approve'), { user_code: da.json.user_code });
      assert.deepEqual(ap, { status: 200, json: { approved: true, account: 'alice' } });
      assert.ok(!(await getJson(idp.url('/__test/pending'))).json.codes.some((c) => c.user_code === da.json.user_code));

      const tok = await poll(idp, da.json.device_code);
      assert.equal(tok.status, 200, tok.text);
      assert.equal(tok.headers.get('cache-control'), 'no-store');
      assert.equal(tok.json.token_type, 'Bearer');
      assert.equal(tok.json.expires_in, 600);
      assert.equal(tok.json.scope, 'mcp:tools registry:read');
      for (const k of ['access_token', 'refresh_token', 'id_token']) assert.equal(typeof tok.json[k], 'string', k);
      secrets.push(tok.json.access_token, tok.json.refresh_token, tok.json.id_token);
      first = tok.json;

      const at = decode(tok.json.access_token);
      assert.equal(at.header.typ, 'at+jwt');
      assert.equal(at.header.alg, 'ES256');
      assert.equal(at.payload.iss, idp.issuer);
      assert.equal(at.payload.aud, DEFAULT_RESOURCE);
      assert.equal(at.payload.sub, 'alice');
      assert.equal(at.payload.client_id, 'mcp-bridge');
      assert.equal(at.payload.email, 'alice@example.com');
      assert.equal(at.payload.preferred_username, 'alice');
      assert.deepEqual(at.payload.groups, ['eng', 'mcp-users']);
      assert.equal(at.payload.scope, 'mcp:tools registry:read');
      assert.equal(at.payload.exp - at.payload.iat, 600);

      const idt = decode(tok.json.id_token).payload;
      assert.equal(idt.iss, idp.issuer);
      assert.equal(idt.aud, 'mcp-bridge');
      assert.equal(idt.sub, 'alice');
      assert.equal(idt.email, 'alice@example.com');
      assert.equal(idt.email_verified, true);
      assert.equal(idt.name, 'Alice Example');
      assert.deepEqual(idt.groups, ['eng', 'mcp-users']);
    });

    await t.test('access token signature verifies against jwks_uri', async () => {
      const { keys } = (await getJson(idp.url('/jwks'))).json;
      assert.ok(keys.every((k) => k.d === undefined), 'no private parts published');
      const [h, p, s] = first.access_token.split('.');
      const jwk = keys.find((k) => k.kid === decode(first.access_token).header.kid);
      assert.ok(jwk, 'kid present in JWKS');
      const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`),
        { key: crypto.createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
      assert.ok(ok);
      // kid is stable within a run
      const { tok } = await login(idp);
      assert.equal(decode(tok.access_token).header.kid, jwk.kid);
    });

    await t.test('refresh rotates; reuse of an old RT revokes the grant', async () => {
      await postJson(idp.url('/__test/reset-stats'), {});
      const r1 = await refresh(idp, first.refresh_token);
      assert.equal(r1.status, 200, r1.text);
      assert.notEqual(r1.json.refresh_token, first.refresh_token);
      assert.equal(decode(r1.json.access_token).payload.aud, DEFAULT_RESOURCE);
      const r2 = await refresh(idp, r1.json.refresh_token);
      assert.equal(r2.status, 200, r2.text);
      assert.notEqual(r2.json.refresh_token, r1.json.refresh_token);
      secrets.push(r1.json.refresh_token, r2.json.refresh_token, r1.json.access_token);

      const reuse = await refresh(idp, first.refresh_token);
      assert.equal(reuse.status, 400);
      assert.equal(reuse.json.error, 'invalid_grant');
      const after1 = await refresh(idp, r2.json.refresh_token);
      assert.equal(after1.json.error, 'invalid_grant', 'the newest RT died with the grant');
      const st = await stats(idp);
      assert.equal(st.refresh_success, 2);
      assert.equal(st.refresh_fail, 2);
      assert.ok(st.reuse_detected >= 1);
      assert.ok(st.grants_revoked >= 1);
      assert.equal(st.invalid_grant, 2);
    });

    await t.test('resource indicators on refresh', async () => {
      const { tok } = await login(idp, 'bob');
      assert.deepEqual(decode(tok.access_token).payload.groups, ['finance']);
      const r = await refresh(idp, tok.refresh_token, { resource: EXTRA });
      assert.equal(r.status, 200, r.text);
      const at = decode(r.json.access_token).payload;
      assert.equal(at.aud, EXTRA);
      assert.equal(at.sub, 'bob');
      assert.equal(at.scope, 'mcp:tools registry:read');
      const bad = await refresh(idp, r.json.refresh_token, { resource: 'https://evil.example/' });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error, 'invalid_target');
      const st = await stats(idp);
      assert.ok(st.resources[EXTRA] >= 1);
      assert.ok(st.resources[DEFAULT_RESOURCE] >= 1);
    });

    await t.test('revocation, then refresh fails', async () => {
      const { tok } = await login(idp, 'carol');
      assert.deepEqual(decode(tok.access_token).payload.groups, []);
      const before = await stats(idp);
      const rv = await form(idp.url('/token/revocation'), { token: tok.refresh_token, token_type_hint: 'refresh_token', client_id: 'mcp-bridge' });
      assert.equal(rv.status, 200);
      const rv2 = await form(idp.url('/token/revocation'), { token: tok.refresh_token, token_type_hint: 'refresh_token', client_id: 'mcp-bridge' });
      assert.equal(rv2.status, 200, 'revoking twice is still 200');
      const r = await refresh(idp, tok.refresh_token);
      assert.equal(r.json.error, 'invalid_grant');
      const st = await stats(idp);
      assert.equal(st.revocations, before.revocations + 2);
    });

    await t.test('polling a device code again after success revokes the grant', async () => {
      const { da, tok } = await login(idp);
      const before = await stats(idp);
      const again = await poll(idp, da.json.device_code);
      assert.equal(again.json.error, 'invalid_grant');
      assert.equal((await refresh(idp, tok.refresh_token)).json.error, 'invalid_grant');
      const st = await stats(idp);
      assert.equal(st.device_code_replay, before.device_code_replay + 1);
      assert.equal(st.grants_revoked, before.grants_revoked + 1);
    });

    await t.test('deny gives access_denied; unknown codes give 404', async () => {
      const da = await deviceAuth(idp);
      const dn = await postJson(idp.url('/__test/deny'), { user_code: da.json.user_code });
      assert.equal(dn.status, 200);
      const p = await poll(idp, da.json.device_code);
      assert.equal(p.status, 400);
      assert.equal(p.json.error, 'access_denied');
      assert.equal((await postJson(idp.url('/__test/approve'), { user_code: 'BCDF-GHJK' })).status, 404);
      // form bodies work too
      const f = await form(idp.url('/__test/deny'), { user_code: 'BCDF-GHJK' });
      assert.equal(f.status, 404);
      assert.equal(f.json.error, 'not_found');
    });

    await t.test('fault injection: 500, close, slow', async () => {
      let r = await postJson(idp.url('/__test/fail'), { endpoint: 'token', mode: '500', count: 2 });
      assert.equal(r.status, 200);
      for (let i = 0; i < 2; i++) {
        const p = await refresh(idp, 'x');
        assert.equal(p.status, 500);
        assert.equal(p.json.error, 'server_error');
      }
      assert.equal((await refresh(idp, 'x')).json.error, 'invalid_grant', 'back to normal');

      await postJson(idp.url('/__test/fail'), { endpoint: 'device', mode: 'close', count: 1 });
      await assert.rejects(deviceAuth(idp));
      assert.equal((await deviceAuth(idp)).status, 200);

      await postJson(idp.url('/__test/fail'), { endpoint: 'discovery', mode: '500', count: 1 });
      assert.equal((await getJson(idp.url('/.well-known/openid-configuration'))).status, 500);

      await postJson(idp.url('/__test/fail'), { endpoint: 'revocation', mode: 'slow', count: 1 });
      const t0 = Date.now();
      const rv = await form(idp.url('/token/revocation'), { token: 'x', client_id: 'mcp-bridge' });
      assert.equal(rv.status, 200);
      assert.ok(Date.now() - t0 >= 2900, 'delayed ~3 s');

      r = await postJson(idp.url('/__test/fail'), { endpoint: 'nope', mode: '500' });
      assert.equal(r.status, 400);
      assert.ok((await stats(idp)).injected_failures >= 5);
    });

    await t.test('stdout has only the ready line; stderr logs carry no secrets', async () => {
      assert.equal((await idp.stop()).code, 0);
      assert.equal(idp.stdout.trim().split('\n').length, 1, idp.stdout);
      assert.match(idp.stderr, /POST \/token grant_type=refresh_token status=400 error=invalid_grant/);
      assert.match(idp.stderr, /POST \/token grant_type=device_code status=400 error=authorization_pending/);
      for (const s of secrets) assert.ok(!idp.stderr.includes(s), 'secret value in stderr');
    });
  });

  test('--slow-down: fast polls get slow_down and the interval grows by 5 s', async () => {
    const idp = await startIdp(['--interval', '1', '--slow-down']);
    const da = await deviceAuth(idp);
    assert.equal((await poll(idp, da.json.device_code)).json.error, 'authorization_pending');
    const p2 = await poll(idp, da.json.device_code);
    assert.equal(p2.status, 400);
    assert.equal(p2.json.error, 'slow_down');
    await sleep(1100); // 1 s is no longer enough: the interval is 6 s now
    assert.equal((await poll(idp, da.json.device_code)).json.error, 'slow_down');
    // another code is not affected
    const db = await deviceAuth(idp);
    assert.equal((await poll(idp, db.json.device_code)).json.error, 'authorization_pending');
    await sleep(1050);
    assert.equal((await poll(idp, db.json.device_code)).json.error, 'authorization_pending');
    const st = await stats(idp);
    assert.equal(st.slow_down, 2);
    assert.equal(st.device_polls, 5);
    assert.equal(st.device_auth, 2);
    const pend = (await getJson(idp.url('/__test/pending'))).json.codes;
    assert.equal(pend.find((c) => c.user_code === da.json.user_code).polls, 3);
    await idp.stop();
  });

  test('8 concurrent refreshes with one RT: one wins, reuse is detected, the grant is revoked', async () => {
    const idp = await startIdp(['--interval', '1']);
    const { tok } = await login(idp);
    await postJson(idp.url('/__test/reset-stats'), {});
    const rs = await Promise.all(Array.from({ length: 8 }, () => refresh(idp, tok.refresh_token)));
    assert.equal(rs.filter((r) => r.status === 200).length, 1);
    assert.ok(rs.filter((r) => r.status !== 200).every((r) => r.json.error === 'invalid_grant'));
    const winner = rs.find((r) => r.status === 200).json;
    assert.equal((await refresh(idp, winner.refresh_token)).json.error, 'invalid_grant');
    const st = await stats(idp);
    assert.equal(st.refresh_success, 1);
    assert.equal(st.refresh_fail, 8);
    assert.equal(st.reuse_detected, 1);
    assert.equal(st.grants_revoked, 1);
    await idp.stop();
  });

  test('--code-ttl 2: expired_token', async () => {
    const idp = await startIdp(['--interval', '1', '--code-ttl', '2']);
    const da = await deviceAuth(idp);
    assert.equal(da.json.expires_in, 2);
    await sleep(2300);
    const p = await poll(idp, da.json.device_code);
    assert.equal(p.status, 400);
    assert.equal(p.json.error, 'expired_token');
    assert.equal((await stats(idp)).expired_token, 1);
    assert.equal((await postJson(idp.url('/__test/approve'), { user_code: da.json.user_code })).status, 410);
    await idp.stop();
  });

  test('--at-ttl and --auto-approve-ms', async () => {
    const idp = await startIdp(['--interval', '1', '--at-ttl', '5', '--auto-approve-ms', '100']);
    const da = await deviceAuth(idp);
    await sleep(400);
    const tok = await poll(idp, da.json.device_code);
    assert.equal(tok.status, 200, tok.text);
    assert.equal(tok.json.expires_in, 5);
    const at = decode(tok.json.access_token).payload;
    assert.equal(at.exp - at.iat, 5);
    assert.equal(at.sub, 'alice');
    await idp.stop();
  });

  test('--no-device', async () => {
    const idp = await startIdp(['--no-device']);
    for (const p of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const d = (await getJson(idp.url(p))).json;
      assert.equal(d.issuer, idp.issuer);
      assert.equal(d.device_authorization_endpoint, undefined);
      assert.ok(d.token_endpoint);
    }
    assert.equal((await deviceAuth(idp)).status, 404);
    await idp.stop();
  });

  test('--issuer-mismatch', async () => {
    const idp = await startIdp(['--issuer-mismatch']);
    for (const p of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const d = (await getJson(idp.url(p))).json;
      assert.equal(d.issuer, `${idp.issuer}/other`);
      assert.equal(d.token_endpoint, idp.url('/token'));
      assert.equal(d.device_authorization_endpoint, idp.url('/device/auth'));
    }
    await idp.stop();
  });

  test('--oauth-metadata-only', async () => {
    const idp = await startIdp(['--oauth-metadata-only']);
    assert.equal((await getJson(idp.url('/.well-known/openid-configuration'))).status, 404);
    const d = await getJson(idp.url('/.well-known/oauth-authorization-server'));
    assert.equal(d.status, 200);
    assert.equal(d.json.issuer, idp.issuer);
    assert.equal(d.json.device_authorization_endpoint, idp.url('/device/auth'));
    await idp.stop();
  });

  test('--exit-on-stdin-eof and SIGINT exit cleanly', async () => {
    const a = await startIdp(['--exit-on-stdin-eof'], { stdin: 'pipe' });
    a.proc.stdin.end();
    const t = setTimeout(() => a.proc.kill('SIGKILL'), 3000);
    assert.deepEqual(await a.exit, { code: 0, signal: null });
    clearTimeout(t);
    const b = await startIdp([]);
    assert.deepEqual(await b.stop('SIGINT'), { code: 0, signal: null });
    assert.equal(b.stdout.trim().split('\n').length, 1);
  });

  test('usage errors exit 2 without a ready line', async () => {
    const proc = spawn(NODE, [IDP, '--bogus'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(proc);
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    const code = await new Promise((resolve) => proc.once('exit', resolve));
    children.delete(proc);
    assert.equal(code, 2);
    assert.equal(out, '');
  });
});
