import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readSafeFile } from '../adapters/safeFile.js';
import { sanitiseProviderId } from '../adapters/storage/storeKey.js';
import type { SyncedModel } from '../machines/modelSync.js';

/**
 * The last good model list per provider, on disk, so a user-flow provider shows its models in `/models`
 * before anyone logs in (OpenCode hides a provider with no models). Non-secret: ids and names only.
 * A list is tied to the baseURL it came from; another gateway's list is not reused.
 */

interface CachedList {
  schema: 1;
  providerId: string;
  baseURL: string;
  syncedAt: number;
  models: SyncedModel[];
}

export interface ModelCache {
  readonly dir: string;
  read(providerId: string, baseURL: string): Promise<SyncedModel[] | undefined>;
  write(providerId: string, baseURL: string, models: readonly SyncedModel[]): Promise<void>;
}

/** A few thousand models at most; a bigger file (or a FIFO, a device) is not a cache of ours. */
const MAX_CACHE_BYTES = 4 * 1024 * 1024;

const isModel = (value: unknown): value is SyncedModel =>
  typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';

/** Beside the token store: `<store dir>.models/<provider>-<12 hex of sha256(provider id)>.json`. */
export function modelCacheDir(storeDir: string): string {
  return `${storeDir.replace(/[\\/]+$/, '')}.models`;
}

export function createModelCache(dir: string, now: () => number = Date.now): ModelCache {
  // Hashed like the token store's keys: `corp/a` and `corp:a` sanitise alike but are different providers.
  const file = (providerId: string) =>
    path.join(dir, `${sanitiseProviderId(providerId)}-${createHash('sha256').update(providerId, 'utf8').digest('hex').slice(0, 12)}.json`);
  return {
    dir,
    async read(providerId, baseURL) {
      try {
        const parsed = JSON.parse(await readSafeFile(file(providerId), { maxBytes: MAX_CACHE_BYTES })) as Partial<CachedList>;
        if (parsed.schema !== 1 || parsed.providerId !== providerId || parsed.baseURL !== baseURL) return undefined;
        return Array.isArray(parsed.models) ? parsed.models.filter(isModel) : undefined;
      } catch {
        // Missing or unreadable: the list is only a convenience, the next sync rebuilds it.
        return undefined;
      }
    },
    async write(providerId, baseURL, models) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const target = file(providerId);
      const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const body: CachedList = { schema: 1, providerId, baseURL, syncedAt: now(), models: [...models] };
      try {
        await writeFile(temp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
        await rename(temp, target);
      } catch (error) {
        await unlink(temp).catch(() => {});
        throw error;
      }
    },
  };
}
