// DPoP (RFC 9449) against `examples/mcp_server` and `examples/auth_server`, with two real
// DPoP implementations:
// - `jose` (the JOSE library both MCP SDKs use): this module's own client generates an
//   ES256 key, registers (RFC 7591), authorizes with PKCE S256 and `resource` (RFC 8707),
//   redeems the code with a proof on the token endpoint (RFC 9449 §5) and gets a bound
//   token (`token_type: DPoP`), then speaks MCP over Streamable HTTP (`/mcp`) with
//   `Authorization: DPoP` and a fresh proof per request (§4.2, §7.1): initialize,
//   tools/list, whoami (which names the proved key), the 403 step-up to call `echo`, and
//   the refusals: a replayed proof, a proof for another method or URL, a proof by another
//   key, no proof (401 `invalid_dpop_proof`), the bound token as `Bearer` (401
//   `invalid_token`).
// - `@modelcontextprotocol/client` 2.x, whose OAuth client does DPoP when its provider
//   implements `dpop()` (a `DpopSession`): the same flow through the SDK's transport.
//
// Every request function here follows RFC 9449 §8 and §9: on a `use_dpop_nonce` refusal
// (400 from the token endpoint, 401 with a `DPoP` challenge from the resource) it retries
// once with a new proof carrying the `DPoP-Nonce` the answer gave, and it keeps the latest
// `DPoP-Nonce` of any answer (a 200 too) for the next proof to that origin.
// `nonceRetries()` says how many such retries happened. The example server requires its
// own nonces (RFC 9449 §9), so both clients meet a `use_dpop_nonce` refusal on /mcp.

import { createServer } from 'node:http';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { Client, DpopSession, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';

import { AutoApprovingProvider, check, installed, recordingFetch } from './harness.mjs';

export const NAME = `DPoP with ${installed('jose')}`;
export const SDK_NAME = `DPoP with ${installed('@modelcontextprotocol/client')}`;

const PROTOCOL_VERSION = '2025-11-25';
const ACCEPT = 'application/json, text/event-stream';
const HANG_GUARD_MS = 30_000;

const retries = { resourceServer: 0, authorizationServer: 0 };
/// How many `use_dpop_nonce` retries this module's requests made, by kind of server.
export function nonceRetries() {
  return { ...retries };
}

const b64url = (data) => Buffer.from(data).toString('base64url');
const sha256 = (text) => b64url(createHash('sha256').update(text).digest());
/// `htu`: the request URI without query and fragment (RFC 9449 §4.2).
const htuOf = (url) => {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
};

/// The challenges of a `WWW-Authenticate` field value (RFC 9110 §11.6.1, several fields
/// joined by commas), as `{ scheme, params }` with lower-case scheme and parameter names.
export function parseChallenges(value) {
  const list = [];
  const text = value ?? '';
  const token = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
  let i = 0;
  const spaces = () => {
    while (text[i] === ' ' || text[i] === '\t') i += 1;
  };
  for (;;) {
    while (i < text.length && /[\s,]/.test(text[i])) i += 1;
    token.lastIndex = i;
    const name = token.exec(text);
    if (!name) break;
    i = token.lastIndex;
    spaces();
    if (text[i] !== '=' || list.length === 0) {
      list.push({ scheme: name[0].toLowerCase(), params: {} });
      continue;
    }
    i += 1;
    spaces();
    let v = '';
    if (text[i] === '"') {
      i += 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i += 1;
        v += text[i] ?? '';
        i += 1;
      }
      i += 1;
    } else {
      token.lastIndex = i;
      v = token.exec(text)?.[0] ?? '';
      i += v.length;
    }
    list.at(-1).params[name[0].toLowerCase()] = v;
  }
  return list;
}

/// The parameters of the `scheme` challenge of a response, or undefined.
export const challengeOf = (res, scheme) => parseChallenges(res.headers.get('www-authenticate')).find((c) => c.scheme === scheme)?.params;

