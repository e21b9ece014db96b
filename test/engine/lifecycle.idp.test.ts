import type { ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../../lab/index.mjs';
import type { Logger } from '../../src/adapters/logger.js';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { TokenError } from '../../src/errors.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { browserEnv, machineServer, nextLine, spawnEngineChild, tempDir, until, userServer } from './support.js';

const HOUR = 3_600_000;
let idp: Idp;
const engines: TokenEngine[] = [];
const children: ChildProcess[] = [];

const engine = (options: Parameters<typeof createTokenEngine>[0]) => {
  const created = createTokenEngine({ notify: () => {}, flowDeps: { env: browserEnv() }, ...options });
  engines.push(created);
  return created;
};

const recordingLogger = () => {
  const records: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (event: string, fields?: Record<string, unknown>) => void records.push({ level, event, ...(fields ? { fields } : {}) });
  return { records, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } satisfies Logger };
};

/** Logs in once (through the lab's BROWSER shim) and returns the store holding the user's token. */
async function loggedInStore() {
  const dir = await tempDir();
  const store = createFileStore({ dir });
  const first = engine({ servers: [userServer(idp)], store });
  const token = await first.login('corp');
  first.stop();
  return { dir, store, token };
}

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtl: 300 });
});
afterEach(() => {
  engines.splice(0).forEach((e) => e.stop());
  children.splice(0).forEach((c) => c.kill('SIGKILL'));
  idp.clearFaults();
});
afterAll(async () => {
  await idp.stop();
});

describe('single flight against a real IdP', () => {
  it('50 concurrent getToken calls on an expired user token make exactly 1 refresh request', async () => {
    const { store, token } = await loggedInStore();
    idp.resetCounters();
    // The same store an hour later: the held token is past its hard deadline, every caller must wait.
    const later = engine({ servers: [userServer(idp)], store, now: () => Date.now() + HOUR });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => later.getToken('corp')));

    expect(idp.grantCount('refresh_token').requests).toBe(1);
    expect(idp.grantCount('refresh_token').errors.invalid_grant).toBeUndefined();
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tokens[0]!.accessToken).not.toBe(token.accessToken);
    expect(tokens[0]!.refreshToken).not.toBe(token.refreshToken);
    expect((await idp.introspect(tokens[0]!.accessToken)).active).toBe(true);
    // Persisted before it was published: the rotated refresh token is what the store holds now.
    const record = await store.read(storeKey({ providerId: 'corp', issuer: idp.issuer, clientId: idp.clients.native.client_id, flow: 'authorization_code', scopes: ['openid', 'offline_access', 'api:read'] }));
    expect(record?.token?.refreshToken).toBe(tokens[0]!.refreshToken);
    expect(record?.generation).toBe(2);
  });

  it('50 concurrent getToken calls with an empty store make exactly 1 client_credentials request', async () => {
    idp.resetCounters();
    const machine = engine({ servers: [machineServer(idp)], store: createFileStore({ dir: await tempDir() }) });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => machine.getToken('svc')));
    expect(idp.grantCount('client_credentials').requests).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tokens[0]!.refreshToken).toBeUndefined();
  });

  it('a fresh token is served from the store without any request', async () => {
    const { store, token } = await loggedInStore();
    idp.resetCounters();
    const again = engine({ servers: [userServer(idp)], store });
    expect((await again.getToken('corp')).accessToken).toBe(token.accessToken);
    expect(idp.counters.token).toEqual({});
  });
});

