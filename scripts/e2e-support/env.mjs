// @ts-check
/**
 * An isolated environment for the real OpenCode CLI: every file it writes (config, data, logs, caches, the npm
 * cache of its embedded arborist, Bun's temp files) lands under one state dir, and it never reaches a registry.
 * @module
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

/**
 * @typedef {object} StateDirs
 * @property {string} root
 * @property {string} home
 * @property {string} config XDG_CONFIG_HOME
 * @property {string} data XDG_DATA_HOME
 * @property {string} cache XDG_CACHE_HOME
 * @property {string} state XDG_STATE_HOME
 * @property {string} tmp TMPDIR
 * @property {string} opencodeConfig `$XDG_CONFIG_HOME/opencode` (pre-seeded)
 * @property {string} opencodeData `$XDG_DATA_HOME/opencode` (opencode.db, auth.json, log/)
 * @property {string} logDir `$XDG_DATA_HOME/opencode/log`
 * @property {string} authFile `$XDG_DATA_HOME/opencode/auth.json`
 * @property {string} tokenStore the plugin's default token store, `$XDG_CACHE_HOME/opencode-oauth-machines/tokens`
 */

/**
 * The layout of a state dir (nothing is created).
 * @param {string} stateDir absolute path
 * @returns {StateDirs}
 */
export function stateDirs(stateDir) {
  const root = path.resolve(stateDir);
  const data = path.join(root, 'data');
  return {
    root,
    home: path.join(root, 'home'),
    config: path.join(root, 'config'),
    data,
    cache: path.join(root, 'cache'),
    state: path.join(root, 'state'),
    tmp: path.join(root, 'tmp'),
    opencodeConfig: path.join(root, 'config', 'opencode'),
    opencodeData: path.join(data, 'opencode'),
    logDir: path.join(data, 'opencode', 'log'),
    authFile: path.join(data, 'opencode', 'auth.json'),
    tokenStore: path.join(root, 'cache', 'opencode-oauth-machines', 'tokens'),
  };
}

/**
 * OpenCode npm-installs `@opencode-ai/plugin` into every config dir whose `node_modules` is missing or whose
 * `package-lock.json` does not list it. Offline that install stalls startup for ~70 s (arborist retries), and
 * online it costs ~5 s and 63 MB per state dir. An empty `node_modules` and a lock that lists the dependency
 * make OpenCode skip it; the plugin under test imports nothing from `@opencode-ai/plugin` at runtime.
 * @param {string} configDir a config dir (`$XDG_CONFIG_HOME/opencode`, a `.opencode` dir, `OPENCODE_CONFIG_DIR`)
 */
export function preseedConfigDir(configDir) {
  mkdirSync(path.join(configDir, 'node_modules'), { recursive: true });
  const lock = path.join(configDir, 'package-lock.json');
  if (!existsSync(lock)) {
    writeFileSync(
      lock,
      `${JSON.stringify({ lockfileVersion: 3, packages: { '': { dependencies: { '@opencode-ai/plugin': '*' } } } }, null, 2)}\n`,
    );
  }
}

/**
 * Create the state dir layout, pre-seed OpenCode's global config dir, and return the environment to run the
 * CLI with. Nothing is inherited from the caller's environment except the directory of the running `node`
 * (BROWSER shims and subject-token commands are node scripts); `extra` is merged last.
 * @param {string} stateDir absolute path; created if missing
 * @param {Record<string, string | undefined>} [extra]
 * @returns {Record<string, string>}
 */
export function isolatedEnv(stateDir, extra = {}) {
  const dirs = stateDirs(stateDir);
  for (const dir of [dirs.home, dirs.config, dirs.data, dirs.cache, dirs.state, dirs.tmp]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  preseedConfigDir(dirs.opencodeConfig);
  /** @type {Record<string, string>} */
  const env = {
    PATH: [...new Set([path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'])].join(path.delimiter),
    HOME: dirs.home,
    USER: 'e2e',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    XDG_STATE_HOME: dirs.state,
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_CLAUDE_CODE: '1',
    OPENCODE_DISABLE_FFF: '1',
    // Belt and braces to the pre-seeded config dir: should an install start anyway, it fails at once.
    npm_config_fetch_retries: '0',
    npm_config_fetch_timeout: '2000',
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}
