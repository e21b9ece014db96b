// @ts-check
/**
 * Where the real OpenCode CLI binary of the `opencode-ai` dev dependency is.
 *
 * `opencode-ai`'s own `bin/opencode.exe` is a hard link made by its postinstall; with `--ignore-scripts` it is a
 * small error stub, so the platform package's binary is called directly.
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** A real binary is ~185 MB; the stub left by `--ignore-scripts` is a few hundred bytes. */
const MIN_BINARY_BYTES = 1_000_000;

/** The CPU lacks AVX2: the default x64 build would die with SIGILL, the `-baseline` build runs. */
function lacksAvx2() {
  if (process.arch !== 'x64' || process.platform !== 'linux') return false;
  try {
    return !/\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/** musl libc (Alpine): the glibc build cannot start. */
function isMusl() {
  if (process.platform !== 'linux') return false;
  const report = /** @type {any} */ (process.report?.getReport?.());
  return !report?.header?.glibcVersionRuntime;
}

/**
 * Candidate platform packages, best first.
 * @returns {string[]}
 */
export function platformPackages() {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const base = `opencode-${os}-${process.arch}`;
  const musl = isMusl() ? '-musl' : '';
  const order = lacksAvx2()
    ? [`${base}-baseline${musl}`, `${base}${musl}`]
    : [`${base}${musl}`, `${base}-baseline${musl}`];
  return [...new Set(order)];
}

/**
 * Absolute path of the OpenCode CLI binary. `OPENCODE_E2E_BIN` overrides the lookup.
 * @returns {string}
 * @throws {Error} naming the packages tried and the fix (`npm ci`)
 */
export function opencodeBinary() {
  const override = process.env.OPENCODE_E2E_BIN;
  if (override) {
    if (!existsSync(override)) throw new Error(`OPENCODE_E2E_BIN=${override} does not exist`);
    return override;
  }
  const tried = [];
  for (const pkg of platformPackages()) {
    let root;
    try {
      root = path.dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      tried.push(`${pkg} (not installed)`);
      continue;
    }
    const bin = path.join(root, 'bin', process.platform === 'win32' ? 'opencode.exe' : 'opencode');
    if (existsSync(bin) && statSync(bin).size >= MIN_BINARY_BYTES) return bin;
    tried.push(`${pkg} (no binary at ${bin})`);
  }
  throw new Error(
    `OpenCode CLI binary not found; tried ${tried.join(', ')}. Run \`npm ci\` (opencode-ai is a devDependency and ` +
      `pulls its platform binary as an optional dependency), or set OPENCODE_E2E_BIN.`,
  );
}

/**
 * The version of the installed `opencode-ai` package.
 * @returns {string}
 */
export function opencodeVersion() {
  return /** @type {{ version: string }} */ (require('opencode-ai/package.json')).version;
}
