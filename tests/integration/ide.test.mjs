// SPDX-License-Identifier: ISC
// mcp-bridge ide add/remove/print/list against the built binary, with HOME,
// XDG_CONFIG_HOME and APPDATA pointing at a fresh fixture home per test,
// for every client in ide-configs/. The expected file locations below are
// written out independently of the data files, so a wrong path in a data
// file fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync,
  writeFileSync, symlinkSync, lstatSync, readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const BIN = process.env.MCP_BRIDGE || 'build/src/mcp-bridge';
const EXE = realpathSync(BIN);

// id -> user file (relative to HOME), project file, key, format.
const CLIENTS = {
  'claude-desktop': { user: '.config/Claude/claude_desktop_config.json', key: 'mcpServers' },
  'claude-code': { user: '.claude.json', project: '.mcp.json', key: 'mcpServers', type: 'stdio' },
  cursor: { user: '.cursor/mcp.json', project: '.cursor/mcp.json', key: 'mcpServers' },
  vscode: { user: '.config/Code/User/mcp.json', project: '.vscode/mcp.json', key: 'servers', type: 'stdio', jsonc: true },
  windsurf: { user: '.codeium/windsurf/mcp_config.json', key: 'mcpServers' },
  zed: { user: '.config/zed/settings.json', key: 'context_servers', jsonc: true },
  gemini: { user: '.gemini/settings.json', project: '.gemini/settings.json', key: 'mcpServers', jsonc: true },
  cline: { user: '.config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json', key: 'mcpServers' },
  codex: { user: '.codex/config.toml', project: '.codex/config.toml', key: 'mcp_servers', toml: true },
  junie: { user: '.junie/mcp/mcp.json', project: '.junie/mcp/mcp.json', key: 'mcpServers' },
};

function home() {
  const dir = mkdtempSync(join(tmpdir(), 'mcpb-ide-'));
  const h = join(dir, 'home');
  mkdirSync(h);
  const env = {
    PATH: '/usr/bin:/bin', HOME: h, XDG_CONFIG_HOME: join(h, '.config'),
    APPDATA: join(dir, 'appdata'),
    ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1',
  };
  return { dir, h, env };
}

function run(args, env) {
  return spawnSync(BIN, ['ide', ...args], { env, encoding: 'utf8' });
}

// Text with another server (and comments where the format has them).
function others(c) {
  if (c.toml)
    return 'model = "o3"  # keep me\n\n[mcp_servers.other]\ncommand = "npx"\n' +
      'args = ["-y", "other"]\n';
  const cm = c.jsonc ? '  // keep me\n' : '';
  return `{\n${cm}  "theme": "dark",\n  "${c.key}": {\n` +
    `    "other": {"command": "npx", "args": ["-y", "other"]}\n  }\n}\n`;
}

// Malformed text and where the error is.
function broken(c) {
  if (c.toml)
    return { text: '[mcp_servers.other]\ncommand = "npx\n', at: ':2:11:' };
  return {
    text: `{\n  "${c.key}": {\n    "other": {"command": "npx"}\n    "x": 1\n  }\n}\n`,
    at: ':4:5:',
  };
}

// The entry called name in a config text.
function entry(c, text, name = 'mcp-bridge') {
  if (c.toml) {
    const m = text.match(new RegExp(`\\[mcp_servers\\.${name}\\]\\n` +
      'command = "([^"]*)"\\nargs = \\[([^\\]]*)\\]\\n'));
    return m && { command: m[1], args: JSON.parse(`[${m[2]}]`) };
  }
  const plain = text.replace(/^\s*\/\/.*$/mg, '');
  return JSON.parse(plain)[c.key]?.[name];
}

function checkEntry(c, text, name) {
  const e = entry(c, text, name);
  assert.ok(e, `no entry ${name} in:\n${text}`);
  assert.equal(e.command, EXE);
  assert.deepEqual(e.args, ['run']);
  if (c.type)
    assert.equal(e.type, c.type);
}

