import type { ClientAuth, MetadataOverrides, TokenEndpointAdapter } from '../adapters/http/types.js';
import type { LoopbackOptions, LoopbackServer } from '../adapters/loopback/index.js';
import type { Logger } from '../adapters/logger.js';
import type { SubjectTokenSource, SubjectTokenSourceConfig } from '../adapters/subject-token/types.js';
import type { PkceMaterial } from '../machines/flowTypes.js';
import type { InspectionEvent } from 'xstate';

export type { FlowName } from '../machines/token.js';
import type { FlowName } from '../machines/token.js';

/** Something the user must see (not a log line): where to log in, which code to enter, what we wait for. */
export interface FlowNotice {
  kind: 'device_code' | 'browser' | 'info';
  text: string;
  url?: string;
  userCode?: string;
  /** Epoch ms until which the login can be completed. */
  expiresAt?: number;
}

/** A provider's acquisition settings, normalised (the config layer maps user config to this). */
export interface FlowConfig {
  providerId: string;
  /** What a person reads in a login notice ("To log in to Corp gateway, …"): the provider's display name. */
  providerName?: string;
  flow: FlowName;
  issuer: string;
  clientAuth: ClientAuth;
  scopes: readonly string[];
  /** Explicit endpoints; each overrides discovery, and discovery is skipped when all a flow needs are set. */
  endpoints?: MetadataOverrides;
  /** Whether a human may be asked right now (browser, device code). */
  interactive: boolean;
  notify(notice: FlowNotice): void;

  /** device_code: send PKCE on the device request (default true; false for servers that reject it). authorization_code always uses S256. */
  pkce?: boolean;
  /** authorization_code: fixed loopback port (strict IdPs register one); default random. */
  redirectPort?: number;
  /** authorization_code: callback path; default `/oauth2/callback`. */
  redirectPath?: string;
  /** authorization_code: how long to wait for the browser, default 120 s. */
  loginTimeoutSec?: number;
  /** Try to open a browser (default true); false: always show the URL. */
  openBrowser?: boolean;
  /** authorization_code: `prompt` (e.g. `consent`, which some IdPs need to issue a refresh token). */
  prompt?: string;
  loginHint?: string;
  /**
   * Extra authorization request parameters (prompt, login_hint, acr_values, ui_locales, max_age, …), on
   * the authorization_code URL and the device authorization request; `prompt`/`loginHint` above win.
   */
  authorizationParams?: Readonly<Record<string, string>>;
  /** RFC 8707 resource indicators; every one is sent. */
  resource?: readonly string[];
  /** Keycloak's legacy token exchange: `subject_issuer` (the identity provider alias of an external subject token). */
  subjectIssuer?: string;
  /** `audience` on the authorization/device request and RFC 8693 `audience` on token exchange. */
  audience?: string;

  /** jwt_bearer, token_exchange, passthrough: where the platform identity comes from. */
  subjectTokenSource?: SubjectTokenSourceConfig | SubjectTokenSource;
  /** token_exchange: an actor token (delegation). */
  actorTokenSource?: SubjectTokenSourceConfig | SubjectTokenSource;
  tokenExchange?: { subjectTokenType?: string; requestedTokenType?: string; actorTokenType?: string };
  /** passthrough: the header carrying the subject token (default `authorization` with prefix `Bearer `). */
  passthrough?: { header?: string; prefix?: string; assumedLifetimeSec?: number };
  /** Re-fetch a subject token with less than this many seconds left (default 60). */
  minSubjectLifetimeSec?: number;

  /** Per-request HTTP timeout. */
  httpTimeoutMs?: number;
  /** Lifetime assumed when the IdP sends no usable `expires_in`. */
  assumedLifetimeSec?: number;
}

/** The outside world the runners plug into the machines. Only `http` is required. */
export interface FlowDeps {
  http: TokenEndpointAdapter;
  /** Epoch-ms clock; default Date.now. */
  now?: () => number;
  logger?: Logger;
  /** Opens a URL in a browser; default the BROWSER-aware opener of adapters/browser. */
  openUrl?: (url: string, context: { providerId: string }) => Promise<void>;
  startLoopback?: (options: LoopbackOptions) => Promise<LoopbackServer>;
  createPkce?: () => PkceMaterial;
  /** Environment for subject-token sources and the browser opener; default process.env. */
  env?: Record<string, string | undefined>;
  /** Passed to createActor: e.g. the Stately inspector. */
  inspect?: (event: InspectionEvent) => void;
}
