// The official MCP TypeScript client against `examples/mcp_server` protected by mcp-oauth.
//
// For each validation strategy (`jwt`, `introspection`, `hybrid`) it starts
// `examples/auth_server` (a standards-compliant test authorization server) and one
// `examples/mcp_server`, configured only through MCP_OAUTH_* variables, whose resource is
// its origin (`http://127.0.0.1:PORT`, no trailing slash): the resource a server offering
// both transports uses, since the SDK checks that the resource covers the URL it connects
// to. Then, once over Streamable HTTP (`/mcp`, StreamableHTTPClientTransport) and once over
// the legacy HTTP+SSE transport (`/sse` + `/message`, SSEClientTransport), it lets the SDK's
// OAuth client do what a real MCP client does: get a 401, read `resource_metadata`, fetch
// the protected resource metadata and the authorization server metadata, register itself
// (RFC 7591), authorize with PKCE S256 and the `resource` parameter (RFC 8707), exchange the
// code, list the tools, be refused the guarded tool `echo` with an HTTP 403
// `insufficient_scope` step-up, get the scope it names, call `echo` and `whoami`.
//
// Then it sends bad tokens straight to `/mcp` and `/message` and checks the status and the
// `WWW-Authenticate` error: a JWT forged with a key of its own (the server's real `kid` and
// issuer), an `alg: none` JWT, and expired, wrong-audience and revoked tokens the test
// authorization server mints (`MINT_TEST_TOKENS_FOR`), beside valid controls; and, where
// the strategy takes JWTs and opaque tokens (`introspection`, `hybrid`), runs the SDK with a
// JWT too, the OAuth flow having given it an opaque token.
//
// Needs the example binaries: `cargo build -p examples --examples` (cargo test builds them).
// Run (from the repository root): `npm ci --prefix tests/interop/ts-client &&
// npm test --prefix tests/interop/ts-client`.
// The whole run fails after 6 minutes, killing the servers it started.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { generateKeyPairSync, sign } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { UnauthorizedError, auth } from '@modelcontextprotocol/sdk/client/auth.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// This file is <repository>/tests/interop/ts-client/run.mjs; the workspace's target dir is
// <repository>/target unless CARGO_TARGET_DIR says otherwise.
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(here, '..', '..', '..', 'target');
const bin = (name) => path.join(targetDir, 'debug', 'examples', name);
const OVERALL_TIMEOUT_MS = 6 * 60_000;

let passed = 0;
let failed = 0;
let strategy = '';
let lastCheck = '(none yet)';
function check(name, ok, detail = '') {
  lastCheck = `[${strategy}] ${name}`;
  if (ok) {
    passed += 1;
    console.log(`ok   [${strategy}] ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL [${strategy}] ${name} ${detail}`);
  }
}

const children = [];
function start(name, env) {
  const child = spawn(bin(name), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}
function stopAll(signal = 'SIGTERM') {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}
process.on('exit', () => stopAll('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopAll('SIGKILL');
    process.exit(1);
  });
}

