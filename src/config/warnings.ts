import { isInsecureHttp } from '../adapters/plainHttp.js';
import { isUserFlow } from '../machines/token.js';
import { issue, type ConfigIssue, type IssueContext } from './issues.js';
import { FEDERATED_FLOWS, PROVIDER_FIELDS, type ClientAuthMethod, type ParsedProvider } from './providerSchema.js';

/**
 * Things that are valid but probably not what the user meant: fields a flow ignores, typos. They never
 * stop a provider; they are reported so nothing is silently ignored (the reference's habit we do not keep).
 * The one exception is plain http to a non-loopback host, an error unless `allowInsecureHttp` is set.
 */

type Context = Pick<IssueContext, 'subject' | 'providerId' | 'source'>;

const KNOWN_FIELDS = new Set<string>(PROVIDER_FIELDS);

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known field a misspelt key most likely meant, if any is close. */
export function closestField(key: string): string | undefined {
  const lower = key.toLowerCase();
  let best: { field: string; distance: number } | undefined;
  for (const field of PROVIDER_FIELDS) {
    const distance = field.toLowerCase() === lower ? 0 : editDistance(lower, field.toLowerCase());
    if (distance <= Math.min(2, Math.floor(field.length / 4)) && (!best || distance < best.distance)) {
      best = { field, distance };
    }
  }
  return best?.field;
}

export function unknownFieldWarnings(raw: Record<string, unknown>, context: Context): ConfigIssue[] {
  return Object.keys(raw)
    .filter((key) => !KNOWN_FIELDS.has(key))
    .map((key) => {
      const guess = closestField(key);
      return issue(
        'warning',
        context,
        `unknown field ${JSON.stringify(key)} is ignored${guess ? ` (did you mean "${guess}"?)` : ''}`,
        key,
      );
    });
}


/** Warnings that need the validated provider (flow-dependent fields, insecure endpoints). */
export function providerWarnings(
  raw: Record<string, unknown>,
  config: ParsedProvider & { clientAuthMethod: ClientAuthMethod },
  context: Context,
): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  const warn = (field: string, text: string) => warnings.push(issue('warning', context, `${field} ${text}`, field));
  const flow = config.authFlow;
  const passthrough = config.passthrough !== undefined;

  if (passthrough) {
    if (raw.authFlow !== undefined) warn('authFlow', 'is ignored: a passthrough provider sends the subject token itself');
  } else {
    for (const field of ['redirectPort', 'redirectPath'] as const) {
      if (raw[field] !== undefined && flow !== 'authorization_code') {
        warn(field, `only applies to authFlow "authorization_code"; it is ignored for "${flow}"`);
      }
    }
    if (config.subjectTokenSource && !FEDERATED_FLOWS.includes(flow)) {
      warn('subjectTokenSource', `is ignored for authFlow "${flow}" (only jwt_bearer, token_exchange and passthrough use it)`);
    }
    if (config.actorTokenSource && flow !== 'token_exchange') {
      warn('actorTokenSource', `is ignored for authFlow "${flow}" (only token_exchange sends an actor token)`);
    }
    if (raw.pkce !== undefined && !isUserFlow(flow)) {
      warn('pkce', `only applies to authorization_code and device_code; it is ignored for "${flow}"`);
    }
    if (config.clientSecret !== undefined && (config.clientAuthMethod === 'none' || config.clientAuthMethod === 'private_key_jwt')) {
      warn('clientSecret', `is ignored with clientAuthMethod "${config.clientAuthMethod}"`);
    }
    if (config.privateKey !== undefined && config.clientAuthMethod !== 'private_key_jwt') {
      warn('privateKey', `is ignored with clientAuthMethod "${config.clientAuthMethod}"`);
    }
  }
  if (raw.actorTokenType !== undefined && !config.actorTokenSource) {
    warn('actorTokenType', 'is ignored without actorTokenSource');
  }

  // Plain http off this machine: the IdP gets client secrets, codes and refresh tokens, the gateway the
  // bearer of every request. Refused (the provider does not start) unless allowInsecureHttp says otherwise.
  for (const field of ['issuer', 'tokenEndpoint', 'authorizationEndpoint', 'deviceAuthorizationEndpoint', 'baseURL'] as const) {
    const url = config[field];
    if (!url || !isInsecureHttp(url)) continue;
    if (config.allowInsecureHttp) {
      warn(field, 'uses plain http on a non-loopback host (allowed by allowInsecureHttp): tokens and secrets cross the network UNENCRYPTED');
    } else {
      warnings.push(
        issue(
          'error',
          context,
          `${field} uses plain http on a non-loopback host, so credentials would cross the network unencrypted: use https (or, only for a trusted network, set allowInsecureHttp: true)`,
          field,
        ),
      );
    }
  }

  if (raw.nameOverrides && typeof raw.nameOverrides === 'object' && !Array.isArray(raw.nameOverrides)) {
    for (const [id, name] of Object.entries(raw.nameOverrides)) {
      if (typeof name !== 'string' || name.trim() === '') {
        warn(`nameOverrides[${JSON.stringify(id)}]`, 'is dropped: a display name must be a non-empty string');
      }
    }
  }
  return warnings;
}
