// SPDX-License-Identifier: ISC
// Hostile hosted servers and registry (issue 9): oversized answers, deep
// nesting, slow-loris streams, redirects to another origin, invalid UTF-8
// and control characters in names, 10,000 tools, names that collide. The
// peer is tests/node/hostile-server.mjs; the IDE is the official SDK client
// through `mcp-bridge run` (one --url, and aggregated with --config), and
// `mcp-bridge servers` against the hostile registry. Each case: the IDE gets
// an error for its own request (or the list without the bad items), the
// bridge keeps serving, its peak RSS stays under HWM_BOUND_KB, nothing
// waits past the documented bound, and the token never reaches the origin
// a redirect points at.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  connectBridge, closeAndCheck, resultText, spawn, withTimeout, tmpDir, NODE_DIR,
  startIdp, userEnv, runBridge, waitUntil, loginAs } from './lib.mjs';

const HOSTILE = path.join(NODE_DIR, 'hostile-server.mjs');
const TOKEN = 'hostile-test-secret-token-5f1c';
// Peak RSS growth allowed while a case runs (the bridge caps every body at
// 16 MiB; the 100 MB answer must never be held whole). ASan inflates RSS.
const HWM_BOUND_KB = 160 * 1024;
// --request-timeout and --max-request-time given to `run` (seconds).
const IDLE_S = 2;
const MAX_S = 4;
const SLACK_MS = 2500;
// Under ASan freed memory sits in a quarantine (256 MiB by default) and
// counts in RSS; a small one keeps the peak about the bridge's own use.
const ASAN = { ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=16'].filter(Boolean).join(':') };

let hs;          // { proc, port, base }
let capture;     // the other origin: { url, hits: [{method, url, auth}] }

function vmHwmKb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

async function control(p) {
  return (await fetch(`${hs.base}/control/${p}`)).json();
}

before(async () => {
  const proc = spawn(process.execPath, [HOSTILE, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await withTimeout(new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /^READY (\d+)\n/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`hostile-server exited ${c}`)));
  }), 10000, 'hostile-server start');
  hs = { proc, port, base: `http://127.0.0.1:${port}` };
  const hits = [];
  const srv = http.createServer((req, res) => {
    hits.push({ method: req.method, url: req.url, auth: req.headers.authorization ?? null });
    req.resume();
    res.end('captured');
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  capture = { srv, hits, url: `http://127.0.0.1:${srv.address().port}/stolen` };
  await control(`redirect?to=${encodeURIComponent(capture.url)}`);
});

after(async () => {
  capture?.srv.close();
  hs?.proc.kill('SIGTERM');
});

/** Calls `name`; resolves {ok, code, message, ms}. */
async function call(h, name, timeout = 15000) {
  const t0 = Date.now();
  try {
    const r = await h.client.callTool({ name, arguments: {} }, undefined, { timeout });
    return { ok: true, text: resultText(r), ms: Date.now() - t0 };
  } catch (e) {
    return { ok: false, code: e.code, message: e.message, ms: Date.now() - t0 };
  }
}

async function allTools(h) {
  const out = [];
  let cursor;
  do {
    const r = await h.client.listTools(cursor ? { cursor } : {}, { timeout: 20000 });
    out.push(...r.tools);
    cursor = r.nextCursor;
  } while (cursor);
  return out;
}

// The faults a tools/call can hit, and what the IDE must get.
const CALL_CASES = [
  ['big', -32000, /size limit/, 15000],
  ['bigsse', -32000, /size limit/, 15000],
  ['deep', -32000, /./, 5000],
  ['badutf8', -32000, /./, 5000],
  ['redirect', -32000, /HTTP 307/, 5000],
  ['redirect302', -32000, /HTTP 302/, 5000],
  ['loris', -32001, /did not answer within 2 s/, IDLE_S * 1000 + SLACK_MS],
  ['jsonloris', -32001, /did not answer within/, MAX_S * 1000 + SLACK_MS],
];

