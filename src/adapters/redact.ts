import { createHash } from 'node:crypto';

/**
 * Secret redaction, by field name and by shape. Two layers because either alone fails:
 * names miss secrets echoed inside free text (IdP error bodies, HTML pages), and shapes miss short secrets
 * stored under an obvious name. The reference redacted every key matching /token/ and so hid `tokenEndpoint`
 * and `hasRefreshToken` while forwarding free text untouched; here the names are an explicit list and
 * free text goes through `scrubSecrets`.
 */

export const REDACTED = '[redacted]';

/**
 * Field names whose values are secrets, compared after lower-casing and dropping `_` and `-`
 * (so `access_token`, `accessToken` and `access-token` are one name).
 */
const SECRET_FIELD_NAMES = new Set(
  [
    'access_token',
    'refresh_token',
    'id_token',
    'client_secret',
    'assertion',
    'client_assertion',
    'subject_token',
    'actor_token',
    'code',
    'code_verifier',
    'pkce_verifier',
    'device_code',
    'state',
    'password',
    'secret',
    'authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'token',
    'session_token',
    'api_key',
    'x-api-key',
    'private_key',
    'dpop',
  ].map(normaliseFieldName),
);

/** Private members of a JWK (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2): secret only inside a key. */
const JWK_PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);

/** Names whose values are also vocabulary words elsewhere (`code: 'invalid_grant'`, `state: 'refreshing'`). */
const NAMES_WITH_VOCABULARY_VALUES = new Set(['code', 'state'].map(normaliseFieldName));

const DEFAULT_MAX_DEPTH = 8;

function normaliseFieldName(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

/**
 * A short snake_case or camelCase word (`invalid_grant`, `needsReauth`) or a number: an error code or a
 * state name, never a random secret (those carry digits or mixed case and are longer).
 */
function looksLikeVocabulary(value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'boolean') return true;
  if (typeof value !== 'string' || value.length > 40) return false;
  // One lower-case run with no separator is a word only while short: an authorization code can be all
  // lower-case letters (`qwertyuiopasdfghjklz`), and no error code or state name is a 16-letter single word.
  if (/^[a-z]+$/.test(value)) return value.length <= 15;
  return /^[a-z]+(?:[_.][a-z]+)+$/.test(value) || /^[a-z]+(?:[A-Z][a-z]+)+$/.test(value);
}

/** True when a field of this name holding this value must be hidden. */
export function isSecretField(name: string, value: unknown, insideJwk = false): boolean {
  if (value === undefined || value === null) return false;
  if (insideJwk && JWK_PRIVATE_MEMBERS.has(name)) return true;
  const normalised = normaliseFieldName(name);
  if (SECRET_FIELD_NAMES.has(normalised)) {
    return !(NAMES_WITH_VOCABULARY_VALUES.has(normalised) && looksLikeVocabulary(value));
  }
  // Shape rules for names outside the list: `newRefreshToken: 'abc…'` is a secret, `hasRefreshToken: true` is not.
  if (/(secret|password|privatekey|credential)$/.test(normalised)) return typeof value !== 'boolean';
  if (/(token|assertion|verifier)$/.test(normalised)) return typeof value === 'string' && looksLikeCredential(value);
  return false;
}

/** A string that could be a credential: a JWT, or 16+ characters mixing letter cases or digits. */
function looksLikeCredential(value: string): boolean {
  if (/^eyJ[\w-]*\.[\w-]*\./.test(value)) return true;
  if (value.length < 16) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(value)).length;
  return classes >= 2;
}

export interface RedactOptions {
  /** Also pass every kept string through `scrubSecrets` (loggers do; structural copies need not). */
  scrubStrings?: boolean;
  /** Nesting beyond this depth becomes `[depth]`. Default 8. */
  maxDepth?: number;
}

/**
 * Headers by their tag, not `instanceof Headers`: in Node the global `Headers` is a lazy getter that loads
 * the whole fetch stack (~25 ms) the first time anything reads it, here the plugin's first log line.
 */
