#!/usr/bin/env node
// SPDX-License-Identifier: ISC
//
// Local test OpenID provider for mcp-bridge's integration tests and the demo.
//
// A thin wrapper around oidc-provider 9.13.3 (a certified OP) with:
//   - one public native client `mcp-bridge` (device_code + refresh_token),
//   - three fixed users (alice, bob, carol),
//   - JWT access tokens (at+jwt, ES256) for the resource(s) given,
//   - RFC 8628 `interval` and optional `slow_down`, which oidc-provider lacks,
//   - test-only endpoints under /__test/ (approve, deny, pending, stats,
//     grant events, fault injection),
//   - with TEST_IDP_SECRETS_LOG=FILE, every issued secret appended to FILE,
//   - discovery shapes for the bridge's negative tests.
//
// Stdout carries exactly one JSON line (the ready line). Everything else goes
// to stderr, and request logs only with --verbose. See test-idp.md.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import querystring from 'node:querystring';

// ---------------------------------------------------------------------------
// Stdout is a line protocol: route every console method to stderr before
// oidc-provider is loaded (its NOTICEs use console.info, i.e. stdout).

const rawStdoutWrite = process.stdout.write.bind(process.stdout);
const QUIET_WARNINGS = [/already parsed request body detected/];
let VERBOSE = false;
function toStderr(level) {
  return (...args) => {
    const line = args.map((a) => (typeof a === 'string' ? a : (a instanceof Error ? a.stack : JSON.stringify(a)))).join(' ');
    if (QUIET_WARNINGS.some((re) => re.test(line))) return;
    if ((level === 'log' || level === 'info' || level === 'debug') && !VERBOSE) return;
    process.stderr.write(`${line}\n`);
  };
}
for (const level of ['log', 'info', 'debug', 'warn', 'error', 'trace']) console[level] = toStderr(level);

// ---------------------------------------------------------------------------
// Options

const DEFAULT_RESOURCE = 'http://127.0.0.1/mcp-registry';
const RESOURCE_SCOPE = 'mcp:tools registry:read';
const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile', 'groups'];
const CLIENT_ID = 'mcp-bridge';

function usage(msg) {
  if (msg) process.stderr.write(`test-idp: ${msg}\n`);
  process.stderr.write(`usage: node test-idp.mjs [--port N] [--interval S] [--slow-down] [--force-slow-down N] [--code-ttl S]
  [--at-ttl S] [--rt-ttl S] [--auto-approve-ms MS] [--auto-approve-account NAME]
  [--resources URL,URL] [--no-device] [--issuer-mismatch] [--oauth-metadata-only]
  [--exit-on-stdin-eof] [--verbose]\n`);
  process.exit(2);
}

