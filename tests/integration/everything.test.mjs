// SPDX-License-Identifier: ISC
// The bridge against the reference server-everything (streamable HTTP mode).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startEverything, connectBridge, resultText, waitUntil, badJsonLines, types,
  closeAndCheck,
} from './lib.mjs';

const { ElicitRequestSchema, CreateMessageRequestSchema, ListRootsRequestSchema } = types;

let everything;

before(async () => {
  everything = await startEverything();
});

after(async () => {
  await everything?.stop();
});

const T = { timeout: 8000 };

const cleanup = closeAndCheck;

/** Full-featured IDE: elicitation, sampling and roots. */
async function connectFull(extra = {}) {
  const seen = { elicit: [], sample: [], roots: 0 };
  const h = await connectBridge({
    url: everything.url,
    capabilities: { elicitation: {}, sampling: {}, roots: { listChanged: true } },
    handlers: [
      [ElicitRequestSchema, async (req) => {
        seen.elicit.push(req.params);
        return extra.elicitAnswer ?? { action: 'accept', content: { name: 'Ada Lovelace', check: true, integer: 7 } };
      }],
      [CreateMessageRequestSchema, async (req) => {
        seen.sample.push(req.params);
        return { role: 'assistant', model: 'fake-llm', content: { type: 'text', text: 'sampled-by-ide' } };
      }],
      [ListRootsRequestSchema, async () => {
        seen.roots++;
        return { roots: [{ uri: 'file:///work/project', name: 'project' }] };
      }],
    ],
  });
  return { h, seen };
}

/** Conditional tools are registered when notifications/initialized arrives; allow for that race. */
async function toolNames(h, mustHave) {
  let names = [];
  await waitUntil(async () => {
    names = (await h.client.listTools(undefined, T)).tools.map((x) => x.name);
    return mustHave.every((n) => names.includes(n));
  }, 4000, `tools ${mustHave}`, 100).catch(() => {});
  return names;
}

test('server-everything: initialize, tools, prompts, resources', { timeout: 30000 }, async (t) => {
  const { h } = await connectFull();
  cleanup(t, h);
  const { client } = h;
  assert.equal(client.getServerVersion().name, 'mcp-servers/everything');
  assert.ok(client.getServerCapabilities().tools);

  const names = await toolNames(h, ['echo', 'get-sum', 'trigger-long-running-operation',
    'trigger-elicitation-request', 'trigger-sampling-request', 'get-roots-list']);
  for (const n of ['echo', 'get-sum', 'trigger-long-running-operation', 'trigger-elicitation-request',
    'trigger-sampling-request', 'get-roots-list']) {
    assert.ok(names.includes(n), `tool ${n} listed (got ${names})`);
  }

  const echo = await client.callTool({ name: 'echo', arguments: { message: 'hi from the IDE' } }, undefined, T);
  assert.equal(resultText(echo), 'Echo: hi from the IDE');
  const sum = await client.callTool({ name: 'get-sum', arguments: { a: 19, b: 23 } }, undefined, T);
  assert.match(resultText(sum), /\b42\b/);

  const prompts = (await client.listPrompts(undefined, T)).prompts.map((p) => p.name);
  assert.ok(prompts.includes('simple-prompt'), `prompts: ${prompts}`);
  const p = await client.getPrompt({ name: 'simple-prompt' }, T);
  assert.match(p.messages[0].content.text, /simple prompt/);

  const resources = (await client.listResources(undefined, T)).resources;
  assert.ok(resources.length > 0, 'resources listed');
  const first = await client.readResource({ uri: resources[0].uri }, T);
  assert.ok(first.contents.length > 0);
  const templates = (await client.listResourceTemplates(undefined, T)).resourceTemplates.map((r) => r.uriTemplate);
  assert.ok(templates.includes('demo://resource/dynamic/text/{resourceId}'), `templates: ${templates}`);
  const dyn = await client.readResource({ uri: 'demo://resource/dynamic/text/3' }, T);
  assert.match(dyn.contents[0].text, /^Resource 3:/);

  await client.ping(T);
});

test('server-everything: progress notifications from trigger-long-running-operation', { timeout: 20000 }, async (t) => {
  const { h } = await connectFull();
  cleanup(t, h);
  const progress = [];
  const r = await h.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } },
    undefined, { timeout: 10000, onprogress: (pr) => progress.push(pr) });
  assert.match(resultText(r), /Long running operation completed/);
  // server-everything sends its last progress right before the result; the SDK
  // client dispatches notifications a microtask late and may drop that one when
  // both arrive in one read. So count what the bridge wrote on stdout.
  const lines = h.stdoutLines.map((l) => JSON.parse(l)).filter((m) => m.method === 'notifications/progress');
  assert.deepEqual(lines.map((m) => m.params.progress), [1, 2, 3, 4]);
  assert.ok(progress.length >= 3, `onprogress called ${progress.length} times`);
  assert.deepEqual(progress.map((pr) => pr.progress), [1, 2, 3, 4].slice(0, progress.length));
});

test('server-everything: elicitation accepted and declined', { timeout: 20000 }, async (t) => {
  const { h, seen } = await connectFull();
  cleanup(t, h);
  await toolNames(h, ['trigger-elicitation-request']);
  const r = await h.client.callTool({ name: 'trigger-elicitation-request', arguments: {} }, undefined, T);
  assert.match(resultText(r), /User provided the requested information/);
  assert.match(resultText(r), /Ada Lovelace/);
  assert.equal(seen.elicit.length, 1);
  assert.ok(seen.elicit[0].requestedSchema.properties.name);

  const d = await connectFull({ elicitAnswer: { action: 'decline' } });
  cleanup(t, d.h);
  await toolNames(d.h, ['trigger-elicitation-request']);
  const r2 = await d.h.client.callTool({ name: 'trigger-elicitation-request', arguments: {} }, undefined, T);
  assert.match(resultText(r2), /declined/);
});

test('server-everything: sampling and roots', { timeout: 20000 }, async (t) => {
  const { h, seen } = await connectFull();
  cleanup(t, h);
  // The server asks for roots on its own ~350 ms after initialization, on the
  // standalone GET stream: the bridge must have opened it.
  await waitUntil(() => seen.roots >= 1, 5000, 'roots/list from server-everything via the GET stream');

  await toolNames(h, ['trigger-sampling-request', 'get-roots-list']);
  const s = await h.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hello', maxTokens: 20 } },
    undefined, T);
  assert.match(resultText(s), /sampled-by-ide/);
  assert.equal(seen.sample.length, 1);

  const roots = await h.client.callTool({ name: 'get-roots-list', arguments: {} }, undefined, T);
  assert.match(resultText(roots), /file:\/\/\/work\/project/);
});
