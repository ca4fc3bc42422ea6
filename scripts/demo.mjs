#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// demo.mjs: mcp-bridge end to end, as an IDE would use it.
//
//   node scripts/demo.mjs [path/to/mcp-bridge]     (or env MCP_BRIDGE)
//
// Starts the company IdP (tests/node/test-idp.mjs, oidc-provider, approving
// every sign-in after 1.5 s as alice) and the hosted test server
// (tests/node/hosted-server.mjs, which accepts only JWTs from that IdP) on
// loopback, writes a bridge config in a private HOME, signs in with
// `mcp-bridge login` (device flow), shows `mcp-bridge status`, then starts the
// bridge under an MCP SDK client named "demo-ide" over stdio and prints a
// short transcript: server info, tools, a few calls, an elicitation the
// client approves, a call reporting progress; it ends with `logout`. Exits
// non-zero on any failure. Needs `npm ci` in tests/node first. Tokens go to
// the keyring when a Secret Service is running (demo.sh starts one), else
// MCP_BRIDGE_TOKEN_STORE decides.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sdk = path.join(repo, 'tests', 'node', 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm');
const bridge = path.resolve(process.argv[2] ?? process.env.MCP_BRIDGE ?? path.join(repo, 'build', 'src', 'mcp-bridge'));

function fail(msg) {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(1);
}

if (!fs.existsSync(path.join(sdk, 'client', 'index.js'))) fail('MCP SDK missing: run `npm ci` in tests/node');
try {
  fs.accessSync(bridge, fs.constants.X_OK);
} catch {
  fail(`bridge binary not found at ${bridge} (build it, or pass its path)`);
}

const { Client } = await import(path.join(sdk, 'client', 'index.js'));
const { StdioClientTransport } = await import(path.join(sdk, 'client', 'stdio.js'));
const { ElicitRequestSchema } = await import(path.join(sdk, 'types.js'));

const deadline = setTimeout(() => fail('timed out after 60 s'), 60000);
deadline.unref();

const say = (s = '') => process.stdout.write(`${s}\n`);

// 1. The company IdP, auto-approving sign-ins after 1.5 s.
const idp = spawn(process.execPath, [path.join(repo, 'tests', 'node', 'test-idp.mjs'), '--interval', '1',
  '--auto-approve-ms', '1500'], { cwd: path.join(repo, 'tests', 'node'), stdio: ['ignore', 'pipe', 'ignore'] });
const issuer = await new Promise((resolve, reject) => {
  let buf = '';
  idp.stdout.on('data', (d) => {
    buf += d;
    if (buf.includes('\n')) resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))).issuer);
  });
  idp.once('exit', (code) => reject(new Error(`test IdP exited early (${code})`)));
}).catch((e) => fail(e.message));

// 2. A private HOME with the bridge config a company package would ship.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-demo-'));
const xdg = (d) => path.join(home, d);
for (const d of ['config/mcp-bridge', 'state', 'run']) fs.mkdirSync(xdg(d), { recursive: true, mode: 0o700 });
const store = process.env.MCP_BRIDGE_TOKEN_STORE ?? (process.env.DBUS_SESSION_BUS_ADDRESS ? 'keyring' : 'memory');
fs.writeFileSync(xdg('config/mcp-bridge/config.json'), `${JSON.stringify({
  issuer, client_id: 'mcp-bridge', token_store: store === 'memory' ? 'file' : store,
}, null, 2)}\n`);
const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: xdg('config'), XDG_STATE_HOME: xdg('state'),
  XDG_RUNTIME_DIR: xdg('run'), MCP_BRIDGE_SYSTEM_CONFIG: xdg('none.json') };
delete env.MCP_BRIDGE_TOKEN_STORE;
delete env.MCP_BRIDGE_ACCESS_TOKEN;

function cli(args) {
  say(`$ mcp-bridge ${args.join(' ')}`);
  const r = spawnSync(bridge, args, { env, encoding: 'utf8', timeout: 30000 });
  for (const line of `${r.stderr}${r.stdout}`.trimEnd().split('\n')) say(`  ${line}`);
  if (r.status !== 0) throw new Error(`mcp-bridge ${args[0]} exited ${r.status}`);
}

