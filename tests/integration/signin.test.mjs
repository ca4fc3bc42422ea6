// SPDX-License-Identifier: ISC
// Company sign-in against a certified OpenID provider (oidc-provider, the
// test IdP in tests/node/test-idp.mjs): `login` / `status` / `logout`, sign-in
// from inside an IDE session with the official SDK client, refresh before
// expiry and after a 401, 8 bridges refreshing at once, token stores, and no
// token in any output. SIGNIN_STORE=keyring runs it against gnome-keyring
// (see with-keyring.sh); the default is the file store.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  startIdp, userEnv, runBridge, connectBridge, closeAndCheck, resultText, waitUntil, sleep, types,
  HostedServer, freePort, withTimeout, sanitizerReport, BRIDGE, spawn } from './lib.mjs';

const STORE = process.env.SIGNIN_STORE || 'file';
const SIGNIN_TOOL = 'mcp_bridge_sign_in';
const T = { timeout: 10000 };

const idps = [];
const servers = [];
after(async () => {
  await Promise.all(idps.map((i) => i.stop()));
  await Promise.all(servers.map((s) => s.stop().catch(() => {})));
});

async function idp(args = [], opts = {}) {
  const i = await startIdp(['--interval', '1', ...args], opts);
  idps.push(i);
  return i;
}

async function hostedFor(i, opts = {}) {
  const h = new HostedServer({ authIssuer: i.issuer, ...opts });
  await h.start();
  servers.push(h);
  return h;
}

/** Runs `mcp-bridge login --no-browser`, approving or denying the code when it shows. */
async function login(env, i, { act = 'approve', account = 'alice', timeout = 20000, args = [] } = {}) {
  const p = runBridge(['login', '--no-browser', ...args], { env, timeout });
  if (act) {
    const codes = await waitUntil(async () => {
      const c = await i.pending().catch(() => []);
      return c.length ? c : null;
    }, 10000, 'device code at the IdP');
    const code = codes[codes.length - 1].user_code;
    if (act === 'approve') assert.equal((await i.approve(code, account)).status, 200);
    else await i.deny(code);
  }
  return p;
}

/** Every token the IdP handed out that the test can see: stored set + what servers got. */
function storedTokens(env) {
  const dir = path.join(env.XDG_STATE_HOME, 'mcp-bridge');
  const out = [];
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir)) {
    const j = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    out.push(j.refresh_token, j.id_token, ...j.access.map((a) => a.token));
  }
  return out.filter(Boolean);
}

function assertNoToken(texts, tokens) {
  assert.ok(tokens.length > 0, 'no tokens to look for');
  for (const [name, text] of Object.entries(texts)) {
    for (const t of tokens) {
      assert.ok(!text.includes(t), `${name} contains a token`);
      // A JWT's signature part alone is as good as the token.
      const sig = t.split('.').pop();
      if (sig.length > 20) assert.ok(!text.includes(sig), `${name} contains part of a token`);
    }
  }
}

