// What every client driver of the interop run shares: the checks and their count, the
// servers (`examples/auth_server` and `examples/mcp_server`, started per validation
// strategy and killed at the end or on a timeout), the user agent that approves the
// authorization request, a fetch that records what the server answered, and the bad-token
// checks, which need no SDK at all.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// This file is <repository>/tests/interop/ts-client/harness.mjs; the workspace's target dir
// is <repository>/target unless CARGO_TARGET_DIR says otherwise.
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(here, '..', '..', '..', 'target');
const bin = (name) => path.join(targetDir, 'debug', 'examples', name);
/// `cargo mcp-oauth` as `cargo test` builds it (its own tests run the binary).
export const cliBin = path.join(targetDir, 'debug', 'cargo-mcp-oauth');
export const OVERALL_TIMEOUT_MS = 6 * 60_000;

/// The version of an installed package, read from its own package.json (not every package
/// exports that file).
export function installed(pkg) {
  const { version } = JSON.parse(readFileSync(path.join(here, 'node_modules', pkg, 'package.json'), 'utf8'));
  return `${pkg} ${version}`;
}

let passed = 0;
let failed = 0;
let label = '';
let lastCheck = '(none yet)';

/// Names what the checks that follow belong to (a strategy, a client).
export function context(name) {
  label = name;
}

export function check(name, ok, detail = '') {
  lastCheck = `[${label}] ${name}`;
  if (ok) {
    passed += 1;
    console.log(`ok   [${label}] ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL [${label}] ${name} ${detail}`);
  }
}

/// Runs one part of the checks; an exception fails it, not the parts after it.
export async function section(name, run) {
  try {
    await run();
  } catch (e) {
    check(`${name} aborted`, false, e?.stack ?? String(e));
  }
}

const children = [];
function start(name, env) {
  const child = spawn(bin(name), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}
export function stopAll(signal = 'SIGTERM') {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}
process.on('exit', () => stopAll('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopAll('SIGKILL');
    process.exit(1);
  });
}

/// A hung server or client must not hang CI: after `ms`, fail the run and kill what it
/// started. Returns `finish`, which prints the totals and exits.
export function deadline(ms = OVERALL_TIMEOUT_MS) {
  const started = Date.now();
  const summary = () => `interop: ${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`;
  const timer = setTimeout(() => {
    failed += 1;
    console.log(
      `FAIL interop run timed out after ${ms / 60_000} minutes; the last check to finish was ${lastCheck}. Killing the servers it started.`,
    );
    stopAll('SIGKILL');
    console.log(summary());
    process.exit(1);
  }, ms);
  return {
    fail(what) {
      failed += 1;
      console.log(`FAIL ${what}`);
    },
    finish() {
      clearTimeout(timer);
      console.log(summary());
      process.exit(failed === 0 ? 0 : 1);
    },
  };
}

async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

// Resolves with the `name=value` lines of the child's stdout once `last` has been printed.
// Keeps reading the child's stdout afterwards: a pipe closed under it would make its next
// write fail.
function banner(child, last) {
  return new Promise((resolve, reject) => {
    let buf = '';
    let found = false;
    child.stdout.on('data', (chunk) => {
      if (found) return;
      buf += chunk.toString();
      const lines = buf.split('\n');
      if (lines.slice(0, -1).some((l) => l.startsWith(`${last}=`))) {
        found = true;
        const values = {};
        for (const l of lines) {
          const eq = l.indexOf('=');
          if (eq > 0 && !l.startsWith(' ')) values[l.slice(0, eq)] = l.slice(eq + 1).trim();
        }
        resolve(values);
      }
    });
    child.stdout.on('end', () => {
      if (!found) reject(new Error(`process ended before printing ${last}`));
    });
  });
}

