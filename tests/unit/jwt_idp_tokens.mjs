// SPDX-License-Identifier: ISC
// Mints an access token from the real test IdP for test_jwt.
//   node jwt_idp_tokens.mjs REPO_ROOT OUT_DIR
// Starts tests/node/test-idp.mjs, runs a device flow (auto-approved for
// alice), fetches the JWKS from discovery's jwks_uri, and writes
// OUT_DIR/{jwks.json,token,issuer}. Exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [root, out] = process.argv.slice(2);
if (!root || !out) {
	console.error('usage: jwt_idp_tokens.mjs REPO_ROOT OUT_DIR');
	process.exit(2);
}

const idp = spawn(process.execPath,
	[join(root, 'tests/node/test-idp.mjs'), '--interval', '1',
		'--auto-approve-ms', '100', '--exit-on-stdin-eof'],
	{ stdio: ['pipe', 'pipe', 'inherit'] });
const killer = setTimeout(() => fail('timed out'), 60000);

function fail(why) {
	console.error(`jwt_idp_tokens: ${why}`);
	idp.kill('SIGTERM');
	process.exit(1);
}

function ready() {
	return new Promise((resolve, reject) => {
		const rl = createInterface({ input: idp.stdout });
		rl.once('line', (l) => resolve(JSON.parse(l)));
		idp.once('exit', (c) => reject(new Error(`IdP exited (${c})`)));
	});
}

async function post(url, form) {
	const r = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(form).toString(),
	});
	return { status: r.status, body: await r.json() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
	const { issuer, client_id: clientId } = await ready();
	const meta = await (await fetch(
		`${issuer}/.well-known/openid-configuration`)).json();
	const dev = await post(meta.device_authorization_endpoint,
		{ client_id: clientId, scope: 'openid offline_access' });
	if (dev.status !== 200)
		fail(`device auth: ${dev.status} ${JSON.stringify(dev.body)}`);
	let tok;
	for (;;) {
		await sleep((dev.body.interval ?? 1) * 1000);
		tok = await post(meta.token_endpoint, {
			grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
			device_code: dev.body.device_code,
			client_id: clientId,
		});
		if (tok.status === 200)
			break;
		if (tok.body.error !== 'authorization_pending' &&
		    tok.body.error !== 'slow_down')
			fail(`token: ${tok.status} ${tok.body.error}`);
	}
	const jwks = await (await fetch(meta.jwks_uri)).text();
	writeFileSync(join(out, 'jwks.json'), jwks);
	writeFileSync(join(out, 'token'), tok.body.access_token);
	writeFileSync(join(out, 'issuer'), issuer);
	clearTimeout(killer);
	idp.kill('SIGTERM');
}

main().catch((e) => fail(e.message));