const isHeaders = (input: object): input is Headers => (input as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Headers' && typeof (input as Headers).entries === 'function';

/**
 * A deep copy with secret fields replaced by `[redacted]`. Cycle-safe (`[circular]`), depth-limited
 * (`[depth]`); Errors become `{ name, message, …own fields }`, URLs lose userinfo/query/fragment,
 * Headers and Maps become plain objects, binary data becomes its size.
 */
export function redactFields<T>(value: T, options: RedactOptions = {}): T {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const seen = new WeakSet<object>();
  const scrub = options.scrubStrings ? scrubSecrets : (text: string) => text;

  const copy = (input: unknown, depth: number): unknown => {
    if (typeof input === 'string') return scrub(input);
    if (input === null || typeof input !== 'object') {
      return typeof input === 'function' ? '[function]' : typeof input === 'bigint' ? input.toString() : input;
    }
    if (seen.has(input)) return '[circular]';
    if (depth >= maxDepth) return '[depth]';
    if (input instanceof Date) return Number.isNaN(input.getTime()) ? 'Invalid Date' : input.toISOString();
    if (input instanceof URL) return redactUrl(input.href);
    if (ArrayBuffer.isView(input) || input instanceof ArrayBuffer) return `[binary ${input.byteLength} bytes]`;
    seen.add(input);
    try {
      if (Array.isArray(input)) return input.map((item) => copy(item, depth + 1));
      if (isHeaders(input)) return copyEntries([...input.entries()], depth);
      if (input instanceof Map) return copyEntries([...input.entries()].map(([k, v]) => [String(k), v]), depth);
      if (input instanceof Set) return [...input].map((item) => copy(item, depth + 1));
      if (input instanceof Error) {
        const own = typeof (input as { toJSON?: unknown }).toJSON === 'function'
          ? ((input as unknown as { toJSON(): Record<string, unknown> }).toJSON())
          : Object.fromEntries(Object.entries(input));
        return copyEntries([['name', input.name], ['message', input.message], ...Object.entries(own)], depth);
      }
      return copyEntries(Object.entries(input), depth);
    } finally {
      seen.delete(input);
    }
  };

  const copyEntries = (entries: Array<[string, unknown]>, depth: number): Record<string, unknown> => {
    const insideJwk = entries.some(([key, v]) => key === 'kty' && typeof v === 'string');
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      out[key] = isSecretField(key, v, insideJwk) ? REDACTED : copy(v, depth + 1);
    }
    return out;
  };

  return copy(value, 0) as T;
}

/** Names scrubbed from free text (JSON members, form fields, `name: value` pairs, HTML hidden inputs). */
const SECRET_TEXT_NAMES = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'client_assertion',
  'assertion',
  'subject_token',
  'actor_token',
  'code_verifier',
  'device_code',
  'code',
  'state',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'clientSecret',
  'clientAssertion',
  'subjectToken',
  'actorToken',
  'codeVerifier',
  'deviceCode',
  'private_key',
  'privateKey',
  'api_key',
  'apiKey',
];
// Longest first so `device_code` wins over `code` at the same position.
const NAMES_ALTERNATION = [...SECRET_TEXT_NAMES].sort((a, b) => b.length - a.length).join('|');

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
// The lookahead leaves auth-params alone (`Basic realm="idp"` is a challenge, not a credential).
const AUTH_SCHEME_VALUE = /\b(Bearer|Basic|DPoP)(\s+)([A-Za-z0-9\-._~+/]+=*)(?!=*["'A-Za-z0-9])/gi;
const JSON_MEMBER = new RegExp(`("(?:${NAMES_ALTERNATION})"\\s*:\\s*)"((?:[^"\\\\]|\\\\.)*)"`, 'gi');
// The same member inside a JSON string that was itself JSON-encoded (`{\"access_token\":\"…\"}`).
const ESCAPED_JSON_MEMBER = new RegExp(`(\\\\"(?:${NAMES_ALTERNATION})\\\\"\\s*:\\s*)\\\\"(.*?)\\\\"`, 'gi');
const KEY_VALUE = new RegExp(`(^|[^A-Za-z0-9_])(${NAMES_ALTERNATION})(\\s*[=:]\\s*)([^\\s&,;"'<>)}\\]]+)`, 'gi');
const HTML_INPUT_NAME_FIRST = new RegExp(
  `(name\\s*=\\s*["'](?:${NAMES_ALTERNATION})["'][^>]*?value\\s*=\\s*["'])([^"']*)`,
  'gi',
);
const HTML_INPUT_VALUE_FIRST = new RegExp(
  `(value\\s*=\\s*["'])([^"']*)(["'][^>]*?name\\s*=\\s*["'](?:${NAMES_ALTERNATION})["'])`,
  'gi',
);
const LONG_OPAQUE = /[A-Za-z0-9_-]{32,}/g;

function isVocabularyMember(name: string, value: string): boolean {
  return NAMES_WITH_VOCABULARY_VALUES.has(normaliseFieldName(name)) && (looksLikeVocabulary(value) || /^\d+$/.test(value));
}

/** Random-looking: at least two of lower case, upper case, digits (long words and paths are left alone). */
function looksRandom(text: string): boolean {
  return [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(text)).length >= 2;
}

/**
 * Replace every occurrence of the given secret values, also in their URL-encoded, form-encoded and
 * JSON-escaped spellings (an IdP echoing a request parameter back). Values shorter than 4 characters
 * are ignored: replacing them would shred ordinary text and they are not guessable secrets anyway.
 */
export function scrubKnownSecrets(text: string, knownSecrets: readonly string[]): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (typeof secret !== 'string' || secret.length < 4) continue;
    const json = JSON.stringify(secret).slice(1, -1);
    const spellings = new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ v: secret }).toString().slice(2),
      json,
      // JSON encoders that escape `/` (PHP, many Java ones) write `a\/b`.
      json.replace(/\//g, '\\/'),
      // What a one-line rendering (whitespace collapsed) makes of a secret with a tab or newline in it.
      secret.replace(/\s+/g, ' '),
    ]);
    for (const spelling of [...spellings].sort((a, b) => b.length - a.length)) out = out.split(spelling).join(REDACTED);
  }
  return out;
}

