#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// demo.mjs: mcp-bridge end to end, as an IDE would use it.
//
//   node scripts/demo.mjs [path/to/mcp-bridge]     (or env MCP_BRIDGE)
//
// Starts the local company stack on loopback: the IdP (tests/node/test-idp.mjs,
// oidc-provider), three hosted MCP servers (tests/node/hosted-server.mjs, each
// accepting only JWTs for its own audience) and mcp-registryd with a group
// policy. Then alice and bob sign in (`mcp-bridge login`, device flow; the
// demo approves their codes at the IdP), see different servers
// (`mcp-bridge servers`), and alice's IDE ("demo-ide", the MCP SDK client)
// runs `mcp-bridge run --server presto`: tools, calls, an elicitation the
// client approves, progress; then `mcp-bridge tools` and `mcp-bridge run`
// serving every server alice may use behind one entry (calls routed by
// the <server>__ prefix); both log out. Exits non-zero on any failure.
// Needs `npm ci` in tests/node first. Tokens go to the keyring when a Secret
// Service is running (demo.sh starts one), else to the file store.
//
// With MCP_BRIDGE_SWEEP_DIR=DIR (the secret-hygiene sweep, tests/secrets/):
// the bridges log at debug level, their stderr goes to DIR/stderr/ too, the
// /proc/PID/{cmdline,environ,limits} of every bridge and mcp-registryd to
// DIR/proc/, the IdP's issued secrets to DIR/secrets/, and the demo's
// directory (state, cache, registry access log) is kept under DIR/tmp/.

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

// Sweep mode (see the top).
const SWEEP = process.env.MCP_BRIDGE_SWEEP_DIR ? path.resolve(process.env.MCP_BRIDGE_SWEEP_DIR) : null;
if (SWEEP) for (const d of ['stderr', 'proc', 'secrets', 'tmp']) fs.mkdirSync(path.join(SWEEP, d), { recursive: true });
let sweepSeq = 0;
/**
 * Sweep mode: snapshots /proc/PID (`pid`: a number, or a function giving it
 * once known) after 200 ms and every second, and tees `stderr` into DIR/stderr/.
 */
function sweep(pid, label, stderr = null) {
  if (!SWEEP) return;
  const name = `demo-${label}-${process.pid}-${++sweepSeq}`;
  if (stderr) stderr.on('data', (d) => fs.appendFileSync(path.join(SWEEP, 'stderr', `${name}.log`), d));
  let seen = 0;
  const snap = () => {
    const p = typeof pid === 'function' ? pid() : pid;
    if (!p) return;
    seen ||= Date.now();
    // limits once it surely got past exec and the sanitizer into main()
    for (const f of Date.now() - seen >= 500 ? ['cmdline', 'environ', 'limits'] : ['cmdline', 'environ']) {
      try {
        fs.writeFileSync(path.join(SWEEP, 'proc', `${name}.${f}`), fs.readFileSync(`/proc/${p}/${f}`));
      } catch { /* gone, or not readable (not dumpable) */ }
    }
  };
  setTimeout(snap, 200).unref();
  setInterval(snap, 100).unref();
}
/** CLI args at debug level in sweep mode (login, logout and status take the flag). */
const dbg = (args) => (SWEEP && ['login', 'logout', 'status'].includes(args[0])
  ? [args[0], '--log-level', 'debug', ...args.slice(1)] : args);

// 1. The company IdP (oidc-provider). Each hosted server has its own
// token audience (RFC 8707 resource).
const RES = (n) => `http://127.0.0.1/${n}`;
const idp = spawn(process.execPath, [path.join(repo, 'tests', 'node', 'test-idp.mjs'), '--interval', '1',
  '--resources', ['presto', 'knowledge', 'airflow'].map(RES).join(',')],
{ cwd: path.join(repo, 'tests', 'node'), stdio: ['ignore', 'pipe', 'ignore'],
  env: { ...process.env, ...(SWEEP ? { TEST_IDP_SECRETS_LOG: path.join(SWEEP, 'secrets', `demo-idp-${process.pid}.jsonl`) } : {}) } });
