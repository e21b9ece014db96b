/** The token vocabulary every layer shares. Pure data: no I/O, no clock. */

export type FlowKind = 'authorization_code' | 'device_code' | 'client_credentials' | 'jwt_bearer' | 'token_exchange';

export const FLOW_KINDS: readonly FlowKind[] = [
  'authorization_code',
  'device_code',
  'client_credentials',
  'jwt_bearer',
  'token_exchange',
];

/** Every acquisition: the five grants, plus `passthrough` (the platform's own token is the credential). */
export type FlowName = FlowKind | 'passthrough';

/** User flows need a human to start and must hold a refresh token; machine flows re-acquire unattended. */
export function isUserFlow(flow: FlowName): boolean {
  return flow === 'authorization_code' || flow === 'device_code';
}

export interface TokenSet {
  accessToken: string;
  /** Normalised: `bearer` from the wire becomes `Bearer`. */
  tokenType: string;
  refreshToken?: string;
  /** Epoch ms at which the request that produced this token STARTED (expiry counts from there). */
  issuedAt: number;
  /** Epoch ms; always set: a missing `expires_in` is replaced by the documented assumed lifetime. */
  expiresAt: number;
  /** True when the server sent no usable `expires_in` and `expiresAt` is our assumption. */
  expiryAssumed?: boolean;
  /** Epoch ms before which the server asks us to refresh (`refresh_in`), or the subject token's own limit. */
  refreshBy?: number;
  scope?: string;
  /** RFC 8693 `issued_token_type`, kept for diagnostics. */
  issuedTokenType?: string;
  idToken?: string;
  /** Passthrough credentials name the header that carries them (e.g. `x-api-key`); default Authorization. */
  credentialHeader?: { name: string; prefix: string };
}

/** Fields of a token that are secret. Redaction by field name uses this list too. */
export const SECRET_TOKEN_FIELDS = ['accessToken', 'refreshToken', 'idToken'] as const;
