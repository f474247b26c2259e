// Both official MCP TypeScript clients against `examples/mcp_server` protected by mcp-oauth:
// `@modelcontextprotocol/sdk` 1.x (sdk-v1.mjs) and `@modelcontextprotocol/client` 2.x
// (client-v2.mjs), versions pinned in package.json.
//
// For each validation strategy (`jwt`, `introspection`, `hybrid`) it starts
// `examples/auth_server` (a standards-compliant test authorization server) and one
// `examples/mcp_server`, configured only through MCP_OAUTH_* variables, whose resource is
// its origin (`http://127.0.0.1:PORT`, no trailing slash): the resource a server offering
// both transports uses, since both SDKs check that the resource covers the URL they connect
// to (harness.mjs). Then each client, over Streamable HTTP (`/mcp`) and over the legacy
// HTTP+SSE transport (`/sse` + `/message`), does what a real MCP client does: get a 401,
// read `resource_metadata`, fetch the protected resource metadata and the authorization
// server metadata, register itself (RFC 7591), authorize with PKCE S256 and the `resource`
// parameter (RFC 8707), exchange the code (the v2 client after checking the RFC 9207
// `iss`), list the tools, be refused the guarded tool `echo` with an HTTP 403
// `insufficient_scope` step-up, get the scope it names, call `echo` and `whoami`. The v2
// client runs each transport twice: in its default era (2025-11-25) and in the 2026-07-28
// era it negotiates with the server (`Mcp-Method`/`Mcp-Name` over Streamable HTTP).
//
// Then it sends bad tokens straight to `/mcp` and `/message` and checks the status and the
// `WWW-Authenticate` error: a JWT forged with a key of its own (the server's real `kid` and
// issuer), an `alg: none` JWT, and expired, wrong-audience and revoked tokens the test
// authorization server mints (`MINT_TEST_TOKENS_FOR`), beside valid controls; and, where
// the strategy takes JWTs and opaque tokens (`introspection`, `hybrid`), runs both clients
// with a JWT too, the OAuth flow having given them an opaque token. Last, the example's
// own rate limits: floods of metadata fetches and of garbage tokens end in 429s, and a
// token already validated is still served.
// A fleet (fleet.mjs): three example servers of one resource sharing a redis-server; a DPoP proof is good once per fleet, nonces shared, Redis killed and restarted.
// DPoP (RFC 9449, dpop.mjs): a jose client and the v2 client's own DPoP get bound tokens and use them on /mcp; replays, wrong htm/htu/key, no proof and the token as Bearer are refused.
//
// Needs the example binaries: `cargo build -p examples --examples` (cargo test builds them).
// Run (from the repository root): `npm ci --prefix tests/interop/ts-client &&
// npm test --prefix tests/interop/ts-client`.
// The whole run fails after 6 minutes, killing the servers it started.

import { badTokens, context, deadline, rateLimits, section, serverSide, startServers, stopAll } from './harness.mjs';
import * as v1 from './sdk-v1.mjs';
import * as v2 from './client-v2.mjs';
import * as dpop from './dpop.mjs';
import * as fleet from './fleet.mjs';

const STRATEGIES = [
  { name: 'jwt', opaque: false },
  { name: 'introspection', opaque: true },
  { name: 'hybrid', opaque: true },
];

async function main({ name, opaque }) {
  context(name);
  const servers = await startServers({ name, opaque });
  await serverSide(servers);

  context(`${name}, ${v1.NAME}`);
  for (const transport of v1.TRANSPORTS) {
    await section(`${transport.name} OAuth flow`, () => v1.oauthFlow({ ...servers, opaque, ...transport }));
  }
  context(`${name}, ${v2.NAME}`);
  for (const flow of v2.FLOWS) {
    await section(`${flow.name} ${flow.mode} OAuth flow`, () => v2.oauthFlow({ ...servers, opaque, ...flow }));
  }
  context(`${name}, ${dpop.NAME}`);
  await section('DPoP flow', () => dpop.joseFlow({ ...servers, opaque }));
  context(`${name}, ${dpop.SDK_NAME}`);
  await section('DPoP OAuth flow', () => dpop.sdkFlow({ ...servers, opaque }));

  context(name);
  await section('bad tokens', () => badTokens({ name, ...servers }));
  if (name !== 'jwt') {
    // The OAuth flow gave an opaque token; a JWT of the same issuer works too.
    const token = servers.minted.test_token_valid_jwt;
    context(`${name}, ${v1.NAME}`);
    for (const transport of v1.TRANSPORTS) {
      await section(`${transport.name} with a JWT`, () => v1.withStaticToken({ origin: servers.origin, token, kind: 'a JWT', ...transport }));
    }
    context(`${name}, ${v2.NAME}`);
    for (const flow of v2.FLOWS) {
      await section(`${flow.name} ${flow.mode} with a JWT`, () => v2.withStaticToken({ origin: servers.origin, token, kind: 'a JWT', ...flow }));
    }
  }
  context(name);
  await section('rate limits', () => rateLimits(servers));
}

const run = deadline();
context(dpop.NAME);
await section('use_dpop_nonce handling', () => dpop.nonceHandling());
for (const s of STRATEGIES) {
  try {
    await main(s);
  } catch (e) {
    run.fail(`[${s.name}] interop run aborted: ${e?.stack ?? e}`);
  } finally {
    stopAll();
  }
}
context(fleet.NAME);
try {
  await section('DPoP across the fleet', () => fleet.fleetFlow());
} catch (e) {
  run.fail(`[fleet] aborted: ${e?.stack ?? e}`);
} finally {
  stopAll();
}
console.log(`DPoP use_dpop_nonce retries: ${JSON.stringify(dpop.nonceRetries())}`);
run.finish();