const issuer = await new Promise((resolve, reject) => {
  let buf = '';
  idp.stdout.on('data', (d) => {
    buf += d;
    if (buf.includes('\n')) resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))).issuer);
  });
  idp.once('exit', (code) => reject(new Error(`test IdP exited early (${code})`)));
}).catch((e) => fail(e.message));

const children = [idp];
async function ready(cmd, args, label) {
  const p = spawn(cmd, args, { cwd: path.join(repo, 'tests', 'node'), stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(p);
  if (cmd !== process.execPath) sweep(p.pid, label);
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      const m = /READY (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    p.once('exit', (code) => reject(new Error(`${label} exited early (${code})`)));
  });
}

// 2. Three hosted servers (official SDK), each accepting only its own audience.
const urls = {};
for (const n of ['presto', 'knowledge', 'airflow']) {
  const port = await ready(process.execPath, [path.join(repo, 'tests', 'node', 'hosted-server.mjs'), '--port', '0',
    '--host', '127.0.0.1', '--auth-issuer', issuer, '--auth-audience', RES(n)], n).catch((e) => fail(e.message));
  urls[n] = `http://127.0.0.1:${port}/mcp`;
}

// 3. The company registry: catalog + group policy.
const home = fs.mkdtempSync(path.join(SWEEP ? path.join(SWEEP, 'tmp') : os.tmpdir(), 'mcp-bridge-demo-'));
const at = (d) => path.join(home, d);
fs.mkdirSync(at('catalog'));
const titles = { presto: 'Presto (SQL)', knowledge: 'Knowledge (wiki search)', airflow: 'Airflow (DAG runs)' };
for (const n of Object.keys(urls)) {
  fs.writeFileSync(at(`catalog/${n}.json`), JSON.stringify({ name: `com.example.mcp/${n}`, title: titles[n],
    description: `${titles[n]} for the company`, version: '1.0.0', remotes: [{ type: 'streamable-http', url: urls[n] }] }));
}
fs.writeFileSync(at('policy.json'), JSON.stringify({ servers: {
  'com.example.mcp/presto': { groups: ['eng'], resource: RES('presto'), requestAccessUrl: 'https://access.example.com/presto' },
  'com.example.mcp/knowledge': { groups: ['*'], resource: RES('knowledge') },
  'com.example.mcp/airflow': { groups: ['finance'], resource: RES('airflow') },
} }));
const registryd = path.join(path.dirname(bridge), 'mcp-registryd');
const regPort = await ready(registryd, ['--catalog', at('catalog'), '--policy', at('policy.json'), '--issuer', issuer,
  '--audience', 'http://127.0.0.1/mcp-registry', '--log-file', at('registry-access.log')], 'mcp-registryd')
  .catch((e) => fail(e.message));
const registry = `http://127.0.0.1:${regPort}`;

// 4. Two users, each with a private HOME and the config a company package ships.
const store = process.env.MCP_BRIDGE_TOKEN_STORE ?? (process.env.DBUS_SESSION_BUS_ADDRESS ? 'keyring' : 'file');
function userHome(name) {
  const h = at(name);
  for (const d of ['config/mcp-bridge', 'state', 'run', 'cache']) fs.mkdirSync(path.join(h, d), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(h, 'config/mcp-bridge/config.json'), `${JSON.stringify({
    issuer, client_id: 'mcp-bridge', registry, token_store: store, profile: name }, null, 2)}\n`);
  const e = { ...process.env, HOME: h, XDG_CONFIG_HOME: path.join(h, 'config'), XDG_STATE_HOME: path.join(h, 'state'),
    XDG_RUNTIME_DIR: path.join(h, 'run'), XDG_CACHE_HOME: path.join(h, 'cache'), MCP_BRIDGE_SYSTEM_CONFIG: at('none.json') };
  delete e.MCP_BRIDGE_TOKEN_STORE;
  delete e.MCP_BRIDGE_ACCESS_TOKEN;
  delete e.MCP_BRIDGE_SWEEP_DIR;
  if (SWEEP) e.MCP_BRIDGE_LOG_LEVEL = 'debug';
  return e;
}
const users = { alice: userHome('alice'), bob: userHome('bob') };

function show(args, who, r) {
  for (const line of `${r.stderr}${r.stdout}`.trimEnd().split('\n')) say(`  ${line}`);
  if (r.status !== 0) throw new Error(`mcp-bridge ${args[0]} (${who}) exited ${r.status}`);
}

function cli(who, args) {
  say(`${who}$ mcp-bridge ${args.join(' ')}`);
  show(args, who, spawnSync(bridge, dbg(args), { env: users[who], encoding: 'utf8', timeout: 30000 }));
}

// login waits for the user's approval: the demo approves at the IdP.
async function login(who) {
  say(`${who}$ mcp-bridge login --no-browser`);
  const p = spawn(bridge, dbg(['login', '--no-browser']), { env: users[who], stdio: ['ignore', 'pipe', 'pipe'] });
  sweep(p.pid, 'login');
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  let code;
  while (!(code = /code: +([A-Z]{4}-[A-Z]{4})/.exec(out))) await new Promise((r) => setTimeout(r, 50));
  await fetch(`${issuer}/__test/approve`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_code: code[1], account: who }) });
  const status = await new Promise((r) => p.once('close', r));
  show(['login'], who, { stdout: '', stderr: `${out.trimEnd()}\n  (the demo approved ${code[1]} at the IdP as ${who})`, status });
}