async function waitFor(url, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer in time`);
}

export const INTROSPECTION = { id: 'mcp-resource', secret: 'interop secret: % and spaces' };

/// `examples/auth_server` and one `examples/mcp_server` for a strategy, the MCP server
/// configured only by the resource, the issuer and (to introspect) client credentials:
/// the rest is discovered. The resource is its origin (`http://127.0.0.1:PORT`, no trailing
/// slash: MCP "Canonical Server URI"), which covers `/mcp`, `/sse` and `/message`.
export async function startServers({ name, opaque }) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const resource = origin;
  const auth = start('auth_server', {
    OPAQUE_TOKENS: String(opaque),
    INTROSPECTION_CLIENT_ID: INTROSPECTION.id,
    INTROSPECTION_CLIENT_SECRET: INTROSPECTION.secret,
    MINT_TEST_TOKENS_FOR: resource,
  });
  const minted = await banner(auth, 'test_token_revoked_opaque');
  const issuer = minted.issuer;
  const env = {
    BIND_ADDR: `127.0.0.1:${port}`,
    MCP_OAUTH_RESOURCE: resource,
    MCP_OAUTH_AUTHORIZATION_SERVERS: issuer,
    MCP_OAUTH_VALIDATION: name,
    MCP_OAUTH_REQUIRED_SCOPES: 'mcp:tools',
    MCP_OAUTH_RESOURCE_NAME: 'interop',
    RUST_LOG: 'warn',
  };
  if (name !== 'jwt') {
    env.MCP_OAUTH_INTROSPECTION_CLIENT_ID = INTROSPECTION.id;
    env.MCP_OAUTH_INTROSPECTION_CLIENT_SECRET = INTROSPECTION.secret;
  }
  start('mcp_server', env);
  const metadataUrl = `${origin}/.well-known/oauth-protected-resource`;
  await waitFor(metadataUrl);
  return { origin, resource, issuer, metadataUrl, minted };
}

/// A fleet for `fleet.mjs`: a `redis-server` of its own, `examples/auth_server`, and
/// `count` instances of `examples/mcp_server`, each on its own port, all configured with the
/// first one's origin as their resource (what a load balancer's public URL would be), the
/// same Redis and the same DPoP nonce secret. `redis` is `{ kill(), restart() }`.
export async function startFleet({ count = 3 } = {}) {
  const redisPort = await freePort();
  const runRedis = () =>
    spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let redisChild = runRedis();
  children.push(redisChild);
  const ports = [];
  for (let i = 0; i < count; i += 1) ports.push(await freePort());
  const resource = `http://127.0.0.1:${ports[0]}`;
  const auth = start('auth_server', {
    MINT_TEST_TOKENS_FOR: resource,
    INTROSPECTION_CLIENT_ID: INTROSPECTION.id,
    INTROSPECTION_CLIENT_SECRET: INTROSPECTION.secret,
  });
  const minted = await banner(auth, 'test_token_revoked_opaque');
  const origins = [];
  const metrics = [];
  for (const port of ports) {
    const metricsPort = await freePort();
    metrics.push(`http://127.0.0.1:${metricsPort}/metrics`);
    start('mcp_server', {
      BIND_ADDR: `127.0.0.1:${port}`,
      METRICS_ADDR: `127.0.0.1:${metricsPort}`,
      MCP_OAUTH_RESOURCE: resource,
      MCP_OAUTH_AUTHORIZATION_SERVERS: minted.issuer,
      // JWTs checked locally, opaque tokens introspected (and the answer shared).
      MCP_OAUTH_VALIDATION: 'hybrid',
      MCP_OAUTH_INTROSPECTION_CLIENT_ID: INTROSPECTION.id,
      MCP_OAUTH_INTROSPECTION_CLIENT_SECRET: INTROSPECTION.secret,
      MCP_OAUTH_REQUIRED_SCOPES: 'mcp:tools',
      MCP_OAUTH_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      MCP_OAUTH_REDIS_PREFIX: 'interop-fleet',
      MCP_OAUTH_DPOP_NONCE_SECRET: 'a nonce secret the whole fleet shares',
      RUST_LOG: 'error',
    });
    origins.push(`http://127.0.0.1:${port}`);
  }
  for (const origin of origins) await waitFor(`${origin}/.well-known/oauth-protected-resource`);
  const redis = {
    kill() {
      redisChild.kill('SIGKILL');
    },
    restart() {
      redisChild = runRedis();
      children.push(redisChild);
    },
  };
  return { resource, origins, metrics, issuer: minted.issuer, minted, redis, redisUrl: `redis://127.0.0.1:${redisPort}` };
}

