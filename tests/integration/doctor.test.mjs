// SPDX-License-Identifier: ISC
// mcp-bridge doctor and `config validate` on IDE config files, against real
// peers: the test IdP (oidc-provider), mcp-registryd and an SDK hosted
// server that accepts only tokens for its own audience.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startIdp, userEnv, runBridge, waitUntil, sleep, HostedServer, tmpDir, freePort,
  withTimeout, sanitizerReport, REGISTRYD, BRIDGE, spawn, startRegistryd, loginAs } from './lib.mjs';

const RES = 'http://127.0.0.1/presto';
let idp;
let reg;
let hosted;
let dir;

function startRegistry() {
  return startRegistryd(dir, idp);
}

before(async () => {
  dir = tmpDir('mcp-doctor-');
  idp = await startIdp(['--interval', '1', '--resources', RES]);
  hosted = new HostedServer({ authIssuer: idp.issuer, authAudience: RES });
  await hosted.start();
  fs.mkdirSync(path.join(dir, 'catalog'));
  fs.writeFileSync(path.join(dir, 'catalog', 'presto.json'), JSON.stringify({
    name: 'com.example.mcp/presto', title: 'Presto', description: 'Presto tools', version: '1.0.0',
    remotes: [{ type: 'streamable-http', url: hosted.url }],
  }));
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({
    default: { groups: ['*'] },
    servers: { 'com.example.mcp/presto': { groups: ['*'], resource: RES } },
  }));
  reg = await startRegistry();
});

after(async () => {
  const rep = reg ? sanitizerReport(reg.stderr()) : null;
  await reg?.stop();
  await hosted?.stop();
  await idp?.stop();
  assert.equal(rep, null, `sanitizer report from mcp-registryd:\n${rep}`);
});

function env(extra = {}) {
  return userEnv(idp, { store: 'file', extra: { MCP_BRIDGE_REGISTRY: reg.base, ...extra } });
}

