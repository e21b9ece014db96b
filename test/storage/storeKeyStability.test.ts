import { describe, expect, it } from 'vitest';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { parseOpenCodeConfig } from '../../src/config/index.js';
import { providerSettings } from '../../src/runtime/providerSettings.js';

/**
 * A provider's record name follows from its config alone. If a refactor of the config model changed it, every
 * user's stored login would silently stop being found: these names were computed by 0bc0d55 (before the
 * provider model) and must not move.
 */
const ISSUER = 'https://idp.example/realms/x';
const env = { type: 'env', var: 'X' };
const blocks: Record<string, Record<string, unknown>> = {
  ac: { issuer: ISSUER, clientId: 'c', scopes: 'openid offline_access' },
  dc: { issuer: ISSUER, clientId: 'c', scopes: ['openid'], authFlow: 'device_code', audience: 'gw', resource: ['https://a/', 'https://b/'] },
  cc: { issuer: ISSUER, clientId: 'c', clientSecret: 's', scopes: 'api', authFlow: 'client_credentials', tokenExchangeAudience: 'x' },
  jb: { issuer: ISSUER, clientId: 'c', scopes: 'api', authFlow: 'jwt_bearer', subjectTokenSource: env },
  te: { issuer: ISSUER, clientId: 'c', clientSecret: 's', scopes: 'api', authFlow: 'token_exchange', subjectTokenSource: env, audience: 'aud' },
  pt: { passthrough: { header: 'x-api-key' }, subjectTokenSource: env },
};

describe('store key stability', () => {
  it('every flow keeps the record name it had before the provider model', () => {
    const provider = Object.fromEntries(Object.entries(blocks).map(([id, oauth2]) => [id, { options: { baseURL: 'https://gw/v1', oauth2 } }]));
    const parsed = parseOpenCodeConfig({ provider });
    expect(parsed.errors).toEqual([]);
    expect(parsed.providers.map((p) => [p.id, storeKey(providerSettings(p).storeKey).id])).toEqual([
      ['ac', 'ac-e66ddac9b409'],
      ['dc', 'dc-05c6d710d017'],
      ['cc', 'cc-95d6f2d455ea'],
      ['jb', 'jb-2b06f9bb3558'],
      ['te', 'te-f79928c3e9ae'],
      ['pt', 'pt-0d630f4834dd'],
    ]);
  });
});
