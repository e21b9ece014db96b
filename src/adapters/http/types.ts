import type { TokenSet } from '../../machines/token.js';

/**
 * The contract between the flows/lifecycle and the HTTP adapter. Implemented in this folder with ky;
 * every function rejects with a TokenError (src/errors.ts) whose message carries no secret.
 */

export type ClientAuth =
  | { method: 'none'; clientId: string }
  | { method: 'client_secret_basic'; clientId: string; clientSecret: string }
  | { method: 'client_secret_post'; clientId: string; clientSecret: string }
  | {
      method: 'private_key_jwt';
      clientId: string;
      /** A private JWK (with `alg` or paired with `alg` below). */
      privateKey: Record<string, unknown>;
      alg?: string;
      kid?: string;
      /** `aud` of the client assertion; default: the token endpoint. */
      audience?: string;
    };

/** Endpoints after discovery and explicit overrides. Only `issuer` and `tokenEndpoint` are always there. */
export interface ServerMetadata {
  issuer: string;
  tokenEndpoint: string;
  authorizationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  revocationEndpoint?: string;
  introspectionEndpoint?: string;
  jwksUri?: string;
  codeChallengeMethodsSupported?: string[];
  grantTypesSupported?: string[];
  /** RFC 9207: the server sends `iss` on authorization responses. */
  authorizationResponseIssParameterSupported?: boolean;
}

export interface HttpOptions {
  providerId: string;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** Overall deadline across retries, as epoch ms. */
  deadline?: number;
  signal?: AbortSignal;
}

export interface TokenRequest extends HttpOptions {
  tokenEndpoint: string;
  /** The issuer, used as the default audience of private_key_jwt assertions where profiles need it. */
  issuer?: string;
  grantType: string;
  /** Grant parameters; undefined values are left out. */
  params: Record<string, string | undefined>;
  clientAuth: ClientAuth;
  /**
   * `refresh_token` requests are never re-sent once the request may have reached the server:
   * a lost answer becomes a TokenError `uncertain`.
   */
  oneShot?: boolean;
  /** Lifetime to assume when the server sends no usable `expires_in`, in seconds. */
  assumedLifetimeSec?: number;
  /** Epoch-ms clock; defaults to Date.now. Tests and the lifecycle pass their own. */
  now?: () => number;
}

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds. */
  expiresIn: number;
  /** Seconds; undefined when the server sent none (the flow defaults to 5). */
  interval?: number;
}

export interface TokenEndpointAdapter {
  discover(issuer: string, options: HttpOptions): Promise<ServerMetadata>;
  requestToken(request: TokenRequest): Promise<TokenSet>;
  requestDeviceAuthorization(
    request: HttpOptions & { endpoint: string; clientAuth: ClientAuth; params: Record<string, string | undefined> },
  ): Promise<DeviceAuthorization>;
  revoke(
    request: HttpOptions & { endpoint: string; clientAuth: ClientAuth; token: string; tokenTypeHint?: 'access_token' | 'refresh_token' },
  ): Promise<void>;
}
