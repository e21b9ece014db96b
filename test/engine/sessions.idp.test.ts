import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { TokenError } from '../../src/errors.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { browserEnv, machineServer, tempDir, until, userServer } from './support.js';

// Sessions that must survive what real IdPs answer on a refresh (issue 9 items 1-3, the lifecycle's part).
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let idp: Idp;
const engines: TokenEngine[] = [];

const engine = (options: Parameters<typeof createTokenEngine>[0]) => {
  const created = createTokenEngine({ notify: () => {}, flowDeps: { env: browserEnv() }, ...options });
  engines.push(created);
  return created;
};

async function loggedInStore(on: Idp = idp) {
  const dir = await tempDir();
  const store = createFileStore({ dir });
  const first = engine({ servers: [userServer(on)], store });
  const token = await first.login('corp');
  first.stop();
  return { dir, store, token };
}

async function storedRecord(dir: string) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  return JSON.parse(await readFile(join(dir, files[0]!), 'utf8'));
}

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtl: 300 });
});
afterEach(() => {
  engines.splice(0).forEach((e) => e.stop());
  idp.clearFaults();
});
afterAll(async () => {
  await idp.stop();
});

describe('a refresh answered interaction_required / login_required / consent_required', () => {
  for (const oauthError of ['interaction_required', 'login_required', 'consent_required']) {
    it(`${oauthError}: a login is needed, the credentials are kept, an interactive request logs in`, async () => {
      const { dir, store, token } = await loggedInStore();
      idp.resetCounters();
      idp.fault({ fault: 'error_as_200', grantType: 'refresh_token', error: oauthError, times: 5 });
      const later = engine({ servers: [userServer(idp)], store, now: () => Date.now() + HOUR });

      const failure = (await later.getToken('corp').catch((e: unknown) => e)) as TokenError;
      expect(failure).toBeInstanceOf(TokenError);
      expect(failure.code).toBe('interaction_required');
      expect(failure.fix).toMatch(/log in/i);
      expect(later.status()[0]).toMatchObject({ state: 'needsReauth', servable: false });
      // Credentials kept: the stored record still holds the refresh token we were given.
      expect((await storedRecord(dir)).token.refreshToken).toBe(token.refreshToken);

      // An interactive request starts the login instead of refreshing again.
      const fresh = await later.getToken('corp', { interactive: true });
      expect(idp.grantCount('refresh_token').requests).toBe(1);
      expect(idp.grantCount('authorization_code').requests).toBe(1);
      expect((await idp.introspect(fresh.accessToken)).active).toBe(true);
      expect(later.status()[0]).toMatchObject({ state: 'valid', servable: true });
    });
  }
});

describe('a lost or failed answer on a background refresh', () => {
  it('one HTML 503 at 200 s into a 300 s token: the access token is still served, then one more refresh at the hard deadline', async () => {
    const { dir, store, token } = await loggedInStore();
    idp.resetCounters();
    let shiftMs = 200_000;
    const later = engine({ servers: [userServer(idp)], store, now: () => Date.now() + shiftMs });
    idp.fault({ fault: 'http_503_html', grantType: 'refresh_token' });

    // In the soft window: served at once, the background refresh meets the 503.
    expect((await later.getToken('corp')).accessToken).toBe(token.accessToken);
    await until(() => idp.grantCount('refresh_token').requests === 1 && later.status()[0]!.state !== 'renewing');
    expect(later.status()[0]).toMatchObject({ servable: true });
    expect(later.status()[0]!.state).not.toBe('needsReauth');
    // Further demands before the hard deadline serve the same token and send nothing.
    for (let i = 0; i < 3; i++) expect((await later.getToken('corp')).accessToken).toBe(token.accessToken);
    expect(idp.grantCount('refresh_token').requests).toBe(1);
    // Nothing retired: the stored refresh token is not tombstoned.
    expect((await storedRecord(dir)).tombstone).toBeUndefined();
    expect((await idp.introspect(token.accessToken)).active).toBe(true);

    // A 503 is an answer that the request was not processed (transient, not uncertain): the lifecycle cools
    // down (a few seconds, the token still served) and then renews again.
    expect(later.status()[0]!.state).toBe('coolingDown');
    await until(() => later.status()[0]!.state !== 'coolingDown', 15_000);

    // Past the hard deadline: the one more refresh attempt, which the IdP answers.
    shiftMs = 290_000;
    const renewed = await later.getToken('corp');
    expect(renewed.accessToken).not.toBe(token.accessToken);
    expect(idp.grantCount('refresh_token').requests).toBe(2);
    expect(idp.grantCount('refresh_token').errors.invalid_grant).toBeUndefined();
    expect((await idp.introspect(renewed.accessToken)).active).toBe(true);
    expect(later.status()[0]).toMatchObject({ state: 'valid', servable: true });
  });

  it('an uncertain refresh of an expired token is tried once more at once; only invalid_grant then means a login', async () => {
    const { dir, store } = await loggedInStore();
    await idp.revokeAllFor('alice');
    idp.resetCounters();
    // The IdP takes the request and never answers: the answer is lost (uncertain), unlike a proxy's 503.
    idp.fault({ fault: 'hang', grantType: 'refresh_token' });
    const later = engine({ servers: [userServer(idp, { httpTimeoutMs: 1_000 })], store, now: () => Date.now() + HOUR });
    await expect(later.getToken('corp')).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(idp.grantCount('refresh_token').requests).toBe(2);
    expect((await storedRecord(dir)).tombstone).toMatchObject({ reason: 'invalid_grant' });
    expect(later.status()[0]).toMatchObject({ state: 'needsReauth' });
  });
});

describe('tokens living longer than the timers can count', () => {
  it('a 30-day client_credentials token: 6 calls → 1 token request, no TimeoutOverflowWarning', async () => {
    const long = await startIdp({ accessTokenTtl: 30 * DAY / 1000 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      long.resetCounters();
      const machine = engine({ servers: [machineServer(long)], store: createFileStore({ dir: await tempDir() }) });
      for (let i = 0; i < 6; i++) {
        await machine.getToken('svc');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(long.grantCount('client_credentials').requests).toBe(1);
      expect(machine.status()[0]).toMatchObject({ state: 'valid', servable: true });
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
      await long.stop();
    }
  });
});