describe('strict refresh-token policy against a real IdP', () => {
  it('a revoked grant: invalid_grant → a login is required, the stored token is kept and tombstoned', async () => {
    const { store, token } = await loggedInStore();
    await idp.revokeAllFor('alice');
    const later = engine({ servers: [userServer(idp)], store, now: () => Date.now() + HOUR });
    const failure = await later.getToken('corp').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TokenError);
    expect((failure as TokenError).code).toBe('invalid_grant');
    expect((failure as TokenError).message).toContain('[corp]');
    expect((failure as TokenError).fix).toMatch(/log in/i);
    expect(later.status()[0]).toMatchObject({ state: 'needsReauth', servable: false });
    const files = (await readdir(store.location!)).filter((f) => f.endsWith('.json'));
    const record = JSON.parse(await readFile(join(store.location!, files[0]!), 'utf8'));
    expect(record.token.refreshToken).toBe(token.refreshToken);
    expect(record.tombstone).toMatchObject({ reason: 'invalid_grant', generation: record.generation });
    // A second process reading the tombstone asks for a login without spending the dead token again.
    idp.resetCounters();
    const other = engine({ servers: [userServer(idp)], store, now: () => Date.now() + HOUR });
    await expect(other.getToken('corp')).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(idp.counters.token).toEqual({});
    // A login (LOGIN.REQUESTED) replaces it.
    const fresh = await other.login('corp');
    expect((await idp.introspect(fresh.accessToken)).active).toBe(true);
    expect(other.status()[0]).toMatchObject({ state: 'valid', servable: true });
  });

  it('a process waiting for a login picks up the login another process made', async () => {
    const dir = await tempDir();
    const store = createFileStore({ dir });
    const waiting = engine({ servers: [userServer(idp)], store });
    await expect(waiting.getToken('corp')).rejects.toMatchObject({ code: 'interaction_required' });
    expect(waiting.status()[0]!.state).toBe('needsReauth');
    const cli = engine({ servers: [userServer(idp)], store: createFileStore({ dir }) });
    const token = await cli.login('corp');
    expect((await waiting.getToken('corp')).accessToken).toBe(token.accessToken);
  });

  it('a refresh answer without refresh_token keeps the old one (non-rotating IdP)', async () => {
    const plain = await startIdp({ accessTokenTtl: 300, rotateRefreshToken: false });
    try {
      const dir = await tempDir();
      const store = createFileStore({ dir });
      const first = engine({ servers: [userServer(plain)], store });
      const token = await first.login('corp');
      first.stop();
      plain.fault({ fault: 'drop_refresh_token', grantType: 'refresh_token' });
      const later = engine({ servers: [userServer(plain)], store, now: () => Date.now() + HOUR });
      const refreshed = await later.getToken('corp');
      expect(refreshed.accessToken).not.toBe(token.accessToken);
      expect(refreshed.refreshToken).toBe(token.refreshToken);
      expect(plain.grantCount('refresh_token').requests).toBe(1);
    } finally {
      await plain.stop();
    }
  });

  it('a login whose answer has no refresh_token is refused with a clear error', async () => {
    idp.fault({ fault: 'drop_refresh_token', grantType: 'authorization_code' });
    const user = engine({ servers: [userServer(idp)], store: createFileStore({ dir: await tempDir() }) });
    const failure = (await user.login('corp').catch((e: unknown) => e)) as TokenError;
    expect(failure.code).toBe('no_refresh_token');
    expect(failure.message).toContain('[corp]');
    expect(failure.message).toMatch(/refresh token/);
  });

  it('a user flow without a token asks for a login instead of prompting on its own', async () => {
    const user = engine({ servers: [userServer(idp)], store: createFileStore({ dir: await tempDir() }) });
    const failure = (await user.getToken('corp').catch((e: unknown) => e)) as TokenError;
    expect(failure.code).toBe('interaction_required');
    expect(failure.fix).toMatch(/opencode auth login/);
  });
});

describe('cross-process safety with a shared file store', () => {
  it('8 processes at the expiry edge: exactly 1 refresh grant, 0 invalid_grant, 8 valid tokens', async () => {
    const { dir } = await loggedInStore();
    idp.resetCounters();
    const servers = [userServer(idp)];
    const spawned = Array.from({ length: 8 }, () => spawnEngineChild({ servers, dir, shiftMs: HOUR }));
    children.push(...spawned);
    await Promise.all(spawned.map((c) => nextLine(c)));
    const answers = spawned.map((c) => nextLine(c, 30_000));
    spawned.forEach((c) => c.stdin!.write('go\n'));
    const results = (await Promise.all(answers)).map((line) => JSON.parse(line) as { ok: boolean; accessToken?: string; code?: string });

    expect(results.map((r) => r.ok)).toEqual(Array(8).fill(true));
    expect(idp.grantCount('refresh_token').requests).toBe(1);
    expect(idp.grantCount('refresh_token').errors.invalid_grant).toBeUndefined();
    const distinct = [...new Set(results.map((r) => r.accessToken!))];
    expect(distinct).toHaveLength(1);
    expect((await idp.introspect(distinct[0]!)).active).toBe(true);
  });

  it('a process killed with SIGKILL mid-refresh (holding the lock) does not block the next one', async () => {
    const { dir, store } = await loggedInStore();
    idp.resetCounters();
    idp.fault({ fault: 'hang', grantType: 'refresh_token' });
    const [stuck] = [spawnEngineChild({ servers: [userServer(idp)], dir, shiftMs: HOUR })];
    children.push(stuck!);
    await nextLine(stuck!);
    stuck!.stdin!.write('go\n');
    await until(() => idp.grantCount('refresh_token').requests === 1);
    expect((await readdir(dir)).some((f) => f.endsWith('.lock'))).toBe(true);
    stuck!.kill('SIGKILL');
    await new Promise((r) => stuck!.once('exit', r));

    // The bound is the lock wait itself: a lock still held after 10 s would fail this with lock_timeout.
    const next = engine({ servers: [userServer(idp)], store, now: () => Date.now() + HOUR, lockWaitMs: 10_000 });
    const token = await next.getToken('corp');
    expect((await idp.introspect(token.accessToken)).active).toBe(true);
    expect(idp.grantCount('refresh_token').requests).toBe(2);
    expect(idp.grantCount('refresh_token').errors.invalid_grant).toBeUndefined();
  });
});

