// SPDX-License-Identifier: ISC
// config show / config validate against the built binary, with a clean
// environment (HOME and XDG_CONFIG_HOME are temp dirs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = process.env.MCP_BRIDGE || 'build/src/mcp-bridge';

function setup(userConfig) {
  const dir = mkdtempSync(join(tmpdir(), 'mcpb-cfg-'));
  const home = join(dir, 'home');
  const xdg = join(dir, 'xdg');
  mkdirSync(join(xdg, 'mcp-bridge'), { recursive: true });
  mkdirSync(home);
  if (userConfig)
    writeFileSync(join(xdg, 'mcp-bridge', 'config.json'),
      JSON.stringify(userConfig));
  const env = {
    PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: xdg,
    MCP_BRIDGE_SYSTEM_CONFIG: join(dir, 'no-system.json'),
    ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1',
  };
  return { dir, env, xdg };
}

function run(args, env) {
  return spawnSync(BIN, args, { env, encoding: 'utf8' });
}

test('config show reads the XDG user file with origins', () => {
  const { env, xdg } = setup({ client_id: 'abc', profile: 'work' });
  const r = run(['config', 'show'], env);
  assert.equal(r.status, 0, r.stderr);
  const path = join(xdg, 'mcp-bridge', 'config.json');
  assert.match(r.stdout, new RegExp(`client_id +abc +\\(${path}\\)`));
  assert.match(r.stdout, /token_store +keyring +\(default\)/);
  assert.match(r.stdout, /access_token +\(not set\)/);
});

test('--config overrides user file; env overrides --config', () => {
  const { dir, env } = setup({ profile: 'user' });
  const f = join(dir, 'explicit.json');
  writeFileSync(f, JSON.stringify({ profile: 'explicit', client_id: 'c' }));
  let r = run(['config', 'show', '--config', f], env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /profile +explicit/);
  r = run(['config', 'show', '--config', f],
    { ...env, MCP_BRIDGE_PROFILE: 'fromenv' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /profile +fromenv +\(environment MCP_BRIDGE_PROFILE\)/);
  assert.match(r.stdout, /client_id +c/);
});

test('access token is reported as set, never shown', () => {
  const { env } = setup(null);
  const r = run(['config', 'show'],
    { ...env, MCP_BRIDGE_ACCESS_TOKEN: 'sekrit-value' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('sekrit-value'));
  assert.match(r.stdout, /access_token +\[set/);
});

test('config show --json parses', () => {
  const { env } = setup({ scopes: ['openid'] });
  const r = run(['config', 'show', '--json'], env);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.scopes.value, ['openid']);
  assert.equal(j.profile.origin, 'default');
});

test('missing --config file exits 2 naming the file', () => {
  const { dir, env } = setup(null);
  const f = join(dir, 'absent.json');
  const r = run(['config', 'show', '--config', f], env);
  assert.equal(r.status, 2);
  assert.ok(r.stderr.includes(f), r.stderr);
});

test('bad user file exits 2 naming file and key', () => {
  const { env } = setup({ isuer: 'https://x.example' });
  const r = run(['config', 'show'], env);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /config\.json: isuer: unknown key/);
});

test('config validate good and bad files', () => {
  const { dir, env } = setup(null);
  const good = join(dir, 'good.json');
  const bad1 = join(dir, 'bad1.json');
  const bad2 = join(dir, 'bad2.json');
  writeFileSync(good, JSON.stringify({
    issuer: 'https://idp.example', 'x-comment': 'ok',
    servers: [{ name: 'a', url: 'https://m.example/mcp' }],
  }));
  writeFileSync(bad1, JSON.stringify({ issuer: 'http://idp.example' }));
  writeFileSync(bad2, '{\n "profile": \n}');
  let r = run(['config', 'validate', good], env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  r = run(['config', 'validate', good, bad1, bad2], env);
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.ok(lines[0].startsWith(`${bad1}: issuer: expected`), lines[0]);
  assert.ok(lines[1].startsWith(`${bad2}: line 3`), lines[1]);
});
