import type { TokenSet } from '../../machines/token.js';
import type { TokenErrorCode } from '../../errors.js';
import type { Logger } from '../logger.js';

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
      /** `aud` of the client assertion, verbatim; wins over `audienceKind`. */
      audience?: string;
      /** Which URL is the `aud`: the issuer (default, for every endpoint) or the token endpoint. */
      audienceKind?: 'issuer' | 'token_endpoint';
    }
  | {
      /**
       * A federated client assertion (RFC 7521 §4.2, RFC 7523 §2.2): a JWT minted by another party (GitHub
       * Actions, a Kubernetes projected token, AZURE_FEDERATED_TOKEN_FILE) sent as `client_assertion`.
       */
      method: 'client_assertion';
      clientId: string;
      /** Reads the JWT afresh; called once per request (never cached). */
      readAssertion: (signal?: AbortSignal) => Promise<string>;
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
  /** Grant parameters; undefined values are left out, a list is sent as repeated parameters (RFC 8707 `resource`). */
  params: Record<string, string | readonly string[] | undefined>;
  clientAuth: ClientAuth;
  /**
   * Never re-sent once the request may have reached the server: a lost answer becomes a TokenError
   * `uncertain`. Default: refresh_token, authorization_code and device_code grants, and any request
   * carrying an assertion, subject/actor token or federated client assertion with a `jti` (oneShot.ts).
   */
  oneShot?: boolean;
  /** Lifetime to assume when the server sends no usable `expires_in`, in seconds. */
  assumedLifetimeSec?: number;
  /** Epoch-ms clock; defaults to Date.now. Tests and the lifecycle pass their own. */
  now?: () => number;
}

/** Where a client assertion sent to an endpoint other than the token endpoint is addressed (see clientAuth.ts). */
export interface AudienceHints {
  issuer?: string;
  tokenEndpoint?: string;
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
    request: HttpOptions & AudienceHints & { endpoint: string; clientAuth: ClientAuth; params: Record<string, string | readonly string[] | undefined> },
  ): Promise<DeviceAuthorization>;
  revoke(
    request: HttpOptions & AudienceHints & { endpoint: string; clientAuth: ClientAuth; token: string; tokenTypeHint?: 'access_token' | 'refresh_token' },
  ): Promise<void>;
}

// ---- Additions (additive only; everything above is the original contract) ----

/**
 * Effects the HTTP adapter takes from outside, so tests script time and randomness instead of waiting
 * on them. Every member is optional; defaults are the real ones.
 */
export interface HttpDeps {
  /** Waits between retries. Default: a timer that rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform [0, 1) for full-jitter backoff. Default Math.random. */
  random?: () => number;
  /** Epoch-ms clock for deadlines, expiry and assertions. Default Date.now. */
  now?: () => number;
  /** Per-attempt timeout when a request gives none. Default 10 000 ms. */
  timeoutMs?: number;
  /** The fetch ky calls. Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Receives redacted events only (the adapter wraps it). Default: silent. */
  logger?: Logger;
  /** How long discovered metadata is reused, in ms. Default 1 hour. */
  discoveryTtlMs?: number;
}

/** Endpoints a flow cannot run without, beyond `tokenEndpoint`. */
export type MetadataNeed = 'authorizationEndpoint' | 'deviceAuthorizationEndpoint' | 'revocationEndpoint';

/** Explicitly configured endpoints; each overrides the discovered value. */
export type MetadataOverrides = Partial<Omit<ServerMetadata, 'issuer'>>;

/**
 * One device-flow poll, read as the loop needs it (RFC 8628 §3.5): keep polling, poll slower, or stop.
 * `expired_token` and `access_denied` are not outcomes but TokenErrors (codes `expired_token`, `access_denied`).
 */
export type DevicePollOutcome =
  | { kind: 'token'; token: TokenSet }
  | { kind: 'pending' }
  /** `intervalSec`: the server's new interval when it sent one (GitHub does), else undefined (+5 s). */
  | { kind: 'slow_down'; intervalSec?: number };

export interface GetJsonOptions extends HttpOptions {
  /** Extra request headers (e.g. `Authorization: bearer …` for the GitHub Actions OIDC endpoint). */
  headers?: Record<string, string>;
  /** Names the endpoint in errors: "GitHub Actions OIDC token endpoint". Default "endpoint". */
  what?: string;
  /** Code of the TokenError for a non-retryable failure status. Default 'protocol'. */
  failureCode?: TokenErrorCode;
  /** The fix attached to that error. */
  fix?: string;
}

/** The ky-based adapter: the contract plus the generic JSON GET and the discovery cache control. */
export interface HttpTokenEndpointAdapter extends TokenEndpointAdapter {
  getJson(url: string, options: GetJsonOptions): Promise<unknown>;
  /** Runs one device-code poll and classifies it; see DevicePollOutcome. */
  pollDeviceToken(request: TokenRequest): Promise<DevicePollOutcome>;
  /** Forget cached discovery documents (one issuer, or all). */
  forgetMetadata(issuer?: string): void;
}