test('login end to end: code on stderr, tokens stored, status, a session with the JWT, logout revokes', { timeout: 60000 }, async (t) => {
  const i = await idp();
  const env = userEnv(i);
  const r = await login(env, i);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'login prints nothing on stdout');
  assert.match(r.stderr, /open this address in a browser:\s+http:\/\/127\.0\.0\.1:\d+\/device\?user_code=[A-Z]{4}-[A-Z]{4}/);
  assert.match(r.stderr, /Signed in as alice@example\.com/);

  const s = await runBridge(['status', '--json'], { env });
  assert.equal(s.code, 0, s.stderr);
  const st = JSON.parse(s.stdout);
  assert.equal(st.signed_in, true);
  assert.equal(st.sub, 'alice');
  assert.equal(st.email, 'alice@example.com');
  assert.deepEqual(st.groups, ['eng', 'mcp-users']);
  assert.equal(st.refresh_token, true);
  assert.match(st.store, STORE === 'keyring' ? /keyring|Secret Service/i : /^file /, `store: ${st.store}`);
  assert.ok(st.expires_in > 500 && st.expires_in <= 600, `expires_in ${st.expires_in}`);
  const text = await runBridge(['status'], { env });
  assert.equal(text.code, 0);
  assert.match(text.stdout, /signed in to http:\/\/127\.0\.0\.1:\d+\nuser: +Alice Example <alice@example.com> \(sub alice\)\ngroups: +eng, mcp-users/);

  const hosted = await hostedFor(i, { authAudience: i.resource });
  const logFile = path.join(env.dir, 'bridge.log');
  const h = await connectBridge({ url: hosted.url, env, args: ['--log-level', 'debug', '--log-file', logFile] });
  closeAndCheck(t, h);
  const tools = await h.client.listTools(undefined, T);
  assert.ok(tools.tools.some((x) => x.name === 'echo'), 'hosted tools listed');
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'hi' } }, undefined, T)), 'hi');
  const hs = await hosted.state();
  assert.ok(hs.authAccepted >= 2 && hs.authRejected === 0, JSON.stringify(hs.authReasons));
  await h.close();

  let tokens = storedTokens(env);
  if (STORE === 'file') {
    assert.ok(tokens.length >= 3);
    assertNoToken({ login: r.stderr + r.stdout, status: s.stdout + s.stderr, bridge: h.stderr(),
      log: fs.readFileSync(logFile, 'utf8') }, tokens);
  }
  const rt = STORE === 'file' ? JSON.parse(fs.readFileSync(path.join(env.XDG_STATE_HOME, 'mcp-bridge',
    fs.readdirSync(path.join(env.XDG_STATE_HOME, 'mcp-bridge'))[0]), 'utf8')).refresh_token : null;

  const out = await runBridge(['logout'], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /refresh token revoked, stored tokens deleted/);
  assert.equal((await runBridge(['status'], { env })).code, 1, 'not signed in after logout');
  assert.deepEqual(storedTokens(env), [], 'no token left in the store');
  assert.ok((await i.stats()).revocations >= 1);
  if (rt) {
    const res = await fetch(`${i.issuer}/token`, { method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt, client_id: 'mcp-bridge' }) });
    assert.equal((await res.json()).error, 'invalid_grant', 'the refresh token was revoked');
  }
  assert.equal((await runBridge(['logout'], { env })).code, 0, 'logout twice is fine');
});

test('denied and expired codes, slow_down, IdP down, issuer mismatch, no device flow: clear errors, exit 1', { timeout: 60000 }, async () => {
  const i = await idp();
  const denied = await login(userEnv(i), i, { act: 'deny' });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /mcp-bridge login: sign-in was denied/);

  const short = await idp(['--code-ttl', '2']);
  const expired = await login(userEnv(short), short, { act: null });
  assert.equal(expired.code, 1);
  assert.match(expired.stderr, /code expired before sign-in finished/);

  const slow = await idp(['--slow-down', '--force-slow-down', '1']);
  const started = Date.now();
  const s = await login(userEnv(slow), slow, { timeout: 30000 });
  assert.equal(s.code, 0, s.stderr);
  const stats = await slow.stats();
  assert.equal(stats.slow_down, 1, 'only the forced slow_down: the bridge waited interval + 5 s after it');
  assert.ok(Date.now() - started >= 6000, 'the interval grew by 5 s');

  const port = await freePort();
  const down = await runBridge(['login', '--no-browser'], {
    env: userEnv(null, { extra: { MCP_BRIDGE_ISSUER: `http://127.0.0.1:${port}`, MCP_BRIDGE_CLIENT_ID: 'mcp-bridge' } }),
    timeout: 15000 });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /discovery at http:\/\/127\.0\.0\.1:\d+ failed .*(refused|connect)/i);

  const mm = await idp(['--issuer-mismatch']);
  const mis = await runBridge(['login', '--no-browser'], { env: userEnv(mm) });
  assert.equal(mis.code, 1);
  assert.match(mis.stderr, /metadata names issuer "http:\/\/127\.0\.0\.1:\d+\/other", not the configured one/);

  const nd = await idp(['--no-device']);
  const nodev = await runBridge(['login', '--no-browser'], { env: userEnv(nd) });
  assert.equal(nodev.code, 1);
  assert.match(nodev.stderr, /offers no device flow/);

  const om = await idp(['--oauth-metadata-only', '--auto-approve-ms', '200']);
  const o = await runBridge(['login', '--no-browser'], { env: userEnv(om), timeout: 15000 });
  assert.equal(o.code, 0, `RFC 8414 metadata fallback: ${o.stderr}`);
});