/// A client's DPoP key (ES256, made by jose) and the nonces servers gave it, per origin.
export class DpopKey {
  nonces = new Map();
  constructor(privateKey, jwk, thumbprint) {
    this.privateKey = privateKey;
    this.jwk = jwk;
    this.thumbprint = thumbprint;
  }

  static async generate() {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    return new DpopKey(privateKey, jwk, await calculateJwkThumbprint(jwk, 'sha256'));
  }

  /// A proof (RFC 9449 §4.2) for `method` on `url`: a fresh `jti`, `iat` now, `ath` when
  /// it goes with an access token, and the origin's latest nonce if it has one.
  async proof(method, url, { token, nonce = this.nonces.get(new URL(url).origin), jti = b64url(randomBytes(16)) } = {}) {
    const claims = { jti, htm: method.toUpperCase(), htu: htuOf(url), iat: Math.floor(Date.now() / 1000) };
    if (token !== undefined) claims.ath = sha256(token);
    if (nonce !== undefined) claims.nonce = nonce;
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: this.jwk }).sign(this.privateKey);
  }

  /// Keeps the `DPoP-Nonce` of an answer from `url`'s origin (RFC 9449 §8.2, §9: the
  /// newest one is used until the server gives another).
  observe(res, url) {
    const nonce = res.headers.get('dpop-nonce');
    if (nonce) this.nonces.set(new URL(url).origin, nonce);
  }
}

/// A request with the bound `token` (RFC 9449 §7.1): `Authorization: DPoP` and a fresh
/// proof for its method and URL; after a 401 `use_dpop_nonce` (§9), once more with a new
/// proof carrying the answer's `DPoP-Nonce`.
export async function dpopFetch(key, token, url, init = {}) {
  const method = (init.method ?? 'GET').toUpperCase();
  const send = async () => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `DPoP ${token}`);
    headers.set('dpop', await key.proof(method, url, { token }));
    return fetch(url, { signal: AbortSignal.timeout(HANG_GUARD_MS), ...init, method, headers });
  };
  let res = await send();
  if (res.status === 401 && challengeOf(res, 'dpop')?.error === 'use_dpop_nonce' && res.headers.has('dpop-nonce')) {
    key.observe(res, url);
    await res.arrayBuffer();
    retries.resourceServer += 1;
    res = await send();
  }
  key.observe(res, url);
  return res;
}

/// A token request with a proof for the token endpoint (RFC 9449 §5); after a 400
/// `use_dpop_nonce` (§8), once more with the nonce. Returns the status and the JSON body.
async function tokenRequest(key, endpoint, form) {
  const send = async () =>
    fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', dpop: await key.proof('POST', endpoint) },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(HANG_GUARD_MS),
    });
  let res = await send();
  let body = await res.json().catch(() => ({}));
  if (res.status === 400 && body.error === 'use_dpop_nonce' && res.headers.has('dpop-nonce')) {
    key.observe(res, endpoint);
    retries.authorizationServer += 1;
    res = await send();
    body = await res.json().catch(() => ({}));
  }
  key.observe(res, endpoint);
  return { status: res.status, body };
}

/// The JSON-RPC message answering `id` in a Streamable HTTP response: the JSON body, or
/// the first SSE `data` carrying that id (the stream is left once it is found).
async function rpcAnswer(res, id) {
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/event-stream')) {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      return { unparsed: text.slice(0, 300) };
    }
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      buf += value;
      const events = buf.split(/\r?\n\r?\n/);
      buf = events.pop();
      for (const event of events) {
        const data = event
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, ''))
          .join('\n');
        if (!data) continue;
        const message = JSON.parse(data);
        if (message.id === id) return message;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/// An MCP session over Streamable HTTP at `url`, each request sent by `sendWith`.
class McpSession {
  nextId = 1;
  sessionId = undefined;
  protocolVersion = undefined;
  constructor(url) {
    this.url = url;
  }

