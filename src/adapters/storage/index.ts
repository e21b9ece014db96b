export * from './types.js';
export { storeKey, sanitiseProviderId } from './storeKey.js';
export { cacheRoot, cacheDirFor, defaultCacheDir, DEFAULT_CACHE_NAMESPACE } from './cacheDir.js';
export { createFileStore, type FileStoreOptions } from './fileStore.js';
export { createMemoryStore, type MemoryStoreOptions } from './memoryStore.js';
export {
  acquireFileLock,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_POLL_MS,
  type AcquireFileLock,
  type FileLockOptions,
  type LockOwner,
} from './fileLock.js';