test('sign-in from inside the IDE (notification + sign-in tool): tools appear after list_changed', { timeout: 60000 }, async (t) => {
  const i = await idp();
  const hosted = await hostedFor(i);
  const env = userEnv(i);
  const messages = [];
  let changed = 0;
  const started = Date.now();
  const h = await connectBridge({
    url: hosted.url, env,
    notificationHandlers: [
      [types.LoggingMessageNotificationSchema, (n) => { messages.push(n.params); }],
      [types.ToolListChangedNotificationSchema, () => { changed++; }],
    ],
  });
  closeAndCheck(t, h);
  assert.ok(Date.now() - started < 3000, 'initialize answered at once');
  const first = await h.client.listTools(undefined, T);
  assert.deepEqual(first.tools.map((x) => x.name), [SIGNIN_TOOL]);
  const msg = await waitUntil(() => messages.find((m) => /confirm the code/.test(m.data)), 10000, 'sign-in notification');
  assert.equal(msg.level, 'warning');
  const code = /code ([A-Z]{4}-[A-Z]{4})/.exec(msg.data)[1];
  assert.match(h.stderr(), new RegExp(`confirm the code ${code}`), 'one line on stderr');
  const res = await h.client.callTool({ name: SIGNIN_TOOL, arguments: {} }, undefined, T);
  assert.match(resultText(res), new RegExp(`open http://127\\.0\\.0\\.1:\\d+/device\\?user_code=${code} in a browser`));
  const other = await h.client.callTool({ name: 'echo', arguments: { text: 'x' } }, undefined, T).catch((e) => e);
  assert.match(String(other.message ?? other), /not signed in/);
  assert.equal((await i.approve(code)).status, 200);
  await waitUntil(() => changed > 0, 10000, 'tools/list_changed');
  const tools = await h.client.listTools(undefined, T);
  assert.ok(tools.tools.some((x) => x.name === 'echo'), 'hosted tools after sign-in');
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'ok' } }, undefined, T)), 'ok');
  const again = await h.client.callTool({ name: SIGNIN_TOOL, arguments: {} }, undefined, T);
  assert.match(resultText(again), /You are signed in/);
  // Another window started later shares the sign-in: no new code.
  const h2 = await connectBridge({ url: hosted.url, env });
  closeAndCheck(t, h2);
  assert.ok((await h2.client.listTools(undefined, T)).tools.some((x) => x.name === 'echo'));
  assert.equal((await i.stats()).device_auth, 1, 'one device flow for both windows');
});

test('sign-in from inside the IDE with URL-mode elicitation; elicitation/complete afterwards', { timeout: 60000 }, async (t) => {
  const i = await idp();
  const hosted = await hostedFor(i);
  const env = userEnv(i);
  const elicits = [];
  const completes = [];
  let changed = 0;
  const h = await connectBridge({
    url: hosted.url, env,
    capabilities: { elicitation: { form: {}, url: {} } },
    handlers: [[types.ElicitRequestSchema, (req) => { elicits.push(req.params); return { action: 'accept' }; }]],
    notificationHandlers: [
      [types.ElicitationCompleteNotificationSchema, (n) => { completes.push(n.params); }],
      [types.ToolListChangedNotificationSchema, () => { changed++; }],
    ],
  });
  closeAndCheck(t, h);
  const e = await waitUntil(() => elicits[0], 10000, 'URL elicitation');
  assert.equal(e.mode, 'url');
  assert.match(e.url, /^http:\/\/127\.0\.0\.1:\d+\/device\?user_code=[A-Z]{4}-[A-Z]{4}$/);
  assert.ok(e.elicitationId);
  const code = new URL(e.url).searchParams.get('user_code');
  assert.match(e.message, new RegExp(code));
  await i.approve(code);
  await waitUntil(() => completes.length > 0 && changed > 0, 10000, 'elicitation/complete + list_changed');
  assert.equal(completes[0].elicitationId, e.elicitationId);
  assert.ok((await h.client.listTools(undefined, T)).tools.some((x) => x.name === 'echo'));
});

