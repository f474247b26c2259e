// The driver for `@modelcontextprotocol/client` 2.x (the v2 SDK's client package, version
// pinned in package.json; what `npm install @modelcontextprotocol/client` gives new users).
//
// What it does differently from 1.x, and what each flow here proves:
// - It validates the RFC 9207 `iss` of the authorization response before redeeming the
//   code, and refuses a response without one when the authorization server's metadata
//   says `authorization_response_iss_parameter_supported: true` (the test authorization
//   server does, and sends `iss`). `finishAuth` gets the callback's whole query.
// - Its `Client` speaks 2025-11-25 by default (`versionNegotiation` mode `legacy`: an
//   `initialize` handshake, no `Mcp-Method`/`Mcp-Name`). With mode `auto` it probes with
//   `server/discover`; the example's rmcp server answers, so the connection is
//   2026-07-28: every request carries `MCP-Protocol-Version: 2026-07-28`, `Mcp-Method`
//   and, for `tools/call`, `Mcp-Name`, which the middleware checks against the body
//   (MCP 2026-07-28 transports §Standard Request Headers). Each mode runs on both transports.
// - It still has `SSEClientTransport` (deprecated), run here in both modes. In mode
//   `auto` it negotiates 2026-07-28 over SSE too, then sends `MCP-Protocol-Version:
//   2026-07-28` on the POSTs to `/message` without `Mcp-Method`/`Mcp-Name`: its SSE
//   transport never writes them, which the 2026-07-28 spec defines for Streamable HTTP
//   only. The middleware requires them only on Streamable HTTP POSTs (`Accept` lists
//   `text/event-stream`), so these pass.
// - Streamable HTTP steps up on a 403 `insufficient_scope` by itself (re-authorizes with
//   the union of the scopes asked before and the challenge's); SSE does not.

import {
  Client,
  IssuerMismatchError,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  auth,
} from '@modelcontextprotocol/client';

import { AutoApprovingProvider, challengeScope, check, installed, recordingFetch, stepUpRefusal } from './harness.mjs';

export const NAME = installed('@modelcontextprotocol/client');
const MODERN = '2026-07-28';

/// The flows: each transport in the default (2025-11-25) era and in the 2026-07-28 era
/// that mode `auto` negotiates with the example server.
export const FLOWS = [
  { name: 'Streamable HTTP', path: '/mcp', Transport: StreamableHTTPClientTransport, mode: 'legacy' },
  { name: 'Streamable HTTP', path: '/mcp', Transport: StreamableHTTPClientTransport, mode: 'auto' },
  { name: 'HTTP+SSE', path: '/sse', Transport: SSEClientTransport, mode: 'legacy' },
  { name: 'HTTP+SSE', path: '/sse', Transport: SSEClientTransport, mode: 'auto' },
];

function newClient(mode) {
  const info = { name: 'mcp-oauth-interop', version: '2.0.0' };
  return mode === 'legacy' ? new Client(info) : new Client(info, { versionNegotiation: { mode } });
}

