/**
 * The data the acquisition machines exchange with their actors. Pure shapes: the actors that produce and
 * consume them are provided from outside (src/flows/).
 */

/** Proof Key for Code Exchange material for one login; `state` is drawn separately from the verifier. */
export interface PkceMaterial {
  /** Never put in a URL: only in the token request. */
  verifier: string;
  /** base64url(SHA-256(verifier)). */
  challenge: string;
  method: 'S256';
  /** Independent random value binding the callback to this login. */
  state: string;
}

/** One read of a subject (or actor) token, with what scheduling needs to know about it. */
export interface SubjectTokenRead {
  token: string;
  /** Epoch ms of the JWT `exp`; undefined when the token is not a JWT or carries none. */
  expiresAt?: number;
  /** Epoch ms at which it was read (time enters the machine through actor output). */
  readAt: number;
  /** Where it came from, for messages (never the token). */
  source: string;
}

export interface DiscoverInput {
  providerId: string;
}

/** A token-endpoint call as a machine describes it; the runner adds client authentication and deadlines. */
export interface TokenCallInput {
  providerId: string;
  tokenEndpoint: string;
  issuer: string;
  grantType: string;
  /** A list is sent as repeated parameters (several RFC 8707 `resource` values). */
  params: Record<string, string | readonly string[] | undefined>;
}

export interface OpenUrlInput {
  url: string;
}

export interface ReadSubjectInput {
  providerId: string;
  role: 'subject' | 'actor';
}

export const GRANT_TYPE = {
  authorizationCode: 'authorization_code',
  deviceCode: 'urn:ietf:params:oauth:grant-type:device_code',
  clientCredentials: 'client_credentials',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
} as const;

export { JWT_TOKEN_TYPE as TOKEN_TYPE_JWT } from '../constants.js';
