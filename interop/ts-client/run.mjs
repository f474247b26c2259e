// The official MCP TypeScript client against `examples/mcp_server` protected by mcp-oauth.
//
// It starts `examples/auth_server` (a standards-compliant test authorization server) and
// `examples/mcp_server` configured only through MCP_OAUTH_* variables, then lets the SDK's
// OAuth client do what a real MCP client does: get a 401, read `resource_metadata`, fetch
// the protected resource metadata and the authorization server metadata, register itself
// (RFC 7591), authorize with PKCE S256 and the `resource` parameter (RFC 8707), exchange the
// code, and call tools with the token.
//
// Needs the example binaries: `cargo build -p examples --examples` (cargo test builds them).
// Run: `npm ci --prefix interop/ts-client && npm test --prefix interop/ts-client`.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(here, '..', '..', 'target');
const bin = (name) => path.join(targetDir, 'debug', 'examples', name);

let passed = 0;
let failed = 0;
let strategy = '';
function check(name, ok, detail = '') {
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
function stopAll() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('exit', stopAll);

async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

// Resolves with the value of the first line starting with `prefix`. Keeps reading the
// child's stdout afterwards: a pipe closed under it would make its next write fail.
function firstLine(child, prefix) {
  return new Promise((resolve, reject) => {
    let buf = '';
    let found = false;
    child.stdout.on('data', (chunk) => {
      if (found) return;
      buf += chunk.toString();
      const line = buf.split('\n').find((l) => l.startsWith(prefix));
      if (line) {
        found = true;
        resolve(line.slice(prefix.length).trim());
      }
    });
    child.stdout.on('end', () => {
      if (!found) reject(new Error(`process ended before printing ${prefix}`));
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
    this.authorizationUrl = new URL(url);
    const res = await fetch(url, { redirect: 'manual' });
    const location = res.headers.get('location');
    this.code = location ? new URL(location).searchParams.get('code') : undefined;
  }
}

// The three validation strategies, each with the MCP server configured only by the
// resource, the issuer and (to introspect) client credentials: the rest is discovered.
const STRATEGIES = [
  { name: 'jwt', opaque: false },
  { name: 'introspection', opaque: true },
  { name: 'hybrid', opaque: true },
];
const INTROSPECTION = { id: 'mcp-resource', secret: 'interop secret: % and spaces' };

async function main({ name, opaque }) {
  strategy = name;
  const auth = start('auth_server', {
    OPAQUE_TOKENS: String(opaque),
    INTROSPECTION_CLIENT_ID: INTROSPECTION.id,
    INTROSPECTION_CLIENT_SECRET: INTROSPECTION.secret,
  });
  const issuer = await firstLine(auth, 'issuer=');
  const port = await freePort();
  const resource = `http://127.0.0.1:${port}/mcp`;
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
  const metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  await waitFor(metadataUrl);

  // The server side as any client sees it first.
  const unauth = await fetch(resource, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const challenge = unauth.headers.get('www-authenticate') ?? '';
  check('a request without a token is 401', unauth.status === 401, `got ${unauth.status}`);
  check('the challenge names the metadata', challenge.includes(`resource_metadata="${metadataUrl}"`), challenge);
  check('the challenge names the required scope', challenge.includes('scope="mcp:tools"'), challenge);
  const prm = await (await fetch(metadataUrl)).json();
  check('the metadata resource is the configured resource', prm.resource === resource, JSON.stringify(prm));
  check('the metadata lists the authorization server', JSON.stringify(prm.authorization_servers) === JSON.stringify([issuer]));

  // The SDK's OAuth flow.
  const provider = new AutoApprovingProvider();
  let transport = new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider });
  let client = new Client({ name: 'mcp-oauth-interop', version: '1.0.0' });
  let unauthorized = false;
  try {
    await client.connect(transport);
  } catch (e) {
    unauthorized = e instanceof UnauthorizedError;
    if (!unauthorized) throw e;
  }
  check('the client is sent to authorize', unauthorized);
  check('the client registered dynamically', typeof provider.client?.client_id === 'string');
  const q = provider.authorizationUrl?.searchParams;
  check('the authorization request uses PKCE S256', q?.get('code_challenge_method') === 'S256');
  check('the authorization request carries the resource', q?.get('resource') === resource, q?.get('resource'));
  check('the authorization request asks for the challenged scope', (q?.get('scope') ?? '').split(' ').includes('mcp:tools'), q?.get('scope'));
  check('the authorization server returned a code', typeof provider.code === 'string');

  await transport.finishAuth(provider.code);
  const accessToken = provider.savedTokens?.access_token;
  check('the client obtained an access token', typeof accessToken === 'string');
  check(`the token is ${opaque ? 'opaque' : 'a JWT'}`, opaque ? !accessToken.includes('.') : accessToken.split('.').length === 3);

  transport = new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider });
  client = new Client({ name: 'mcp-oauth-interop', version: '1.0.0' });
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  check('tools/list lists echo and whoami', tools.includes('echo') && tools.includes('whoami'), JSON.stringify(tools));
  // Step-up: `echo` needs `tools:call`, which the first authorization did not ask for. The
  // middleware answers the call with an HTTP 403 insufficient_scope challenge; the SDK
  // re-authorizes with the scope it names, and the call then succeeds.
  const echoCall = { name: 'echo', arguments: { message: 'hello from TypeScript' } };
  provider.code = undefined;
  let steppedUp = false;
  try {
    await client.callTool(echoCall);
  } catch (e) {
    steppedUp = e instanceof UnauthorizedError;
    if (!steppedUp) throw e;
  }
  check('a call of a guarded tool sends the client to re-authorize', steppedUp);
  const stepScope = (provider.authorizationUrl?.searchParams.get('scope') ?? '').split(' ');
  check('the re-authorization asks for the tool scope', stepScope.includes('tools:call') && stepScope.includes('mcp:tools'), stepScope.join(' '));
  await transport.finishAuth(provider.code);
  const echo = await client.callTool(echoCall);
  check('after the step-up, tools/call echo answers', JSON.stringify(echo.content).includes('hello from TypeScript'), JSON.stringify(echo));
  const who = JSON.stringify(await client.callTool({ name: 'whoami', arguments: {} }));
  check('whoami sees the authenticated subject', who.includes('test-user'), who);
  check('whoami sees the registered client id', who.includes(provider.client.client_id), who);
  check('whoami sees the granted scopes', who.includes('mcp:tools') && who.includes('tools:call'), who);
  await client.close();
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
console.log(`interop: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
