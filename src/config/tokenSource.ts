import * as v from 'valibot';
import { documented, HEADER_NAME, httpUrl, intInRange, nonEmptyString, oneOfRule, plainRecord, RULE } from './rules.js';

/**
 * Where a subject (or actor) token comes from. The four types of the reference keep their names and
 * defaults; `command` and `url` are new. Sources are resolved by src/adapters/subject-token/; this file
 * only says what a valid description looks like.
 */

import {
  ALLOW_COMMANDS_ENV,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_KUBERNETES_TOKEN_PATH,
  STANDARD_KUBERNETES_TOKEN_PATH,
} from '../constants.js';
export { ALLOW_COMMANDS_ENV, DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_KUBERNETES_TOKEN_PATH, STANDARD_KUBERNETES_TOKEN_PATH };

export const TOKEN_SOURCE_TYPES = ['github_actions', 'kubernetes_sa', 'file', 'env', 'command', 'url'] as const;
export type TokenSourceType = (typeof TOKEN_SOURCE_TYPES)[number];

/** Object messages: a missing key reads "is required for type …", anything else "must be an object". */
const sourceObject = <const E extends v.ObjectEntries>(type: TokenSourceType, entries: E) =>
  v.object({ type: v.literal(type), ...entries }, (issue) =>
    issue.path?.at(-1)?.origin === 'key' ? `is required for type "${type}"` : RULE.object,
  );

const commandLine = () => {
  const rule = 'must be a non-empty array of strings: the program, then its arguments (no shell)';
  return v.pipe(
    v.array(v.pipe(v.string(rule), v.nonEmpty(rule)), rule),
    v.minLength(1, rule),
  );
};

const jsonFieldName = () => nonEmptyString('must be a non-empty string naming a top-level JSON field');

const headerMap = () => {
  const rule = 'must be an object of header names to string values';
  return v.pipe(
    plainRecord(v.string(rule), rule),
    v.check((headers) => Object.keys(headers).every((name) => HEADER_NAME.test(name)), rule),
  );
};

export const githubActionsSource = sourceObject('github_actions', {
  audience: documented(nonEmptyString(), {
    type: 'string',
    origin: 'reference',
    doc: 'The `aud` of the GitHub Actions ID token (sent as `?audience=`). Needs `permissions: id-token: write`.',
  }),
});

export const kubernetesSaSource = sourceObject('kubernetes_sa', {
  tokenPath: documented(v.optional(nonEmptyString(), DEFAULT_KUBERNETES_TOKEN_PATH), {
    type: 'string',
    origin: 'reference',
    doc: `File of the projected service-account token, re-read at every acquisition. Use \`${STANDARD_KUBERNETES_TOKEN_PATH}\` for the token every pod gets (its audience is the API server).`,
  }),
});

export const fileSource = sourceObject('file', {
  path: documented(nonEmptyString(), {
    type: 'string',
    origin: 'reference',
    doc: 'A file holding the token (trimmed), re-read at every acquisition; e.g. `AZURE_FEDERATED_TOKEN_FILE`.',
  }),
});

export const envSource = sourceObject('env', {
  var: documented(nonEmptyString(), {
    type: 'string',
    origin: 'reference',
    doc: 'Name of the environment variable holding the token (trimmed).',
  }),
});

export const commandSource = sourceObject('command', {
  command: documented(commandLine(), {
    type: 'string[]',
    origin: 'new',
    doc: `Program and arguments, run without a shell; stdout (trimmed) is the token. Runs only when \`${ALLOW_COMMANDS_ENV}=1\` is set in the environment.`,
  }),
  timeoutMs: documented(v.optional(intInRange(5_000, 120_000), DEFAULT_COMMAND_TIMEOUT_MS), {
    type: 'integer 5000–120000',
    origin: 'new',
    doc: 'The program is killed after this long.',
  }),
});

export const urlSource = sourceObject('url', {
  url: documented(httpUrl(), {
    type: 'URL',
    origin: 'new',
    doc: 'GET this URL for the token (e.g. a metadata service).',
  }),
  headers: documented(v.optional(headerMap()), {
    type: 'object',
    origin: 'new',
    doc: 'Request headers (e.g. `Metadata-Flavor: Google`). Treated as secret: never logged.',
  }),
  field: documented(v.optional(jsonFieldName()), {
    type: 'string',
    default: 'none: the raw body',
    origin: 'new',
    doc: 'Read the token from this top-level field of a JSON response instead of the raw body.',
  }),
});

export const TOKEN_SOURCE_VARIANTS = {
  github_actions: githubActionsSource,
  kubernetes_sa: kubernetesSaSource,
  file: fileSource,
  env: envSource,
  command: commandSource,
  url: urlSource,
} as const;

const typeRule = oneOfRule(TOKEN_SOURCE_TYPES);

export const tokenSourceSchema = v.variant(
  'type',
  [githubActionsSource, kubernetesSaSource, fileSource, envSource, commandSource, urlSource],
  // Only a wrong or missing discriminator carries a path (to `type`); a non-object carries none.
  (issue) => (issue.path ? typeRule : `must be an object like {"type": "github_actions", "audience": "…"}`),
);

export type TokenSourceConfig = v.InferOutput<typeof tokenSourceSchema>;
