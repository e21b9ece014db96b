import type { SubjectTokenSource } from '../adapters/subject-token/types.js';
import type { ClientAuthMethod, ParsedProvider, PassthroughConfig, PrivateKeyConfig } from './providerSchema.js';
import { effectiveClientAuthMethod, JWT_TOKEN_TYPE } from './providerSchema.js';
import type { TokenSourceConfig } from './tokenSource.js';

/**
 * The one provider model: what a validated block means, every default applied, as a union keyed by `flow`.
 * The engine (runtime and flow runners) reads these fields as they are; OpenCode-only settings sit apart
 * in `opencode`, so an embedder without OpenCode never has to supply them. Each variant carries only what
 * its flow uses: a field that cannot apply is not there to be misread.
 */

/** Where a subject token comes from: a configured source, or (engine API) any object with read()/describe(). */
export type SubjectSource = TokenSourceConfig | SubjectTokenSource;

/** How the client proves itself at the token endpoint, as configured (a key file is read at start-up). */
export type ClientCredential =
  | { method: 'none' }
  | { method: 'client_secret_basic' | 'client_secret_post'; secret: string }
  | { method: 'private_key_jwt'; privateKey: PrivateKeyConfig; audience?: 'issuer' | 'token_endpoint' }
  /** A federated client assertion (a platform JWT), read afresh for every request. */
  | { method: 'client_assertion'; source: SubjectSource };

interface ProviderBase {
  id: string;
  /** What a person reads: in notices, errors and OpenCode's model picker. */
  name: string;
  enabled: boolean;
  /** Where the block was found (`provider.corp.options.oauth2`, `plugin options.servers[0]`). */
  source: string;
  httpTimeoutMs: number;
  /** Clock-skew allowance, part of the hard refresh margin. */
  tokenExpirySkewMs: number;
  /** Lifetime assumed when neither the IdP (`expires_in`) nor the token (`exp`) says. */
  assumedLifetimeSec: number;
  /** How long a browser or device login may take; a caller waits on one that long plus a minute. */
  loginTimeoutSec: number;
}

/** Explicit endpoints: each overrides discovery, which is skipped when all a flow needs are set. */
export interface EndpointOverrides {
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
}

interface OAuthProviderBase extends ProviderBase {
  issuer: string;
  clientId: string;
  client: ClientCredential;
  scopes: readonly string[];
  endpoints: EndpointOverrides;
  /** `audience` on the authorization/device request; RFC 8693 `audience` on a token exchange. */
  audience?: string;
  /** RFC 8707 resource indicators; every one is sent. */
  resource?: readonly string[];
}

interface InteractiveLogin {
  openBrowser: boolean;
  /** Extra authorization request parameters (prompt, login_hint, acr_values, …). */
  authorizationParams?: Readonly<Record<string, string>>;
}

export interface AuthorizationCodeProvider extends OAuthProviderBase, InteractiveLogin {
  flow: 'authorization_code';
  redirectPath: string;
  /** Fixed loopback port (strict IdPs register one); absent: a free port. */
  redirectPort?: number;
}

export interface DeviceCodeProvider extends OAuthProviderBase, InteractiveLogin {
  flow: 'device_code';
  /** PKCE on the device request (off for servers that reject it). */
  pkce: boolean;
}

export interface ClientCredentialsProvider extends OAuthProviderBase {
  flow: 'client_credentials';
}

export interface JwtBearerProvider extends OAuthProviderBase {
  flow: 'jwt_bearer';
  subjectTokenSource: SubjectSource;
}

export interface TokenExchangeProvider extends OAuthProviderBase {
  flow: 'token_exchange';
  subjectTokenSource: SubjectSource;
  subjectTokenType: string;
  requestedTokenType?: string;
  /** Delegation: an actor token and its type. */
  actorTokenSource?: SubjectSource;
  actorTokenType?: string;
  /** Keycloak's legacy exchange: the identity provider alias of an external subject token. */
  subjectIssuer?: string;
}

/** No IdP: the platform's token is the credential, sent in `header` after `prefix`. */
export interface PassthroughProvider extends ProviderBase, PassthroughConfig {
  flow: 'passthrough';
  subjectTokenSource: SubjectSource;
}

export type OAuthProvider =
  | AuthorizationCodeProvider
  | DeviceCodeProvider
  | ClientCredentialsProvider
  | JwtBearerProvider
  | TokenExchangeProvider;

/** A provider as the engine reads it. */
export type EngineProviderConfig = OAuthProvider | PassthroughProvider;

/** What only OpenCode's shell reads: the gateway it registers, its model list and how requests go. */
export interface OpenCodeProviderConfig {
  /** The OpenAI-compatible gateway; absent only for engine-only use. */
  baseURL: string;
  /** Where the model list is (absolute, `/`-rooted or relative to baseURL); default `<baseURL>/models`. */
  modelsPath?: string;
  nameOverrides: Readonly<Record<string, string>>;
  responseApi: boolean;
  /** How long the config hook waits for the first model list. */
  warmupTimeoutMs: number;
  syncIntervalMinutes: number;
}

/** A provider as OpenCode's shell reads it: the engine's model plus the OpenCode-only group. */
export type ProviderConfig = EngineProviderConfig & { opencode: OpenCodeProviderConfig };

