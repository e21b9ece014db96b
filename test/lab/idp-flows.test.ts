import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, startIdp, type CiIssuer, type Idp } from '../../lab/index.mjs';
import {
  authorizeUrl,
  DEVICE_GRANT,
  JWT_BEARER,
  JWT_TOKEN_TYPE,
  loginWithCode,
  pkcePair,
  postToken,
  startLoopback,
  TOKEN_EXCHANGE,
} from './helpers.js';

let ci: CiIssuer;
let idp: Idp;

beforeAll(async () => {
  ci = await startCiIssuer();
  idp = await startIdp({ ciIssuer: ci, accessTokenTtl: 120 });
});

afterAll(async () => {
  await idp?.stop();
  await ci?.stop();
});

describe('lab IdP: discovery and user flows', () => {
  it('discovery lists every grant the lab serves, and nothing implicit', async () => {
    const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    const discovery = (await res.json()) as Record<string, any>;
    expect(discovery.issuer).toBe(idp.issuer);
    expect(discovery.token_endpoint).toBe(idp.tokenEndpoint);
    expect(discovery.device_authorization_endpoint).toBe(idp.deviceAuthorizationEndpoint);
    expect(discovery.introspection_endpoint).toBe(idp.introspectionEndpoint);
    expect(discovery.revocation_endpoint).toBe(idp.revocationEndpoint);
    expect([...discovery.grant_types_supported].sort()).toEqual(
      ['authorization_code', 'client_credentials', 'refresh_token', DEVICE_GRANT, JWT_BEARER, TOKEN_EXCHANGE].sort(),
    );
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('authorization_code + PKCE: browserLogin delivers code, state and iss to the loopback server on any port', async () => {
    const loopback = await startLoopback('/callback');
    try {
      const { verifier, challenge } = pkcePair();
      const { callbackUrl, status } = await idp.browserLogin(
        authorizeUrl(idp, { redirectUri: loopback.redirectUri, challenge, state: 'st-1', loginHint: 'bob' }),
      );
      expect(status).toBe(200);
      expect(new URL(callbackUrl).port).toBe(String(loopback.port));
      const callback = loopback.received[0];
      expect(callback?.pathname).toBe('/callback');
      expect(callback?.searchParams.get('state')).toBe('st-1');
      expect(callback?.searchParams.get('iss')).toBe(idp.issuer);
      const code = callback?.searchParams.get('code') ?? '';

      const withoutVerifier = await postToken(idp, {
        grant_type: 'authorization_code', code, redirect_uri: loopback.redirectUri, client_id: 'lab-native',
      });
      expect(withoutVerifier.json?.error).toBe('invalid_grant');

      const res = await postToken(idp, {
        grant_type: 'authorization_code', code, redirect_uri: loopback.redirectUri, client_id: 'lab-native',
        code_verifier: verifier,
      });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 120 });
      expect(typeof res.json?.refresh_token).toBe('string'); // Keycloak-like: no offline_access needed
      expect((await idp.introspect(res.json?.access_token)).sub).toBe('bob');
    } finally {
      await loopback.close();
    }
  });

  it('browserLogin with deny delivers error=access_denied to the callback', async () => {
    const loopback = await startLoopback();
    try {
      const { challenge } = pkcePair();
      await idp.browserLogin(authorizeUrl(idp, { redirectUri: loopback.redirectUri, challenge, state: 'st-2' }), { deny: true });
      expect(loopback.received[0]?.searchParams.get('error')).toBe('access_denied');
      expect(loopback.received[0]?.searchParams.has('code')).toBe(false);
    } finally {
      await loopback.close();
    }
  });

  it('a redirect path other than the registered ones never reaches the client', async () => {
    const loopback = await startLoopback('/cb');
    try {
      const { challenge } = pkcePair();
      await expect(
        idp.browserLogin(authorizeUrl(idp, { redirectUri: loopback.redirectUri, challenge, state: 'x' })),
      ).rejects.toThrow(/did not redirect back/);
      expect(loopback.received).toHaveLength(0);
    } finally {
      await loopback.close();
    }
  });

  it('device flow: pending, approved through the IdP pages (user code only), then tokens; deny gives access_denied', async () => {
    const start = async () => {
      const res = await fetch(idp.deviceAuthorizationEndpoint, {
        method: 'POST',
        body: new URLSearchParams({ client_id: 'lab-native', scope: 'openid api:read' }),
      });
      return (await res.json()) as Record<string, any>;
    };
    const poll = (deviceCode: string) =>
      postToken(idp, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: 'lab-native' });

    const approved = await start();
    expect(approved.interval).toBeUndefined(); // oidc-provider sends none
    expect((await poll(approved.device_code)).json?.error).toBe('authorization_pending');
    expect(await idp.approveDevice(approved.user_code, { loginHint: 'carol' })).toMatchObject({ approved: true });
    const tokens = await poll(approved.device_code);
    expect(tokens.status).toBe(200);
    expect(typeof tokens.json?.refresh_token).toBe('string');
    expect((await idp.introspect(tokens.json?.access_token)).sub).toBe('carol');
    expect((await poll(approved.device_code)).json?.error).toBe('invalid_grant');

    const denied = await start();
    expect(await idp.approveDevice(denied.verification_uri_complete, { deny: true })).toMatchObject({ aborted: true });
    expect((await poll(denied.device_code)).json?.error).toBe('access_denied');
  });

  it('refresh rotation: one refresh succeeds, reusing the old token is invalid_grant and revokes the grant', async () => {
    const first = await loginWithCode(idp);
    idp.resetCounters();
    const refresh = (token: string) =>
      postToken(idp, { grant_type: 'refresh_token', refresh_token: token, client_id: 'lab-native' });
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status).toBe(200);
    expect(rotated.json?.refresh_token).not.toBe(first.refresh_token);
    expect(idp.grantCount('refresh_token')).toMatchObject({ requests: 1, successes: 1, errors: {} });

    const reused = await refresh(first.refresh_token);
    expect(reused.json?.error).toBe('invalid_grant');
    expect(idp.grantCount('refresh_token')).toMatchObject({ requests: 2, successes: 1, errors: { invalid_grant: 1 } });
    expect(idp.grantErrors.at(-1)).toMatchObject({ grantType: 'refresh_token', detail: 'refresh token already used' });
    // the whole grant is gone: the rotated refresh token and its access token too
    expect((await idp.introspect(rotated.json?.access_token)).active).toBe(false);
    expect((await refresh(rotated.json?.refresh_token)).json?.error).toBe('invalid_grant');
  });

  it('revokeToken and revokeAllFor invalidate issued tokens', async () => {
    const a = await loginWithCode(idp, 'dave');
    expect((await idp.introspect(a.access_token)).active).toBe(true);
    expect(await idp.revokeToken(a.access_token)).toBe(true);
    expect((await idp.introspect(a.access_token)).active).toBe(false);
    expect(await idp.revokeToken('not-a-token')).toBe(false);

    const b = await loginWithCode(idp, 'erin');
    expect(await idp.revokeAllFor('erin')).toBeGreaterThan(0);
    expect((await idp.introspect(b.access_token)).active).toBe(false);
    const refreshed = await postToken(idp, { grant_type: 'refresh_token', refresh_token: b.refresh_token, client_id: 'lab-native' });
    expect(refreshed.json?.error).toBe('invalid_grant');
  });
});

