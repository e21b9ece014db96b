import { isSecretField } from '../redact.js';
import type { ClientAuth } from './types.js';

/**
 * The secret values one request carries (client secret, refresh token, code, verifier, assertions,
 * subject token, secret headers). Error text from the server is scrubbed of exactly these, because an IdP
 * may echo a parameter back in `error_description` in a form no shape rule recognises.
 */
export function requestSecrets(
  clientAuth: ClientAuth | undefined,
  params: Record<string, string | readonly string[] | undefined> = {},
  headers: Record<string, string> = {},
): string[] {
  const secrets: string[] = [];
  if (clientAuth && 'clientSecret' in clientAuth && typeof clientAuth.clientSecret === 'string') secrets.push(clientAuth.clientSecret);
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string' && isSecretField(name, value)) secrets.push(value);
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!isSecretField(name, value)) continue;
    secrets.push(value);
    const credentials = value.replace(/^\S+\s+/, '');
    if (credentials !== value) secrets.push(credentials);
  }
  return secrets;
}