/// Plays the user agent: follows the authorization URL and keeps the redirect's query
/// (`code`, and `iss`, RFC 9207 §2). Implements both SDKs' `OAuthClientProvider` (2.x
/// calls the optional discovery-state methods; 1.x ignores them).
export class AutoApprovingProvider {
  redirect = 'http://127.0.0.1:1/callback';
  client = undefined;
  savedTokens = undefined;
  verifier = undefined;
  discovery = undefined;
  /// The query of the last redirect to `redirect`, and its `code`.
  callback = undefined;
  code = undefined;
  authorizationUrl = undefined;
  redirects = 0;
  get redirectUrl() { return this.redirect; }
  get clientMetadata() {
    return {
      client_name: 'mcp-oauth TypeScript interop',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() { return this.client; }
  saveClientInformation(info) { this.client = info; }
  tokens() { return this.savedTokens; }
  saveTokens(tokens) { this.savedTokens = tokens; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
  saveDiscoveryState(state) { this.discovery = state; }
  discoveryState() { return this.discovery; }
  async redirectToAuthorization(url) {
    this.redirects += 1;
    this.authorizationUrl = new URL(url);
    const res = await fetch(url, { redirect: 'manual' });
    const location = res.headers.get('location');
    this.callback = location ? new URL(location).searchParams : undefined;
    this.code = this.callback?.get('code') ?? undefined;
  }
}

/// A fetch for an SDK that keeps what the server answered (status and challenge) and the
/// MCP headers the client sent, to check the HTTP exchanges behind what the SDK reports.
export function recordingFetch() {
  const log = [];
  const fetchFn = async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const sent = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    let body;
    try {
      body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    } catch {}
    log.push({
      method: (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(),
      path: url.pathname,
      origin: url.origin,
      status: res.status,
      challenge: res.headers.get('www-authenticate') ?? '',
      protocolVersion: sent.get('mcp-protocol-version'),
      mcpMethod: sent.get('mcp-method'),
      mcpName: sent.get('mcp-name'),
      // A single JSON-RPC message's method and `params.name`, to compare with the headers.
      bodyMethod: body?.method,
      bodyId: body?.id,
      bodyName: body?.params?.name ?? body?.params?.uri,
    });
    return res;
  };
  return { log, fetchFn };
}

/// The `scope` of a challenge, split.
/// The middleware's answer to a call of the guarded tool made over `path` (`/mcp`, or
/// `/sse` whose calls go to `/message`), among the requests `log` recorded since `before`,
/// checked as the step-up it must be: 403 with an `insufficient_scope` challenge naming the
/// tool's scope and the required one. The refusal, and the scopes its challenge names.
export function stepUpRefusal({ t, log, before, origin, path: p }) {
  const postPath = p === '/sse' ? '/message' : p;
  const refusal = log.slice(before).find((e) => e.origin === origin && e.method === 'POST' && e.path === postPath && e.status !== 200 && e.status !== 202);
  check(t(`the call of the guarded tool is answered 403 on POST ${postPath}`), refusal?.status === 403, JSON.stringify(refusal));
  check(t('with an insufficient_scope challenge'), refusal?.challenge.includes('error="insufficient_scope"'), refusal?.challenge);
  const wanted = challengeScope(refusal?.challenge);
  check(t('naming the tool scope and the required scope'), wanted.includes('tools:call') && wanted.includes('mcp:tools'), refusal?.challenge);
  return { refusal, wanted };
}

export function challengeScope(challenge) {
  const m = /scope="([^"]*)"/.exec(challenge ?? '');
  return m ? m[1].split(' ') : [];
}

/// What any client sees first: 401s naming the metadata and the scope, and the metadata.
export async function serverSide({ origin, resource, issuer, metadataUrl }) {
  for (const p of ['/mcp', '/sse', '/message']) {
    const unauth = await fetch(`${origin}${p}`, p === '/sse' ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const challenge = unauth.headers.get('www-authenticate') ?? '';
    check(`${p}: a request without a token is 401`, unauth.status === 401, `got ${unauth.status}`);
    check(`${p}: the challenge names the metadata`, challenge.includes(`resource_metadata="${metadataUrl}"`), challenge);
    check(`${p}: the challenge names the required scope`, challenge.includes('scope="mcp:tools"'), challenge);
  }
  const prm = await (await fetch(metadataUrl)).json();
  check('the metadata resource is the configured origin', prm.resource === resource, JSON.stringify(prm));
  check('the metadata lists the authorization server', JSON.stringify(prm.authorization_servers) === JSON.stringify([issuer]));
}

const b64url = (data) => Buffer.from(data).toString('base64url');

/// A JWT that claims everything a valid one does (the server's issuer, audience and `kid`)
/// but is signed with a key of our own.
async function forgedJwt(issuer, resource) {
  const asMetadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
  const jwks = await (await fetch(asMetadata.jwks_uri)).json();
  const kid = jwks.keys.find((k) => k.kty === 'RSA')?.kid;
  const claims = jwtClaims(issuer, resource);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = `${b64url(JSON.stringify({ typ: 'at+jwt', alg: 'RS256', kid }))}.${b64url(JSON.stringify(claims))}`;
  return { kid, token: `${input}.${b64url(sign('sha256', Buffer.from(input), privateKey))}` };
}

/// The same claims, unsigned (`alg: none`, empty signature).
function unsignedJwt(issuer, resource, kid) {
  const header = b64url(JSON.stringify({ typ: 'at+jwt', alg: 'none', kid }));
  return `${header}.${b64url(JSON.stringify(jwtClaims(issuer, resource)))}.`;
}

function jwtClaims(issuer, resource) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    aud: resource,
    sub: 'forger',
    client_id: 'forger',
    scope: 'mcp:tools tools:call',
    iat: now,
    exp: now + 3600,
  };
}

