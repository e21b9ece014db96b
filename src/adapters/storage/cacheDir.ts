import os from 'node:os';
import path from 'node:path';

/** The app's directory under the platform's cache root (the tool guard refuses the name anywhere). */
export const APP_DIR = 'opencode-oauth-machines';
import { DEFAULT_CACHE_NAMESPACE } from '../../constants.js';
export { DEFAULT_CACHE_NAMESPACE };

/**
 * The per-user cache root of this package, by the platform's own convention:
 * Linux and other Unix `$XDG_CACHE_HOME` (only when absolute, as the XDG spec requires) else `~/.cache`;
 * macOS `~/Library/Caches`; Windows `%LOCALAPPDATA%` else `~/AppData/Local`.
 * Paths are joined with the target platform's rules, so the answer does not depend on where it is computed.
 * @see https://specifications.freedesktop.org/basedir-spec/latest/
 */
export function cacheRoot(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA;
    const base = local && path.win32.isAbsolute(local) ? local : path.win32.join(home, 'AppData', 'Local');
    return path.win32.join(base, APP_DIR);
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Caches', APP_DIR);
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(home, '.cache');
  return path.posix.join(base, APP_DIR);
}

/** `<cache root>/<namespace>`; the namespace must be one plain path segment. */
export function cacheDirFor(
  namespace: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (!/^[A-Za-z0-9._-]+$/.test(namespace) || namespace === '.' || namespace === '..') {
    throw new RangeError(`cache namespace must be one path segment of [A-Za-z0-9._-], got ${JSON.stringify(namespace)}`);
  }
  const root = cacheRoot(env, platform, home);
  return platform === 'win32' ? path.win32.join(root, namespace) : path.posix.join(root, namespace);
}

/** Where token records live by default: `<cache root>/tokens`. */
export function defaultCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
  namespace: string = DEFAULT_CACHE_NAMESPACE,
): string {
  return cacheDirFor(namespace, env, platform, home);
}
