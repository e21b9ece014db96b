/**
 * Machine flows end to end: client_credentials, jwt_bearer and token_exchange at the lab's oidc-provider
 * with subject tokens from the lab's CI issuer (GitHub-Actions-like endpoint, Kubernetes-like projected
 * file), passthrough at the lab gateway, and the faults of issue 3.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCiIssuer, startGateway, startIdp, type CiIssuer, type Gateway, type Idp } from '../../lab/index.mjs';
import { readJwtExpiry } from '../../src/adapters/subject-token/index.js';
import { credentialHeaders, runFlow, type FlowConfig } from '../../src/flows/index.js';
import { expectNoSecrets, flowConfig, realDeps, rejectionOf } from './labSupport.js';

let ci: CiIssuer;
let idp: Idp;
let gateway: Gateway;
let passthroughGateway: Gateway;
let dir: string;

beforeAll(async () => {
  ci = await startCiIssuer();
  idp = await startIdp({ ciIssuer: ci });
  gateway = await startGateway({ idp });
  passthroughGateway = await startGateway({ passthrough: { issuer: ci, audience: 'lab-gateway-aud', header: 'x-api-key' } });
  dir = await mkdtemp(join(tmpdir(), 'flows-e2e-'));
});
afterAll(async () => {
  await Promise.all([gateway?.stop(), passthroughGateway?.stop()]);
  await idp?.stop();
  await ci?.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  idp.clearFaults();
  idp.resetCounters();
  ci.setIdTokenPermission(true);
});

async function gatewayAccepts(gw: Gateway, headers: Record<string, string>): Promise<number> {
  return (await fetch(`${gw.baseURL}/models`, { headers })).status;
}

describe('client_credentials', () => {
  it.each([
    ['client_secret_basic', 'basic'],
    ['client_secret_post', 'post'],
  ] as const)('%s: a token the gateway accepts, no refresh token', async (method, key) => {
    const client = idp.clients[key];
    const { config } = flowConfig({
      id: 'svc',
      flow: 'client_credentials',
      issuer: idp.issuer,
      clientAuth: { method, clientId: client.client_id, clientSecret: client.client_secret! },
      scopes: ['api:read'],
    });
    const token = await runFlow(config, realDeps());
    expect(token.refreshToken).toBeUndefined();
    expect(token.scope).toBe('api:read');
    expect(await gatewayAccepts(gateway, credentialHeaders(token))).toBe(200);
  });

  it('a wrong secret is invalid_client, and the secret is in no error text', async () => {
    const { config } = flowConfig({
      id: 'svc',
      flow: 'client_credentials',
      issuer: idp.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: idp.clients.basic.client_id, clientSecret: 'WRONG-secret-value-123' },
      scopes: ['api:read'],
    });
    const error = await rejectionOf(runFlow(config, realDeps()));
    expect(error).toMatchObject({ code: 'invalid_client', providerId: 'svc', status: 401 });
    expectNoSecrets(error, ['WRONG-secret-value-123', idp.clients.basic.client_secret]);
  });

  it('invalid_client injected by the fault layer: same clear error', async () => {
    idp.fault({ fault: 'invalid_client', grantType: 'client_credentials' });
    const client = idp.clients.post;
    const { config } = flowConfig({
      id: 'svc',
      flow: 'client_credentials',
      issuer: idp.issuer,
      clientAuth: { method: 'client_secret_post', clientId: client.client_id, clientSecret: client.client_secret! },
    });
    const error = await rejectionOf(runFlow(config, realDeps()));
    expect(error).toMatchObject({ code: 'invalid_client' });
    expectNoSecrets(error, [client.client_secret]);
  });

  it('503 with an HTML page is retried by the HTTP layer and the flow succeeds', async () => {
    idp.fault({ fault: 'http_503_html', grantType: 'client_credentials' });
    const client = idp.clients.basic;
    const { config } = flowConfig({
      id: 'svc',
      flow: 'client_credentials',
      issuer: idp.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: client.client_id, clientSecret: client.client_secret! },
    });
    await runFlow(config, realDeps());
    expect(idp.grantCount('client_credentials')).toMatchObject({ requests: 2, successes: 1, faults: 1 });
  });

  it('a hung IdP: each attempt times out and the flow ends with a bounded, secret-free error', async () => {
    idp.fault({ fault: 'hang', grantType: 'client_credentials', times: 3 });
    const client = idp.clients.basic;
    const { config } = flowConfig({
      id: 'svc',
      flow: 'client_credentials',
      issuer: idp.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: client.client_id, clientSecret: client.client_secret! },
      httpTimeoutMs: 200,
    });
    const error = await rejectionOf(runFlow(config, realDeps()));
    expect(['timeout', 'transient']).toContain(error.code);
    expect(idp.grantCount('client_credentials').requests).toBe(3);
    expectNoSecrets(error, [client.client_secret]);
  });
});

describe('jwt_bearer with a GitHub-Actions-like ID token', () => {
  const jwtBearer = (over = {}) =>
    flowConfig({
      id: 'gha',
      flow: 'jwt_bearer',
      issuer: idp.issuer,
      clientAuth: { method: 'none', clientId: idp.clients.ci.client_id },
      scopes: ['api:read'],
      subjectTokenSource: { type: 'github_actions', audience: idp.issuer },
      ...over,
    });

  it('fetches the ID token (audience = the IdP) and exchanges it; the token never outlives the subject', async () => {
    const { config } = jwtBearer();
    const token = await runFlow(config, realDeps(ci.actionsEnv));
    expect(ci.counters.actionsToken.ok).toBeGreaterThanOrEqual(1);
    const introspection = await idp.introspect(token.accessToken);
    expect(introspection).toMatchObject({ active: true, repository: expect.any(String) });
    expect(token.refreshToken).toBeUndefined();
    expect(token.refreshBy).toBeLessThanOrEqual(token.expiresAt);
    expect(await gatewayAccepts(gateway, credentialHeaders(token))).toBe(200);
  });

  it('every acquisition mints a fresh subject token (a replayed assertion would be refused)', async () => {
    const { config } = jwtBearer();
    const before = ci.counters.actionsToken.ok;
    await runFlow(config, realDeps(ci.actionsEnv));
    await runFlow(config, realDeps(ci.actionsEnv));
    expect(ci.counters.actionsToken.ok - before).toBe(2);
    expect(idp.grantCount('jwt_bearer').successes).toBe(2);
  });

  it('a subject with < 60 s left is re-fetched once; the minted token is capped at its exp', async () => {
    const path = join(dir, 'short.jwt');
    const { writeFile } = await import('node:fs/promises');
    const short = await ci.mint({ aud: idp.issuer, ttlSec: 30 });
    await writeFile(path, short);
    const reads: string[] = [];
    const source = {
      describe: () => 'test file',
      read: async () => {
        const { readFile } = await import('node:fs/promises');
        const token = (await readFile(path, 'utf8')).trim();
        reads.push(token);
        return token;
      },
    };
    const { config } = jwtBearer({ subjectTokenSource: source });
    const token = await runFlow(config, realDeps());
    expect(reads).toHaveLength(2);
    expect(token.expiresAt).toBeLessThanOrEqual(readJwtExpiry(short)!);
  });

  it('no expires_in from the IdP: the assumed lifetime is still capped at the subject exp', async () => {
    idp.fault({ fault: 'drop_expires_in', grantType: 'jwt_bearer' });
    const { config } = jwtBearer({ assumedLifetimeSec: 3600 });
    const token = await runFlow(config, realDeps(ci.actionsEnv));
    expect(token.expiryAssumed).toBe(true);
    // The CI token lives 300 s; the assumed hour never survives the cap.
    expect(token.expiresAt - token.issuedAt).toBeLessThanOrEqual(300_000);
  });

  it('an already expired subject fails before any token request, naming the source', async () => {
    const { writeFile } = await import('node:fs/promises');
    const path = join(dir, 'expired.jwt');
    const expired = await ci.mint({ aud: idp.issuer, ttlSec: -10 });
    await writeFile(path, expired);
    const { config } = jwtBearer({ subjectTokenSource: { type: 'file', path } });
    const error = await rejectionOf(runFlow(config, realDeps()));
    expect(error).toMatchObject({ code: 'subject_token' });
    expect(error.message).toContain(`the subject token from file ${path} is already expired`);
    expect(idp.grantCount('jwt_bearer').requests).toBe(0);
    expectNoSecrets(error, [expired]);
  });

  it('a job without `id-token: write`: the error names the source and the fix', async () => {
    ci.setIdTokenPermission(false);
    const { config } = jwtBearer();
    const error = await rejectionOf(runFlow(config, realDeps(ci.actionsEnv)));
    expect(error).toMatchObject({ code: 'subject_token', status: 403 });
    expect(error.message).toContain('subjectTokenSource (github_actions): OIDC token request failed (403)');
    expect(error.message).toContain('id-token: write');
    expectNoSecrets(error, [ci.actionsEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN]);
  });

  it('the IdP refusing the assertion (wrong audience) is invalid_grant without the JWT in the message', async () => {
    const { config } = jwtBearer({ subjectTokenSource: { type: 'github_actions', audience: 'https://someone-else.example' } });
    const error = await rejectionOf(runFlow(config, realDeps(ci.actionsEnv)));
    expect(error).toMatchObject({ code: 'invalid_grant' });
    expectNoSecrets(error, []);
  });
});

describe('token_exchange with a Kubernetes-like projected token', () => {
  it('exchanges the projected file (kubelet layout, rotated between acquisitions) with an actor token', async () => {
    const tokenPath = join(dir, 'projected', 'token');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'projected'), { recursive: true });
    await ci.writeProjectedToken(tokenPath, { aud: idp.issuer, atomic: true, ttlSec: 600 });
    const actorJwt = await ci.mint({ aud: idp.issuer, sub: 'deployer' });
    const exchange = idp.clients.exchange;
    const { config } = flowConfig({
      id: 'k8s',
      flow: 'token_exchange',
      issuer: idp.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: exchange.client_id, clientSecret: exchange.client_secret! },
      scopes: ['api:read'],
      audience: 'lab-api',
      subjectTokenSource: { type: 'kubernetes_sa', tokenPath },
      actorTokenSource: { type: 'env', var: 'ACTOR_JWT' },
      requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
    });
    const first = await runFlow(config, realDeps({ ACTOR_JWT: actorJwt }));
    expect(first.issuedTokenType).toBe('urn:ietf:params:oauth:token-type:access_token');
    const introspection = await idp.introspect(first.accessToken);
    expect(introspection).toMatchObject({ active: true, aud: 'lab-api' });
    expect(JSON.stringify(introspection)).toContain('deployer');
    expect(first.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);

    // kubelet rotates the file: the next acquisition reads the new token.
    const rotated = await ci.writeProjectedToken(tokenPath, { aud: idp.issuer, atomic: true, ttlSec: 120 });
    const second = await runFlow(config, realDeps({ ACTOR_JWT: await ci.mint({ aud: idp.issuer, sub: 'deployer' }) }));
    expect(second.expiresAt).toBeLessThanOrEqual(rotated.exp * 1000);
    expect(idp.grantCount('token_exchange').successes).toBe(2);
  });
});

describe('passthrough at a gateway that validates CI tokens itself', () => {
  it('the CI token is the credential, sent as x-api-key, expiring with the token', async () => {
    const { config } = flowConfig({
      id: 'goose',
      flow: 'passthrough',
      clientAuth: { method: 'none', clientId: 'unused' },
      subjectTokenSource: { type: 'github_actions', audience: 'lab-gateway-aud' },
      header: 'x-api-key',
      prefix: '',
    });
    const token = await runFlow(config, realDeps(ci.actionsEnv));
    expect(token.tokenType).toBe('x-api-key');
    expect(token.expiresAt).toBe(readJwtExpiry(token.accessToken));
    expect(token.refreshBy).toBeLessThan(token.expiresAt);
    const headers = credentialHeaders(token);
    expect(Object.keys(headers)).toEqual(['x-api-key']);
    expect(await gatewayAccepts(passthroughGateway, headers)).toBe(200);
    // The wrong audience is refused by the gateway: proof that it really checks.
    const wrong = await runFlow({ ...config, subjectTokenSource: { type: 'github_actions', audience: 'other' } } as FlowConfig, realDeps(ci.actionsEnv));
    expect(await gatewayAccepts(passthroughGateway, credentialHeaders(wrong))).toBe(401);
  });
});