describe('lab IdP: machine flows', () => {
  it('client_credentials with client_secret_basic and client_secret_post; the wrong method is invalid_client', async () => {
    const basic = idp.clients.basic;
    const post = idp.clients.post;
    const viaBasic = await postToken(idp, { grant_type: 'client_credentials', scope: 'api:read' }, {
      basic: [basic.client_id, basic.client_secret ?? ''],
    });
    expect(viaBasic.status).toBe(200);
    expect(viaBasic.json).toMatchObject({ token_type: 'Bearer', scope: 'api:read' });
    expect(viaBasic.json?.refresh_token).toBeUndefined();

    const viaPost = await postToken(idp, {
      grant_type: 'client_credentials', client_id: post.client_id, client_secret: post.client_secret ?? '',
    });
    expect(viaPost.status).toBe(200);
    expect(viaPost.json?.scope).toBeUndefined(); // oidc-provider grants no scope unless one is asked for

    const wrongMethod = await postToken(idp, { grant_type: 'client_credentials' }, {
      basic: [post.client_id, post.client_secret ?? ''],
    });
    expect(wrongMethod.status).toBe(401);
    expect(wrongMethod.json?.error).toBe('invalid_client');

    // A scope the IdP knows but the client may not have is refused; an unknown one is silently dropped.
    const notAllowed = await postToken(idp, { grant_type: 'client_credentials', scope: 'api:read openid' }, {
      basic: [basic.client_id, basic.client_secret ?? ''],
    });
    expect(notAllowed.json?.error).toBe('invalid_scope');
    const unknown = await postToken(idp, { grant_type: 'client_credentials', scope: 'admin' }, {
      basic: [basic.client_id, basic.client_secret ?? ''],
    });
    expect(unknown.status).toBe(200);
    expect(unknown.json?.scope).toBeUndefined();

    const badSecret = await postToken(idp, { grant_type: 'client_credentials' }, { basic: [basic.client_id, 'wrong'] });
    expect(badSecret.status).toBe(401);
    expect(badSecret.json?.error).toBe('invalid_client');
  });

  it('private_key_jwt client authenticates with an assertion signed by the exposed key', async () => {
    const res = await postToken(idp, {
      grant_type: 'client_credentials',
      client_id: idp.clients.privateKeyJwt.client_id,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await idp.mintClientAssertion(),
    });
    expect(res.status).toBe(200);
    expect(idp.clients.privateKeyJwt.privateJwk.d).toBeTypeOf('string');
  });

  it('jwt-bearer: a CI token is exchanged once; replayed jti, wrong aud and expired tokens are refused', async () => {
    const assertion = await ci.mint({ aud: idp.issuer, claims: { repository: 'octo-org/lab' } });
    const ok = await postToken(idp, { grant_type: JWT_BEARER, assertion, client_id: 'lab-ci', scope: 'api:read' });
    expect(ok.status).toBe(200);
    const introspected = await idp.introspect(ok.json?.access_token);
    expect(introspected).toMatchObject({ active: true, client_id: 'lab-ci', repository: 'octo-org/lab', scope: 'api:read' });
    expect(introspected.sub).toMatch(/^repo:octo-org\/lab:/);

    const replay = await postToken(idp, { grant_type: JWT_BEARER, assertion, client_id: 'lab-ci' });
    expect(replay.json?.error).toBe('invalid_grant');
    expect(idp.grantErrors.at(-1)?.detail).toMatch(/replayed/);

    const wrongAud = await postToken(idp, {
      grant_type: JWT_BEARER, assertion: await ci.mint({ aud: 'https://elsewhere' }), client_id: 'lab-ci',
    });
    expect(wrongAud.json?.error).toBe('invalid_grant');
    expect(idp.grantErrors.at(-1)?.detail).toMatch(/claim aud/);

    const expired = await postToken(idp, {
      grant_type: JWT_BEARER, assertion: await ci.mint({ aud: idp.issuer, ttlSec: -10 }), client_id: 'lab-ci',
    });
    expect(expired.json?.error).toBe('invalid_grant');
  });

  it('token-exchange: issued_token_type, audience, actor, and a lifetime capped by the subject token', async () => {
    const exchange = idp.clients.exchange;
    const subject = await ci.mint({ aud: idp.issuer, ttlSec: 40 });
    const actor = await ci.mintKubernetes({ aud: idp.issuer });
    const res = await postToken(idp, {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: JWT_TOKEN_TYPE,
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      actor_token: actor,
      actor_token_type: JWT_TOKEN_TYPE,
      audience: 'https://gateway.lab',
      scope: 'api:write',
    }, { basic: [exchange.client_id, exchange.client_secret ?? ''] });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', scope: 'api:write' });
    expect(res.json?.expires_in).toBeLessThanOrEqual(40); // accessTokenTtl is 120
    const introspected = await idp.introspect(res.json?.access_token);
    expect(introspected).toMatchObject({ aud: 'https://gateway.lab', act: { sub: 'system:serviceaccount:lab:opencode' } });

    const badType = await postToken(idp, {
      grant_type: TOKEN_EXCHANGE, subject_token: await ci.mint({ aud: idp.issuer }),
      subject_token_type: 'urn:example:saml', client_id: 'lab-ci',
    });
    expect(badType.json?.error).toBe('invalid_request');

    const replayed = await postToken(idp, {
      grant_type: TOKEN_EXCHANGE, subject_token: subject, subject_token_type: JWT_TOKEN_TYPE, client_id: 'lab-ci',
    });
    expect(replayed.json?.error).toBe('invalid_grant');

    const wrongAud = await postToken(idp, {
      grant_type: TOKEN_EXCHANGE, subject_token: await ci.mint({ aud: 'sts.amazonaws.com' }),
      subject_token_type: JWT_TOKEN_TYPE, client_id: 'lab-ci',
    });
    expect(wrongAud.json?.error).toBe('invalid_grant');
    expect(idp.grantCount('token_exchange')).toMatchObject({ successes: 1, errors: { invalid_request: 1, invalid_grant: 2 } });
  });
});

