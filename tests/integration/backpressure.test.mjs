// SPDX-License-Identifier: ISC
//
// A slow IDE: the test stops reading the bridge's stdout while 96 MiB of
// answers are on their way. The bridge must queue at most its high-water
// mark (32 MiB), pause reading from the hosted server (and say so once on
// stderr), and deliver every answer, in full, once the IDE reads again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { BRIDGE, baseEnv, spawn, hostedFixture, requireBridge, sleep, waitUntil } from './lib.mjs';

const hosted = hostedFixture();

const CALLS = 96;
const BYTES = 1024 * 1024;

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

test('a slow IDE pauses the hosted server instead of growing memory; nothing is lost', { timeout: 60000 }, async () => {
  requireBridge();
  // Under ASan, freed memory sits in a quarantine: turn it off so RSS
  // shows what the bridge really holds.
  const asan = `${process.env.ASAN_OPTIONS ?? ''}:quarantine_size_mb=0`;
  const proc = spawn(BRIDGE, ['run', '--url', hosted.url], {
    env: baseEnv({ ASAN_OPTIONS: asan }), stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  let pending = '';
  const answers = new Map();
  proc.stdout.on('data', (d) => {
    pending += d;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const msg = JSON.parse(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (msg.id !== undefined) answers.set(msg.id, msg);
    }
  });
  const send = (m) => proc.stdin.write(`${JSON.stringify(m)}\n`);
  try {
    send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'slow-ide', version: '1' } } });
    await waitUntil(() => answers.has(0), 5000, 'initialize answered');
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });

    proc.stdout.pause(); // the IDE stops reading
    for (let i = 1; i <= CALLS; i++) {
      send({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'big', arguments: { bytes: BYTES } } });
    }
    await waitUntil(() => /pausing hosted servers/.test(stderr), 20000, 'the bridge pauses the hosted server');
    await sleep(500);
    const rss = rssKb(proc.pid);
    console.log(`bridge RSS while paused: ${rss} kB`);
    // About 32 MiB queued plus the bridge itself: without backpressure the
    // 96 MiB of answers on their way would all be in memory.
    assert.ok(rss < 90 * 1024, `bridge RSS ${rss} kB while the IDE is not reading`);
    assert.equal(proc.exitCode, null, 'the bridge is still running');

    proc.stdout.resume(); // the IDE reads again
    await waitUntil(() => answers.size === CALLS + 1, 30000, `all ${CALLS} answers (have ${answers.size - 1})`);
    for (let i = 1; i <= CALLS; i++) {
      const r = answers.get(i);
      assert.ok(r.result, `call ${i}: ${JSON.stringify(r.error)}`);
      const text = r.result.content.map((c) => c.text ?? '').join('');
      assert.ok(text.length >= BYTES, `call ${i}: ${text.length} bytes`);
    }
    assert.equal(stderr.match(/pausing hosted servers/g).length, 1, `stderr: ${stderr}`);
  } finally {
    proc.stdin.end();
    await Promise.race([new Promise((r) => proc.once('exit', r)), sleep(3000)]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
});
