import { access, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FlowKind, TokenSet } from '../../machines/token.js';
import { readSafeFile } from '../safeFile.js';
import { silentLogger, type Logger } from '../logger.js';
import { GenerationConflict, type LockOptions, type StoreKey, type TokenRecord, type TokenStore } from './types.js';

/**
 * Adoption of the tokens `@vymalo/opencode-oauth2` cached, so that switching plugins needs no new login.
 * The reference keeps one plaintext JSON file per provider id, `{serverId, updatedAt, token?: {accessToken,
 * tokenType, refreshToken?, scope?, expiresAt?}, models, rawModels}`, under
 * `<cache root>/opencode-oauth2/opencode-oauth2-model-sync/<id>.json`. Only user-flow tokens are worth taking
 * (machine flows re-acquire unattended) and only once: a token is adopted when our store has no record for the
 * key yet, written with a compare-and-swap on "no record", and from then on our record wins. A marker file beside
 * our record (`<keyId>.reference-adopted`) makes it once per key for good: after a logout the reference's old
 * token is not taken again.
 */

const REFERENCE_APP_DIR = 'opencode-oauth2';
/** The namespace the reference hard-codes under OpenCode. */
const REFERENCE_NAMESPACE = 'opencode-oauth2-model-sync';
const USER_FLOWS: ReadonlySet<FlowKind> = new Set<FlowKind>(['authorization_code', 'device_code']);
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** The reference's cache dir, by its own rules (which differ from ours: `??`, so an empty variable counts). */
export function referenceCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  const join = platform === 'win32' ? path.win32.join : path.posix.join;
  const root =
    platform === 'darwin'
      ? path.posix.join(home, 'Library', 'Caches')
      : platform === 'win32'
        ? (env.LOCALAPPDATA ?? path.win32.join(home, 'AppData', 'Local'))
        : (env.XDG_CACHE_HOME ?? path.posix.join(home, '.cache'));
  return join(root, REFERENCE_APP_DIR, REFERENCE_NAMESPACE);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * The reference's token for `providerId` as our TokenSet, or undefined (no file, another server's file, no
 * token, a malformed one). A token without `expiresAt` (the reference keeps user tokens forever) is taken as
 * already expired, so the first use refreshes it.
 */
export async function readReferenceToken(dir: string, providerId: string, now: number): Promise<TokenSet | undefined> {
  // The reference never sanitised ids; we only look for ids that are plain file names.
  if (!/^[A-Za-z0-9._-]+$/.test(providerId) || providerId.startsWith('.')) return undefined;
  let text: string;
  try {
    // Refused unread when larger than the cap or not a regular file (a FIFO would hang the read).
    text = await readSafeFile(path.join(dir, `${providerId}.json`), { maxBytes: MAX_FILE_BYTES });
  } catch {
    return undefined;
  }
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(file) || file.serverId !== providerId || !isObject(file.token)) return undefined;
  const { accessToken, tokenType, refreshToken, expiresAt } = file.token;
  if (!nonEmpty(accessToken) || !nonEmpty(tokenType)) return undefined;
  const updated = typeof file.updatedAt === 'number' ? file.updatedAt : Date.parse(String(file.updatedAt));
  const issuedAt = Number.isFinite(updated) && updated <= now ? updated : now;
  const known = typeof expiresAt === 'number' && Number.isFinite(expiresAt);
  return {
    accessToken,
    tokenType: tokenType.toLowerCase() === 'bearer' ? 'Bearer' : tokenType,
    ...(nonEmpty(refreshToken) ? { refreshToken } : {}),
    issuedAt,
    expiresAt: known ? expiresAt : issuedAt,
    ...(known ? {} : { expiryAssumed: true }),
  };
}

export interface ReferenceAdoptionOptions {
  /** Default `referenceCacheDir()`. */
  dir?: string;
  now?: () => number;
  logger?: Logger;
}

/**
 * A store that, the first time a user-flow key has no record, adopts the reference plugin's cached token for
 * that provider. Everything else goes straight to `inner`.
 */
export function adoptingReferenceTokens(inner: TokenStore, options: ReferenceAdoptionOptions = {}): TokenStore {
  const dir = options.dir ?? referenceCacheDir();
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const looked = new Set<string>();

  async function adopt(key: StoreKey, location: string): Promise<TokenRecord | undefined> {
    const marker = path.join(location, `${key.id}.reference-adopted`);
    if (await access(marker).then(() => true, () => false)) return undefined;
    const token = await readReferenceToken(dir, key.providerId, now());
    if (!token) return undefined;
    try {
      const record = await inner.write(key, { token }, 0);
      await writeFile(marker, '', { mode: 0o600 });
      logger.info('reference_token_adopted', {
        providerId: key.providerId,
        hasRefreshToken: token.refreshToken !== undefined,
        expired: token.expiresAt <= now(),
      });
      return record;
    } catch (error) {
      // Another process adopted (or logged in) first: its record wins.
      if (error instanceof GenerationConflict) return inner.read(key);
      throw error;
    }
  }

  const location = inner.location;
  return {
    async read(key) {
      const record = await inner.read(key);
      if (record || !location || looked.has(key.id) || !USER_FLOWS.has(key.descriptor.flow)) return record;
      looked.add(key.id);
      return adopt(key, location);
    },
    write: (key, next, expectedGeneration) => inner.write(key, next, expectedGeneration),
    delete: (key) => inner.delete(key),
    lock: (key, lockOptions?: LockOptions) => inner.lock(key, lockOptions),
    ...(location ? { location } : {}),
  };
}