const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join(' ');

let client;
let transport;
let status = 0;
try {
  say(`registry ${registry}: presto for eng, knowledge for everyone, airflow for finance`);
  cli('alice', ['config', 'show']);
  await login('alice');
  cli('alice', ['status']);
  cli('alice', ['servers']);
  await login('bob');
  cli('bob', ['servers', '--all']);
  say();
  say('alice$ mcp-bridge run --server presto     (started by demo-ide, MCP on stdio)');
  transport = new StdioClientTransport({ command: bridge, args: ['run', '--server', 'presto'], env: users.alice, stderr: 'pipe' });
  let bridgeStderr = '';
  transport.stderr.on('data', (d) => { bridgeStderr += d; });
  const first = transport;
  sweep(() => first.pid, 'run-presto', first.stderr);

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

  let tools = [];
  for (let i = 0; i < 100 && !tools.some((t) => t.name === 'echo'); i++) {
    ({ tools } = await client.listTools(undefined, { timeout: 5000 }));
    if (!tools.some((t) => t.name === 'echo')) await new Promise((r) => setTimeout(r, 100));
  }
  say(`tools (presto, found in the registry, own token audience): ${tools.map((t) => t.name).join(', ')}`);

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
  cli('alice', ['tools']);
  say('alice$ mcp-bridge run     (one IDE entry for every server alice may use)');
  transport = new StdioClientTransport({ command: bridge, args: ['run'], env: users.alice, stderr: 'pipe' });
  const second = transport;
  if (SWEEP) sweep(() => second.pid, 'run-all', second.stderr);
  else transport.stderr.resume(); // nobody reads it: never let the pipe fill
  client = new Client({ name: 'demo-ide', version: '1.0.0' }, { capabilities: {} });
  const t0 = Date.now();
  await client.connect(transport, { timeout: 10000 });
  say(`initialize answered by the bridge in ${Date.now() - t0} ms`);
  ({ tools } = await client.listTools(undefined, { timeout: 10000 }));
  const servers = [...new Set(tools.map((t) => t.name.split('__')[0]))];
  say(`${tools.length} tools from ${servers.length} servers (${servers.join(', ')}): ${tools.filter((t) => t.name.endsWith('__echo')).map((t) => t.name).join(', ')}, ...`);
  for (const id of servers) {
    const r = await client.callTool({ name: `${id}__echo`, arguments: { text: `routed to ${id}` } }, undefined, T);
    say(`${id}__echo -> ${text(r)}`);
    if (text(r) !== `routed to ${id}`) throw new Error(`${id}__echo returned ${text(r)}`);
  }
  await client.close();
  client = null;
  say('closed');
  say();
  cli('alice', ['logout']);
  cli('bob', ['logout']);
} catch (e) {
  process.stderr.write(`demo: FAILED: ${e.message}\n`);
  status = 1;
} finally {
  if (client) await client.close().catch(() => {});
  for (const c of children) c.kill('SIGTERM');
  if (!SWEEP) fs.rmSync(home, { recursive: true, force: true });
}
process.exit(status);
