import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { parseOpenCodeConfig } from '../src/config/index.js';
import { providerSettings } from '../src/runtime/providerSettings.js';
import { storeKey } from '../src/adapters/storage/storeKey.js';
const I = 'https://idp.example/realms/x';
const blocks: Record<string, unknown> = {
  ac: { issuer: I, clientId: 'c', scopes: 'openid offline_access' },
  dc: { issuer: I, clientId: 'c', scopes: ['openid'], authFlow: 'device_code', audience: 'gw', resource: ['https://a/', 'https://b/'] },
  cc: { issuer: I, clientId: 'c', clientSecret: 's', scopes: 'api', authFlow: 'client_credentials', tokenExchangeAudience: 'x' },
  jb: { issuer: I, clientId: 'c', scopes: 'api', authFlow: 'jwt_bearer', subjectTokenSource: { type: 'env', var: 'X' } },
  te: { issuer: I, clientId: 'c', clientSecret: 's', scopes: 'api', authFlow: 'token_exchange', subjectTokenSource: { type: 'env', var: 'X' }, audience: 'aud' },
  pt: { passthrough: { header: 'x-api-key' }, subjectTokenSource: { type: 'env', var: 'X' } },
};
it('keys', () => {
  const provider = Object.fromEntries(Object.entries(blocks).map(([id, b]) => [id, { options: { baseURL: 'https://gw/v1', oauth2: b } }]));
  const parsed = parseOpenCodeConfig({ provider });
  const out = parsed.providers.map((p) => [p.id, storeKey(providerSettings(p).storeKey).id]);
  writeFileSync(process.env.KEYS_OUT!, JSON.stringify({ out, errors: parsed.errors.map((e) => e.message) }, null, 1));
});
