// SPDX-License-Identifier: ISC
// Malformed and unusual input from the IDE on stdin; server->client requests
// answered by a raw IDE.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startHosted, rawBridge, badJsonLines, isResponse, sleep, hostedFixture } from './lib.mjs';

// One hosted server for the file, its state reset before each test.
const hosted = hostedFixture();

async function session(t) {
  const b = rawBridge(hosted.url);
  t.after(() => b.dispose());
  const init = await b.initialize('2025-11-25', { id: 0, capabilities: { elicitation: {}, roots: {} } });
  assert.ok(init.result, JSON.stringify(init));
  return b;
}

/** Writes `bytes`, waits for one new id-null error reply, returns it. */
async function expectNullIdError(b, bytes, label) {
  const from = b.messages.length;
  await b.write(bytes);
  const r = await b.waitFor((m) => isResponse(m) && m.id === null, { from, label: `id-null error for ${label}` });
  assert.equal(r.jsonrpc, '2.0');
  assert.ok(r.error, `${label}: expected an error`);
  assert.equal(typeof r.error.message, 'string');
  return r;
}

/** The session still answers: a ping with a fresh id. */
async function stillAlive(b, id) {
  const r = await b.request({ jsonrpc: '2.0', id, method: 'ping' });
  assert.deepEqual(r.result, {}, `ping ${id} after bad input`);
}

test('invalid JSON -> -32700 with id null; the session continues', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  for (const bad of ['this is not json', '{"jsonrpc":"2.0","id":1,', '{"jsonrpc":"2.0","id":2,"method":"ping"}}', "{'single':'quotes'}", '[1,2', '{"a":tru}']) {
    const r = await expectNullIdError(b, `${bad}\n`, bad);
    assert.equal(r.error.code, -32700, `${bad}: ${JSON.stringify(r)}`);
  }
  await stillAlive(b, 'alive-1');
  assert.deepEqual(badJsonLines(b.lines), []);
});

test('valid JSON that is not JSON-RPC -> -32600', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  const cases = [
    ['{"foo":1}', null],
    ['42', null],
    ['"just a string"', null],
    ['null', null],
    ['{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', null],
    ['{"jsonrpc":"2.0","id":[1],"method":"ping"}', null],
    ['{"jsonrpc":"2.0","id":true,"method":"ping"}', null],
    ['{"jsonrpc":"2.0","id":null,"method":"ping"}', null],
  ];
  for (const [line] of cases) {
    const r = await expectNullIdError(b, `${line}\n`, line);
    assert.equal(r.error.code, -32600, `${line}: ${JSON.stringify(r)}`);
  }
  // Invalid requests whose id is readable: -32600, with that id (or null).
  for (const [line, id] of [
    ['{"jsonrpc":"1.0","id":13,"method":"ping"}', 13],
    ['{"id":14,"method":"ping"}', 14],
    ['{"jsonrpc":"2.0","id":15,"method":5}', 15],
    ['{"jsonrpc":"2.0","id":"s16"}', 's16'],
  ]) {
    const from = b.messages.length;
    await b.write(`${line}\n`);
    const r = await b.waitFor((m) => isResponse(m) && (m.id === id || m.id === null), { from, label: line });
    assert.equal(r.error?.code, -32600, `${line}: ${JSON.stringify(r)}`);
  }
  await stillAlive(b, 'alive-2');
  assert.deepEqual(badJsonLines(b.lines), []);
});

test('a 17 MiB line -> an error reply with id null, the line is discarded, the next request is answered', { timeout: 30000 }, async (t) => {
  const b = await session(t);
  const pad = 'x'.repeat(17 * 1024 * 1024);
  const huge = `{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${pad}"}}}\n`;
  const from = b.messages.length;
  await b.write(huge);
  const r = await b.waitFor((m) => isResponse(m) && m.id === null, { from, timeout: 15000, label: 'error for the 17 MiB line' });
  assert.ok(r.error);
  const next = await b.request({ jsonrpc: '2.0', id: 100, method: 'tools/call', params: { name: 'echo', arguments: { text: 'after huge' } } },
    { timeout: 10000 });
  assert.equal(next.result?.content[0].text, 'after huge');
  await sleep(200);
  assert.equal(b.messages.filter((m) => m && m.id === 99).length, 0, 'the oversized request was not answered as if valid');
  const st = await hosted.state();
  assert.deepEqual(st.toolCalls.map((c) => String(c.arguments?.text).slice(0, 20)), ['after huge'],
    'only the valid call reached the hosted server');
});

