/**
 * SIGKILL at each step of a refresh, in a real child process sharing the file store with the next one:
 * the store is never corrupt, the lock is recovered, and the session survives wherever the IdP allows it
 * (under strict rotation an answer the dead process never persisted spent the refresh token).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/index.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { browserEnv, expectStoreIntact, HOUR, printed, recordingLogger, rememberSecret, removeTempDirs, scanForSecrets, spawnChild, tempDir, until, type Child } from './support.js';

let idp: Idp;
let relaxed: Idp;
const engines: TokenEngine[] = [];
const children: Child[] = [];

beforeAll(async () => {
  [idp, relaxed] = await Promise.all([startIdp({ accessTokenTtl: 300 }), startIdp({ accessTokenTtl: 300, rotateRefreshToken: false })]);
});
afterEach(() => {
  engines.splice(0).forEach((e) => e.stop());
  children.splice(0).forEach((c) => c.process.kill('SIGKILL'));
  idp.clearFaults();
});
afterAll(async () => {
  await Promise.all([idp.stop(), relaxed.stop()]);
  await removeTempDirs();
  scanForSecrets();
});

const server = (lab: Idp) => ({
  id: 'corp',
  issuer: lab.issuer,
  baseURL: 'http://127.0.0.1:9/v1',
  clientId: lab.clients.native.client_id,
  scopes: ['openid', 'offline_access', 'api:read'],
  authFlow: 'authorization_code',
});

function engine(lab: Idp, dir: string, shiftMs = 0) {
  const created = createTokenEngine({
    servers: [server(lab)],
    store: createFileStore({ dir }),
    now: () => Date.now() + shiftMs,
    logger: recordingLogger(),
    notify: (n) => void printed.push(n.text),
    flowDeps: { env: browserEnv() },
    lockWaitMs: 10_000,
  });
  engines.push(created);
  return created;
}

/** Logs in, then runs a child an hour later (its token expired) that kills itself at `killAt`. */
async function killedMidRefresh(lab: Idp, killAt: string, afterKill: () => Promise<void> = async () => {}) {
  const dir = await tempDir();
  const first = await engine(lab, dir).login('corp');
  rememberSecret(first.accessToken, first.refreshToken);
  lab.resetCounters();
  const child = await spawnChild({ servers: [server(lab)], dir, shiftMs: HOUR, killAt });
  children.push(child);
  child.go();
  await child.exited;
  expect(child.process.signalCode).toBe('SIGKILL');
  await expectStoreIntact(dir);
  await afterKill();
  // The next process, an hour on as well: the dead one's lock must not hold it up (lockWaitMs bounds it).
  const next = engine(lab, dir, HOUR);
  const outcome = await next.getToken('corp').then(
    (token) => ({ ok: true as const, token }),
    (error: { code: string }) => ({ ok: false as const, code: error.code }),
  );
  if (outcome.ok) rememberSecret(outcome.token.accessToken, outcome.token.refreshToken);
  await expectStoreIntact(dir);
  return { first, outcome, refreshes: lab.grantCount('refresh_token') };
}

describe('SIGKILL during a refresh', () => {
  it('holding the lock, nothing sent: the next process refreshes once and the session survives', async () => {
    const { first, outcome, refreshes } = await killedMidRefresh(idp, 'lock');
    expect(outcome.ok).toBe(true);
    expect(outcome.ok && outcome.token.accessToken).not.toBe(first.accessToken);
    expect(outcome.ok && (await idp.introspect(outcome.token.accessToken)).active).toBe(true);
    expect(refreshes.requests).toBe(1);
  });

  it('holding the lock, nothing sent: of 8 processes racing to break the dead lock one refreshes, all are served', async () => {
    const dir = await tempDir();
    const first = await engine(idp, dir).login('corp');
    rememberSecret(first.accessToken, first.refreshToken);
    idp.resetCounters();
    const killed = await spawnChild({ servers: [server(idp)], dir, shiftMs: HOUR, killAt: 'lock' });
    children.push(killed);
    killed.go();
    await killed.exited;
    expect(killed.process.signalCode).toBe('SIGKILL');

    // A slow IdP keeps the winner's refresh in flight while the others are still breaking the dead lock.
    idp.fault({ fault: 'delay_ms', ms: 300, grantType: 'refresh_token', times: 8 });
    const racers = await Promise.all(Array.from({ length: 8 }, () => spawnChild({ servers: [server(idp)], dir, shiftMs: HOUR })));
    children.push(...racers);
    racers.forEach((child) => child.go());
    await Promise.all(racers.map((child) => child.exited));
    const results = racers.map((child) => JSON.parse(child.lines[1] ?? '{}') as { ok?: boolean; code?: string; accessToken?: string });
    for (const result of results) rememberSecret(result.accessToken);
    const refreshes = idp.grantCount('refresh_token');
    expect({ requests: refreshes.requests, invalidGrant: refreshes.errors.invalid_grant ?? 0, failed: results.filter((r) => !r.ok).map((r) => r.code) })
      .toEqual({ requests: 1, invalidGrant: 0, failed: [] });
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    await expectStoreIntact(dir);
  });

  it('request on the wire, never processed (IdP hung): the refresh token is unspent and the session survives', async () => {
    idp.fault({ fault: 'hang', grantType: 'refresh_token' });
    const { outcome, refreshes } = await killedMidRefresh(idp, 'sent');
    expect(outcome.ok).toBe(true);
    expect(refreshes.requests).toBe(2);
    expect(refreshes.errors.invalid_grant).toBeUndefined();
  });

  it('request processed after the kill, under strict rotation: a clean "log in again", never a corrupt store or a stuck lock', async () => {
    idp.fault({ fault: 'delay_ms', ms: 600, grantType: 'refresh_token' });
    // The next process starts once the IdP has processed the dead one's request.
    const { outcome } = await killedMidRefresh(idp, 'sent', () => until(() => idp.grantCount('refresh_token').successes === 1));
    // The IdP rotated the token for a process that died: the old one is a replay and revokes the grant.
    expect(outcome.ok).toBe(false);
    expect(['invalid_grant', 'interaction_required']).toContain(!outcome.ok && outcome.code);
  });

  it('answer received, not yet persisted: strict rotation needs a login; an IdP without rotation keeps the session', async () => {
    const strict = await killedMidRefresh(idp, 'received');
    expect(strict.outcome.ok).toBe(false);
    expect(['invalid_grant', 'interaction_required']).toContain(!strict.outcome.ok && strict.outcome.code);
    const lenient = await killedMidRefresh(relaxed, 'received');
    expect(lenient.outcome.ok).toBe(true);
    expect(lenient.outcome.ok && (await relaxed.introspect(lenient.outcome.token.accessToken)).active).toBe(true);
  });

  it('record written, not yet published: the next process serves the persisted token without any request', async () => {
    const { first, outcome, refreshes } = await killedMidRefresh(idp, 'written');
    expect(outcome.ok).toBe(true);
    expect(outcome.ok && outcome.token.refreshToken).not.toBe(first.refreshToken);
    expect(refreshes.requests).toBe(1);
    expect(outcome.ok && (await idp.introspect(outcome.token.accessToken)).active).toBe(true);
  });
});
