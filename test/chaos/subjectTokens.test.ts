/**
 * Platform identities that expire and rotate under a running job, against the lab's CI issuer and IdP:
 * - a GitHub-style subject token living 5 minutes over a 30-minute job, time-scaled 1 min → 0.4 s (a 2 s
 *   token over a 12 s job), asked for every 0.4 s: every token served is active at the IdP, none outlives
 *   the subject token it came from, no call fails;
 * - kubelet-style `..data` symlink swaps of a projected token every 100 ms while tokens are acquired:
 *   never a half-read or missing file.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, startIdp, type CiIssuer, type Idp } from '../../lab/index.mjs';
import { createMemoryStore } from '../../src/adapters/storage/index.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { printed, recordingLogger, rememberSecret, removeTempDirs, scanForSecrets, tempDir } from './support.js';

let ci: CiIssuer;
let idp: Idp;
const engines: TokenEngine[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ci = await startCiIssuer({ defaultTtlSec: 2 });
  // Projected SA tokens are reusable until they expire (as at Keycloak); the GitHub case mints one per read anyway.
  idp = await startIdp({ ciIssuer: ci, accessTokenTtl: 300, singleUseSubjectTokens: false });
  rememberSecret(ci.actionsEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
});
afterEach(() => engines.splice(0).forEach((e) => e.stop()));
afterAll(async () => {
  await Promise.all([idp.stop(), ci.stop()]);
  await removeTempDirs();
  scanForSecrets();
});

function engine(server: Record<string, unknown>, env: Record<string, string | undefined> = {}) {
  const created = createTokenEngine({
    servers: [{ id: 'ci', issuer: idp.issuer, baseURL: 'http://127.0.0.1:9/v1', clientId: idp.clients.ci.client_id, scopes: ['api:read'], tokenExpirySkewMs: 300, ...server }],
    store: createMemoryStore(),
    logger: recordingLogger(),
    notify: (n) => void printed.push(n.text),
    flowDeps: { env: { PATH: process.env.PATH, ...env } },
  });
  engines.push(created);
  return created;
}

describe('short-lived subject tokens over a long job', () => {
  it('a 2 s GitHub-style token over a 12 s job (5 min over 30 min, scaled): 30 calls, 0 failures, 0 dead tokens', async () => {
    const job = engine({ authFlow: 'jwt_bearer', subjectTokenSource: { type: 'github_actions', audience: idp.issuer } }, ci.actionsEnv);
    const failures: string[] = [];
    const served = new Set<string>();
    for (let i = 0; i < 30; i++) {
      try {
        const token = await job.getToken('ci');
        rememberSecret(token.accessToken);
        served.add(token.accessToken);
        const introspection = await idp.introspect(token.accessToken);
        if (!introspection.active) failures.push(`call ${i}: served an inactive token`);
        // The minted token never outlives the subject token (2 s), whatever the IdP's own 300 s would allow.
        if (token.expiresAt - token.issuedAt > 2_500) failures.push(`call ${i}: lives ${token.expiresAt - token.issuedAt} ms`);
      } catch (error) {
        failures.push(`call ${i}: ${(error as Error).message}`);
      }
      await sleep(400);
    }
    expect(failures).toEqual([]);
    // The subject token expired about six times over the job: it was re-read and re-exchanged each time.
    expect(served.size).toBeGreaterThanOrEqual(4);
    expect(ci.counters.actionsToken.ok).toBeGreaterThanOrEqual(served.size);
  });
});

describe('kubelet-style projected token rotation', () => {
  it('..data swapped every 100 ms while 40 token exchanges read it: every read is a whole, valid token', async () => {
    const dir = await tempDir();
    const file = join(dir, 'token');
    await ci.writeProjectedToken(file, { aud: idp.issuer, atomic: true, ttlSec: 600 });
    let swapping = true;
    const swaps = (async () => {
      let count = 0;
      while (swapping) {
        const written = await ci.writeProjectedToken(file, { aud: idp.issuer, atomic: true, ttlSec: 600 });
        rememberSecret(written.token);
        count += 1;
        await sleep(100);
      }
      return count;
    })();
    const failures: string[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        // A fresh engine each time: every acquisition reads the file anew (nothing cached in memory).
        const pod = engine({ authFlow: 'token_exchange', subjectTokenSource: { type: 'kubernetes_sa', tokenPath: file } });
        try {
          const token = await pod.getToken('ci');
          rememberSecret(token.accessToken);
          const introspection = await idp.introspect(token.accessToken);
          if (introspection.sub !== 'system:serviceaccount:lab:opencode') failures.push(`exchange ${i}: sub ${String(introspection.sub)}`);
        } catch (error) {
          failures.push(`exchange ${i}: ${(error as Error).message}`);
        }
        pod.stop();
        await sleep(30);
      }
    } finally {
      swapping = false;
    }
    const count = await swaps;
    expect(failures).toEqual([]);
    expect(count).toBeGreaterThanOrEqual(5);
  });
});
