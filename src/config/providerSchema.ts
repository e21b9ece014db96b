import * as v from 'valibot';
import { RESERVED_AUTHORIZATION_PARAMS } from '../machines/authorizationCode.js';
import { FLOW_KINDS, type FlowKind } from '../machines/token.js';
import {
  booleanLike,
  documented,
  HEADER_NAME,
  httpUrl,
  intInRange,
  nonEmptyString,
  oneOf,
  plainRecord,
  positiveNumber,
  RULE,
  secretString,
  stringOrList,
} from './rules.js';
import { tokenSourceSchema } from './tokenSource.js';

/**
 * One provider block, as written in either config shape. Every field of `@vymalo/opencode-oauth2` keeps
 * its name and default; new fields are additive. Each entry carries its documentation (docs/config.md is
 * generated from it), so validation, types and docs have one source.
 */

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

import { DEFAULT_ASSUMED_LIFETIME_SEC, DEFAULT_LOGIN_TIMEOUT_SEC, DEFAULT_REDIRECT_PATH, JWT_TOKEN_TYPE } from '../constants.js';
export { DEFAULT_REDIRECT_PATH, JWT_TOKEN_TYPE };

/** Flows that exchange a platform identity and so need a subject token. */
export const FEDERATED_FLOWS: readonly FlowKind[] = ['jwt_bearer', 'token_exchange'];

const SCOPES_RULE = 'must be a non-empty list of scopes: an array of strings or one string split on spaces/commas';

/** Scopes as the reference accepts them: an array, or a string split on /[\s,]+/. Deduplicated. */
const scopesSchema = v.pipe(
  stringOrList(SCOPES_RULE),
  v.transform((scopes) => [...new Set(scopes.flatMap((scope) => scope.split(/[\s,]+/)).filter(Boolean))]),
);

const RESOURCE_RULE = 'must be an absolute URI without a fragment, or an array of them (RFC 8707)';
const isResourceUri = (value: string) => URL.canParse(value) && !value.includes('#');
const resourceSchema = v.pipe(
  stringOrList(RESOURCE_RULE),
  v.transform((uris) => uris.map((uri) => uri.trim())),
  v.check((uris) => uris.length > 0 && uris.every(isResourceUri), RESOURCE_RULE),
);

