/**
 * Migration from @vymalo/opencode-oauth2 without a new login: the engine adopts the reference's cached user
 * token (a real file in its format, holding a real refresh token from the lab IdP) once, refreshes with it,
 * and never takes it again after a logout.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { adoptingReferenceTokens, readReferenceToken, referenceCacheDir } from '../../src/adapters/storage/referenceCache.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { createTokenEngine } from '../../src/engine.js';

let idp: Idp;
let root: string;
const savedCache = process.env.XDG_CACHE_HOME;

beforeAll(async () => {
  idp = await startIdp();
  root = await mkdtemp(path.join(os.tmpdir(), 'reference-cache-'));
});

afterAll(async () => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  await idp?.stop();
  await rm(root, { recursive: true, force: true });
});

/** A device-code login done by hand at the lab IdP, as the reference plugin would have done it. */
async function realRefreshToken(): Promise<string> {
  const scope = 'openid offline_access api:read';
  const started = await fetch(idp.deviceAuthorizationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: idp.clients.native.client_id!, scope }),
  }).then((r) => r.json() as Promise<{ device_code: string; verification_uri_complete: string }>);
  await idp.approveDevice(started.verification_uri_complete);
  const tokens = await fetch(idp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: started.device_code,
      client_id: idp.clients.native.client_id!,
    }),
  }).then((r) => r.json() as Promise<{ refresh_token?: string }>);
  expect(tokens.refresh_token).toBeTruthy();
  return tokens.refresh_token!;
}

