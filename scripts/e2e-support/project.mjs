// @ts-check
/**
 * OpenCode project dirs for end-to-end runs, loading the plugin built from this checkout.
 * @module
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Root of this checkout. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The built plugin entry (`npx tsdown` / `npm run build`). */
export const PLUGIN_ENTRY = path.join(REPO_ROOT, 'dist', 'index.mjs');

/**
 * `file://` URL of the built plugin, as OpenCode's `plugin` list takes it. `OPENCODE_E2E_PLUGIN` (a path or
 * file URL) swaps in another build, for debugging the harness itself.
 * @returns {string}
 * @throws {Error} when the plugin is not built
 */
export function pluginUrl() {
  const override = process.env.OPENCODE_E2E_PLUGIN;
  if (override) return override.startsWith('file:') ? override : pathToFileURL(path.resolve(override)).href;
  if (!existsSync(PLUGIN_ENTRY)) {
    throw new Error(`${PLUGIN_ENTRY} is missing: run \`npm run build\` first (npm test and npm run demo do it).`);
  }
  return pathToFileURL(PLUGIN_ENTRY).href;
}

/** OpenCode rewrites a config file without `$schema` to add one; writing it ourselves keeps the file ours. */
export const CONFIG_SCHEMA = 'https://opencode.ai/config.json';

/**
 * Write `<dir>/opencode.json` (with `$schema` first) and create the dir.
 * @param {string} dir
 * @param {Record<string, unknown>} opencodeJson
 * @returns {string} the config file path
 */
export function writeProject(dir, opencodeJson) {
  mkdirSync(dir, { recursive: true });
  const { $schema: _ignored, ...rest } = opencodeJson;
  const file = path.join(dir, 'opencode.json');
  writeFileSync(file, `${JSON.stringify({ $schema: CONFIG_SCHEMA, ...rest }, null, 2)}\n`);
  return file;
}

/**
 * The `plugin` entry for this checkout's plugin: a bare `file://` URL, or the tuple form with plugin options.
 * @param {Record<string, unknown>} [options]
 * @returns {string | [string, Record<string, unknown>]}
 */
export function pluginSpec(options) {
  return options ? [pluginUrl(), options] : pluginUrl();
}

/**
 * A provider block in the reference plugin's shape A (`provider.<id>.options.oauth2`): what a user of
 * `@vymalo/opencode-oauth2` already has in opencode.json.
 * @param {{ name?: string, baseURL: string, oauth2: Record<string, unknown>, models?: Record<string, unknown> }} spec
 * @returns {Record<string, unknown>}
 */
export function oauthProvider(spec) {
  return {
    ...(spec.name ? { name: spec.name } : {}),
    options: { baseURL: spec.baseURL, oauth2: spec.oauth2 },
    ...(spec.models ? { models: spec.models } : {}),
  };
}