function envBool(name) {
  const v = process.env[name];
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

const opts = {
  port: Number(process.env.TEST_IDP_PORT ?? 0),
  interval: Number(process.env.TEST_IDP_INTERVAL ?? 5),
  slowDown: envBool('TEST_IDP_SLOW_DOWN'),
  forceSlowDown: Number(process.env.TEST_IDP_FORCE_SLOW_DOWN ?? 0),
  codeTtl: Number(process.env.TEST_IDP_CODE_TTL ?? 600),
  atTtl: Number(process.env.TEST_IDP_AT_TTL ?? 600),
  rtTtl: Number(process.env.TEST_IDP_RT_TTL ?? 14 * 24 * 3600),
  autoApproveMs: process.env.TEST_IDP_AUTO_APPROVE_MS !== undefined ? Number(process.env.TEST_IDP_AUTO_APPROVE_MS) : null,
  autoApproveAccount: process.env.TEST_IDP_AUTO_APPROVE_ACCOUNT || 'alice',
  resources: (process.env.TEST_IDP_RESOURCES || '').split(',').filter(Boolean),
  noDevice: envBool('TEST_IDP_NO_DEVICE'),
  issuerMismatch: envBool('TEST_IDP_ISSUER_MISMATCH'),
  oauthMetadataOnly: envBool('TEST_IDP_OAUTH_METADATA_ONLY'),
  exitOnStdinEof: envBool('TEST_IDP_EXIT_ON_STDIN_EOF'),
  verbose: envBool('TEST_IDP_VERBOSE'),
};

{
  const argv = process.argv.slice(2);
  const num = (i, name) => {
    const v = argv[i];
    if (v === undefined || !/^\d+$/.test(v)) usage(`${name} needs a non-negative integer`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--port': opts.port = num(++i, a); break;
      case '--interval': opts.interval = num(++i, a); break;
      case '--slow-down': opts.slowDown = true; break;
      case '--force-slow-down': opts.forceSlowDown = num(++i, a); break;
      case '--code-ttl': opts.codeTtl = num(++i, a); break;
      case '--at-ttl': opts.atTtl = num(++i, a); break;
      case '--rt-ttl': opts.rtTtl = num(++i, a); break;
      case '--auto-approve-ms': opts.autoApproveMs = num(++i, a); break;
      case '--auto-approve-account': opts.autoApproveAccount = argv[++i] ?? usage(`${a} needs a value`); break;
      case '--resources':
        if (argv[i + 1] === undefined) usage(`${a} needs a value`);
        opts.resources.push(...argv[++i].split(',').map((s) => s.trim()).filter(Boolean));
        break;
      case '--no-device': opts.noDevice = true; break;
      case '--issuer-mismatch': opts.issuerMismatch = true; break;
      case '--oauth-metadata-only': opts.oauthMetadataOnly = true; break;
      case '--exit-on-stdin-eof': opts.exitOnStdinEof = true; break;
      case '--verbose': case '-v': opts.verbose = true; break;
      case '--help': case '-h': usage(); break;
      default: usage(`unknown option ${a}`);
    }
  }
  if (opts.port > 65535) usage('--port out of range');
  if (opts.codeTtl < 1 || opts.atTtl < 1) usage('TTLs must be at least 1 second');
}
VERBOSE = opts.verbose;

const RESOURCES = [...new Set([DEFAULT_RESOURCE, ...opts.resources])];

// ---------------------------------------------------------------------------
// Users

const USERS = {
  alice: { email: 'alice@example.com', name: 'Alice Example', groups: ['eng', 'mcp-users'] },
  bob: { email: 'bob@example.com', name: 'Bob Example', groups: ['finance'] },
  carol: { email: 'carol@example.com', name: 'Carol Example', groups: [] },
};

function userClaims(sub) {
  const u = USERS[sub];
  return {
    sub,
    email: u.email,
    email_verified: true,
    name: u.name,
    preferred_username: sub,
    groups: [...u.groups],
  };
}

// ---------------------------------------------------------------------------
// Keys: fresh for each run, kids stable within a run.

function makeJwk(type, params, kid, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, params);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}
const JWKS = {
  keys: [
    makeJwk('ec', { namedCurve: 'P-256' }, 'test-idp-es256', 'ES256'),
    makeJwk('rsa', { modulusLength: 2048 }, 'test-idp-rs256', 'RS256'),
  ],
};

// ---------------------------------------------------------------------------
// State for the test endpoints

function freshStats() {
  return {
    device_auth: 0,
    device_polls: 0,
    slow_down: 0,
    authorization_pending: 0,
    access_denied: 0,
    expired_token: 0,
    token_success: 0,
    refresh_success: 0,
    refresh_fail: 0,
    invalid_grant: 0,
    invalid_target: 0,
    reuse_detected: 0,
    device_code_replay: 0,
    revocations: 0,
    grants_revoked: 0,
    server_errors: 0,
    injected_failures: 0,
    resources: {},
  };
}
let stats = freshStats();

// Grant events (token and revocation endpoints, in order): for tests that
// must say which request failed and why. Never holds a token value.
const EVENTS_MAX = 2000;
let events = [];
function addEvent(e) {
  events.push({ at: Date.now(), ...e });
  if (events.length > EVENTS_MAX) events = events.slice(-EVENTS_MAX);
}

// TEST_IDP_SECRETS_LOG=FILE: every secret this IdP issues (access, refresh
// and ID tokens, device codes, user codes) is appended to FILE, one JSON
// line {kind, value} each, for the secret-hygiene sweep (tests/secrets/).
const SECRETS_LOG = process.env.TEST_IDP_SECRETS_LOG || '';
const SECRET_KINDS = ['access_token', 'refresh_token', 'id_token', 'device_code', 'user_code'];
function logSecrets(raw) {
  let body;
  try { body = JSON.parse(raw); } catch { return; }
  if (!body || typeof body !== 'object') return;
  const lines = SECRET_KINDS.filter((k) => typeof body[k] === 'string' && body[k])
    .map((k) => `${JSON.stringify({ kind: k, value: body[k] })}\n`).join('');
  if (lines) fs.appendFileSync(SECRETS_LOG, lines, { mode: 0o600 });
}
/** Captures the body of `res` and logs the secrets in it once it is sent. */
function captureSecrets(res) {
  const chunks = [];
  const keep = (c, enc) => {
    if (c) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c, typeof enc === 'string' ? enc : 'utf8'));
  };
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.write = (c, ...rest) => { keep(c, rest[0]); return write(c, ...rest); };
  res.end = (c, ...rest) => { if (typeof c !== 'function') keep(c, rest[0]); return end(c, ...rest); };
  res.once('finish', () => logSecrets(Buffer.concat(chunks).toString('utf8')));
}