test('denied sign-in inside the IDE: the session stays usable and says why', { timeout: 40000 }, async (t) => {
  const i = await idp();
  const hosted = await hostedFor(i);
  const messages = [];
  const h = await connectBridge({
    url: hosted.url, env: userEnv(i),
    notificationHandlers: [[types.LoggingMessageNotificationSchema, (n) => { messages.push(n.params); }]],
  });
  closeAndCheck(t, h);
  const msg = await waitUntil(() => messages.find((m) => /confirm the code/.test(m.data)), 10000, 'code');
  await i.deny(/code ([A-Z]{4}-[A-Z]{4})/.exec(msg.data)[1]);
  await waitUntil(() => messages.find((m) => /sign-in was denied/.test(m.data)), 10000, 'denied message');
  assert.deepEqual((await h.client.listTools(undefined, T)).tools.map((x) => x.name), [SIGNIN_TOOL]);
  assert.equal((await h.client.ping(T)) !== undefined, true);
  // Calling the tool again starts a new flow with a new code.
  const res = await h.client.callTool({ name: SIGNIN_TOOL, arguments: {} }, undefined, T);
  assert.match(resultText(res), /confirm the code [A-Z]{4}-[A-Z]{4}/);
  assert.equal((await i.stats()).device_auth, 2);
});

test('IdP down inside the IDE: initialize still answered, the sign-in tool explains', { timeout: 40000 }, async (t) => {
  const port = await freePort();
  const hosted = new HostedServer({});
  await hosted.start();
  servers.push(hosted);
  const env = userEnv(null, { extra: { MCP_BRIDGE_ISSUER: `http://127.0.0.1:${port}`, MCP_BRIDGE_CLIENT_ID: 'mcp-bridge' } });
  const h = await connectBridge({ url: hosted.url, env });
  closeAndCheck(t, h);
  assert.deepEqual((await h.client.listTools(undefined, T)).tools.map((x) => x.name), [SIGNIN_TOOL]);
  const res = await h.client.callTool({ name: SIGNIN_TOOL, arguments: {} }, undefined, { timeout: 20000 });
  assert.equal(res.isError, true);
  assert.match(resultText(res), /discovery at http:\/\/127\.0\.0\.1:\d+ failed/);
});

test('refresh before expiry, and once after a 401, keeps the session working', { timeout: 60000 }, async (t) => {
  // Lifetime 66 s: refresh when < 60 s are left, i.e. 6 s after issue.
  const i = await idp(['--at-ttl', '66']);
  const env = userEnv(i);
  assert.equal((await login(env, i)).code, 0);
  const hosted = await hostedFor(i, { authAudience: i.resource });
  const h = await connectBridge({ url: hosted.url, env });
  closeAndCheck(t, h);
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: '1' } }, undefined, T)), '1');
  await waitUntil(async () => (await i.stats()).refresh_success >= 1, 15000, 'proactive refresh');
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: '2' } }, undefined, T)), '2');
  const before = await i.stats();
  await hosted.control('reject-token');
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: '3' } }, undefined, T)), '3');
  const afterStats = await i.stats();
  assert.equal(afterStats.refresh_success, before.refresh_success + 1, 'one reactive refresh');
  assert.equal(afterStats.refresh_fail, 0);
  const hs = await hosted.state();
  assert.ok(hs.authRejected >= 1);
  // And a server that keeps refusing gets one retry only, then a clear error.
  await hosted.control('fail-next?status=401&count=2&method=tools/call');
  const e = await h.client.callTool({ name: 'echo', arguments: { text: '4' } }, undefined, T).catch((x) => x);
  assert.match(String(e.message ?? e), /HTTP 401/);
});

