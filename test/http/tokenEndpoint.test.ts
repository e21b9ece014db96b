import { exportJWK, generateKeyPair, jwtVerify, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenError } from '../../src/errors.js';
import { createTokenEndpointAdapter } from '../../src/adapters/http/index.js';
import { processTokenResponse } from '../../src/adapters/http/tokenEndpoint.js';
import type { ClientAuth, TokenRequest } from '../../src/adapters/http/types.js';
import { capturingLogger, expectNoSecrets, recordingSleep, rejection, SECRETS } from './support/harness.js';
import { expectNoSecretsCollected } from './support/harness.js';
import { hang, json, redirect, refusedPort, reset, startScriptedServer, text, type ScriptedServer } from './support/scriptedServer.js';

const T0 = 1_700_000_000_000;
let server: ScriptedServer;
let path = 0;
/** A fresh token endpoint path per test, so scripts never leak between tests. */
const nextPath = () => `/t${++path}/token`;

beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
  expectNoSecretsCollected();
});

const secretBasic: ClientAuth = { method: 'client_secret_basic', clientId: 'app', clientSecret: SECRETS.clientSecret };
const secretPost: ClientAuth = { method: 'client_secret_post', clientId: 'app', clientSecret: SECRETS.clientSecret };

function setup(options: { now?: () => number; random?: () => number; onSleep?: (ms: number, call: number) => void | Promise<void> } = {}) {
  const { logger, records } = capturingLogger();
  const sleep = recordingSleep(options.onSleep);
  const adapter = createTokenEndpointAdapter({ sleep: sleep.sleep, random: options.random ?? (() => 0.5), now: options.now ?? (() => T0), logger, timeoutMs: 2_000 });
  return { adapter, records, sleeps: sleep.calls };
}

function request(tokenPath: string, overrides: Partial<TokenRequest> = {}): TokenRequest {
  return {
    providerId: 'corp',
    tokenEndpoint: `${server.url}${tokenPath}`,
    grantType: 'client_credentials',
    params: { scope: 'models:read' },
    clientAuth: secretPost,
    ...overrides,
  };
}

