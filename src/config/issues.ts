import type * as v from 'valibot';
import { scrubSecrets } from '../adapters/redact.js';

/**
 * A problem found in the configuration. Messages are stable and start with the provider id (or, when
 * the entry has none yet, with where it is), then name the field and the rule:
 * `corp: redirectPort must be an integer in [1, 65535] (received 70000)`.
 * A secret value is never part of a message.
 */
export interface ConfigIssue {
  severity: 'error' | 'warning';
  /** The provider concerned; undefined for plugin-wide settings or an entry without a usable id. */
  providerId?: string;
  /** Where the block is: `provider.<id>.options.oauth2`, `pluginConfig.oauth2ModelSync.servers[i]`, … */
  source: string;
  /** Path inside the block, e.g. `subjectTokenSource.audience`; absent when the whole block is concerned. */
  field?: string;
  message: string;
}

/** Fields whose values are secret: their received value is never echoed, whatever it is. */
const SECRET_PATH_SEGMENTS = new Set(['clientSecret', 'privateKey', 'headers', 'command']);
const LOOKS_SECRET = /eyJ[\w-]{4,}\.|^(?:bearer|basic)\s/i;
const MAX_ECHO = 60;

export function fieldPath(path: readonly v.IssuePathItem[] | undefined): string | undefined {
  if (!path || path.length === 0) return undefined;
  let text = '';
  for (const item of path) {
    const key = (item as { key?: unknown }).key;
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) text += text ? `.${key}` : key;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

function isSecretPath(path: string | undefined): boolean {
  if (!path) return false;
  return path.split(/[.[\]"]+/).some((segment) => SECRET_PATH_SEGMENTS.has(segment));
}

/** A short, safe description of a received value; undefined when it must not be shown. */
export function describeReceived(value: unknown): string | undefined {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    // Anything shaped like a credential (JWT, Bearer value, long opaque string) is not shown.
    if (LOOKS_SECRET.test(value) || scrubSecrets(value) !== value) return undefined;
    const shown = value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}…` : value;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

export interface IssueContext {
  /** First word of the message: the provider id, or the entry's location when it has no id. */
  subject: string;
  providerId?: string;
  source: string;
  /** Extra text for "is required" on given fields (e.g. where shape A reads baseURL from). */
  requiredHints?: Record<string, string>;
}

/** Turn one valibot issue into a ConfigIssue. The rule is the schema's message; we add who, where and what. */
export function fromValibotIssue(issue: v.BaseIssue<unknown>, context: IssueContext): ConfigIssue {
  const field = fieldPath(issue.path);
  const missingKey = issue.path?.at(-1)?.origin === 'key';
  // Cross-field rules and missing keys have no single received value worth showing.
  const echo = !missingKey && issue.type !== 'partial_check' && !isSecretPath(field);
  const received = echo ? describeReceived(issue.input) : undefined;
  const hint = missingKey && field ? context.requiredHints?.[field] : undefined;
  const message =
    `${context.subject}: ${field ? `${field} ` : ''}${issue.message}` +
    (hint ? ` (${hint})` : '') +
    (received !== undefined ? ` (received ${received})` : '');
  return {
    severity: 'error',
    ...(context.providerId !== undefined ? { providerId: context.providerId } : {}),
    source: context.source,
    ...(field ? { field } : {}),
    message,
  };
}

export function issue(
  severity: ConfigIssue['severity'],
  context: Pick<IssueContext, 'subject' | 'providerId' | 'source'>,
  text: string,
  field?: string,
): ConfigIssue {
  return {
    severity,
    ...(context.providerId !== undefined ? { providerId: context.providerId } : {}),
    source: context.source,
    ...(field ? { field } : {}),
    message: `${context.subject}: ${text}`,
  };
}
