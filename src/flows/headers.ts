import { API_KEY_TOKEN_TYPE } from '../machines/subjectTokenPassthrough.js';
import type { TokenSet } from '../machines/token.js';

/**
 * The request headers that carry a token: `Authorization: <type> <token>`, or for a passthrough
 * credential configured for it, `x-api-key: <token>`.
 */
export function credentialHeaders(token: Pick<TokenSet, 'accessToken' | 'tokenType'>): Record<string, string> {
  if (token.tokenType === API_KEY_TOKEN_TYPE) return { 'x-api-key': token.accessToken };
  return { authorization: `${token.tokenType || 'Bearer'} ${token.accessToken}` };
}