// 3. The hosted server, accepting only the IdP's JWT access tokens.
const server = spawn(process.execPath, [path.join(repo, 'tests', 'node', 'hosted-server.mjs'), '--port', '0', '--host', '127.0.0.1',
  '--auth-issuer', issuer], { cwd: path.join(repo, 'tests', 'node'), stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let buf = '';
  server.stdout.on('data', (d) => {
    buf += d;
    const m = /^READY (\d+)$/m.exec(buf);
    if (m) resolve(Number(m[1]));
  });
  server.once('exit', (code) => reject(new Error(`hosted server exited early (${code})`)));
}).catch((e) => fail(e.message));
const url = `http://127.0.0.1:${port}/mcp`;

const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join(' ');

let client;
let transport;
let status = 0;
try {
  say(`config: ${xdg('config/mcp-bridge/config.json')}`);
  cli(['config', 'show']);
  cli(['login', '--no-browser']);
  cli(['status']);
  say();
  say(`$ mcp-bridge run --url ${url}     (started by demo-ide, MCP on stdio)`);
  transport = new StdioClientTransport({ command: bridge, args: ['run', '--url', url], env, stderr: 'pipe' });
  let bridgeStderr = '';
  transport.stderr.on('data', (d) => { bridgeStderr += d; });

  client = new Client({ name: 'demo-ide', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    say(`  elicitation from the server: "${req.params.message}"`);
    const answer = { action: 'accept', content: { confirm: true } };
    say(`  demo-ide answers: ${JSON.stringify(answer)}`);
    return answer;
  });

  await client.connect(transport, { timeout: 10000 }).catch((e) => {
    throw new Error(`initialize failed: ${e.message}${bridgeStderr ? `\n${bridgeStderr}` : ''}`);
  });
  const info = client.getServerVersion();
  say(`connected to ${info.name} ${info.version} (via the bridge, over stdio)`);

  const { tools } = await client.listTools(undefined, { timeout: 5000 });
  say(`tools: ${tools.map((t) => t.name).join(', ')}`);

  const T = { timeout: 5000 };
  const echo = await client.callTool({ name: 'echo', arguments: { text: 'hello through the bridge' } }, undefined, T);
  say(`echo("hello through the bridge") -> ${text(echo)}`);
  const add = await client.callTool({ name: 'add', arguments: { a: 19, b: 23 } }, undefined, T);
  say(`add(19, 23) -> ${text(add)}`);
  if (text(add) !== '42') throw new Error(`add returned ${text(add)}`);

  say('overwrite_table("customers"):');
  const ow = await client.callTool({ name: 'overwrite_table', arguments: { table: 'customers' } }, undefined, T);
  say(`  -> ${text(ow)}`);
  if (text(ow) !== 'overwrote customers') throw new Error(`overwrite_table returned ${text(ow)}`);

  say('long_task(steps=3):');
  const progress = [];
  const lt = await client.callTool({ name: 'long_task', arguments: { steps: 3, delayMs: 150 } }, undefined, {
    timeout: 5000,
    onprogress: (p) => {
      progress.push(p);
      say(`  progress ${p.progress}/${p.total}${p.message ? ` (${p.message})` : ''}`);
    },
  });
  say(`  -> ${text(lt)}`);
  if (progress.length !== 3) throw new Error(`expected 3 progress notifications, got ${progress.length}`);

  await client.close();
  client = null;
  say('closed (the bridge ended the hosted session with DELETE)');
  say();
  cli(['logout']);
} catch (e) {
  process.stderr.write(`demo: FAILED: ${e.message}\n`);
  status = 1;
} finally {
  if (client) await client.close().catch(() => {});
  server.kill('SIGTERM');
  idp.kill('SIGTERM');
  fs.rmSync(home, { recursive: true, force: true });
}
process.exit(status);