test('8 bridge processes refreshing at the same moment all succeed; the grant is not revoked', { timeout: 90000 }, async (t) => {
  const i = await idp(['--at-ttl', '66']);
  const env = userEnv(i);
  assert.equal((await login(env, i)).code, 0);
  const hosted = await hostedFor(i, { authAudience: i.resource });
  const sessions = await Promise.all(Array.from({ length: 8 }, () => connectBridge({ url: hosted.url, env })));
  for (const s of sessions) closeAndCheck(t, s);
  await Promise.all(sessions.map(async (s, k) =>
    assert.equal(resultText(await s.client.callTool({ name: 'echo', arguments: { text: `a${k}` } }, undefined, T)), `a${k}`)));
  // All 8 reach their refresh time together (6 s after the login).
  await waitUntil(async () => (await i.stats()).refresh_success >= 1, 15000, 'a refresh');
  await sleep(1500);
  await Promise.all(sessions.map(async (s, k) =>
    assert.equal(resultText(await s.client.callTool({ name: 'echo', arguments: { text: `b${k}` } }, undefined, T)), `b${k}`)));
  const st = await i.stats();
  assert.equal(st.reuse_detected, 0, 'no refresh token was used twice');
  assert.equal(st.grants_revoked, 0, 'the grant survived');
  assert.equal(st.refresh_fail, 0);
  assert.ok(st.refresh_success >= 1 && st.refresh_success <= 2, `refreshes: ${st.refresh_success} (the others re-read the store)`);
  const s = await runBridge(['status', '--json'], { env });
  assert.equal(JSON.parse(s.stdout).signed_in, true);
});

test('per-server audience: a resource from the config is minted by refresh and sent only to that server', { timeout: 40000 }, async (t) => {
  const res = 'http://127.0.0.1/presto';
  const i = await idp(['--resources', res]);
  const env = userEnv(i);
  assert.equal((await login(env, i)).code, 0);
  const hosted = await hostedFor(i, { authAudience: res });
  const cfg = path.join(env.dir, 'bridge.json');
  fs.writeFileSync(cfg, JSON.stringify({ servers: [{ name: 'presto', url: hosted.url, resource: res }] }));
  const h2 = await connectBridge({ url: null, env, args: ['--config', cfg] });
  closeAndCheck(t, h2);
  assert.equal(resultText(await h2.client.callTool({ name: 'echo', arguments: { text: 'p' } }, undefined, T)), 'p');
  const hs = await hosted.state();
  assert.ok(hs.audiences.length > 0 && hs.audiences.every((a) => a === res), JSON.stringify(hs.audiences));
  assert.equal((await i.stats()).resources[res] >= 1, true);
});

