import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAULT_KINDS, startIdp, type Idp } from '../../lab/index.mjs';
import { DEVICE_GRANT, loginWithCode, postToken } from './helpers.js';

let idp: Idp;

beforeAll(async () => {
  idp = await startIdp();
});

afterAll(async () => {
  await idp?.stop();
});

beforeEach(() => {
  idp.clearFaults();
  idp.resetCounters();
});

const clientCredentials = () =>
  postToken(idp, { grant_type: 'client_credentials', scope: 'api:read' }, {
    basic: [idp.clients.basic.client_id, idp.clients.basic.client_secret ?? ''],
  });
const devicePoll = () => postToken(idp, { grant_type: DEVICE_GRANT, device_code: 'any', client_id: 'lab-native' });

describe('lab IdP fault injection', () => {
  it('rewrites of a success: drop_expires_in, expires_in_string, token_type_lower, form_encoded', async () => {
    idp.fault({ fault: 'drop_expires_in' });
    idp.fault({ fault: 'expires_in_string' });
    idp.fault({ fault: 'token_type_lower' });
    idp.fault({ fault: 'form_encoded' });
    const dropped = await clientCredentials();
    expect(dropped.json?.access_token).toBeTypeOf('string');
    expect(dropped.json).not.toHaveProperty('expires_in');
    expect((await clientCredentials()).json?.expires_in).toBe('300');
    expect((await clientCredentials()).json?.token_type).toBe('bearer');
    const form = await clientCredentials();
    expect(form.contentType).toMatch(/application\/x-www-form-urlencoded/);
    const fields = new URLSearchParams(form.text);
    expect(fields.get('access_token')).toBeTruthy();
    expect(fields.get('expires_in')).toBe('300');
    expect((await clientCredentials()).json?.expires_in).toBe(300); // the queue is empty again
    expect(idp.grantCount('client_credentials')).toMatchObject({ requests: 5, successes: 5, faults: 4 });
  });

  it('drop_refresh_token applies to the grant type it names only', async () => {
    const tokens = await loginWithCode(idp);
    idp.fault({ fault: 'drop_refresh_token', grantType: 'refresh_token' });
    expect((await clientCredentials()).status).toBe(200); // not consumed by another grant
    const refreshed = await postToken(idp, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'lab-native' });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json?.access_token).toBeTypeOf('string');
    expect(refreshed.json).not.toHaveProperty('refresh_token');
  });

  it('answers instead of the IdP: http_503_html, http_429 with Retry-After, invalid_client, invalid_grant', async () => {
    idp.fault({ fault: 'http_503_html' });
    idp.fault({ fault: 'http_429', retryAfter: 2 });
    idp.fault({ fault: 'invalid_client' });
    idp.fault({ fault: 'invalid_grant' });
    const unavailable = await clientCredentials();
    expect(unavailable.status).toBe(503);
    expect(unavailable.contentType).toMatch(/text\/html/);
    expect(unavailable.text).toMatch(/<html>/);
    const limited = await clientCredentials();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    const badClient = await clientCredentials();
    expect(badClient.status).toBe(401);
    expect(badClient.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(badClient.json?.error).toBe('invalid_client');
    expect((await clientCredentials()).json?.error).toBe('invalid_grant');
    expect(idp.grantCount('client_credentials').errors).toEqual({
      http_503: 1, http_429: 1, invalid_client: 1, invalid_grant: 1,
    });
  });

  it('device polling errors: slow_down, expired_token, access_denied, error_as_200 (json and form)', async () => {
    idp.fault({ fault: 'slow_down', grantType: 'device_code', interval: 10 });
    idp.fault({ fault: 'expired_token', grantType: 'device_code' });
    idp.fault({ fault: 'access_denied', grantType: 'device_code' });
    idp.fault({ fault: 'error_as_200', grantType: 'device_code' });
    idp.fault({ fault: 'error_as_200', grantType: 'device_code', error: 'authorization_pending', format: 'form' });
    const slow = await devicePoll();
    expect(slow.status).toBe(400);
    expect(slow.json).toMatchObject({ error: 'slow_down', interval: 10 });
    expect((await devicePoll()).json?.error).toBe('expired_token');
    expect((await devicePoll()).json?.error).toBe('access_denied');
    const github = await devicePoll();
    expect(github.status).toBe(200);
    expect(github.json?.error).toBe('bad_verification_code');
    const githubForm = await devicePoll();
    expect(githubForm.status).toBe(200);
    expect(new URLSearchParams(githubForm.text).get('error')).toBe('authorization_pending');
    // without faults the real IdP answers (an unknown device code)
    expect((await devicePoll()).json?.error).toBe('invalid_grant');
  });

  it('device_interval adds an interval to the device authorization response; times repeats a fault', async () => {
    idp.fault({ fault: 'device_interval', interval: 3, times: 2 });
    const authorize = async () => {
      const res = await fetch(idp.deviceAuthorizationEndpoint, {
        method: 'POST', body: new URLSearchParams({ client_id: 'lab-native', scope: 'openid' }),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    expect((await authorize()).interval).toBe(3);
    expect((await authorize()).interval).toBe(3);
    expect((await authorize()).interval).toBeUndefined();
    expect(idp.counters.deviceAuthorization).toMatchObject({ requests: 3, successes: 3, faults: 2 });
  });

  it('delay_ms delays, then the IdP answers normally', async () => {
    idp.fault({ fault: 'delay_ms', ms: 150 });
    const started = performance.now();
    const res = await clientCredentials();
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140); // a lower bound: it cannot be faster
    expect(idp.grantCount('client_credentials').faults).toBe(1);
  });

  it('hang never answers; stop() still closes the IdP and the client sees a network error', async () => {
    const lonely = await startIdp();
    lonely.fault({ fault: 'hang' });
    const pending = fetch(lonely.tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
      signal: AbortSignal.timeout(10_000),
    }).then(() => 'answered', (error: Error) => error.name);
    // the request is in flight once the counter saw it
    for (let i = 0; i < 100 && lonely.grantCount('client_credentials').requests === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(lonely.grantCount('client_credentials').requests).toBe(1);
    await lonely.stop();
    expect(await pending).toBe('TypeError'); // fetch failed: socket closed, not a timeout
  });

  it('POST /__faults queues faults from another process; GET /__counters reports them; bad faults are refused', async () => {
    const queued = await fetch(`${idp.issuer}/__faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ fault: 'http_429', grant_type: 'client_credentials', retry_after: 7 }]),
    });
    expect(queued.status).toBe(201);
    expect((await clientCredentials()).headers.get('retry-after')).toBe('7');
    const counters = (await (await fetch(`${idp.issuer}/__counters`)).json()) as Record<string, any>;
    expect(counters.token.client_credentials).toMatchObject({ requests: 1, errors: { http_429: 1 } });

    const bad = await fetch(`${idp.issuer}/__faults`, { method: 'POST', body: JSON.stringify({ fault: 'nope' }) });
    expect(bad.status).toBe(400);
    expect(() => idp.fault({ fault: 'nope' as never })).toThrow(/unknown fault/);
    expect(FAULT_KINDS).toHaveLength(16);
  });
});
