import { createHash, randomBytes } from 'node:crypto';
import type { PkceMaterial } from '../machines/flowTypes.js';

export type { PkceMaterial };

/**
 * A fresh code verifier: 32 random bytes, base64url (43 characters, inside the 43–128 range).
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 */
export function createCodeVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The S256 code challenge. `plain` is never offered: it would put the verifier itself in the URL.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export function s256CodeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * An opaque `state` value, independent of the verifier so that leaking one tells nothing about the other.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12
 */
export function createState(): string {
  return randomBytes(24).toString('base64url');
}

export function createPkceMaterial(): PkceMaterial {
  const verifier = createCodeVerifier();
  return { verifier, challenge: s256CodeChallenge(verifier), method: 'S256', state: createState() };
}