/** device-code hash -> { userCode, polls, interval, lastPoll, state, expiresAt } */
const deviceCodes = new Map();
const byUserCode = new Map(); // normalized user code -> hash
const failures = {}; // endpoint -> { mode, count }
const timers = new Set();
const rtQueues = new Map(); // refresh-token hash -> tail of its request queue

const sha = (s) => crypto.createHash('sha256').update(String(s)).digest('hex');
const normalizeUserCode = (s) => String(s).toUpperCase().replace(/\W/g, '');

// ---------------------------------------------------------------------------
// Provider

const { default: Provider, errors } = await import('oidc-provider');

// The issuer is only known after listen(); bind first, then build the provider.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(opts.port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
}).catch((e) => {
  process.stderr.write(`test-idp: cannot listen on 127.0.0.1:${opts.port}: ${e.code || e.message}\n`);
  process.exit(1);
});
const PORT = server.address().port;
const ISSUER = `http://127.0.0.1:${PORT}`;

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: CLIENT_ID,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  }],
  scopes: OIDC_SCOPES,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // Put scope-requested claims into the ID token even though an access token
  // is issued too (the bridge reads identity from the ID token only).
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => {
        if (!oneOf) return DEFAULT_RESOURCE;
        const list = Array.isArray(oneOf) ? oneOf : [oneOf];
        return list.includes(DEFAULT_RESOURCE) ? DEFAULT_RESOURCE : list[0];
      },
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (!RESOURCES.includes(indicator)) throw new errors.InvalidTarget();
        return {
          scope: RESOURCE_SCOPE,
          audience: indicator,
          accessTokenTTL: opts.atTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  async findAccount(_ctx, sub) {
    if (!USERS[sub]) return undefined;
    return { accountId: sub, claims: async () => userClaims(sub) };
  },
  async extraTokenClaims(_ctx, token) {
    if (token.kind !== 'AccessToken' || !USERS[token.accountId]) return undefined;
    const c = userClaims(token.accountId);
    return { email: c.email, groups: c.groups, preferred_username: c.preferred_username };
  },
  jwks: JWKS,
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL || opts.atTtl,
    DeviceCode: () => opts.codeTtl,
    RefreshToken: () => opts.rtTtl,
    Grant: () => opts.rtTtl,
    IdToken: () => 3600,
    Interaction: () => 600,
    Session: () => 3600,
  },
  renderError: async (ctx, out) => { ctx.type = 'json'; ctx.body = out; },
  clientBasedCORS: () => false,
});

// ---------------------------------------------------------------------------
// Events -> stats

provider.on('grant.revoked', () => { stats.grants_revoked += 1; });
provider.on('server_error', (ctx, err) => {
  stats.server_errors += 1;
  process.stderr.write(`test-idp: server_error on ${ctx.method} ${ctx.path}: ${err?.message}\n`);
});
provider.on('grant.error', (ctx, err) => {
  if (err?.error_detail === 'refresh token already used') stats.reuse_detected += 1;
  if (err?.error_detail === 'device code already consumed') stats.device_code_replay += 1;
  ctx.req.idpInfo = { ...(ctx.req.idpInfo || {}), detail: err?.error_detail };
});

