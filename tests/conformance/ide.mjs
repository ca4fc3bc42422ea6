#!/usr/bin/env node
// The "IDE" of the conformance runs: a client on the official MCP
// TypeScript SDK (tests/node/node_modules) that starts mcp-bridge on stdio,
// pointed at the scenario's mock server, and drives it as an IDE would.
//
//   node ide.mjs [ignored...] URL        (the runner appends the URL last)
//
// Env: MCP_BRIDGE (the bridge binary, required), MCP_CONFORMANCE_SCENARIO,
// MCP_CONFORMANCE_CONTEXT (JSON; `toolCalls` are made as given),
// IDE_TIMEOUT_MS (whole session, default 25000).
//
// Session: initialize -> initialized -> tools/list -> tool calls (from
// the context's toolCalls, else every listed tool with arguments made from
// its inputSchema; json_schema_echo gets the other tool's inputSchema
// verbatim) -> resources and prompts when advertised -> ping -> stdin
// closed, then the bridge must exit 0 by itself. Requests from the bridge
// are answered like a user would: elicitation forms accepted with the
// schema defaults filled in, sampling with a canned message, roots/list
// with the working directory.
// Exit 0 when every step worked and the bridge exited 0; 1 with a
// one-line reason on stderr otherwise; 2 on bad usage.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const here = path.dirname(new URL(import.meta.url).pathname);
const sdk = path.join(here, '..', 'node', 'node_modules', '@modelcontextprotocol', 'sdk',
  'dist', 'esm');
const load = (p) => import(pathToFileURL(path.join(sdk, p)).href);

function die(code, msg) {
  process.stderr.write(`ide.mjs: ${msg}\n`);
  process.exit(code);
}

const url = process.argv[process.argv.length - 1];
if (process.argv.length < 3 || !/^https?:\/\//.test(url)) {
  die(2, 'usage: ide.mjs URL (the mock server URL, last argument)');
}
const bridge = process.env.MCP_BRIDGE;
if (!bridge) die(2, 'MCP_BRIDGE must name the mcp-bridge binary');
try {
  fs.accessSync(bridge, fs.constants.X_OK);
  if (!fs.statSync(bridge).isFile()) throw new Error('not a file');
} catch {
  die(2, `MCP_BRIDGE=${bridge} is not an executable file`);
}
let context = {};
if (process.env.MCP_CONFORMANCE_CONTEXT) {
  try {
    context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT);
  } catch {
    die(2, 'MCP_CONFORMANCE_CONTEXT is not valid JSON');
  }
}
const scenario = process.env.MCP_CONFORMANCE_SCENARIO || 'session';
const deadlineMs = Number(process.env.IDE_TIMEOUT_MS ?? 25000);

let Client, ReadBuffer, serializeMessage, types;
try {
  ({ Client } = await load('client/index.js'));
  ({ ReadBuffer, serializeMessage } = await load('shared/stdio.js'));
  types = await load('types.js');
} catch (e) {
  die(2, `cannot load the MCP SDK from ${sdk} (run npm ci in tests/node): ${e.message}`);
}

// The bridge gets a private home: no user or system config, keyring or
// token of the machine reaches it, and nothing of it is left behind.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'conf-ide-'));
function bridgeEnv() {
  const env = {};
  for (const k of ['PATH', 'LANG', 'TMPDIR', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'MCP_BRIDGE_LOG_LEVEL']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  for (const d of ['config', 'state', 'data', 'run']) {
    fs.mkdirSync(path.join(home, d), { mode: 0o700 });
  }
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_STATE_HOME: path.join(home, 'state'),
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_RUNTIME_DIR: path.join(home, 'run'),
    MCP_BRIDGE_SYSTEM_CONFIG: path.join(home, 'no-system-config.json'),
  };
}

// stdio transport over a child we own, so that closing stdin and the
// bridge's own exit (code, time) are observed rather than forced.
class BridgeTransport {
  constructor(cmd, args, env) {
    this.cmd = cmd;
    this.args = args;
    this.env = env;
    this.buf = new ReadBuffer();
    this.exited = null;
  }

  async start() {
    const p = spawn(this.cmd, this.args, { env: this.env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc = p;
    this.exit = new Promise((resolve) => {
      const gone = (how) => {
        if (this.exited) return;
        this.exited = how;
        resolve(how);
        this.onclose?.();
      };
      p.on('exit', (code, signal) => gone({ code, signal }));
      // could not be started at all
      p.on('error', (e) => gone({ code: null, signal: null, error: e.message }));
    });
    p.stdin.on('error', (e) => this.onerror?.(e));
    p.stdout.on('data', (chunk) => {
      this.buf.append(chunk);
      for (;;) {
        let msg;
        try {
          msg = this.buf.readMessage();
        } catch (e) {
          this.onerror?.(new Error(`bridge wrote a line that is not a JSON-RPC message: ${e.message}`));
          continue;
        }
        if (msg === null) break;
        this.onmessage?.(msg);
      }
    });
  }

  async send(msg) {
    if (this.exited) throw new Error('the bridge has exited');
    await new Promise((resolve, reject) => {
      this.proc.stdin.write(serializeMessage(msg), (e) => (e ? reject(e) : resolve()));
    });
  }

  async close() {
    this.proc?.stdin.end();
  }
}

// A form as an IDE shows it: every field pre-filled with its default;
// the user accepts it as is.
function defaultsOf(schema) {
  const out = {};
  for (const [k, v] of Object.entries(schema?.properties ?? {})) {
    if (v && typeof v === 'object' && 'default' in v) out[k] = v.default;
  }
  return out;
}

// Arguments a user would type for a tool: its required properties, from
// their default, first enum value, or a value of their type.
function argsFor(schema) {
  const sample = (s) => {
    if (!s || typeof s !== 'object') return 'x';
    if ('default' in s) return s.default;
    if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
    if ('const' in s) return s.const;
    const t = Array.isArray(s.type) ? s.type[0] : s.type;
    switch (t) {
      case 'number': return 2.5;
      case 'integer': return 2;
      case 'boolean': return true;
      case 'array': return [];
      case 'object': return argsFor(s);
      case 'null': return null;
      default: return 'x';
    }
  };
  const out = {};
  for (const k of schema?.required ?? []) out[k] = sample(schema.properties?.[k]);
  return out;
}

function toolCallsFor(tools) {
  if (Array.isArray(context.toolCalls)) {
    return context.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments ?? {} }));
  }
  return tools.map((t) => {
    if (t.name === 'json_schema_echo') {
      const focal = tools.find((o) => o.name !== t.name);
      return { name: t.name, arguments: { schema: focal?.inputSchema ?? {} } };
    }
    return { name: t.name, arguments: argsFor(t.inputSchema) };
  });
}