/// The client's whole OAuth flow over one transport, then tools, the step-up and whoami.
export async function oauthFlow({ origin, resource, issuer, opaque, name, path: p, Transport, mode }) {
  const url = new URL(`${origin}${p}`);
  const t = (text) => `${name} ${p} (versionNegotiation ${mode}): ${text}`;
  const { log, fetchFn } = recordingFetch();
  const fromServer = () => log.filter((e) => e.origin === origin);
  const provider = new AutoApprovingProvider();
  let transport = new Transport(url, { authProvider: provider, fetch: fetchFn });
  let client = newClient(mode);
  let unauthorized = false;
  try {
    await client.connect(transport);
  } catch (e) {
    unauthorized = e instanceof UnauthorizedError;
    if (!unauthorized) throw e;
  }
  const first = fromServer()[0];
  check(t('the first request is refused with 401'), first?.status === 401, JSON.stringify(first));
  check(t('its challenge names the required scope'), challengeScope(first?.challenge).includes('mcp:tools'), first?.challenge);
  if (mode === 'auto' && Transport === StreamableHTTPClientTransport) {
    check(t('the first request is the server/discover probe, with its headers'), first?.mcpMethod === 'server/discover' && first?.protocolVersion === MODERN, JSON.stringify(first));
  }
  check(t('the client is sent to authorize'), unauthorized);
  check(t('the client registered dynamically'), typeof provider.client?.client_id === 'string');
  const q = provider.authorizationUrl?.searchParams;
  check(t('the authorization request uses PKCE S256'), q?.get('code_challenge_method') === 'S256');
  check(t('the authorization request carries the resource, verbatim'), q?.get('resource') === resource, q?.get('resource'));
  check(t('the authorization request asks for the challenged scope'), (q?.get('scope') ?? '').split(' ').includes('mcp:tools'), q?.get('scope'));
  check(t('the authorization server returned a code'), typeof provider.code === 'string');
  check(t('the authorization response names the issuer (RFC 9207 iss)'), provider.callback?.get('iss') === issuer, provider.callback?.toString());

  if (mode === 'legacy' && Transport === StreamableHTTPClientTransport) {
    // The metadata advertises `iss`: the client refuses a response without it, before
    // redeeming the code (which stays usable).
    let refused;
    try {
      await transport.finishAuth(provider.code);
    } catch (e) {
      refused = e;
    }
    check(t('the client refuses a response without iss (advertised)'), refused instanceof IssuerMismatchError, String(refused));
  }
  await transport.finishAuth(provider.callback);
  const accessToken = provider.savedTokens?.access_token;
  check(t('the client obtained an access token'), typeof accessToken === 'string');
  check(t(`the token is ${opaque ? 'opaque' : 'a JWT'}`), opaque ? !accessToken.includes('.') : accessToken.split('.').length === 3);

  transport = new Transport(url, { authProvider: provider, fetch: fetchFn });
  client = newClient(mode);
  await client.connect(transport);
  if (Transport === StreamableHTTPClientTransport) {
    const expected = mode === 'auto' ? MODERN : '2025-11-25';
    check(t(`the connection speaks ${expected}`), transport.protocolVersion === expected, transport.protocolVersion);
  }
  const tools = (await client.listTools()).tools.map((x) => x.name).sort();
  check(t('tools/list lists echo and whoami'), tools.includes('echo') && tools.includes('whoami'), JSON.stringify(tools));

  // Step-up: `echo` needs `tools:call`, which the first authorization did not ask for.
  const echoCall = { name: 'echo', arguments: { message: `hello from the v2 client over ${name}` } };
  const before = log.length;
  const redirectsBefore = provider.redirects;
  provider.code = undefined;
  let error;
  try {
    await client.callTool(echoCall);
  } catch (e) {
    error = e;
  }
  const { refusal, wanted } = stepUpRefusal({ t, log, before, origin, path: p });
  if (mode === 'auto' && Transport === StreamableHTTPClientTransport) {
    check(t('the refused call carried Mcp-Method and Mcp-Name'), refusal?.mcpMethod === 'tools/call' && refusal?.mcpName === 'echo', JSON.stringify(refusal));
  }
  if (Transport === StreamableHTTPClientTransport) {
    // The transport steps up by itself: it re-authorizes with the scopes named.
    check(t('the client is sent to re-authorize'), error instanceof UnauthorizedError, String(error));
  } else {
    // SSEClientTransport steps up only on 401: a 403 from /message is an error of the
    // call. Ask for the scope named through the provider, as an application would.
    check(t('the client reports the 403 as an error of the call'), error !== undefined && !(error instanceof UnauthorizedError) && String(error).includes('403'), String(error));
    check(t('the client does not re-authorize by itself'), provider.redirects === redirectsBefore);
    const result = await auth(provider, { serverUrl: url, scope: wanted.join(' '), fetchFn });
    check(t('asking for the named scope through the provider redirects to authorize'), result === 'REDIRECT', result);
  }
  const stepScope = (provider.authorizationUrl?.searchParams.get('scope') ?? '').split(' ');
  check(t('the re-authorization asks for the tool scope'), provider.redirects === redirectsBefore + 1 && stepScope.includes('tools:call') && stepScope.includes('mcp:tools'), stepScope.join(' '));
  check(t('the second authorization response names the issuer too'), provider.callback?.get('iss') === issuer, provider.callback?.toString());
  await transport.finishAuth(provider.callback);
  const echo = await client.callTool(echoCall);
  check(t('after the step-up, tools/call echo answers'), JSON.stringify(echo.content).includes(echoCall.arguments.message), JSON.stringify(echo));
  const who = JSON.stringify(await client.callTool({ name: 'whoami', arguments: {} }));
  check(t('whoami sees the authenticated subject'), who.includes('test-user'), who);
  check(t('whoami sees the registered client id'), who.includes(provider.client.client_id), who);
  check(t('whoami sees the granted scopes'), who.includes('mcp:tools') && who.includes('tools:call'), who);
  await client.close();
  headersChecks({ t, log: fromServer(), mode, postPath: p === '/sse' ? '/message' : p });
}

