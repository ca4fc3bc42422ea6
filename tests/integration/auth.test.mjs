// SPDX-License-Identifier: ISC
// Credentials (MCP_BRIDGE_ACCESS_TOKEN, --header, --header-file), secrets kept
// out of stderr and the log file, URL policy, TLS with --cacert, usage errors.

import { test, before, after, beforeEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startHosted, connectBridge, rawBridge, runBridge, resultText, tmpDir, makeCert, waitUntil, badJsonLines,
  closeAndCheck, hostedFixture } from './lib.mjs';

const T = { timeout: 8000 };

// One hosted server for the file, its state reset before each test.
const hosted = hostedFixture();

/** A short session that exercises POST, GET (standalone stream), errors and DELETE. */
async function exercise(h) {
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'a' } }, undefined, T)), 'a');
  await waitUntil(async () => (await hosted.state()).gets >= 1, 4000, 'GET stream').catch(() => {});
  await hosted.control('fail-next?status=401&count=1&method=tools/call');
  await h.client.callTool({ name: 'echo', arguments: { text: 'b' } }, undefined, T).catch(() => {});
  await hosted.control('fail-next?status=503&count=1&method=tools/call');
  await h.client.callTool({ name: 'echo', arguments: { text: 'c' } }, undefined, T).catch(() => {});
  await hosted.control('expire-sessions');
  await h.client.callTool({ name: 'echo', arguments: { text: 'd' } }, undefined, T).catch(() => {});
  await h.close();
}

function assertEveryRequestAuthorized(st, expected) {
  assert.ok(st.authorizations.length >= 3);
  for (const a of st.authorizations) {
    assert.equal(a.value, expected, `${a.method} request carried Authorization ${JSON.stringify(a.value)}`);
  }
  assert.ok(st.authorizations.some((a) => a.method === 'GET'), 'GET seen');
  assert.ok(st.authorizations.some((a) => a.method === 'DELETE'), 'DELETE seen');
}

function assertSecretAbsent(texts, secret) {
  for (const [name, text] of Object.entries(texts)) {
    assert.ok(!text.includes(secret), `${name} contains the secret`);
  }
}

test('MCP_BRIDGE_ACCESS_TOKEN is sent as a Bearer token on every request, and never logged (debug + --log-file)', { timeout: 30000 }, async (t) => {
  const dir = tmpDir();
  const logFile = path.join(dir, 'bridge.log');
  const token = 'tok-ENV-3f9a1c7e5b2d4068-SECRET';
  const h = await connectBridge({
    url: hosted.url,
    args: ['--log-level', 'debug', '--log-file', logFile],
    env: { MCP_BRIDGE_ACCESS_TOKEN: token },
  });
  closeAndCheck(t, h);
  await exercise(h);
  const st = await hosted.state();
  assert.equal(st.authorizationSeen, true);
  assert.equal(st.lastAuthorization, `Bearer ${token}`);
  assertEveryRequestAuthorized(st, `Bearer ${token}`);
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  assert.ok(log.length > 0, 'the debug log file was written');
  assertSecretAbsent({ stderr: h.stderr(), logFile: log, stdout: h.stdoutLines.join('\n') }, token);
  assertSecretAbsent({ stderr: h.stderr(), logFile: log }, token.slice(4, 20));
});

test('token is not logged at --log-level debug on stderr either', { timeout: 30000 }, async (t) => {
  const token = 'tok-STDERR-8c1e2f3a4b5c6d7e';
  const h = await connectBridge({ url: hosted.url, args: ['--log-level', 'debug'], env: { MCP_BRIDGE_ACCESS_TOKEN: token } });
  closeAndCheck(t, h);
  await exercise(h);
  assert.ok(h.stderr().length > 0, 'debug output on stderr');
  assertSecretAbsent({ stderr: h.stderr() }, token);
  assertSecretAbsent({ stderr: h.stderr() }, token.slice(4, 16));
  assert.equal((await hosted.state()).lastAuthorization, `Bearer ${token}`);
});