const opts = { timeout: Math.max(1000, deadlineMs - 3000) };
const transport = new BridgeTransport(bridge, ['run', '--url', url], bridgeEnv());
const client = new Client({ name: 'mcp-bridge-conformance-ide', version: '1.0.0' }, {
  capabilities: {
    elicitation: { form: { applyDefaults: true } },
    sampling: {},
    roots: { listChanged: true },
  },
});
const seen = [];
client.setRequestHandler(types.ElicitRequestSchema, async (req) => {
  seen.push('elicitation/create');
  if (req.params.mode === 'url') return { action: 'decline' };
  return { action: 'accept', content: defaultsOf(req.params.requestedSchema) };
});
client.setRequestHandler(types.CreateMessageRequestSchema, async () => {
  seen.push('sampling/createMessage');
  return {
    model: 'conformance-ide', role: 'assistant', stopReason: 'endTurn',
    content: { type: 'text', text: 'ok' },
  };
});
client.setRequestHandler(types.ListRootsRequestSchema, async () => {
  seen.push('roots/list');
  return { roots: [{ uri: pathToFileURL(process.cwd()).href, name: 'workspace' }] };
});

async function session() {
  await client.connect(transport, opts);
  const caps = client.getServerCapabilities() ?? {};
  const done = [];
  if (caps.tools) {
    const { tools } = await client.listTools({}, opts);
    done.push(`tools/list ${tools.length}`);
    for (const call of toolCallsFor(tools)) {
      // Some scenario servers list tools and implement no tools/call
      // (json-schema-ref-no-deref): their -32601 is the server's answer,
      // relayed; anything else fails the run.
      const r = await client.callTool(call, undefined, opts).catch((e) => {
        if (e?.code === -32601) return { notImplemented: true };
        throw e;
      });
      done.push(`tools/call ${call.name}${r.isError ? ' (isError)' : ''}` +
        `${r.notImplemented ? ' (-32601 from the server)' : ''}`);
    }
  }
  if (caps.resources) {
    const { resources } = await client.listResources({}, opts);
    done.push(`resources/list ${resources.length}`);
    if (resources[0]) {
      await client.readResource({ uri: resources[0].uri }, opts);
      done.push('resources/read');
    }
  }
  if (caps.prompts) {
    const { prompts } = await client.listPrompts({}, opts);
    done.push(`prompts/list ${prompts.length}`);
  }
  await client.ping(opts);
  done.push('ping');
  return done;
}

// Closes stdin and waits for the bridge to leave on its own.
async function finish() {
  await client.close().catch(() => {});
  const t = setTimeout(() => transport.proc?.kill('SIGKILL'), 8000);
  const r = await transport.exit;
  clearTimeout(t);
  return r;
}

function abandon(why) {
  process.stderr.write(`ide.mjs: ${scenario}: ${why}\n`);
  transport.proc?.kill('SIGKILL');
  fs.rmSync(home, { recursive: true, force: true });
  process.exit(1);
}
const watchdog = setTimeout(() => abandon(`no result after ${deadlineMs} ms`), deadlineMs);
// The runner's own timeout ends the driver with SIGTERM.
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => abandon(`stopped by ${sig}`));

let failure = null;
let steps = [];
try {
  steps = await session();
} catch (e) {
  failure = e.message;
}
const ex = transport.proc ? await finish() : { code: null, signal: null };
clearTimeout(watchdog);
fs.rmSync(home, { recursive: true, force: true });
const served = seen.length ? `; answered ${seen.join(', ')}` : '';
if (ex.error) {
  failure = `cannot start ${bridge}: ${ex.error}`;
} else if (!failure && (ex.code !== 0 || ex.signal)) {
  failure = `the bridge exited with ${ex.signal ?? `code ${ex.code}`} after stdin closed`;
}
if (failure) {
  process.stderr.write(`ide.mjs: ${scenario}: ${failure} (done: ${steps.join(', ') || 'nothing'}${served})\n`);
  process.exit(1);
}
process.stderr.write(`ide.mjs: ${scenario}: ${steps.join(', ')}${served}; bridge exited 0\n`);
