import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import type { TokenSet } from '../../src/machines/token.js';

/**
 * Issue 10.6: a shared XDG_CACHE_HOME (mode 1777, like /tmp). Another local user (uid 65534, made with chown:
 * the tests run as root here) pre-creates the app directory 0777, or the store directory is a symlink to
 * the victim's public_html. The store of 661bc6b chmodded and wrote tokens there.
 */

const key = storeKey({ providerId: 'corp', issuer: 'https://idp.example.test', clientId: 'c', flow: 'client_credentials', scopes: ['a'] });
const token: TokenSet = { accessToken: 'at-secret-value', tokenType: 'Bearer', issuedAt: 1, expiresAt: 2, refreshToken: 'rt-secret-value' };
const OTHER_UID = 65534;
let root: string;
let n = 0;

/** A fresh shared cache root; returns the default store path under it. */
function sharedCache(): { cache: string; app: string; store: string } {
  const cache = path.join(root, `cache-${n++}`);
  mkdirSync(cache);
  chmodSync(cache, 0o1777);
  const app = path.join(cache, 'opencode-oauth-machines');
  return { cache, app, store: path.join(app, 'tokens') };
}

const write = (dir: string) => createFileStore({ dir }).write(key, { token }, 0);

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'store-dirs-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the store refuses directories others control (issue 10.6)', () => {
  it('an app directory pre-created by another user, mode 0777: refused, nothing made or written in it', async () => {
    const { app, store } = sharedCache();
    mkdirSync(app);
    chownSync(app, OTHER_UID, OTHER_UID);
    chmodSync(app, 0o777);
    const error = await write(store).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'storage', providerId: 'corp' });
    expect(String((error as Error).message)).toContain(`${app} belongs to another user (uid ${OTHER_UID})`);
    expect(String((error as Error).message)).toMatch(/remove .* and start again|XDG_CACHE_HOME/);
    expect(readdirSync(app)).toEqual([]);
    expect(statSync(app).mode & 0o777).toBe(0o777);
  });

  it('an app directory of ours but world-writable: refused (someone may already have swapped what is inside)', async () => {
    const { app, store } = sharedCache();
    mkdirSync(app);
    chmodSync(app, 0o777);
    const error = await write(store).catch((e: unknown) => e);
    expect(String((error as Error).message)).toContain('is writable by every user');
    expect(existsSync(store)).toBe(false);
  });

  it('a store directory that is a symlink to public_html: refused, the target neither chmodded nor written', async () => {
    const { app, store } = sharedCache();
    const publicHtml = path.join(root, `public_html-${n}`);
    mkdirSync(publicHtml);
    chmodSync(publicHtml, 0o755);
    mkdirSync(app, { mode: 0o700 });
    symlinkSync(publicHtml, store);
    const error = await write(store).catch((e: unknown) => e);
    expect(String((error as Error).message)).toContain(`${store} is a symbolic link`);
    expect(readdirSync(publicHtml)).toEqual([]);
    expect(statSync(publicHtml).mode & 0o777).toBe(0o755);
  });

  it('a renamed-away store directory is recreated as ours; a fresh store is 0700 all the way down', async () => {
    const { app, store } = sharedCache();
    await write(store);
    expect(lstatSync(app).mode & 0o777).toBe(0o700);
    expect(lstatSync(store).mode & 0o777).toBe(0o700);
    renameSync(store, `${store}-moved`);
    const fresh = createFileStore({ dir: store });
    expect(await fresh.read(key)).toBeUndefined();
    await fresh.write(key, { token }, 0);
    expect(lstatSync(store).isDirectory()).toBe(true);
  });

  it('a cache root others can write without the sticky bit is refused', async () => {
    const { cache, store } = sharedCache();
    chmodSync(cache, 0o777);
    await expect(write(store)).rejects.toThrow(/without the sticky bit/);
  });
});