test('--header "Authorization: Bearer X" is sent, wins over the env token, and is not logged', { timeout: 30000 }, async (t) => {
  const hdrTok = 'hdr-TOKEN-0d9e8f7a6b5c';
  const envTok = 'env-TOKEN-should-not-be-sent';
  const h = await connectBridge({
    url: hosted.url,
    args: ['--header', `Authorization: Bearer ${hdrTok}`, '--header', 'X-Custom-Team: blue', '--log-level', 'debug'],
    env: { MCP_BRIDGE_ACCESS_TOKEN: envTok },
  });
  closeAndCheck(t, h);
  await exercise(h);
  const st = await hosted.state();
  assertEveryRequestAuthorized(st, `Bearer ${hdrTok}`);
  assert.equal(st.customHeaders['x-custom-team'], 'blue');
  assertSecretAbsent({ stderr: h.stderr() }, hdrTok);
  assertSecretAbsent({ stderr: h.stderr() }, envTok);
});

test('without any credential no Authorization header is sent', { timeout: 20000 }, async (t) => {
  const h = await connectBridge({ url: hosted.url });
  closeAndCheck(t, h);
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'a' } }, undefined, T)), 'a');
  await h.close();
  const st = await hosted.state();
  assert.equal(st.authorizationSeen, false);
});

test('--header-file: one header per line, # comments and blank lines skipped; values never logged', { timeout: 30000 }, async (t) => {
  const dir = tmpDir();
  const file = path.join(dir, 'headers');
  const tok = 'file-TOKEN-77aa88bb99cc';
  fs.writeFileSync(file, `# credentials for the hosted server\n\nAuthorization: Bearer ${tok}\nX-Team: green\n`, { mode: 0o600 });
  const logFile = path.join(dir, 'log');
  const h = await connectBridge({
    url: hosted.url,
    args: ['--header-file', file, '--log-level', 'debug', '--log-file', logFile],
    env: { MCP_BRIDGE_ACCESS_TOKEN: 'env-token-not-used' },
  });
  closeAndCheck(t, h);
  await exercise(h);
  const st = await hosted.state();
  assertEveryRequestAuthorized(st, `Bearer ${tok}`);
  assert.equal(st.customHeaders['x-team'], 'green');
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  assertSecretAbsent({ stderr: h.stderr(), logFile: log }, tok);
  assertSecretAbsent({ stderr: h.stderr(), logFile: log }, 'env-token-not-used');
});

test('header values may use ${VAR} from the environment (documented in src/hdr.h)', { timeout: 20000 }, async (t) => {
  const h = await connectBridge({
    url: hosted.url,
    args: ['--header', 'Authorization:Bearer ${MY_IDE_TOKEN}'],
    env: { MY_IDE_TOKEN: 'expanded-tok-123' },
  });
  closeAndCheck(t, h);
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'a' } }, undefined, T)), 'a');
  await h.close();
  assert.equal((await hosted.state()).lastAuthorization, 'Bearer expanded-tok-123');
});

test('http://localhost is accepted as loopback', { timeout: 20000 }, async (t) => {
  const h = await connectBridge({ url: `http://localhost:${hosted.port}/mcp` });
  closeAndCheck(t, h);
  assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'lh' } }, undefined, T)), 'lh');
  await h.close();
});