async function runCallCases(h, prefix) {
  const pid = h.transport.proc.pid;
  const echo = `${prefix}echo`;
  assert.ok((await call(h, echo)).ok, 'a good call before the faults');
  const hwm0 = vmHwmKb(pid);
  const outcomes = {};
  for (const [name, code, re, bound] of CALL_CASES) {
    const r = await call(h, `${prefix}${name}`);
    outcomes[name] = r;
    assert.equal(r.ok, false, `${name}: expected an error, got ${JSON.stringify(r)}`);
    assert.equal(r.code, code, `${name}: ${r.message}`);
    assert.match(r.message, re, name);
    assert.ok(r.ms < bound, `${name}: answered after ${r.ms} ms (bound ${bound})`);
    const good = await call(h, echo);
    assert.ok(good.ok, `the bridge keeps serving after ${name}: ${good.message}`);
  }
  const grew = vmHwmKb(pid) - hwm0;
  assert.ok(grew < HWM_BOUND_KB, `peak RSS grew by ${grew} kB (bound ${HWM_BOUND_KB} kB)`);
  assert.deepEqual(capture.hits, [], 'nothing reached the redirect target');
  const st = await control('state');
  assert.ok(st.auth.length > 0 && st.auth.every((a) => a === `Bearer ${TOKEN}`), 'the token went to the server itself');
  return { outcomes, grewKb: grew };
}

test('run --url: every hostile answer gets an error with the IDE\'s id; the bridge keeps serving', { timeout: 60000 }, async (t) => {
  const h = await connectBridge({
    url: `${hs.base}/good/mcp`,
    args: ['--header', `Authorization: Bearer ${TOKEN}`, '--request-timeout', String(IDLE_S),
      '--max-request-time', String(MAX_S)],
    env: ASAN,
  });
  closeAndCheck(t, h);
  const { outcomes, grewKb } = await runCallCases(h, '');
  t.diagnostic(`single: peak RSS +${grewKb} kB; ${Object.entries(outcomes).map(([k, v]) => `${k} ${v.code} ${v.ms} ms`).join(', ')}`);
  assert.doesNotMatch(h.stderr(), new RegExp(TOKEN), 'no token in the logs');
});