for (const [id, c] of Object.entries(CLIENTS)) {
  test(`${id}: add to a missing file, twice, then remove`, () => {
    const { h, env } = home();
    const path = join(h, c.user);
    let r = run(['add', id, '--dry-run'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /would add 'mcp-bridge'/);
    assert.deepEqual(readdirSync(h), [], '--dry-run creates nothing');
    r = run(['add', id], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`added 'mcp-bridge' in ${path}`));
    const first = readFileSync(path, 'utf8');
    checkEntry(c, first);
    assert.ok(!existsSync(`${path}.bak`), 'no backup of a file that was not there');
    const mtime = statSync(path).mtimeMs;

    r = run(['add', id], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /already in .*nothing to do/);
    assert.equal(readFileSync(path, 'utf8'), first, 'second add changes nothing');
    assert.equal(statSync(path).mtimeMs, mtime, 'not even rewritten');

    r = run(['list'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`${path} (mcp-bridge: mcp-bridge)`), r.stdout);

    r = run(['remove', id], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /removed 'mcp-bridge'/);
    assert.equal(entry(c, readFileSync(path, 'utf8')) ?? null, null);
    assert.equal(readFileSync(`${path}.bak`, 'utf8'), first);
    r = run(['remove', id], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /not in .*nothing to do/);
  });

  test(`${id}: keeps other servers and comments, backup, exact undo`, () => {
    const { h, env } = home();
    const path = join(h, c.user);
    const before = others(c);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, before, { mode: 0o640 });

    let r = run(['add', id, '--dry-run'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /would add 'mcp-bridge'/);
    assert.ok(r.stdout.includes(EXE), 'dry run shows the entry');
    assert.equal(readFileSync(path, 'utf8'), before, '--dry-run writes nothing');
    assert.ok(!existsSync(`${path}.bak`));

    r = run(['add', id], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`backup: ${path}\\.bak`));
    const after = readFileSync(path, 'utf8');
    checkEntry(c, after);
    const other = entry(c, after, 'other');
    assert.equal(other.command, 'npx');
    assert.deepEqual(other.args, ['-y', 'other']);
    if (c.jsonc || c.toml)
      assert.ok(after.includes('keep me'), 'comment kept');
    assert.equal(readFileSync(`${path}.bak`, 'utf8'), before);
    assert.equal(statSync(path).mode & 0o777, 0o640, 'mode kept');

    r = run(['add', id], env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(path, 'utf8'), after, 'no duplicate');
    assert.equal((after.match(/mcp-bridge"?[\]:]/g) || []).length, 1, after);

    r = run(['remove', id], env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(path, 'utf8'), before, 'remove undoes add exactly');
  });

  test(`${id}: a malformed file is refused with line:column, untouched`, () => {
    const { h, env } = home();
    const path = join(h, c.user);
    const { text, at } = broken(c);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    for (const verb of ['add', 'remove']) {
      const r = run([verb, id], env);
      assert.equal(r.status, 1, r.stdout);
      assert.ok(r.stderr.includes(`${path}${at}`), r.stderr);
      assert.match(r.stderr, /left unchanged/);
      assert.equal(readFileSync(path, 'utf8'), text, 'byte-identical');
      assert.ok(!existsSync(`${path}.bak`));
    }
    const l = run(['list'], env);
    assert.equal(l.status, 0);
    assert.ok(l.stdout.includes(`${path} (malformed: ${at.slice(1)}`), l.stdout);
  });

  test(`${id}: --project`, () => {
    const { dir, env } = home();
    const proj = join(dir, 'proj');
    mkdirSync(proj);
    const r = run(['add', id, '--project', proj, '--name', 'corp'], env);
    if (!c.project) {
      assert.equal(r.status, 2, r.stdout);
      assert.match(r.stderr, /no project-level config file/);
      assert.deepEqual(readdirSync(proj), []);
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    const path = join(proj, c.project);
    checkEntry(c, readFileSync(path, 'utf8'), 'corp');
    const dry = run(['remove', id, '--project', proj, '--name', 'corp', '--dry-run'], env);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /would remove 'corp'/);
    assert.ok(entry(c, readFileSync(path, 'utf8'), 'corp'));
    const rm = run(['remove', id, '--project', proj, '--name', 'corp'], env);
    assert.equal(rm.status, 0, rm.stderr);
    assert.equal(entry(c, readFileSync(path, 'utf8'), 'corp') ?? null, null);
  });
}

test('print gives a pasteable snippet; the target goes to stderr', () => {
  const { h, env } = home();
  for (const [id, c] of Object.entries(CLIENTS)) {
    const r = run(['print', id], env);
    assert.equal(r.status, 0, r.stderr);
    checkEntry(c, r.stdout);
    assert.ok(r.stderr.includes(join(h, c.user)), r.stderr);
  }
});

test('a symlinked config is edited through its link', () => {
  const { dir, h, env } = home();
  const real = join(dir, 'dotfiles-cursor.json');
  writeFileSync(real, '{"mcpServers": {}}\n');
  mkdirSync(join(h, '.cursor'));
  symlinkSync(real, join(h, '.cursor/mcp.json'));
  const r = run(['add', 'cursor'], env);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(lstatSync(join(h, '.cursor/mcp.json')).isSymbolicLink());
  checkEntry(CLIENTS.cursor, readFileSync(real, 'utf8'));
  assert.equal(readFileSync(`${real}.bak`, 'utf8'), '{"mcpServers": {}}\n');
});

test('usage errors exit 2, failures 1', () => {
  const { env } = home();
  let r = run([], env);
  assert.equal(r.status, 2);
  r = run(['add'], env);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /which client/);
  r = run(['add', 'emacs'], env);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown client 'emacs'; one of: claude-code/);
  r = run(['add', 'cursor', '--name', 'a b'], env);
  assert.equal(r.status, 2);
  r = run(['add', 'cursor', '--bogus'], env);
  assert.equal(r.status, 2);
  for (const sub of ['--help', 'add --help', 'remove --help', 'print --help', 'list --help']) {
    r = run(sub.split(' '), env);
    assert.equal(r.status, 0, sub);
    assert.match(r.stdout, /usage: mcp-bridge ide list/);
  }
  r = run(['list'], { ...env, MCP_BRIDGE_IDE_CONFIGS: '/nonexistent' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\/nonexistent/);
  r = spawnSync(BIN, ['--help'], { env, encoding: 'utf8' });
  assert.match(r.stdout, /\n {2}ide +/);
});