/** Runs doctor --json; returns {code, report, byName, raw}. */
async function doctor(e, args = []) {
  const r = await runBridge(['doctor', '--json', ...args], { env: e, timeout: 30000 });
  assert.equal(sanitizerReport(r.stderr), null, r.stderr);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code} ${r.signal}: ${r.stderr}`);
  const report = JSON.parse(r.stdout);
  const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  return { code: r.code, report, byName, raw: r };
}

function ideFile(home, rel, entries) {
  const f = path.join(home, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, JSON.stringify({ mcpServers: entries }, null, 2));
  return f;
}

function storedSecrets(e) {
  const d = path.join(e.XDG_STATE_HOME, 'mcp-bridge');
  const out = [];
  for (const f of fs.existsSync(d) ? fs.readdirSync(d) : []) {
    const j = JSON.parse(fs.readFileSync(path.join(d, f), 'utf8'));
    out.push(j.refresh_token, j.id_token, ...j.access.map((a) => a.token));
  }
  return out.filter(Boolean);
}

test('doctor: every check passes; text and JSON; exit 0; the refresh keeps the grant', { timeout: 40000 }, async () => {
  const e = env();
  await loginAs(idp, e);
  const before = storedSecrets(e);
  ideFile(e.HOME, '.cursor/mcp.json', { presto: { command: BRIDGE, args: ['run', '--server', 'presto'] } });
  const { code, report, byName, raw } = await doctor(e);
  assert.equal(code, 0, raw.stdout);
  assert.equal(report.ok, true);
  for (const c of report.checks) {
    assert.deepEqual(Object.keys(c).sort(), ['detail', 'fix', 'ms', 'name', 'ok', 'status']);
    assert.ok(['ok', 'warn', 'skip'].includes(c.status), JSON.stringify(c));
  }
  assert.equal(byName.config.status, 'ok');
  assert.equal(byName.issuer.status, 'ok');
  assert.match(byName.issuer.detail, /device flow at http/);
  assert.equal(byName['token store'].status, 'ok');
  assert.equal(byName['sign-in'].status, 'ok');
  assert.match(byName['sign-in'].detail, /refreshed/);
  assert.equal(byName.registry.status, 'ok');
  assert.match(byName.registry.detail, /lists 1 server you may use/);
  const s = byName['server presto'];
  assert.equal(s.status, 'ok');
  assert.match(s.detail, /answered initialize in \d+ ms \(protocol 2025-11-25/);
  assert.equal(typeof s.ms, 'number');
  assert.equal(byName[`ide ${path.join(e.HOME, '.cursor/mcp.json')}`].status, 'ok');
  // A real refresh happened and was stored: the stored set changed, and it still works.
  const afterSet = storedSecrets(e);
  assert.notDeepEqual(afterSet, before);
  for (const t of [...before, ...afterSet]) {
    assert.ok(!raw.stdout.includes(t) && !raw.stderr.includes(t), 'a token was printed');
  }
  const text = await runBridge(['doctor'], { env: e, timeout: 30000 });
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.match(text.stdout, /^✔ config /m);
  assert.match(text.stdout, /^✔ server presto .*\[\d+ ms\]$/m);
  assert.match(text.stdout, /no problems found/);
  for (const t of storedSecrets(e)) assert.ok(!text.stdout.includes(t) && !text.stderr.includes(t));
  // doctor keeps no cached listing that could hide a registry outage later.
  const cache = path.join(e.XDG_CACHE_HOME, 'mcp-bridge');
  assert.deepEqual((fs.existsSync(cache) ? fs.readdirSync(cache) : []).filter((f) => f.includes('doctor')), []);
  // --offline: no network check, still 0.
  const off = await doctor(e, ['--offline']);
  assert.equal(off.code, 0);
  assert.equal(off.byName.network.status, 'skip');
  assert.equal(off.byName.issuer, undefined);
  assert.match(off.byName['sign-in'].detail, /--offline/);
});

test('doctor: a server that does not answer initialize, an IDE config with a missing binary: exit 1', { timeout: 40000 }, async () => {
  const e = env();
  await loginAs(idp, e);
  ideFile(e.HOME, '.cursor/mcp.json', {
    presto: { command: '/nonexistent/bin/mcp-bridge', args: ['run', '--server', 'presto'] },
  });
  await hosted.control('delay-next?ms=9000&method=initialize');
  const t0 = Date.now();
  const { code, byName } = await doctor(e);
  assert.equal(code, 1);
  const s = byName['server presto'];
  assert.equal(s.status, 'fail');
  assert.equal(s.ok, false);
  assert.match(s.detail, /no answer to initialize within 5 s/);
  assert.ok(s.ms >= 4900 && s.ms < 7000, `ms ${s.ms}`);
  assert.ok(Date.now() - t0 < 15000, 'bounded');
  const ide = byName[`ide ${path.join(e.HOME, '.cursor/mcp.json')}`];
  assert.equal(ide.status, 'fail');
  assert.match(ide.detail, /mcp\.json:4: presto: command \/nonexistent\/bin\/mcp-bridge: No such file/);
  assert.match(ide.fix, /installed mcp-bridge/);
  await hosted.reset();
});

test('doctor: not signed in; registry down; issuer down; issuer without device flow', { timeout: 50000 }, async () => {
  let r = await doctor(env());
  assert.equal(r.code, 1);
  assert.equal(r.byName['sign-in'].status, 'fail');
  assert.match(r.byName['sign-in'].fix, /mcp-bridge login/);
  assert.equal(r.byName.registry.status, 'skip');
  assert.equal(r.byName.issuer.status, 'ok');

  const e = env({ MCP_BRIDGE_REGISTRY: `http://127.0.0.1:${await freePort()}` });
  await loginAs(idp, e);
  r = await doctor(e);
  assert.equal(r.code, 1);
  assert.equal(r.byName['sign-in'].status, 'ok');
  assert.equal(r.byName.registry.status, 'fail');
  assert.match(r.byName.registry.fix, /check "registry" \(environment MCP_BRIDGE_REGISTRY\)/);

  r = await doctor(env({ MCP_BRIDGE_ISSUER: `http://127.0.0.1:${await freePort()}` }));
  assert.equal(r.code, 1);
  assert.equal(r.byName.issuer.status, 'fail');
  assert.match(r.byName.issuer.detail, /discovery at http:\/\/127\.0\.0\.1:\d+ failed/);
  assert.match(r.byName.issuer.fix, /reachable/);

  const nodev = await startIdp(['--no-device']);
  try {
    r = await doctor(userEnv(nodev, { store: 'file' }));
    assert.equal(r.code, 1);
    assert.equal(r.byName.issuer.status, 'fail');
    assert.match(r.byName.issuer.detail, /no device flow/);
    assert.match(r.byName.issuer.fix, /device authorization grant/);
  } finally {
    await nodev.stop();
  }
});

