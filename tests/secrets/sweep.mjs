#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// sweep.mjs: the secret-hygiene sweep. Looks for every secret the test IdP
// issued (access, refresh and ID tokens, device codes; see TEST_IDP_SECRETS_LOG
// in tests/node/test-idp.md) in everything a sweep-mode run captured
// (MCP_BRIDGE_SWEEP_DIR, see tests/integration/lib.mjs): the stderr of every
// bridge and mcp-registryd (run at log level debug), their log files, the
// registry access logs, every state/cache/runtime file, and
// /proc/PID/{cmdline,environ} of each bridge and mcp-registryd while it ran.
// Each secret is looked for as is, URL-encoded, base64/base64url-encoded, and
// (JWTs) by its signature alone. User codes are shown to the user by design,
// so they are looked for only in /proc snapshots and state/cache/runtime
// files. Token
// files of the file store (state/mcp-bridge/tokens-*.bin) hold tokens by
// design and are left out. It also checks that every captured
// /proc/PID/limits says "Max core file size 0 0".
//
//   node tests/secrets/sweep.mjs SWEEP_DIR [SWEEP_DIR...]
//
// Prints "N secrets checked against M files: 0 hits" (and the core-dump
// line) and exits 0; or one line per hit (file and kind of secret, never
// the secret) and exits 1. Exits 2 on bad usage or when there is nothing
// to check (no secrets or no files: the capture did not work).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function die(msg, code = 2) {
  process.stderr.write(`sweep: ${msg}\n`);
  process.exit(code);
}

const dirs = process.argv.slice(2).map((d) => path.resolve(d));
if (dirs.length === 0) die('usage: sweep.mjs SWEEP_DIR [SWEEP_DIR...]');
for (const d of dirs) if (!fs.statSync(d, { throwIfNoEntry: false })?.isDirectory()) die(`${d}: not a directory`);

// Token files of the file store: where tokens belong.
const STORE_FILE = /(^|\/)mcp-bridge\/tokens-[^/]*\.bin$/;

/** Every regular file under `dir` except the secrets logs and token-store files. */
function walk(dir, top, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!(dir === top && e.name === 'secrets')) walk(p, top, out);
    } else if (e.isFile() && !STORE_FILE.test(p)) {
      out.push(p);
    }
  }
  return out;
}

// The secrets.
const secrets = new Map(); // value -> kind
for (const d of dirs) {
  const sd = path.join(d, 'secrets');
  if (!fs.existsSync(sd)) continue;
  for (const f of fs.readdirSync(sd)) {
    for (const line of fs.readFileSync(path.join(sd, f), 'utf8').split('\n')) {
      if (!line) continue;
      const { kind, value } = JSON.parse(line);
      if (typeof value === 'string' && value.length >= 8) secrets.set(value, kind);
    }
  }
}

/** The forms of `v` worth looking for: as is, encoded, a JWT's signature. */
function forms(v) {
  const f = new Set([v, encodeURIComponent(v), Buffer.from(v).toString('base64'),
    Buffer.from(v).toString('base64url')]);
  const parts = v.split('.');
  if (parts.length === 3 && parts[2].length >= 20) f.add(parts[2]);
  return f;
}

const needles = { all: new Map(), userCodes: new Map() }; // needle -> kind
for (const [v, kind] of secrets) {
  const into = kind === 'user_code' ? needles.userCodes : needles.all;
  for (const n of forms(v)) into.set(n, kind);
}

const files = dirs.flatMap((d) => walk(d, d, []));
if (secrets.size === 0) die(`no issued secrets recorded under ${dirs.join(', ')} (was the run in sweep mode?)`);
if (files.length === 0) die(`no captured files under ${dirs.join(', ')}`);

/**
 * Runs grep -F over `list` for the needles of `map`; returns [{file, kind}]
 * (the matched text itself stays here and is never printed).
 */
