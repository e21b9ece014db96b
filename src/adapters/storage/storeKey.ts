import { createHash } from 'node:crypto';
import type { StoreKey, StoreKeyInput } from './types.js';

const MAX_PROVIDER_PART = 48;
const HASH_HEX_CHARS = 12;

/** Keeps a provider id usable as the start of a file name on every OS (no separators, no reserved characters). */
export function sanitiseProviderId(providerId: string): string {
  const safe = providerId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, MAX_PROVIDER_PART);
  return safe === '' ? '_' : safe;
}

/** The descriptor in one canonical shape: scopes sorted and de-duplicated, absent fields omitted. */
function canonicalDescriptor(input: StoreKeyInput): StoreKey['descriptor'] {
  return {
    issuer: input.issuer,
    clientId: input.clientId,
    flow: input.flow,
    scopes: [...new Set(input.scopes)].sort(),
    ...(input.audience === undefined ? {} : { audience: input.audience }),
    ...(input.resource === undefined ? {} : { resource: input.resource }),
  };
}

/** JSON with object keys sorted at every depth, so equal descriptors always hash equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The record key for one provider configuration. Any change to issuer, client, flow, scopes (order and
 * duplicates aside), audience or resource gives another id, so a config change never reuses a stale token.
 *
 * The provider id is hashed too (not only shown in the readable prefix): two ids that sanitise or truncate to
 * the same prefix ("corp/a", "corp:a") would otherwise share a record and a lock, and one provider's refresh
 * must never rewrite another's record.
 */
export function storeKey(input: StoreKeyInput): StoreKey {
  const descriptor = canonicalDescriptor(input);
  const digest = createHash('sha256')
    .update(canonicalJson({ providerId: input.providerId, descriptor }))
    .digest('hex')
    .slice(0, HASH_HEX_CHARS);
  return { id: `${sanitiseProviderId(input.providerId)}-${digest}`, providerId: input.providerId, descriptor };
}
