import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Idp } from '../../lab/index.mjs';
import { basicAuth } from '../../lab/index.mjs';

export interface Loopback {
  port: number;
  redirectUri: string;
  /** Every request the loopback server received (path + query). */
  received: URL[];
  close(): Promise<void>;
}

/** A client's loopback redirect server, as a native app would start it (RFC 8252 §7.3). */
export async function startLoopback(path = '/oauth2/callback'): Promise<Loopback> {
  const received: URL[] = [];
  const server = http.createServer((req, res) => {
    received.push(new URL(req.url ?? '/', 'http://127.0.0.1'));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('You can close this window.');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    port: address.port,
    redirectUri: `http://127.0.0.1:${address.port}${path}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(
  idp: Idp,
  options: { redirectUri: string; challenge: string; state: string; scope?: string; loginHint?: string },
): string {
  const url = new URL(idp.authorizationEndpoint);
  url.search = new URLSearchParams({
    client_id: idp.clients.native.client_id,
    response_type: 'code',
    redirect_uri: options.redirectUri,
    scope: options.scope ?? 'openid api:read',
    state: options.state,
    code_challenge: options.challenge,
    code_challenge_method: 'S256',
    ...(options.loginHint ? { login_hint: options.loginHint } : {}),
  }).toString();
  return url.href;
}

export interface TokenResponse {
  status: number;
  contentType: string;
  headers: Headers;
  text: string;
  json: Record<string, any> | undefined;
}

/** POST the token endpoint with plain fetch; `basic` sends client_secret_basic. */
export async function postToken(
  idp: Idp,
  params: Record<string, string>,
  options: { basic?: [string, string]; url?: string } = {},
): Promise<TokenResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (options.basic) headers.authorization = basicAuth(options.basic[0], options.basic[1]);
  const res = await fetch(options.url ?? idp.tokenEndpoint, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params),
    redirect: 'manual',
  });
  const text = await res.text();
  let json: Record<string, any> | undefined;
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', headers: res.headers, text, json };
}

/** Run the whole authorization_code + PKCE flow and return the token response. */
export async function loginWithCode(idp: Idp, loginHint = 'alice'): Promise<Record<string, any>> {
  const loopback = await startLoopback();
  try {
    const { verifier, challenge } = pkcePair();
    await idp.browserLogin(authorizeUrl(idp, { redirectUri: loopback.redirectUri, challenge, state: 's', loginHint }));
    const code = loopback.received[0]?.searchParams.get('code');
    if (!code) throw new Error('no code delivered');
    const res = await postToken(idp, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: loopback.redirectUri,
      client_id: idp.clients.native.client_id,
      code_verifier: verifier,
    });
    if (res.status !== 200 || !res.json) throw new Error(`code exchange failed: ${res.status}`);
    return res.json;
  } finally {
    await loopback.close();
  }
}

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