describe('URL policy and usage errors (exit 2, one line on stderr)', () => {
  const oneLine = (r) => {
    const lines = r.stderr.trim().split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, `expected one stderr line, got: ${JSON.stringify(r.stderr)}`);
  };

  for (const url of ['http://192.0.2.1/mcp', 'http://192.0.2.1:8080/mcp', 'http://[2001:db8::1]/mcp', 'http://0.0.0.0:9/mcp']) {
    test(`plain http to a non-loopback host is refused: ${url}`, { timeout: 10000 }, async () => {
      const r = await runBridge(['run', '--url', url, '--connect-timeout', '1'], { env: { MCP_BRIDGE_ACCESS_TOKEN: 'tok-never-sent' } });
      assert.equal(r.code, 2, `exit ${r.code}, stderr ${r.stderr}`);
      oneLine(r);
      assert.equal(r.stdout, '', 'nothing on stdout');
      assert.ok(!r.stderr.includes('tok-never-sent'));
      assert.ok(r.ms < 3000, 'refused before any connection attempt');
    });
  }

  const usage = [
    [[], 'no arguments'],
    [['run'], 'run without --url'],
    [['run', '--url'], '--url without a value'],
    [['bogus-command'], 'unknown command'],
    [['run', '--url', 'http://127.0.0.1:9/mcp', '--bogus'], 'unknown option'],
    [['run', '--url', 'ftp://127.0.0.1/mcp'], 'unsupported scheme'],
    [['run', '--url', 'not a url'], 'garbage URL'],
    [['run', '--url', 'http://user:pass@127.0.0.1:9/mcp'], 'credentials in the URL'],
    [['run', '--url', 'http://127.0.0.1:9/mcp', '--log-level', 'loud'], 'bad log level'],
    [['run', '--url', 'http://127.0.0.1:9/mcp', '--connect-timeout', 'abc'], 'bad timeout'],
    [['run', '--url', 'http://127.0.0.1:9/mcp', '--request-timeout', '-1'], 'negative timeout'],
    [['run', '--url', 'http://127.0.0.1:9/mcp', '--header', 'NoColonHere'], 'header without a colon'],
    [['run', '--url', 'http://127.0.0.1:9/mcp', '--header', 'Bad Name: v'], 'invalid header name'],
    [['run', '--url', 'http://127.0.0.1:9/mcp', '--header', 'X-A: b\r\nX-Injected: 1'], 'CR/LF in a header value'],
    [['run', '--url', 'http://127.0.0.1:9/mcp', '--header', 'Mcp-Session-Id: stolen'], 'a header the bridge owns'],
  ];
  for (const [args, label] of usage) {
    test(`usage error: ${label} -> exit 2`, { timeout: 10000 }, async () => {
      const r = await runBridge(args);
      assert.equal(r.code, 2, `exit ${r.code} signal ${r.signal}, stderr ${JSON.stringify(r.stderr)}`);
      oneLine(r);
      assert.equal(r.stdout, '');
    });
  }

  test('a header value given on the command line is not echoed in the usage error', { timeout: 10000 }, async () => {
    const r = await runBridge(['run', '--url', 'http://192.0.2.1/mcp', '--header', 'Authorization: Bearer argv-SECRET-42']);
    assert.equal(r.code, 2);
    assert.ok(!r.stderr.includes('argv-SECRET-42'), r.stderr);
  });

  test('a bad line in --header-file is reported without its value', { timeout: 10000 }, async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'h');
    fs.writeFileSync(file, 'X-Ok: fine\nBroken Header Line With SECRET-in-file-99\n');
    const r = await runBridge(['run', '--url', 'http://127.0.0.1:9/mcp', '--header-file', file]);
    assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}`);
    assert.ok(!r.stderr.includes('SECRET-in-file-99'), r.stderr);
    assert.match(r.stderr, /:2\b/, 'names the line');
  });
});

describe('https with --cacert', () => {
  let tlsHosted;
  let tls;
  let skip = false;

  before(async () => {
    const dir = tmpDir();
    tls = makeCert(dir);
    if (!tls) {
      skip = 'openssl is not available';
      return;
    }
    tlsHosted = await startHosted({ tls });
  });

  after(async () => {
    await tlsHosted?.stop();
  });

  test('https://127.0.0.1 with --cacert works; the token is sent', { timeout: 20000 }, async (t) => {
    if (skip) return t.skip(skip);
    const h = await connectBridge({
      url: tlsHosted.url,
      args: ['--cacert', tls.cert],
      env: { MCP_BRIDGE_ACCESS_TOKEN: 'tls-token' },
    });
    closeAndCheck(t, h);
    assert.equal(resultText(await h.client.callTool({ name: 'echo', arguments: { text: 'over tls' } }, undefined, T)), 'over tls');
    await h.close();
    assert.deepEqual(badJsonLines(h.stdoutLines), []);
    assert.equal((await tlsHosted.state()).lastAuthorization, 'Bearer tls-token');
  });

  test('https with an untrusted certificate fails fast with an error, the token is not sent', { timeout: 20000 }, async (t) => {
    if (skip) return t.skip(skip);
    await tlsHosted.reset();
    const b = rawBridge(tlsHosted.url, [], { env: { MCP_BRIDGE_ACCESS_TOKEN: 'tls-token-untrusted' } });
    t.after(() => b.dispose());
    const started = Date.now();
    const r = await b.initialize('2025-11-25', { id: 'tls' });
    assert.ok(Date.now() - started < 5000);
    assert.equal(r.error?.code, -32000, JSON.stringify(r));
    const st = await tlsHosted.state();
    assert.equal(st.posts, 0, 'no request got through the failed handshake');
  });
});