/**
 * Hide secrets inside free text: the values in `knownSecrets` (the request's own secrets, in any
 * spelling), then by shape: JWTs, `Bearer`/`Basic`/`DPoP` credentials, JSON members and form or
 * `name: value` fields named like secrets, HTML inputs carrying them, and long opaque high-entropy
 * strings (32+ characters of `[A-Za-z0-9_-]` mixing cases or digits). Idempotent.
 */
export function scrubSecrets(text: string, knownSecrets: readonly string[] = []): string {
  if (!text) return text;
  return scrubKnownSecrets(text, knownSecrets)
    .replace(JWT_SHAPE, REDACTED)
    .replace(AUTH_SCHEME_VALUE, (match, scheme: string, space: string, value: string) =>
      value === '[redacted]' || /^[a-z]+$/.test(value) ? match : `${scheme}${space}${REDACTED}`,
    )
    .replace(HTML_INPUT_NAME_FIRST, `$1${REDACTED}`)
    .replace(HTML_INPUT_VALUE_FIRST, `$1${REDACTED}$3`)
    .replace(JSON_MEMBER, (match, head: string, value: string) => {
      const name = head.slice(1, head.indexOf('"', 1));
      return isVocabularyMember(name, value) || value === REDACTED ? match : `${head}"${REDACTED}"`;
    })
    .replace(ESCAPED_JSON_MEMBER, (match, head: string, value: string) => {
      const name = head.slice(2, head.indexOf('\\', 2));
      return isVocabularyMember(name, value) || value === REDACTED ? match : `${head}\\"${REDACTED}\\"`;
    })
    .replace(KEY_VALUE, (match, before: string, name: string, sep: string, value: string) =>
      isVocabularyMember(name, value) || value.startsWith(REDACTED) || value.startsWith('[redacted')
        ? match
        : `${before}${name}${sep}${REDACTED}`,
    )
    .replace(LONG_OPAQUE, (candidate) => (looksRandom(candidate) ? REDACTED : candidate));
}

/**
 * A URL safe to log: scheme, host and path only (userinfo, query and fragment dropped — they carry
 * `code`, `state`, API keys and basic-auth passwords). Unparseable input is cut at `?`/`#` and loses `user@`.
 */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return String(url)
      .replace(/\/\/[^/@?#\s]*@/, '//')
      .replace(/[?#].*$/s, '');
  }
}

/** First 8 hex characters of SHA-256: correlates a token across log lines without revealing it. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 8);
}