  headers() {
    const h = { 'content-type': 'application/json', accept: ACCEPT };
    if (this.sessionId) h['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion) h['mcp-protocol-version'] = this.protocolVersion;
    return h;
  }

  /// Sends `method` with `params` through `send(url, init)`; returns the response and,
  /// for a 200, the JSON-RPC answer.
  async request(send, method, params = {}) {
    const id = this.nextId++;
    const res = await send(this.url, { method: 'POST', headers: this.headers(), body: JSON.stringify({ jsonrpc: '2.0', id, method, params }) });
    if (res.status !== 200) return { res, body: await res.text() };
    return { res, answer: await rpcAnswer(res, id) };
  }

  async notify(send, method) {
    const res = await send(this.url, { method: 'POST', headers: this.headers(), body: JSON.stringify({ jsonrpc: '2.0', method }) });
    await res.arrayBuffer();
    return res;
  }

  async initialize(send) {
    const r = await this.request(send, 'initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'mcp-oauth-interop-dpop', version: '1.0.0' },
    });
    this.sessionId = r.res.headers.get('mcp-session-id') ?? undefined;
    this.protocolVersion = r.answer?.result?.protocolVersion;
    return r;
  }
}

/// What a client finds from the resource's 401: its metadata (RFC 9728), the
/// authorization server's metadata (RFC 8414 §3.1, the well-known path inserted before
/// the issuer's path).
export async function discover(origin) {
  const res = await fetch(`${origin}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT }, body: '{}' });
  await res.arrayBuffer();
  const bearer = challengeOf(res, 'bearer') ?? {};
  const prm = await (await fetch(bearer.resource_metadata)).json();
  const issuer = new URL(prm.authorization_servers[0]);
  const path = issuer.pathname === '/' ? '' : issuer.pathname;
  const as = await (await fetch(`${issuer.origin}/.well-known/oauth-authorization-server${path}`)).json();
  return { status: res.status, prm, as };
}

/// Authorization code + PKCE S256 + `resource` (the user agent approves at once), then the
/// code redeemed with a proof by `key`.
export async function authorize({ as, prm, client, key, scope }) {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    scope,
    state,
    code_challenge: sha256(verifier),
    code_challenge_method: 'S256',
    resource: prm.resource,
  });
  const redirect = await fetch(`${as.authorization_endpoint}?${q}`, { redirect: 'manual' });
  const back = new URL(redirect.headers.get('location')).searchParams;
  if (back.get('state') !== state || back.get('iss') !== as.issuer) throw new Error(`unexpected authorization response ${back}`);
  return tokenRequest(key, as.token_endpoint, {
    grant_type: 'authorization_code',
    code: back.get('code'),
    code_verifier: verifier,
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    resource: prm.resource,
  });
}

/// A request with exactly this scheme, token and proof (none if undefined): to send one
/// proof twice, or a wrong one.
export const sendRaw = (url, init, { scheme, token, proof }) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `${scheme} ${token}`);
  if (proof !== undefined) headers.set('dpop', proof);
  return fetch(url, { signal: AbortSignal.timeout(HANG_GUARD_MS), ...init, headers });
};

/// The jose client's whole flow over Streamable HTTP, then the refusals.
export async function joseFlow({ origin, resource, opaque }) {
  const t = (text) => `Streamable HTTP /mcp: ${text}`;
  const url = `${origin}/mcp`;
  const key = await DpopKey.generate();
  check(t('jose made an ES256 key pair with a 43-character thumbprint'), key.jwk.kty === 'EC' && key.jwk.crv === 'P-256' && !('d' in key.jwk) && key.thumbprint.length === 43, JSON.stringify(key.jwk));

  const { status, prm, as } = await discover(origin);
  check(t('without a token: 401 naming the metadata'), status === 401 && prm.resource === resource, JSON.stringify(prm));
  const registered = await fetch(as.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'mcp-oauth DPoP interop',
      redirect_uris: ['http://127.0.0.1:1/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      // RFC 9449 §5.2: this client always uses DPoP.
      dpop_bound_access_tokens: true,
    }),
  });
  const client = await registered.json();
  check(t('the client registered dynamically (RFC 7591)'), registered.status === 201 && typeof client.client_id === 'string', JSON.stringify(client));

  const first = await authorize({ as, prm, client, key, scope: 'mcp:tools' });
  const token = first.body.access_token;
  check(t('the token endpoint answers a request with a proof'), first.status === 200 && typeof token === 'string', `${first.status} ${first.body.error ?? ''}`);
  check(t('the token response says token_type DPoP (RFC 9449 §5)'), first.body.token_type === 'DPoP', first.body.token_type);
  if (opaque) {
    check(t('the token is opaque'), !token.includes('.'));
  } else {
    const claims = decodeJwt(token);
    check(t('the JWT is bound to the key: cnf.jkt is its thumbprint (RFC 9449 §6.1)'), claims.cnf?.jkt === key.thumbprint, JSON.stringify(claims.cnf));
  }

  const send = (u, init) => dpopFetch(key, token, u, init);
  const mcp = new McpSession(url);
  const retriedBefore = retries.resourceServer;
  const init = await mcp.initialize(send);
  // The example server requires nonces of its making (RFC 9449 §9): the first proof has
  // none, is refused with 401 use_dpop_nonce and a DPoP-Nonce, and the retry passes.
  check(t('the server demanded a DPoP nonce once, and the proof carrying it passed'), retries.resourceServer === retriedBefore + 1 && key.nonces.has(origin), `${retries.resourceServer - retriedBefore} retries`);
  check(t('initialize with Authorization: DPoP and a proof answers 200'), init.res.status === 200 && init.answer?.result?.protocolVersion !== undefined, `${init.res.status} ${init.body ?? JSON.stringify(init.answer)}`);
  check(t('the server gave a session id'), typeof mcp.sessionId === 'string');
  const initialized = await mcp.notify(send, 'notifications/initialized');
  check(t('notifications/initialized is accepted'), initialized.status === 202, `got ${initialized.status}`);
  const list = await mcp.request(send, 'tools/list');
  const tools = (list.answer?.result?.tools ?? []).map((x) => x.name);
  check(t('tools/list lists echo and whoami'), tools.includes('echo') && tools.includes('whoami'), `${list.res.status} ${JSON.stringify(tools)}`);
  const whoami = async (s) => (await mcp.request(s, 'tools/call', { name: 'whoami', arguments: {} })).answer?.result?.structuredContent;
  const who = await whoami(send);
  check(t('whoami: the request was sender-constrained'), who?.sender_constrained === true, JSON.stringify(who));
  check(t('whoami: the proved key is the jose key (its calculateJwkThumbprint)'), who?.dpop_jkt === key.thumbprint, JSON.stringify(who));
  check(t('whoami: the subject and client of the authorization'), who?.subject === 'test-user' && who?.client_id === client.client_id, JSON.stringify(who));

  // Step-up: `echo` needs `tools:call`, which this token lacks; the 403 names the scopes
  // to ask for, and the client authorizes again with them, with the same key.
  const echoCall = { name: 'echo', arguments: { message: 'hello with a DPoP-bound token' } };
  const refused = await mcp.request(send, 'tools/call', echoCall);
  const insufficient = parseChallenges(refused.res.headers.get('www-authenticate')).find((c) => c.params.error === 'insufficient_scope')?.params;
  const wanted = (insufficient?.scope ?? '').split(' ');
  check(t('echo without tools:call is 403 insufficient_scope naming tools:call'), refused.res.status === 403 && wanted.includes('tools:call') && wanted.includes('mcp:tools'), `${refused.res.status} ${refused.res.headers.get('www-authenticate')}`);
  const second = await authorize({ as, prm, client, key, scope: wanted.join(' ') });
  const stepped = second.body.access_token;
  check(t('the step-up token is DPoP-bound too'), second.status === 200 && second.body.token_type === 'DPoP', `${second.status} ${second.body.token_type}`);
  const sendStepped = (u, init) => dpopFetch(key, stepped, u, init);
  const echo = await mcp.request(sendStepped, 'tools/call', echoCall);
  check(t('after the step-up, in the same session, echo answers'), JSON.stringify(echo.answer?.result?.content ?? '').includes(echoCall.arguments.message), `${echo.res.status} ${echo.body ?? JSON.stringify(echo.answer)}`);
  const who2 = await whoami(sendStepped);
  check(t('whoami after the step-up: tools:call granted, still the jose key'), who2?.scopes?.includes('tools:call') && who2?.dpop_jkt === key.thumbprint, JSON.stringify(who2));

  await refusals({ t, mcp, url, origin, key, token: stepped });
}

/// Each refusal: its status and the `error` of the challenge of `scheme`; the token is
/// never echoed; then a good request still passes (refusals consumed nothing).
async function refusals({ t, mcp, url, origin, key, token }) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 9000, method: 'ping' });
  const init = () => ({ method: 'POST', headers: mcp.headers(), body });
  const expectRefused = async (what, res, scheme, error) => {
    const text = await res.text();
    const params = challengeOf(res, scheme);
    const dpop = challengeOf(res, 'dpop');
    check(
      t(`${what}: 401 with error="${error}" in the ${scheme === 'dpop' ? 'DPoP' : 'Bearer'} challenge`),
      res.status === 401 && params?.error === error && typeof params?.resource_metadata === 'string',
      `got ${res.status} ${res.headers.get('www-authenticate')}`,
    );
    check(t(`${what}: a DPoP challenge lists ES256 in algs`), (dpop?.algs ?? '').split(' ').includes('ES256'), res.headers.get('www-authenticate'));
    check(t(`${what}: the token is not echoed`), !text.includes(token) && !(res.headers.get('www-authenticate') ?? '').includes(token));
  };
  const good = await key.proof('POST', url, { token });
  const accepted = await sendRaw(url, init(), { scheme: 'DPoP', token, proof: good });
  await accepted.arrayBuffer();
  check(t('a ping with a good proof answers 200'), accepted.status === 200, `got ${accepted.status}`);
  await expectRefused('the same proof sent twice (RFC 9449 §11.1 replay)', await sendRaw(url, init(), { scheme: 'DPoP', token, proof: good }), 'dpop', 'invalid_dpop_proof');
  await expectRefused('a proof for GET on a POST (htm)', await sendRaw(url, init(), { scheme: 'DPoP', token, proof: await key.proof('GET', url, { token }) }), 'dpop', 'invalid_dpop_proof');
  await expectRefused('a proof for another URL (htu)', await sendRaw(url, init(), { scheme: 'DPoP', token, proof: await key.proof('POST', `${origin}/message`, { token }) }), 'dpop', 'invalid_dpop_proof');
  const other = await DpopKey.generate();
  // With the server's current nonce, which any client may learn: the key is what fails.
  const stolen = { token, nonce: key.nonces.get(origin) };
  await expectRefused('a proof by another key (thumbprint is not cnf.jkt)', await sendRaw(url, init(), { scheme: 'DPoP', token, proof: await other.proof('POST', url, stolen) }), 'dpop', 'invalid_dpop_proof');
  // Without a nonce too: the key is checked first (it needs no signature work either).
  await expectRefused('a proof by another key without a nonce', await sendRaw(url, init(), { scheme: 'DPoP', token, proof: await other.proof('POST', url, { token }) }), 'dpop', 'invalid_dpop_proof');
  await expectRefused('Authorization: DPoP without a DPoP header', await sendRaw(url, init(), { scheme: 'DPoP', token }), 'dpop', 'invalid_dpop_proof');
  await expectRefused('the bound token sent as Bearer (RFC 9449 §7.2)', await sendRaw(url, init(), { scheme: 'Bearer', token }), 'bearer', 'invalid_token');
  const after = await dpopFetch(key, token, url, init());
  await after.arrayBuffer();
  check(t('after the refusals, a new good proof answers 200'), after.status === 200, `got ${after.status}`);
}

/// A provider that does DPoP: the same session (key and nonces) for the life of the
/// registration, as the SDK asks.
class DpopProvider extends AutoApprovingProvider {
  session = DpopSession.create();
  dpop() {
    return this.session;
  }
}

/// `@modelcontextprotocol/client`'s own DPoP: its OAuth flow with a `dpop()` provider over
/// Streamable HTTP, the 403 step-up, and whoami naming the session's key.
export async function sdkFlow({ origin, opaque }) {
  const t = (text) => `Streamable HTTP /mcp: ${text}`;
  const url = new URL(`${origin}/mcp`);
  const { log, fetchFn: recorded } = recordingFetch();
  // What each request to the servers carried: its Authorization scheme and whether it had
  // a proof (never the token).
  const sent = [];
  const fetchFn = async (input, init) => {
    const h = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const u = new URL(input instanceof Request ? input.url : String(input));
    sent.push({ path: u.pathname, scheme: h.get('authorization')?.split(' ')[0], proof: h.get('dpop') ?? undefined });
    return recorded(input, init);
  };
  const provider = new DpopProvider();
  const session = await provider.session;
  let transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: fetchFn });
  let client = new Client({ name: 'mcp-oauth-interop-dpop', version: '2.0.0' });
  let unauthorized = false;
  try {
    await client.connect(transport);
  } catch (e) {
    unauthorized = e instanceof UnauthorizedError;
    if (!unauthorized) throw e;
  }
  check(t('the client is sent to authorize'), unauthorized);
  await transport.finishAuth(provider.callback);
  const tokenRequest = sent.find((s) => s.path.endsWith('/token'));
  check(t('the token request carried a DPoP proof'), tokenRequest?.proof !== undefined, JSON.stringify(sent.map(({ path, scheme, proof }) => ({ path, scheme, proof: proof !== undefined }))));
  const header = tokenRequest?.proof ? decodeProtectedHeader(tokenRequest.proof) : {};
  check(t('its proof is a dpop+jwt with the session key'), header.typ === 'dpop+jwt' && (await calculateJwkThumbprint(header.jwk ?? {}, 'sha256')) === session.thumbprint, JSON.stringify(header));
  const tokens = provider.savedTokens;
  check(t('the token response says token_type DPoP'), tokens?.token_type === 'DPoP', tokens?.token_type);
  if (!opaque) {
    check(t('the JWT is bound to the session key (cnf.jkt)'), decodeJwt(tokens.access_token).cnf?.jkt === session.thumbprint);
  }

  transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: fetchFn });
  client = new Client({ name: 'mcp-oauth-interop-dpop', version: '2.0.0' });
  const before = sent.length;
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((x) => x.name);
  check(t('tools/list lists echo and whoami'), tools.includes('echo') && tools.includes('whoami'), JSON.stringify(tools));
  const echoCall = { name: 'echo', arguments: { message: 'hello from the v2 client with DPoP' } };
  const logBefore = log.length;
  let error;
  try {
    await client.callTool(echoCall);
  } catch (e) {
    error = e;
  }
  const refusal = log.slice(logBefore).find((e) => e.origin === origin && e.path === '/mcp' && e.status === 403);
  check(t('echo is refused with 403 insufficient_scope'), refusal?.challenge.includes('error="insufficient_scope"'), JSON.stringify(refusal));
  check(t('the client is sent to re-authorize'), error instanceof UnauthorizedError, String(error));
  await transport.finishAuth(provider.callback);
  check(t('the step-up token is DPoP-bound too'), provider.savedTokens?.token_type === 'DPoP' && provider.savedTokens.access_token !== tokens.access_token);
  const echo = await client.callTool(echoCall);
  check(t('after the step-up, echo answers'), JSON.stringify(echo.content).includes(echoCall.arguments.message), JSON.stringify(echo));
  const who = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent;
  check(t('whoami: sender-constrained by the session key'), who?.sender_constrained === true && who?.dpop_jkt === session.thumbprint, JSON.stringify(who));
  await client.close();
  const toMcp = sent.slice(before).filter((s) => s.path === '/mcp');
  const notDpop = toMcp.filter((s) => s.scheme !== 'DPoP' || s.proof === undefined);
  check(t('every request to /mcp used the DPoP scheme with a proof'), toMcp.length > 0 && notDpop.length === 0, JSON.stringify(notDpop));
  const jtis = toMcp.filter((s) => s.proof !== undefined).map((s) => decodeJwt(s.proof).jti);
  check(t('each proof had its own jti'), new Set(jtis).size === jtis.length, `${jtis.length} proofs, ${new Set(jtis).size} jti`);
  // The example server requires its nonces (RFC 9449 §9): the client learnt one from a
  // 401 use_dpop_nonce and used it.
  const nonced = toMcp.filter((s) => s.proof !== undefined && decodeJwt(s.proof).nonce !== undefined);
  check(t('the server demanded a nonce and later proofs carried it (RFC 9449 §9)'), nonced.length > 0 && log.some((e) => e.path === '/mcp' && e.status === 401), `${nonced.length} of ${toMcp.length} proofs with a nonce`);
}

/// The client's RFC 9449 §9 handling, beyond what the example server shows (its nonces
/// last minutes, so a run never sees one replaced on a 200): a loopback server that refuses a proof without its current nonce with 401
/// `use_dpop_nonce` and a `DPoP-Nonce`, and hands a new nonce on each 200.
export async function nonceHandling() {
  const t = (text) => `use_dpop_nonce: ${text}`;
  let issued = 1;
  let current = 'nonce-1';
  const seen = [];
  const server = createServer((req, res) => {
    const proof = decodeJwt(req.headers.dpop ?? '');
    seen.push({ nonce: proof.nonce, jti: proof.jti, htu: proof.htu });
    if (proof.nonce !== current) {
      res.writeHead(401, {
        'www-authenticate': 'Bearer resource_metadata="x", DPoP algs="ES256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
        'dpop-nonce': current,
      });
      res.end();
      return;
    }
    issued += 1;
    current = `nonce-${issued}`;
    res.writeHead(200, { 'dpop-nonce': current, 'content-type': 'application/json' });
    res.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const start = retries.resourceServer;
  try {
    const url = `http://127.0.0.1:${server.address().port}/mcp?x=1`;
    const key = await DpopKey.generate();
    const first = await dpopFetch(key, 'a-token', url, { method: 'POST', body: '{}' });
    await first.arrayBuffer();
    check(t('the request is retried once, with the nonce of the 401, and passes'), first.status === 200 && seen.length === 2 && seen[0].nonce === undefined && seen[1].nonce === 'nonce-1', JSON.stringify(seen));
    check(t('the retry carries a new proof (another jti)'), seen[1]?.jti !== seen[0]?.jti);
    check(t('htu is the URL without its query'), seen.every((s) => s.htu === url.split('?')[0]), JSON.stringify(seen));
    const next = await dpopFetch(key, 'a-token', url, { method: 'POST', body: '{}' });
    await next.arrayBuffer();
    check(t('the next proof carries the nonce the 200 gave, without a retry'), next.status === 200 && seen.length === 3 && seen[2].nonce === 'nonce-2', JSON.stringify(seen));
    check(t('one retry was counted'), retries.resourceServer - start === 1, JSON.stringify(retries));
  } finally {
    server.close();
    // The count is of the example servers' nonces only.
    retries.resourceServer = start;
  }
}