test('run --config (aggregated): bad names left out, 10,000 tools capped, faults answered, others keep serving', { timeout: 60000 }, async (t) => {
  const dir = tmpDir('mcp-hostile-');
  const kinds = ['good', 'many', 'badnames', 'badutf8', 'surrogate', 'deep'];
  const cfg = path.join(dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ servers: kinds.map((k) => ({ name: k, url: `${hs.base}/${k}/mcp` })) }));
  const h = await connectBridge({
    args: ['--config', cfg, '--header', `Authorization: Bearer ${TOKEN}`, '--request-timeout', String(IDLE_S),
      '--max-request-time', String(MAX_S)],
    env: { ...ASAN, XDG_CACHE_HOME: path.join(dir, 'cache'), XDG_RUNTIME_DIR: dir, HOME: dir,
      MCP_BRIDGE_SYSTEM_CONFIG: path.join(dir, 'none.json') },
  });
  closeAndCheck(t, h);
  const pid = h.transport.proc.pid;
  const hwm0 = vmHwmKb(pid);
  // Every server answers its list at once: wait until the merged list holds them.
  let tools;
  await waitUntil(async () => {
    tools = await allTools(h);
    return tools.some((x) => x.name.startsWith('many__')) && tools.some((x) => x.name.startsWith('badnames__'));
  }, 15000, 'the merged list');
  const names = tools.map((x) => x.name);
  const by = (id) => names.filter((n) => n.startsWith(`${id}__`));
  assert.equal(by('good').length, 9);
  assert.equal(by('many').length, 10000, 'AGG_MAX_ITEMS tools per server');
  assert.equal(new Set(names).size, names.length, 'no exposed name twice');
  for (const n of names) {
    assert.ok(n.length >= 1 && n.length <= 64, `exposed name within 64: ${n}`);
    assert.doesNotMatch(n, /[\u0000-\u001f\u007f-\u009f]/, `no control characters: ${JSON.stringify(n)}`);
  }
  const bad = by('badnames');
  assert.ok(bad.includes('badnames__ok') && bad.includes('badnames__dup'), JSON.stringify(bad));
  const long = bad.find((n) => n.startsWith('badnames__LLLL'));
  assert.ok(long, '500-character name exposed, hashed down');
  assert.equal(bad.length, 3, `ok, dup (once), the 500-character name: ${JSON.stringify(bad)}`);
  for (const id of ['badutf8', 'surrogate', 'deep']) assert.deepEqual(by(id), [], `${id}: nothing listed`);
  const grew = vmHwmKb(pid) - hwm0;
  assert.ok(grew < HWM_BOUND_KB, `lists: peak RSS grew by ${grew} kB`);
  // The hashed name routes back to the server's own 500-character name.
  const r = await call(h, long);
  assert.ok(r.ok && r.text.startsWith('ok badnames LLLL'), JSON.stringify(r));
  assert.ok((await call(h, 'many__t9999')).ok);
  const { outcomes, grewKb } = await runCallCases(h, 'good__');
  t.diagnostic(`aggregated: ${names.length} tools; peak RSS +${grew} kB (lists), +${grewKb} kB (calls); ` +
    `${Object.entries(outcomes).map(([k, v]) => `${k} ${v.code} ${v.ms} ms`).join(', ')}`);
  assert.doesNotMatch(h.stderr(), new RegExp(TOKEN), 'no token in the logs');
});

test('servers: a hostile registry is refused with one clear line, never followed, bounded in time', { timeout: 60000 }, async (t) => {
  const idp = await startIdp(['--interval', '1']);
  t.after(() => idp.stop());
  const env = userEnv(idp, { store: 'file', extra: { MCP_BRIDGE_REGISTRY: `${hs.base}/good` } });
  await loginAs(idp, env);
  const cases = [
    ['good', 0, null, 5000],
    ['big', 1, /registry response too large/, 5000],
    ['deep', 1, /not JSON/, 5000],
    ['badutf8', 1, /not JSON/, 5000],
    ['badname', 0, /1 servers without a valid name left out/, 5000],
    ['redirect', 1, /HTTP 302/, 5000],
    ['pages', 1, /listing is over/, 15000],
    ['loris', 1, /no answer within 20 s/, 20000 + SLACK_MS],
  ];
  const runs = await Promise.all(cases.map(([mode]) =>
    runBridge(['servers', '--json'], { env: { ...env, MCP_BRIDGE_REGISTRY: `${hs.base}/${mode}` }, timeout: 30000 })));
  const summary = [];
  for (const [i, [mode, code, re, bound]] of cases.entries()) {
    const r = runs[i];
    summary.push(`${mode} exit ${r.code} ${r.ms} ms`);
    assert.equal(r.signal, null, `${mode}: killed (hung?) ${r.stderr}`);
    assert.equal(r.code, code, `${mode}: ${r.stderr}`);
    if (re) assert.match(r.stderr, re, mode);
    assert.ok(r.ms < bound, `${mode}: took ${r.ms} ms`);
    assert.doesNotMatch(r.stderr + r.stdout, /AddressSanitizer|runtime error/, mode);
    if (mode === 'good' || mode === 'badname') {
      const names = JSON.parse(r.stdout).servers.map((s) => s.name);
      assert.ok(names.every((n) => /^[A-Za-z0-9./_-]+$/.test(n)), `${mode}: ${JSON.stringify(names)}`);
      assert.ok(names.length >= 1, mode);
    }
    
  }
  t.diagnostic(summary.join('; '));
  assert.deepEqual(capture.hits, [], 'the registry redirect was not followed');
});
