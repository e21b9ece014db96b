import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { GenerationConflict } from '../../src/adapters/storage/types.js';
import { TokenError } from '../../src/errors.js';
import { keyInput, recordingLogger, tokenSet, withTempDir } from './helpers.js';

const key = storeKey(keyInput());
const posixOnly = process.platform === 'win32' ? it.skip : it;

describe('file store', () => {
  it('stores one JSON file per key under the directory it reports', async () => {
    await withTempDir(async (root) => {
      const dir = path.join(root, 'a', 'b');
      const store = createFileStore({ dir });
      expect(store.location).toBe(dir);
      await store.write(key, { token: tokenSet('at-1') }, 0);
      const onDisk = JSON.parse(await readFile(path.join(dir, `${key.id}.json`), 'utf8'));
      expect(onDisk).toMatchObject({ keyId: key.id, generation: 1, token: { accessToken: 'at-1' } });
      expect(await readdir(dir)).toEqual([`${key.id}.json`]);
    });
  });

  posixOnly('creates files 0600 and directories 0700, and tightens a looser existing directory', async () => {
    await withTempDir(async (root) => {
      const dir = path.join(root, 'tokens');
      await createFileStore({ dir }).write(key, { token: tokenSet('at-1') }, 0);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      expect((await stat(path.join(dir, `${key.id}.json`))).mode & 0o777).toBe(0o600);

      const loose = path.join(root, 'loose');
      await mkdir(loose, { mode: 0o755 });
      await chmod(loose, 0o755);
      const logger = recordingLogger();
      await createFileStore({ dir: loose, logger }).write(key, { token: tokenSet('at-1') }, 0);
      expect((await stat(loose)).mode & 0o777).toBe(0o700);
      expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', event: 'store_dir_mode_tightened' }));
    });
  });

  it('keeps unknown top-level fields written by a newer version', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, `${key.id}.json`);
      const newer = {
        schema: 1,
        keyId: key.id,
        providerId: 'corp',
        descriptor: key.descriptor,
        generation: 3,
        updatedAt: 1,
        token: tokenSet('at-3'),
        accountHint: { sub: 'user-42' },
      };
      await writeFile(file, JSON.stringify(newer), { mode: 0o600 });
      const store = createFileStore({ dir });
      const written = await store.write(key, { token: tokenSet('at-4') }, 3);
      expect(written.generation).toBe(4);
      expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ generation: 4, accountHint: { sub: 'user-42' }, token: { accessToken: 'at-4' } });
    });
  });

  it('moves a corrupt file aside with a warning, reads it as a miss, then writes afresh', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, `${key.id}.json`);
      const garbage = '{"schema":1,"token":{"accessToken":"SECRET-ACCESS-TOKEN"'; // truncated mid-write
      await writeFile(file, garbage, { mode: 0o600 });
      const logger = recordingLogger();
      const store = createFileStore({ dir, logger, now: () => 1_234 });

      expect(await store.read(key)).toBeUndefined();

      const warning = logger.entries.find((entry) => entry.event === 'store_record_corrupt');
      expect(warning).toMatchObject({ level: 'warn', fields: { providerId: 'corp', file: `${key.id}.json`, reason: 'invalid JSON' } });
      expect(JSON.stringify(logger.entries)).not.toContain('SECRET');
      const aside = path.join(dir, `${key.id}.json.corrupt-1234`);
      expect(await readFile(aside, 'utf8')).toBe(garbage);
      if (process.platform !== 'win32') expect((await stat(aside)).mode & 0o777).toBe(0o600);
      await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });

      const written = await store.write(key, { token: tokenSet('at-fresh') }, 0);
      expect(written.generation).toBe(1);
      expect((await store.read(key))?.token?.accessToken).toBe('at-fresh');
    });
  });

  it('treats another key’s record or a broken schema in the file as corrupt', async () => {
    await withTempDir(async (dir) => {
      const logger = recordingLogger();
      const store = createFileStore({ dir, logger, now: () => 99 });
      const other = storeKey(keyInput({ clientId: 'someone-else' }));
      await store.write(other, { token: tokenSet('at-other') }, 0);
      await writeFile(path.join(dir, `${key.id}.json`), await readFile(path.join(dir, `${other.id}.json`)));
      expect(await store.read(key)).toBeUndefined();

      const badToken = { schema: 1, keyId: key.id, providerId: 'corp', descriptor: key.descriptor, generation: 1, updatedAt: 1, token: { accessToken: 42 } };
      await writeFile(path.join(dir, `${key.id}.json`), JSON.stringify(badToken));
      expect(await store.read(key)).toBeUndefined();

      expect(logger.entries.filter((e) => e.event === 'store_record_corrupt').map((e) => e.fields.reason)).toEqual([
        'keyId does not match the file',
        'token.accessToken invalid',
      ]);
      expect((await store.read(other))?.token?.accessToken).toBe('at-other');
    });
  });

  it('recreates its directory when it was removed while the store was in use', async () => {
    await withTempDir(async (root) => {
      const dir = path.join(root, 'tokens');
      const store = createFileStore({ dir });
      await store.write(key, { token: tokenSet('at-1') }, 0);
      await rm(dir, { recursive: true });
      expect(await store.read(key)).toBeUndefined();
      expect((await store.write(key, { token: tokenSet('at-2') }, 0)).generation).toBe(1);
      await rm(dir, { recursive: true });
      await (await store.lock(key)).release();
      if (process.platform !== 'win32') expect((await stat(dir)).mode & 0o777).toBe(0o700);
    });
  });

  it('reports other I/O failures as a storage error naming the provider, the path and a fix', async () => {
    await withTempDir(async (dir) => {
      // A directory where the record should be: a read error that is neither "missing" nor "corrupt".
      await mkdir(path.join(dir, `${key.id}.json`));
      const store = createFileStore({ dir });
      const failure = await store.read(key).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TokenError);
      expect(failure).toMatchObject({ code: 'storage', providerId: 'corp' });
      expect((failure as TokenError).message).toContain(path.join(dir, `${key.id}.json`));
      expect((failure as TokenError).fix).toBeTruthy();
    });
  });

  it('serialises 25 concurrent compare-and-swap writers: no lost update, no temp or lock file left', async () => {
    await withTempDir(async (dir) => {
      const store = createFileStore({ dir });
      let successes = 0;
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: 25 }, async (_, writer) => {
          for (let round = 0; round < 2; round++) {
            for (let attempt = 0; ; attempt++) {
              if (attempt > 200) throw new Error('compare-and-swap never succeeded');
              const current = await store.read(key);
              try {
                await store.write(key, { token: tokenSet(`at-${writer}-${round}`) }, current?.generation ?? 0);
                successes += 1;
                break;
              } catch (error) {
                if (!(error instanceof GenerationConflict)) throw error;
                conflicts += 1;
              }
            }
          }
        }),
      );
      expect(successes).toBe(50);
      expect(conflicts).toBeGreaterThan(0);
      expect((await store.read(key))?.generation).toBe(successes);
      expect(await readdir(dir)).toEqual([`${key.id}.json`]);
    });
  });
});
