/**
 * The IdP flapping (HTML 503 from its proxy, 429 with Retry-After) while six processes sharing one store
 * all need a refresh: 0 forced logouts. Every failure a process sees is transient, the refresh token
 * survives in the store, and once the IdP is back a process refreshes with it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/index.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { userServer } from '../engine/support.js';
import { browserEnv, expectStoreIntact, HOUR, printed, recordingLogger, rememberSecret, removeTempDirs, scanForSecrets, spawnChild, tempDir, type Child } from './support.js';

let idp: Idp;
const engines: TokenEngine[] = [];
const children: Child[] = [];
const LOGIN_NEEDED = ['invalid_grant', 'interaction_required', 'no_refresh_token', 'evicted', 'uncertain'];

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtl: 300 });
});
afterEach(() => {
  engines.splice(0).forEach((e) => e.stop());
  children.splice(0).forEach((c) => c.process.kill('SIGKILL'));
  idp.clearFaults();
});
afterAll(async () => {
  await idp.stop();
  await removeTempDirs();
  scanForSecrets();
});

const server = () => userServer(idp);

function engine(dir: string, shiftMs = 0) {
  const created = createTokenEngine({
    servers: [server()],
    store: createFileStore({ dir }),
    now: () => Date.now() + shiftMs,
    logger: recordingLogger(),
    notify: (n) => void printed.push(n.text),
    flowDeps: { env: browserEnv() },
  });
  engines.push(created);
  return created;
}

describe('IdP flapping during the refreshes of 6 processes', () => {
  it('HTML 503s and 429s: no process is logged out, and the session refreshes once the IdP answers', async () => {
    const dir = await tempDir();
    const login = await engine(dir).login('corp');
    rememberSecret(login.accessToken, login.refreshToken);
    idp.resetCounters();
    idp.fault({ fault: 'http_503_html', grantType: 'refresh_token', times: 3 });
    idp.fault({ fault: 'http_429', grantType: 'refresh_token', times: 2, retryAfter: 1 });

    // An hour on: every process holds an expired token and must refresh; each asks twice, 1 s apart.
    const processes = await Promise.all(Array.from({ length: 6 }, () => spawnChild({ servers: [server()], dir, shiftMs: HOUR, calls: 2, everyMs: 1_000 })));
    children.push(...processes);
    processes.forEach((child) => child.go());
    await Promise.all(processes.map((child) => child.exited));
    const results = processes.flatMap((child) => child.lines.slice(1).map((line) => JSON.parse(line) as { ok: boolean; code?: string; accessToken?: string }));
    expect(results).toHaveLength(12);
    for (const result of results) if (result.accessToken) rememberSecret(result.accessToken);

    // Before (661bc6b): the first 503 made the refresh "uncertain", the refresh token was tombstoned and
    // every process after it needed a login.
    const forcedLogouts = results.filter((r) => !r.ok && LOGIN_NEEDED.includes(r.code ?? ''));
    expect(forcedLogouts).toEqual([]);
    expect(results.filter((r) => !r.ok).every((r) => r.code === 'transient')).toBe(true);
    await expectStoreIntact(dir);

    // The IdP is back: one more process, an hour on, refreshes with what the store kept.
    const after = engine(dir, HOUR);
    const token = await after.getToken('corp');
    rememberSecret(token.accessToken, token.refreshToken);
    expect((await idp.introspect(token.accessToken)).active).toBe(true);
    expect(idp.grantCount('refresh_token').errors.invalid_grant).toBeUndefined();
  });
});