describe('lab IdP: device flow with PKCE (Keycloak-like)', () => {
  it('a code_challenge sent at /device/auth is enforced on the poll; requireDevicePkce refuses requests without one', async () => {
    const { verifier, challenge } = pkcePair();
    const res = await fetch(idp.deviceAuthorizationEndpoint, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'lab-native', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' }),
    });
    const device = (await res.json()) as Record<string, string>;
    await idp.approveDevice(device.user_code ?? '');
    const poll = (extra: Record<string, string>) =>
      postToken(idp, { grant_type: DEVICE_GRANT, device_code: device.device_code ?? '', client_id: 'lab-native', ...extra });
    expect((await poll({})).json?.error).toBe('invalid_grant');
    expect((await poll({ code_verifier: pkcePair().verifier })).json?.error).toBe('invalid_grant');
    expect((await poll({ code_verifier: verifier })).status).toBe(200);

    const strict = await startIdp({ requireDevicePkce: true });
    try {
      const refused = await fetch(strict.deviceAuthorizationEndpoint, {
        method: 'POST', body: new URLSearchParams({ client_id: 'lab-native', scope: 'openid' }),
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as Record<string, string>).error).toBe('invalid_request');
    } finally {
      await strict.stop();
    }
  });
});

describe('lab IdP: options', () => {
  it('deviceInterval adds interval; alwaysIssueRefreshToken:false keeps oidc-provider’s offline_access rule', async () => {
    const strict = await startIdp({ deviceInterval: 1, alwaysIssueRefreshToken: false });
    try {
      const res = await fetch(strict.deviceAuthorizationEndpoint, {
        method: 'POST', body: new URLSearchParams({ client_id: 'lab-native', scope: 'openid' }),
      });
      expect(((await res.json()) as Record<string, unknown>).interval).toBe(1);
      const tokens = await loginWithCode(strict);
      expect(tokens.refresh_token).toBeUndefined();
      expect(strict.clients.basic.client_secret).not.toBe(idp.clients.basic.client_secret);
    } finally {
      await strict.stop();
    }
  });
});