function grep(map, list) {
  if (map.size === 0 || list.length === 0) return [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-'));
  try {
    fs.writeFileSync(path.join(tmp, 'needles'), [...map.keys()].join('\n') + '\n', { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, 'files'), list.join('\0'));
    const r = spawnSync('sh', ['-c', 'xargs -0 grep -aoHF -f "$1" -- < "$2"', 'sh',
      path.join(tmp, 'needles'), path.join(tmp, 'files')], { maxBuffer: 1 << 30 });
    // grep: 0 hits, 1 none (xargs makes that 123), 2 trouble (said on stderr).
    if (![0, 1, 123].includes(r.status) || r.stderr.length) die(`grep failed (${r.status}): ${r.stderr}`);
    const hits = [];
    for (const line of r.stdout.toString('latin1').split('\n')) {
      if (!line) continue;
      // FILE:MATCH, where FILE is one of `list` (it may contain ':').
      const file = list.find((f) => line.startsWith(`${f}:`) && map.has(line.slice(f.length + 1)));
      if (file) hits.push({ file, kind: map.get(line.slice(file.length + 1)) });
    }
    return hits;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// Captured stderr/stdout: DIR/stderr/*, and the stage transcripts DIR/*.out.
const isOutput = (f) => dirs.some((d) => f.startsWith(`${d}/stderr/`) || (path.dirname(f) === d && f.endsWith('.out')));
const outputs = files.filter(isOutput);
// User codes: shown on stderr and opened in the browser by design; never in
// a process's command line or environment, nor in state/cache/runtime files.
const userCodeFiles = files.filter((f) => dirs.some((d) => f.startsWith(`${d}/proc/`)) ||
  /\/(state|cache|run)\//.test(f));
// The search itself must work here: a canary file with one secret in two
// of its forms has to give two hits.
{
  const canaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-canary-'));
  const canary = path.join(canaryDir, 'canary');
  const [v, kind] = [...secrets].find(([, k]) => k !== 'user_code') ?? die('no token among the secrets');
  fs.writeFileSync(canary, `x ${encodeURIComponent(v)} y\nz ${Buffer.from(v).toString('base64')}\n`, { mode: 0o600 });
  const found = grep(needles.all, [canary]);
  fs.rmSync(canaryDir, { recursive: true, force: true });
  if (found.length !== 2 || found.some((h) => h.kind !== kind)) die(`self-check failed: the canary gave ${found.length} hits, not 2`);
}
const hits = [...grep(needles.all, files), ...grep(needles.userCodes, userCodeFiles)];

// Core dumps: every captured /proc/PID/limits must say 0 (soft) 0 (hard).
const limits = files.filter((f) => f.endsWith('.limits'));
const coreBad = [];
for (const f of limits) {
  const m = /^Max core file size\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync(f, 'utf8'));
  if (!m || m[1] !== '0' || m[2] !== '0') coreBad.push(`${path.basename(f)}: ${m ? `${m[1]} ${m[2]}` : 'no core line'}`);
}

const rel = (f) => {
  const d = dirs.find((x) => f.startsWith(`${x}/`));
  return d ? path.relative(d, f) : f;
};
const seen = new Set();
for (const h of hits) {
  const k = `${h.file}\0${h.kind}`;
  if (seen.has(k)) continue;
  seen.add(k);
  process.stdout.write(`HIT: ${rel(h.file)}: ${h.kind}\n`);
}
for (const c of coreBad) process.stdout.write(`CORE: ${c} (want RLIMIT_CORE 0 0)\n`);
const kinds = {};
for (const k of secrets.values()) kinds[k] = (kinds[k] || 0) + 1;
process.stdout.write(`${secrets.size} secrets (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}) ` +
  `checked against ${files.length} files (${outputs.length} captured stderr/stdout): ${seen.size} hits\n`);
process.stdout.write(`core dumps: ${limits.length} process snapshots, ${coreBad.length} with RLIMIT_CORE above 0\n`);
if (limits.length === 0) die('no /proc/PID/limits captured', 1);
process.exit(seen.size || coreBad.length ? 1 : 0);
