import * as v from 'valibot';

/**
 * Schema building blocks. Each carries its rule as the valibot message, phrased to follow a field path
 * ("redirectPort" + " must be an integer in [1, 65535]"); issues.ts adds the provider id in front and the
 * received value behind. These texts are stable: docs and tests key on them.
 */

export const RULE = {
  nonEmptyString: 'must be a non-empty string',
  boolean: 'must be a boolean (true or false)',
  httpUrl: 'must be an absolute http(s) URL',
  object: 'must be an object',
  stringMap: 'must be an object of string values',
  required: 'is required',
} as const;

export const intRangeRule = (min: number, max: number) => `must be an integer in [${min}, ${max}]`;
export const oneOfRule = (options: readonly string[]) => `must be one of ${options.join(', ')}`;

/** A string, trimmed, not empty. */
export const nonEmptyString = (rule: string = RULE.nonEmptyString) =>
  v.pipe(v.string(rule), v.check((value) => value.trim() !== '', rule), v.trim());

/**
 * A secret string: kept byte for byte (a secret may legitimately end in a space), but not blank.
 * The value is never echoed: issues.ts knows the secret field names.
 */
export const secretString = () =>
  v.pipe(
    v.string(RULE.nonEmptyString),
    v.check((value) => value.trim() !== '', RULE.nonEmptyString),
  );

export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

/** An absolute http(s) URL, trimmed and otherwise kept as written (an issuer must match byte for byte). */
export const httpUrl = () =>
  v.pipe(v.string(RULE.httpUrl), v.trim(), v.check(isHttpUrl, RULE.httpUrl));

const NUMERIC_TEXT = /^\s*-?\d+(?:\.\d+)?\s*$/;

/**
 * Numbers also arrive as text: OpenCode's `{env:VAR}` substitution yields strings, so `"8765"` is read
 * as 8765 (the reference refused it; accepting it is additive).
 */
const numberLike = (rule: string) =>
  v.pipe(
    v.unknown(),
    v.transform((input) => (typeof input === 'string' && NUMERIC_TEXT.test(input) ? Number(input) : input)),
    v.number(rule),
  );

export const intInRange = (min: number, max: number) => {
  const rule = intRangeRule(min, max);
  return v.pipe(numberLike(rule), v.integer(rule), v.minValue(min, rule), v.maxValue(max, rule));
};

export const positiveNumber = () => {
  const rule = 'must be a number greater than 0';
  return v.pipe(numberLike(rule), v.finite(rule), v.gtValue(0, rule));
};

/** `true`/`false`, or their text forms from `{env:VAR}` substitution. */
export const booleanLike = () =>
  v.pipe(
    v.unknown(),
    v.transform((input) => (input === 'true' ? true : input === 'false' ? false : input)),
    v.boolean(RULE.boolean),
  );

export const oneOf = <const T extends readonly [string, ...string[]]>(options: T) =>
  v.picklist(options, oneOfRule(options));

const isPlainObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** valibot's `record` takes arrays too; config objects must be plain objects. */
export const plainRecord = <const S extends v.GenericSchema>(valueSchema: S, rule: string) =>
  v.pipe(v.unknown(), v.check(isPlainObject, rule), v.record(v.string(), valueSchema, rule));

/** A string, or a list of strings: always a list afterwards (the reference's scopes rule, also for resources). */
export const stringOrList = (rule: string) =>
  v.pipe(
    v.unknown(),
    v.transform((input) => (typeof input === 'string' ? [input] : input)),
    v.array(v.string('must be a string'), rule),
  );

/** HTTP header field names (RFC 9110 §5.1 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Where a field comes from: the reference plugin (same name and default) or new here. */
export type FieldOrigin = 'reference' | 'new' | 'reference, extended';

/** The documentation of a field, attached to its schema: docs/config.md is generated from these. */
export interface FieldDoc {
  type: string;
  /** Text for the default column when the schema's own default does not say it (derived defaults). */
  default?: string;
  origin: FieldOrigin;
  doc: string;
}

/** Attach a field's documentation to its schema (valibot metadata: no effect on validation). */
export const documented = <const S extends v.GenericSchema>(schema: S, doc: FieldDoc) =>
  v.pipe(schema, v.metadata({ doc }));

export function fieldDocOf(schema: v.GenericSchema): FieldDoc | undefined {
  const metadata = v.getMetadata(schema as Parameters<typeof v.getMetadata>[0]) as { doc?: FieldDoc };
  return metadata.doc;
}
