import type { ServerMetadata } from '../../src/adapters/http/types.js';
import type { TokenErrorInfo } from '../../src/errors.js';
import type { PkceMaterial, SubjectTokenRead } from '../../src/machines/flowTypes.js';
import type { TokenSet } from '../../src/machines/token.js';

export const ISSUER = 'https://idp.example';

export const metadata: ServerMetadata = {
  issuer: ISSUER,
  tokenEndpoint: `${ISSUER}/token`,
  authorizationEndpoint: `${ISSUER}/authorize?tenant=t1`,
  deviceAuthorizationEndpoint: `${ISSUER}/device/auth`,
  authorizationResponseIssParameterSupported: true,
};

export const metadataTokenOnly: ServerMetadata = { issuer: ISSUER, tokenEndpoint: `${ISSUER}/token` };

export const pkce: PkceMaterial = {
  verifier: 'VERIFIER-secret-43-characters-long-xxxxxxxxx',
  challenge: 'challenge-abc',
  method: 'S256',
  state: 'STATE-secret',
};

export const errorInfo = (code: TokenErrorInfo['code'], extra: Partial<TokenErrorInfo> = {}): TokenErrorInfo => ({
  code,
  providerId: 'p',
  message: `[p] ${code}`,
  ...extra,
});

export const token = (over: Partial<TokenSet> = {}): TokenSet => ({
  accessToken: 'AT-secret',
  tokenType: 'Bearer',
  issuedAt: 1_000,
  expiresAt: 3_601_000,
  ...over,
});

export const subjectRead = (over: Partial<SubjectTokenRead> = {}): SubjectTokenRead => ({
  token: 'SUBJECT-jwt',
  readAt: 1_000,
  expiresAt: 601_000,
  source: 'file /tmp/token',
  ...over,
});