// Koa middleware: discovery shape, `interval`, and response bookkeeping.
const DISCOVERY_PATHS = new Set(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']);
provider.use(async (ctx, next) => {
  await next();
  const info = ctx.req.idpInfo || (ctx.req.idpInfo = {});
  if (ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body) && typeof ctx.body.error === 'string') {
    info.error = ctx.body.error;
  }
  if (DISCOVERY_PATHS.has(ctx.path) && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
    const d = { ...ctx.body };
    if (opts.issuerMismatch) d.issuer = `${ISSUER}/other`;
    if (opts.noDevice) {
      delete d.device_authorization_endpoint;
      if (Array.isArray(d.grant_types_supported)) {
        d.grant_types_supported = d.grant_types_supported.filter((g) => !g.endsWith(':device_code'));
      }
    }
    ctx.body = d;
  } else if (ctx.path === '/device/auth' && ctx.method === 'POST' && ctx.status === 200 && ctx.body?.device_code) {
    const h = sha(ctx.body.device_code);
    const uc = normalizeUserCode(ctx.body.user_code);
    deviceCodes.set(h, {
      userCode: ctx.body.user_code, polls: 0, interval: opts.interval, lastPoll: 0,
      state: 'pending', expiresAt: Date.now() + ctx.body.expires_in * 1000,
    });
    byUserCode.set(uc, h);
    ctx.body = { ...ctx.body, interval: opts.interval };
    stats.device_auth += 1;
    if (opts.autoApproveMs !== null) {
      const t = setTimeout(() => {
        timers.delete(t);
        approve(ctx.body.user_code, opts.autoApproveAccount).then((r) => {
          if (VERBOSE) process.stderr.write(`test-idp: auto-approve -> ${r.status}\n`);
        }, (e) => process.stderr.write(`test-idp: auto-approve failed: ${e.message}\n`));
      }, opts.autoApproveMs);
      timers.add(t);
    }
  } else if (ctx.path === '/token' && ctx.status === 200) {
    const aud = ctx.oidc?.entities?.AccessToken?.resourceServer?.audience;
    if (aud) info.aud = aud;
  }
});

// ---------------------------------------------------------------------------
// Approval and denial, as oidc-provider's own device verification does it
// (lib/actions/authorization/device.js deviceVerificationResponse, and
// deviceUserFlowErrors for the denial path).

async function loadCode(userCode) {
  const code = await provider.DeviceCode.findByUserCode(normalizeUserCode(userCode), { ignoreExpiration: true });
  if (!code) return { status: 404, body: { error: 'not_found', error_description: 'unknown user_code' } };
  if (code.isExpired) return { status: 410, body: { error: 'expired_token', error_description: 'user_code expired' } };
  if (code.accountId || code.error || code.consumed) {
    return { status: 409, body: { error: 'already_used', error_description: 'user_code already approved or denied' } };
  }
  return { code };
}

function markState(userCode, state) {
  const h = byUserCode.get(normalizeUserCode(userCode));
  const st = h && deviceCodes.get(h);
  if (st) st.state = state;
}

async function approve(userCode, account = 'alice') {
  if (!USERS[account]) return { status: 400, body: { error: 'invalid_request', error_description: 'unknown account' } };
  const r = await loadCode(userCode);
  if (!r.code) return r;
  const { code } = r;

  const requested = new Set(String(code.params?.scope || '').split(' ').filter(Boolean));
  const oidcScope = OIDC_SCOPES.filter((s) => requested.has(s)).join(' ');
  const reqRes = code.params?.resource;
  const resources = [...new Set([
    ...RESOURCES,
    ...(Array.isArray(reqRes) ? reqRes : (reqRes ? [reqRes] : [])).filter((x) => RESOURCES.includes(x)),
  ])];

  const grant = new provider.Grant({ accountId: account, clientId: code.clientId });
  if (oidcScope) grant.addOIDCScope(oidcScope);
  for (const res of resources) grant.addResourceScope(res, RESOURCE_SCOPE);
  const grantId = await grant.save();

  Object.assign(code, {
    accountId: account,
    authTime: Math.floor(Date.now() / 1000),
    amr: ['pwd'],
    grantId,
    scope: [...new Set([...oidcScope.split(' ').filter(Boolean), ...RESOURCE_SCOPE.split(' ')])].join(' '),
    resource: resources.length === 1 ? resources[0] : resources,
  });
  await code.save();
  markState(userCode, 'approved');
  return { status: 200, body: { approved: true, account } };
}

async function deny(userCode) {
  const r = await loadCode(userCode);
  if (!r.code) return r;
  Object.assign(r.code, { error: 'access_denied', errorDescription: 'end-user denied the authorization request' });
  await r.code.save();
  markState(userCode, 'denied');
  return { status: 200, body: { denied: true } };
}

// ---------------------------------------------------------------------------
// HTTP layer in front of the provider

const providerCallback = provider.callback();