test('doctor: MCP_BRIDGE_ACCESS_TOKEN accepted or refused by the registry', { timeout: 30000 }, async () => {
  const bad = 'not-a-real-token-0123456789';
  let r = await doctor(env({ MCP_BRIDGE_ACCESS_TOKEN: bad }));
  assert.equal(r.code, 1);
  assert.equal(r.byName['sign-in'].status, 'fail');
  assert.match(r.byName['sign-in'].detail, /refused by the registry/);
  assert.equal(r.byName['token store'].status, 'skip');
  assert.ok(!r.raw.stdout.includes(bad) && !r.raw.stderr.includes(bad), 'token printed');

  const e = env();
  await loginAs(idp, e);
  const tok = storedSecrets(e).find((t) => t.split('.').length === 3 && JSON.parse(
    Buffer.from(t.split('.')[1], 'base64url')).aud?.includes?.(idp.resource) !== false);
  r = await doctor(userEnv(idp, { store: 'file', extra: { MCP_BRIDGE_REGISTRY: reg.base, MCP_BRIDGE_ACCESS_TOKEN: tok } }));
  assert.equal(r.byName.registry.status, 'ok', JSON.stringify(r.byName.registry));
  assert.equal(r.byName['sign-in'].status, 'ok');
  assert.match(r.byName['sign-in'].detail, /accepted by the registry/);
  assert.ok(!r.raw.stdout.includes(tok) && !r.raw.stderr.includes(tok), 'token printed');
});

test('doctor: bad config (exit 1), bad arguments (exit 2), --help documents the exit codes', async () => {
  const e = env();
  const bad = path.join(e.dir, 'bad.json');
  fs.writeFileSync(bad, '{"issuer": 42}');
  const r = await doctor(e, ['--config', bad]);
  assert.equal(r.code, 1);
  assert.equal(r.byName.config.status, 'fail');
  assert.match(r.byName.config.detail, /bad\.json: issuer: expected/);
  assert.equal((await runBridge(['doctor', '--bogus'], { env: e })).code, 2);
  assert.equal((await runBridge(['doctor', 'extra'], { env: e })).code, 2);
  const h = await runBridge(['doctor', '--help'], { env: e });
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Exit status: 0 no problem found, 1 problems found, 2 could not run/);
});

