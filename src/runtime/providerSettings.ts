import { readSafeFileSync } from '../adapters/safeFile.js';
import type { ClientAuth } from '../adapters/http/types.js';
import { createSubjectTokenSource, type SubjectTokenSourceConfig } from '../adapters/subject-token/index.js';
import type { StoreKeyInput } from '../adapters/storage/types.js';
import type { EngineProviderConfig } from '../config/index.js';
import { TokenError } from '../errors.js';
import type { FlowConfig } from '../flows/index.js';
import type { FlowName } from '../machines/token.js';

/** What one provider's config means to the engine: how it acquires, who it authenticates as, where it is stored. */
export interface ProviderSettings {
  providerId: string;
  flow: FlowName;
  /** The acquisition settings, minus the per-call parts (interactive, notify); the schema's defaults are applied. */
  flowConfig: Omit<FlowConfig, 'interactive' | 'notify'> & { loginTimeoutSec: number; redirectPath: string };
  storeKey: StoreKeyInput;
  skewMs: number;
}

export function flowOf(provider: EngineProviderConfig): FlowName {
  return provider.passthrough ? 'passthrough' : provider.authFlow;
}

/** Client authentication, resolved once; a private key file is read here so a bad path fails at start-up. */
export function clientAuthOf(provider: EngineProviderConfig): ClientAuth {
  const clientId = provider.clientId ?? provider.id;
  if (provider.clientAssertionSource) {
    // Federated: the platform JWT is the client's credential, read afresh for every request.
    const source = createSubjectTokenSource(provider.clientAssertionSource as SubjectTokenSourceConfig);
    return { method: 'client_assertion', clientId, readAssertion: (signal) => source.read({ providerId: provider.id, ...(signal ? { signal } : {}) }) };
  }
  switch (provider.clientAuthMethod) {
    case 'client_secret_basic':
    case 'client_secret_post':
      return { method: provider.clientAuthMethod, clientId, clientSecret: provider.clientSecret ?? '' };
    case 'private_key_jwt': {
      const key = provider.privateKey!;
      const audience = provider.clientAssertionAudience ? { audienceKind: provider.clientAssertionAudience } : {};
      if (key.kind === 'jwk') return { method: 'private_key_jwt', clientId, privateKey: key.jwk, ...audience };
      return {
        method: 'private_key_jwt',
        clientId,
        ...audience,
        privateKey: readPrivateJwk(provider.id, key.path),
        ...(key.alg ? { alg: key.alg } : {}),
        ...(key.kid ? { kid: key.kid } : {}),
      };
    }
    default:
      return { method: 'none', clientId };
  }
}

function readPrivateJwk(providerId: string, path: string): Record<string, unknown> {
  try {
    const jwk = JSON.parse(readSafeFileSync(path, { maxBytes: 64 * 1024 })) as Record<string, unknown>;
    if (typeof jwk.kty !== 'string' || typeof jwk.d !== 'string') throw new Error('not a private JWK');
    return jwk;
  } catch (cause) {
    throw new TokenError({
      code: 'config',
      providerId,
      message: `privateKey.file ${path} could not be read as a private JWK`,
      fix: 'point privateKey.file at a JSON file holding a private JWK (with "kty" and "d")',
      cause,
    });
  }
}

export function providerSettings(provider: EngineProviderConfig): ProviderSettings {
  const flow = flowOf(provider);
  const issuer = provider.issuer ?? '';
  const endpoints = {
    ...(provider.tokenEndpoint ? { tokenEndpoint: provider.tokenEndpoint } : {}),
    ...(provider.authorizationEndpoint ? { authorizationEndpoint: provider.authorizationEndpoint } : {}),
    ...(provider.deviceAuthorizationEndpoint ? { deviceAuthorizationEndpoint: provider.deviceAuthorizationEndpoint } : {}),
  };
  const flowConfig: ProviderSettings['flowConfig'] = {
    providerId: provider.id,
    providerName: provider.name ?? provider.id,
    flow,
    issuer,
    clientAuth: flow === 'passthrough' ? { method: 'none', clientId: provider.id } : clientAuthOf(provider),
    scopes: provider.scopes,
    endpoints,
    pkce: provider.pkce,
    redirectPath: provider.redirectPath,
    loginTimeoutSec: provider.loginTimeoutSec,
    openBrowser: provider.openBrowser,
    httpTimeoutMs: provider.httpTimeoutMs,
    assumedLifetimeSec: provider.refreshWindow.assumedLifetimeSec,
    ...(provider.redirectPort !== undefined ? { redirectPort: provider.redirectPort } : {}),
    ...(provider.resource ? { resource: provider.resource } : {}),
    ...(provider.audience ? { audience: provider.audience } : {}),
    ...(provider.authorizationParams ? { authorizationParams: provider.authorizationParams } : {}),
    ...(provider.subjectIssuer ? { subjectIssuer: provider.subjectIssuer } : {}),
    ...(provider.subjectTokenSource ? { subjectTokenSource: provider.subjectTokenSource as FlowConfig['subjectTokenSource'] } : {}),
    ...(provider.actorTokenSource ? { actorTokenSource: provider.actorTokenSource as FlowConfig['actorTokenSource'] } : {}),
    tokenExchange: {
      subjectTokenType: provider.subjectTokenType,
      ...(provider.requestedTokenType ? { requestedTokenType: provider.requestedTokenType } : {}),
      ...(provider.actorTokenType ? { actorTokenType: provider.actorTokenType } : {}),
    },
    ...(provider.passthrough ? { passthrough: provider.passthrough } : {}),
  };
  return {
    providerId: provider.id,
    flow,
    flowConfig,
    skewMs: provider.tokenExpirySkewMs,
    storeKey: {
      providerId: provider.id,
      issuer: issuer || `passthrough:${provider.passthrough?.header ?? 'authorization'}`,
      clientId: provider.clientId ?? provider.id,
      flow: flow === 'passthrough' ? 'jwt_bearer' : flow,
      scopes: provider.scopes,
      ...(provider.audience ? { audience: provider.audience } : {}),
      ...(provider.resource?.length ? { resource: provider.resource.join(' ') } : {}),
    },
  };
}