function endpointOf(path) {
  if (path === '/token') return 'token';
  if (path === '/device/auth') return 'device';
  if (path === '/token/revocation') return 'revocation';
  if (DISCOVERY_PATHS.has(path)) return 'discovery';
  return null;
}

function sendJson(res, status, body, extraHeaders = {}) {
  const s = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(s),
    ...extraHeaders,
  });
  res.end(s);
}

async function readBody(req) {
  const chunks = [];
  let n = 0;
  for await (const c of req) {
    n += c.length;
    if (n > 64 * 1024) throw new Error('body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(req, raw) {
  if (!raw) return {};
  const ct = String(req.headers['content-type'] || '');
  if (ct.includes('json') || /^\s*[{[]/.test(raw)) {
    try { return JSON.parse(raw) || {}; } catch { return {}; }
  }
  return { ...querystring.parse(raw) };
}

async function handleTest(req, res, path) {
  const raw = req.method === 'POST' ? await readBody(req) : '';
  const body = parseBody(req, raw);
  switch (`${req.method} ${path}`) {
    case 'POST /__test/approve': {
      if (!body.user_code) return sendJson(res, 400, { error: 'invalid_request', error_description: 'user_code missing' });
      const r = await approve(body.user_code, body.account || 'alice');
      return sendJson(res, r.status, r.body);
    }
    case 'POST /__test/deny': {
      if (!body.user_code) return sendJson(res, 400, { error: 'invalid_request', error_description: 'user_code missing' });
      const r = await deny(body.user_code);
      return sendJson(res, r.status, r.body);
    }
    case 'GET /__test/pending': {
      const now = Date.now();
      const codes = [];
      for (const st of deviceCodes.values()) {
        if (st.state === 'pending' && st.expiresAt > now) codes.push({ user_code: st.userCode, polls: st.polls });
      }
      return sendJson(res, 200, { codes });
    }
    case 'GET /__test/stats':
      return sendJson(res, 200, stats);
    case 'GET /__test/events':
      return sendJson(res, 200, { events });
    case 'POST /__test/reset-stats':
      stats = freshStats();
      events = [];
      return sendJson(res, 200, { reset: true });
    case 'POST /__test/fail': {
      const ep = body.endpoint;
      const mode = String(body.mode ?? '500');
      const count = body.count === undefined ? 1 : Number(body.count);
      if (!['token', 'device', 'discovery', 'revocation'].includes(ep) || !['500', 'close', 'slow'].includes(mode)
        || !Number.isInteger(count) || count < 0) {
        return sendJson(res, 400, { error: 'invalid_request', error_description: 'endpoint/mode/count invalid' });
      }
      if (count === 0) delete failures[ep];
      else failures[ep] = { mode, count };
      return sendJson(res, 200, { endpoint: ep, mode, count });
    }
    default:
      return sendJson(res, 404, { error: 'not_found' });
  }
}

function logLine(req, res, path, ep) {
  const info = req.idpInfo || {};
  if (ep === 'token') {
    const gt = info.grantType || '';
    const ok = res.statusCode === 200;
    if (gt.endsWith(':device_code')) {
      if (ok) stats.token_success += 1;
      else if (info.error && info.error in stats && info.error !== 'slow_down') stats[info.error] += 1;
    } else if (gt === 'refresh_token') {
      if (ok) stats.refresh_success += 1;
      else stats.refresh_fail += 1;
    }
    if (info.error === 'invalid_grant') stats.invalid_grant += 1;
    if (info.error === 'invalid_target') stats.invalid_target += 1;
    if (ok && info.aud) stats.resources[info.aud] = (stats.resources[info.aud] || 0) + 1;
  } else if (ep === 'revocation' && res.statusCode === 200) {
    stats.revocations += 1;
  }
  if (ep === 'token' || ep === 'revocation') {
    addEvent({ started: info.started, ep, grant: (info.grantType || '').replace(/^urn:ietf:params:oauth:grant-type:/, ''),
      status: res.statusCode, error: info.error, detail: info.detail, injected: info.injected });
  }
  if (!VERBOSE) return;
  const parts = [`test-idp: ${req.method} ${path}`];
  if (info.grantType) parts.push(`grant_type=${info.grantType.replace(/^urn:ietf:params:oauth:grant-type:/, '')}`);
  parts.push(`status=${res.statusCode}`);
  if (info.error) parts.push(`error=${info.error}`);
  if (info.detail) parts.push(`detail=${JSON.stringify(info.detail)}`);
  if (info.injected) parts.push(`injected=${info.injected}`);
  if (info.aud) parts.push(`aud=${info.aud}`);
  process.stderr.write(`${parts.join(' ')}\n`);
}

server.on('request', async (req, res) => {
  try {
    const path = new URL(req.url, ISSUER).pathname;
    if (path.startsWith('/__test/')) return await handleTest(req, res, path);

    const ep = endpointOf(path);
    req.idpInfo = { started: Date.now() };
    if (ep && ep !== 'discovery') res.on('finish', () => logLine(req, res, path, ep));
    if (SECRETS_LOG && (ep === 'token' || ep === 'device')) captureSecrets(res);

    const f = ep && failures[ep];
    if (f && f.count > 0) {
      f.count -= 1;
      if (f.count === 0) delete failures[ep];
      stats.injected_failures += 1;
      req.idpInfo.injected = f.mode;
      if (f.mode === '500') {
        req.idpInfo.error = 'server_error';
        return sendJson(res, 500, { error: 'server_error', error_description: 'injected failure' });
      }
      if (f.mode === 'close') {
        if (VERBOSE) process.stderr.write(`test-idp: ${req.method} ${path} injected=close\n`);
        req.socket.destroy();
        return undefined;
      }
      await new Promise((resolve) => { const t = setTimeout(() => { timers.delete(t); resolve(); }, 3000); timers.add(t); });
      if (res.destroyed || req.socket.destroyed) return undefined;
    }

    if (path === '/.well-known/openid-configuration' && opts.oauthMetadataOnly) {
      return sendJson(res, 404, { error: 'not_found' });
    }
    if (path === '/device/auth' && opts.noDevice) {
      req.idpInfo.error = 'not_found';
      return sendJson(res, 404, { error: 'not_found', error_description: 'device authorization is disabled' });
    }

    if (ep === 'token' && req.method === 'POST') {
      const raw = await readBody(req);
      const params = querystring.parse(raw);
      req.body = raw; // oidc-provider falls back to req.body when the stream was read
      const gt = typeof params.grant_type === 'string' ? params.grant_type : '';
      req.idpInfo.grantType = gt;
      if (gt.endsWith(':device_code') && typeof params.device_code === 'string') {
        stats.device_polls += 1;
        const st = deviceCodes.get(sha(params.device_code));
        if (st) {
          const now = Date.now();
          st.polls += 1;
          const tooSoon = st.lastPoll && now - st.lastPoll < st.interval * 1000;
          st.lastPoll = now;
          const forced = st.polls <= opts.forceSlowDown;
          if (((opts.slowDown && tooSoon) || forced) && st.state !== 'consumed') {
            st.interval += 5;
            stats.slow_down += 1;
            req.idpInfo.error = 'slow_down';
            return sendJson(res, 400, {
              error: 'slow_down',
              error_description: `polling too fast; interval is now ${st.interval} s`,
            });
          }
          res.on('finish', () => { if (res.statusCode === 200) st.state = 'consumed'; });
        }
      } else if (gt === 'refresh_token' && typeof params.refresh_token === 'string') {
        // Serialize requests that carry the same refresh token, as a database
        // with an atomic "consume" would: of N concurrent uses exactly one
        // wins and the others are seen as reuse (deterministically).
        const key = sha(params.refresh_token);
        const prev = rtQueues.get(key) || Promise.resolve();
        let release;
        const mine = new Promise((resolve) => { release = resolve; });
        const chain = prev.then(() => mine);
        rtQueues.set(key, chain);
        const done = () => {
          release();
          if (rtQueues.get(key) === chain) rtQueues.delete(key);
        };
        res.once('close', done);
        await prev;
        if (res.destroyed) return undefined;
      }
    }

    return providerCallback(req, res);
  } catch (e) {
    process.stderr.write(`test-idp: request failed: ${e.message}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: 'test-idp internal error' });
    else res.destroy();
    return undefined;
  }
});

// ---------------------------------------------------------------------------
// Lifecycle

let stopping = false;
function shutdown(why) {
  if (stopping) return;
  stopping = true;
  if (VERBOSE) process.stderr.write(`test-idp: shutting down (${why})\n`);
  for (const t of timers) clearTimeout(t);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (opts.exitOnStdinEof) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

rawStdoutWrite(`${JSON.stringify({
  ready: true, issuer: ISSUER, client_id: CLIENT_ID, resource: DEFAULT_RESOURCE, port: PORT,
})}\n`);
