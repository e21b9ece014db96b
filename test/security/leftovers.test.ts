import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import type { TokenSet } from '../../src/machines/token.js';

/**
 * Issue 10.7: copies of a record survived `oauth_logout` — temp files of a writer killed with SIGKILL
 * mid-write (`.<record>.<pid>.<hex>.tmp`, 5 of 30 rounds) and quarantined `.corrupt-<time>` records. Logout
 * (store.delete) removes them; old ones of any key are collected when a store starts.
 */

const keyOf = (providerId: string) => storeKey({ providerId, issuer: 'https://idp.example.test', clientId: 'c', flow: 'client_credentials', scopes: ['a'] });
const token: TokenSet = { accessToken: 'at-secret-value', tokenType: 'Bearer', issuedAt: 1, expiresAt: 2, refreshToken: 'rt-secret-value' };
let root: string;
let n = 0;
const freshDir = () => path.join(root, `store-${n++}`);
const plant = (dir: string, name: string, ageMs = 0) => {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({ token }), { mode: 0o600 });
  if (ageMs) {
    const at = new Date(Date.now() - ageMs);
    utimesSync(file, at, at);
  }
};

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'leftovers-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('token copies (issue 10.7)', () => {
  it('logout removes the record with its temp files and quarantined copies, and leaves other keys alone', async () => {
    const dir = freshDir();
    const [mine, other] = [keyOf('corp'), keyOf('other')];
    const store = createFileStore({ dir });
    await store.write(mine, { token }, 0);
    await store.write(other, { token }, 0);
    plant(dir, `.${mine.id}.json.4242.a1b2c3d4e5f6.tmp`);
    plant(dir, `${mine.id}.json.corrupt-1700000000000`);
    plant(dir, `.${other.id}.json.4242.a1b2c3d4e5f6.tmp`);
    plant(dir, `${other.id}.json.corrupt-1700000000000`);

    await store.delete(mine);

    expect(readdirSync(dir).filter((name) => name.includes(mine.id))).toEqual([]);
    expect(readdirSync(dir).filter((name) => name.includes(other.id)).sort()).toEqual(
      [`${other.id}.json`, `.${other.id}.json.4242.a1b2c3d4e5f6.tmp`, `${other.id}.json.corrupt-1700000000000`].sort(),
    );
  });

  it('a store that starts collects old temp files and quarantined copies, keeping recent ones', async () => {
    const dir = freshDir();
    const key = keyOf('corp');
    await createFileStore({ dir }).write(key, { token }, 0);
    const hour = 60 * 60_000;
    plant(dir, `.${key.id}.json.1.000000000001.tmp`, hour);
    plant(dir, `.${key.id}.json.2.000000000002.tmp`);
    plant(dir, `${key.id}.json.corrupt-1600000000000`, 8 * 24 * hour);
    plant(dir, `${key.id}.json.corrupt-1700000000000`, hour);
    plant(dir, 'notes.txt', 30 * 24 * hour);

    expect((await createFileStore({ dir }).read(key))?.token?.refreshToken).toBe('rt-secret-value');
    await createFileStore({ dir }).write(key, { token }, 1);

    expect(readdirSync(dir).sort()).toEqual(
      [`${key.id}.json`, `.${key.id}.json.2.000000000002.tmp`, `${key.id}.json.corrupt-1700000000000`, 'notes.txt'].sort(),
    );
  });
});