/// Bad tokens (and valid controls) sent straight to both POST endpoints.
export async function badTokens({ name, origin, issuer, resource, metadataUrl, minted }) {
  const { kid, token: forged } = await forgedJwt(issuer, resource);
  check('the forged JWT names the server\'s real kid', typeof kid === 'string', kid);
  const refused = (what, token) => ({ what, token, accepted: false });
  const accepted = (what, token) => ({ what, token, accepted: true });
  const cases = [
    refused('a JWT signed by a key of our own (real kid and issuer)', forged),
    refused('an alg: none JWT', unsignedJwt(issuer, resource, kid)),
    refused('an expired JWT', minted.test_token_expired_jwt),
    refused('a JWT for another audience', minted.test_token_wrong_audience_jwt),
  ];
  if (name === 'jwt') {
    cases.push(
      accepted('a valid JWT (control)', minted.test_token_valid_jwt),
      refused('an opaque token (jwt validates JWTs only)', minted.test_token_valid_opaque),
      // Local validation cannot see a revocation: the token lives until its exp.
      accepted('a revoked JWT (local validation cannot know)', minted.test_token_revoked_jwt),
    );
  } else {
    cases.push(
      accepted('a valid JWT (control)', minted.test_token_valid_jwt),
      accepted('a valid opaque token (control)', minted.test_token_valid_opaque),
      refused('an expired opaque token', minted.test_token_expired_opaque),
      refused('an opaque token for another audience', minted.test_token_wrong_audience_opaque),
      refused('a revoked opaque token', minted.test_token_revoked_opaque),
      name === 'introspection'
        ? refused('a revoked JWT (introspected)', minted.test_token_revoked_jwt)
        : accepted('a revoked JWT (hybrid validates JWTs locally: cannot know)', minted.test_token_revoked_jwt),
    );
  }
  const endpoints = [
    {
      path: '/mcp',
      headers: { accept: 'application/json, text/event-stream' },
      body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bad-token', version: '1' } } },
      // Past the middleware, the MCP server answers the initialize.
      passed: (status) => status === 200,
    },
    {
      path: `/message?sessionId=${'0'.repeat(64)}`,
      headers: {},
      body: { jsonrpc: '2.0', id: 1, method: 'ping' },
      // Past the middleware, the adapter knows no such session.
      passed: (status, body) => status === 404 && body.includes('session_not_found'),
    },
  ];
  for (const c of cases) {
    for (const e of endpoints) {
      const res = await fetch(`${origin}${e.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}`, ...e.headers },
        body: JSON.stringify(e.body),
      });
      const challenge = res.headers.get('www-authenticate') ?? '';
      const body = await res.text();
      const where = e.path.split('?')[0];
      if (c.accepted) {
        check(`${where}: ${c.what} is accepted`, e.passed(res.status, body), `got ${res.status} ${challenge} ${body.slice(0, 200)}`);
      } else {
        check(
          `${where}: ${c.what} is refused with 401 invalid_token`,
          res.status === 401 && challenge.includes('error="invalid_token"') && challenge.includes(`resource_metadata="${metadataUrl}"`),
          `got ${res.status} ${challenge} ${body.slice(0, 200)}`,
        );
        check(`${where}: ${c.what}: the token is not echoed`, !challenge.includes(c.token) && !body.includes(c.token));
      }
    }
  }
}