test('a 15 MiB line (under the 16 MiB limit) is accepted and answered', { timeout: 30000 }, async (t) => {
  const b = await session(t);
  // Big but under the limit: a 15 MiB echo.
  const text = 'y'.repeat(15 * 1024 * 1024);
  const r = await b.request({ jsonrpc: '2.0', id: 'fifteen', method: 'tools/call', params: { name: 'echo', arguments: { text } } },
    { timeout: 20000 });
  assert.ok(r.result, JSON.stringify(r.error));
  assert.equal(r.result.content[0].text.length, text.length);
});

test('NUL bytes: raw NULs are rejected, an escaped \\u0000 passes through', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  let r = await expectNullIdError(b, Buffer.from([0, 0x0a]), 'lone NUL');
  assert.equal(r.error.code, -32700);
  r = await expectNullIdError(b, Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":5,"method":"ping"}'), Buffer.from([0, 0x0a])]), 'trailing NUL');
  assert.equal(r.error.code, -32700);
  r = await expectNullIdError(b, Buffer.concat([
    Buffer.from('{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a'),
    Buffer.from([0]),
    Buffer.from('b"}}}\n'),
  ]), 'NUL inside a string');
  assert.equal(r.error.code, -32700);
  assert.equal(b.messages.filter((m) => m && (m.id === 5 || m.id === 6)).length, 0);

  const ok = await b.request({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'a\u0000b' } } });
  assert.equal(ok.result?.content[0].text, 'a\u0000b');
  assert.deepEqual(badJsonLines(b.lines), []);
});

test('invalid UTF-8 is rejected with an error; the session continues', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  const from = b.messages.length;
  await b.write(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"text":"'),
    Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}}}\n')]));
  const r = await b.waitFor((m) => isResponse(m) && (m.id === null || m.id === 8), { from, label: 'reply to invalid UTF-8' });
  assert.ok(r.error, `invalid UTF-8 must not be forwarded: ${JSON.stringify(r)}`);
  assert.ok([-32700, -32600].includes(r.error.code), JSON.stringify(r));
  await stillAlive(b, 'alive-utf8');
});

test('CRLF line endings and blank lines are tolerated', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  await b.write('\n\n');
  const r = await b.request({ jsonrpc: '2.0', id: 'crlf', method: 'ping' });
  assert.deepEqual(r.result, {});
  await b.write('{"jsonrpc":"2.0","id":"crlf2","method":"ping"}\r\n');
  const r2 = await b.response('crlf2');
  assert.deepEqual(r2.result, {});
  // Several messages in one write, and one message split over several writes.
  await b.write('{"jsonrpc":"2.0","id":"m1","method":"ping"}\n{"jsonrpc":"2.0","id":"m2","method":"ping"}\n{"jsonrpc":"2.0","id":"m3",');
  await sleep(50);
  await b.write('"method":"ping"}\n');
  for (const id of ['m1', 'm2', 'm3']) assert.deepEqual((await b.response(id)).result, {});
  assert.deepEqual(badJsonLines(b.lines), []);
});

test('responses to unknown ids and stray notifications do not crash the bridge', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  await b.send({ jsonrpc: '2.0', id: 12345, result: {} });
  await b.send({ jsonrpc: '2.0', id: 'nobody-asked', error: { code: -1, message: 'x' } });
  await b.send({ jsonrpc: '2.0', id: 'bridge-1', result: { action: 'accept' } });
  await b.send({ jsonrpc: '2.0', method: 'notifications/unknown', params: { a: 1 } });
  await b.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'never-sent' } });
  await b.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'zzz', progress: 1 } });
  await stillAlive(b, 'alive-unknown');
  assert.ok(b.alive);
  // Nothing the IDE sent above deserves a reply.
  const replies = b.messages.filter((m) => isResponse(m) && ['nobody-asked', 12345, 'bridge-1'].includes(m.id));
  assert.deepEqual(replies, []);
});

