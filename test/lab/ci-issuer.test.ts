import { mkdtemp, readFile, readlink, readdir, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, type CiIssuer } from '../../lab/index.mjs';

let ci: CiIssuer;
let dir: string;

beforeAll(async () => {
  ci = await startCiIssuer();
  dir = await mkdtemp(path.join(tmpdir(), 'lab-ci-'));
});

afterAll(async () => {
  await ci?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('lab CI issuer', () => {
  it('publishes discovery and JWKS that verify its GitHub-like tokens', async () => {
    const discovery = (await (await fetch(`${ci.issuer}/.well-known/openid-configuration`)).json()) as Record<string, any>;
    expect(discovery).toMatchObject({ issuer: ci.issuer, jwks_uri: ci.jwksUri });
    const jwt = await ci.mint({ aud: 'api://lab', ttlSec: 60 });
    const { payload } = await jwtVerify(jwt, createRemoteJWKSet(new URL(ci.jwksUri)), { issuer: ci.issuer, audience: 'api://lab' });
    expect(payload).toMatchObject({ repository: 'octo-org/octo-repo', ref: 'refs/heads/main', workflow: 'ci', actor: 'octocat' });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(payload.jti).toBeTypeOf('string');
    expect(payload.nbf).toBe(payload.iat);
  });

  it('GitHub Actions ID-token endpoint: audience, 401 without the request token, 403 without id-token: write', async () => {
    const { ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken } = ci.actionsEnv;
    const ok = await fetch(`${url}&audience=${encodeURIComponent('https://idp.lab')}`, { headers: { authorization: `bearer ${requestToken}` } });
    expect(ok.status).toBe(200);
    const { value } = (await ok.json()) as { value: string };
    expect(decodeJwt(value).aud).toBe('https://idp.lab');

    const noAudience = (await (await fetch(url, { headers: { authorization: `Bearer ${requestToken}` } })).json()) as { value: string };
    expect(decodeJwt(noAudience.value).aud).toBe('https://github.com/octo-org');

    expect((await fetch(url, { headers: { authorization: 'bearer wrong' } })).status).toBe(401);
    ci.setIdTokenPermission(false);
    try {
      const forbidden = await fetch(url, { headers: { authorization: `bearer ${requestToken}` } });
      expect(forbidden.status).toBe(403);
      expect(((await forbidden.json()) as { message: string }).message).toMatch(/id-token: write/);
    } finally {
      ci.setIdTokenPermission(true);
    }
    expect(ci.counters.actionsToken).toMatchObject({ ok: 2, unauthorized: 1, forbidden: 1 });
  });

  it('writes a Kubernetes projected token, plain and with kubelet’s atomic ..data swap', async () => {
    const plain = path.join(dir, 'plain', 'token');
    const first = await ci.writeProjectedToken(plain, { aud: 'lab-idp', ttlSec: 600 });
    expect(await readFile(plain, 'utf8')).toBe(first.token);
    expect(decodeJwt(first.token)).toMatchObject({
      sub: 'system:serviceaccount:lab:opencode', aud: 'lab-idp', 'kubernetes.io': { namespace: 'lab' },
    });

    const projected = path.join(dir, 'serviceaccount', 'token');
    const a = await ci.writeProjectedToken(projected, { aud: 'lab-idp', atomic: true });
    expect((await lstat(projected)).isSymbolicLink()).toBe(true);
    expect(await readlink(projected)).toBe(path.join('..data', 'token'));
    const firstTarget = await readlink(path.join(dir, 'serviceaccount', '..data'));
    const b = await ci.writeProjectedToken(projected, { aud: 'lab-idp', atomic: true, serviceAccount: 'rotated' });
    expect(b.token).not.toBe(a.token);
    expect(await readFile(projected, 'utf8')).toBe(b.token);
    expect(decodeJwt(b.token).sub).toBe('system:serviceaccount:lab:rotated');
    const entries = await readdir(path.join(dir, 'serviceaccount'));
    expect(entries).not.toContain(firstTarget); // the previous timestamped dir is gone
    expect(entries.filter((e) => e.startsWith('..')).sort()).toEqual(['..data', await readlink(path.join(dir, 'serviceaccount', '..data'))].sort());
  });
});