/** A JWT-shaped value (header.payload.sig) for code that only reads claims, never verifies. */
const unsignedJwt = (claims: Record<string, unknown>) =>
  `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

const okToken = (extra: Record<string, unknown> = {}) => json(200, { access_token: SECRETS.accessToken, token_type: 'Bearer', expires_in: 3600, ...extra });

describe('client authentication', () => {
  it('client_secret_basic form-encodes id and secret before base64 and keeps the secret out of the body', async () => {
    const p = nextPath();
    server.script(p, okToken());
    const { adapter } = setup();
    const clientAuth: ClientAuth = { method: 'client_secret_basic', clientId: 'my app:1', clientSecret: SECRETS.clientSecret };
    await adapter.requestToken(request(p, { clientAuth }));
    const [seen] = server.seen(p);
    const header = String(seen!.headers.authorization);
    expect(header).toMatch(/^Basic /);
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    // RFC 6749 §2.3.1: each half is application/x-www-form-urlencoded, so ':' inside them is %3A.
    expect(decoded).toBe('my+app%3A1:cs-Very%24ecret%3A8f3a%2F9b2c');
    const [id, secret] = decoded.split(':').map((half) => decodeURIComponent(half.replace(/\+/g, ' ')));
    expect(id).toBe('my app:1');
    expect(secret).toBe(SECRETS.clientSecret);
    expect(seen!.form.has('client_secret')).toBe(false);
    expect(seen!.form.get('grant_type')).toBe('client_credentials');
    expect(seen!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen!.headers.accept).toBe('application/json');
    expect(seen!.headers['user-agent']).toBe('opencode-oauth-machines');
  });

  it('client_secret_post sends client_id and client_secret in the body, no Authorization header', async () => {
    const p = nextPath();
    server.script(p, okToken());
    const { adapter } = setup();
    await adapter.requestToken(request(p));
    const [seen] = server.seen(p);
    expect(seen!.headers.authorization).toBeUndefined();
    expect(seen!.form.get('client_id')).toBe('app');
    expect(seen!.form.get('client_secret')).toBe(SECRETS.clientSecret);
    expect(seen!.form.get('scope')).toBe('models:read');
  });

  it('none sends only client_id, and leaves out undefined parameters', async () => {
    const p = nextPath();
    server.script(p, okToken());
    const { adapter } = setup();
    await adapter.requestToken(
      request(p, {
        grantType: 'authorization_code',
        clientAuth: { method: 'none', clientId: 'public-cli' },
        params: { code: SECRETS.code, code_verifier: SECRETS.codeVerifier, redirect_uri: 'http://127.0.0.1:5/cb', resource: undefined },
      }),
    );
    const [seen] = server.seen(p);
    expect(seen!.headers.authorization).toBeUndefined();
    expect([...seen!.form.keys()].sort()).toEqual(['client_id', 'code', 'code_verifier', 'grant_type', 'redirect_uri']);
    expect(seen!.form.get('client_id')).toBe('public-cli');
  });

  it('private_key_jwt signs a fresh assertion per attempt that verifies against the public key (RFC 7523 §2.2)', async () => {
    const p = nextPath();
    server.script(p, text(503, 'busy'), okToken());
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'key-1' };
    const { adapter } = setup({ now: () => Date.now() });
    const tokenEndpoint = `${server.url}${p}`;
    await adapter.requestToken(request(p, { clientAuth: { method: 'private_key_jwt', clientId: 'ci-client', privateKey: jwk } }));
    const seen = server.seen(p);
    expect(seen).toHaveLength(2);
    const jtis = new Set<string>();
    for (const attempt of seen) {
      expect(attempt.form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      expect(attempt.form.get('client_id')).toBe('ci-client');
      const assertion = attempt.form.get('client_assertion')!;
      const { payload, protectedHeader } = await jwtVerify(assertion, publicKey, { issuer: 'ci-client', subject: 'ci-client', audience: tokenEndpoint });
      expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: 'key-1' });
      expect(payload.exp! - payload.iat!).toBe(60);
      expect(typeof payload.jti).toBe('string');
      jtis.add(payload.jti!);
    }
    expect(jtis.size).toBe(2);
  });

  it('private_key_jwt honours a configured audience and rejects a public JWK with a config error', async () => {
    const p = nextPath();
    server.script(p, okToken());
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const { adapter } = setup({ now: () => Date.now() });
    await adapter.requestToken(
      request(p, { clientAuth: { method: 'private_key_jwt', clientId: 'c', privateKey: await exportJWK(privateKey), audience: 'https://idp.example/realms/x' } }),
    );
    expect(decodeJwt(server.seen(p)[0]!.form.get('client_assertion')!).aud).toBe('https://idp.example/realms/x');

    const error = await rejection(adapter.requestToken(request(p, { clientAuth: { method: 'private_key_jwt', clientId: 'c', privateKey: await exportJWK(publicKey) } })));
    expect(error).toBeInstanceOf(TokenError);
    expect(error.code).toBe('config');
    expect(error.message).toContain('"privateKey"');
    expect(server.seen(p)).toHaveLength(1);
  });
});

describe('token responses', () => {
  it.each([
    ['a number', 3600, 3600_000, false],
    ['a numeric string', '3599', 3599_000, false],
    ['missing', undefined, 300_000, true],
    ['garbage', 'soon', 300_000, true],
    ['zero', 0, 300_000, true],
    ['negative', -5, 300_000, true],
  ])('expires_in as %s', async (_label, expiresIn, lifetimeMs, assumed) => {
    const p = nextPath();
    server.script(p, json(200, { access_token: SECRETS.accessToken, token_type: 'bearer', ...(expiresIn === undefined ? {} : { expires_in: expiresIn }) }));
    const { adapter } = setup();
    const token = await adapter.requestToken(request(p));
    expect(token.expiresAt).toBe(T0 + lifetimeMs);
    expect(token.issuedAt).toBe(T0);
    expect(token.expiryAssumed === true).toBe(assumed);
    expect(token.tokenType).toBe('Bearer');
  });

  it('counts expiry from the request start, not from the answer', async () => {
    const p = nextPath();
    let clock = T0;
    server.script(p, async (req, res) => {
      clock += 7_000; // the IdP takes 7 s to answer
      await json(200, { access_token: SECRETS.accessToken, expires_in: 60 })(req, res, undefined as never);
    });
    const { adapter } = setup({ now: () => clock });
    const token = await adapter.requestToken(request(p));
    expect(token.issuedAt).toBe(T0);
    expect(token.expiresAt).toBe(T0 + 60_000);
  });

  it('uses the configured assumed lifetime when expires_in is missing', async () => {
    const p = nextPath();
    server.script(p, json(200, { access_token: SECRETS.accessToken }));
    const { adapter } = setup();
    const token = await adapter.requestToken(request(p, { assumedLifetimeSec: 45 }));
    expect(token).toMatchObject({ expiresAt: T0 + 45_000, expiryAssumed: true, tokenType: 'Bearer' });
  });

  it('normalises token_type and keeps refresh_in, scope, issued_token_type, id_token and the refresh token', async () => {
    const p = nextPath();
    server.script(
      p,
      json(200, {
        access_token: SECRETS.accessToken,
        token_type: 'BEARER',
        expires_in: 1800,
        refresh_in: 600,
        refresh_token: SECRETS.newRefreshToken,
        scope: 'openid models:read',
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        id_token: SECRETS.assertion,
      }),
    );
    const { adapter } = setup();
    const token = await adapter.requestToken(request(p));
    expect(token).toEqual({
      accessToken: SECRETS.accessToken,
      tokenType: 'Bearer',
      issuedAt: T0,
      expiresAt: T0 + 1_800_000,
      refreshBy: T0 + 600_000,
      refreshToken: SECRETS.newRefreshToken,
      scope: 'openid models:read',
      issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
      idToken: SECRETS.assertion,
    });
  });

  it.each(['dpop', 'DPoP', 'mac', 'pop'])('refuses token_type %s with a protocol error naming the type (only Bearer can be presented)', (type) => {
    const headers = new Headers({ 'content-type': 'application/json' });
    let error: unknown;
    try {
      processTokenResponse('corp', 200, headers, JSON.stringify({ access_token: SECRETS.accessToken, token_type: type, expires_in: 60 }), T0);
    } catch (caught) {
      error = caught;
    }
    // Before (661bc6b): accepted ("DPoP", or the value verbatim), and the gateway's 401 came later.
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'protocol' });
    expect((error as Error).message).toContain('"token_type" is "');
    expect((error as Error).message.toLowerCase()).toContain(type.toLowerCase());
    expect((error as Error).message).not.toContain(SECRETS.accessToken);
  });

  it('takes Bearer in any case and N_A as Bearer, and treats an empty refresh_token as absent', () => {
    const headers = new Headers({ 'content-type': 'application/json' });
    expect(processTokenResponse('corp', 200, headers, JSON.stringify({ access_token: 'x', token_type: 'bEaReR', expires_in: 60 }), T0).tokenType).toBe('Bearer');
    const na = processTokenResponse('corp', 200, headers, JSON.stringify({ access_token: 'x', token_type: 'N_A', refresh_token: '' }), T0);
    expect(na.tokenType).toBe('Bearer');
    expect(na.refreshToken).toBeUndefined();
  });

  it('accepts a form-encoded success body (GitHub style)', async () => {
    const p = nextPath();
    server.script(p, text(200, `access_token=${SECRETS.accessToken}&scope=repo%2Cgist&token_type=bearer`, 'application/x-www-form-urlencoded; charset=utf-8'));
    const { adapter } = setup();
    const token = await adapter.requestToken(request(p));
    expect(token).toMatchObject({ accessToken: SECRETS.accessToken, tokenType: 'Bearer', scope: 'repo,gist', expiryAssumed: true });
  });

  it('names the field when access_token is missing or empty, without echoing the body', async () => {
    const p = nextPath();
    server.script(p, json(200, { token_type: 'Bearer', refresh_token: SECRETS.newRefreshToken }), json(200, { access_token: '' }));
    const { adapter, records } = setup();
    const missing = await rejection(adapter.requestToken(request(p)));
    expect(missing.code).toBe('protocol');
    expect(missing.message).toBe('[corp] token response "access_token" must be a non-empty string — the IdP answered outside RFC 6749 §5.1; check tokenEndpoint and the IdP version');
    const empty = await rejection(adapter.requestToken(request(p)));
    expect(empty.message).toContain('"access_token" must be a non-empty string');
    expectNoSecrets([missing.message, empty.message, records]);
  });

  it('rejects a 200 HTML login page as a protocol error with a short text preview', async () => {
    const p = nextPath();
    server.script(p, text(200, '<!doctype html><html><head><title>Sign in – Corp SSO</title><script>var x=1</script></head><body><form>…</form></body></html>', 'text/html'));
    const { adapter } = setup();
    const error = await rejection(adapter.requestToken(request(p)));
    expect(error.code).toBe('protocol');
    expect(error.message).toContain('text/html: Sign in – Corp SSO');
    expect(error.message).not.toMatch(/<|script/);
  });
});

describe('error responses', () => {
  it('maps invalid_client to a fix naming the secret and the auth method, scrubbing an echoed secret', async () => {
    const p = nextPath();
    server.script(p, json(401, { error: 'invalid_client', error_description: `client secret ${SECRETS.clientSecret} does not match` }));
    const { adapter, records } = setup();
    const error = await rejection(adapter.requestToken(request(p, { clientAuth: secretBasic })));
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401, oauthError: 'invalid_client', providerId: 'corp' });
    expect(error.message).toContain('[corp] token endpoint');
    expect(error.message).toContain('refused the client_credentials request: invalid_client (client secret [redacted] does not match) (HTTP 401)');
    expect(error.message).toContain("check clientId/clientSecret and the client's token_endpoint_auth_method");
    expectNoSecrets([error.message, JSON.stringify((error as unknown as TokenError).toJSON()), records]);
    expect(server.seen(p)).toHaveLength(1); // 401 is never retried
  });

  it('maps unsupported_grant_type on token exchange to "enable token exchange"', async () => {
    const p = nextPath();
    server.script(p, json(400, { error: 'unsupported_grant_type', error_description: 'Unsupported grant_type' }));
    const { adapter, records } = setup();
    const error = await rejection(
      adapter.requestToken(
        request(p, {
          grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
          params: { subject_token: SECRETS.assertion, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', audience: 'gateway' },
        }),
      ),
    );
    expect(error).toMatchObject({ code: 'unsupported_grant_type', status: 400 });
    expect(error.message).toContain('refused the token_exchange request');
    expect(error.message).toContain('enable token exchange for this client at the IdP');
    expectNoSecrets([error.message, records]);
  });

  it('maps a form-encoded invalid_grant on refresh, with the refresh token echoed and scrubbed', async () => {
    const p = nextPath();
    server.script(p, text(400, `error=invalid_grant&error_description=refresh_token%3D${SECRETS.refreshToken}+was+revoked`, 'application/x-www-form-urlencoded'));
    const { adapter, records } = setup();
    const error = await rejection(adapter.requestToken(request(p, { grantType: 'refresh_token', params: { refresh_token: SECRETS.refreshToken } })));
    expect(error).toMatchObject({ code: 'invalid_grant', oauthError: 'invalid_grant' });
    expect(error.message).toContain('refresh_token=[redacted] was revoked');
    expect(error.message).toContain('sign in again');
    expectNoSecrets([error.message, records]);
  });

  it('treats an OAuth error inside a 200 body as an error (GitHub answers errors with 200)', async () => {
    const p = nextPath();
    server.script(p, text(200, 'error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.', 'application/x-www-form-urlencoded'));
    const { adapter } = setup();
    const error = await rejection(adapter.requestToken(request(p, { grantType: 'authorization_code', params: { code: SECRETS.code } })));
    expect(error).toMatchObject({ code: 'protocol', oauthError: 'bad_verification_code', status: 200 });
    expect(error.message).toContain('The code passed is incorrect or expired.');
  });

  it('retries an HTML 503 with full jitter, then fails transient without HTML noise', async () => {
    const p = nextPath();
    const page = `<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>Service Temporarily Unavailable</h1><p>upstream said refresh_token=${SECRETS.refreshToken}</p><hr><center>nginx</center></body></html>`;
    server.script(p, text(503, page, 'text/html'));
    const { adapter, sleeps, records } = setup({ random: () => 0.5 });
    const error = await rejection(adapter.requestToken(request(p)));
    expect(server.seen(p)).toHaveLength(3);
    expect(sleeps).toEqual([125, 250]); // 0.5·min(250·2^i, 10 s) for i = 0, 1
    expect(error).toMatchObject({ code: 'transient', status: 503 });
    expect(error.message).toContain('answered HTTP 503 (text/html: 503 Service Temporarily Unavailable)');
    expect(error.message).not.toMatch(/<|nginx/);
    expect(records.filter((r) => r.event === 'http_retry_scheduled')).toHaveLength(2);
    expectNoSecrets([error.message, records]);
  });

  it('honours Retry-After in seconds on 429 and then succeeds', async () => {
    const p = nextPath();
    server.script(p, text(429, 'slow down', 'text/plain', { 'retry-after': '7' }), okToken());
    const { adapter, sleeps } = setup();
    const token = await adapter.requestToken(request(p));
    expect(token.accessToken).toBe(SECRETS.accessToken);
    expect(sleeps).toEqual([7_000]);
    expect(server.seen(p)).toHaveLength(2);
  });

  it('honours Retry-After as an HTTP date, and caps it at 60 s', async () => {
    const p = nextPath();
    const now = Date.parse('2026-01-01T10:00:00Z');
    server.script(
      p,
      text(503, 'later', 'text/plain', { 'retry-after': 'Thu, 01 Jan 2026 10:00:05 GMT' }),
      text(503, 'much later', 'text/plain', { 'retry-after': '3600' }),
      okToken(),
    );
    const { adapter, sleeps } = setup({ now: () => now });
    await adapter.requestToken(request(p, { deadline: now + 10 * 60_000 }));
    expect(sleeps).toEqual([5_000, 60_000]);
  });

  it('gives up at once when Retry-After would pass the deadline, reporting it', async () => {
    const p = nextPath();
    server.script(p, text(429, 'quota', 'text/plain', { 'retry-after': '45' }));
    const { adapter, sleeps } = setup();
    const error = await rejection(adapter.requestToken(request(p))); // default deadline: 30 s
    expect(sleeps).toEqual([]);
    expect(server.seen(p)).toHaveLength(1);
    expect(error).toMatchObject({ code: 'transient', status: 429, retryAfterMs: 45_000 });
  });

  it('does not follow a redirect from the token endpoint', async () => {
    const p = nextPath();
    server.script(p, redirect(302, `${server.url}/elsewhere?code=${SECRETS.code}`));
    server.script('/elsewhere', okToken());
    const { adapter } = setup();
    const error = await rejection(adapter.requestToken(request(p)));
    expect(error).toMatchObject({ code: 'protocol', status: 302 });
    expect(error.message).toContain(`answered a redirect (HTTP 302 to ${server.url}/elsewhere)`);
    expect(server.seen('/elsewhere')).toHaveLength(0);
    expect(server.seen(p)).toHaveLength(1);
    expectNoSecrets([error.message]);
  });
});

describe('timeouts and the one-shot refresh', () => {
  it('ends a hung server with a timeout error after the per-attempt timeouts', async () => {
    const p = nextPath();
    server.script(p, hang);
    const { adapter, sleeps } = setup({ now: Date.now });
    const error = await rejection(adapter.requestToken(request(p, { timeoutMs: 150 })));
    expect(error).toMatchObject({ code: 'timeout' });
    expect(error.message).toContain('no answer before the per-attempt timeout after 3 attempts');
    expect(server.seen(p)).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('stops at the overall deadline even when the per-attempt timeout is longer', async () => {
    const p = nextPath();
    server.script(p, hang);
    const { adapter } = setup({ now: Date.now });
    const error = await rejection(adapter.requestToken(request(p, { timeoutMs: 20_000, deadline: Date.now() + 200 })));
    expect(error.code).toBe('timeout');
    expect(server.seen(p)).toHaveLength(1);
  });

  it('re-sends a refresh whose connection was refused (nothing was sent) and succeeds', async () => {
    const port = await refusedPort();
    let late: ScriptedServer | undefined;
    const { adapter, sleeps } = setup({
      onSleep: async () => {
        // The IdP comes up while we back off.
        late ??= await startScriptedServer(port);
        late.script('/token', json(200, { access_token: SECRETS.accessToken, refresh_token: SECRETS.newRefreshToken, expires_in: 300 }));
      },
    });
    try {
      const token = await adapter.requestToken({
        providerId: 'corp',
        tokenEndpoint: `http://127.0.0.1:${port}/token`,
        grantType: 'refresh_token',
        params: { refresh_token: SECRETS.refreshToken },
        clientAuth: secretPost,
        oneShot: true,
      });
      expect(token.refreshToken).toBe(SECRETS.newRefreshToken);
      expect(sleeps).toHaveLength(1);
      expect(late!.seen('/token')).toHaveLength(1);
      expect(late!.seen('/token')[0]!.form.get('refresh_token')).toBe(SECRETS.refreshToken);
    } finally {
      await late?.close();
    }
  });

  it('reports refused connections as transient and notSent after three attempts', async () => {
    const port = await refusedPort();
    const { adapter, records } = setup();
    const error = await rejection(
      adapter.requestToken({ providerId: 'corp', tokenEndpoint: `http://127.0.0.1:${port}/token`, grantType: 'refresh_token', params: { refresh_token: SECRETS.refreshToken }, clientAuth: secretPost }),
    );
    expect(error).toMatchObject({ code: 'transient', notSent: true });
    expect(error.message).toContain('could not connect (ECONNREFUSED) after 3 attempts');
    expectNoSecrets([error.message, records]);
  });

  it.each([
    ['a timeout after sending', hang],
    ['a reset after sending', reset],
    ['a 500 after sending', text(500, '<html><title>Internal Server Error</title></html>', 'text/html')],
  ])('turns %s of a refresh into "uncertain" with exactly one request at the server', async (_label, script) => {
    const p = nextPath();
    server.script(p, script);
    const { adapter, sleeps, records } = setup({ now: Date.now });
    // oneShot is the default for the refresh_token grant.
    const error = await rejection(adapter.requestToken(request(p, { grantType: 'refresh_token', params: { refresh_token: SECRETS.refreshToken }, timeoutMs: 150 })));
    expect(error).toMatchObject({ code: 'uncertain' });
    expect(error.message).toContain('the refresh token may already be spent');
    expect(server.seen(p)).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expectNoSecrets([error.message, records]);
  });

  it.each([502, 503, 504])('a %i from a proxy on a refresh is an answer, not a lost one: transient, never re-sent', async (status) => {
    const p = nextPath();
    server.script(p, text(status, `<html><title>${status}</title><center>nginx</center></html>`, 'text/html'), okToken());
    const { adapter, sleeps } = setup();
    const error = await rejection(adapter.requestToken(request(p, { grantType: 'refresh_token', params: { refresh_token: SECRETS.refreshToken } })));
    // Before (661bc6b): code "uncertain", which retires the refresh token and drops a valid session.
    expect(error).toMatchObject({ code: 'transient', status });
    expect(error.message).not.toContain('may already be spent');
    expect(server.seen(p)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('re-sends a refresh whose connection was refused (nothing left this machine), once the server is up', async () => {
    const port = await refusedPort();
    let late: ScriptedServer | undefined;
    const { adapter } = setup({
      onSleep: async () => {
        late ??= await startScriptedServer(port);
        late.script('/token', okToken({ refresh_token: SECRETS.newRefreshToken }));
      },
    });
    try {
      const token = await adapter.requestToken({ providerId: 'corp', tokenEndpoint: `http://127.0.0.1:${port}/token`, grantType: 'refresh_token', params: { refresh_token: SECRETS.refreshToken }, clientAuth: secretPost });
      expect(token.refreshToken).toBe(SECRETS.newRefreshToken);
      expect(late!.seen('/token')).toHaveLength(1);
    } finally {
      await late?.close();
    }
  });

  it.each([
    ['authorization_code', { code: 'code-4f9a1c2e7b', redirect_uri: 'http://127.0.0.1:1/cb', code_verifier: 'v'.repeat(43) }, 'the authorization code'],
    ['urn:ietf:params:oauth:grant-type:device_code', { device_code: 'dc-9f8e7d6c5b4a' }, 'the device code'],
  ])('never re-sends a %s request whose answer was lost', async (grantType, params, credential) => {
    const p = nextPath();
    server.script(p, hang, okToken());
    const { adapter, sleeps } = setup({ now: Date.now });
    const error = await rejection(adapter.requestToken(request(p, { grantType, params, timeoutMs: 150 })));
    // Before (661bc6b): re-sent after the timeout (2 requests), so a reused code revoked what it bought.
    expect(error).toMatchObject({ code: 'uncertain' });
    expect(error.message).toContain(`${credential} may already be spent`);
    expect(server.seen(p)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('never re-sends an assertion or subject token carrying a jti, but re-sends one without', async () => {
    const withJti = unsignedJwt({ iss: 'ci', sub: 'repo', jti: 'jti-1', exp: 4_102_444_800 });
    const withoutJti = unsignedJwt({ iss: 'ci', sub: 'repo', exp: 4_102_444_800 });
    for (const [grantType, name] of [['urn:ietf:params:oauth:grant-type:jwt-bearer', 'assertion'], ['urn:ietf:params:oauth:grant-type:token-exchange', 'subject_token']] as const) {
      const lost = nextPath();
      server.script(lost, reset, okToken());
      const { adapter } = setup();
      const error = await rejection(adapter.requestToken(request(lost, { grantType, params: { [name]: withJti } })));
      expect(error).toMatchObject({ code: 'uncertain' });
      expect(server.seen(lost)).toHaveLength(1);
      const retried = nextPath();
      server.script(retried, reset, okToken());
      await adapter.requestToken(request(retried, { grantType, params: { [name]: withoutJti } }));
      expect(server.seen(retried)).toHaveLength(2);
    }
  });

  it('sends a federated client assertion read once per request, and never re-sends one carrying a jti', async () => {
    const federated = unsignedJwt({ iss: 'https://token.actions.githubusercontent.com', sub: 'repo:o/r', aud: 'api://AzureADTokenExchange', jti: 'jti-fed-1', exp: 4_102_444_800 });
    let reads = 0;
    const clientAuth: ClientAuth = { method: 'client_assertion', clientId: 'app-id', readAssertion: async () => (reads++, federated) };
    const ok = nextPath();
    server.script(ok, okToken());
    const { adapter, records } = setup();
    await adapter.requestToken(request(ok, { clientAuth }));
    const [seen] = server.seen(ok);
    expect(seen!.form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(seen!.form.get('client_assertion')).toBe(federated);
    expect(seen!.form.get('client_id')).toBe('app-id');
    expect(seen!.headers.authorization).toBeUndefined();
    const lost = nextPath();
    server.script(lost, reset, okToken());
    const error = await rejection(adapter.requestToken(request(lost, { clientAuth })));
    expect(error).toMatchObject({ code: 'uncertain' });
    expect(error.message).toContain('the client assertion may already be spent');
    expect(server.seen(lost)).toHaveLength(1);
    expect(reads).toBe(2);
    expectNoSecrets([error.message, records, JSON.stringify(records)].concat([]));
    expect(JSON.stringify(records)).not.toContain(federated);
  });

  it('holds a JWT access token no longer than its own exp, translated by the offset learnt from the Date header', async () => {
    const skewMs = -10 * 60_000; // this machine is 10 min behind the IdP
    const serverNowSec = Math.floor(Date.now() / 1000);
    const p = nextPath();
    const jwt = unsignedJwt({ iat: serverNowSec, exp: serverNowSec + 120, sub: 'u' });
    // expires_in says an hour; the token's own exp (server clock) says two minutes.
    server.script(p, json(200, { access_token: jwt, token_type: 'Bearer', expires_in: 3600 }));
    const { adapter } = setup({ now: () => Date.now() + skewMs });
    const started = Date.now() + skewMs;
    const token = await adapter.requestToken(request(p));
    // Before (661bc6b): expiresAt = start + 3600 s, 58 min after the IdP considers it expired.
    expect(token.expiresAt).toBeLessThanOrEqual(started + 122_000);
    expect(token.expiresAt).toBeGreaterThan(started + 115_000);
  });

  it('takes expires_in as it is for an opaque token, whatever the skew', async () => {
    const p = nextPath();
    server.script(p, okToken());
    const { adapter } = setup({ now: () => Date.now() + 10 * 60_000 });
    const token = await adapter.requestToken(request(p));
    expect(token.expiresAt - token.issuedAt).toBe(3_600_000);
  });

  it('does not re-send a refresh answered 429, but reports it transient (the server did not act on it)', async () => {
    const p = nextPath();
    server.script(p, text(429, 'rate limited', 'text/plain', { 'retry-after': '2' }), okToken());
    const { adapter, sleeps } = setup();
    const error = await rejection(adapter.requestToken(request(p, { grantType: 'refresh_token', params: { refresh_token: SECRETS.refreshToken } })));
    expect(error).toMatchObject({ code: 'transient', status: 429, retryAfterMs: 2_000 });
    expect(server.seen(p)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries a reset for a non-one-shot grant', async () => {
    const p = nextPath();
    server.script(p, reset, okToken());
    const { adapter } = setup();
    const token = await adapter.requestToken(request(p));
    expect(token.accessToken).toBe(SECRETS.accessToken);
    expect(server.seen(p)).toHaveLength(2);
  });

  it('rejects a malformed endpoint with a config error before any request', async () => {
    const { adapter } = setup();
    const error = await rejection(adapter.requestToken({ ...request('/x'), tokenEndpoint: `https://user:${encodeURIComponent(SECRETS.clientSecret)}@idp.example/token` }));
    expect(error.code).toBe('config');
    expect(error.message).toContain('"tokenEndpoint" must not carry credentials');
    expectNoSecrets([error.message]);
  });
});

describe('logging', () => {
  it('logs start and success with a fingerprint, never a secret', async () => {
    const p = nextPath();
    server.script(p, json(200, { access_token: SECRETS.accessToken, refresh_token: SECRETS.newRefreshToken, expires_in: 600, token_type: 'bearer' }));
    const { adapter, records } = setup();
    await adapter.requestToken(request(p, { grantType: 'refresh_token', params: { refresh_token: SECRETS.refreshToken }, clientAuth: secretBasic }));
    const success = records.find((r) => r.event === 'token_request_succeeded');
    expect(success?.fields).toMatchObject({ providerId: 'corp', grant: 'refresh_token', tokenType: 'Bearer', hasRefreshToken: true, lifetimeSec: 600, expiryAssumed: false });
    expect(success?.fields.accessTokenFp).toMatch(/^[0-9a-f]{8}$/);
    expect(records.find((r) => r.event === 'token_request_started')?.fields.endpoint).toBe(`${server.url}${p}`);
    expectNoSecrets([records]);
  });
});
