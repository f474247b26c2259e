// The driver for `@modelcontextprotocol/sdk` 1.x (the single-package SDK, version pinned in
// package.json): its `Client` over `StreamableHTTPClientTransport` (`/mcp`) and
// `SSEClientTransport` (`/sse` + `/message`), with its OAuth client.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { UnauthorizedError, auth } from '@modelcontextprotocol/sdk/client/auth.js';

import { AutoApprovingProvider, check, installed, recordingFetch, stepUpRefusal } from './harness.mjs';

export const NAME = installed('@modelcontextprotocol/sdk');

export const TRANSPORTS = [
  { name: 'Streamable HTTP', path: '/mcp', Transport: StreamableHTTPClientTransport },
  { name: 'HTTP+SSE', path: '/sse', Transport: SSEClientTransport },
];

/// The SDK's whole OAuth flow over one transport, then tools, the step-up and whoami.
export async function oauthFlow({ origin, resource, opaque, name, path: p, Transport }) {
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
  const { refusal, wanted } = stepUpRefusal({ t, log, before, origin, path: p });
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
export async function withStaticToken({ origin, token, kind, name, path: p, Transport }) {
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