test('no keyring: tokens kept in memory with one clear message; login refuses', { timeout: 40000 }, async (t) => {
  const i = await idp(['--auto-approve-ms', '300']);
  const hosted = await hostedFor(i);
  const env = userEnv(i, { store: 'keyring', extra: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' } });
  const h = await connectBridge({ url: hosted.url, env });
  closeAndCheck(t, h);
  await waitUntil(() => /no keyring/.test(h.stderr()), 5000, 'message');
  assert.match(h.stderr(), /kept in memory for this process only/);
  assert.equal(h.stderr().match(/no keyring/g).length, 1, 'said once');
  const r = await runBridge(['login', '--no-browser'], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /token store/);
});

test('file store refuses a group/world-readable token file', { timeout: 30000 }, async () => {
  const i = await idp(['--auto-approve-ms', '200']);
  const env = userEnv(i, { store: 'file' });
  assert.equal((await runBridge(['login', '--no-browser'], { env, timeout: 15000 })).code, 0);
  const dir = path.join(env.XDG_STATE_HOME, 'mcp-bridge');
  const f = path.join(dir, fs.readdirSync(dir)[0]);
  assert.equal(fs.statSync(f).mode & 0o777, 0o600);
  fs.chmodSync(f, 0o644);
  const s = await runBridge(['status'], { env });
  assert.equal(s.code, 2, `status: ${s.stdout} ${s.stderr}`);
  assert.match(s.stderr, /readable by others|permissions|0644|mode/i);
});

test('no token in ps output while bridges run', { timeout: 40000 }, async (t) => {
  const i = await idp(['--auto-approve-ms', '200']);
  const env = userEnv(i, { store: 'file' });
  assert.equal((await runBridge(['login', '--no-browser'], { env, timeout: 15000 })).code, 0);
  const hosted = await hostedFor(i);
  const h = await connectBridge({ url: hosted.url, env, args: ['--log-level', 'debug'] });
  closeAndCheck(t, h);
  await h.client.callTool({ name: 'echo', arguments: { text: 'x' } }, undefined, T);
  const ps = spawnSync('ps', ['-eww', '-o', 'pid=,args='], { encoding: 'utf8' }).stdout;
  const environ = fs.readFileSync(`/proc/${h.transport.proc.pid}/environ`, 'utf8');
  const hs = await hosted.state();
  const sent = hs.authorizations.map((a) => (a.value ?? '').replace(/^Bearer /, '')).filter(Boolean);
  assertNoToken({ ps, environ, stderr: h.stderr() }, [...storedTokens(env), ...sent]);
  assert.equal(sanitizerReport(h.stderr()), null);
});

test('login in a terminal: QR code, the browser opened with the address, Ctrl-C cancels cleanly', { timeout: 40000 }, async () => {
  const i = await idp();
  const env = userEnv(i);
  // A fake xdg-open that records what it was asked to open.
  const bin = path.join(env.dir, 'bin');
  fs.mkdirSync(bin);
  const opened = path.join(env.dir, 'opened');
  fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${opened}'\n`, { mode: 0o755 });
  // script(1) gives the bridge a terminal on stdin/stdout/stderr.
  const proc = spawn('script', ['-qfec', `exec '${BRIDGE}' login`, '/dev/null'],
    { env: { ...env, PATH: `${bin}:${process.env.PATH}`, DISPLAY: ':99', LANG: 'C.UTF-8' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  await waitUntil(() => /Waiting for you to approve/.test(out), 15000, 'login waiting');
  assert.match(out, /[\u2580\u2584\u2588]{10,}/, 'a QR code drawn with half blocks');
  const code = /code: +([A-Z]{4}-[A-Z]{4})/.exec(out)[1];
  await waitUntil(() => fs.existsSync(opened), 5000, 'xdg-open called');
  assert.equal(fs.readFileSync(opened, 'utf8').trim(), `${i.issuer}/device?user_code=${code}`);
  proc.stdin.write('\x03'); // Ctrl-C on the terminal
  const rc = await withTimeout(exited, 5000, 'login exit after Ctrl-C');
  assert.equal(rc, 1);
  assert.match(out, /login: cancelled/);
  assert.equal((await runBridge(['status'], { env })).code, 1, 'nothing stored');
});

test('logout in another terminal while an IDE session runs: the session falls back to sign-in', { timeout: 40000 }, async (t) => {
  const i = await idp();
  const env = userEnv(i);
  assert.equal((await login(env, i)).code, 0);
  const hosted = await hostedFor(i);
  const messages = [];
  let changed = 0;
  const h = await connectBridge({
    url: hosted.url, env,
    notificationHandlers: [
      [types.LoggingMessageNotificationSchema, (n) => { messages.push(n.params); }],
      [types.ToolListChangedNotificationSchema, () => { changed++; }],
    ],
  });
  closeAndCheck(t, h);
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'a' } }, undefined, T)), 'a');
  assert.equal((await runBridge(['logout'], { env })).code, 0);
  await hosted.control('reject-token'); // as a server that checks revocation would
  const e = await h.client.callTool({ name: 'echo', arguments: { text: 'b' } }, undefined, T).catch((x) => x);
  assert.match(String(e.message ?? e), /signed out|not signed in|no access token/i);
  await waitUntil(() => changed > 0 && messages.some((m) => /Not signed in/.test(m.data)), 10000, 'sign-in again');
  assert.deepEqual((await h.client.listTools(undefined, T)).tools.map((x) => x.name), [SIGNIN_TOOL]);
  assert.equal((await i.stats()).reuse_detected, 0);
});

/** Secret Service items (unlocked + locked) of the bridge's `profile`, asked over D-Bus directly. */
function keyringItems(profile) {
  const r = spawnSync('gdbus', ['call', '--session', '--dest', 'org.freedesktop.secrets',
    '--object-path', '/org/freedesktop/secrets', '--method', 'org.freedesktop.Secret.Service.SearchItems',
    `{'profile': '${profile}'}`], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, `gdbus SearchItems: ${r.stderr}`);
  return r.stdout.match(/\/org\/freedesktop\/secrets\/collection\/[\w/]+/g) ?? [];
}

/** What the store holds for `env`'s profile: token files, or keyring items. */
function storeContents(env) {
  if (STORE === 'keyring') return keyringItems(env.MCP_BRIDGE_PROFILE);
  const dir = path.join(env.XDG_STATE_HOME, 'mcp-bridge');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('tokens-')) : [];
}

