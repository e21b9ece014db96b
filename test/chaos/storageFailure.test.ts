/**
 * The store stops taking writes (disk full, read-only mount) in the middle of a session: the renewed
 * tokens stay in memory with one warning, nothing stored is blanked, and the next write is tried again.
 *
 * The failure is injected at the TokenStore boundary (ENOSPC / EROFS from the file store's write): a real
 * full or read-only filesystem needs mount privileges, and file modes do not stop root, which CI runs as.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore, type TokenStore } from '../../src/adapters/storage/index.js';
import { TokenError } from '../../src/errors.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { browserEnv, expectStoreIntact, HOUR, printed, rememberSecret, removeTempDirs, scanForSecrets, tempDir } from './support.js';

let idp: Idp;
const engines: TokenEngine[] = [];

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtl: 300 });
});
afterEach(() => engines.splice(0).forEach((e) => e.stop()));
afterAll(async () => {
  await idp.stop();
  await removeTempDirs();
  scanForSecrets();
});

/** A file store whose writes fail with `errno` while `failing` is set, as a full or read-only disk does. */
function breakableStore(dir: string) {
  const real = createFileStore({ dir });
  const state = { failing: undefined as string | undefined, refusedWrites: 0 };
  const store: TokenStore = {
    ...real,
    write: async (key, next, expected) => {
      if (state.failing) {
        state.refusedWrites += 1;
        const cause = Object.assign(new Error(`${state.failing}: write failed`), { code: state.failing });
        throw new TokenError({ code: 'storage', providerId: key.providerId, message: `could not write the token store file (${state.failing})`, cause });
      }
      return real.write(key, next, expected);
    },
  };
  return { store, state };
}

describe.each(['ENOSPC', 'EROFS'])('the store refuses writes (%s) mid-session', (errno) => {
  it('keeps the renewed token in memory with one warning, blanks nothing, and writes again later', async () => {
    const dir = await tempDir();
    const { store, state } = breakableStore(dir);
    const warnings: string[] = [];
    const logger = {
      debug: () => {},
      info: (event: string) => void printed.push(event),
      warn: (event: string, fields?: Record<string, unknown>) => {
        warnings.push(event);
        printed.push(JSON.stringify({ event, ...fields }));
      },
      error: (event: string, fields?: Record<string, unknown>) => {
        warnings.push(event);
        printed.push(JSON.stringify({ event, ...fields }));
      },
    };
    let shift = 0;
    const engine = createTokenEngine({ servers: [{ id: 'corp', issuer: idp.issuer, baseURL: 'http://127.0.0.1:9/v1', clientId: idp.clients.native.client_id, scopes: ['openid', 'offline_access', 'api:read'], authFlow: 'authorization_code' }], store, logger, now: () => Date.now() + shift, notify: () => {}, flowDeps: { env: browserEnv() } });
    engines.push(engine);
    const login = await engine.login('corp');
    rememberSecret(login.accessToken, login.refreshToken);
    const before = JSON.stringify(await expectStoreIntact(dir));

    state.failing = errno;
    shift = HOUR;
    const renewed = await engine.getToken('corp');
    rememberSecret(renewed.accessToken, renewed.refreshToken);
    expect(renewed.accessToken).not.toBe(login.accessToken);
    expect((await idp.introspect(renewed.accessToken)).active).toBe(true);
    // Served again from memory, without another refresh or another warning.
    idp.resetCounters();
    expect((await engine.getToken('corp')).accessToken).toBe(renewed.accessToken);
    expect(idp.grantCount('refresh_token').requests).toBe(0);
    expect(warnings.filter((w) => /stor|persist|write/i.test(w))).toHaveLength(1);
    // Nothing blanked: the store still holds the record it had.
    expect(JSON.stringify(await expectStoreIntact(dir))).toBe(before);

    // The disk is back: the next renewal is written.
    state.failing = undefined;
    shift = 2 * HOUR;
    const third = await engine.getToken('corp');
    rememberSecret(third.accessToken, third.refreshToken);
    const records = (await expectStoreIntact(dir)) as { token?: { refreshToken?: string } }[];
    expect(records.some((r) => r.token?.refreshToken === third.refreshToken)).toBe(true);
    expect(state.refusedWrites).toBeGreaterThanOrEqual(1);
  });
});