const PATH_RULE = 'must be a URL path starting with "/" (no query or fragment)';
const redirectPathSchema = v.pipe(nonEmptyString(PATH_RULE), v.regex(/^\/[^?#\s]*$/, PATH_RULE));

const MODELS_PATH_RULE = 'must be an absolute http(s) URL, a path starting with "/", or a path relative to baseURL';
const modelsPathSchema = v.pipe(nonEmptyString(MODELS_PATH_RULE), v.check((value) => !/\s/.test(value), MODELS_PATH_RULE));

const PRIVATE_KEY_RULE = 'must be a private JWK object (with "kty" and "d") or {"file": "<path to a private JWK file>"}';

/** A private key for `private_key_jwt`, inline or in a file. Never echoed. */
export type PrivateKeyConfig =
  | { kind: 'jwk'; jwk: Record<string, unknown> }
  | { kind: 'file'; path: string; alg?: string; kid?: string };

const privateKeySchema = v.pipe(
  plainRecord(v.unknown(), PRIVATE_KEY_RULE),
  v.check((key) => {
    if ('file' in key) return typeof key.file === 'string' && key.file.trim() !== '';
    // Symmetric keys (`oct`) and public-only JWKs cannot sign a client assertion for private_key_jwt.
    return typeof key.kty === 'string' && key.kty !== 'oct' && typeof key.d === 'string' && key.d !== '';
  }, PRIVATE_KEY_RULE),
  v.transform((key): PrivateKeyConfig => {
    if (typeof key.file !== 'string') return { kind: 'jwk', jwk: key };
    return {
      kind: 'file',
      path: key.file.trim(),
      ...(typeof key.alg === 'string' ? { alg: key.alg } : {}),
      ...(typeof key.kid === 'string' ? { kid: key.kid } : {}),
    };
  }),
);

/** How a passthrough provider sends the subject token. `prefix` is literal text put before the token. */
export interface PassthroughConfig {
  /** Lower-cased header name. */
  header: string;
  prefix: string;
}

const PASSTHROUGH_RULE = 'must be true, or an object {"header"?: string, "prefix"?: string}';
const passthroughObject = v.object(
  {
    header: v.optional(
      v.pipe(
        nonEmptyString('must be an HTTP header name'),
        v.regex(HEADER_NAME, 'must be an HTTP header name'),
        v.toLowerCase(),
      ),
      'authorization',
    ),
    prefix: v.optional(v.string('must be a string (put before the token, e.g. "Bearer ")')),
  },
  PASSTHROUGH_RULE,
);
const passthroughSchema = v.pipe(
  v.unknown(),
  // `true` is the short form of `{}`; `false` turns it off.
  v.transform((input) => (input === true ? {} : input === false ? null : input)),
  v.nullable(passthroughObject),
  v.transform((input): PassthroughConfig | undefined => {
    if (input === null) return undefined;
    const prefix = input.prefix ?? (input.header === 'authorization' ? 'Bearer ' : '');
    return { header: input.header, prefix };
  }),
);

const refreshWindowSchema = v.object(
  {
    assumedLifetimeSec: v.optional(intInRange(10, 86_400), DEFAULT_ASSUMED_LIFETIME_SEC),
  },
  RULE.object,
);

/** Reference behaviour: non-string or empty overrides are dropped (warned about in parse.ts). */
const nameOverridesSchema = v.pipe(
  plainRecord(v.unknown(), 'must be an object mapping model ids to display names'),
  v.transform((input) =>
    Object.fromEntries(
      Object.entries(input).flatMap(([id, name]) =>
        typeof name === 'string' && name.trim() !== '' ? [[id, name.trim()] as const] : [],
      ),
    ),
  ),
);

const AUTHORIZATION_PARAMS_RULE = `must be an object of string, number or boolean values, without the parameters the flow sets itself (${RESERVED_AUTHORIZATION_PARAMS.join(', ')})`;

/** Extra authorization request parameters; values become strings (`max_age: 0` → `"0"`). */
const authorizationParamsSchema = v.pipe(
  plainRecord(v.unknown(), AUTHORIZATION_PARAMS_RULE),
  v.check(
    (params) =>
      Object.entries(params).every(
        ([name, value]) =>
          name.trim() !== '' &&
          !RESERVED_AUTHORIZATION_PARAMS.includes(name) &&
          (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))),
      ),
    AUTHORIZATION_PARAMS_RULE,
  ),
  v.transform((params): Record<string, string> => Object.fromEntries(Object.entries(params).map(([name, value]) => [name, String(value)]))),
);

export const CLIENT_ASSERTION_AUDIENCES = ['issuer', 'token_endpoint'] as const;

const tokenType = () => nonEmptyString('must be a non-empty token type URI (e.g. urn:ietf:params:oauth:token-type:jwt)');

/** Every field of a provider block, in documentation order. */
export const providerEntries = {
  id: documented(nonEmptyString(), {
    type: 'string',
    default: 'shape A: the provider key',
    origin: 'reference',
    doc: 'Provider id (trimmed). Shape B only; in shape A it is the key under `provider`.',
  }),
  name: documented(v.optional(nonEmptyString()), {
    type: 'string',
    default: '`provider.<id>.name`, else the id',
    origin: 'reference',
    doc: 'Display name of the provider.',
  }),
  enabled: documented(v.optional(booleanLike(), true), {
    type: 'boolean',
    origin: 'new',
    doc: '`false` leaves the provider unmanaged (the block is not validated further).',
  }),
  issuer: documented(v.optional(httpUrl()), {
    type: 'URL',
    default: 'required unless `passthrough`',
    origin: 'reference',
    doc: 'OIDC issuer; discovery starts at `<issuer>/.well-known/openid-configuration`, then RFC 8414.',
  }),
  baseURL: documented(v.pipe(httpUrl(), v.transform((url) => url.replace(/\/+$/, ''))), {
    type: 'URL',
    default: 'required',
    origin: 'reference',
    doc: 'OpenAI-compatible base URL (shape A: `provider.<id>.options.baseURL`). Trailing slashes are dropped.',
  }),
  allowInsecureHttp: documented(v.optional(booleanLike(), false), {
    type: 'boolean',
    origin: 'new',
    doc: 'Allow plain `http://` to a non-loopback host for the issuer, its endpoints (configured or discovered) and `baseURL`. Refused otherwise (loopback is 127.0.0.0/8, ::1 and `localhost`); when set, every start warns: tokens and secrets then cross the network unencrypted.',
  }),
  clientId: documented(v.optional(nonEmptyString()), {
    type: 'string',
    default: 'required unless `passthrough`',
    origin: 'reference',
    doc: 'OAuth client id.',
  }),
  clientSecret: documented(v.optional(secretString()), {
    type: 'string',
    origin: 'reference',
    doc: 'Client secret (use `{env:VAR}` or `{file:path}`). Required for `client_credentials` unless `private_key_jwt`. Never logged.',
  }),
  clientAuthMethod: documented(v.optional(oneOf(CLIENT_AUTH_METHODS)), {
    type: CLIENT_AUTH_METHODS.map((method) => `\`${method}\``).join(' \\| '),
    default: '`client_secret_post` with a clientSecret (as the reference), `private_key_jwt` with only a privateKey, else `none`',
    origin: 'new',
    doc: 'How the client authenticates at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2).',
  }),
  privateKey: documented(v.optional(privateKeySchema), {
    type: 'JWK object \\| `{file, alg?, kid?}`',
    origin: 'new',
    doc: 'Private key that signs `private_key_jwt` client assertions. Never logged.',
  }),
  clientAssertionAudience: documented(v.optional(oneOf(CLIENT_ASSERTION_AUDIENCES)), {
    type: '`issuer` \\| `token_endpoint`',
    default: '`issuer`',
    origin: 'new',
    doc: '`aud` of `private_key_jwt` assertions, for every endpoint (token, device authorization, revocation). Keycloak refuses an assertion addressed to the device or revocation endpoint.',
  }),
  clientAssertionSource: documented(v.optional(tokenSourceSchema), {
    type: 'object (as subjectTokenSource)',
    origin: 'new',
    doc: 'Federated client credential: a platform JWT (GitHub Actions, a Kubernetes projected token, `AZURE_FEDERATED_TOKEN_FILE` as `{"type": "file"}`) read fresh for every request and sent as `client_assertion` (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`), typically with `client_credentials` (Entra workload identity federation). Replaces clientSecret/privateKey. Never logged.',
  }),
  scopes: documented(v.optional(scopesSchema), {
    type: 'string[] \\| string',
    default: 'required unless `passthrough`',
    origin: 'reference',
    doc: 'Requested scopes; a string is split on spaces and commas. User flows need `offline_access` (or the IdP\'s equivalent) to get a refresh token.',
  }),
  authFlow: documented(v.optional(oneOf(FLOW_KINDS as unknown as readonly [FlowKind, ...FlowKind[]]), 'authorization_code'), {
    type: FLOW_KINDS.map((flow) => `\`${flow}\``).join(' \\| '),
    origin: 'reference',
    doc: 'Grant used to get tokens. User flows need a human once; machine flows re-acquire unattended.',
  }),
  pkce: documented(v.optional(booleanLike(), true), {
    type: 'boolean',
    origin: 'reference',
    doc: 'PKCE (S256) on `authorization_code` and on the device authorization request.',
  }),
  subjectTokenSource: documented(v.optional(tokenSourceSchema), {
    type: 'object (see below)',
    default: 'required for `jwt_bearer`, `token_exchange`, `passthrough`',
    origin: 'reference, extended',
    doc: 'Where the platform identity token comes from; re-read at every acquisition.',
  }),
  subjectTokenType: documented(v.optional(tokenType(), JWT_TOKEN_TYPE), {
    type: 'string',
    origin: 'new',
    doc: 'RFC 8693 `subject_token_type`.',
  }),
  requestedTokenType: documented(v.optional(tokenType()), {
    type: 'string',
    origin: 'new',
    doc: 'RFC 8693 `requested_token_type`.',
  }),
  audience: documented(v.optional(nonEmptyString()), {
    type: 'string',
    origin: 'new',
    doc: 'RFC 8693 `audience` (the target service). Same value as `tokenExchangeAudience`; set one.',
  }),
  tokenExchangeAudience: documented(v.optional(nonEmptyString()), {
    type: 'string',
    origin: 'reference',
    doc: 'The reference\'s name for `audience`, sent on `token_exchange`.',
  }),
  resource: documented(v.optional(resourceSchema), {
    type: 'URI \\| URI[]',
    origin: 'new',
    doc: 'RFC 8707 / RFC 8693 `resource` parameter(s).',
  }),
  subjectIssuer: documented(v.optional(nonEmptyString()), {
    type: 'string',
    origin: 'new',
    doc: '`token_exchange`: Keycloak\'s legacy (v1) token exchange `subject_issuer`, the alias of the identity provider that issued an external subject token.',
  }),
  authorizationParams: documented(v.optional(authorizationParamsSchema), {
    type: 'object',
    origin: 'new',
    doc: 'Extra authorization request parameters (`prompt`, `login_hint`, `acr_values`, `ui_locales`, `max_age`, any other), on the `authorization_code` URL and the `device_code` authorization request. E.g. `{"prompt": "consent"}` for IdPs that issue a refresh token only then. The flow\'s own parameters (state, PKCE, redirect_uri, scope, resource, audience) cannot be replaced.',
  }),
  actorTokenSource: documented(v.optional(tokenSourceSchema), {
    type: 'object (as subjectTokenSource)',
    origin: 'new',
    doc: 'RFC 8693 `actor_token` for delegation (`token_exchange` only).',
  }),
  actorTokenType: documented(v.optional(tokenType()), {
    type: 'string',
    default: '`urn:ietf:params:oauth:token-type:jwt` when actorTokenSource is set',
    origin: 'new',
    doc: 'RFC 8693 `actor_token_type`.',
  }),
  passthrough: documented(v.optional(passthroughSchema), {
    type: '`true` \\| `{header?, prefix?}`',
    default: 'off',
    origin: 'new',
    doc: 'Send the subject token itself to the gateway (which validates the CI OIDC token on its own): no IdP, so issuer, clientId and scopes may be left out. `header` defaults to `authorization` (prefix `"Bearer "`); e.g. `{"header": "x-api-key"}` sends it bare.',
  }),
  authorizationEndpoint: documented(v.optional(httpUrl()), {
    type: 'URL',
    default: 'discovered',
    origin: 'reference',
    doc: 'Overrides discovery.',
  }),
  tokenEndpoint: documented(v.optional(httpUrl()), {
    type: 'URL',
    default: 'discovered',
    origin: 'reference',
    doc: 'Overrides discovery.',
  }),
  deviceAuthorizationEndpoint: documented(v.optional(httpUrl()), {
    type: 'URL',
    default: 'discovered',
    origin: 'reference',
    doc: 'Overrides discovery (`device_authorization_endpoint`).',
  }),
  jwksUri: documented(v.optional(httpUrl()), {
    type: 'URL',
    default: 'discovered',
    origin: 'reference',
    doc: 'Overrides the discovered `jwks_uri` (unused by the reference).',
  }),
  redirectPort: documented(v.optional(intInRange(1, 65_535)), {
    type: 'integer 1–65535',
    default: 'a free port',
    origin: 'reference',
    doc: 'Fixed loopback port for `authorization_code` (for IdPs that match the redirect URI exactly).',
  }),
  redirectPath: documented(v.optional(redirectPathSchema, DEFAULT_REDIRECT_PATH), {
    type: 'string',
    origin: 'new',
    doc: 'Path of the loopback redirect URI `http://127.0.0.1:<port><path>`.',
  }),
  loginTimeoutSec: documented(v.optional(intInRange(10, 3_600), DEFAULT_LOGIN_TIMEOUT_SEC), {
    type: 'integer 10–3600',
    origin: 'new',
    doc: 'How long an interactive login (browser callback or device code) may take.',
  }),
  openBrowser: documented(v.optional(booleanLike(), true), {
    type: 'boolean',
    origin: 'new',
    doc: '`false`: never launch a browser; the login URL is only shown.',
  }),
  syncIntervalMinutes: documented(v.optional(positiveNumber(), 60), {
    type: 'number > 0',
    origin: 'reference',
    doc: 'Interval of model discovery (`GET <baseURL>/models`).',
  }),
  modelsPath: documented(v.optional(modelsPathSchema), {
    type: 'string',
    default: '`<baseURL>/models`',
    origin: 'new',
    doc: 'Where the model list is: an absolute URL, a path from the host root (`/v1/models`), or a path relative to baseURL.',
  }),
  nameOverrides: documented(v.optional(nameOverridesSchema, {}), {
    type: 'object',
    origin: 'reference',
    doc: 'Model id → display name; wins over every other name. Non-string or empty values are dropped with a warning.',
  }),
  responseApi: documented(v.optional(booleanLike(), false), {
    type: 'boolean',
    origin: 'reference',
    doc: 'Register the provider with `@ai-sdk/openai` (Responses API) instead of `@ai-sdk/openai-compatible`.',
  }),
  warmupTimeoutMs: documented(v.optional(intInRange(0, 120_000), 10_000), {
    type: 'integer 0–120000',
    origin: 'new',
    doc: 'Bound on the non-interactive warm-up (token + model list) in the config hook; `0` skips it.',
  }),
  refreshWindow: documented(v.optional(refreshWindowSchema, {}), {
    type: '`{assumedLifetimeSec?}`',
    default: '`{assumedLifetimeSec: 300}`',
    origin: 'new',
    doc: 'Token timing: `assumedLifetimeSec` (10–86400) is the lifetime assumed when the IdP sends no `expires_in` (for `passthrough`: when the subject token has no `exp`).',
  }),
  httpTimeoutMs: documented(v.optional(intInRange(100, 600_000)), {
    type: 'integer 100–600000',
    default: 'runtime `httpTimeoutMs` (15000)',
    origin: 'new',
    doc: 'Per-provider override of the runtime HTTP timeout.',
  }),
  tokenExpirySkewMs: documented(v.optional(intInRange(0, 600_000)), {
    type: 'integer 0–600000',
    default: 'runtime `tokenExpirySkewMs` (30000)',
    origin: 'new',
    doc: 'Per-provider override of the runtime clock-skew allowance.',
  }),
} as const;

export const PROVIDER_FIELDS = Object.keys(providerEntries) as (keyof typeof providerEntries)[];

const isPassthroughOn = (passthrough: PassthroughConfig | undefined) => passthrough !== undefined;

/** The method the client will use: explicit, else the reference's rule (a secret means post). */
export function effectiveClientAuthMethod(input: {
  clientAuthMethod?: ClientAuthMethod | undefined;
  clientSecret?: string | undefined;
  privateKey?: PrivateKeyConfig | undefined;
}): ClientAuthMethod {
  if (input.clientAuthMethod) return input.clientAuthMethod;
  if (input.clientSecret !== undefined) return 'client_secret_post';
  if (input.privateKey !== undefined) return 'private_key_jwt';
  return 'none';
}

const SOURCE_HINT = '{"type": "github_actions" | "kubernetes_sa" | "file" | "env" | "command" | "url", ...}';

/**
 * Cross-field rules. Each runs once the fields it reads are valid, so one typo yields one message.
 * `forward` puts the issue on the field the user must change.
 */
const providerRules = (entries: typeof providerEntries) => v.pipe(
  v.object(entries, (issue) => (issue.path?.at(-1)?.origin === 'key' ? RULE.required : RULE.object)),
  v.forward(
    v.partialCheck(
      [['issuer'], ['passthrough']],
      (input) => input.issuer !== undefined || isPassthroughOn(input.passthrough),
      "is required (the IdP's issuer URL; only a passthrough provider goes without one)",
    ),
    ['issuer'],
  ),
  v.forward(
    v.partialCheck(
      [['clientId'], ['passthrough']],
      (input) => input.clientId !== undefined || isPassthroughOn(input.passthrough),
      'is required (the OAuth client id registered at the IdP; only a passthrough provider goes without one)',
    ),
    ['clientId'],
  ),
  v.forward(
    v.partialCheck(
      [['scopes'], ['passthrough']],
      (input) => (input.scopes !== undefined && input.scopes.length > 0) || isPassthroughOn(input.passthrough),
      'is required: a non-empty list such as ["openid", "offline_access"] or "openid offline_access"',
    ),
    ['scopes'],
  ),
  v.forward(
    v.partialCheck(
      [['authFlow'], ['subjectTokenSource'], ['passthrough']],
      (input) =>
        input.subjectTokenSource !== undefined ||
        (!FEDERATED_FLOWS.includes(input.authFlow) && !isPassthroughOn(input.passthrough)),
      (issue) => {
        const input = issue.input as { authFlow: FlowKind; passthrough?: PassthroughConfig };
        const why = isPassthroughOn(input.passthrough)
          ? 'when passthrough is set (the subject token is the credential)'
          : `when authFlow is "${input.authFlow}"`;
        return `is required ${why} — set it to ${SOURCE_HINT}`;
      },
    ),
    ['subjectTokenSource'],
  ),
  v.forward(
    v.partialCheck(
      [['authFlow'], ['clientAuthMethod'], ['clientSecret'], ['privateKey'], ['clientAssertionSource'], ['passthrough']],
      (input) =>
        isPassthroughOn(input.passthrough) ||
        input.authFlow !== 'client_credentials' ||
        input.clientAuthMethod === 'none' ||
        input.clientAssertionSource !== undefined ||
        effectiveClientAuthMethod(input) !== 'none',
      'is required when authFlow is "client_credentials" (or set clientAuthMethod "private_key_jwt" with a privateKey, or a clientAssertionSource)',
    ),
    ['clientSecret'],
  ),
  v.forward(
    v.partialCheck(
      [['authFlow'], ['clientAuthMethod'], ['passthrough']],
      (input) =>
        isPassthroughOn(input.passthrough) || input.authFlow !== 'client_credentials' || input.clientAuthMethod !== 'none',
      'cannot be "none" when authFlow is "client_credentials": the client must authenticate',
    ),
    ['clientAuthMethod'],
  ),
  v.forward(
    v.partialCheck(
      [['clientAuthMethod'], ['clientSecret']],
      (input) =>
        (input.clientAuthMethod !== 'client_secret_basic' && input.clientAuthMethod !== 'client_secret_post') ||
        input.clientSecret !== undefined,
      (issue) => `is required when clientAuthMethod is "${(issue.input as { clientAuthMethod: string }).clientAuthMethod}"`,
    ),
    ['clientSecret'],
  ),
  v.forward(
    v.partialCheck(
      [['clientAuthMethod'], ['privateKey']],
      (input) => input.clientAuthMethod !== 'private_key_jwt' || input.privateKey !== undefined,
      'is required when clientAuthMethod is "private_key_jwt"',
    ),
    ['privateKey'],
  ),
  v.forward(
    v.partialCheck(
      [['clientAssertionSource'], ['clientSecret'], ['privateKey'], ['clientAuthMethod']],
      (input) =>
        input.clientAssertionSource === undefined ||
        (input.clientSecret === undefined && input.privateKey === undefined && input.clientAuthMethod === undefined),
      'is the client\'s credential: leave out clientSecret, privateKey and clientAuthMethod when it is set',
    ),
    ['clientAssertionSource'],
  ),
  v.forward(
    v.partialCheck(
      [['audience'], ['tokenExchangeAudience']],
      (input) =>
        input.audience === undefined ||
        input.tokenExchangeAudience === undefined ||
        input.audience === input.tokenExchangeAudience,
      'and tokenExchangeAudience disagree: set only one (audience is the RFC 8693 name, tokenExchangeAudience the reference\'s)',
    ),
    ['audience'],
  ),
);

/** What OpenCode's shell validates: every field, `baseURL` required (the gateway the plugin registers). */
export const providerSchema = providerRules(providerEntries);

/**
 * What the engine validates: the same fields and rules, but the OpenCode-only `baseURL` may be left out,
 * because acquiring and renewing a token never reads it. The entry type is unchanged on purpose (the rules
 * are written against it); the engine's `EngineProviderConfig` has no `baseURL` to rely on.
 */
export const engineProviderSchema = providerRules({
  ...providerEntries,
  baseURL: v.optional(providerEntries.baseURL),
} as unknown as typeof providerEntries);

/** A block as validated: the rules hold, the defaults of its own fields are applied; `toProviderModel` reads it. */
export type ParsedProvider = v.InferOutput<typeof providerSchema>;

export type ProviderInput = v.InferInput<typeof providerSchema>;