test('8 IDE sessions refreshing while logout runs: no invalid_grant or reuse, nothing stored after, all ask to sign in', { timeout: 90000 }, async (t) => {
  // Lifetime 62 s: every access token is due 2 s after it was issued, so
  // the sessions refresh all the time.
  const i = await idp(['--at-ttl', '62'], { secrets: true });
  const env = userEnv(i);
  assert.equal((await login(env, i)).code, 0);
  assert.equal(storeContents(env).length, 1, 'one stored item after login');
  const hosted = await hostedFor(i, { authAudience: i.resource });
  const seen = Array.from({ length: 8 }, () => ({ messages: [], changed: 0 }));
  const sessions = await Promise.all(seen.map((v) => connectBridge({
    url: hosted.url, env,
    notificationHandlers: [
      [types.LoggingMessageNotificationSchema, (n) => { v.messages.push(n.params); }],
      [types.ToolListChangedNotificationSchema, () => { v.changed++; }],
    ],
  })));
  for (const s of sessions) closeAndCheck(t, s);
  await Promise.all(sessions.map(async (s, k) =>
    assert.equal(resultText(await s.client.callTool({ name: 'echo', arguments: { text: `a${k}` } }, undefined, T)), `a${k}`)));
  await waitUntil(async () => (await i.stats()).refresh_success >= 3, 20000, 'three rounds of refreshes');
  // A slow revocation (3 s) keeps the logout in the middle of the refreshes:
  // access tokens fall due while it runs, in the sessions and in the logout.
  assert.equal((await i.post('/__test/fail', { endpoint: 'revocation', mode: 'slow', count: 1 })).status, 200);
  const out = await runBridge(['logout'], { env, timeout: 20000 });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /refresh token revoked, stored tokens deleted/);
  assert.equal(sanitizerReport(out.stderr), null);
  const revokedAt = Date.now();
  assert.deepEqual(storeContents(env), [], 'nothing stored right after logout');
  // Every session finds the sign-in gone at its next refresh (2 s), says so
  // and starts a new sign-in; none writes tokens back.
  await waitUntil(() => seen.every((v) => v.changed > 0 && v.messages.some((m) => /Not signed in/.test(m.data))),
    15000, 'every session asks to sign in again');
  await sleep(2500); // another refresh period: a late write would show now
  assert.deepEqual(storeContents(env), [], 'nothing stored after the sessions noticed');
  assert.equal((await runBridge(['status'], { env })).code, 1, 'not signed in');
  for (const s of sessions) {
    assert.deepEqual((await s.client.listTools(undefined, T)).tools.map((x) => x.name), [SIGNIN_TOOL]);
    const e = await s.client.callTool({ name: 'echo', arguments: { text: 'x' } }, undefined, T).catch((x) => x);
    assert.match(String(e.message ?? e), /not signed in|sign in/i);
  }
  const st = await i.stats();
  const ev = await i.events();
  const bad = ev.filter((e) => e.grant === 'refresh_token' && e.status !== 200);
  assert.deepEqual(bad, [], 'no refresh failed (no invalid_grant, no reuse)');
  assert.equal(st.invalid_grant, 0);
  assert.equal(st.reuse_detected, 0, 'no refresh token was used twice');
  assert.equal(st.revocations, 1, 'one revocation');
  const rev = ev.find((e) => e.ep === 'revocation');
  const during = ev.filter((e) => e.grant === 'refresh_token' && e.at >= rev.started);
  assert.deepEqual(during, [], 'no refresh while the logout revoked, nor after it');
  // The IdP logs when its response is flushed, which may be a little after
  // the logout process read it (two processes, one loaded machine).
  assert.ok(rev.at <= revokedAt + 1000, `revocation logged ${rev.at - revokedAt} ms after logout returned`);
  assert.ok(st.device_auth >= 2, `the sessions started a new sign-in (device flows: ${st.device_auth})`);
  assert.ok(st.refresh_success >= 3, `refreshes: ${st.refresh_success}`);
  // No refresh token the IdP ever issued for this sign-in still works.
  const rts = i.issued().filter((x) => x.kind === 'refresh_token').map((x) => x.value);
  assert.equal(rts.length, st.refresh_success + 1, 'one refresh token per grant');
  for (const rt of rts) {
    const res = await fetch(`${i.issuer}/token`, { method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt, client_id: 'mcp-bridge' }) });
    assert.equal((await res.json()).error, 'invalid_grant', 'an issued refresh token still works after logout');
  }
});