test('server->client request: the IDE sees a bridge-chosen id and its answer is posted back', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  await b.send({ jsonrpc: '2.0', id: 'call-1', method: 'tools/call', params: { name: 'overwrite_table', arguments: { table: 'raw_t' } } });
  const req = await b.waitFor((m) => m && m.method === 'elicitation/create', { label: 'elicitation/create' });
  assert.ok(typeof req.id === 'string' || Number.isInteger(req.id), `bridge-chosen id ${JSON.stringify(req.id)}`);
  assert.match(req.params.message, /raw_t/);
  await b.send({ jsonrpc: '2.0', id: req.id, result: { action: 'accept', content: { confirm: true } } });
  const r = await b.response('call-1');
  assert.equal(r.result?.content[0].text, 'overwrote raw_t');

  // A second elicitation gets a different id than the first.
  await b.send({ jsonrpc: '2.0', id: 'call-2', method: 'tools/call', params: { name: 'overwrite_table', arguments: { table: 'raw_u' } } });
  const from = b.messages.indexOf(req) + 1;
  const req2 = await b.waitFor((m) => m && m.method === 'elicitation/create', { from, label: 'second elicitation/create' });
  assert.notDeepEqual(req2.id, req.id);
  await b.send({ jsonrpc: '2.0', id: req2.id, result: { action: 'decline' } });
  assert.equal((await b.response('call-2')).result?.content[0].text, 'cancelled');
  const st = await hosted.state();
  assert.equal(st.clientResponses, 2);
});

test('server->client request answered with an error by the IDE: the tool sees the failure', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  await b.send({ jsonrpc: '2.0', id: 'call-e', method: 'tools/call', params: { name: 'roots', arguments: {} } });
  const req = await b.waitFor((m) => m && m.method === 'roots/list', { label: 'roots/list' });
  await b.send({ jsonrpc: '2.0', id: req.id, error: { code: -32603, message: 'no roots today' } });
  const r = await b.response('call-e');
  assert.ok(r.result?.isError, JSON.stringify(r));
  assert.match(r.result.content[0].text, /no roots today/);
});

test('notifications/cancelled from the IDE uses the IDE\'s id and reaches the right upstream request', { timeout: 15000 }, async (t) => {
  const b = await session(t);
  await b.send({ jsonrpc: '2.0', id: 'slow-1', method: 'tools/call', params: { name: 'slow', arguments: { ms: 8000 } } });
  await b.send({ jsonrpc: '2.0', id: 'slow-2', method: 'tools/call', params: { name: 'slow', arguments: { ms: 1000 } } });
  await sleep(300);
  await b.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'slow-1', reason: 'stop' } });
  const r2 = await b.response('slow-2', { timeout: 5000 });
  assert.equal(r2.result?.content[0].text, 'slept 1000', 'the other call is not cancelled');
  const st = await hosted.state();
  assert.equal(st.aborted.length, 1);
  assert.equal(st.cancellations.length, 1);
  assert.equal(st.cancellations[0].requestId, st.aborted[0].requestId);
  assert.equal(st.cancellations[0].reason, 'stop');
});

test('batches: answered as one array in a 2025-03-26 session, refused with -32600 in later revisions', { timeout: 15000 }, async (t) => {
  const old = rawBridge(hosted.url);
  t.after(() => old.dispose());
  assert.ok((await old.initialize('2025-03-26', { id: 0 })).result);
  const from = old.lines.length;
  await old.write('[{"jsonrpc":"2.0","id":"b1","method":"ping"},' +
    '{"jsonrpc":"2.0","id":"b2","method":"tools/call","params":{"name":"echo","arguments":{"text":"in batch"}}},' +
    '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"none","progress":1}}]\n');
  const arr = await old.waitFor((m) => Array.isArray(m), { from, label: 'batch response' });
  const byId = Object.fromEntries(arr.map((m) => [m.id, m]));
  assert.equal(arr.length, 2, 'one response per request, none for the notification');
  assert.deepEqual(byId.b1.result, {});
  assert.equal(byId.b2.result?.content[0].text, 'in batch');

  const b = await session(t);
  const f2 = b.messages.length;
  await b.write('[{"jsonrpc":"2.0","id":"c1","method":"ping"}]\n');
  const r = await b.waitFor((m) => isResponse(m) || Array.isArray(m), { from: f2, label: 'batch refusal' });
  assert.equal(r.error?.code, -32600, JSON.stringify(r));
  await stillAlive(b, 'alive-batch');
});