test('config validate: IDE config files that start mcp-bridge (JSON, JSONC, VS Code, Zed)', async () => {
  const d = tmpDir('mcp-ide-');
  const e = { HOME: d, MCP_BRIDGE_SYSTEM_CONFIG: path.join(d, 'none.json') };
  fs.writeFileSync(path.join(d, 'bridge.json'), JSON.stringify({ servers: [{ name: 'a', url: 'https://m.example/mcp' }] }));
  fs.writeFileSync(path.join(d, 'broken.json'), '{"issuer": "http://idp.example"}');
  const good = path.join(d, '.mcp.json');
  fs.writeFileSync(good, JSON.stringify({ mcpServers: {
    a: { command: BRIDGE, args: ['run', '--url', 'https://m.example/mcp', '--config', 'bridge.json'] },
    b: { command: BRIDGE, args: ['run', '--server=presto', '--header', 'Authorization: Bearer ${TOKEN}'] },
    other: { command: 'npx', args: ['whatever', '--bogus'] },
    remote: { type: 'http', url: 'https://x.example/mcp' },
  } }, null, 2));
  fs.mkdirSync(path.join(d, '.vscode'));
  const vs = path.join(d, '.vscode', 'mcp.json');
  fs.writeFileSync(vs, `{
  // VS Code: JSONC
  "servers": {
    "a": {
      "type": "stdio",
      "command": "${BRIDGE}",
      "args": ["run", "--url", "https://m.example/mcp", "--config", "\${workspaceFolder}/bridge.json",],
    },
  },
}`);
  const zed = path.join(d, 'settings.json');
  fs.writeFileSync(zed, JSON.stringify({ context_servers: { a: { command: { path: BRIDGE, args: ['run', '--url', 'https://m.example/mcp'] } } } }));
  let r = await runBridge(['config', 'validate', good, vs, zed], { env: e });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /\.mcp\.json: 2 mcp-bridge entries ok/);

  const bad = path.join(d, 'bad.mcp.json');
  fs.writeFileSync(bad, `{
  "mcpServers": {
    "missing": { "command": "/nonexistent/mcp-bridge", "args": ["run", "--url", "https://m.example/mcp"] },
    "args": {
      "command": "${BRIDGE}",
      "args": [
        "run",
        "--url", "ftp://m.example/mcp"
      ]
    },
    "cfg": { "command": "${BRIDGE}", "args": ["run", "--url", "https://m.example/mcp", "--config", "broken.json"] },
    "secret": { "command": "${BRIDGE}", "args": ["run", "--url", "https://m.example/mcp", "--header", "Authorization: Bearer sekrit-value"] }
  }
}`);
  r = await runBridge(['config', 'validate', bad], { env: e });
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 4, r.stderr);
  assert.match(lines[0], /bad\.mcp\.json:3: "missing": command \/nonexistent\/mcp-bridge: No such file or directory/);
  assert.match(lines[1], /bad\.mcp\.json:8: "args": args\[2\]: --url: /);
  assert.match(lines[2], /bad\.mcp\.json:11: "cfg": --config: .*broken\.json: issuer: expected/);
  assert.match(lines[3], /bad\.mcp\.json:12: warning: "secret": an Authorization --header holds a literal credential/);
  assert.ok(!r.stderr.includes('sekrit-value'));

  const syntax = path.join(d, 'mcp.json');
  fs.writeFileSync(syntax, '{\n  "mcpServers": {\n    "a": { "command": "mcp-bridge" \n  }\n}\n');
  r = await runBridge(['config', 'validate', syntax], { env: e });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /mcp\.json:6: line 6, column \d+: '\}' expected/);
});

test('config validate knows every option of run --help', async () => {
  const h = await runBridge(['run', '--help']);
  const opts = [...new Set(h.stdout.match(/--[a-z][a-z-]+/g))].filter((o) => o !== '--help');
  assert.ok(opts.length >= 10, opts.join(' '));
  const d = tmpDir('mcp-ide-');
  const f = path.join(d, '.mcp.json');
  const entries = {};
  for (const o of opts) entries[o] = { command: BRIDGE, args: ['run', o] };
  fs.writeFileSync(f, JSON.stringify({ mcpServers: entries }));
  const r = await runBridge(['config', 'validate', f], { env: { HOME: d } });
  assert.doesNotMatch(r.stderr, /unknown option/, r.stderr);
  assert.equal(r.stderr.trim().split('\n').filter((l) => /needs a value/.test(l)).length, opts.length);
});

test('doctor: static servers without a sign-in; an unreachable one is reported', { timeout: 30000 }, async () => {
  const open = new HostedServer({});
  await open.start();
  try {
    const d = tmpDir('mcp-doctor-static-');
    const cfg = path.join(d, 'bridge.json');
    fs.writeFileSync(cfg, JSON.stringify({ servers: [{ name: 'plain', url: open.url }, { name: 'gone', url: `http://127.0.0.1:${await freePort()}/mcp` }] }));
    const e = { HOME: d, MCP_BRIDGE_SYSTEM_CONFIG: path.join(d, 'none.json') };
    const r = await doctor(e, ['--config', cfg]);
    assert.equal(r.code, 1, JSON.stringify(r.report));
    assert.equal(r.byName.config.status, 'ok');
    assert.equal(r.byName['sign-in'].status, 'skip');
    assert.equal(r.byName['server plain'].status, 'ok');
    assert.equal(r.byName['server gone'].status, 'fail');
    assert.match(r.byName['server gone'].detail, /cannot reach hosted server/);
    assert.match(r.byName['server gone'].fix, /check the URL and that the server is up/);
  } finally {
    await open.stop();
  }
});
