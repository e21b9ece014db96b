import * as v from 'valibot';
import { documented, intInRange, oneOf } from './rules.js';

/**
 * Settings for the whole plugin: the top-level fields of `pluginConfig.oauth2ModelSync` (and of the
 * plugin's own options in OpenCode's `["plugin-name", {...}]` tuple form). The reference documents them
 * but ignores them under OpenCode; here they work.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type RuntimeLogLevel = (typeof LOG_LEVELS)[number];

import { DEFAULT_CACHE_NAMESPACE, DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_TOKEN_EXPIRY_SKEW_MS } from '../constants.js';
export { DEFAULT_CACHE_NAMESPACE };
const NAMESPACE_RULE = 'must be one path segment of letters, digits, ".", "_" or "-"';

const cacheNamespaceSchema = v.pipe(
  v.string(NAMESPACE_RULE),
  v.trim(),
  v.regex(/^[A-Za-z0-9._-]+$/, NAMESPACE_RULE),
  v.check((value) => value !== '.' && value !== '..', NAMESPACE_RULE),
);

export const runtimeEntries = {
  cacheNamespace: documented(v.optional(cacheNamespaceSchema, DEFAULT_CACHE_NAMESPACE), {
    type: 'string',
    origin: 'reference',
    doc: 'Sub-directory of the token store (`<cache dir>/opencode-oauth-machines/<namespace>`).',
  }),
  httpTimeoutMs: documented(v.optional(intInRange(100, 600_000), DEFAULT_HTTP_TIMEOUT_MS), {
    type: 'integer 100–600000',
    origin: 'reference',
    doc: 'Timeout of each HTTP request (discovery, token endpoint, subject tokens, model list).',
  }),
  tokenExpirySkewMs: documented(v.optional(intInRange(0, 600_000), DEFAULT_TOKEN_EXPIRY_SKEW_MS), {
    type: 'integer 0–600000',
    origin: 'reference',
    doc: 'Allowance for clock differences with the IdP (part of the hard refresh margin). `0` is allowed here (the reference refused it).',
  }),
  logLevel: documented(v.optional(oneOf(LOG_LEVELS)), {
    type: LOG_LEVELS.map((level) => `\`${level}\``).join(' \\| '),
    default: "OpenCode's `logLevel` (DEBUG→debug, INFO→info, WARN→warn, ERROR→error), else `info`",
    origin: 'reference',
    doc: 'Minimum level of the plugin\'s log events.',
  }),
} as const;

export const RUNTIME_FIELDS = Object.keys(runtimeEntries) as (keyof typeof runtimeEntries)[];

export const runtimeSchema = v.object(runtimeEntries);

type ParsedRuntime = v.InferOutput<typeof runtimeSchema>;

export type RuntimeConfig = Omit<ParsedRuntime, 'logLevel'> & { logLevel: RuntimeLogLevel };

export const DEFAULT_RUNTIME: RuntimeConfig = {
  cacheNamespace: DEFAULT_CACHE_NAMESPACE,
  httpTimeoutMs: DEFAULT_HTTP_TIMEOUT_MS,
  tokenExpirySkewMs: DEFAULT_TOKEN_EXPIRY_SKEW_MS,
  logLevel: 'info',
};

/** OpenCode's own `logLevel` (DEBUG | INFO | WARN | ERROR, any case) in our terms. */
export function fromOpenCodeLogLevel(value: unknown): RuntimeLogLevel | undefined {
  if (typeof value !== 'string') return undefined;
  const map: Record<string, RuntimeLogLevel> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error' };
  return map[value.trim().toLowerCase()];
}
