import type { TokenSet } from '../machines/token.js';
import type { CredentialHeader } from '../machines/subjectTokenPassthrough.js';

/**
 * The request headers that carry a token: `Authorization: <type> <token>`, or for a passthrough
 * credential, the header (and prefix) it names, e.g. `x-api-key: <token>`.
 */
export function credentialHeaders(token: Pick<TokenSet, 'accessToken' | 'tokenType'> & { credentialHeader?: CredentialHeader }): Record<string, string> {
  if (token.credentialHeader) return { [token.credentialHeader.name]: `${token.credentialHeader.prefix}${token.accessToken}` };
  return { authorization: `${token.tokenType || 'Bearer'} ${token.accessToken}` };
}
