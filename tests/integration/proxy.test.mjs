// SPDX-License-Identifier: ISC
//
// Enterprise networking: the bridge goes through an HTTP proxy from the
// environment (http_proxy, HTTP_PROXY, https_proxy with CONNECT), skips it
// for no_proxy hosts, and verifies TLS with an added CA bundle (--cacert)
// while refusing an unknown certificate. The proxy is a small forward proxy
// written here, on loopback, that records what went through it.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';

import { connectBridge, makeCert, resultText, startHosted, tmpDir } from './lib.mjs';

/** A forward proxy: absolute-URI requests for http://, CONNECT for https://. */
async function startProxy() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const up = http.request(req.url, { method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req, sock, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = req.url.split(':');
    const up = net.connect(Number(port), host, () => {
      sock.write('HTTP/1.1 200 Connection established\r\n\r\n');
      up.write(head);
      up.pipe(sock);
      sock.pipe(up);
    });
    up.on('error', () => sock.destroy());
    sock.on('error', () => up.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(resolve);
    }),
  };
}

async function echoThrough(opts) {
  const h = await connectBridge(opts);
  try {
    const r = await h.client.callTool({ name: 'echo', arguments: { text: 'via' } }, undefined, { timeout: 8000 });
    assert.equal(resultText(r), 'via');
  } finally {
    await h.close();
  }
}

describe('HTTP proxy from the environment', () => {
  let hosted;
  let proxy;
  before(async () => {
    hosted = await startHosted();
    proxy = await startProxy();
  });
  after(async () => {
    await proxy?.stop();
    await hosted?.stop();
  });

  for (const name of ['http_proxy', 'HTTP_PROXY']) {
    test(`${name} is used for http:// hosted servers`, { timeout: 20000 }, async () => {
      proxy.seen.length = 0;
      await echoThrough({ url: hosted.url, env: { [name]: proxy.url } });
      assert.ok(proxy.seen.some((s) => s.startsWith(`POST ${hosted.url}`)),
        `proxy saw: ${JSON.stringify(proxy.seen)}`);
    });
  }

  test('no_proxy bypasses the proxy', { timeout: 20000 }, async () => {
    proxy.seen.length = 0;
    await echoThrough({ url: hosted.url, env: { http_proxy: proxy.url, no_proxy: '127.0.0.1' } });
    assert.deepEqual(proxy.seen, []);
  });
});

describe('HTTP/2 when the server offers it (ALPN), one connection', () => {
  let hosted;
  before(async () => {
    const tls = makeCert(tmpDir('mcp-bridge-h2-'));
    assert.ok(tls, 'openssl is needed to make a test certificate');
    hosted = await startHosted({ tls, h2: true });
    hosted.tlsFiles = tls;
  });
  after(async () => {
    await hosted?.stop();
  });

  test('every MCP request goes over HTTP/2, calls in parallel included', { timeout: 20000 }, async () => {
    const h = await connectBridge({ url: hosted.url, args: ['--cacert', hosted.tlsFiles.cert] });
    try {
      const calls = [];
      for (let i = 0; i < 8; i++) {
        calls.push(h.client.callTool({ name: 'echo', arguments: { text: `h2-${i}` } }, undefined, { timeout: 8000 }));
      }
      const results = await Promise.all(calls);
      results.forEach((r, i) => assert.equal(resultText(r), `h2-${i}`));
    } finally {
      await h.close();
    }
    const st = await hosted.state();
    assert.deepEqual(st.httpVersions, ['2.0']);
    assert.ok(st.deletes >= 1, 'the session was ended with DELETE over HTTP/2');
  });
});

describe('TLS: verified always, --cacert adds a CA', () => {
  let hosted;
  let proxy;
  let tls;
  before(async () => {
    tls = makeCert(tmpDir('mcp-bridge-tls-'));
    assert.ok(tls, 'openssl is needed to make a test certificate');
    hosted = await startHosted({ tls });
    proxy = await startProxy();
  });
  after(async () => {
    await proxy?.stop();
    await hosted?.stop();
  });

  test('an unknown certificate is refused with a clear error', { timeout: 20000 }, async () => {
    await assert.rejects(connectBridge({ url: hosted.url }), (e) => {
      assert.match(e.message, /certificate|SSL|TLS/i);
      return true;
    });
  });

  test('--cacert with the server\'s CA makes it work', { timeout: 20000 }, async () => {
    await echoThrough({ url: hosted.url, args: ['--cacert', tls.cert] });
  });

  test('https_proxy tunnels with CONNECT and TLS is still verified end to end', { timeout: 20000 }, async () => {
    proxy.seen.length = 0;
    await echoThrough({ url: hosted.url, args: ['--cacert', tls.cert], env: { https_proxy: proxy.url } });
    assert.ok(proxy.seen.includes(`CONNECT 127.0.0.1:${hosted.port}`), `proxy saw: ${JSON.stringify(proxy.seen)}`);
  });

  test('HTTP/1.1 over TLS when the server offers nothing else', { timeout: 20000 }, async () => {
    await hosted.reset();
    await echoThrough({ url: hosted.url, args: ['--cacert', tls.cert] });
    assert.deepEqual((await hosted.state()).httpVersions, ['1.1']);
  });

  test('--cacert with a file that holds no certificate is a usage error', { timeout: 10000 }, async () => {
    const { runBridge } = await import('./lib.mjs');
    const r = await runBridge(['run', '--url', hosted.url, '--cacert', '/dev/null']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no PEM certificate/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