/** The reference's cache file for one server (src/cache.ts of @vymalo/opencode-oauth2: pretty JSON, plaintext). */
async function writeReferenceFile(cacheHome: string, serverId: string, token: Record<string, unknown> | undefined) {
  const dir = path.join(cacheHome, 'opencode-oauth2', 'opencode-oauth2-model-sync');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${serverId}.json`);
  const body = { serverId, updatedAt: new Date(Date.now() - 3_600_000).toISOString(), lastSyncAt: new Date().toISOString(), ...(token ? { token } : {}), models: [{ id: 'glm-5', displayName: 'GLM 5' }], rawModels: [] };
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  return file;
}

describe('adopting the reference plugin\'s cached tokens', () => {
  it('finds the reference cache where the reference put it', () => {
    expect(referenceCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/u')).toBe('/x/cache/opencode-oauth2/opencode-oauth2-model-sync');
    expect(referenceCacheDir({}, 'linux', '/home/u')).toBe('/home/u/.cache/opencode-oauth2/opencode-oauth2-model-sync');
    expect(referenceCacheDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Caches/opencode-oauth2/opencode-oauth2-model-sync');
    expect(referenceCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u')).toBe(
      'C:\\Users\\u\\AppData\\Local\\opencode-oauth2\\opencode-oauth2-model-sync',
    );
  });

  it('reads only well-formed files of the same server; a token without expiresAt counts as expired', async () => {
    const home = path.join(root, 'read');
    const dir = referenceCacheDir({ XDG_CACHE_HOME: home }, 'linux');
    await writeReferenceFile(home, 'corp', { accessToken: 'a', tokenType: 'bearer', refreshToken: 'r' });
    const now = Date.now();
    const token = await readReferenceToken(dir, 'corp', now);
    expect(token).toMatchObject({ accessToken: 'a', tokenType: 'Bearer', refreshToken: 'r', expiryAssumed: true });
    expect(token!.expiresAt).toBeLessThanOrEqual(now);
    await writeFile(path.join(dir, 'other.json'), JSON.stringify({ serverId: 'corp', token: { accessToken: 'a', tokenType: 'Bearer' } }));
    expect(await readReferenceToken(dir, 'other', now)).toBeUndefined();
    await writeFile(path.join(dir, 'broken.json'), '{"serverId": "broken", "tok');
    expect(await readReferenceToken(dir, 'broken', now)).toBeUndefined();
    await writeReferenceFile(home, 'empty', { accessToken: '', tokenType: 'Bearer' });
    expect(await readReferenceToken(dir, 'empty', now)).toBeUndefined();
    expect(await readReferenceToken(dir, '../corp', now)).toBeUndefined();
  });

  it('adopts user-flow tokens only, with a compare-and-swap on "no record", once per key', async () => {
    const home = path.join(root, 'store');
    await writeReferenceFile(home, 'corp', { accessToken: 'a', tokenType: 'Bearer', refreshToken: 'r', expiresAt: Date.now() + 60_000 });
    await writeReferenceFile(home, 'svc', { accessToken: 'm', tokenType: 'Bearer', expiresAt: Date.now() + 60_000 });
    const events: Array<[string, Record<string, unknown> | undefined]> = [];
    const logger = { debug() {}, info: (e: string, f?: Record<string, unknown>) => events.push([e, f]), warn() {}, error() {} };
    const storeDir = path.join(home, 'ours');
    const dir = referenceCacheDir({ XDG_CACHE_HOME: home }, 'linux');
    const store = adoptingReferenceTokens(createFileStore({ dir: storeDir }), { dir, logger });
    const user = storeKey({ providerId: 'corp', issuer: idp.issuer, clientId: 'c', flow: 'device_code', scopes: ['openid'] });
    const machine = storeKey({ providerId: 'svc', issuer: idp.issuer, clientId: 'c', flow: 'client_credentials', scopes: [] });
    expect((await store.read(user))?.token?.refreshToken).toBe('r');
    expect(await store.read(machine)).toBeUndefined();
    expect(events.map(([e, f]) => `${e} ${String(f?.providerId)}`)).toEqual(['reference_token_adopted corp']);
    expect(JSON.stringify(events)).not.toMatch(/"a"|"r"/);
    // Logged out: the record goes; a new process must not take the reference token again.
    await store.delete(user);
    const fresh = adoptingReferenceTokens(createFileStore({ dir: storeDir }), { dir, logger });
    expect(await fresh.read(user)).toBeUndefined();
    expect((await readdir(storeDir)).some((f) => f.endsWith('.reference-adopted'))).toBe(true);
  });

  it('the engine refreshes with the adopted refresh token: no new login', async () => {
    const cacheHome = path.join(root, 'engine-cache');
    process.env.XDG_CACHE_HOME = cacheHome;
    const refreshToken = await realRefreshToken();
    await writeReferenceFile(cacheHome, 'corp', {
      accessToken: 'expired-access-token-from-the-reference',
      tokenType: 'Bearer',
      refreshToken,
      expiresAt: Date.now() - 60_000,
    });
    const server = {
      id: 'corp',
      issuer: idp.issuer,
      baseURL: 'http://127.0.0.1:9/v1',
      clientId: idp.clients.native.client_id,
      scopes: ['openid', 'offline_access', 'api:read'],
      authFlow: 'device_code',
    };
    const refreshesBefore = idp.grantCount('refresh_token').successes;
    const devicesBefore = idp.grantCount('device_code').successes;

    const engine = createTokenEngine({ servers: [server], notify: () => {} });
    try {
      const token = await engine.getToken('corp');
      expect(token.accessToken).not.toBe('expired-access-token-from-the-reference');
      expect((await idp.introspect(token.accessToken)).active).toBe(true);
      expect(idp.grantCount('refresh_token').successes - refreshesBefore).toBe(1);
      expect(idp.grantCount('device_code').successes).toBe(devicesBefore);
      await engine.logout('corp');
    } finally {
      engine.stop();
    }
    // After the logout, a new start does not bring the reference's (now spent) token back.
    const again = createTokenEngine({ servers: [server], notify: () => {} });
    try {
      await expect(again.getToken('corp', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'interaction_required' });
    } finally {
      again.stop();
    }
  }, 60_000);
});
