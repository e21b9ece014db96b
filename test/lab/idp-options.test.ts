/** The lab IdP options that imitate Keycloak's and Entra's stricter or different rules (issue 9). */
import { generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, startIdp, type CiIssuer, type Idp } from '../../lab/index.mjs';
import { JWT_BEARER, postToken } from './helpers.js';

let ci: CiIssuer;
let idp: Idp;
let lenient: Idp;

beforeAll(async () => {
  ci = await startCiIssuer();
  [idp, lenient] = await Promise.all([startIdp({ ciIssuer: ci, strictAssertionAudience: true }), startIdp({ ciIssuer: ci, singleUseSubjectTokens: false })]);
});
afterAll(async () => {
  await Promise.all([idp.stop(), lenient.stop(), ci.stop()]);
});

const assertion = async (lab: Idp, aud: string) => {
  const { privateJwk, kid, client_id } = lab.clients.privateKeyJwt;
  return new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(client_id)
    .setSubject(client_id)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(await importJWK(privateJwk, 'ES256'));
};

describe('strictAssertionAudience (Keycloak)', () => {
  it('takes an assertion addressed to the issuer or the token endpoint, refuses one addressed to the endpoint called', async () => {
    const form = (aud: string) => assertion(idp, aud).then((jwt) => ({ client_id: idp.clients.privateKeyJwt.client_id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt }));
    const token = await postToken(idp, { grant_type: 'client_credentials', ...(await form(idp.issuer)) });
    expect(token.status).toBe(200);
    expect((await postToken(idp, { grant_type: 'client_credentials', ...(await form(idp.tokenEndpoint)) })).status).toBe(200);
    const refused = await postToken(idp, { token: token.json!.access_token, ...(await form(idp.revocationEndpoint)) }, { url: idp.revocationEndpoint });
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ error: 'invalid_client' });
    const accepted = await postToken(idp, { token: token.json!.access_token, ...(await form(idp.issuer)) }, { url: idp.revocationEndpoint });
    expect(accepted.status).toBe(200);
  });

  it('without the option oidc-provider also takes the called endpoint as aud', async () => {
    const jwt = await assertion(lenient, lenient.revocationEndpoint);
    const res = await postToken(lenient, { token: 'unknown-token-value', client_id: lenient.clients.privateKeyJwt.client_id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt }, { url: lenient.revocationEndpoint });
    expect(res.status).toBe(200);
  });
});

describe('the federated client (Entra workload identity federation)', () => {
  const federated = (lab: Idp, jwt: string, extra: Record<string, string> = {}) =>
    postToken(lab, { grant_type: 'client_credentials', client_id: lab.clients.federated.client_id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt, scope: 'api:read', ...extra });

  it('issues a client_credentials token for a CI JWT addressed to the IdP, reusable until it expires', async () => {
    const jwt = await ci.mint({ aud: idp.issuer });
    const first = await federated(idp, jwt);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ token_type: 'Bearer', scope: 'api:read' });
    expect((await idp.introspect(first.json!.access_token)).sub).toBe('repo:octo-org/octo-repo:ref:refs/heads/main');
    expect((await federated(idp, jwt)).status).toBe(200);
  });

  it('refuses another audience, an unknown signer and a missing assertion with invalid_client', async () => {
    expect((await federated(idp, await ci.mint({ aud: 'api://AzureADTokenExchange' }))).json).toMatchObject({ error: 'invalid_client' });
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ jti: 'x' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(ci.issuer).setSubject('repo:evil').setAudience(idp.issuer).setIssuedAt().setExpirationTime('60s').sign(privateKey);
    expect((await federated(idp, forged)).status).toBe(401);
    const bare = await postToken(idp, { grant_type: 'client_credentials', client_id: idp.clients.federated.client_id });
    expect(bare.status).toBe(401);
  });
});

describe('singleUseSubjectTokens', () => {
  it('default: a jwt-bearer assertion is used once; false: again until it expires', async () => {
    const once = await ci.mint({ aud: idp.issuer });
    const client = { client_id: idp.clients.ci.client_id };
    expect((await postToken(idp, { grant_type: JWT_BEARER, assertion: once, ...client })).status).toBe(200);
    expect((await postToken(idp, { grant_type: JWT_BEARER, assertion: once, ...client })).json).toMatchObject({ error: 'invalid_grant' });
    const reusable = await ci.mint({ aud: lenient.issuer });
    const lenientClient = { client_id: lenient.clients.ci.client_id };
    expect((await postToken(lenient, { grant_type: JWT_BEARER, assertion: reusable, ...lenientClient })).status).toBe(200);
    expect((await postToken(lenient, { grant_type: JWT_BEARER, assertion: reusable, ...lenientClient })).status).toBe(200);
  });
});