// The example's own rate limits (mcp_server.rs: metadata and token work refused or not
// yet cached, each 120/minute per address, off the flows above): past the budget, a 429
// with `Retry-After`, a JSON-RPC error without `id`, and no challenge; a token the server
// has already validated (the control of `badTokens`, cached) is still served.
export async function rateLimits({ origin, minted }) {
  const LIMIT = 120;
  const first429 = async (send) => {
    for (let i = 1; i <= LIMIT + 5; i += 1) {
      const res = await send(i);
      if (res.status === 429) return { res, i };
      await res.arrayBuffer();
    }
    return { res: null, i: null };
  };
  const assert429 = async (what, { res, i }) => {
    check(`${what}: a 429 within the budget of ${LIMIT}`, res !== null, `no 429 after ${LIMIT + 5} requests`);
    if (res === null) return;
    const retry = Number(res.headers.get('retry-after'));
    const body = await res.json().catch(() => ({}));
    check(`${what}: Retry-After is a whole number of seconds`, Number.isInteger(retry) && retry >= 1, res.headers.get('retry-after'));
    check(`${what}: the body is a JSON-RPC error without id`, body?.jsonrpc === '2.0' && typeof body?.error?.code === 'number' && !('id' in body), JSON.stringify(body));
    check(`${what}: no WWW-Authenticate`, !res.headers.has('www-authenticate'));
    return i;
  };
  const metadata = `${origin}/.well-known/oauth-protected-resource`;
  await assert429('metadata flood', await first429(() => fetch(metadata)));
  const mcp = (token) => fetch(`${origin}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } } }),
  });
  await assert429('garbage-token flood', await first429((i) => mcp(`garbage-${i}-${'x'.repeat(20)}`)));
  const cached = await mcp(minted.test_token_valid_jwt);
  await cached.arrayBuffer();
  check('after the flood, a token already validated is still served', cached.status === 200, `got ${cached.status}`);
}
