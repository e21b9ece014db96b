/**
 * The IdP flapping with timeouts (requests it never answers, hence never processed) during the refreshes of
 * six processes sharing one store: 0 forced logouts. A lost answer is `uncertain`; the lifecycle resolves it by
 * re-reading the store and, when the access token can no longer be served, one more refresh attempt
 * (issue 9.2, lifecycle half). This file passes only with that lifecycle rule in place.
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
const LOGIN_NEEDED = ['invalid_grant', 'interaction_required', 'no_refresh_token', 'evicted'];

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

// Hung requests end after 300 ms: a lost answer, as the IdP never processed them.
const server = () => userServer(idp, { httpTimeoutMs: 300 });

describe('IdP timeouts during the refreshes of 6 processes', () => {
  it('two refreshes hang (never processed): no process is logged out, and the refresh token is never replayed into a revocation', async () => {
    const dir = await tempDir();
    const first = createTokenEngine({ servers: [server()], store: createFileStore({ dir }), logger: recordingLogger(), notify: (n) => void printed.push(n.text), flowDeps: { env: browserEnv() } });
    engines.push(first);
    const login = await first.login('corp');
    rememberSecret(login.accessToken, login.refreshToken);
    first.stop();
    idp.resetCounters();
    idp.fault({ fault: 'hang', grantType: 'refresh_token', times: 2 });
    idp.fault({ fault: 'http_503_html', grantType: 'refresh_token', times: 1 });

    const processes = await Promise.all(Array.from({ length: 6 }, () => spawnChild({ servers: [server()], dir, shiftMs: HOUR, calls: 3, everyMs: 800 })));
    children.push(...processes);
    processes.forEach((child) => child.go());
    await Promise.all(processes.map((child) => child.exited));
    const results = processes.flatMap((child) => child.lines.slice(1).map((line) => JSON.parse(line) as { ok: boolean; code?: string; accessToken?: string }));
    for (const result of results) if (result.accessToken) rememberSecret(result.accessToken);
    expect(results).toHaveLength(18);
    expect(results.filter((r) => !r.ok && LOGIN_NEEDED.includes(r.code ?? ''))).toEqual([]);
    // A process whose refresh hung (twice: the first attempt and the one more after re-reading the store) or
    // got the 503 rests in its 5 s cool-down for the rest of this 1.6 s run (docs/lifecycle.md): its calls fail
    // as an outage, credentials kept. Which process that is depends on who takes the lock first, so the
    // assertion is on the failures' kind and on the shared session, not on one process's last call.
    expect(results.filter((r) => !r.ok).map((r) => r.code).filter((code) => code !== 'uncertain' && code !== 'transient')).toEqual([]);
    expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(12);
    const refresh = idp.grantCount('refresh_token');
    expect(refresh.errors.invalid_grant).toBeUndefined();
    expect(refresh.successes).toBeGreaterThanOrEqual(1);
    await expectStoreIntact(dir);

    // The session survived in the store: a new process is served without a login and without a refresh.
    const logins = idp.grantCount('authorization_code').requests;
    const after = createTokenEngine({ servers: [server()], store: createFileStore({ dir }), logger: recordingLogger(), notify: (n) => void printed.push(n.text), flowDeps: { env: browserEnv() } });
    engines.push(after);
    const served = await after.getToken('corp');
    rememberSecret(served.accessToken);
    expect(idp.grantCount('authorization_code').requests).toBe(logins);
    expect(idp.grantCount('refresh_token').requests).toBe(refresh.requests);
  });
});