describe('a process that exits as soon as it has its token', () => {
  it('leaves no lock behind: the lock is back before the token is served (others never break a dead lock)', async () => {
    const dir = await tempDir();
    for (let i = 0; i < 3; i++) {
      const child = spawnEngineChild({ servers: [machineServer(idp)], dir, shiftMs: i * HOUR });
      children.push(child);
      await nextLine(child);
      const answer = nextLine(child, 30_000);
      child.stdin!.write('go\n');
      expect(JSON.parse(await answer)).toMatchObject({ ok: true });
      await new Promise((r) => child.once('exit', r));
      expect((await readdir(dir)).filter((f) => f.endsWith('.lock'))).toEqual([]);
    }
    // And in this process: the moment getToken resolves, the lock file is gone.
    const here = engine({ servers: [machineServer(idp)], store: createFileStore({ dir }), now: () => Date.now() + 10 * HOUR });
    await here.getToken('svc');
    expect((await readdir(dir)).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});

describe('failing fast', () => {
  it('invalid_client: the error names the provider and the fix, and the next demands fail fast without the IdP', async () => {
    idp.resetCounters();
    const broken = engine({ servers: [machineServer(idp, { clientSecret: 'wrong-secret-value' })], store: createFileStore({ dir: await tempDir() }) });
    const first = (await broken.getToken('svc').catch((e: unknown) => e)) as TokenError;
    expect(first.code).toBe('invalid_client');
    expect(first.message).toContain('[svc]');
    expect(first.fix).toMatch(/client/);
    expect(first.message).not.toContain('wrong-secret-value');
    const again = await Promise.all([broken.getToken('svc'), broken.getToken('svc')].map((p) => p.catch((e: unknown) => e)));
    expect(again.map((e) => (e as TokenError).code)).toEqual(['invalid_client', 'invalid_client']);
    expect(idp.grantCount('client_credentials').requests).toBe(1);
    expect(broken.status()[0]).toMatchObject({ state: 'coolingDown', lastError: { code: 'invalid_client' } });
  });
});

describe('storage faults', () => {
  it('a corrupt store file: a warning, treated as a miss, then a fresh token', async () => {
    const dir = await tempDir();
    const { logger, records } = recordingLogger();
    const store = createFileStore({ dir, logger });
    const first = engine({ servers: [machineServer(idp)], store });
    await first.getToken('svc');
    first.stop();
    const file = (await readdir(dir)).find((f) => f.endsWith('.json'))!;
    await writeFile(join(dir, file), '{"schema":1,"token":{"accessToken":"trunc');
    idp.resetCounters();

    const next = engine({ servers: [machineServer(idp)], store, logger });
    const token = await next.getToken('svc');
    expect((await idp.introspect(token.accessToken)).active).toBe(true);
    expect(idp.grantCount('client_credentials').requests).toBe(1);
    const warning = records.find((r) => r.event === 'store_record_corrupt');
    expect(warning?.level).toBe('warn');
    expect(JSON.stringify(records)).not.toContain(token.accessToken);
    expect((await readdir(dir)).some((f) => f.includes('.corrupt-'))).toBe(true);
  });
});
