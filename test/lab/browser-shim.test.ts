import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_SCRIPT, startIdp, type Idp } from '../../lab/index.mjs';
import { authorizeUrl, DEVICE_GRANT, pkcePair, postToken, startLoopback } from './helpers.js';

let idp: Idp;
let dir: string;

beforeAll(async () => {
  idp = await startIdp();
  dir = await mkdtemp(path.join(tmpdir(), 'lab-browser-'));
});

afterAll(async () => {
  await idp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Open a URL the way a program honouring $BROWSER does: through the shell, URL as the last word. */
function openWithBrowserEnv(url: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const browser = `node ${BROWSER_SCRIPT}`;
  return new Promise((resolve) => {
    execFile('sh', ['-c', `$BROWSER "$1"`, 'sh', url], {
      env: { ...process.env, BROWSER: browser, ...env },
      timeout: 20_000,
    }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number((error as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

describe('BROWSER shim (lab/browser.mjs)', () => {
  it('completes an authorization_code login and hits the loopback callback; the log holds paths only', async () => {
    const loopback = await startLoopback();
    const log = path.join(dir, 'auth.log');
    try {
      const { verifier, challenge } = pkcePair();
      const url = authorizeUrl(idp, { redirectUri: loopback.redirectUri, challenge, state: 'shim-state' });
      const result = await openWithBrowserEnv(url, { LAB_BROWSER_LOG: log, LAB_LOGIN_HINT: 'grace' });
      expect(result).toEqual({ code: 0, stderr: '' });
      const callback = loopback.received[0];
      expect(callback?.searchParams.get('state')).toBe('shim-state');
      const tokens = await postToken(idp, {
        grant_type: 'authorization_code', code: callback?.searchParams.get('code') ?? '',
        redirect_uri: loopback.redirectUri, client_id: 'lab-native', code_verifier: verifier,
      });
      expect((await idp.introspect(tokens.json?.access_token)).sub).toBe('grace');
      const lines = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([expect.objectContaining({ kind: 'authorize', path: '/auth', callbackPath: '/oauth2/callback', status: 200 })]);
      expect(await readFile(log, 'utf8')).not.toMatch(/state|code_challenge|shim-state/);
    } finally {
      await loopback.close();
    }
  });

  it('approves a device from verification_uri_complete', async () => {
    const log = path.join(dir, 'device.log');
    const res = await fetch(idp.deviceAuthorizationEndpoint, {
      method: 'POST', body: new URLSearchParams({ client_id: 'lab-native', scope: 'openid' }),
    });
    const device = (await res.json()) as Record<string, string>;
    expect(await openWithBrowserEnv(device.verification_uri_complete ?? '', { LAB_BROWSER_LOG: log })).toEqual({ code: 0, stderr: '' });
    const tokens = await postToken(idp, { grant_type: DEVICE_GRANT, device_code: device.device_code ?? '', client_id: 'lab-native' });
    expect(tokens.status).toBe(200);
    const logged = await readFile(log, 'utf8');
    expect(JSON.parse(logged)).toMatchObject({ kind: 'device', path: '/device', approved: true });
    expect(logged).not.toContain(device.user_code);
  });

  it('exits non-zero with a clear message when the flow cannot complete', async () => {
    const result = await openWithBrowserEnv(`${idp.issuer}/nowhere`, {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/did not redirect back/);
  });
});