// A hung server or client must not hang CI: fail the run, kill what it started.
const overall = setTimeout(() => {
  failed += 1;
  console.log(
    `FAIL interop run timed out after ${OVERALL_TIMEOUT_MS / 60_000} minutes; the last check to finish was ${lastCheck}. Killing the servers it started.`,
  );
  stopAll('SIGKILL');
  console.log(`interop: ${passed} passed, ${failed} failed`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

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

/// Plays the user agent: follows the authorization URL and catches the code in the redirect.
class AutoApprovingProvider {
  redirect = 'http://127.0.0.1:1/callback';
  client = undefined;
  savedTokens = undefined;
  verifier = undefined;
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
  async redirectToAuthorization(url) {
    this.redirects += 1;
    this.authorizationUrl = new URL(url);
    const res = await fetch(url, { redirect: 'manual' });
    const location = res.headers.get('location');
    this.code = location ? new URL(location).searchParams.get('code') : undefined;
  }
}

/// A fetch for the SDK that keeps what the server answered (status and challenge), to
/// check the HTTP exchanges behind what the SDK reports.
function recordingFetch() {
  const log = [];
  const fetchFn = async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    log.push({
      method: (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(),
      path: url.pathname,
      origin: url.origin,
      status: res.status,
      challenge: res.headers.get('www-authenticate') ?? '',
    });
    return res;
  };
  return { log, fetchFn };
}

/// The `scope` of a challenge, split.
function challengeScope(challenge) {
  const m = /scope="([^"]*)"/.exec(challenge ?? '');
  return m ? m[1].split(' ') : [];
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

// The three validation strategies, each with the MCP server configured only by the
// resource, the issuer and (to introspect) client credentials: the rest is discovered.
const STRATEGIES = [
  { name: 'jwt', opaque: false },
  { name: 'introspection', opaque: true },
  { name: 'hybrid', opaque: true },
];
const INTROSPECTION = { id: 'mcp-resource', secret: 'interop secret: % and spaces' };
const TRANSPORTS = [
  { name: 'Streamable HTTP', path: '/mcp', Transport: StreamableHTTPClientTransport },
  { name: 'HTTP+SSE', path: '/sse', Transport: SSEClientTransport },
];

async function main({ name, opaque }) {
  strategy = name;
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // The origin, without a trailing slash (MCP "Canonical Server URI"): it covers /mcp,
  // /sse and /message.
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

  // The server side as any client sees it first.
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

  for (const transport of TRANSPORTS) {
    await section(`${transport.name} OAuth flow`, () => oauthFlow({ origin, resource, opaque, ...transport }));
  }
  await section('bad tokens', () => badTokens({ name, origin, issuer, resource, metadataUrl, minted }));
  if (name !== 'jwt') {
    // The OAuth flow gave an opaque token; a JWT of the same issuer works too.
    for (const transport of TRANSPORTS) {
      await section(`${transport.name} with a JWT`, () =>
        withStaticToken({ origin, token: minted.test_token_valid_jwt, kind: 'a JWT', ...transport }),
      );
    }
  }
}

/// Runs one part of a strategy's checks; an exception fails it, not the parts after it.
async function section(name, run) {
  try {
    await run();
  } catch (e) {
    check(`${name} aborted`, false, e?.stack ?? String(e));
  }
}

/// The SDK's whole OAuth flow over one transport, then tools, the step-up and whoami.
async function oauthFlow({ origin, resource, opaque, name, path: p, Transport }) {
  const url = new URL(`${origin}${p}`);
  const t = (text) => `${name} ${p}: ${text}`;
  const { log, fetchFn } = recordingFetch();
  const fromServer = () => log.filter((e) => e.origin === origin);
  const provider = new AutoApprovingProvider();
  let transport = new Transport(url, { authProvider: provider, fetch: fetchFn });
  let client = new Client({ name: 'mcp-oauth-interop', version: '1.0.0' });
  let unauthorized = false;
  try {
    await client.connect(transport);
  } catch (e) {
    unauthorized = e instanceof UnauthorizedError;
    if (!unauthorized) throw e;
  }
  check(t('the first request is refused with 401'), fromServer()[0]?.status === 401, JSON.stringify(fromServer()[0]));
  check(t('the client is sent to authorize'), unauthorized);
  check(t('the client registered dynamically'), typeof provider.client?.client_id === 'string');
  const q = provider.authorizationUrl?.searchParams;
  check(t('the authorization request uses PKCE S256'), q?.get('code_challenge_method') === 'S256');
  check(t('the authorization request carries the resource, verbatim'), q?.get('resource') === resource, q?.get('resource'));
  check(t('the authorization request asks for the challenged scope'), (q?.get('scope') ?? '').split(' ').includes('mcp:tools'), q?.get('scope'));
  check(t('the authorization server returned a code'), typeof provider.code === 'string');

  await transport.finishAuth(provider.code);
  const accessToken = provider.savedTokens?.access_token;
  check(t('the client obtained an access token'), typeof accessToken === 'string');
  check(t(`the token is ${opaque ? 'opaque' : 'a JWT'}`), opaque ? !accessToken.includes('.') : accessToken.split('.').length === 3);

  transport = new Transport(url, { authProvider: provider, fetch: fetchFn });
  client = new Client({ name: 'mcp-oauth-interop', version: '1.0.0' });
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((x) => x.name).sort();
  check(t('tools/list lists echo and whoami'), tools.includes('echo') && tools.includes('whoami'), JSON.stringify(tools));

  // Step-up: `echo` needs `tools:call`, which the first authorization did not ask for. The
  // middleware answers the call with an HTTP 403 insufficient_scope challenge (on the
  // legacy transport, to the POST to /message).
  const echoCall = { name: 'echo', arguments: { message: `hello from TypeScript over ${name}` } };
  const before = log.length;
  const redirectsBefore = provider.redirects;
  provider.code = undefined;
  let error;
  try {
    await client.callTool(echoCall);
  } catch (e) {
    error = e;
  }
  const postPath = p === '/sse' ? '/message' : p;
  const refusal = log.slice(before).find((e) => e.origin === origin && e.method === 'POST' && e.path === postPath && e.status !== 200 && e.status !== 202);
  check(t(`the call of the guarded tool is answered 403 on POST ${postPath}`), refusal?.status === 403, JSON.stringify(refusal));
  check(t('with an insufficient_scope challenge'), refusal?.challenge.includes('error="insufficient_scope"'), refusal?.challenge);
  const wanted = challengeScope(refusal?.challenge);
  check(t('naming the tool scope and the required scope'), wanted.includes('tools:call') && wanted.includes('mcp:tools'), refusal?.challenge);
  if (Transport === StreamableHTTPClientTransport) {
    // The SDK acts on the 403 by itself: it re-authorizes with the scope named.
    check(t('the SDK sends the client to re-authorize'), error instanceof UnauthorizedError, String(error));
  } else {
    // SSEClientTransport steps up only on 401: a 403 from /message is an error of the
    // call. Ask for the scope named through the provider, as an application would.
    check(t('the SDK reports the 403 as an error of the call'), error !== undefined && !(error instanceof UnauthorizedError) && String(error).includes('403'), String(error));
    check(t('the SDK does not re-authorize by itself'), provider.redirects === redirectsBefore);
    const result = await auth(provider, { serverUrl: url, scope: wanted.join(' '), fetchFn });
    check(t('asking for the named scope through the provider redirects to authorize'), result === 'REDIRECT', result);
  }
  const stepScope = (provider.authorizationUrl?.searchParams.get('scope') ?? '').split(' ');
  check(t('the re-authorization asks for the tool scope'), provider.redirects === redirectsBefore + 1 && stepScope.includes('tools:call') && stepScope.includes('mcp:tools'), stepScope.join(' '));
  await transport.finishAuth(provider.code);
  // The same client, the same session: the next request carries the new token.
  const echo = await client.callTool(echoCall);
  check(t('after the step-up, tools/call echo answers'), JSON.stringify(echo.content).includes(echoCall.arguments.message), JSON.stringify(echo));
  const who = JSON.stringify(await client.callTool({ name: 'whoami', arguments: {} }));
  check(t('whoami sees the authenticated subject'), who.includes('test-user'), who);
  check(t('whoami sees the registered client id'), who.includes(provider.client.client_id), who);
  check(t('whoami sees the granted scopes'), who.includes('mcp:tools') && who.includes('tools:call'), who);
  await client.close();
}

/// The SDK with a token obtained elsewhere (no OAuth flow): tools/list, echo, whoami.
async function withStaticToken({ origin, token, kind, name, path: p, Transport }) {
  const t = (text) => `${name} ${p} with ${kind}: ${text}`;
  const transport = new Transport(new URL(`${origin}${p}`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'mcp-oauth-interop', version: '1.0.0' });
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((x) => x.name);
  check(t('tools/list answers'), tools.includes('echo'), JSON.stringify(tools));
  const echo = JSON.stringify(await client.callTool({ name: 'echo', arguments: { message: 'minted' } }));
  check(t('tools/call echo answers'), echo.includes('minted'), echo);
  const who = JSON.stringify(await client.callTool({ name: 'whoami', arguments: {} }));
  check(t('whoami sees the token subject'), who.includes('minted-test-user'), who);
  await client.close();
}

/// Bad tokens (and valid controls) sent straight to both POST endpoints.
async function badTokens({ name, origin, issuer, resource, metadataUrl, minted }) {
  const { kid, token: forged } = await forgedJwt(issuer, resource);
  check('the forged JWT names the server\'s real kid', typeof kid === 'string', kid);
  const refused = (label, token) => ({ label, token, accepted: false });
  const accepted = (label, token) => ({ label, token, accepted: true });
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
        check(`${where}: ${c.label} is accepted`, e.passed(res.status, body), `got ${res.status} ${challenge} ${body.slice(0, 200)}`);
      } else {
        check(
          `${where}: ${c.label} is refused with 401 invalid_token`,
          res.status === 401 && challenge.includes('error="invalid_token"') && challenge.includes(`resource_metadata="${metadataUrl}"`),
          `got ${res.status} ${challenge} ${body.slice(0, 200)}`,
        );
        check(`${where}: ${c.label}: the token is not echoed`, !challenge.includes(c.token) && !body.includes(c.token));
      }
    }
  }
}

for (const s of STRATEGIES) {
  try {
    await main(s);
  } catch (e) {
    failed += 1;
    console.log(`FAIL [${s.name}] interop run aborted: ${e?.stack ?? e}`);
  } finally {
    stopAll();
  }
}
clearTimeout(overall);
console.log(`interop: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