/// What the client sent to the MCP server, request by request: in the 2026-07-28 era over
/// Streamable HTTP the standard headers equal the body; over SSE, and in the default era,
/// none is sent; the middleware refused no request with a 400.
function headersChecks({ t, log, mode, postPath }) {
  const requests = log.filter((e) => e.method === 'POST' && e.path === postPath && e.bodyMethod !== undefined && e.bodyId !== undefined);
  check(t('the client sent JSON-RPC requests'), requests.length > 0);
  const rejected = requests.filter((e) => e.status === 400);
  check(t('no request was refused with 400'), rejected.length === 0, JSON.stringify(rejected));
  if (mode === 'auto' && postPath === '/mcp') {
    const off = requests.filter(
      (e) => e.protocolVersion !== MODERN || e.mcpMethod !== e.bodyMethod || (e.bodyMethod === 'tools/call' && e.mcpName !== e.bodyName),
    );
    check(t('every request carried MCP-Protocol-Version 2026-07-28, Mcp-Method and Mcp-Name as its body says'), off.length === 0, JSON.stringify(off));
    check(t('tools/call was sent'), requests.some((e) => e.bodyMethod === 'tools/call' && e.status === 200));
  } else {
    const withHeaders = requests.filter((e) => e.mcpMethod !== null || e.mcpName !== null);
    check(t('no request carried Mcp-Method or Mcp-Name'), withHeaders.length === 0, JSON.stringify(withHeaders));
  }
  if (mode === 'auto' && postPath === '/message') {
    // The case the middleware must not refuse: 2026-07-28 announced, no standard headers.
    const modern = requests.filter((e) => e.protocolVersion === MODERN && e.bodyMethod === 'tools/call');
    check(t('tools/call went to /message as 2026-07-28 without the headers, and passed'), modern.length > 0 && modern.every((e) => e.status === 202 || e.status === 403), JSON.stringify(modern));
  }
}

/// The client with a token obtained elsewhere, through the minimal `AuthProvider`
/// (`token()` only): tools/list, echo, whoami.
export async function withStaticToken({ origin, token, kind, name, path: p, Transport, mode }) {
  const t = (text) => `${name} ${p} (versionNegotiation ${mode}) with ${kind}: ${text}`;
  const transport = new Transport(new URL(`${origin}${p}`), { authProvider: { token: async () => token } });
  const client = newClient(mode);
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((x) => x.name);
  check(t('tools/list answers'), tools.includes('echo'), JSON.stringify(tools));
  const echo = JSON.stringify(await client.callTool({ name: 'echo', arguments: { message: 'minted' } }));
  check(t('tools/call echo answers'), echo.includes('minted'), echo);
  const who = JSON.stringify(await client.callTool({ name: 'whoami', arguments: {} }));
  check(t('whoami sees the token subject'), who.includes('minted-test-user'), who);
  await client.close();
}