/** Values that come from outside the block: the runtime defaults and where the block was found. */
export interface ProviderContext {
  source: string;
  httpTimeoutMs: number;
  tokenExpirySkewMs: number;
}

function clientCredentialOf(parsed: ParsedProvider): ClientCredential {
  if (parsed.clientAssertionSource) return { method: 'client_assertion', source: parsed.clientAssertionSource };
  const method: ClientAuthMethod = effectiveClientAuthMethod(parsed);
  switch (method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      // The rules make a secret required for these methods.
      return { method, secret: parsed.clientSecret! };
    case 'private_key_jwt':
      return {
        method,
        privateKey: parsed.privateKey!,
        ...(parsed.clientAssertionAudience ? { audience: parsed.clientAssertionAudience } : {}),
      };
    case 'none':
      return { method };
  }
}

/** The validated block (the schema's rules already hold) in the model's terms: the one mapping. */
export function toProviderModel(parsed: ParsedProvider, context: ProviderContext): ProviderConfig {
  const base = {
    id: parsed.id,
    name: parsed.name ?? parsed.id,
    enabled: parsed.enabled,
    source: context.source,
    httpTimeoutMs: parsed.httpTimeoutMs ?? context.httpTimeoutMs,
    tokenExpirySkewMs: parsed.tokenExpirySkewMs ?? context.tokenExpirySkewMs,
    assumedLifetimeSec: parsed.refreshWindow.assumedLifetimeSec,
    loginTimeoutSec: parsed.loginTimeoutSec,
    opencode: {
      baseURL: parsed.baseURL,
      ...(parsed.modelsPath !== undefined ? { modelsPath: parsed.modelsPath } : {}),
      nameOverrides: parsed.nameOverrides,
      responseApi: parsed.responseApi,
      warmupTimeoutMs: parsed.warmupTimeoutMs,
      syncIntervalMinutes: parsed.syncIntervalMinutes,
    },
  };
  if (parsed.passthrough) {
    return { ...base, flow: 'passthrough', ...parsed.passthrough, subjectTokenSource: parsed.subjectTokenSource! };
  }
  const audience = parsed.audience ?? parsed.tokenExchangeAudience;
  const oauth = {
    ...base,
    issuer: parsed.issuer!,
    clientId: parsed.clientId!,
    client: clientCredentialOf(parsed),
    scopes: parsed.scopes ?? [],
    endpoints: {
      ...(parsed.authorizationEndpoint ? { authorizationEndpoint: parsed.authorizationEndpoint } : {}),
      ...(parsed.tokenEndpoint ? { tokenEndpoint: parsed.tokenEndpoint } : {}),
      ...(parsed.deviceAuthorizationEndpoint ? { deviceAuthorizationEndpoint: parsed.deviceAuthorizationEndpoint } : {}),
    },
    ...(audience !== undefined ? { audience } : {}),
    ...(parsed.resource ? { resource: parsed.resource } : {}),
  };
  const login = {
    openBrowser: parsed.openBrowser,
    ...(parsed.authorizationParams ? { authorizationParams: parsed.authorizationParams } : {}),
  };
  switch (parsed.authFlow) {
    case 'authorization_code':
      return {
        ...oauth,
        ...login,
        flow: 'authorization_code',
        redirectPath: parsed.redirectPath,
        ...(parsed.redirectPort !== undefined ? { redirectPort: parsed.redirectPort } : {}),
      };
    case 'device_code':
      return { ...oauth, ...login, flow: 'device_code', pkce: parsed.pkce };
    case 'client_credentials':
      return { ...oauth, flow: 'client_credentials' };
    case 'jwt_bearer':
      return { ...oauth, flow: 'jwt_bearer', subjectTokenSource: parsed.subjectTokenSource! };
    case 'token_exchange':
      return {
        ...oauth,
        flow: 'token_exchange',
        subjectTokenSource: parsed.subjectTokenSource!,
        subjectTokenType: parsed.subjectTokenType,
        ...(parsed.requestedTokenType ? { requestedTokenType: parsed.requestedTokenType } : {}),
        ...(parsed.actorTokenSource
          ? { actorTokenSource: parsed.actorTokenSource, actorTokenType: parsed.actorTokenType ?? JWT_TOKEN_TYPE }
          : {}),
        ...(parsed.subjectIssuer ? { subjectIssuer: parsed.subjectIssuer } : {}),
      };
  }
}

/** Every token source a provider reads (subject, actor, federated client assertion): the tool guard protects the files they name. */
export function subjectSourcesOf(provider: EngineProviderConfig): SubjectSource[] {
  const sources: SubjectSource[] = [];
  if ('subjectTokenSource' in provider) sources.push(provider.subjectTokenSource);
  if (provider.flow === 'token_exchange' && provider.actorTokenSource) sources.push(provider.actorTokenSource);
  if (provider.flow !== 'passthrough' && provider.client.method === 'client_assertion') sources.push(provider.client.source);
  return sources;
}

/** The client secret, when the provider has one: a known secret to scrub from any error body. */
export function clientSecretsOf(provider: EngineProviderConfig | undefined): string[] {
  if (!provider || provider.flow === 'passthrough') return [];
  const { client } = provider;
  return client.method === 'client_secret_basic' || client.method === 'client_secret_post' ? [client.secret] : [];
}
